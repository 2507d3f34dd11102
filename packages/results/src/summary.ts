// A smtp-source result for people, in the table form smtp-source prints at the end of a run
// (written here, not imported: smtp-source will depend on this package).
import { SOURCE_PHASES, type SourceResultDoc } from './documents.js';

const fmtMs = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

export function formatSourceResult(r: SourceResultDoc): string {
  const lines: string[] = [];
  const m = r.messages;
  const shards = r.merged !== undefined ? ` (${r.merged.shards} shards merged)` : '';
  lines.push(`target ${r.target}: ${m.accepted} of ${m.started} messages accepted in ${(r.elapsedMs / 1000).toFixed(2)} s${shards}` + (r.interrupted ? ' (interrupted)' : ''));
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
  lines.push('  latency (ms)      count      p50      p90      p99    p99.9      max');
  for (const phase of SOURCE_PHASES) {
    const p = r.latency[phase];
    if (p === undefined || p.count === 0) continue;
    lines.push(`  ${phase.padEnd(12)}${String(p.count).padStart(10)}` + [p.p50, p.p90, p.p99, p.p999, p.max].map((v) => fmtMs(v).padStart(9)).join(''));
  }
  if (r.fatal !== undefined) lines.push(`  stopped by: ${r.fatal}`);
  if (r.merged !== undefined) {
    for (const s of r.merged.sources) lines.push(`  shard ${s.file}: ${s.target}, started ${s.startedAt}, ${(s.elapsedMs / 1000).toFixed(2)} s`);
  }
  return lines.join('\n') + '\n';
}
