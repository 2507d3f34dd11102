// --log: what the MTA did with one step's messages. The log is followed from its end when the
// step starts (so a step reads only its own part of the log, and each byte once), its records
// held until the step's journal is complete, then joined to it with the reporter's Correlator;
// after the step, the sweep waits until every accepted message has its last word (or the drain
// timeout), so that the next step starts with the queue empty.
import { performance } from 'node:perf_hooks';
import {
  buildReportModel,
  Correlator,
  emptyFollowStats,
  followMaillog,
  readJournal,
  type Correlation,
  type FollowStats,
  type MessageLife,
  type TimePrecision,
} from '@smtpstone/reporter';
import type { SweepLogOptions } from './options.js';

/** What the log says about one step's messages. Times in ms, rates per second. */
export interface DeliveryRecord {
  /** Messages the MTA accepted (journal status accepted). */
  injected: number;
  /** Every recipient sent (after a deferral or not). */
  delivered: number;
  bounced: number;
  /** Still deferred, without a final status, or never in the log when the sweep stopped waiting. */
  unsettled: number;
  /** Of those, never in the log at all. */
  lost: number;
  /** Injection rate: first to last end-of-data reply of the step (the journal's clock). */
  injectionPerSecond: number | null;
  /** Delivery rate: first to last delivery of the step's messages (the log's clock). */
  deliveryPerSecond: number | null;
  /** deliveryPerSecond / injectionPerSecond. */
  deliveryShare: number | null;
  /** The most messages injected and not yet delivered at once (the reporter's backlog curve). */
  peakBacklog: number;
  /** Injection end to the last recipient's `sent`, ms. */
  latency: { count: number; p50: number; p90: number; p99: number; max: number } | null;
  /** From the step's last injection to its last delivery, ms (negative never: clamped at 0). */
  drainMs: number | null;
  /** The sweep stopped waiting for the drain (drainTimeoutMs) with messages still unsettled. */
  drainTimedOut: boolean;
  /** The coarsest precision of the log's delivery times ('s': whole-second stamps). */
  precision: TimePrecision | undefined;
  /** Log records read during the step, and how many were the step's. */
  records: number;
  matchedRecords: number;
  /** The reporter's warnings (lost messages, whole-second stamps...). */
  warnings: string[];
}

/** Fates after which nothing more will be logged about a message. */
const SETTLED: ReadonlySet<MessageLife['fate']> = new Set(['delivered', 'deferred-then-delivered', 'bounced', 'removed', 'not-accepted']);

/** How long to wait for the follower to open the log before the step starts anyway. */
const OPEN_WAIT_MS = 2000;
const POLL_MS = 200;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Follows the log for one step: start() before the step, finish() after it. */
export class StepDelivery {
  private readonly stop = new AbortController();
  private readonly stats: FollowStats = emptyFollowStats();
  private correlator: Correlator | undefined;
  private readonly held: Parameters<Correlator['add']>[0][] = [];
  private following: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly log: SweepLogOptions,
    /** The step's journal file. */
    readonly journalPath: string,
  ) {}

  /** Starts following the log at its end; resolves once the file is open (or after 2 s). */
  async start(): Promise<void> {
    const follower = followMaillog(this.log.path, { fromEnd: true, signal: this.stop.signal, stats: this.stats, year: this.log.year, zone: this.log.zone });
    this.following = (async () => {
      try {
        for await (const r of follower) {
          if (this.correlator !== undefined) this.correlator.add(r);
          else this.held.push(r);
        }
      } catch (err) {
        this.failure = err instanceof Error ? err : new Error(String(err));
      }
    })();
    const until = performance.now() + OPEN_WAIT_MS;
    while (this.stats.files === 0 && this.failure === undefined && performance.now() < until) await sleep(10);
    if (this.failure !== undefined) throw new Error(`--log ${this.log.path}: ${this.failure.message}`);
  }

  /**
   * After the step: joins its journal to what the log said, and keeps following until every
   * accepted message has its last word, or drainTimeoutMs passes, or `signal` stops it.
   */
  async finish(injectionEndedAt: number, signal?: AbortSignal): Promise<DeliveryRecord> {
    const entries = await readJournal(this.journalPath);
    // The records read so far, then the rest as they come.
    // The journal is whole before any record goes in, so the hold only serves content filters'
    // next hops, which log before the hand-off line that names them.
    const c = new Correlator(entries);
    for (const r of this.held.splice(0)) c.add(r);
    this.correlator = c;
    const deadline = performance.now() + this.log.drainTimeoutMs;
    let result = c.result();
    let timedOut = false;
    for (;;) {
      if (result.messages.every((m) => SETTLED.has(m.fate) || m.journalStatus !== 'accepted')) break;
      if (this.failure !== undefined || signal?.aborted) break;
      if (performance.now() >= deadline) {
        timedOut = true;
        break;
      }
      await sleep(POLL_MS);
      result = c.result();
    }
    this.stop.abort();
    await this.following;
    result = c.result();
    if (this.failure !== undefined) throw new Error(`--log ${this.log.path}: ${this.failure.message}`);
    return deliveryRecord(result, this.journalPath, this.log.path, injectionEndedAt, timedOut);
  }

  /** Stops following without a record (the step failed to run). */
  async abandon(): Promise<void> {
    this.stop.abort();
    await this.following;
  }
}

/**
 * The step's delivery figures from its correlation. The delivery rate is the step's delivered
 * messages over the span from the first delivery to the last; with whole-second stamps that span
 * is known to a second either way, so it is given the benefit of one second (a step of 20 s then
 * notices a delivery rate some 10 % short of injection, a step of 60 s some 3 %).
 */
export function deliveryRecord(c: Correlation, journal: string, log: string, injectionEndedAt: number, timedOut: boolean): DeliveryRecord {
  const s = c.summary;
  const model = buildReportModel(c, { journal, logs: [log] });
  const injections: number[] = [];
  const deliveries: number[] = [];
  for (const m of c.messages) {
    if (m.journalStatus !== 'accepted') continue;
    injections.push(m.injectedAt);
    if (m.latencyMs !== undefined) deliveries.push(m.injectedAt + m.latencyMs);
  }
  const coarse = s.latencyPrecision === 's';
  const injectionPerSecond = spanRate(injections, 0);
  const deliveryPerSecond = spanRate(deliveries, coarse ? 1000 : 0);
  const lastInjection = injections.length > 0 ? Math.max(...injections) : injectionEndedAt;
  const lastDelivery = deliveries.length > 0 ? Math.max(...deliveries) : null;
  const delivered = s.delivered + s.deferredThenDelivered;
  const lat = model.latency;
  return {
    injected: s.injected,
    delivered,
    bounced: s.bounced,
    unsettled: s.deferred + s.pending + s.lost,
    lost: s.lost,
    injectionPerSecond: round(injectionPerSecond),
    deliveryPerSecond: round(deliveryPerSecond),
    deliveryShare: injectionPerSecond !== null && deliveryPerSecond !== null && injectionPerSecond > 0 ? round(deliveryPerSecond / injectionPerSecond, 4) : null,
    peakBacklog: model.timeline?.peakBacklog ?? 0,
    latency: lat === undefined ? null : { count: lat.count, p50: lat.p50, p90: lat.p90, p99: lat.p99, max: lat.max },
    drainMs: lastDelivery === null ? null : Math.max(0, Math.round(lastDelivery - lastInjection)),
    drainTimedOut: timedOut && s.deferred + s.pending + s.lost > 0,
    precision: s.latencyPrecision,
    records: s.records,
    matchedRecords: s.matchedRecords,
    warnings: model.warnings,
  };
}

/** Events per second from the first to the last (the span shortened by `slackMs`); null for fewer than two. */
function spanRate(times: readonly number[], slackMs: number): number | null {
  if (times.length < 2) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of times) (lo = Math.min(lo, t)), (hi = Math.max(hi, t));
  // Too short a span to measure (all within one whole-second stamp): unknown, not infinite.
  const span = hi - lo - slackMs;
  return span > 0 ? ((times.length - 1) * 1000) / span : null;
}

function round(x: number | null, digits = 3): number | null {
  if (x === null || !Number.isFinite(x)) return null;
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}
