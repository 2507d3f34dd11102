// The reporter's library: the streaming Postfix log parser, the correlation of smtp-source's
// journal with it, and the report. The /proc sampler lives in @smtpstone/sampler (smtp-source
// runs it too) and is re-exported here for one-stop use.
export * from '@smtpstone/sampler';
export * from './maillog/index.js';
export * from './correlate/index.js';
export { formatSummary } from './report-text.js';
