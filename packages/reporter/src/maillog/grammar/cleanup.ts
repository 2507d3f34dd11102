// cleanup: the Message-ID (the fallback key for joining the injection journal) and the
// header/body/milter actions.
import { makeRecord } from '../make-record.js';
import type { LogRecord, MessageIdRecord, RecordBase } from '../records.js';
import { parsePolicy } from './policy.js';

export function cleanup(b: RecordBase): LogRecord | undefined {
  const t = b.text;
  if (b.queueId === undefined) return undefined;
  // The value may be empty or lack brackets when a client wrote it so; keep it as written.
  if (t.startsWith('message-id=')) {
    return makeRecord<MessageIdRecord>(b, { kind: 'message-id', queueId: b.queueId, messageId: t.slice(11), resent: false });
  }
  if (t.startsWith('resent-message-id=')) {
    return makeRecord<MessageIdRecord>(b, { kind: 'message-id', queueId: b.queueId, messageId: t.slice(18), resent: true });
  }
  return parsePolicy(b);
}
