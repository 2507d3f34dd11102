// The terminal summary of a correlation: what happened to the injected messages.
import type { CorrelationSummary } from './correlate/index.js';

type Dist = { count: number; p50: number; p90: number; p99: number; max: number } | undefined;

function row(name: string, d: Dist, unit: string, scale = 1): string {
  if (d === undefined || d.count === 0) return `  ${name.padEnd(22)}${'-'.padStart(8)}`;
  const f = (v: number): string => (v * scale).toFixed(v * scale >= 100 ? 0 : 2).padStart(9);
  return `  ${name.padEnd(22)}${String(d.count).padStart(8)}${f(d.p50)}${f(d.p90)}${f(d.p99)}${f(d.max)}  ${unit}`;
}

export function formatSummary(s: CorrelationSummary): string {
  const lines = [
    `journal: ${s.journalEntries} messages (${s.injected} injected, ${s.notAccepted} refused by the server)`,
    `log: ${s.found} found (${s.joinedByQueueId} by queue id, ${s.joinedByMessageId} by Message-Id), ${s.lost} LOST (accepted, never in the log)`,
    `fate: ${s.delivered} delivered, ${s.deferredThenDelivered} of them after a deferral; ${s.bounced} bounced, ${s.deferred} still deferred, ${s.pending} pending`,
    `recipients: ${Object.entries(s.recipients).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
    `                          count      p50      p90      p99      max`,
    row('delivery latency', s.latencyMs, `s${s.latencyPrecision === 's' ? ' (log stamps in whole seconds)' : ''}`, 1 / 1000),
    row('delay=', s.delay, 's'),
    row('  before qmgr (a)', s.delays.beforeQmgr, 's'),
    row('  in qmgr (b)', s.delays.inQmgr, 's'),
    row('  connection setup (c)', s.delays.connSetup, 's'),
    row('  transmission (d)', s.delays.transmission, 's'),
  ];
  return lines.join('\n') + '\n';
}
