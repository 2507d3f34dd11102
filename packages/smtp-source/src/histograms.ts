// Latency per protocol phase, in HDR histograms (microseconds), so that percentiles are
// exact to 3 significant digits and runs can be merged later from the encoded form.
import * as hdr from 'hdr-histogram-js';

export const PHASES = ['connect', 'banner', 'helo', 'mail', 'rcpt', 'data', 'dot', 'rset', 'quit', 'message'] as const;
export type PhaseName = (typeof PHASES)[number];

export const PERCENTILES = [50, 90, 99, 99.9] as const;

export function newHistogram(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 64,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

export interface PhaseSummary {
  count: number;
  /** Milliseconds. */
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** The histogram, HdrHistogram's compressed base64 (values in microseconds). */
  encoded: string;
}

const us = (v: number): number => Math.round(v) / 1000;

export class PhaseHistograms {
  readonly byPhase = new Map<PhaseName, hdr.Histogram>(PHASES.map((p) => [p, newHistogram()]));

  /** Records a latency given in milliseconds (performance.now() differences). */
  record(phase: PhaseName, ms: number): void {
    this.byPhase.get(phase)!.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  summary(): Record<PhaseName, PhaseSummary> {
    const out = {} as Record<PhaseName, PhaseSummary>;
    for (const [phase, h] of this.byPhase) {
      out[phase] = {
        count: h.totalCount,
        min: h.totalCount ? us(h.minNonZeroValue) : 0,
        mean: h.totalCount ? us(h.mean) : 0,
        p50: us(h.getValueAtPercentile(50)),
        p90: us(h.getValueAtPercentile(90)),
        p99: us(h.getValueAtPercentile(99)),
        p999: us(h.getValueAtPercentile(99.9)),
        max: us(h.maxValue),
        encoded: hdr.encodeIntoCompressedBase64(h),
      };
    }
    return out;
  }
}
