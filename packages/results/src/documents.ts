// The two kinds of JSON this package reads, as far as it reads them, and how to tell them apart.
// smtp-source depends on this package and builds its result on SourceResultDoc; the report's
// shape is written out here as far as it is judged (the reporter depends on this package too).
import { readFileSync } from 'node:fs';

/**
 * smtp-source's latency phases, in its table's order (smtp-source takes this list from here).
 * `tls` and `auth` came later: results written before them lack those two.
 */
export const SOURCE_PHASES = ['connect', 'banner', 'helo', 'mail', 'rcpt', 'data', 'dot', 'rset', 'quit', 'message', 'tls', 'auth'] as const;
export type SourcePhase = (typeof SOURCE_PHASES)[number];

/** One phase of a smtp-source result: milliseconds, and the HDR histogram in microseconds. */
export interface PhaseSummaryDoc {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** HdrHistogram V2 compressed base64, values in microseconds. */
  encoded: string;
}

/** The verdict part of a sampler record (`system`), as smtp-source --sample and the report carry it. */
export interface SystemDoc {
  type: 'smtpstone-samples';
  host?: string;
  verdict: { kind: string; reasons?: string[] };
  [key: string]: unknown;
}

/** The shards a merged result was made from (absent in a single run's result). */
export interface MergedFrom {
  shards: number;
  sources: {
    file: string;
    target: string;
    startedAt: string;
    elapsedMs: number;
    runId?: string;
    /** The shard's fields a merge cannot combine (smtp-source's own load, an open model's schedule). */
    other?: Record<string, unknown>;
  }[];
}

/** smtp-source --json (SourceResult), plus `merged` once merged. */
export interface SourceResultDoc {
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
  latency: Record<SourcePhase, PhaseSummaryDoc>;
  /**
   * Open model only (--rate, --ramp, --stages): the message latency measured from each
   * message's due time instead of from its MAIL (coordinated omission corrected). `latency`
   * keeps the closed model's view.
   */
  correctedLatency?: { message: PhaseSummaryDoc };
  /** Why the run ended early: the fatal error, as the C program would have printed it. */
  fatal?: string;
  /** True when stopped by a signal or stop(). */
  interrupted: boolean;
  system?: SystemDoc;
  merged?: MergedFrom;
}

/** smtpstone-report --json (the report model and, in the file, every message), as far as it is judged. */
export interface ReportDoc {
  title?: string;
  generatedAt?: string;
  inputs?: { journal: string; logs: string[]; samples?: string };
  summary: {
    journalEntries: number;
    injected: number;
    notAccepted: number;
    found: number;
    lost: number;
    delivered: number;
    deferredThenDelivered: number;
    bounced: number;
    deferred: number;
    pending: number;
    removed: number;
    [key: string]: unknown;
  };
  timeline?: { injectionRate: number | null; deliveryRate: number | null; peakBacklog: number; [key: string]: unknown } | null;
  latency?: { count: number; min: number; mean: number; max: number; p50: number; p90: number; p99: number; p999: number; encoded: string } | null;
  system?: SystemDoc | null;
  [key: string]: unknown;
}

export type ResultKind = 'source' | 'report';

export type ResultDoc = { kind: 'source'; doc: SourceResultDoc } | { kind: 'report'; doc: ReportDoc };

/** How a kind is named in messages. */
export const KIND_NAME: Record<ResultKind, string> = {
  source: 'a smtp-source result',
  report: 'a smtpstone-report report',
};

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * What a parsed JSON document is: a smtp-source result (`smtp-source --json`, or a merge of
 * them) or a report (`smtpstone-report --json`, or the report model itself). Throws a one-line
 * error saying what it looks like otherwise; `what` names the document (a file name).
 */
export function classify(doc: unknown, what = 'the document'): ResultDoc {
  if (isObject(doc)) {
    const summary = doc.summary;
    if (isObject(summary) && typeof summary.journalEntries === 'number' && typeof summary.injected === 'number') {
      return { kind: 'report', doc: doc as unknown as ReportDoc };
    }
    const messages = doc.messages;
    const latency = doc.latency;
    if (isObject(messages) && typeof messages.started === 'number' && isObject(latency) && isObject(latency.message) && isObject(doc.throughput)) {
      return { kind: 'source', doc: doc as unknown as SourceResultDoc };
    }
    if (typeof doc.sessions === 'number' && isObject(doc.commands)) {
      throw new Error(`${what} holds smtp-sink --json counters; want smtp-source --json or smtpstone-report --json output`);
    }
    if (doc.type === 'smtpstone-samples') {
      throw new Error(`${what} holds smtpstone-sample --json samples; want smtp-source --json or smtpstone-report --json output`);
    }
  }
  throw new Error(`${what} is neither a smtp-source --json result nor a smtpstone-report --json report`);
}

/** Reads and classifies a JSON file; every failure is one line naming the file. */
export function readResultFile(path: string): ResultDoc {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a directory' : (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`${path}: not JSON${text.trim() === '' ? ' (empty)' : ''}`);
  }
  return classify(doc, path);
}
