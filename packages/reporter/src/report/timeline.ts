// Injection against delivery over time: how fast the run put messages in, how fast the MTA got
// them out, and the queue backlog between the two curves.
import { whenDone, type MessageLife } from '../correlate/correlate.js';
import type { Timeline, TimelineBucket } from './model.js';

/** Bucket widths a reader can think in; the smallest that keeps the chart under maxBuckets. */
const STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map((s) => s * 1000);

export function bucketWidth(spanMs: number, maxBuckets: number): number {
  for (const w of STEPS_MS) if (Math.floor(spanMs / w) + 1 <= maxBuckets) return w;
  return Math.ceil(spanMs / maxBuckets / 86_400_000) * 86_400_000;
}

/** When a message's last word came: its last recipient's final line (or the expiry). */
function lastWord(m: MessageLife): { time: number; delivered: boolean } | undefined {
  if (m.fate !== 'delivered' && m.fate !== 'deferred-then-delivered' && m.fate !== 'bounced') return undefined;
  let t = m.expiredAt ?? -Infinity;
  for (const r of m.recipients) if (r.final) t = Math.max(t, whenDone(r.final).time);
  return Number.isFinite(t) ? { time: t, delivered: m.fate !== 'bounced' } : undefined;
}

/**
 * Buckets the journal's accepted messages by injection time and by the time of their last word.
 * Messages refused at injection are not part of the backlog.
 */
export function buildTimeline(messages: readonly MessageLife[], deferralTimes: readonly number[], maxBuckets = 240): Timeline | undefined {
  const injections: number[] = [];
  const ends: { time: number; delivered: boolean }[] = [];
  for (const m of messages) {
    if (m.journalStatus !== 'accepted' || !Number.isFinite(m.injectedAt)) continue;
    injections.push(m.injectedAt);
    const end = lastWord(m);
    if (end) ends.push(end);
  }
  if (injections.length === 0) return undefined;
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of injections) (lo = Math.min(lo, t)), (hi = Math.max(hi, t));
  for (const e of ends) (lo = Math.min(lo, e.time)), (hi = Math.max(hi, e.time));
  for (const t of deferralTimes) (lo = Math.min(lo, t)), (hi = Math.max(hi, t));
  const width = bucketWidth(hi - lo, maxBuckets);
  // Whole-second log stamps put deliveries on second boundaries: align buckets to the width.
  const start = Math.floor(lo / width) * width;
  const n = Math.floor((hi - start) / width) + 1;
  const buckets: TimelineBucket[] = Array.from({ length: n }, (_, i) => ({
    start: start + i * width,
    injected: 0,
    delivered: 0,
    bounced: 0,
    deferrals: 0,
    backlog: 0,
  }));
  const at = (t: number): TimelineBucket => buckets[Math.floor((t - start) / width)];
  for (const t of injections) at(t).injected++;
  for (const e of ends) at(e.time)[e.delivered ? 'delivered' : 'bounced']++;
  for (const t of deferralTimes) at(t).deferrals++;
  let backlog = 0;
  let peak = 0;
  let peakAt: number | null = null;
  for (const b of buckets) {
    backlog += b.injected - b.delivered - b.bounced;
    b.backlog = backlog;
    if (backlog > peak) (peak = backlog), (peakAt = b.start + width);
  }
  return {
    bucketMs: width,
    start,
    buckets,
    peakBacklog: peak,
    peakBacklogAt: peakAt,
    injectionRate: rate(injections),
    deliveryRate: rate(ends.filter((e) => e.delivered).map((e) => e.time)),
  };
}

/** Events per second from the first to the last; null for fewer than two or a zero span. */
function rate(times: readonly number[]): number | null {
  if (times.length < 2) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of times) (lo = Math.min(lo, t)), (hi = Math.max(hi, t));
  return hi > lo ? ((times.length - 1) * 1000) / (hi - lo) : null;
}
