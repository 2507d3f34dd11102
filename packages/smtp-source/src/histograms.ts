// Latency per protocol phase, in HDR histograms (microseconds), so that percentiles are
// exact to 3 significant digits and runs can be merged later from the encoded form.
import { createRequire } from 'node:module';
import type { Histogram } from 'hdr-histogram-js';
import { phaseSummary, SOURCE_PHASES, type PhaseSummaryDoc, type SourcePhase } from '@smtpstone/results';

// hdr-histogram-js's index also loads its WebAssembly build and the compression code; the
// one file we need loads in a third of the time. Summaries and their encoding are
// @smtpstone/results' (phaseSummary), which loads the JS codec only when a run ends.
const require = createRequire(import.meta.url);
const { default: Int32Histogram } = require('hdr-histogram-js/dist/Int32Histogram.js') as typeof import('hdr-histogram-js/dist/Int32Histogram.js');

// The phases are defined with the result format in @smtpstone/results, which merges and judges
// them. tls (the handshake, from STARTTLS or the TCP connect) and auth (AUTH to its last reply)
// are recorded only by runs that use them.
export const PHASES = SOURCE_PHASES;
export type PhaseName = SourcePhase;

/** Microseconds from 1 to an hour, 3 significant digits. */
export function newHistogram(): Histogram {
  return new Int32Histogram(1, 3_600_000_000, 3);
}

/** One phase's summary: milliseconds, and the histogram in HdrHistogram's compressed base64 (µs). */
export type PhaseSummary = PhaseSummaryDoc;

export class PhaseHistograms {
  readonly byPhase = new Map<PhaseName, Histogram>(PHASES.map((p) => [p, newHistogram()]));

  /** Records a latency given in milliseconds (performance.now() differences). */
  record(phase: PhaseName, ms: number): void {
    recordMs(this.byPhase.get(phase)!, ms);
  }

  summary(): Record<PhaseName, PhaseSummary> {
    const out = {} as Record<PhaseName, PhaseSummary>;
    for (const [phase, h] of this.byPhase) out[phase] = phaseSummary(h);
    return out;
  }
}

/** Records milliseconds into a histogram of microseconds (at least 1 µs). */
export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(Math.max(1, Math.round(ms * 1000)));
}
