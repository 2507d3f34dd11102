// Turns a correlation (and, when given, the box's samples) into the ReportModel every renderer
// lays out. The numbers are computed here once, so the terminal, Markdown and HTML agree.
import type { SystemRecord } from '@smtpstone/sampler';
import type { Correlation } from '../correlate/correlate.js';
import { latencyHistogram } from './latency.js';
import type { ReportModel } from './model.js';
import { buildTimeline } from './timeline.js';

export interface BuildReportOptions {
  title?: string;
  journal: string;
  logs: string[];
  samples?: string;
  system?: SystemRecord;
  /** Journal lines skipped when reading it. */
  journalSkipped?: { truncated: number; invalid: number };
  /** Log lines the parser did not understand (counted, not fatal). */
  unknownLogLines?: number;
  /** Bucket limit for the timeline. */
  maxBuckets?: number;
  now?: Date;
}

export function buildReportModel(c: Correlation, o: BuildReportOptions): ReportModel {
  const s = c.summary;
  const latencies: number[] = [];
  for (const m of c.messages) if (m.latencyMs !== undefined) latencies.push(m.latencyMs);
  const warnings: string[] = [];
  if (s.lost > 0) warnings.push(`${s.lost} accepted message(s) never appear in the log: lost, or the log does not cover the run`);
  if (s.deferred > 0) warnings.push(`${s.deferred} message(s) were still deferred when the log ends`);
  if (s.pending > 0) warnings.push(`${s.pending} message(s) had no final status when the log ends`);
  if (s.removed > 0) warnings.push(`${s.removed} message(s) left the queue without a delivery line: removed by postsuper -d, or lines missing from the log`);
  const skipped = o.journalSkipped;
  if (skipped && skipped.truncated + skipped.invalid > 0) {
    warnings.push(`journal: ${skipped.truncated} truncated and ${skipped.invalid} unreadable line(s) skipped`);
  }
  if (o.unknownLogLines) warnings.push(`log: ${o.unknownLogLines} line(s) not understood (counted, skipped)`);
  if (s.latencyPrecision === 's') warnings.push('log stamps are whole seconds: latencies may read up to 1 s short');
  return {
    title: o.title ?? 'smtpstone delivery report',
    generatedAt: (o.now ?? new Date()).toISOString(),
    inputs: { journal: o.journal, logs: [...o.logs], samples: o.samples },
    summary: s,
    timeline: buildTimeline(c.messages, c.deferralTimes, o.maxBuckets),
    latency: latencyHistogram(latencies),
    system: o.system,
    warnings,
  };
}
