// pickup: mail submitted with sendmail/postdrop enters the queue here (`uid=0 from=<...>`;
// some versions write sender= instead of from=).
import { scanAddress, toUint } from '../fields.js';
import { makeRecord } from '../make-record.js';
import type { LogRecord, PickupRecord, RecordBase } from '../records.js';

export function pickup(b: RecordBase): LogRecord | undefined {
  const t = b.text;
  if (b.queueId === undefined || !t.startsWith('uid=')) return undefined;
  const space = t.indexOf(' ');
  const uid = toUint(t.slice(4, space));
  const key = t.startsWith('from=', space + 1) ? 5 : t.startsWith('sender=', space + 1) ? 7 : 0;
  if (space < 0 || uid === undefined || key === 0) return undefined;
  const from = scanAddress(t, space + 1 + key);
  if (!from || from.end !== t.length) return undefined;
  return makeRecord<PickupRecord>(b, { kind: 'pickup', queueId: b.queueId, uid, from: from.value });
}
