// One step of a sweep: smtp-source's open model at one rate for a bounded time, with its own
// journal when the MTA's log is followed, then the figures the bounds are held to.
//
// Each step is a run of its own rather than one stage of a single --stages run: the box gets a
// pause (and, with a log, its queue drains) before the next step, so one step's backlog cannot
// spill into the next one's figures; every step has its own sampler verdict, generator record
// and journal; and a run that ends early (the server closing up) spoils one step, not the rest.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startSource, type MessageEvent, type SourceResult } from '@smtpstone/smtp-source';
import type { VerdictKind } from '@smtpstone/sampler';
import { StepDelivery, type DeliveryRecord } from './delivery.js';
import { judgeStep, type BoundResult, type StepVerdict } from './judge.js';
import type { SweepOptions } from './options.js';

/** What a step measured: the figures the bounds are held to. Rates per second, times in ms. */
export interface StepFigures {
  /** The rate asked for. */
  ratePerSecond: number;
  /** Messages due in the step over its length (smtp-source's schedule). */
  offeredPerSecond: number;
  /**
   * What the server carried: accepted replies per second from the first one to the step's end
   * (replies after the end left out). See carriedRate().
   */
  acceptedPerSecond: number;
  messages: { scheduled: number; started: number; notStarted: number; accepted: number; rejected: number; failed: number };
  /** Message latency from each message's due time (coordinated omission corrected), accepted messages. */
  latency: { count: number; p50: number; p90: number; p99: number; max: number };
  lateStarts: { count: number; share: number; lagP99Ms: number };
  sessions: { limit: number; peak: number };
  /** Messages refused or failed (rejected + failed). */
  errors: number;
  /** What went wrong on the wire: timeouts, lost connections, 421/521 closes, connect failures. */
  transportErrors: number;
  generator?: { saturated: boolean; reasons: string[]; eventLoopDelayP99Ms: number; cpuPercentMean: number };
  /** --sample: the box's verdict over the step. */
  system?: { kind: VerdictKind; reasons: string[]; samples: number };
  delivery?: DeliveryRecord;
  /** The run ended early (smtp-source's fatal line). */
  fatal?: string;
  /** Stopped by the sweep's signal: not judged. */
  interrupted: boolean;
}

export interface StepResult extends StepFigures {
  /** In the order the steps ran, from 1. */
  index: number;
  /** sweep: a planned step; refine: a bisection step between the last pass and the first failure. */
  kind: 'sweep' | 'refine';
  durationMs: number;
  startedAt: string;
  bounds: BoundResult[];
  verdict: StepVerdict;
  /** smtp-source's warnings during the step (the first few) and how many there were. */
  warnings: { count: number; first: string[] };
  /** The step's journal, with --log. */
  journal?: string;
  /** smtp-source's whole result (as its --json writes it): counts, latency per phase, schedule, system. */
  source: SourceResult;
}

/** Warnings of a step passed on to the sweep's writeLog; the rest are counted. */
const WARNINGS_SHOWN = 3;

/** A step that has not ended this long after its schedule and its reply timeout is stopped. */
const GUARD_MS = 5000;

/**
 * Accepted replies per second while the step ran: the replies from the first one to the step's
 * end (`windowEnd`, same clock), over that span. Under the server's capacity that is the offered
 * rate: never less, and more by at most one reply over the span. Above it, what the server
 * carried, high by at most one burst of replies over the span (sessions that started together
 * answer together: at most -s replies; 4 of 100 in a 2.5 s step at 40/s). smtp-source's own
 * per-stage figure (replies within the window over the window's length) reads low by rate x
 * latency / length instead: there are no replies in the first latency of the window, and the
 * replies to the messages in flight at its end come after it (3 % for a 3 s step at 100 ms),
 * which would eat most of a 95 % bound. Anchored at the window's end, a server that stops
 * answering before the end reads low, as it should.
 */
export function carriedRate(acceptedAt: readonly number[], windowEnd: number): number | null {
  let n = 0;
  let first = Infinity;
  for (const t of acceptedAt) {
    if (t > windowEnd) continue;
    n++;
    if (t < first) first = t;
  }
  if (n < 2) return null;
  const span = windowEnd - first;
  return span > 0 ? (n * 1000) / span : null;
}

const pad = (n: number): string => String(n).padStart(2, '0');
const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** The file name part of a rate: 12.5/s -> "12.5". */
const rateName = (r: number): string => String(Number(r.toFixed(3)));

/** Runs one step and judges it. */
export async function runStep(o: SweepOptions, ratePerSecond: number, index: number, kind: StepResult['kind']): Promise<StepResult> {
  const journal = o.log !== undefined ? join(o.log.journalDir ?? '.', `step-${pad(index)}-${rateName(ratePerSecond)}.jsonl`) : undefined;
  const delivery = o.log !== undefined ? new StepDelivery(o.log, journal!) : undefined;
  await delivery?.start();
  const warnings = { count: 0, first: [] as string[] };
  const writeLog = (line: string): void => {
    warnings.count++;
    if (warnings.first.length < WARNINGS_SHOWN) {
      warnings.first.push(line.trimEnd());
      o.writeLog?.(line);
    }
  };
  const startedAt = new Date().toISOString();
  let running;
  try {
    running = await startSource(
      {
        ...o.source,
        target: o.target,
        rate: { perSecond: ratePerSecond },
        durationMs: o.stepDurationMs,
        // An overloaded server refuses and closes: counted, not the end of the step.
        allowReject: true,
        sample: o.sample,
        program: 'smtpstone-sweep',
        writeLog,
      },
      { journalPath: journal },
    );
  } catch (err) {
    await delivery?.abandon();
    throw err;
  }
  const { run, done } = running;
  // The schedule's time 0 is when startSource() started the run: within a microtask of now.
  const t0 = performance.now();
  const acceptedAt: number[] = [];
  run.on('message', (e: MessageEvent) => {
    if (e.status === 'accepted') acceptedAt.push(performance.now());
  });
  let stoppedBySignal = false;
  const onAbort = (): void => {
    stoppedBySignal = true;
    run.stop(2000);
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) onAbort();
  const timeoutMs = (o.source.timeoutSeconds ?? 300) * 1000;
  const guard = setTimeout(() => run.stop(0), o.stepDurationMs + timeoutMs + GUARD_MS);
  let result: SourceResult;
  try {
    result = await done;
  } finally {
    clearTimeout(guard);
    o.signal?.removeEventListener('abort', onAbort);
  }
  const injectionEndedAt = Date.now();
  let deliveryRecord: DeliveryRecord | undefined;
  if (delivery !== undefined) {
    if (stoppedBySignal) await delivery.abandon();
    else deliveryRecord = await delivery.finish(injectionEndedAt, o.signal);
  }
  const figures = stepFigures(result, ratePerSecond, carriedRate(acceptedAt, t0 + o.stepDurationMs), stoppedBySignal, deliveryRecord);
  const { bounds, verdict } = judgeStep(figures, o.bounds);
  return { index, kind, durationMs: o.stepDurationMs, startedAt, ...figures, bounds, verdict, warnings, journal, source: result };
}

/** The figures of a finished run (exported for tests on saved results). */
export function stepFigures(r: SourceResult, ratePerSecond: number, carried: number | null, interrupted: boolean, delivery?: DeliveryRecord): StepFigures {
  const sched = r.schedule;
  const stage = sched?.stages[0];
  const offered = stage?.throughput.offeredPerSecond ?? ratePerSecond;
  const lat = stage?.latency ?? r.correctedLatency?.message ?? r.latency.message;
  const started = r.messages.started;
  const g = r.generator;
  const e = r.errors;
  return {
    ratePerSecond,
    offeredPerSecond: offered,
    // Too few replies for a span: the window's figure.
    acceptedPerSecond: round3(carried ?? stage?.throughput.acceptedPerSecond ?? 0),
    messages: {
      scheduled: sched?.scheduled ?? started,
      started,
      notStarted: sched?.notStarted ?? 0,
      accepted: r.messages.accepted,
      rejected: r.messages.rejected,
      failed: r.messages.failed,
    },
    latency: { count: lat.count, p50: lat.p50, p90: lat.p90, p99: lat.p99, max: lat.max },
    lateStarts: {
      count: sched?.lateStarts.count ?? 0,
      share: started > 0 ? round3((sched?.lateStarts.count ?? 0) / started) : 0,
      lagP99Ms: sched?.lateStarts.lagMs.p99 ?? 0,
    },
    sessions: { limit: sched?.sessions.limit ?? 0, peak: sched?.sessions.peak ?? 0 },
    errors: r.messages.rejected + r.messages.failed,
    transportErrors: e.timeouts + e.lostConnections + e.serverClosed + e.connectFailures,
    generator:
      g === undefined ? undefined : { saturated: g.saturated, reasons: g.reasons, eventLoopDelayP99Ms: g.eventLoopDelayMs.p99, cpuPercentMean: g.cpuPercent.mean },
    system: r.system === undefined ? undefined : { kind: r.system.verdict.kind, reasons: r.system.verdict.reasons, samples: r.system.samples.length },
    delivery,
    fatal: r.fatal,
    // Only the sweep's signal: a step the guard had to stop is judged like any other.
    interrupted,
  };
}
