// buildReportModel: the backlog timeline and the HDR latency histogram every renderer shows.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { MessageLife } from '../src/correlate/index.js';
import { bucketWidth, buildTimeline } from '../src/report/timeline.js';
import { latencyHistogram } from '../src/report/latency.js';

const require = createRequire(import.meta.url);
const { decodeFromCompressedBase64 } = require('hdr-histogram-js') as typeof import('hdr-histogram-js');

const T0 = Date.UTC(2026, 10, 24, 21, 0, 0);

function message(injectedAt: number, fate: MessageLife['fate'], finalAt?: number): MessageLife {
  const final = finalAt === undefined ? undefined : ({ time: finalAt, status: fate === 'bounced' ? 'bounced' : 'sent' } as never);
  return {
    journalStatus: 'accepted',
    injectedAt,
    fate,
    expiredAt: undefined,
    recipients: [{ address: 'a@b', deferrals: 0, firstDeferral: undefined, lastDeferral: undefined, final, handoffs: [] }],
  } as unknown as MessageLife;
}

describe('buildTimeline', () => {
  it('counts injections and last words per bucket and the backlog between them', () => {
    const msgs = [
      message(T0 + 100, 'delivered', T0 + 1500),
      message(T0 + 200, 'delivered', T0 + 2500),
      message(T0 + 300, 'bounced', T0 + 2600),
      message(T0 + 1200, 'deferred'),
    ];
    const t = buildTimeline(msgs, [T0 + 1700])!;
    expect(t.bucketMs).toBe(1000);
    expect(t.start).toBe(T0);
    expect(t.buckets.map((b) => [b.injected, b.delivered, b.bounced, b.deferrals, b.backlog])).toEqual([
      [3, 0, 0, 0, 3],
      [1, 1, 0, 1, 3],
      [0, 1, 1, 0, 1],
    ]);
    expect(t.peakBacklog).toBe(3);
    expect(t.peakBacklogAt).toBe(T0 + 1000);
    // Four injections over 1.1 s; two deliveries 1 s apart.
    expect(t.injectionRate).toBeCloseTo(3 / 1.1, 5);
    expect(t.deliveryRate).toBeCloseTo(1, 5);
  });

  it('widens buckets to round sizes so a long run stays within the limit', () => {
    expect(bucketWidth(59_000, 240)).toBe(1000);
    expect(bucketWidth(600_000, 240)).toBe(5000);
    expect(bucketWidth(3 * 3600_000, 240)).toBe(60_000);
    const msgs = Array.from({ length: 1000 }, (_, i) => message(T0 + i * 3600, 'delivered', T0 + i * 3600 + 500));
    const t = buildTimeline(msgs, [], 240)!;
    expect(t.buckets.length).toBeLessThanOrEqual(240);
    expect(t.buckets.reduce((n, b) => n + b.injected, 0)).toBe(1000);
    expect(t.buckets.reduce((n, b) => n + b.delivered, 0)).toBe(1000);
    expect(t.buckets.at(-1)!.backlog).toBe(0);
  });

  it('leaves out messages the server refused, and gives nothing for an empty journal', () => {
    const refused = { ...message(T0, 'not-accepted'), journalStatus: 'rejected' } as MessageLife;
    expect(buildTimeline([refused], [])).toBeUndefined();
    expect(buildTimeline([], [])).toBeUndefined();
  });
});

describe('latencyHistogram', () => {
  it('gives percentiles to 3 significant digits, a monotone curve and a lossless encoding', () => {
    const values = Array.from({ length: 10_000 }, (_, i) => i + 1); // 1..10000 ms
    const h = latencyHistogram(values)!;
    expect(h.count).toBe(10_000);
    expect(h.p50).toBeGreaterThanOrEqual(4995);
    expect(h.p50).toBeLessThanOrEqual(5005);
    expect(h.p99).toBeGreaterThanOrEqual(9890);
    expect(h.p99).toBeLessThanOrEqual(9910);
    expect(h.max).toBeGreaterThanOrEqual(10_000);
    for (let i = 1; i < h.curve.length; i++) expect(h.curve[i].ms).toBeGreaterThanOrEqual(h.curve[i - 1].ms);
    const decoded = decodeFromCompressedBase64(h.encoded);
    expect(decoded.totalCount).toBe(10_000);
    expect(decoded.getValueAtPercentile(50)).toBe(h.p50);
  });

  it('keeps zero latencies (delivered within the injection second) and has nothing for none', () => {
    const h = latencyHistogram([0, 0, 1000])!;
    expect(h.min).toBe(0);
    expect(h.p50).toBe(0);
    expect(latencyHistogram([])).toBeUndefined();
  });
});
