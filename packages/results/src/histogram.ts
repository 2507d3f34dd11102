// The encoded HDR histograms of the results: decoded, added and encoded again.
//
// hdr-histogram-js's index (and its encoding.js) load the WebAssembly build as well; the one
// file with the JS codec, JsHistogram.encoding.js, is enough, and it is loaded only when a
// histogram is first needed (gates and comparisons read the percentiles already in the JSON).
import { createRequire } from 'node:module';
import type { Histogram } from 'hdr-histogram-js';
import type { PhaseSummaryDoc } from './documents.js';

type Codec = typeof import('hdr-histogram-js/dist/JsHistogram.encoding.js');
type JsHistogram = import('hdr-histogram-js/dist/JsHistogram.js').JsHistogram;

const require = createRequire(import.meta.url);
let codec: Codec | undefined;
const load = (): Codec => (codec ??= require('hdr-histogram-js/dist/JsHistogram.encoding.js') as Codec);

/** A histogram from HdrHistogram's V2 compressed base64 (as smtp-source and the report write it). */
export function decodeHistogram(base64: string): JsHistogram {
  const c = load();
  // A copy, not a view into Node's shared pool: the library's byte reader reverses slices in place.
  const bytes = new Uint8Array(Buffer.from(base64.trim(), 'base64'));
  return c.doDecode(c.decompress(bytes), 32) as JsHistogram;
}

export function encodeHistogram(h: Histogram): string {
  load();
  return (h as JsHistogram).encodeIntoCompressedBase64();
}

/**
 * The sum of histograms: a new one covering all their ranges, at the precision of the least
 * precise (they are all 3 significant digits when written by smtpstone).
 */
export function addHistograms(parts: readonly Histogram[]): Histogram {
  if (parts.length === 0) throw new Error('no histogram to add');
  const Ctor = parts[0].constructor as new (lowest: number, highest: number, digits: number) => Histogram;
  const lowest = Math.min(...parts.map((h) => (h as JsHistogram).lowestDiscernibleValue));
  const highest = Math.max(...parts.map((h) => (h as JsHistogram).highestTrackableValue));
  const digits = Math.min(...parts.map((h) => (h as JsHistogram).numberOfSignificantValueDigits));
  const sum = new Ctor(lowest, highest, digits);
  for (const h of parts) sum.add(h);
  return sum;
}

const us = (v: number): number => Math.round(v) / 1000;

/** A phase's summary from its histogram (microseconds) in smtp-source's form (milliseconds). */
export function phaseSummary(h: Histogram): PhaseSummaryDoc {
  const n = h.totalCount;
  return {
    count: n,
    min: n ? us(h.minNonZeroValue) : 0,
    mean: n ? us(h.mean) : 0,
    p50: us(h.getValueAtPercentile(50)),
    p90: us(h.getValueAtPercentile(90)),
    p99: us(h.getValueAtPercentile(99)),
    p999: us(h.getValueAtPercentile(99.9)),
    max: us(h.maxValue),
    encoded: encodeHistogram(h),
  };
}
