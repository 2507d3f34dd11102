// Small SVG chart primitives for the HTML report: escaping, number and duration formatting,
// linear scales with "nice" ticks, the nines axis of latency curves, path building and axes.
// Everything returns plain strings, so the page is drawn on the server and needs no script.
// Colours and fonts are left to CSS classes (the page's stylesheet), so charts follow its theme.

/** Text for HTML or SVG content and attribute values (log texts and addresses are untrusted). */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// ---------------------------------------------------------------------------------------------
// Numbers

/** `x` with at most `digits` decimals, trailing zeros dropped: (4.20, 2) -> "4.2". */
export function trimFixed(x: number, digits: number): string {
  const s = x.toFixed(Math.max(0, Math.min(20, digits)));
  const trimmed = s.includes('.') ? s.replace(/\.?0+$/, '') : s;
  return trimmed === '-0' ? '0' : trimmed;
}

/** About three significant digits, never exponent notation: 0.0421, 4.21, 42.1, 421, 42100. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a === 0) return '0';
  if (a >= 100) return String(Math.round(x));
  // Digits after the point so that three significant ones show (capped: 0.000001 is noise here).
  const digits = Math.min(6, 2 - Math.floor(Math.log10(a)));
  return trimFixed(x, digits);
}

/** A count with thin grouping, for labels where 20000 reads worse than 20 000: 1234567 -> "1 234 567". */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009');
}

/** A percentage for tables and labels: "42 %", "4.2 %", "0.42 %". */
export function formatPercent(x: number): string {
  return Number.isFinite(x) ? `${formatNumber(x)} %` : '–';
}

const DURATION_UNITS: readonly { name: string; ms: number; upTo: number }[] = [
  { name: 'ms', ms: 1, upTo: 1000 },
  { name: 's', ms: 1000, upTo: 60 },
  { name: 'min', ms: 60_000, upTo: 60 },
  { name: 'h', ms: 3_600_000, upTo: 48 },
  { name: 'd', ms: 86_400_000, upTo: Infinity },
];

/** A duration in the unit that reads best: "0.42 ms", "850 ms", "4.2 s", "2.08 min", "3.5 h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms === 0) return '0 s';
  for (const u of DURATION_UNITS) {
    const text = formatNumber(ms / u.ms);
    // Compare the rounded text, so 999.7 ms becomes "1 s" rather than "1000 ms".
    if (Math.abs(Number(text)) < u.upTo) return `${text} ${u.name}`;
  }
  return `${formatNumber(ms / 86_400_000)} d`; // not reached: days have no upper bound
}

/** Postfix's delays= and delay= are in seconds. */
export const formatSeconds = (s: number): string => formatDuration(s * 1000);

/** Elapsed time on a clock face: "0:05", "12:30", "1:02:03"; `withHours` keeps columns aligned. */
export function formatClock(ms: number, withHours = ms >= 3_600_000): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return withHours ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** An epoch-ms instant as "2026-11-24 21:12:34 UTC" (the report mixes hosts: UTC avoids guessing). */
export function formatInstant(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

// ---------------------------------------------------------------------------------------------
// Scales and ticks

export interface LinearScale {
  (v: number): number;
  readonly domain: readonly [number, number];
  readonly range: readonly [number, number];
}

/** Maps the domain linearly onto the range; a flat domain maps everything to the range's start. */
export function linearScale(domain: readonly [number, number], range: readonly [number, number]): LinearScale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  const f = (v: number): number => r0 + (v - d0) * k;
  return Object.assign(f, { domain: [d0, d1] as const, range: [r0, r1] as const });
}

export interface Tick {
  value: number;
  label: string;
}

export interface Ticks {
  min: number;
  max: number;
  step: number;
  values: number[];
}

/** The smallest of 1, 2, 5 x 10^k at or above `rough` (so at most the asked number of intervals). */
export function niceStep(rough: number): number {
  if (!(rough > 0) || !Number.isFinite(rough)) return 1;
  const pow = 10 ** Math.floor(Math.log10(rough));
  const f = rough / pow;
  // The tolerance keeps 2.0000000001 (float noise from a division) a 2.
  const m = f <= 1 + 1e-9 ? 1 : f <= 2 + 1e-9 ? 2 : f <= 5 + 1e-9 ? 5 : 10;
  return m * pow;
}

/**
 * Ticks at round numbers covering [min, max] in at most `count` intervals; the bounds are widened
 * to whole steps. A flat range is widened to include zero (charts here are of counts and times).
 */
export function niceTicks(min: number, max: number, count = 5): Ticks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return { min: 0, max: 1, step: 1, values: [0, 1] };
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    if (min === 0) max = 1;
    else if (min > 0) min = 0;
    else max = 0;
  }
  const step = niceStep((max - min) / Math.max(1, count));
  // Decimals of the step, to print 0.3 rather than 0.30000000000000004.
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const round = (v: number): number => Number(v.toFixed(Math.min(20, decimals)));
  const lo = round(Math.floor(min / step + 1e-9) * step);
  const hi = round(Math.ceil(max / step - 1e-9) * step);
  const values: number[] = [];
  for (let i = 0; lo + i * step <= hi + step * 1e-9; i++) values.push(round(lo + i * step));
  return { min: lo, max: hi, step, values };
}

/** Ticks from zero for a count axis: "0", "500", "1000"... */
export function countAxis(max: number, count = 4): { max: number; ticks: Tick[] } {
  const t = niceTicks(0, max, count);
  return { max: t.max, ticks: t.values.map((v) => ({ value: v, label: formatNumber(v) })) };
}

/** Ticks from zero for a percentage axis that ends at 100. */
export function percentAxis(): { max: number; ticks: Tick[] } {
  return { max: 100, ticks: [0, 25, 50, 75, 100].map((v) => ({ value: v, label: `${v} %` })) };
}

/**
 * Ticks from zero for a duration axis, in one unit for the whole axis (ms, s, min or h, by the
 * largest value) so labels are comparable: "0", "1 s", "2 s". Values and `max` stay in ms.
 */
export function durationAxis(maxMs: number, count = 5): { max: number; unit: string; ticks: Tick[] } {
  const unit =
    maxMs < 1000 ? { name: 'ms', ms: 1 } : maxMs < 120_000 ? { name: 's', ms: 1000 } : maxMs < 7_200_000 ? { name: 'min', ms: 60_000 } : { name: 'h', ms: 3_600_000 };
  const t = niceTicks(0, maxMs / unit.ms, count);
  return {
    max: t.max * unit.ms,
    unit: unit.name,
    ticks: t.values.map((v) => ({ value: v * unit.ms, label: v === 0 ? '0' : `${trimFixed(v, 6)} ${unit.name}` })),
  };
}

/** Steps a time axis may use, ms: round numbers of seconds, minutes and hours. */
const CLOCK_STEPS = [
  100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
  1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/**
 * Ticks for elapsed time since the run's start, at clock-friendly steps ("0:00", "0:30", "1:00").
 * The axis ends at `spanMs` itself: a time axis has no reason to run past the data.
 */
export function elapsedAxis(spanMs: number, count = 6): { max: number; ticks: Tick[] } {
  const span = spanMs > 0 && Number.isFinite(spanMs) ? spanMs : 1000;
  const step = CLOCK_STEPS.find((s) => span / s <= count) ?? Math.ceil(span / count / 86_400_000) * 86_400_000;
  const withHours = span >= 3_600_000;
  const ticks: Tick[] = [];
  for (let v = 0; v <= span + 1e-6; v += step) {
    ticks.push({ value: v, label: step < 1000 ? `${trimFixed(v / 1000, 1)} s` : formatClock(v, withHours) });
  }
  return { max: span, ticks };
}

// ---------------------------------------------------------------------------------------------
// The nines axis: percentiles spread so the tail gets as much room as the body.

/** log10(1 / (1 - p)): 0 -> 0, 90 -> 1, 99 -> 2, 99.9 -> 3; 100 (the maximum) -> Infinity. */
export function ninesOf(percentile: number): number {
  if (percentile >= 100) return Infinity;
  if (!(percentile > 0)) return 0;
  return Math.log10(100 / (100 - percentile));
}

/** The percentile at a whole number of nines: 0 -> "0", 1 -> "90", 3 -> "99.9", 4 -> "99.99". */
export function ninesLabel(nines: number): string {
  if (nines <= 0) return '0';
  return trimFixed(100 - 100 / 10 ** nines, Math.max(0, nines - 2));
}

/**
 * The nines axis for a curve reaching `maxPercentile` (below 100): whole nines from 0 up to the
 * first at or past it, at least to 99, at most to 99.9999 (past that a run has too few values).
 */
export function ninesAxis(maxPercentile: number): { max: number; ticks: Tick[] } {
  const reach = ninesOf(Math.min(maxPercentile, 99.9999));
  const max = Math.min(6, Math.max(2, Math.ceil(reach - 1e-9)));
  const ticks: Tick[] = [];
  for (let n = 0; n <= max; n++) ticks.push({ value: n, label: ninesLabel(n) });
  return { max, ticks };
}

// ---------------------------------------------------------------------------------------------
// Paths

export type Point = readonly [number, number];

/** Pixel coordinates to a tenth: enough on any screen, and it keeps long paths short. */
const coord = (v: number): string => trimFixed(v, 1);

/**
 * A polyline through the points; null breaks it (a gap in the data is not a straight line). An
 * isolated point becomes a zero-length segment, which a round line cap draws as a dot.
 */
export function linePath(points: readonly (Point | null)[]): string {
  const parts: string[] = [];
  let run = 0;
  const closeRun = (): void => {
    if (run === 1) parts.push('h0');
    run = 0;
  };
  for (const p of points) {
    if (p === null || !Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
      closeRun();
      continue;
    }
    parts.push(`${run === 0 ? 'M' : 'L'}${coord(p[0])} ${coord(p[1])}`);
    run++;
  }
  closeRun();
  return parts.join('');
}

/**
 * The region between two lines at the same x positions (a stacked layer), as closed shapes, one
 * per run of indices where both are known. Runs of one point have no area and are left out.
 */
export function bandPath(xs: readonly number[], lower: readonly (number | null)[], upper: readonly (number | null)[]): string {
  const shapes: string[] = [];
  let run: number[] = [];
  const flush = (): void => {
    if (run.length >= 2) {
      const top = run.map((i, k) => `${k === 0 ? 'M' : 'L'}${coord(xs[i])} ${coord(upper[i]!)}`);
      const bottom = [...run].reverse().map((i) => `L${coord(xs[i])} ${coord(lower[i]!)}`);
      shapes.push(top.join('') + bottom.join('') + 'Z');
    }
    run = [];
  };
  for (let i = 0; i < xs.length; i++) {
    const ok = lower[i] != null && upper[i] != null && Number.isFinite(lower[i]) && Number.isFinite(upper[i]);
    if (ok) run.push(i);
    else flush();
  }
  flush();
  return shapes.join('');
}

/** The area under a line down to a baseline (pixel y). */
export function areaPath(xs: readonly number[], ys: readonly (number | null)[], baseline: number): string {
  return bandPath(xs, ys.map((y) => (y === null ? null : baseline)), ys);
}

/**
 * Stacks layers bottom-up: for each layer its lower and upper edge per index. A null value is a
 * layer of no height there (the CPU lacked that field); null in every layer at an index (no
 * sample) leaves the whole stack null there, so the bands break instead of dropping to zero.
 */
export function stackLayers(layers: readonly (readonly (number | null)[])[]): { lower: (number | null)[]; upper: (number | null)[] }[] {
  const n = layers[0]?.length ?? 0;
  const known = Array.from({ length: n }, (_, i) => layers.some((l) => l[i] != null));
  const base = new Array<number>(n).fill(0);
  return layers.map((layer) => {
    const lower: (number | null)[] = [];
    const upper: (number | null)[] = [];
    for (let i = 0; i < n; i++) {
      const v = layer[i];
      lower.push(known[i] ? base[i] : null);
      if (known[i] && v != null) base[i] += v;
      upper.push(known[i] ? base[i] : null);
    }
    return { lower, upper };
  });
}

/**
 * Merges consecutive items so at most `max` remain (a day of 1-second buckets is more points than
 * a chart has pixels). `merge` gets each group; groups are equal-sized but for the last.
 */
export function downsample<T, U>(items: readonly T[], max: number, merge: (group: readonly T[]) => U): U[] {
  const size = Math.max(1, Math.ceil(items.length / Math.max(1, max)));
  const out: U[] = [];
  for (let i = 0; i < items.length; i += size) out.push(merge(items.slice(i, i + size)));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Axes, legend and the chart element

/** Rough width of a label in the chart's font (no measuring on the server): for layout only. */
export function textWidth(text: string, fontSize = 12): number {
  return text.length * fontSize * 0.58;
}

export interface AxisOptions {
  /** Maps values to pixels along the axis. */
  scale: (v: number) => number;
  ticks: readonly Tick[];
  /** Where the axis line sits across it (x for a left axis, y for a bottom axis). */
  at: number;
  /** Grid lines run across the plot to here (y of the top for a bottom axis, x of the right for a left axis). */
  gridTo?: number;
  /** Shown along the axis (rotated for a left axis). */
  title?: string;
  /** Where the title goes across the axis. */
  titleAt?: number;
  /** Labels are left out (a panel sharing the x axis of the one below it). */
  noLabels?: boolean;
}

/** A vertical axis on the left of a plot: labels right-aligned against it, horizontal grid lines. */
export function axisLeft(o: AxisOptions): string {
  const parts = ['<g class="axis axis-y">'];
  for (const t of o.ticks) {
    const y = coord(o.scale(t.value));
    if (o.gridTo !== undefined) parts.push(`<line class="grid" x1="${coord(o.at)}" x2="${coord(o.gridTo)}" y1="${y}" y2="${y}"/>`);
    parts.push(`<line x1="${coord(o.at - 4)}" x2="${coord(o.at)}" y1="${y}" y2="${y}"/>`);
    if (!o.noLabels) parts.push(`<text x="${coord(o.at - 7)}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(t.label)}</text>`);
  }
  if (o.title) {
    const [y0, y1] = [o.scale(o.ticks[0]?.value ?? 0), o.scale(o.ticks[o.ticks.length - 1]?.value ?? 0)];
    const mid = coord((y0 + y1) / 2);
    const x = coord(o.titleAt ?? o.at - 44);
    parts.push(`<text class="axis-title" x="${x}" y="${mid}" text-anchor="middle" transform="rotate(-90 ${x} ${mid})">${escapeXml(o.title)}</text>`);
  }
  parts.push('</g>');
  return parts.join('');
}

/** A horizontal axis under a plot: centred labels below it, vertical grid lines. */
export function axisBottom(o: AxisOptions): string {
  const parts = ['<g class="axis axis-x">'];
  for (const t of o.ticks) {
    const x = coord(o.scale(t.value));
    if (o.gridTo !== undefined) parts.push(`<line class="grid" x1="${x}" x2="${x}" y1="${coord(o.gridTo)}" y2="${coord(o.at)}"/>`);
    parts.push(`<line x1="${x}" x2="${x}" y1="${coord(o.at)}" y2="${coord(o.at + 4)}"/>`);
    if (!o.noLabels) parts.push(`<text x="${x}" y="${coord(o.at + 18)}" text-anchor="middle">${escapeXml(t.label)}</text>`);
  }
  if (o.title) {
    const [x0, x1] = [o.scale(o.ticks[0]?.value ?? 0), o.scale(o.ticks[o.ticks.length - 1]?.value ?? 0)];
    parts.push(`<text class="axis-title" x="${coord((x0 + x1) / 2)}" y="${coord(o.titleAt ?? o.at + 38)}" text-anchor="middle">${escapeXml(o.title)}</text>`);
  }
  parts.push('</g>');
  return parts.join('');
}

export interface LegendItem {
  label: string;
  /** CSS class of the series (its colour). */
  cls: string;
  /** A short line for line series, a square for areas and bars. */
  kind: 'line' | 'box';
}

/** A one-row legend starting at (x, y); returns the markup and its width. */
export function legend(items: readonly LegendItem[], x: number, y: number, fontSize = 12): { svg: string; width: number } {
  const parts = ['<g class="legend">'];
  let cx = x;
  for (const it of items) {
    if (it.kind === 'line') parts.push(`<path class="${it.cls}" d="M${coord(cx)} ${coord(y)}h16"/>`);
    else parts.push(`<rect class="${it.cls}" x="${coord(cx + 2)}" y="${coord(y - 6)}" width="12" height="12" rx="2"/>`);
    parts.push(`<text x="${coord(cx + 21)}" y="${coord(y)}" dominant-baseline="middle">${escapeXml(it.label)}</text>`);
    cx += 21 + textWidth(it.label, fontSize) + 16;
  }
  parts.push('</g>');
  return { svg: parts.join(''), width: cx - x };
}

export interface ChartFrame {
  /** Unique in the page: the title and description are referenced by id. */
  id: string;
  width: number;
  height: number;
  /** Short name, read out by screen readers and shown as a tooltip. */
  title: string;
  /** The key numbers in words: what a reader who cannot see the chart needs. */
  desc: string;
  body: string;
}

/**
 * The <svg> element: scales with its container (viewBox), labelled for assistive technology.
 * No xmlns: inline SVG in HTML gets its namespace from the parser, and the page carries no URLs.
 */
export function svgChart(f: ChartFrame): string {
  const id = escapeXml(f.id);
  return (
    `<svg class="chart" id="${id}" viewBox="0 0 ${f.width} ${f.height}" role="img" aria-labelledby="${id}-t ${id}-d" ` +
    `preserveAspectRatio="xMidYMid meet"><title id="${id}-t">${escapeXml(f.title)}</title>` +
    `<desc id="${id}-d">${escapeXml(f.desc)}</desc>${f.body}</svg>`
  );
}
