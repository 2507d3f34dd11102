// Gates: "p99<200ms", "throughput>=3000/s", "errors<0.1%", "delivery_p99<5s", "lost=0",
// "not disk-bound". Parsed once (so a typo stops a tool before its run, not after), then
// evaluated on a result. A metric the result lacks fails its gate, saying why.
import type { ResultDoc } from './documents.js';
import { metricDef, metricNamesHint, metricValue, VERDICT_KINDS } from './metrics.js';
import { formatValue, parseLimit, type MetricUnit, type ShowUnit } from './units.js';

export type GateOp = '<' | '<=' | '>' | '>=' | '=' | '!=';

export interface Gate {
  /** As written, trimmed: how lines name the gate. */
  text: string;
  metric: string;
  op: GateOp;
  /** In the metric's unit (ms, per second, a 0..1 share, a count), or a verdict kind. */
  limit: number | string;
  /** The unit the limit was written in, used to show the actual value. */
  show: ShowUnit;
}

export interface GateResult {
  gate: string;
  metric: string;
  op: GateOp;
  /** The result's value (metric unit), or null when the result has none. */
  actual: number | string | null;
  limit: number | string;
  pass: boolean;
  /** One line: "gate p99<200ms failed: p99 was 412 ms". */
  reason: string;
  /** The reason without its "gate ... failed: " head: "p99 was 412 ms". */
  detail: string;
  /** The actual value as shown, in the limit's unit ("412 ms"); null when missing. */
  shown: string | null;
}

export const GATE_EXAMPLES = "p99<200ms, throughput>=3000/s, errors<0.1%, delivery_p99<5s, lost=0, 'not disk-bound'";

/** A gate that cannot be read; the message is one line naming --gate and the text. */
export class GateSyntaxError extends Error {}

const OPS: readonly GateOp[] = ['<=', '>=', '!=', '<', '>', '='];

function bad(text: string, why: string): GateSyntaxError {
  return new GateSyntaxError(`bad gate: ${text} (--gate: ${why})`);
}

/** Reads one gate; throws a GateSyntaxError naming --gate and the text. */
export function parseGate(input: string): Gate {
  const text = input.trim();
  if (text === '') throw bad("''", `empty; want METRIC OP VALUE, e.g. ${GATE_EXAMPLES}`);
  const not = /^not\s+(\S+)$/i.exec(text);
  if (not) {
    const kind = not[1].toLowerCase();
    if (!(VERDICT_KINDS as readonly string[]).includes(kind)) throw bad(text, `"not" takes a verdict: ${VERDICT_KINDS.join(', ')}`);
    return { text, metric: 'verdict', op: '!=', limit: kind, show: '' };
  }
  const m = /^([A-Za-z][A-Za-z0-9_]*)\s*(<=|>=|!=|==|=|<|>)\s*(.*)$/.exec(text);
  if (!m) throw bad(text, `want METRIC OP VALUE with OP one of < <= > >= = !=, e.g. ${GATE_EXAMPLES}`);
  const metric = m[1].toLowerCase();
  const op = (m[2] === '==' ? '=' : m[2]) as GateOp;
  const value = m[3].trim();
  const def = metricDef(metric);
  if (def === undefined) throw bad(text, `unknown metric ${m[1]}; metrics: ${metricNamesHint()}`);
  if (value === '') throw bad(text, `no value after ${m[2]}`);
  if (OPS.some((o) => value.startsWith(o)) || value.startsWith('!')) throw bad(text, 'one operator, then the value');
  if (def.unit === 'kind') {
    const kind = value.toLowerCase();
    if (op !== '=' && op !== '!=') throw bad(text, `${metric} is a word: use = or !=`);
    if (!(VERDICT_KINDS as readonly string[]).includes(kind)) throw bad(text, `${metric} is one of ${VERDICT_KINDS.join(', ')}`);
    return { text, metric, op, limit: kind, show: '' };
  }
  let limit: { value: number; show: ShowUnit };
  try {
    limit = parseLimit(def.unit, value, metric);
  } catch (err) {
    throw bad(text, (err as Error).message);
  }
  // 1.1s is 1100 ms, not 1100.0000000000002.
  return { text, metric, op, limit: Number(limit.value.toPrecision(12)), show: limit.show };
}

export function parseGates(texts: readonly string[]): Gate[] {
  return texts.map(parseGate);
}

function holds(actual: number | string, op: GateOp, limit: number | string): boolean {
  switch (op) {
    case '<':
      return actual < limit;
    case '<=':
      return actual <= limit;
    case '>':
      return actual > limit;
    case '>=':
      return actual >= limit;
    case '=':
      return actual === limit;
    case '!=':
      return actual !== limit;
  }
}

/** Evaluates a gate on a result: pass or fail, with the one-line reason. */
export function evaluateGate(r: ResultDoc, g: Gate): GateResult {
  const def = metricDef(g.metric);
  if (def === undefined) throw new Error(`unknown metric: ${g.metric}`);
  const v = metricValue(r, g.metric);
  const base = { gate: g.text, metric: g.metric, op: g.op, limit: g.limit };
  const shown = v.missing !== undefined ? null : formatValue(def.unit as MetricUnit, v.value, g.show);
  const done = (actual: number | string | null, pass: boolean, detail: string): GateResult => ({
    ...base,
    actual,
    pass,
    reason: `gate ${g.text} ${pass ? 'passed' : 'failed'}: ${detail}`,
    detail,
    shown,
  });
  if (v.missing !== undefined) return done(null, false, `${g.metric} is missing (${v.missing})`);
  // An unknown verdict is not evidence of "not disk-bound": only a gate about `unknown` itself passes on it.
  if (def.unit === 'kind' && v.value === 'unknown' && g.limit !== 'unknown') {
    return done(v.value, false, 'the verdict was unknown (the samples could not tell; see system.verdict.reasons)');
  }
  return done(v.value, holds(v.value, g.op, g.limit), `${g.metric === 'verdict' ? 'the verdict' : g.metric} was ${shown}`);
}

export function evaluateGates(r: ResultDoc, gates: readonly Gate[]): GateResult[] {
  return gates.map((g) => evaluateGate(r, g));
}
