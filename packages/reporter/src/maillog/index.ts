// The Postfix log parser: line grammar, records, and a streaming reader.
export * from './records.js';
export { parseLine, ParseContext, type ParseOptions } from './parse-line.js';
export { LogClock, type ClockOptions } from './clock.js';
export { decodeQueueId, isQueueId, type DecodedQueueId } from './queue-id.js';
export { parsePeer } from './fields.js';
export { LineSplitter, type LineEncoding } from './line-splitter.js';
export { MaillogParser, emptyCounters, type MaillogCounters, type MaillogParserOptions } from './parser.js';
export { readMaillog, MaillogReader, type MaillogSource, type ReadMaillogOptions } from './reader.js';
export {
  followMaillog,
  emptyFollowStats,
  MaillogFollower,
  type FollowMaillogOptions,
  type FollowStats,
} from './follow.js';
