// The terminal report: what happened to the injected messages, how fast the MTA drained them,
// where the time went, and whether the box was the bottleneck.
import type { Distribution } from '../correlate/stats.js';
import type { LatencyHistogram, ReportModel } from './model.js';

const HEAD = `  ${''.padEnd(24)}${'count'.padStart(8)}${'p50'.padStart(9)}${'p90'.padStart(9)}${'p99'.padStart(9)}${'p99.9'.padStart(9)}${'max'.padStart(9)}`;

function num(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-'.padStart(9);
  return v.toFixed(v >= 100 ? 0 : 2).padStart(9);
}

function distRow(name: string, d: Distribution | undefined, unit: string): string {
  if (d === undefined || d.count === 0) return `  ${name.padEnd(24)}${'-'.padStart(8)}`;
  return `  ${name.padEnd(24)}${String(d.count).padStart(8)}${num(d.p50)}${num(d.p90)}${num(d.p99)}${num(undefined)}${num(d.max)}  ${unit}`;
}

function latencyRow(h: LatencyHistogram | undefined, wholeSeconds: boolean): string {
  if (h === undefined) return `  ${'delivery latency'.padEnd(24)}${'-'.padStart(8)}  (nothing delivered)`;
  const s = (ms: number): string => num(ms / 1000);
  return `  ${'delivery latency'.padEnd(24)}${String(h.count).padStart(8)}${s(h.p50)}${s(h.p90)}${s(h.p99)}${s(h.p999)}${s(h.max)}  s${wholeSeconds ? ' (log stamps in whole seconds)' : ''}`;
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function rate(r: number | null): string {
  return r === null ? '-' : r >= 100 ? r.toFixed(0) : r.toFixed(1);
}

const pct = (v: number | undefined | null): string => (v === undefined || v === null ? '-' : `${v.toFixed(v < 10 ? 1 : 0)}%`);

export function formatReport(m: ReportModel): string {
  const s = m.summary;
  const lines = [
    `journal: ${s.journalEntries} messages (${s.injected} injected, ${s.notAccepted} refused by the server)`,
    `log: ${s.found} found (${s.joinedByQueueId} by queue id, ${s.joinedByMessageId} by Message-Id), ${s.lost} LOST (accepted, never in the log)`,
    `fate: ${s.delivered} delivered, ${s.deferredThenDelivered} delivered after a deferral, ${s.bounced} bounced, ${s.deferred} still deferred, ${s.pending} pending, ${s.removed} removed`,
    `recipients: ${Object.entries(s.recipients).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}${s.recipientsDeferredOnce ? ` (${s.recipientsDeferredOnce} deferred at least once)` : ''}`,
  ];
  const t = m.timeline;
  if (t) {
    const peak = t.peakBacklogAt === null ? '' : ` at ${clock(t.peakBacklogAt)}Z`;
    lines.push(
      `timeline: injected ${rate(t.injectionRate)}/s, delivered ${rate(t.deliveryRate)}/s; peak backlog ${t.peakBacklog}${peak}; ${t.buckets.length} buckets of ${t.bucketMs / 1000} s`,
    );
  }
  lines.push(
    HEAD,
    latencyRow(m.latency, s.latencyPrecision === 's'),
    distRow('delay=', s.delay, 's'),
    distRow('  before qmgr (a)', s.delays.beforeQmgr, 's'),
    distRow('  in qmgr (b)', s.delays.inQmgr, 's'),
    distRow('  connection setup (c)', s.delays.connSetup, 's'),
    distRow('  transmission (d)', s.delays.transmission, 's'),
  );
  const sys = m.system;
  if (sys) {
    const v = sys.verdict;
    const x = v.metrics;
    lines.push(
      `system: ${v.kind.toUpperCase()} (${sys.samples.length} samples of ${sys.intervalMs / 1000} s on ${sys.host})`,
      ...v.reasons.map((r) => `  - ${r}`),
      `  medians: cpu busy ${pct(x.cpuBusyPct?.median)}, iowait ${pct(x.iowaitPct?.median)}, PSI io some ${pct(x.psiIoSomePct?.median)}` +
        (x.disk ? `, ${x.disk.name} util ${pct(x.disk.utilPct?.median)}` : ''),
    );
  }
  for (const w of m.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n') + '\n';
}
