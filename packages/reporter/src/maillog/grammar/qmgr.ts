// qmgr: a message entering the active queue (again at every retry), expiring, and leaving
// the queue for good. qmgr may write to= lines itself (log_adhoc.c), though the fixtures'
// "delivery temporarily suspended" deferrals come from postfix/error (the retry service).
import { scanAddress, toUint } from '../fields.js';
import { makeRecord } from '../make-record.js';
import type { ActiveRecord, ExpiredRecord, LogRecord, OtherRecord, RecordBase, RemovedRecord } from '../records.js';
import { parseDelivery } from './delivery.js';

const ACTIVE = /^, size=(\d{1,15}), nrcpt=(\d{1,9})(?: \(queue active\))?$/;

export function qmgr(b: RecordBase): LogRecord | undefined {
  const t = b.text;
  if (b.queueId === undefined) return undefined;
  if (t === 'removed') return makeRecord<RemovedRecord>(b, { kind: 'removed', queueId: b.queueId });
  if (t.startsWith('from=<')) {
    const from = scanAddress(t, 5);
    if (!from) return undefined;
    if (t.startsWith(', status=expired', from.end)) {
      const detail = t.slice(from.end + 16).replace(/^, /, '');
      return makeRecord<ExpiredRecord>(b, { kind: 'expired', queueId: b.queueId, from: from.value, detail });
    }
    const m = ACTIVE.exec(t.slice(from.end));
    if (!m) return undefined;
    return makeRecord<ActiveRecord>(b, {
      kind: 'active',
      queueId: b.queueId,
      from: from.value,
      size: toUint(m[1]) as number,
      nrcpt: toUint(m[2]) as number,
    });
  }
  if (t.startsWith('to=<')) return parseDelivery(b);
  if (t.startsWith('skipped, ')) return makeRecord<OtherRecord>(b, { kind: 'other', what: 'queue' });
  return undefined;
}
