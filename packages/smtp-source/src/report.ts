// The end-of-run summary for people: counts, throughput and the latency table.
import { fmtMs, LATENCY_HEADER, latencyRow, latencyRows, sourceCountLines } from '@smtpstone/results';
import type { SeriesSummary, SystemRecord } from '@smtpstone/sampler';
import type { SourceResult } from './counters.js';
import type { GeneratorRecord } from './generator.js';
import type { ScheduleRecord } from './open-model.js';
import { formatRate } from './schedule.js';

export function formatResult(r: SourceResult): string {
  const lines = sourceCountLines(r);
  if (r.tls !== undefined) {
    const t = r.tls;
    const by = (m: Record<string, number>): string => Object.entries(m).map(([k, n]) => `${k} ${n}`).join(', ');
    lines.push(
      `  tls: ${t.handshakes} handshakes${t.handshakes > 0 ? ` (${by(t.protocols)})` : ''}, ${t.resumed} resumed (${(t.resumptionRate * 100).toFixed(0)} %), ` +
        `${t.failures} failed${t.plaintext > 0 ? `, ${t.plaintext} sessions in plaintext` : ''}${t.handshakes > 0 ? `; ciphers: ${by(t.ciphers)}` : ''}`,
    );
  }
  if (r.auth !== undefined) lines.push(`  auth: ${r.auth.mechanism}, ${r.auth.attempts} attempts, ${r.auth.succeeded} succeeded, ${r.auth.failed} failed`);
  if (r.extensions !== undefined) {
    const x = r.extensions;
    const parts: string[] = [];
    const o = r.options;
    if (o.bdat === true) parts.push(`BDAT ${x.bdatMessages} messages${x.bdatFallbacks > 0 ? `, ${x.bdatFallbacks} by DATA (CHUNKING not offered)` : ''}`);
    if (o.smtputf8 === true) parts.push(`SMTPUTF8${x.smtputf8NotOffered > 0 ? `: ${x.smtputf8NotOffered} messages failed (not offered)` : ''}`);
    if (o.size === true) parts.push(`SIZE on ${x.sizeSent} MAILs`);
    if (o.dsn === true) parts.push(`DSN on ${x.dsnSent} MAILs`);
    if (o.eightBitMime === true) parts.push(`BODY=8BITMIME on ${x.eightBitMimeSent} MAILs${x.eightBitMimeNotOffered > 0 ? `, ${x.eightBitMimeNotOffered} without (8BITMIME not offered)` : ''}`);
    lines.push(`  extensions: ${parts.join('; ')}`);
  }
  if (r.schedule !== undefined) lines.push(...scheduleLines(r, r.schedule));
  lines.push(LATENCY_HEADER, ...latencyRows(r.latency));
  if (r.correctedLatency !== undefined && r.correctedLatency.message.count > 0) {
    lines.push(latencyRow('corrected', r.correctedLatency.message));
    lines.push('  (message: from MAIL to the last end-of-data reply; corrected: from when the schedule had it due,');
    lines.push('   so waiting for a free session and a slow connect count: the latency an open stream of mail sees)');
  }
  if (r.schedule !== undefined && (r.schedule.kind === 'stages' || r.schedule.stages.length > 1)) lines.push(...stageTable(r.schedule));
  if (r.generator !== undefined) lines.push(...generatorLines(r.generator, r.schedule !== undefined));
  if (r.fatal !== undefined) lines.push(`  stopped by: ${r.fatal}`);
  if (r.system !== undefined) lines.push(...systemSection(r.system));
  return lines.join('\n') + '\n';
}

/** Open model: the schedule, the sessions it needed, late starts and messages never started. */
function scheduleLines(r: SourceResult, s: ScheduleRecord): string[] {
  const st = s.stages;
  const what =
    s.kind === 'rate'
      ? `${formatRate(st[0].fromPerSecond)}`
      : st.length === 1
        ? `${formatRate(st[0].fromPerSecond)}..${formatRate(st[0].toPerSecond)} over ${fmtSeconds(st[0].endMs - st[0].startMs)}`
        : `${st.length} stages over ${fmtSeconds(st[st.length - 1].endMs - st[0].startMs)}`;
  const lines = [`  schedule: ${what} (open model), ${s.scheduled} messages due; sessions: peak ${s.sessions.peak} of ${s.sessions.limit} (-s)`];
  const late = s.lateStarts;
  let text = `  ${late.count} of ${s.started} starts were late (no free session, > ${s.lateThresholdMs} ms)`;
  if (late.count > 0) text += `: lag p99 ${fmtMs(late.lagMs.p99)} ms, max ${fmtMs(late.lagMs.max)} ms`;
  if (late.count > 0 && s.sessions.peak >= s.sessions.limit) text += `; all ${s.sessions.limit} sessions were busy, -s allows more`;
  lines.push(text);
  if (s.notStarted > 0) lines.push(`  ${s.notStarted} due messages never started: no session came free before ${r.interrupted || r.fatal ? 'the run stopped' : 'the schedule ended'}`);
  return lines;
}

const fmtSeconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;

/** --ramp / --stages: one row per stage, its latency from the schedule. */
function stageTable(s: ScheduleRecord): string[] {
  const lines = ['  stage       rate/s     secs    due  accepted   late   acc/s  p50 ms  p99 ms  (corrected)'];
  for (const st of s.stages) {
    const rate = st.fromPerSecond === st.toPerSecond ? `${num(st.fromPerSecond)}` : `${num(st.fromPerSecond)}..${num(st.toPerSecond)}`;
    lines.push(
      `  ${String(st.stage).padStart(5)}${rate.padStart(13)}${((st.endMs - st.startMs) / 1000).toFixed(1).padStart(9)}` +
        `${String(st.scheduled).padStart(7)}${String(st.accepted).padStart(10)}${String(st.lateStarts).padStart(7)}` +
        `${st.throughput.acceptedPerSecond.toFixed(1).padStart(8)}` +
        (st.latency.count > 0 ? `${fmtMs(st.latency.p50).padStart(8)}${fmtMs(st.latency.p99).padStart(8)}` : `${'-'.padStart(8)}${'-'.padStart(8)}`),
    );
  }
  return lines;
}

const num = (v: number): string => String(Number(v.toFixed(2)));

/**
 * smtp-source's own load: a line in the open model, and in any run a warning when it was
 * saturated (its own delays then sit in every latency and cap every rate).
 */
function generatorLines(g: GeneratorRecord, openModel: boolean): string[] {
  const lines: string[] = [];
  if (openModel) {
    lines.push(
      `  generator: event-loop delay p99 ${fmtMs(g.eventLoopDelayMs.p99)} ms, max ${fmtMs(g.eventLoopDelayMs.max)} ms; ` +
        `CPU mean ${g.cpuPercent.mean.toFixed(0)} %, max ${g.cpuPercent.max.toFixed(0)} % of one core`,
    );
  }
  if (g.saturated) {
    lines.push(`  generator saturated: ${g.reasons.join('; ')}; smtp-source's own delays are in these numbers (give it a CPU of its own, or split the load over more source processes)`);
  }
  return lines;
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
