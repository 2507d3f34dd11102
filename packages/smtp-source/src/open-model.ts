// The open model's bookkeeping: which message is due next, late starts, the message latency
// measured from the schedule (coordinated omission corrected), and the figures of each stage.
import type { Histogram } from 'hdr-histogram-js';
import { phaseSummary } from '@smtpstone/results';
import { newHistogram, recordMs, type PhaseSummary } from './histograms.js';
import { Schedule, type RateStage } from './schedule.js';

/**
 * A start counts as late when it came more than this after its due time because no session
 * was free (all -s sessions busy). Timer jitter of the generator itself stays below it.
 */
export const LATE_START_MS = 1;

/**
 * A message may start this much before its due time. Timers fire on a 1 ms clock, so waiting
 * for the exact time would make most starts up to a millisecond late and add that to every
 * corrected latency; starting a little early does not change the rate.
 */
export const EARLY_START_MS = 1;

/** What SourceRun.claim() returns when the next message is not due yet: park and wait. */
export const NOT_YET = -1;

/** One stage of the schedule and what became of the messages due in it. */
export interface StageRecord {
  /** From 1. */
  stage: number;
  fromPerSecond: number;
  toPerSecond: number;
  /** The rate the stage offers on average (its messages over its length). */
  ratePerSecond: number;
  /** The stage's window on the run's clock, ms since the run started. */
  startMs: number;
  endMs: number;
  /** Messages due in the window (fewer when -m ends the run first). */
  scheduled: number;
  /** Of those, started; and their fates. */
  started: number;
  accepted: number;
  rejected: number;
  failed: number;
  /** Of those, started late for want of a free session. */
  lateStarts: number;
  throughput: {
    /** scheduled / the window's length. */
    offeredPerSecond: number;
    /** Accepted replies that arrived within the window / its length (what the server carried then). */
    acceptedPerSecond: number;
  };
  /** Accepted messages due in this stage: latency from their due time to the last end-of-data reply. */
  latency: PhaseSummary;
}

export interface ScheduleRecord {
  /** 'rate': a steady --rate; 'stages': --ramp or --stages. */
  kind: 'rate' | 'stages';
  /** A start later than this past its due time, with no session free, is late. */
  lateThresholdMs: number;
  /** Messages due before starts stopped (the end of the schedule, -m, or an interruption). */
  scheduled: number;
  started: number;
  /** Due, but never started: no session came free before the end. */
  notStarted: number;
  lateStarts: {
    count: number;
    /** How late the late ones started, ms, and their histogram (µs, encoded as the latencies). */
    lagMs: { p50: number; p90: number; p99: number; max: number };
    encoded: string;
  };
  sessions: {
    /** -s: sessions open at most. */
    limit: number;
    /** Sessions the run needed at most at one time. */
    peak: number;
  };
  stages: StageRecord[];
}

interface StageStats {
  started: number;
  accepted: number;
  rejected: number;
  failed: number;
  lateStarts: number;
  acceptedInWindow: number;
  latency: Histogram;
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

export class OpenModel {
  readonly schedule: Schedule;
  /** Index (from 0) of the next message to start. */
  private next = 0;
  /** When it is due, ms since the run started (Infinity: none is left). */
  nextDueMs: number;
  private nextStage: number;
  /** When starts stop: the schedule's end (Infinity with --rate and -m). */
  readonly endMs: number;
  /** Due time and stage of the message last taken. */
  takenDueMs = 0;
  takenStage = 0;
  /** When starts stopped, if they did before the schedule's end. */
  private startsStoppedMs: number | undefined;
  readonly corrected = newHistogram();
  private readonly lag = newHistogram();
  private lateStarts = 0;
  peakSessions = 0;
  private readonly stats: StageStats[];
  private windowCursor = 0;

  constructor(
    readonly kind: 'rate' | 'stages',
    stages: readonly RateStage[],
    /** -m: messages at most (Infinity when only the schedule ends the run). */
    readonly cap: number,
    readonly sessionLimit: number,
  ) {
    this.schedule = new Schedule(stages);
    this.endMs = this.schedule.endMs;
    this.stats = stages.map(() => ({ started: 0, accepted: 0, rejected: 0, failed: 0, lateStarts: 0, acceptedInWindow: 0, latency: newHistogram() }));
    this.nextDueMs = this.schedule.dueMs(0);
    this.nextStage = this.schedule.stageIndex;
  }

  /** Messages started so far. */
  get taken(): number {
    return this.next;
  }

  /** True when no message is left to start at `nowMs` (run clock). */
  over(nowMs: number): boolean {
    return this.next >= this.cap || this.nextDueMs >= this.endMs || nowMs >= this.endMs;
  }

  /**
   * Takes the next message (due at or before nowMs). `noSessionFree`: it is taken by a session
   * that just came free, none being idle, so any lateness is the sessions' and counts.
   */
  take(nowMs: number, noSessionFree: boolean): void {
    const due = this.nextDueMs;
    const stage = this.nextStage;
    this.takenDueMs = due;
    this.takenStage = stage;
    const s = this.stats[stage];
    s.started++;
    const lag = nowMs - due;
    if (noSessionFree && lag > LATE_START_MS) {
      this.lateStarts++;
      s.lateStarts++;
      recordMs(this.lag, lag);
    }
    this.next++;
    this.nextDueMs = this.schedule.dueMs(this.next);
    this.nextStage = this.schedule.stageIndex;
  }

  /** Starts stopped (interruption, fatal error) at nowMs, before the schedule's end. */
  stopStarts(nowMs: number): void {
    this.startsStoppedMs ??= nowMs;
  }

  /**
   * A message of `stage` ended at nowMs. `fromMs`: its due time, or when it started if that was
   * earlier (up to EARLY_START_MS), so that the corrected latency is never below the raw one.
   */
  ended(stage: number, status: 'accepted' | 'rejected' | 'failed', fromMs: number, nowMs: number): void {
    const s = this.stats[stage];
    if (status === 'accepted') {
      s.accepted++;
      recordMs(this.corrected, nowMs - fromMs);
      recordMs(s.latency, nowMs - fromMs);
      const w = this.windowOf(nowMs);
      if (w >= 0) this.stats[w].acceptedInWindow++;
    } else if (status === 'rejected') {
      s.rejected++;
    } else {
      s.failed++;
    }
  }

  /** The stage whose window holds nowMs, or -1 past the last one. Ends come in time order. */
  private windowOf(nowMs: number): number {
    const last = this.stats.length - 1;
    while (this.windowCursor <= last && nowMs >= this.stageEnd(this.windowCursor)) this.windowCursor++;
    return this.windowCursor > last ? -1 : this.windowCursor;
  }

  /** A stage's end; an endless --rate stage ends where -m puts its last message. */
  private stageEnd(i: number): number {
    const end = this.schedule.window(i).endMs;
    return end === Infinity ? (this.cap * 1000) / this.schedule.stages[0].fromPerSecond : end;
  }

  /** Messages due before ms, -m taken into account. */
  private dueBefore(ms: number): number {
    return Math.min(this.cap, this.schedule.countBefore(ms));
  }

  /**
   * The record of the run so far. `runEndMs`: the schedule's clock at the end; `offsetMs`:
   * where the schedule's 0 lies on the run's clock (the stages' windows are given on the latter).
   */
  record(runEndMs: number, offsetMs = 0): ScheduleRecord {
    const startsEnd = Math.min(this.startsStoppedMs ?? Infinity, this.endMs, runEndMs);
    const scheduled = Math.max(this.next, this.dueBefore(startsEnd));
    const lag = this.lag;
    return {
      kind: this.kind,
      lateThresholdMs: LATE_START_MS,
      scheduled,
      started: this.next,
      notStarted: scheduled - this.next,
      lateStarts: {
        count: this.lateStarts,
        lagMs: {
          p50: lag.totalCount ? lag.getValueAtPercentile(50) / 1000 : 0,
          p90: lag.totalCount ? lag.getValueAtPercentile(90) / 1000 : 0,
          p99: lag.totalCount ? lag.getValueAtPercentile(99) / 1000 : 0,
          max: lag.totalCount ? lag.maxValue / 1000 : 0,
        },
        encoded: phaseSummary(lag).encoded,
      },
      sessions: { limit: this.sessionLimit, peak: this.peakSessions },
      stages: this.schedule.stages.map((st, i) => {
        const s = this.stats[i];
        const startMs = this.schedule.window(i).startMs;
        const endMs = this.stageEnd(i);
        const seconds = (endMs - startMs) / 1000;
        const stageScheduled = Math.max(s.started, this.dueBefore(Math.min(endMs, startsEnd)) - this.dueBefore(startMs));
        const integral = this.schedule.cumulative(endMs) - this.schedule.cumulative(startMs);
        return {
          stage: i + 1,
          fromPerSecond: round3(st.fromPerSecond),
          toPerSecond: round3(st.toPerSecond),
          ratePerSecond: seconds > 0 ? round3(integral / seconds) : 0,
          startMs: round3(offsetMs + startMs),
          endMs: round3(offsetMs + endMs),
          scheduled: stageScheduled,
          started: s.started,
          accepted: s.accepted,
          rejected: s.rejected,
          failed: s.failed,
          lateStarts: s.lateStarts,
          throughput: {
            offeredPerSecond: seconds > 0 ? round3(stageScheduled / seconds) : 0,
            acceptedPerSecond: seconds > 0 ? round3(s.acceptedInWindow / seconds) : 0,
          },
          latency: phaseSummary(s.latency),
        };
      }),
    };
  }
}
