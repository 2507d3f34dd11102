// The end-of-run summary for people: counts, throughput and the latency table.
import type { SeriesSummary, SystemRecord } from '@smtpstone/sampler';
import { PHASES } from './histograms.js';
import type { SourceResult } from './counters.js';

const fmtMs = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

export function formatResult(r: SourceResult): string {
  const lines: string[] = [];
  const s = r.elapsedMs / 1000;
  const m = r.messages;
  lines.push(`target ${r.target}: ${m.accepted} of ${m.started} messages accepted in ${s.toFixed(2)} s` + (r.interrupted ? ' (interrupted)' : ''));
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
  for (const phase of PHASES) {
    const p = r.latency[phase];
    if (p.count === 0) continue;
    lines.push(
      `  ${phase.padEnd(12)}${String(p.count).padStart(10)}` +
        [p.p50, p.p90, p.p99, p.p999, p.max].map((v) => fmtMs(v).padStart(9)).join(''),
    );
  }
  if (r.fatal !== undefined) lines.push(`  stopped by: ${r.fatal}`);
  if (r.system !== undefined) lines.push(...systemSection(r.system));
  return lines.join('\n') + '\n';
}

/** "200ms", "1s", "1.5s" */
const fmtInterval = (ms: number): string => (ms < 1000 ? `${Math.round(ms)}ms` : `${Number((ms / 1000).toFixed(2))}s`);

/** A median with one decimal and its unit, or "n/a" when no sample had the signal. */
const median = (s: SeriesSummary | null | undefined, unit = ' %', digits = 1): string =>
  s ? `${s.median.toFixed(digits)}${unit}` : 'n/a';

/** --sample: this host's verdict, the medians it rests on and its reasons. */
function systemSection(rec: SystemRecord): string[] {
  const v = rec.verdict;
  const m = v.metrics;
  const n = rec.samples.length;
  const iowait = m.iowaitPct ? `${median(m.iowaitPct)} (${median(m.iowaitCpus, ' CPUs', 2)})` : median(m.iowaitCpus, ' CPUs', 2);
  const disk = m.disk ? `busiest disk ${m.disk.name} util ${median(m.disk.utilPct)}` : 'busiest disk n/a';
  return [
    `  system ${rec.host}: ${v.kind} (` +
      (n === 0 ? 'no samples: the run was too short to sample)' : `${n} sample${n === 1 ? '' : 's'} of ${fmtInterval(rec.intervalMs)})`),
    `    medians: CPU busy ${median(m.cpuBusyPct)}, iowait ${iowait}, PSI io some ${median(m.psiIoSomePct)}, ${disk}`,
    ...v.reasons.map((reason) => `    - ${reason}`),
  ];
}
