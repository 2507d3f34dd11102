export { runSource, startSource, SourceRun, type RunningSource, type RunHooks, type MessageEvent } from './engine.js';
export { resolveSourceOptions, defaultSourceOptions, type SourceOptions, type SourceOptionsInput, type SourceSampleOptions } from './options.js';
export type { SourceResult } from './counters.js';
export { PHASES, type PhaseName, type PhaseSummary } from './histograms.js';
export { parseQueueId } from './queue-id.js';
export { lengthBody, fileBody, DEFAULT_BODY } from './message.js';
export type { JournalEntry } from './journal.js';
export { formatResult } from './report.js';
