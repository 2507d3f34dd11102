// The reporter's library: the /proc sampler with its bottleneck verdict, and the streaming
// Postfix log parser. The correlation with smtp-source's journal, the report and its command
// build on these (issue 4).
export * from './sampler/index.js';
export * from './maillog/index.js';
export * from './correlate/index.js';
export { formatSummary } from './report-text.js';
