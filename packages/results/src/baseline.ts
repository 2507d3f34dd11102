// A run against an earlier one: per metric, both numbers, the change in percent, and whether it
// got worse by more than the tolerance (throughput down, latency or errors up).
import { KIND_NAME, type ResultDoc } from './documents.js';
import { DEFAULT_BASELINE_METRICS, metricDef, metricValue, type MetricDef } from './metrics.js';
import { changeText, formatValue, parsePercent, percentText } from './units.js';

/** Allowed regression in percent: one for every metric, and overrides by name. */
export interface RegressionLimits {
  defaultPct: number;
  perMetric: Record<string, number>;
}

export const DEFAULT_MAX_REGRESSION_PCT = 10;

export interface BaselineRow {
  metric: string;
  better: 'higher' | 'lower';
  /** Metric units (ms, per second, 0..1 share, count); null when that side has none. */
  baseline: number | null;
  current: number | null;
  /** (current - baseline) / baseline in percent; null when either is missing; ±Infinity from 0. */
  changePct: number | null;
  /** The tolerance applied, in percent. */
  allowedPct: number;
  pass: boolean;
  /** One line saying what was compared and how it came out. */
  reason: string;
}

export interface BaselineComparison {
  /** How the baseline is named in lines (its file name). */
  baseline: string;
  pass: boolean;
  rows: BaselineRow[];
  /** Differences in the runs' settings that make the comparison doubtful (never a failure). */
  warnings: string[];
}

/**
 * Reads --max-regression values: "10%" for every metric, "p99=20%" for one. Each value may also
 * be a comma list ("10%,p99=20%"). Throws a one-line error naming the flag.
 */
export function parseMaxRegression(values: readonly string[], flag = '--max-regression'): RegressionLimits {
  const limits: RegressionLimits = { defaultPct: DEFAULT_MAX_REGRESSION_PCT, perMetric: {} };
  let sawDefault = false;
  for (const item of values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '')) {
    const eq = item.indexOf('=');
    const name = eq >= 0 ? item.slice(0, eq).trim().toLowerCase() : undefined;
    let pct: number;
    try {
      pct = parsePercent(eq >= 0 ? item.slice(eq + 1) : item);
    } catch (err) {
      throw new Error(`bad regression tolerance: ${item} (${flag} ${(err as Error).message}, or METRIC=N% such as p99=20%)`);
    }
    if (name === undefined) {
      if (sawDefault) throw new Error(`${flag} gives the tolerance for every metric twice; give it once (METRIC=N% for one metric)`);
      sawDefault = true;
      limits.defaultPct = pct;
    } else {
      checkBaselineMetric(name, flag);
      limits.perMetric[name] = pct;
    }
  }
  return limits;
}

/** A metric a baseline can compare: known and with a better direction. Throws naming the flag. */
export function checkBaselineMetric(name: string, flag: string): MetricDef & { better: 'higher' | 'lower' } {
  const def = metricDef(name);
  if (def === undefined) throw new Error(`unknown metric: ${name} (${flag}; smtpstone-results metrics lists them)`);
  if (def.better === undefined) {
    const example = name === 'verdict' ? 'not disk-bound' : `${name}<...`;
    throw new Error(`${name} has no better or worse, so it cannot regress (${flag}); use a gate such as --gate '${example}'`);
  }
  return def as MetricDef & { better: 'higher' | 'lower' };
}

export interface BaselineOptions {
  /** Metrics to compare (default: throughput, p50, p99, errors; for a report the delivery_ ones). */
  metrics?: readonly string[];
  maxRegression?: RegressionLimits;
  /** The baseline's name in lines and errors (its file). */
  name?: string;
}

function changePct(base: number, cur: number): number {
  if (base === cur) return 0;
  if (base === 0) return cur > 0 ? Infinity : -Infinity;
  return ((cur - base) / Math.abs(base)) * 100;
}

/** Settings of two smtp-source runs that change what the numbers mean. */
const SETTINGS = ['sessions', 'messages', 'durationMs', 'recipients', 'length', 'messageFile', 'lmtp', 'pipelining', 'reuseConnection', 'waitSeconds', 'randomWaitSeconds'];

function settingWarnings(current: ResultDoc, baseline: ResultDoc, name: string): string[] {
  if (current.kind !== 'source' || baseline.kind !== 'source') return [];
  const out: string[] = [];
  const a = baseline.doc.options ?? {};
  const b = current.doc.options ?? {};
  const differ = SETTINGS.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).map((k) => `${k} ${JSON.stringify(a[k]) ?? 'unset'} -> ${JSON.stringify(b[k]) ?? 'unset'}`);
  if (differ.length > 0) out.push(`${name} ran with other settings: ${differ.join(', ')}`);
  if (baseline.doc.target !== current.doc.target) out.push(`${name} ran against ${baseline.doc.target}, this run against ${current.doc.target}`);
  return out;
}

/**
 * Compares a result with an earlier one of the same kind. A metric the result lacks fails; one
 * the baseline lacks is not compared (and does not fail). Throws when the kinds differ or a
 * metric cannot be compared.
 */
export function compareWithBaseline(current: ResultDoc, baseline: ResultDoc, o: BaselineOptions = {}): BaselineComparison {
  const name = o.name ?? 'the baseline';
  if (current.kind !== baseline.kind) {
    throw new Error(`${name} is ${KIND_NAME[baseline.kind]}, but the result is ${KIND_NAME[current.kind]}; a baseline must be of the same kind`);
  }
  const limits = o.maxRegression ?? { defaultPct: DEFAULT_MAX_REGRESSION_PCT, perMetric: {} };
  const names = [...(o.metrics ?? DEFAULT_BASELINE_METRICS[current.kind])];
  // Naming a tolerance for a metric asks for it to be compared.
  for (const m of Object.keys(limits.perMetric)) if (!names.includes(m)) names.push(m);
  const rows: BaselineRow[] = [];
  for (const metric of names) {
    const def = checkBaselineMetric(metric, '--metric');
    if (!def.kinds.includes(current.kind)) {
      throw new Error(`${metric} is not in ${KIND_NAME[current.kind]}, so it cannot be compared with ${name}`);
    }
    const allowedPct = limits.perMetric[metric] ?? limits.defaultPct;
    const cur = metricValue(current, metric);
    const base = metricValue(baseline, metric);
    const show = (v: number): string => formatValue(def.unit, v);
    const allowed = `allowed ${def.better === 'lower' ? '+' : '-'}${percentText(allowedPct)} %`;
    const row = { metric, better: def.better, allowedPct };
    if (cur.missing !== undefined) {
      const b = typeof base.value === 'number' ? base.value : null;
      rows.push({ ...row, baseline: b, current: null, changePct: null, pass: false, reason: `${metric} is missing from the result (${cur.missing})` });
      continue;
    }
    if (base.missing !== undefined) {
      rows.push({ ...row, baseline: null, current: cur.value as number, changePct: null, pass: true, reason: `${metric} not compared: ${name} has none (${base.missing})` });
      continue;
    }
    const b = base.value as number;
    const c = cur.value as number;
    const change = changePct(b, c);
    const worse = def.better === 'lower' ? change > allowedPct : change < -allowedPct;
    const numbers = `${show(b)} -> ${show(c)} (${changeText(change)}; ${allowed})`;
    rows.push({
      ...row,
      baseline: b,
      current: c,
      changePct: change,
      pass: !worse,
      reason: worse ? `regression in ${metric}: ${numbers}` : `${metric}: ${numbers}`,
    });
  }
  return { baseline: name, pass: rows.every((r) => r.pass), rows, warnings: settingWarnings(current, baseline, name) };
}
