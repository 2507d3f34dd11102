// postsuper: per-message `QID: removed` / `placed on hold` / `released from hold` /
// `requeued`, and the totals it prints after each run. `postsuper -d ALL` writes only the
// total, so a message deleted that way never gets a per-id line.
import { makeRecord } from '../make-record.js';
import type { LogRecord, PostsuperRecord, PostsuperSummaryRecord, RecordBase, RemovedRecord } from '../records.js';

const PER_MESSAGE = { 'placed on hold': 'hold', 'released from hold': 'release', requeued: 'requeue' } as const;
const TOTALS: Record<string, PostsuperSummaryRecord['action']> = {
  Deleted: 'delete',
  'Placed on hold': 'hold',
  'Released from hold': 'release',
  Requeued: 'requeue',
};
const TOTAL = /^(Deleted|Placed on hold|Released from hold|Requeued): (\d{1,12}) messages?$/;

export function postsuper(b: RecordBase): LogRecord | undefined {
  const t = b.text;
  if (b.queueId !== undefined) {
    if (t === 'removed') return makeRecord<RemovedRecord>(b, { kind: 'removed', queueId: b.queueId });
    if (t === 'placed on hold' || t === 'released from hold' || t === 'requeued') {
      return makeRecord<PostsuperRecord>(b, { kind: 'postsuper', queueId: b.queueId, action: PER_MESSAGE[t] });
    }
    return undefined;
  }
  const m = TOTAL.exec(t);
  if (!m) return undefined;
  return makeRecord<PostsuperSummaryRecord>(b, { kind: 'postsuper-summary', action: TOTALS[m[1]], count: Number(m[2]) });
}
