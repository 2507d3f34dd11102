// Made-up steps for the judging and rendering tests: a server that carries up to `capacity`
// messages per second with 100 ms of latency, and whose queue grows past it.
import type { SourceResult } from '@smtpstone/smtp-source';
import { DEFAULT_BOUNDS, findKnee, judgeStep, type StepFigures, type StepResult, type SweepBounds, type SweepResult } from '../src/index.js';

export interface FakeStep {
  rate: number;
  /** What the server carries at most (default: everything). */
  capacity?: number;
  saturated?: boolean;
  index?: number;
  kind?: StepResult['kind'];
  delivery?: StepFigures['delivery'];
  system?: StepFigures['system'];
  durationMs?: number;
}

export function figures(f: FakeStep): StepFigures {
  const T = (f.durationMs ?? 20_000) / 1000;
  const cap = f.capacity ?? Infinity;
  const carried = Math.min(f.rate, cap);
  const scheduled = Math.round(f.rate * T);
  const accepted = Math.min(scheduled, Math.round(carried * T));
  // Past capacity the queue grows: the last message waits backlog / capacity.
  const wait = f.rate > cap ? ((f.rate - cap) * T * 1000) / cap : 0;
  return {
    ratePerSecond: f.rate,
    offeredPerSecond: f.rate,
    acceptedPerSecond: carried,
    messages: { scheduled, started: accepted, notStarted: scheduled - accepted, accepted, rejected: 0, failed: 0 },
    latency: { count: accepted, p50: 100 + wait / 2, p90: 100 + wait * 0.9, p99: 100 + wait * 0.99, max: 100 + wait },
    lateStarts: { count: f.rate > cap ? accepted - Math.round(cap) : 0, share: f.rate > cap ? 0.9 : 0, lagP99Ms: wait },
    sessions: { limit: 100, peak: f.rate > cap ? 100 : Math.ceil(f.rate / 10) },
    errors: 0,
    transportErrors: 0,
    generator: {
      saturated: f.saturated ?? false,
      reasons: f.saturated ? ['event-loop delay p99 80 ms > 50 ms'] : [],
      eventLoopDelayP99Ms: f.saturated ? 80 : 1.2,
      cpuPercentMean: f.saturated ? 97 : 20,
    },
    system: f.system,
    delivery: f.delivery,
    interrupted: false,
  };
}

export function step(f: FakeStep, bounds: SweepBounds = { ...DEFAULT_BOUNDS }): StepResult {
  const fig = figures(f);
  const { bounds: b, verdict } = judgeStep(fig, bounds);
  return {
    index: f.index ?? 1,
    kind: f.kind ?? 'sweep',
    durationMs: f.durationMs ?? 20_000,
    startedAt: '2026-11-27T10:00:00.000Z',
    ...fig,
    bounds: b,
    verdict,
    warnings: { count: 0, first: [] },
    source: { messages: fig.messages } as unknown as SourceResult,
  };
}

/** A whole sweep result of made-up steps, judged as runSweep() would. */
export function sweepOf(fakes: FakeStep[], o: { headroom?: number; require?: number; bounds?: SweepBounds; log?: string } = {}): SweepResult {
  const bounds = o.bounds ?? { ...DEFAULT_BOUNDS };
  const steps = fakes.map((f, i) => step({ index: i + 1, ...f }, bounds));
  const headroom = o.headroom ?? 0.2;
  return {
    type: 'smtpstone-sweep',
    version: 1,
    target: '192.0.2.25:25',
    startedAt: '2026-11-27T10:00:00.000Z',
    elapsedMs: 200_000,
    settings: {
      rates: fakes.filter((f) => f.kind !== 'refine').map((f) => f.rate),
      stepDurationMs: 20_000,
      pauseMs: 2000,
      refine: fakes.filter((f) => f.kind === 'refine').length,
      keepGoing: false,
      headroom,
      bounds,
      requirePerSecond: o.require,
      source: { sessions: 100, reuseConnection: true },
      sample: fakes.some((f) => f.system !== undefined),
      log: o.log,
    },
    steps,
    knee: findKnee(steps, headroom, o.require),
    interrupted: false,
  };
}
