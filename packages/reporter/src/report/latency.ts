// End-to-end delivery latency as an HDR histogram: percentiles to 3 significant digits, a curve
// for the chart, and the encoded form so runs can be merged or compared later.
import { createRequire } from 'node:module';
import type { Histogram } from 'hdr-histogram-js';
import type { LatencyHistogram, LatencyPoint } from './model.js';

// The index of hdr-histogram-js also loads its WebAssembly build; two plain files are enough.
const require = createRequire(import.meta.url);
const { default: Int32Histogram } = require('hdr-histogram-js/dist/Int32Histogram.js') as typeof import('hdr-histogram-js/dist/Int32Histogram.js');
const { encodeIntoCompressedBase64 } = require('hdr-histogram-js/dist/encoding.js') as typeof import('hdr-histogram-js/dist/encoding.js');

/** Milliseconds up to 30 days: a deferred message may take the whole maximal_queue_lifetime. */
const HIGHEST_MS = 30 * 86_400_000;

/** Percentiles for the curve: dense where the tail is, up to 99.99. */
export const CURVE_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100];

export function latencyHistogram(valuesMs: Iterable<number>): LatencyHistogram | undefined {
  const h: Histogram = new Int32Histogram(1, HIGHEST_MS, 3);
  for (const v of valuesMs) h.recordValue(Math.min(HIGHEST_MS, Math.max(0, Math.round(v))));
  if (h.totalCount === 0) return undefined;
  const at = (p: number): number => (p >= 100 ? h.maxValue : h.getValueAtPercentile(p));
  const curve: LatencyPoint[] = CURVE_PERCENTILES.map((p) => ({ percentile: p, ms: at(p) }));
  return {
    count: h.totalCount,
    // Whole-second log stamps make 0 a real value (delivered within the injection's second).
    min: at(0),
    mean: h.mean,
    max: h.maxValue,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    curve,
    encoded: encodeIntoCompressedBase64(h),
  };
}
