// The reporter's library: the streaming Postfix log parser, the correlation of smtp-source's
// journal with it, and the report. The /proc sampler lives in @smtpstone/sampler (smtp-source
// runs it too) and is re-exported here for one-stop use.
export * from '@smtpstone/sampler';
export * from './maillog/index.js';
export * from './correlate/index.js';
export { buildReportModel, type BuildReportOptions } from './report/build.js';
export type * from './report/model.js';
export { formatReport } from './report/text.js';
export { buildReport, readSystemRecord, writeOutputs, type ReportInputs, type ReportOutputs } from './run.js';
export { mergeByTime } from './maillog/merge.js';
export * as svg from './report/svg.js';
export { AXIS_CSS, CARD_CSS, PAGE_CSS, PRINT_CSS } from './report/page-style.js';
