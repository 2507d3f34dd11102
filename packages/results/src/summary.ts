// A smtp-source result for people, in the table form smtp-source prints at the end of a run.
// The pieces (the counts and the latency table) are smtp-source's own printer's too; it adds
// what only a live run has (TLS, the schedule, the generator, the box).
import { SOURCE_PHASES, type PhaseSummaryDoc, type SourceResultDoc } from './documents.js';

/** Milliseconds with 2, 1 or 0 decimals as they grow. */
export const fmtMs = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** The counts of a result: the headline, messages and recipients, throughput, and errors if any. */
export function sourceCountLines(
  r: Pick<SourceResultDoc, 'target' | 'elapsedMs' | 'interrupted' | 'messages' | 'recipients' | 'throughput' | 'connections' | 'errors' | 'rejects'>,
  note = '',
): string[] {
  const lines: string[] = [];
  const m = r.messages;
  lines.push(`target ${r.target}: ${m.accepted} of ${m.started} messages accepted in ${(r.elapsedMs / 1000).toFixed(2)} s${note}` + (r.interrupted ? ' (interrupted)' : ''));
  lines.push(
    `  messages: sent ${m.sent}, accepted ${m.accepted}, rejected ${m.rejected}, failed ${m.failed}; ` +
      `recipients: sent ${r.recipients.sent}, accepted ${r.recipients.accepted}, rejected ${r.recipients.rejected}`,
  );
  lines.push(
    `  throughput: ${r.throughput.messagesPerSecond.toFixed(1)} msg/s, ${r.throughput.recipientsPerSecond.toFixed(1)} rcpt/s, ` +
      `${(r.throughput.bytesPerSecond / 1e6).toFixed(2)} MB/s; connections ${r.connections.opened}`,
  );
  const e = r.errors;
  const rejects = Object.entries(r.rejects)
    .map(([stage, byCode]) => `${stage} ${Object.entries(byCode).map(([c, n]) => `${c}x${n}`).join(' ')}`)
    .join(', ');
  if (e.timeouts + e.lostConnections + e.connectFailures + e.serverClosed > 0 || rejects !== '') {
    lines.push(
      `  errors: timeouts ${e.timeouts}, lost connections ${e.lostConnections}, connect failures ${e.connectFailures}, ` +
        `421/521 ${e.serverClosed}${rejects ? `; unexpected replies: ${rejects}` : ''}`,
    );
  }
  return lines;
}

export const LATENCY_HEADER = '  latency (ms)      count      p50      p90      p99    p99.9      max';

/** One row of the latency table. */
export function latencyRow(name: string, p: PhaseSummaryDoc): string {
  return `  ${name.padEnd(12)}${String(p.count).padStart(10)}` + [p.p50, p.p90, p.p99, p.p999, p.max].map((v) => fmtMs(v).padStart(9)).join('');
}

/** The rows of the phases that saw any sample, in smtp-source's order. */
export function latencyRows(latency: Partial<Record<string, PhaseSummaryDoc>>): string[] {
  return SOURCE_PHASES.filter((phase) => (latency[phase]?.count ?? 0) > 0).map((phase) => latencyRow(phase, latency[phase]!));
}

/** A result read from a file, merged or not. */
export function formatSourceResult(r: SourceResultDoc): string {
  const shards = r.merged !== undefined ? ` (${r.merged.shards} shards merged)` : '';
  const lines = [...sourceCountLines(r, shards), LATENCY_HEADER, ...latencyRows(r.latency)];
  if (r.fatal !== undefined) lines.push(`  stopped by: ${r.fatal}`);
  if (r.merged !== undefined) {
    for (const s of r.merged.sources) lines.push(`  shard ${s.file}: ${s.target}, started ${s.startedAt}, ${(s.elapsedMs / 1000).toFixed(2)} s`);
  }
  return lines.join('\n') + '\n';
}
