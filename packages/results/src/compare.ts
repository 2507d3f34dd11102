// Two results side by side, for people: each metric in both, the change in percent and whether
// that is better or worse.
import { KIND_NAME, SOURCE_PHASES, type ResultDoc, type ResultKind } from './documents.js';
import { DEFAULT_COMPARE_METRICS, metricDef, metricValue } from './metrics.js';
import type { MetricUnit } from './units.js';
import { changeText, formatValue } from './units.js';

export interface CompareRow {
  metric: string;
  unit: MetricUnit;
  /** Values in metric units; null where that result has none. */
  a: number | string | null;
  b: number | string | null;
  /** (b - a) / a in percent; null when not numeric or missing; ±Infinity from 0. */
  changePct: number | null;
  /** For metrics with a better direction; `changed`/`same` for words; null when missing. */
  direction: 'better' | 'worse' | 'same' | 'changed' | null;
}

export interface Comparison {
  kind: ResultKind;
  a: string;
  b: string;
  rows: CompareRow[];
}

/** The default metrics, and for a source each phase's p99 that either run timed. */
function defaultMetrics(a: ResultDoc, b: ResultDoc): string[] {
  const names = [...DEFAULT_COMPARE_METRICS[a.kind]];
  if (a.kind === 'source' && b.kind === 'source') {
    for (const phase of SOURCE_PHASES) {
      if (phase === 'message') continue;
      if ((a.doc.latency[phase]?.count ?? 0) > 0 || (b.doc.latency[phase]?.count ?? 0) > 0) names.push(`${phase}_p99`);
    }
  }
  return names;
}

export function compareResults(a: ResultDoc, b: ResultDoc, o: { names?: [string, string]; metrics?: readonly string[] } = {}): Comparison {
  const [an, bn] = o.names ?? ['a', 'b'];
  if (a.kind !== b.kind) throw new Error(`${an} is ${KIND_NAME[a.kind]} and ${bn} is ${KIND_NAME[b.kind]}; compare takes two of the same kind`);
  const metrics = o.metrics ?? defaultMetrics(a, b);
  const rows: CompareRow[] = [];
  for (const metric of metrics) {
    const def = metricDef(metric);
    if (def === undefined) throw new Error(`unknown metric: ${metric} (--metric; smtpstone-results metrics lists them)`);
    if (!def.kinds.includes(a.kind)) throw new Error(`${metric} is not in ${KIND_NAME[a.kind]} (--metric)`);
    const va = metricValue(a, metric).value ?? null;
    const vb = metricValue(b, metric).value ?? null;
    let changePct: number | null = null;
    let direction: CompareRow['direction'] = null;
    if (typeof va === 'number' && typeof vb === 'number') {
      changePct = va === vb ? 0 : va === 0 ? (vb > 0 ? Infinity : -Infinity) : ((vb - va) / Math.abs(va)) * 100;
      if (def.better !== undefined) direction = changePct === 0 ? 'same' : (changePct > 0) === (def.better === 'higher') ? 'better' : 'worse';
    } else if (va !== null && vb !== null) {
      direction = va === vb ? 'same' : 'changed';
    }
    rows.push({ metric, unit: def.unit, a: va, b: vb, changePct, direction });
  }
  return { kind: a.kind, a: an, b: bn, rows };
}

export const cell = (unit: MetricUnit, v: number | string | null): string => (v === null ? '-' : formatValue(unit, v));
export const changeCell = (r: CompareRow): string => (r.changePct === null ? '' : changeText(r.changePct));

/** The comparison as an aligned table. */
export function formatComparison(c: Comparison): string {
  const direction = (r: CompareRow): string => (r.direction === 'same' || r.direction === null ? '' : r.direction);
  const table = [['', c.a, c.b, 'change', ''], ...c.rows.map((r) => [r.metric, cell(r.unit, r.a), cell(r.unit, r.b), changeCell(r), direction(r)])];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  return (
    table
      .map((row) => row.map((v, i) => (i === 0 || i === row.length - 1 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ').trimEnd())
      .join('\n') + '\n'
  );
}
