// bounce: a notice about QID is a new message whose id ends the line. The notice's own life
// then starts at cleanup (message-id=<...NEWQID@host>) and qmgr (from=<>).
import { isQueueId } from '../queue-id.js';
import { makeRecord } from '../make-record.js';
import type { LogRecord, NotificationRecord, RecordBase } from '../records.js';

const NOTICE = /^(.+) notification: (\S+)$/;

export function bounce(b: RecordBase): LogRecord | undefined {
  if (b.queueId === undefined) return undefined;
  const m = NOTICE.exec(b.text);
  if (!m || !isQueueId(m[2])) return undefined;
  return makeRecord<NotificationRecord>(b, { kind: 'notification', queueId: b.queueId, notice: m[1], notificationId: m[2] });
}
