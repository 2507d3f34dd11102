// The report as one self-contained HTML page: inline CSS, charts drawn here as inline SVG, no
// script, font, image or link to fetch, so it reads the same offline, attached to a CI run or
// printed. Every text taken from the model is escaped: log texts, addresses and host names are
// whatever the logs held. A Content-Security-Policy forbids scripts and requests besides.
import type { Distribution } from '../correlate/stats.js';
import type { SystemSample } from '@smtpstone/sampler';
import {
  DELAY_PARTS,
  deliveredCount,
  delaysTable,
  fatesTable,
  headline,
  latencyTable,
  missingText,
  recipientsTable,
  systemContext,
  systemTable,
  timelineTable,
  timelineTotals,
  type Table,
} from './markdown.js';
import type { LatencyPoint, ReportModel, Timeline, TimelineBucket } from './model.js';
import { AXIS_CSS, CARD_CSS, PAGE_CSS, PRINT_CSS } from './page-style.js';
import {
  areaPath,
  axisBottom,
  axisLeft,
  countAxis,
  downsample,
  durationAxis,
  elapsedAxis,
  escapeXml as esc,
  formatClock,
  formatCount,
  formatDuration,
  formatInstant,
  formatNumber,
  formatPercent,
  formatSeconds,
  legend,
  linearScale,
  linePath,
  ninesAxis,
  ninesOf,
  percentAxis,
  stackLayers,
  bandPath,
  svgChart,
  textWidth,
  type LegendItem,
  type LinearScale,
  type Tick,
} from './svg.js';

// ---------------------------------------------------------------------------------------------
// Chart geometry, in viewBox units. The charts scale with the page; 760 wide keeps 13-unit text
// at 11-13 px in the two-column layout at 1200 px, and scrolling (not shrinking) takes over on
// a phone.

const W = 760;
const LEFT = 64;
const RIGHT = 24;
/** At most this many points per series: more than the plot has pixels is only weight. */
const MAX_POINTS = 380;

interface Panel {
  height: number;
  y: { max: number; ticks: Tick[] };
  yTitle: string;
  legend: LegendItem[];
  /** The series, given the panel's scales. */
  draw: (x: LinearScale, y: LinearScale) => string;
}

/**
 * Panels stacked over one time axis (elapsed since `origin`), each with its legend above it and
 * its own y axis; only the bottom one labels the time axis.
 */
function timeChart(id: string, title: string, desc: string, spanMs: number, panels: readonly Panel[]): string {
  const LEGEND = 28;
  const GAP = 16;
  const x = linearScale([0, spanMs], [LEFT, W - RIGHT]);
  const axisX = elapsedAxis(spanMs);
  const parts: string[] = [];
  let top = 6;
  panels.forEach((p, i) => {
    const last = i === panels.length - 1;
    parts.push(legend(p.legend, LEFT, top + 10).svg);
    const y0 = top + LEGEND;
    const y1 = y0 + p.height;
    const y = linearScale([0, p.y.max], [y1, y0]);
    parts.push(axisLeft({ scale: y, ticks: p.y.ticks, at: LEFT, gridTo: W - RIGHT, title: p.yTitle, titleAt: 16 }));
    const xTitle = last ? `time since the start (${spanMs >= 3_600_000 ? 'h:mm:ss' : 'm:ss'})` : undefined;
    parts.push(axisBottom({ scale: x, ticks: axisX.ticks, at: y1, gridTo: y0, noLabels: !last, title: xTitle }));
    parts.push(p.draw(x, y));
    parts.push(`<path class="baseline" d="M${LEFT} ${y1}H${W - RIGHT}"/>`);
    top = y1 + GAP;
  });
  return svgChart({ id, width: W, height: top - GAP + 48, title, desc, body: parts.join('') });
}

const path = (cls: string, d: string): string => (d ? `<path class="${cls}" d="${d}"/>` : '');

/**
 * A dot with its value beside it: right of it when there is room, else left; above it, or below
 * where the series rises to the right (a label above would sit on the line). A label that would
 * leave the plot (`top` to `bottom`) goes to the other side: into a legend or the axis labels.
 */
function labelledDot(cls: string, px: number, py: number, text: string, tip: string, plot: { top: number; bottom: number }, below = false): string {
  const right = px + 8 + textWidth(text) < W - 4;
  const tx = right ? px + 8 : px - 8;
  const fitsBelow = py + 17 <= plot.bottom - 2;
  const fitsAbove = py - 20 >= plot.top;
  const ty = (below && fitsBelow) || !fitsAbove ? py + 17 : py - 8;
  return (
    `<circle class="dot ${cls}" cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="4"><title>${esc(tip)}</title></circle>` +
    `<text class="label" x="${tx.toFixed(1)}" y="${ty.toFixed(1)}" text-anchor="${right ? 'start' : 'end'}">${esc(text)}</text>`
  );
}

// ---------------------------------------------------------------------------------------------
// (a) Injection against delivery, and the backlog

interface Group {
  start: number;
  ms: number;
  injected: number;
  delivered: number;
  bounced: number;
  deferrals: number;
  backlog: number;
}

/** Buckets merged for drawing: counts add up, the backlog keeps its peak (so peaks stay visible). */
function mergeBuckets(bucketMs: number) {
  return (g: readonly TimelineBucket[]): Group => {
    const out: Group = { start: g[0].start, ms: g.length * bucketMs, injected: 0, delivered: 0, bounced: 0, deferrals: 0, backlog: 0 };
    for (const b of g) {
      out.injected += b.injected;
      out.delivered += b.delivered;
      out.bounced += b.bounced;
      out.deferrals += b.deferrals;
      out.backlog = Math.max(out.backlog, b.backlog);
    }
    return out;
  };
}

type CountKey = 'injected' | 'delivered' | 'bounced' | 'deferrals';

function throughputChart(t: Timeline, origin: number, spanMs: number): string {
  const groups = downsample(t.buckets, MAX_POINTS, mergeBuckets(t.bucketMs));
  const mid = groups.map((g) => g.start + g.ms / 2 - origin);
  const perSecond = (g: Group, k: CountKey): number => (g[k] * 1000) / g.ms;
  const totals = timelineTotals(t);
  const series: { key: CountKey; label: string; cls: string }[] = [
    { key: 'injected', label: 'injected', cls: 'line c-inj' },
    { key: 'delivered', label: 'delivered', cls: 'line c-del' },
  ];
  // Deferrals and bounces only get a line when there were any: an empty line is noise.
  if (totals.deferrals > 0) series.push({ key: 'deferrals', label: 'deferral lines', cls: 'line thin dash c-def' });
  if (totals.bounced > 0) series.push({ key: 'bounced', label: 'bounced', cls: 'line thin c-bnc' });
  const peakRate = Math.max(0, ...groups.flatMap((g) => series.map((s) => perSecond(g, s.key))));

  const rates: Panel = {
    height: 190,
    y: countAxis(peakRate, 4),
    yTitle: 'messages/s',
    legend: series.map((s) => ({ label: s.label, cls: s.cls, kind: 'line' as const })),
    draw: (x, y) => series.map((s) => path(s.cls, linePath(groups.map((g, i) => [x(mid[i]), y(perSecond(g, s.key))])))).join(''),
  };
  const backlog: Panel = {
    height: 90,
    y: countAxis(t.peakBacklog, 2),
    yTitle: 'backlog',
    legend: [{ label: 'backlog (in the queue)', cls: 'area c-backlog', kind: 'box' }],
    draw: (x, y) => {
      const xs = mid.map((v) => x(v));
      const ys = groups.map((g) => y(g.backlog));
      let out = path('area c-backlog', areaPath(xs, ys, y(0))) + path('line thin c-backlog', linePath(xs.map((px, i) => [px, ys[i]])));
      if (t.peakBacklog > 0 && t.peakBacklogAt !== null) {
        const at = t.peakBacklogAt - origin - t.bucketMs / 2;
        const plot = { top: y.range[1], bottom: y.range[0] };
        out += labelledDot('c-backlog', x(at), y(t.peakBacklog), `peak ${formatCount(t.peakBacklog)}`, `peak backlog at +${formatClock(t.peakBacklogAt - origin)}`, plot);
      }
      return out;
    },
  };
  const desc =
    `Messages injected and delivered per second (${formatDuration(t.bucketMs)} buckets) over ${formatDuration(spanMs)}: ` +
    `${totals.injected} injected at ${rateText(t.injectionRate)}, ${totals.delivered} delivered at ${rateText(t.deliveryRate)}; ` +
    `peak backlog ${t.peakBacklog}.`;
  return timeChart('chart-throughput', 'Injection and delivery over time', desc, spanMs, [rates, backlog]);
}

const rateText = (r: number | null): string => (r === null ? 'no measurable rate' : `${formatNumber(r)} msg/s`);

// ---------------------------------------------------------------------------------------------
// (b) The latency percentile curve on a nines axis

interface Curve {
  points: LatencyPoint[];
  marks: { name: string; percentile: number; ms: number }[];
  count: number;
}

/** The curve to draw: the model's, or one from the summary's percentiles when it has none. */
function latencyCurve(model: ReportModel): Curve | undefined {
  const h = model.latency;
  if (h && h.count > 0) {
    const marks = [
      { name: 'p50', percentile: 50, ms: h.p50 },
      { name: 'p90', percentile: 90, ms: h.p90 },
      { name: 'p99', percentile: 99, ms: h.p99 },
      { name: 'p99.9', percentile: 99.9, ms: h.p999 },
      { name: 'max', percentile: 100, ms: h.max },
    ];
    const points = h.curve.length >= 2 ? [...h.curve].sort((a, b) => a.percentile - b.percentile) : [{ percentile: 0, ms: h.min }, ...marks];
    return { points, marks, count: h.count };
  }
  const d: Distribution | undefined = model.summary.latencyMs;
  if (!d || d.count === 0) return undefined;
  const marks = [
    { name: 'p50', percentile: 50, ms: d.p50 },
    { name: 'p90', percentile: 90, ms: d.p90 },
    { name: 'p99', percentile: 99, ms: d.p99 },
    { name: 'max', percentile: 100, ms: d.max },
  ];
  return { points: [{ percentile: 0, ms: d.min }, ...marks], marks, count: d.count };
}

function latencyChart(c: Curve): string {
  const H = 300;
  const TOP = 16;
  const BOTTOM = H - 50;
  const reach = Math.max(99, ...c.points.filter((p) => p.percentile < 100).map((p) => p.percentile));
  const ax = ninesAxis(reach);
  const ay = durationAxis(Math.max(...c.points.map((p) => p.ms), ...c.marks.map((m) => m.ms)), 5);
  const x = linearScale([0, ax.max], [LEFT, W - RIGHT]);
  const y = linearScale([0, ay.max], [BOTTOM, TOP]);
  // The maximum (percentile 100) has infinite nines: it is drawn at the axis' end.
  const px = (p: number): number => x(Math.min(ninesOf(p), ax.max));
  const parts = [
    axisLeft({ scale: y, ticks: ay.ticks, at: LEFT, gridTo: W - RIGHT, title: 'latency', titleAt: 16 }),
    axisBottom({ scale: x, ticks: ax.ticks, at: BOTTOM, gridTo: TOP, title: 'percentile (log scale of 1/(1-p))' }),
    `<path class="baseline" d="M${LEFT} ${BOTTOM}H${W - RIGHT}"/>`,
    path('line c-lat', linePath(c.points.map((p) => [px(p.percentile), y(p.ms)]))),
  ];
  for (const m of c.marks) {
    // Below the dot: the curve only rises to the right, so the space under it is free.
    const plot = { top: TOP, bottom: BOTTOM };
    parts.push(labelledDot('c-lat', px(m.percentile), y(m.ms), `${m.name} ${formatDuration(m.ms)}`, `${m.name}: ${formatDuration(m.ms)}`, plot, true));
  }
  const desc = `Delivery latency of ${c.count} messages by percentile: ${c.marks.map((m) => `${m.name} ${formatDuration(m.ms)}`).join(', ')}.`;
  return svgChart({ id: 'chart-latency', width: W, height: H, title: 'Delivery latency percentiles', desc, body: parts.join('') });
}

// ---------------------------------------------------------------------------------------------
// (c) delays= a/b/c/d as stacked bars, at p50 and p99

const PART_CLASSES = ['c-a', 'c-b', 'c-c', 'c-d'];
/** Short enough for one legend row; the table beside the chart has the long names. */
const PART_LEGEND = ['a before qmgr', 'b in qmgr', 'c conn. setup', 'd transmission'];

function delaysChart(model: ReportModel): string {
  const d = model.summary.delays;
  const total = model.summary.delay;
  const rows = (['p50', 'p99'] as const).map((key) => ({
    key,
    parts: DELAY_PARTS.map((p) => d[p.key]?.[key] ?? 0),
    total: total?.[key],
  }));
  const maxS = Math.max(...rows.map((r) => Math.max(r.parts.reduce((a, b) => a + b, 0), r.total ?? 0)));
  const ax = durationAxis(maxS * 1000, 5);
  const BAR = 30;
  const TOP = 40;
  const right = W - 96; // room for the sum after the longest bar
  const x = linearScale([0, ax.max / 1000], [LEFT, right]);
  const bottom = TOP + rows.length * (BAR + 16);
  const items: LegendItem[] = PART_LEGEND.map((label, i) => ({ label, cls: `bar ${PART_CLASSES[i]}`, kind: 'box' }));
  if (total) items.push({ label: 'delay= total', cls: 'marker', kind: 'line' });
  const parts = [
    legend(items, LEFT, 14).svg,
    axisBottom({ scale: (v) => x(v / 1000), ticks: ax.ticks, at: bottom, gridTo: TOP - 6, title: "seconds (each part's own percentile)" }),
  ];
  rows.forEach((r, i) => {
    const top = TOP + i * (BAR + 16);
    parts.push(`<text class="label row" x="${LEFT - 10}" y="${top + BAR / 2}" text-anchor="end" dominant-baseline="middle">${r.key}</text>`);
    let at = 0;
    r.parts.forEach((v, k) => {
      if (v <= 0) return;
      const w = x(at + v) - x(at);
      parts.push(
        `<rect class="bar ${PART_CLASSES[k]}" x="${x(at).toFixed(1)}" y="${top}" width="${Math.max(w, 0.5).toFixed(1)}" height="${BAR}">` +
          `<title>${esc(`${DELAY_PARTS[k].label} ${r.key}: ${formatSeconds(v)}`)}</title></rect>`,
      );
      at += v;
    });
    // The sum goes after the bar and after the delay= tick, whichever ends further right.
    const end = Math.max(x(at), r.total === undefined ? 0 : x(r.total) + 2);
    parts.push(`<text class="label" x="${(end + 6).toFixed(1)}" y="${top + BAR / 2}" dominant-baseline="middle">${esc(formatSeconds(at))}</text>`);
    if (r.total !== undefined) {
      const tx = x(r.total).toFixed(1);
      parts.push(`<path class="marker" d="M${tx} ${top - 4}V${top + BAR + 4}"><title>${esc(`delay= ${r.key}: ${formatSeconds(r.total)}`)}</title></path>`);
    }
  });
  const desc = rows
    .map((r) => `${r.key}: ${DELAY_PARTS.map((p, k) => `${p.label} ${formatSeconds(r.parts[k])}`).join(', ')}`)
    .join('; ');
  return svgChart({ id: 'chart-delays', width: W, height: bottom + 50, title: 'Postfix delays= breakdown at p50 and p99', desc, body: parts.join('') });
}

// ---------------------------------------------------------------------------------------------
// (d) The system timeline: CPU stacked, PSI io and the busiest disk

interface SysPoint {
  t: number;
  user: number | null;
  system: number | null;
  other: number | null;
  iowait: number | null;
  psiSome: number | null;
  psiFull: number | null;
  util: number | null;
}

function sysPoint(s: SystemSample, origin: number, disk: string | undefined): SysPoint {
  const c = s.cpu;
  const dev = s.disks?.find((d) => d.name === disk) ?? null;
  return {
    t: s.epochMs - s.intervalMs / 2 - origin,
    user: c ? c.user ?? 0 : null,
    system: c ? c.system ?? 0 : null,
    // busy counts nice, irq, softirq and steal too: shown as one layer so the stack reaches busy.
    other: c ? Math.max(0, c.busy - (c.user ?? 0) - (c.system ?? 0)) : null,
    iowait: c ? c.iowait ?? 0 : null,
    psiSome: s.psiIo?.somePct ?? null,
    psiFull: s.psiIo?.fullPct ?? null,
    util: dev?.utilPct ?? null,
  };
}

/** Means of each field over a group of points (null when no point had it). */
function meanPoints(g: readonly SysPoint[]): SysPoint {
  const mean = (k: keyof SysPoint): number | null => {
    const xs = g.map((p) => p[k]).filter((v): v is number => v !== null);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  };
  return {
    t: mean('t') ?? 0, user: mean('user'), system: mean('system'), other: mean('other'), iowait: mean('iowait'),
    psiSome: mean('psiSome'), psiFull: mean('psiFull'), util: mean('util'),
  };
}

function systemChart(model: ReportModel, origin: number, spanMs: number): string {
  const sys = model.system!;
  const disk = sys.verdict.metrics.disk?.name;
  const pts = downsample(sys.samples.map((s) => sysPoint(s, origin, disk)), MAX_POINTS, meanPoints);
  const layers = [
    { key: 'user', label: 'user', cls: 'stack c-user' },
    { key: 'system', label: 'system', cls: 'stack c-sys' },
    { key: 'other', label: 'irq, steal, nice', cls: 'stack c-other' },
    { key: 'iowait', label: 'iowait', cls: 'stack c-iowait' },
  ] as const;
  const cpu: Panel = {
    height: 150,
    y: percentAxis(),
    yTitle: 'CPU',
    legend: layers.map((l) => ({ label: l.label, cls: l.cls, kind: 'box' as const })),
    draw: (x, y) => {
      const xs = pts.map((p) => x(p.t));
      const stacked = stackLayers(layers.map((l) => pts.map((p) => p[l.key])));
      const py = (v: number | null): number | null => (v === null ? null : y(Math.min(100, v)));
      return stacked.map((s, i) => path(layers[i].cls, bandPath(xs, s.lower.map(py), s.upper.map(py)))).join('');
    },
  };
  const lines = [
    { key: 'psiSome', label: 'PSI io some', cls: 'line c-psi-some' },
    { key: 'psiFull', label: 'PSI io full', cls: 'line thin dash c-psi-full' },
    { key: 'util', label: `${disk ?? 'disk'} util`, cls: 'line thin c-util' },
  ] as const;
  const io: Panel = {
    height: 120,
    y: percentAxis(),
    yTitle: 'I/O',
    legend: lines.map((l) => ({ label: l.label, cls: l.cls, kind: 'line' as const })),
    draw: (x, y) =>
      lines.map((l) => path(l.cls, linePath(pts.map((p) => (p[l.key] === null ? null : [x(p.t), y(Math.min(100, p[l.key]!))]))))).join(''),
  };
  const m = sys.verdict.metrics;
  const med = (s: { median: number } | null): string => (s ? formatPercent(s.median) : 'n/a');
  const desc =
    `Verdict ${sys.verdict.kind}. Medians over ${sys.samples.length} samples: CPU busy ${med(m.cpuBusyPct)}, iowait ${med(m.iowaitPct)}, ` +
    `PSI io some ${med(m.psiIoSomePct)}, full ${med(m.psiIoFullPct)}, ${disk ?? 'disk'} util ${med(m.disk?.utilPct ?? null)}.`;
  return timeChart('chart-system', 'System timeline: CPU, I/O pressure and disk', desc, spanMs, [cpu, io]);
}

// ---------------------------------------------------------------------------------------------
// Time frames: the throughput and system charts share one when their spans overlap, so the
// same x position is the same moment in both.

interface Frame {
  origin: number;
  span: number;
}

function timelineFrame(t: Timeline | undefined): Frame | undefined {
  if (!t || t.buckets.length === 0) return undefined;
  return { origin: t.start, span: t.buckets.length * t.bucketMs };
}

function samplesFrame(model: ReportModel): Frame | undefined {
  const s = model.system?.samples;
  if (!s || s.length === 0) return undefined;
  const origin = s[0].epochMs - s[0].intervalMs;
  return { origin, span: Math.max(s[s.length - 1].epochMs - origin, 1000) };
}

function frames(model: ReportModel): { timeline: Frame | undefined; system: Frame | undefined } {
  const a = timelineFrame(model.timeline);
  const b = samplesFrame(model);
  if (!a || !b || a.origin > b.origin + b.span || b.origin > a.origin + a.span) return { timeline: a, system: b };
  const origin = Math.min(a.origin, b.origin);
  const common = { origin, span: Math.max(a.origin + a.span, b.origin + b.span) - origin };
  return { timeline: common, system: common };
}

// ---------------------------------------------------------------------------------------------
// Page parts

/**
 * Rows become columns: a table of a few long rows (latency: count, min, p50... per measure) fits
 * beside a chart as a few columns.
 */
function transpose(t: Table, corner = ''): Table {
  const grid = [t.head, ...t.rows];
  const rows = t.head.slice(1).map((_, c) => grid.map((r) => r[c + 1] ?? ''));
  return { ...t, head: [corner, ...grid.slice(1).map((r) => r[0])], rows, numeric: [false, ...t.rows.map(() => true)] };
}

function htmlTable(t: Table): string {
  const cell = (tag: 'th' | 'td', text: string, i: number, scope = ''): string =>
    `<${tag}${scope}${t.numeric[i] ? ' class="num"' : ''}>${esc(text)}</${tag}>`;
  const head = `<tr>${t.head.map((h, i) => cell('th', h, i, ' scope="col"')).join('')}</tr>`;
  const rows = t.rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? cell('th', c, i, ' scope="row"') : cell('td', c, i))).join('')}</tr>`);
  const note = t.note ? `<p class="note">${esc(t.note)}</p>` : '';
  return `<div class="table"><div class="scroll"><table><caption>${esc(t.caption)}</caption><thead>${head}</thead><tbody>${rows.join('')}</tbody></table></div>${note}</div>`;
}

const missing = (text: string): string => `<p class="missing">${esc(text)}</p>`;

function figure(svg: string, caption: string): string {
  return `<figure><div class="scroll">${svg}</div><figcaption>${esc(caption)}</figcaption></figure>`;
}

/** A chart beside its numbers (stacked on narrow screens). */
const pair = (left: string, right: string): string => `<div class="pair"><div>${left}</div><div>${right}</div></div>`;

const section = (id: string, heading: string, body: string): string => `<section id="${id}"><h2>${esc(heading)}</h2>${body}</section>`;

function cards(model: ReportModel): string {
  const s = model.summary;
  const p99 = model.latency?.count ? model.latency.p99 : s.latencyMs?.p99;
  const list: [string, string, string][] = [
    ['injected', String(s.injected), ''],
    ['delivered', String(deliveredCount(model)), ''],
    ['still deferred', String(s.deferred), s.deferred > 0 ? 'warn' : ''],
    ['lost', String(s.lost), s.lost > 0 ? 'alarm' : ''],
    ['delivery p99', p99 === undefined ? '–' : formatDuration(p99), ''],
    ['verdict', model.system ? model.system.verdict.kind : 'not sampled', ''],
  ];
  if (s.bounced > 0) list.splice(3, 0, ['bounced', String(s.bounced), 'warn']);
  return `<div class="cards">${list.map(([k, v, c]) => `<div class="card ${c}"><b>${esc(v)}</b><span>${esc(k)}</span></div>`).join('')}</div>`;
}

function warnings(model: ReportModel): string {
  if (model.warnings.length === 0) return '';
  return `<section id="warnings" class="warnings"><h2>Warnings</h2><ul>${model.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></section>`;
}

function messagesSection(model: ReportModel): string {
  return section('messages', 'Messages', `<div class="tables">${htmlTable(fatesTable(model))}${htmlTable(recipientsTable(model))}</div>`);
}

function timelineSection(model: ReportModel, frame: Frame | undefined): string {
  const t = model.timeline;
  const table = timelineTable(model);
  if (!t || !frame || !table) return section('timeline', 'Injection and delivery', missing(missingText.timeline));
  const caption = `Per-second rates in ${formatDuration(t.bucketMs)} buckets from ${formatInstant(frame.origin)}; below, the messages injected but not yet delivered or bounced.`;
  return section('timeline', 'Injection and delivery', pair(figure(throughputChart(t, frame.origin, frame.span), caption), htmlTable(table)));
}

function latencySection(model: ReportModel): string {
  const curve = latencyCurve(model);
  const table = latencyTable(model);
  if (!curve) {
    return section('latency', 'Delivery latency', missing(missingText.latency(model)) + (table ? htmlTable(table) : ''));
  }
  const caption = 'Injection end to the last recipient sent. Each step right is ten times rarer: 90, 99, 99.9 % of messages were delivered within the curve\'s value there.';
  return section('latency', 'Delivery latency', pair(figure(latencyChart(curve), caption), table ? htmlTable(transpose(table)) : ''));
}

function delaysSection(model: ReportModel): string {
  const table = delaysTable(model);
  if (!table) return section('delays', 'Postfix delays= breakdown', missing(missingText.delays));
  const caption = 'Where Postfix spent the time: a before the queue manager, b waiting in it, c setting up the connection, d transmitting. Bars stack each part\'s own percentile; the black tick is the percentile of delay= itself.';
  // Beside the chart there is room for four percentiles per part; the count goes into the note.
  const counts = [...new Set(table.rows.map((r) => r[1]))];
  const narrow: Table = {
    ...table,
    head: table.head.filter((_, i) => i !== 1),
    rows: table.rows.map((r) => r.filter((_, i) => i !== 1)),
    numeric: table.numeric.filter((_, i) => i !== 1),
    note: `${counts.length === 1 ? `Of ${counts[0]} final delivery lines. ` : ''}${table.note ?? ''}`,
  };
  return section('delays', 'Postfix delays= breakdown', pair(figure(delaysChart(model), caption), htmlTable(counts.length === 1 ? narrow : table)));
}

function verdictBlock(model: ReportModel): string {
  const v = model.system!.verdict;
  const reasons = v.reasons.length ? `<ul class="reasons">${v.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : '';
  return (
    `<p class="verdict-line">Verdict: <span class="verdict v-${esc(v.kind)}">${esc(v.kind)}</span> ` +
    `<span class="note">${esc(systemContext(model) ?? '')}</span></p>${reasons}`
  );
}

function systemSection(model: ReportModel, frame: Frame | undefined): string {
  if (!model.system) return section('system', 'System', missing(missingText.system));
  const table = systemTable(model);
  const numbers = table && table.rows.length > 0 ? htmlTable(table) : '';
  if (!frame) return section('system', 'System', verdictBlock(model) + missing(missingText.noSamples) + numbers);
  const caption = `CPU time of all CPUs, stacked; PSI io: share of time some task (some) or every task (full) waited for I/O; util: share of time ${model.system.verdict.metrics.disk?.name ?? 'the disk'} had I/O in flight.`;
  return section('system', 'System', verdictBlock(model) + pair(figure(systemChart(model, frame.origin, frame.span), caption), numbers));
}

function footer(model: ReportModel): string {
  const { journal, logs, samples } = model.inputs;
  const items = [`journal ${journal}`, `log${logs.length === 1 ? '' : 's'} ${logs.join(', ') || 'none'}`];
  if (samples !== undefined) items.push(`samples ${samples}`);
  return `<footer>Generated ${esc(model.generatedAt)} by smtpstone-report from ${esc(items.join('; '))}.</footer>`;
}

// ---------------------------------------------------------------------------------------------
// The stylesheet. Colours: the Okabe-Ito palette (distinct for the common colour blindnesses).

const CSS = `
${PAGE_CSS}
.headline{font-size:1.08rem;font-weight:600;margin:.3rem 0 1rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(120px,1fr));gap:10px}
${CARD_CSS}
.warnings{border-left:4px solid #d4a72c;background:#fff8c5;padding:2px 16px 6px;margin-top:1.2rem;border-radius:4px}
.warnings h2{border:0;margin:.6rem 0 .2rem;font-size:1.05rem}
.warnings li,.reasons li{overflow-wrap:anywhere}
.pair{display:grid;grid-template-columns:minmax(0,1.7fr) minmax(300px,1fr);gap:24px;align-items:start}
.tables{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:24px;align-items:start}
@media (max-width:900px){.pair{grid-template-columns:minmax(0,1fr)}}
figure{margin:0}
.scroll{overflow-x:auto}
svg.chart{display:block;width:100%;min-width:560px;height:auto;font-size:13px;font-family:inherit}
figcaption{color:var(--muted);font-size:.85rem;margin-top:.3rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:0 0 .35rem}
th,td{padding:4px 6px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:var(--soft)}
tbody th{font-weight:normal;min-width:5.5em;overflow-wrap:break-word}
.num{text-align:right;white-space:nowrap}
thead th.num{white-space:normal}
.note{color:var(--muted);font-size:.82rem;margin:.35rem 0 0}
.missing{border:1px dashed #afb8c1;border-radius:8px;padding:14px 16px;color:var(--muted);background:var(--soft)}
.verdict-line{margin:.2rem 0 .4rem}
.verdict{display:inline-block;padding:1px 10px;border-radius:999px;font-weight:600}
.v-disk-bound{background:#ffe2c2;color:#8a4600}
.v-cpu-bound{background:#ffd8d3;color:#a40e26}
.v-not-saturated{background:#dafbe1;color:#116329}
.v-unknown{background:#eaeef2;color:#424a53}
.reasons{margin:.2rem 0 1rem;padding-left:1.3rem;font-size:.92rem}
${AXIS_CSS}
.c-inj{stroke:#0072b2;fill:#0072b2}
.c-del{stroke:#009e73;fill:#009e73}
.c-def{stroke:#e69f00;fill:#e69f00}
.c-bnc{stroke:#d55e00;fill:#d55e00}
.c-backlog{stroke:#9b4f96;fill:#cc79a7}
.c-lat{stroke:#0072b2;fill:#0072b2}
.c-user{fill:#0072b2}
.c-sys{fill:#56b4e9}
.c-other{fill:#a7b0ba}
.c-iowait{fill:#e69f00}
.c-psi-some{stroke:#d55e00;fill:#d55e00}
.c-psi-full{stroke:#7a1f00;fill:#7a1f00}
.c-util{stroke:#1f2328;fill:#1f2328}
.c-a{fill:#56b4e9}
.c-b{fill:#e69f00}
.c-c{fill:#009e73}
.c-d{fill:#0072b2}
.line{fill:none;stroke-width:2.2;stroke-linejoin:round;stroke-linecap:round}
.line.thin{stroke-width:1.5}
.dash{stroke-dasharray:6 4}
.area{stroke:none;fill-opacity:.35}
.stack{stroke:none;fill-opacity:.85}
.bar{stroke:#fff;stroke-width:1}
.marker{stroke:#1f2328;stroke-width:2.5;fill:none}
.dot{stroke:#fff;stroke-width:1.5}
${PRINT_CSS}
@media print{.pair{grid-template-columns:minmax(0,1.7fr) minmax(0,1fr)}}
`;

/** The report as one HTML page, with no outside resource: charts are inline SVG, drawn here. */
export function renderHtml(model: ReportModel): string {
  const f = frames(model);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    // Defence in depth: even if some text escaped escaping, nothing could run or be fetched.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${esc(model.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<header><h1>${esc(model.title)}</h1><p class="headline">${esc(headline(model))}</p>${cards(model)}</header>`,
    warnings(model),
    messagesSection(model),
    timelineSection(model, f.timeline),
    latencySection(model),
    delaysSection(model),
    systemSection(model, f.system),
    footer(model),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
