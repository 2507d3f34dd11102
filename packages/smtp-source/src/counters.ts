// What a run counts, and the result it reports.
import type { SystemRecord } from '@smtpstone/sampler';
import type { GeneratorRecord } from './generator.js';
import type { PhaseName, PhaseSummary } from './histograms.js';
import type { ScheduleRecord } from './open-model.js';

/** Protocol stages as the errors name them. */
export type Stage = 'banner' | 'helo' | 'mail' | 'rcpt' | 'data' | 'dot' | 'rset' | 'quit';

export class SourceCounters {
  messagesStarted = 0;
  messagesSent = 0;
  messagesAccepted = 0;
  messagesRejected = 0;
  messagesFailed = 0;
  recipientsSent = 0;
  recipientsAccepted = 0;
  recipientsRejected = 0;
  /** Bytes of message content sent in DATA (headers and body, dot-stuffed, without the final "."). */
  bytesSent = 0;
  connectionsOpened = 0;
  connectFailures = 0;
  timeouts = 0;
  lostConnections = 0;
  /** 421 or 521 replies: the server closing the session. */
  serverClosed = 0;
  /** Unexpected replies by stage and code. */
  readonly rejects = new Map<Stage, Map<number, number>>();

  reject(stage: Stage, code: number): void {
    let byCode = this.rejects.get(stage);
    if (byCode === undefined) this.rejects.set(stage, (byCode = new Map()));
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
  }

  rejectsObject(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [stage, byCode] of this.rejects) {
      out[stage] = {};
      for (const [code, n] of [...byCode].sort((a, b) => a[0] - b[0])) out[stage][String(code)] = n;
    }
    return out;
  }
}

export interface SourceResult {
  target: string;
  /** The settings that shaped the run (no secrets). */
  options: Record<string, unknown>;
  startedAt: string;
  elapsedMs: number;
  messages: { started: number; sent: number; accepted: number; rejected: number; failed: number };
  recipients: { sent: number; accepted: number; rejected: number };
  bytes: number;
  connections: { opened: number; failed: number };
  errors: { timeouts: number; lostConnections: number; serverClosed: number; connectFailures: number };
  /** Unexpected replies: stage -> code -> count. */
  rejects: Record<string, Record<string, number>>;
  throughput: { messagesPerSecond: number; recipientsPerSecond: number; bytesPerSecond: number };
  /** Per phase, milliseconds. */
  latency: Record<PhaseName, PhaseSummary>;
  /**
   * Open model only (--rate, --ramp, --stages): the message latency measured from each
   * message's due time instead of from its MAIL (coordinated omission corrected). `latency`
   * keeps the closed model's view.
   */
  correctedLatency?: { message: PhaseSummary };
  /** Open model only: late starts, messages never started, sessions used, per-stage figures. */
  schedule?: ScheduleRecord;
  /** smtp-source's own event-loop delay and CPU, and whether it was the bottleneck. */
  generator?: GeneratorRecord;
  /** Why the run ended early: the fatal error, as the C program would have printed it. */
  fatal?: string;
  /** True when stopped by a signal or stop(). */
  interrupted: boolean;
  /**
   * With --sample (options.sample): this host's /proc samples from the first connect to the end
   * of the run, and the verdict on them (disk-bound, cpu-bound, not-saturated, unknown).
   */
  system?: SystemRecord;
}
