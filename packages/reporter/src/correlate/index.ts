// Correlation: the journal of injected messages joined to the Postfix log.
export { readJournal, parseJournal, type JournalEntry, type JournalReadStats } from './journal-reader.js';
export {
  correlate,
  whenDone,
  Correlator,
  MESSAGE_FATES,
  type Correlation,
  type CorrelationSummary,
  type CorrelateOptions,
  type DeliveryAttempt,
  type MessageFate,
  type MessageLife,
  type RecipientLife,
} from './correlate.js';
export { distribution, percentile, type Distribution } from './stats.js';
