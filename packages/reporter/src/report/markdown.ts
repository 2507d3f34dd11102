// The report as Markdown, for a CI job summary ($GITHUB_STEP_SUMMARY). The headline, the tables
// and the sentences for missing parts are built here as plain data (cells unescaped), and the
// HTML page lays out the same data: both renderers then only escape and arrange.
import { MESSAGE_FATES, type MessageFate } from '../correlate/correlate.js';
import type { ReportModel, Timeline } from './model.js';
import { formatClock, formatDuration, formatInstant, formatNumber, formatPercent, formatSeconds } from './svg.js';

/** A table as text cells, not yet escaped for any output. */
export interface Table {
  caption: string;
  head: string[];
  rows: string[][];
  /** Columns holding numbers: right-aligned. */
  numeric: boolean[];
  /** A sentence under the table (a caveat or the context of the numbers). */
  note?: string;
}

type Dist = { count: number; min?: number; p50: number; p90: number; p99: number; p999?: number; max: number; mean?: number };

/** What each fate means, in the words of the terminal summary. */
const FATE_LABELS: Record<MessageFate, string> = {
  delivered: 'delivered',
  'deferred-then-delivered': 'delivered after a deferral',
  bounced: 'bounced or expired',
  deferred: "still deferred at the log's end",
  pending: 'pending (no final status yet)',
  removed: 'removed without a final status',
  lost: 'LOST (accepted, never in the log)',
  'not-accepted': 'refused by the server',
};

/** Messages delivered to every recipient, with or without a deferral on the way. */
export function deliveredCount(model: ReportModel): number {
  return model.summary.delivered + model.summary.deferredThenDelivered;
}

/** The delivery p99 in ms: from the histogram when there is one, else from the summary. */
function latencyP99(model: ReportModel): number | undefined {
  return model.latency?.count ? model.latency.p99 : model.summary.latencyMs?.p99;
}

/**
 * One line saying how the run went: "20000 injected, 19990 delivered, 10 deferred, 0 lost;
 * delivery p99 4.2 s; verdict: disk-bound". Rare fates appear only when they happened.
 */
export function headline(model: ReportModel): string {
  const s = model.summary;
  const counts = [`${s.injected} injected`, `${deliveredCount(model)} delivered`];
  if (s.bounced > 0) counts.push(`${s.bounced} bounced`);
  counts.push(`${s.deferred} deferred`);
  if (s.pending > 0) counts.push(`${s.pending} pending`);
  if (s.removed > 0) counts.push(`${s.removed} removed`);
  counts.push(`${s.lost} lost`);
  if (s.notAccepted > 0) counts.push(`${s.notAccepted} refused`);
  const p99 = latencyP99(model);
  const latency = p99 === undefined ? 'nothing delivered' : `delivery p99 ${formatDuration(p99)}`;
  const verdict = model.system ? `verdict: ${model.system.verdict.kind}` : 'no system samples';
  return `${counts.join(', ')}; ${latency}; ${verdict}`;
}

const share = (n: number, of: number): string => (of > 0 ? formatPercent((n / of) * 100) : '–');

/** Messages by fate, as shares of the journal's lines. */
export function fatesTable(model: ReportModel): Table {
  const s = model.summary;
  const rows = MESSAGE_FATES.map((f) => [FATE_LABELS[f], String(s.fates[f] ?? 0), share(s.fates[f] ?? 0, s.journalEntries)]);
  rows.push(['journal entries', String(s.journalEntries), share(s.journalEntries, s.journalEntries)]);
  return {
    caption: 'Messages by fate',
    head: ['Fate', 'Messages', 'Share'],
    rows,
    numeric: [false, true, true],
    note:
      `${s.injected} injected, ${s.notAccepted} refused by the server; log: ${s.found} found ` +
      `(${s.joinedByQueueId} by queue id, ${s.joinedByMessageId} by Message-Id), ${s.lost} lost; ` +
      `${s.records} log records read, ${s.matchedRecords} about this run's messages.`,
  };
}

/** Recipients of the messages found in the log, by their last status. */
export function recipientsTable(model: ReportModel): Table {
  const s = model.summary;
  const entries = Object.entries(s.recipients).sort((a, b) => b[1] - a[1]);
  const rows = entries.map(([status, n]) => [status, String(n)]);
  if (rows.length === 0) rows.push(['none', '0']);
  rows.push(['deferred at least once', String(s.recipientsDeferredOnce)]);
  return {
    caption: 'Recipients by last status',
    head: ['Status', 'Recipients'],
    rows,
    numeric: [false, true],
    note: '"deferred" is a last word that was a deferral; "none" is a recipient with no delivery line.',
  };
}

function distRow(name: string, d: Dist | undefined, ms: (v: number) => string): string[] {
  if (d === undefined || d.count === 0) return [name, '0', '–', '–', '–', '–', '–', '–', '–'];
  const opt = (v: number | undefined): string => (v === undefined ? '–' : ms(v));
  return [name, String(d.count), opt(d.min), ms(d.p50), ms(d.p90), ms(d.p99), opt(d.p999), ms(d.max), opt(d.mean)];
}

/** End-to-end latency (injection to last `sent`) next to Postfix's own delay=. */
export function latencyTable(model: ReportModel): Table | undefined {
  const s = model.summary;
  const latency: Dist | undefined = model.latency?.count ? model.latency : s.latencyMs;
  if (latency === undefined && s.delay === undefined) return undefined;
  return {
    caption: 'Delivery latency',
    head: ['', 'count', 'min', 'p50', 'p90', 'p99', 'p99.9', 'max', 'mean'],
    rows: [
      distRow('injection to last sent', latency, formatDuration),
      distRow('delay= (arrival to delivery)', s.delay, formatSeconds),
    ],
    numeric: [false, true, true, true, true, true, true, true, true],
    note:
      s.latencyPrecision === 's'
        ? 'The log stamps whole seconds: latencies may read up to 1 s short.'
        : 'Injection end (the 250 reply) to the final sent line of the last recipient.',
  };
}

/** The four parts of delays= in the order Postfix logs them. */
export const DELAY_PARTS = [
  { key: 'beforeQmgr', label: 'before qmgr (a)' },
  { key: 'inQmgr', label: 'in qmgr (b)' },
  { key: 'connSetup', label: 'connection setup (c)' },
  { key: 'transmission', label: 'transmission (d)' },
] as const;

/** delays=a/b/c/d of the final delivery lines, each part's own percentiles. */
export function delaysTable(model: ReportModel): Table | undefined {
  const d = model.summary.delays;
  if (DELAY_PARTS.every((p) => d[p.key] === undefined)) return undefined;
  return {
    caption: 'Postfix delays= breakdown',
    head: ['part', 'count', 'p50', 'p90', 'p99', 'max'],
    rows: DELAY_PARTS.map((p) => {
      const x = d[p.key];
      return x ? [p.label, String(x.count), ...[x.p50, x.p90, x.p99, x.max].map(formatSeconds)] : [p.label, '0', '–', '–', '–', '–'];
    }),
    numeric: [false, true, true, true, true, true],
    note: "Each part's own percentiles: they do not add up to delay='s. Big a: slow upload or queue-file sync; b: qmgr backlog; c: DNS, connect, TLS; d: the receiver.",
  };
}

/** Totals over the timeline's buckets. */
export function timelineTotals(t: Timeline): { injected: number; delivered: number; bounced: number; deferrals: number } {
  const sum = { injected: 0, delivered: 0, bounced: 0, deferrals: 0 };
  for (const b of t.buckets) {
    sum.injected += b.injected;
    sum.delivered += b.delivered;
    sum.bounced += b.bounced;
    sum.deferrals += b.deferrals;
  }
  return sum;
}

const rate = (r: number | null): string => (r === null ? '–' : `${formatNumber(r)} msg/s`);

/** The injection-against-delivery curve in numbers: rates and the peak backlog. */
export function timelineTable(model: ReportModel): Table | undefined {
  const t = model.timeline;
  if (t === undefined) return undefined;
  const sum = timelineTotals(t);
  const span = t.buckets.length * t.bucketMs;
  const last = t.buckets[t.buckets.length - 1];
  const peakAt = t.peakBacklogAt === null ? '' : ` at +${formatClock(t.peakBacklogAt - t.start)}`;
  return {
    caption: 'Injection and delivery',
    head: ['', 'value'],
    rows: [
      ['start', formatInstant(t.start)],
      ['span', `${formatDuration(span)} in ${t.buckets.length} buckets of ${formatDuration(t.bucketMs)}`],
      ['injected', String(sum.injected)],
      ['injection rate', rate(t.injectionRate)],
      ['delivered', String(sum.delivered)],
      ['delivery rate', rate(t.deliveryRate)],
      ['bounced', String(sum.bounced)],
      ['deferral lines', String(sum.deferrals)],
      ['peak backlog', `${t.peakBacklog}${peakAt}`],
      ['backlog at the end', String(last?.backlog ?? 0)],
    ],
    numeric: [false, true],
    note: 'Rates are over the active spans; the backlog is injected minus delivered and bounced so far.',
  };
}

/** A line under the verdict: how much was sampled, where. */
export function systemContext(model: ReportModel): string | undefined {
  const sys = model.system;
  if (!sys) return undefined;
  const m = sys.verdict.metrics;
  const cpus = m.cpuCount === null ? '' : `, ${m.cpuCount} CPUs`;
  const rule = { psi: 'PSI', fallback: 'iowait and %util (no PSI)', mixed: 'PSI in some samples', none: 'none' }[m.diskRule];
  return `${sys.samples.length} samples every ${formatDuration(sys.intervalMs)} on ${sys.host}${cpus}; disk rule: ${rule}.`;
}

/** The verdict's evidence: medians, means and maxima of the sampled signals. */
export function systemTable(model: ReportModel): Table | undefined {
  const sys = model.system;
  if (!sys) return undefined;
  const m = sys.verdict.metrics;
  type S = { median: number; mean: number; max: number } | null | undefined;
  const rows: string[][] = [];
  const add = (name: string, s: S, f: (v: number) => string): void => {
    if (s) rows.push([name, f(s.median), f(s.mean), f(s.max)]);
  };
  add('CPU busy', m.cpuBusyPct, formatPercent);
  add('CPU user', m.userPct, formatPercent);
  add('CPU system', m.systemPct, formatPercent);
  add('CPU iowait', m.iowaitPct, formatPercent);
  add('iowait in CPUs', m.iowaitCpus, formatNumber);
  add('CPU idle', m.idlePct, formatPercent);
  add('CPU steal', m.stealPct, formatPercent);
  add('PSI io some', m.psiIoSomePct, formatPercent);
  add('PSI io full', m.psiIoFullPct, formatPercent);
  add('PSI cpu some', m.psiCpuSomePct, formatPercent);
  add('processes blocked', m.procsBlocked, formatNumber);
  add('load 1 min', m.load1, formatNumber);
  const d = m.disk;
  if (d) {
    add(`${d.name} util`, d.utilPct, formatPercent);
    add(`${d.name} aqu-sz`, d.aquSz, formatNumber);
    add(`${d.name} await`, d.awaitMs, formatDuration);
    add(`${d.name} w_await`, d.wAwaitMs, formatDuration);
    add(`${d.name} f_await`, d.fAwaitMs, formatDuration);
    add(`${d.name} writes`, d.wPerSec, (v) => `${formatNumber(v)}/s`);
    add(`${d.name} written`, d.wkBPerSec, (v) => `${formatNumber(v / 1024)} MB/s`);
  }
  return { caption: 'System signals', head: ['signal', 'median', 'mean', 'max'], rows, numeric: [false, true, true, true] };
}

/** Sentences for the parts a model may lack: what is missing, and how to get it. */
export const missingText = {
  timeline: 'No timeline: no message in the journal has an injection time. Pass the journal smtp-source wrote for this run (--journal).',
  latency(model: ReportModel): string {
    const s = model.summary;
    if (s.injected === 0) return 'No latency: nothing was injected (the journal holds no accepted message).';
    if (s.found === 0) {
      return 'No latency: none of the injected messages was found in the log. Check that --log is the MTA\'s log of this run and that --zone and --year match its clock.';
    }
    return 'No latency: no message had every recipient sent yet (see the fates above); a longer log may show the deliveries.';
  },
  delays: 'No delays= breakdown: no final delivery line carried delays=.',
  system: 'No system samples: run smtp-source with --sample, or pass --samples FILE (smtpstone-sample --json output).',
  noSamples: 'The system record holds no samples: the sampler stopped before its first interval ended.',
};

// ---------------------------------------------------------------------------------------------
// Markdown

/**
 * Text from the model (log texts, addresses, host names) made inert in Markdown: one line, and
 * the characters GitHub's Markdown gives a meaning inside a line backslash-escaped: emphasis,
 * code, links (`[`, `]`; parentheses mean nothing without them), strikethrough, entities, `|`
 * (a table cell would end there) and `<` (no raw HTML passes). What means something only at a
 * line's start (list markers, headings, quotes) is escaped there, so a list item cannot turn
 * into a nested list.
 */
export function markdownText(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/[\\`*_[\]|<>~&]/g, '\\$&')
    .replace(/^(\s*)([-+=#])/, '$1\\$2')
    .replace(/^(\s*\d{1,9})([.)])(?=\s|$)/, '$1\\$2');
}

/** A GFM table; every cell escaped. */
export function markdownTable(t: Table): string {
  const line = (cells: readonly string[]): string => `| ${cells.map((c) => markdownText(c)).join(' | ')} |`;
  const rule = `|${t.head.map((_, i) => (t.numeric[i] ? ' --: ' : ' :-- ')).join('|')}|`;
  return [line(t.head), rule, ...t.rows.map(line)].join('\n');
}

function tableSection(heading: string, t: Table | undefined, missing: string): string[] {
  const out = [`## ${heading}`, ''];
  if (t === undefined) return [...out, `_${markdownText(missing)}_`, ''];
  out.push(markdownTable(t), '');
  if (t.note) out.push(`<sub>${markdownText(t.note)}</sub>`, '');
  return out;
}

function systemSection(model: ReportModel): string[] {
  const sys = model.system;
  if (!sys) return ['## System', '', `_${markdownText(missingText.system)}_`, ''];
  const out = [`## System: ${markdownText(sys.verdict.kind)}`, '', markdownText(systemContext(model) ?? ''), ''];
  for (const r of sys.verdict.reasons) out.push(`- ${markdownText(r)}`);
  out.push('');
  const t = systemTable(model);
  if (t && t.rows.length > 0) out.push(markdownTable(t), '');
  return out;
}

/** Warnings beyond this many are counted, not listed: a job summary is capped at 1 MiB. */
const MAX_WARNINGS = 100;

function warningsSection(warnings: readonly string[]): string[] {
  if (warnings.length === 0) return [];
  const out = ['## Warnings', ''];
  for (const w of warnings.slice(0, MAX_WARNINGS)) out.push(`- ${markdownText(w)}`);
  if (warnings.length > MAX_WARNINGS) out.push(`- … and ${warnings.length - MAX_WARNINGS} more (see the HTML report or --json)`);
  return [...out, ''];
}

function inputsLine(model: ReportModel): string {
  const { journal, logs, samples } = model.inputs;
  const parts = [`journal ${markdownText(journal)}`, `log${logs.length === 1 ? '' : 's'} ${logs.map(markdownText).join(', ') || 'none'}`];
  if (samples !== undefined) parts.push(`samples ${markdownText(samples)}`);
  return `<sub>Generated ${markdownText(model.generatedAt)} from ${parts.join('; ')}.</sub>`;
}

/** The report as GitHub-flavoured Markdown: headline, warnings, tables, verdict. */
export function renderMarkdown(model: ReportModel): string {
  const lines = [
    `# ${markdownText(model.title)}`,
    '',
    `**${markdownText(headline(model))}**`,
    '',
    ...warningsSection(model.warnings),
    '## Messages',
    '',
    markdownTable(fatesTable(model)),
    '',
    `<sub>${markdownText(fatesTable(model).note ?? '')}</sub>`,
    '',
    markdownTable(recipientsTable(model)),
    '',
    ...tableSection('Delivery latency', latencyTable(model), missingText.latency(model)),
    ...tableSection('Postfix delays= breakdown', delaysTable(model), missingText.delays),
    ...tableSection('Injection and delivery', timelineTable(model), missingText.timeline),
    ...systemSection(model),
    inputsLine(model),
    '',
  ];
  return lines.join('\n');
}
