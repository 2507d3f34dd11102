// The verdict on one run: its gates and its baseline together, as lines and an exit code. The
// tools call prepareJudge() with their flags before the run (a typo stops them at once) and
// judge() after it.
import { classify, KIND_NAME, readResultFile, type ResultDoc, type ResultKind } from './documents.js';
import { checkBaselineMetric, compareWithBaseline, parseMaxRegression, type BaselineComparison, type RegressionLimits } from './baseline.js';
import { evaluateGates, parseGate, type Gate, type GateResult } from './gates.js';
import { metricDef, metricList, otherKindHint } from './metrics.js';

/** Every gate passed and nothing regressed (or there was nothing to judge). */
export const EXIT_OK = 0;
/** A bad flag, an unreadable or unfit file: the tools' fatal errors. */
export const EXIT_ERROR = 1;
/** A gate failed or a metric regressed beyond its tolerance. */
export const EXIT_FAILED = 3;

export interface JudgeInput {
  /** Gate texts ("p99<200ms") or parsed gates. */
  gates?: readonly (string | Gate)[];
  /** The baseline: a file to read, or a result already read (parsed JSON or classified). */
  baseline?: string | ResultDoc | object;
  /** How the baseline is named in lines (default: its path, or "the baseline"). */
  baselineName?: string;
  /** "10%", "p99=20%", ... (--max-regression values), or limits already parsed. */
  maxRegression?: string | readonly string[] | RegressionLimits;
  /** Metrics to compare with the baseline (default: throughput, p50, p99, errors, or the report's). */
  metrics?: readonly string[];
}

/** JudgeInput checked and read: what judge() runs on. */
export interface JudgeOptions {
  gates: Gate[];
  baseline?: { name: string; result: ResultDoc };
  maxRegression?: RegressionLimits;
  metrics?: string[];
}

export interface Judgement {
  pass: boolean;
  /** EXIT_OK or EXIT_FAILED. */
  exitCode: number;
  /** One line per gate and per compared metric, PASS or FAIL first; then a summary line. */
  lines: string[];
  gates: GateResult[];
  baseline?: BaselineComparison;
  /** Doubts that do not fail the run (the baseline ran with other settings). */
  warnings: string[];
}

/** What prepareJudge() made, so judge() does not parse it again. */
const prepared = new WeakSet<object>();
const isPrepared = (o: JudgeInput | JudgeOptions): o is JudgeOptions => prepared.has(o);

const isResultDoc = (x: unknown): x is ResultDoc =>
  typeof x === 'object' && x !== null && 'kind' in x && 'doc' in x && ((x as ResultDoc).kind === 'source' || (x as ResultDoc).kind === 'report');

function asResult(x: unknown, what: string): ResultDoc {
  return isResultDoc(x) ? x : classify(x, what);
}

/**
 * Parses gates and tolerances and reads the baseline; throws a one-line error naming the flag.
 * With `kind` (the tool knows what it will produce), gates and baseline metrics that kind can
 * never have, and a baseline of the other kind, are errors now rather than failures later.
 */
export function prepareJudge(input: JudgeInput, kind?: ResultKind): JudgeOptions {
  const gates = (input.gates ?? []).map((g) => (typeof g === 'string' ? parseGate(g) : g));
  const hasBaseline = input.baseline !== undefined;
  const mr = Array.isArray(input.maxRegression) && input.maxRegression.length === 0 ? undefined : input.maxRegression;
  if (!hasBaseline && mr !== undefined) throw new Error('--max-regression needs --baseline (the earlier run to compare with)');
  if (!hasBaseline && input.metrics !== undefined && input.metrics.length > 0) throw new Error('--metric needs --baseline (the earlier run to compare with)');
  const maxRegression =
    mr === undefined ? undefined : typeof mr === 'string' ? parseMaxRegression([mr]) : Array.isArray(mr) ? parseMaxRegression(mr as string[]) : (mr as RegressionLimits);
  const metrics = input.metrics === undefined || input.metrics.length === 0 ? undefined : metricList(input.metrics);
  for (const m of metrics ?? []) checkBaselineMetric(m, '--metric');
  let baseline: JudgeOptions['baseline'];
  if (input.baseline !== undefined) {
    const b = input.baseline;
    const name = input.baselineName ?? (typeof b === 'string' ? b : 'the baseline');
    let result: ResultDoc;
    try {
      result = typeof b === 'string' ? readResultFile(b) : asResult(b, name);
    } catch (err) {
      throw new Error(`${(err as Error).message} (--baseline)`);
    }
    baseline = { name, result };
  }
  if (metrics !== undefined && metrics.length === 0) throw new Error('--metric names no metric');
  if (kind !== undefined) {
    for (const g of gates) {
      if (!metricDef(g.metric)?.kinds.includes(kind)) throw new Error(`bad gate: ${g.text} (--gate: ${g.metric} is never in ${KIND_NAME[kind]}${otherKindHint(g.metric, kind)})`);
    }
    for (const m of [...(metrics ?? []), ...Object.keys(maxRegression?.perMetric ?? {})]) {
      if (!metricDef(m)?.kinds.includes(kind)) throw new Error(`${m} is never in ${KIND_NAME[kind]}, so it cannot be compared (--metric, --max-regression)`);
    }
    if (baseline !== undefined && baseline.result.kind !== kind) {
      throw new Error(`${baseline.name} is ${KIND_NAME[baseline.result.kind]}, but this run makes ${KIND_NAME[kind]}; a baseline must be of the same kind (--baseline)`);
    }
  }
  const out: JudgeOptions = { gates, baseline, maxRegression, metrics };
  prepared.add(out);
  return out;
}

/**
 * Judges a result (smtp-source's result object, the report model, their parsed --json, or a
 * classified ResultDoc) by its gates and its baseline. Throws when the baseline is of another
 * kind; a missing metric is a failed gate, never a pass.
 */
export function judge(result: unknown, options: JudgeInput | JudgeOptions): Judgement {
  const o = isPrepared(options) ? options : prepareJudge(options);
  const r = asResult(result, 'the result');
  const gates = evaluateGates(r, o.gates);
  const lines = gates.map((g) => `${g.pass ? 'PASS' : 'FAIL'}  gate ${g.gate}: ${g.detail}`);
  let baseline: BaselineComparison | undefined;
  if (o.baseline !== undefined) {
    baseline = compareWithBaseline(r, o.baseline.result, { metrics: o.metrics, maxRegression: o.maxRegression, name: o.baseline.name });
    lines.push(...baseline.rows.map((row) => `${row.pass ? 'PASS' : 'FAIL'}  baseline ${row.reason}`));
  }
  const failedGates = gates.filter((g) => !g.pass).length;
  const regressions = baseline?.rows.filter((row) => !row.pass).length ?? 0;
  const pass = failedGates === 0 && regressions === 0;
  const parts: string[] = [];
  if (gates.length > 0) parts.push(failedGates > 0 ? `${failedGates} of ${gates.length} gates failed` : `${gates.length} gate${gates.length === 1 ? '' : 's'} passed`);
  if (baseline !== undefined) {
    const n = baseline.rows.length;
    const against = `against ${baseline.baseline}`;
    parts.push(regressions > 0 ? `${regressions} of ${n} metrics regressed ${against}` : `no regression in ${n} metric${n === 1 ? '' : 's'} ${against}`);
  }
  if (parts.length > 0) lines.push(`${pass ? 'PASS' : 'FAIL'}: ${parts.join('; ')}`);
  return { pass, exitCode: pass ? EXIT_OK : EXIT_FAILED, lines, gates, baseline, warnings: baseline?.warnings ?? [] };
}
