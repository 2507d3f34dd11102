// The open model's schedule: when each message is meant to start, whatever the server does.
// The rate is a piecewise-linear function of time (steady stages and linear ramps); message k
// (from 0) is due when the integral of the rate since the start of the run reaches k, so at a
// steady rate r message k is due at k / r.
import { parseDuration } from '@smtpstone/core';

/** One stage of the rate: steady when fromPerSecond equals toPerSecond, else a linear ramp. */
export interface RateStage {
  /** Messages per second at the stage's start. */
  fromPerSecond: number;
  /** Messages per second at its end. */
  toPerSecond: number;
  /** How long the stage lasts, milliseconds; Infinity only for a lone steady stage (--rate with -m). */
  durationMs: number;
}

/** A stage with its place on the run's clock, rates per millisecond. */
interface Segment {
  startMs: number;
  endMs: number;
  /** Rate at the start, per ms. */
  a: number;
  /** Change of the rate, per ms². */
  b: number;
  /** Messages due before the segment (the integral up to startMs). */
  before: number;
  /** Messages the segment holds (its integral); Infinity for an endless steady stage. */
  total: number;
}

/** At most this many stages: each keeps a histogram of its own. */
export const MAX_STAGES = 100;

export class ScheduleError extends RangeError {}

/** Checks stages given through the API; throws a ScheduleError saying what is wrong. */
export function checkStages(stages: readonly RateStage[]): void {
  if (stages.length === 0) throw new ScheduleError('the schedule has no stage');
  if (stages.length > MAX_STAGES) throw new ScheduleError(`the schedule has ${stages.length} stages (at most ${MAX_STAGES})`);
  let total = 0;
  stages.forEach((s, i) => {
    const name = `stage ${i + 1}`;
    for (const v of [s.fromPerSecond, s.toPerSecond]) {
      if (!Number.isFinite(v) || v < 0) throw new ScheduleError(`${name}: a rate must be a number of messages per second, 0 or more`);
    }
    const endless = s.durationMs === Infinity && stages.length === 1 && s.fromPerSecond === s.toPerSecond;
    if (!endless && !(Number.isFinite(s.durationMs) && s.durationMs > 0)) throw new ScheduleError(`${name}: the duration must be longer than 0`);
    total += ((s.fromPerSecond + s.toPerSecond) / 2) * (s.durationMs / 1000);
  });
  if (!(total > 0)) throw new ScheduleError('the schedule starts no message (every rate is 0)');
}

export class Schedule {
  private readonly segments: Segment[] = [];
  /** When starts stop, ms since the run started (Infinity: only -m ends the run). */
  readonly endMs: number;
  private cursor = 0;

  constructor(readonly stages: readonly RateStage[]) {
    checkStages(stages);
    let t = 0;
    let before = 0;
    for (const s of stages) {
      const a = s.fromPerSecond / 1000;
      const b = s.durationMs === Infinity ? 0 : (s.toPerSecond - s.fromPerSecond) / 1000 / s.durationMs;
      const total = s.durationMs === Infinity ? Infinity : ((s.fromPerSecond + s.toPerSecond) / 2) * (s.durationMs / 1000);
      this.segments.push({ startMs: t, endMs: t + s.durationMs, a, b, before, total });
      t += s.durationMs;
      before += total;
    }
    this.endMs = t;
  }

  /** Messages due before `ms` (the integral of the rate from 0 to ms). */
  cumulative(ms: number): number {
    if (ms <= 0) return 0;
    for (const s of this.segments) {
      if (ms < s.endMs) {
        const t = ms - s.startMs;
        return s.before + s.a * t + (s.b / 2) * t * t;
      }
    }
    const last = this.segments[this.segments.length - 1];
    return last.before + last.total;
  }

  /** How many messages have their start before `ms`: message k does when k < cumulative(ms). */
  countBefore(ms: number): number {
    return Math.ceil(this.cumulative(Math.min(ms, this.endMs)) - 1e-9);
  }

  /**
   * When message k (from 0) is due, in ms since the run started, or Infinity when the schedule
   * ends before it. Calls must come with k never decreasing: a cursor remembers the stage.
   */
  dueMs(k: number): number {
    for (; this.cursor < this.segments.length; this.cursor++) {
      const s = this.segments[this.cursor];
      const d = k - s.before;
      if (d < s.total) {
        if (d <= 0) return s.startMs;
        // Solves a·t + b/2·t² = d in a form that holds for b of either sign and for b = 0.
        return s.startMs + (2 * d) / (s.a + Math.sqrt(Math.max(0, s.a * s.a + 2 * s.b * d)));
      }
    }
    return Infinity;
  }

  /** The stage (from 0) of the message last given by dueMs(). */
  get stageIndex(): number {
    return Math.min(this.cursor, this.segments.length - 1);
  }

  /** The stage windows on the run's clock, ms. */
  window(i: number): { startMs: number; endMs: number } {
    const s = this.segments[i];
    return { startMs: s.startMs, endMs: s.endMs };
  }
}

// ---- the command line's forms ---------------------------------------------------------------

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/**
 * "200/s", "30/m", "1000/h", "0.5/s" or a bare "200" (per second): messages per second, or
 * undefined when the text is not a rate. `zero` allows 0 (the ends of a ramp, a pause).
 */
export function parseRate(text: string, zero = false): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(?:\/(s|m|h))?$/.exec(text.trim());
  if (m === null) return undefined;
  const perSecond = Number(m[1]) / UNIT_SECONDS[m[2] ?? 's'];
  if (!Number.isFinite(perSecond) || perSecond < 0 || (perSecond === 0 && !zero)) return undefined;
  return perSecond;
}

function parseStageDuration(text: string): number | undefined {
  try {
    const ms = parseDuration(text);
    return ms > 0 && Number.isFinite(ms) ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** "FROM..TO:DURATION" (a ramp) or "RATE:DURATION" (steady): one stage, or undefined. */
export function parseStage(text: string, allowSteady = true): RateStage | undefined {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return undefined;
  const durationMs = parseStageDuration(text.slice(colon + 1));
  if (durationMs === undefined) return undefined;
  const rates = text.slice(0, colon);
  const dots = rates.indexOf('..');
  if (dots < 0) {
    if (!allowSteady) return undefined;
    const r = parseRate(rates, true);
    return r === undefined ? undefined : { fromPerSecond: r, toPerSecond: r, durationMs };
  }
  const from = parseRate(rates.slice(0, dots), true);
  const to = parseRate(rates.slice(dots + 2), true);
  if (from === undefined || to === undefined) return undefined;
  return { fromPerSecond: from, toPerSecond: to, durationMs };
}

/** "50/s:30s,100/s:30s,100/s..200/s:1m": the stages, or undefined when any part is malformed. */
export function parseStages(text: string): RateStage[] | undefined {
  const parts = text.split(',').map((p) => p.trim());
  const out: RateStage[] = [];
  for (const p of parts) {
    const s = parseStage(p);
    if (s === undefined) return undefined;
    out.push(s);
  }
  return out;
}

/** "200/s", "0.5/s", "30/m": a rate for people. */
export function formatRate(perSecond: number): string {
  if (perSecond === 0) return '0/s';
  if (perSecond >= 1) return `${Number(perSecond.toFixed(2))}/s`;
  if (perSecond * 60 >= 1) return `${Number((perSecond * 60).toFixed(2))}/m`;
  return `${Number((perSecond * 3600).toFixed(2))}/h`;
}
