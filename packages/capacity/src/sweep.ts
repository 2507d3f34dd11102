// A sweep: the planned steps in rising order (stopping at the first failure unless told to go
// on), then the bisection steps between the last pass and the first failure, then the knee.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { findKnee, type KneeRecord } from './judge.js';
import { resolveSweepOptions, round3, type SweepOptions, type SweepOptionsInput } from './options.js';
import { runStep, type StepResult } from './step.js';

export interface SweepResult {
  type: 'smtpstone-sweep';
  version: 1;
  target: string;
  startedAt: string;
  elapsedMs: number;
  /** The options the sweep ran with; the source's, the sampler's and the log's as records. */
  settings: Pick<SweepOptions, 'rates' | 'stepDurationMs' | 'pauseMs' | 'refine' | 'keepGoing' | 'headroom' | 'bounds' | 'requirePerSecond'> & {
    /** smtp-source's settings shared by the steps (sessions, -d, -l, -r, ...). */
    source: Record<string, unknown>;
    sample: boolean;
    log?: string;
  };
  /** In the order they ran (renderers show them by rate). */
  steps: StepResult[];
  knee: KneeRecord;
  /** Stopped by its signal (Ctrl-C) before the plan was done. */
  interrupted: boolean;
}

/** The sweep could not run at all (the first step reached nothing): the tools' exit 1. */
export class SweepError extends Error {
  override name = 'SweepError';
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Runs a sweep and judges it. Throws SweepError when the target could not be reached at all. */
export async function runSweep(input: SweepOptionsInput): Promise<SweepResult> {
  const o = resolveSweepOptions(input);
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const steps: StepResult[] = [];
  // Each step's journal needs a place; one the caller did not name is removed afterwards.
  let ownJournalDir: string | undefined;
  if (o.log !== undefined && o.log.journalDir === undefined) {
    ownJournalDir = mkdtempSync(join(tmpdir(), 'smtpstone-sweep-'));
    o.log = { ...o.log, journalDir: ownJournalDir };
  }
  const planned = o.rates.length + o.refine;
  let runs = 0;
  const step = async (rate: number, kind: StepResult['kind']): Promise<StepResult> => {
    if (runs > 0) await pause(o.pauseMs, o.signal);
    runs++;
    o.onStepStart?.({ index: runs, planned, ratePerSecond: rate, refine: kind === 'refine' });
    const s = await runStep(o, rate, runs, kind);
    if (ownJournalDir !== undefined) s.journal = undefined;
    steps.push(s);
    // Nothing reached at all on the first step: a wrong target, not a slow one.
    if (steps.length === 1 && s.source.fatal !== undefined && s.source.messages.accepted === 0 && !s.interrupted) {
      throw new SweepError(`${o.target}: ${s.source.fatal}`);
    }
    o.onStepEnd?.(s);
    return s;
  };
  try {
    for (const rate of o.rates) {
      if (o.signal?.aborted) break;
      const s = await step(rate, 'sweep');
      if (!o.keepGoing && (s.verdict === 'fail' || s.verdict === 'untrusted')) break;
    }
    for (let i = 0; i < o.refine && !o.signal?.aborted; i++) {
      const knee = findKnee(steps, o.headroom);
      if (knee.status !== 'found' || knee.kneePerSecond === null || knee.firstFailing === null) break;
      const mid = round3((knee.kneePerSecond + knee.firstFailing.ratePerSecond) / 2);
      // The rounding leaves nothing between them: as fine as the rates are written.
      if (mid <= knee.kneePerSecond || mid >= knee.firstFailing.ratePerSecond) break;
      await step(mid, 'refine');
    }
  } finally {
    if (ownJournalDir !== undefined) rmSync(ownJournalDir, { recursive: true, force: true });
  }
  const knee = findKnee(steps, o.headroom, o.requirePerSecond);
  return {
    type: 'smtpstone-sweep',
    version: 1,
    target: o.target,
    startedAt,
    elapsedMs: Math.round(performance.now() - t0),
    settings: {
      rates: o.rates,
      stepDurationMs: o.stepDurationMs,
      pauseMs: o.pauseMs,
      refine: o.refine,
      keepGoing: o.keepGoing,
      headroom: o.headroom,
      bounds: o.bounds,
      requirePerSecond: o.requirePerSecond,
      source: { ...o.source },
      sample: o.sample !== undefined,
      log: o.log?.path,
    },
    steps,
    knee,
    interrupted: o.signal?.aborted === true,
  };
}
