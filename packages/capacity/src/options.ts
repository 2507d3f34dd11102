// The settings of one sweep, as the API takes them: the rates to step through, how long each
// step runs, what each step must hold to pass, and the smtp-source settings every step shares.
// The CLI maps smtpstone-sweep's flags onto these.
import type { SourceOptionsInput, SourceSampleOptions } from '@smtpstone/smtp-source';
import type { StepResult } from './step.js';

/** What a step must hold to pass. */
export interface SweepBounds {
  /**
   * (a) Accepted throughput at least this share of the offered rate, and at least this share of
   * the messages due in the step accepted (0..1; default 0.95).
   */
  minAcceptedShare: number;
  /** (b) The message latency's p99, measured from each message's due time, at most this (ms; default 1000). */
  maxP99Ms: number;
  /** (c) With a log: the delivery rate at least this share of the injection rate (0..1; default 0.95). */
  minDeliveryShare: number;
  /** (c) With a log: the delivery latency's p99 at most this (ms; default: no bound). */
  maxDeliveryP99Ms?: number;
}

export const DEFAULT_BOUNDS: Readonly<SweepBounds> = Object.freeze({ minAcceptedShare: 0.95, maxP99Ms: 1000, minDeliveryShare: 0.95 });

/** --log: the MTA's log, followed during each step and joined to the step's journal. */
export interface SweepLogOptions {
  /** The MTA's log file (Postfix's maillog, or the file syslog writes mail.* to). */
  path: string;
  /** Where each step's journal goes (step-NN-RATE.jsonl); default a temporary directory, removed at the end. */
  journalDir?: string;
  /** After a step, how long to wait for every accepted message's last word (default 60 s). */
  drainTimeoutMs: number;
  /** The log stamps' zone (default the machine's), as smtpstone-report --zone. */
  zone?: string;
  /** The year of year-less stamps (default: this year), as smtpstone-report --year. */
  year?: number;
}

/**
 * smtp-source's settings that every step shares. The sweep sets the open model's rate, the
 * duration, -A (an overloaded server's refusals are counted, not fatal) and where warnings go.
 */
export type SweepSourceOptions = Omit<SourceOptionsInput, 'target' | 'rate' | 'stages' | 'durationMs' | 'messages' | 'sample' | 'allowReject' | 'writeLog' | 'program' | 'shard'>;

export interface SweepOptions {
  /** Where to connect: "[inet:]host[:port]" or "unix:/path". */
  target: string;
  /** The steps' rates, messages per second, ascending. */
  rates: number[];
  /** How long each step offers its rate (default 20 s). */
  stepDurationMs: number;
  /** A pause between steps, for the box to settle (default 2 s; with a log, after the drain). */
  pauseMs: number;
  /** Bisection steps between the last passing and the first failing step (default 0). */
  refine: number;
  /** Run every step even after one failed (default: stop at the first failing step). */
  keepGoing: boolean;
  /** Recommended capacity = knee x (1 - headroom) (0..1; default 0.2). */
  headroom: number;
  bounds: SweepBounds;
  /** --require: the knee must be at least this (messages per second), else exit 3. */
  requirePerSecond?: number;
  /** smtp-source's settings for every step. sessions caps the sessions open at once (default 100). */
  source: SweepSourceOptions;
  /** --sample: sample this host during each step (the verdict per step). */
  sample?: SourceSampleOptions;
  /** --log: join each step to the MTA's log (delivery rate, backlog, delivery latency). */
  log?: SweepLogOptions;
  /** Stops the sweep: the step under way ends (2 s grace) and the sweep reports what it has. */
  signal?: AbortSignal;
  /** Progress: called when a step starts and when it has been judged. */
  onStepStart?: (info: { index: number; planned: number; ratePerSecond: number; refine: boolean }) => void;
  onStepEnd?: (step: StepResult) => void;
  /** Where smtp-source's own warnings go (the first few of each step; default: nowhere, they are counted). */
  writeLog?: (line: string) => void;
}

export type SweepOptionsInput = Partial<Omit<SweepOptions, 'bounds' | 'source'>> &
  Pick<SweepOptions, 'target' | 'rates'> & { bounds?: Partial<SweepBounds>; source?: SweepSourceOptions };

/** The sessions a sweep may open at once unless told: Postfix's default_process_limit. */
export const DEFAULT_SESSIONS = 100;

/**
 * A reply timeout for the steps (seconds) unless told: smtp-source's 300 would hold a step for
 * five minutes behind one silent session.
 */
export const DEFAULT_TIMEOUT_SECONDS = 30;

export function resolveSweepOptions(input: SweepOptionsInput): SweepOptions {
  const rates = [...input.rates];
  if (rates.length === 0) throw new RangeError('rates: no step (want at least one rate)');
  for (const r of rates) if (!(Number.isFinite(r) && r > 0)) throw new RangeError(`rates: ${r} (want messages per second, more than 0)`);
  rates.sort((a, b) => a - b);
  const o: SweepOptions = {
    target: input.target,
    rates,
    stepDurationMs: input.stepDurationMs ?? 20_000,
    pauseMs: input.pauseMs ?? 2000,
    refine: input.refine ?? 0,
    keepGoing: input.keepGoing ?? false,
    headroom: input.headroom ?? 0.2,
    bounds: { ...DEFAULT_BOUNDS, ...input.bounds },
    requirePerSecond: input.requirePerSecond,
    source: { sessions: DEFAULT_SESSIONS, timeoutSeconds: DEFAULT_TIMEOUT_SECONDS, ...input.source },
    sample: input.sample,
    log: input.log,
    signal: input.signal,
    onStepStart: input.onStepStart,
    onStepEnd: input.onStepEnd,
    writeLog: input.writeLog,
  };
  if (!(o.stepDurationMs > 0 && Number.isFinite(o.stepDurationMs))) throw new RangeError(`stepDurationMs: ${o.stepDurationMs} (want more than 0)`);
  if (!(o.pauseMs >= 0)) throw new RangeError(`pauseMs: ${o.pauseMs} (want 0 or more)`);
  if (!(Number.isInteger(o.refine) && o.refine >= 0)) throw new RangeError(`refine: ${o.refine} (want a whole number, 0 or more)`);
  if (!(o.headroom >= 0 && o.headroom < 1)) throw new RangeError(`headroom: ${o.headroom} (want 0 to less than 1)`);
  const b = o.bounds;
  if (!(b.minAcceptedShare > 0 && b.minAcceptedShare <= 1)) throw new RangeError(`bounds.minAcceptedShare: ${b.minAcceptedShare} (want more than 0, at most 1)`);
  if (!(b.maxP99Ms > 0)) throw new RangeError(`bounds.maxP99Ms: ${b.maxP99Ms} (want more than 0)`);
  if (!(b.minDeliveryShare > 0 && b.minDeliveryShare <= 1)) throw new RangeError(`bounds.minDeliveryShare: ${b.minDeliveryShare} (want more than 0, at most 1)`);
  return o;
}

/**
 * The rates of `steps` steps from `from` to `to` (messages per second), both included: equally
 * spaced (linear), or each the same factor above the last (geometric). Rounded to 3 significant
 * digits, so that tables read 13.4/s rather than 13.414213562/s; duplicates after rounding go.
 */
export function stepRates(from: number, to: number, steps: number, scale: 'linear' | 'geometric'): number[] {
  if (!(from > 0 && to >= from && Number.isInteger(steps) && steps >= 1)) throw new RangeError(`steps: from ${from} to ${to} in ${steps} (want 0 < from <= to, steps >= 1)`);
  if (steps === 1 || to === from) return [round3(from)];
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    const f = i / (steps - 1);
    out.push(round3(scale === 'linear' ? from + (to - from) * f : from * (to / from) ** f));
  }
  return [...new Set(out)];
}

/** Three significant digits, whole numbers from 100 up: 13.4, 96, 1234. */
export function round3(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  return Math.abs(x) >= 100 ? Math.round(x) : Number(x.toPrecision(3));
}
