// Everything a rendered report shows, computed once: the terminal, Markdown and HTML renderers
// only lay it out. JSON-safe (the --json output is this object plus the per-message lives).
import type { SystemRecord } from '@smtpstone/sampler';
import type { CorrelationSummary } from '../correlate/correlate.js';

/** One interval of the run, injection against delivery (the queue backlog curve). */
export interface TimelineBucket {
  /** Epoch ms of the bucket's start. */
  start: number;
  /** Messages whose injection ended (end-of-data reply) in this bucket. */
  injected: number;
  /** Messages whose last recipient was sent in this bucket. */
  delivered: number;
  /** Messages whose last word (bounce, expiry) came in this bucket. */
  bounced: number;
  /** Deferral lines for the run's recipients in this bucket. */
  deferrals: number;
  /** Injected so far minus delivered and bounced so far, at the bucket's end: the backlog. */
  backlog: number;
}

export interface Timeline {
  bucketMs: number;
  /** Epoch ms of the first bucket's start. */
  start: number;
  buckets: TimelineBucket[];
  /** Peak backlog and when (epoch ms of the bucket's end). */
  peakBacklog: number;
  peakBacklogAt: number | null;
  /** Overall rates over the active spans, messages per second. */
  injectionRate: number | null;
  deliveryRate: number | null;
}

/** A point of the latency percentile curve (for a chart on a log-scale "nines" axis). */
export interface LatencyPoint {
  percentile: number;
  ms: number;
}

export interface LatencyHistogram {
  /** Recorded values, ms. */
  count: number;
  min: number;
  mean: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  curve: LatencyPoint[];
  /** The HDR histogram, base64 compressed (hdr-histogram-js encode), lossless for merging. */
  encoded: string;
}

export interface ReportModel {
  title: string;
  /** ISO time the report was made. */
  generatedAt: string;
  inputs: { journal: string; logs: string[]; samples: string | undefined };
  summary: CorrelationSummary;
  /** Undefined when no message had an injection time. */
  timeline: Timeline | undefined;
  /** End-to-end delivery latency; undefined when nothing was delivered. */
  latency: LatencyHistogram | undefined;
  /** The box's samples and verdict, when given. */
  system: SystemRecord | undefined;
  /** Things the reader must know (truncated journal lines, unknown log lines, lost messages). */
  warnings: string[];
}
