/**
 * @smtpstone/results: everything that reads a result and judges it.
 *
 * Reads smtp-source's `--json` result (or a merge of shards) and smtpstone-report's `--json`
 * report (or its model), and:
 * - evaluates gates: `p99<200ms`, `throughput>=3000/s`, `errors<0.1%`, `delivery_p99<5s`,
 *   `lost=0`, `not disk-bound` (metric names: see metrics.ts; `smtpstone-results metrics`);
 * - compares with a baseline (an earlier run of the same kind) metric by metric, failing on a
 *   regression beyond a tolerance (`--max-regression 10%`, `p99=20%`);
 * - merges shards of one run losslessly (HDR histograms added, rates over the union span);
 * - compares two results side by side.
 *
 * For the tools, after a run:
 *
 * ```ts
 * const judging = prepareJudge({ gates: ['p99<200ms'], baseline: 'prev.json', maxRegression: ['10%'] }, 'source'); // before the run: bad flags stop it now
 * const j = judge(result, judging);          // { pass, exitCode, lines, gates, baseline, warnings }
 * for (const line of j.lines) console.error(line);
 * process.exitCode = j.exitCode;
 * ```
 *
 * Exit codes (the `smtpstone-results` command, and `judge().exitCode` for the tools):
 * - 0 (`EXIT_OK`): every gate passed and no metric regressed;
 * - 3 (`EXIT_FAILED`): a gate failed (a metric the result lacks fails its gate) or a metric
 *   regressed beyond its tolerance;
 * - 1 (`EXIT_ERROR`): a bad flag or gate, an unreadable file, a file of the wrong kind (a report
 *   as a source's baseline, a report among the shards to merge): the tools' fatal errors.
 * 2 is not used, so that it stays free for shells' and wrappers' usage errors.
 */
export { classify, readResultFile, KIND_NAME, SOURCE_PHASES } from './documents.js';
export type { ResultDoc, ResultKind, SourceResultDoc, ReportDoc, PhaseSummaryDoc, SystemDoc, MergedFrom, SourcePhase } from './documents.js';
export {
  METRICS,
  metricDef,
  metricValue,
  metricList,
  allMetrics,
  PHASE_STATS,
  VERDICT_KINDS,
  DEFAULT_BASELINE_METRICS,
  DEFAULT_COMPARE_METRICS,
  type MetricDef,
  type MetricValue,
} from './metrics.js';
export { parseGate, parseGates, evaluateGate, evaluateGates, GateSyntaxError, GATE_EXAMPLES, type Gate, type GateOp, type GateResult } from './gates.js';
export {
  compareWithBaseline,
  parseMaxRegression,
  DEFAULT_MAX_REGRESSION_PCT,
  type BaselineComparison,
  type BaselineOptions,
  type BaselineRow,
  type RegressionLimits,
} from './baseline.js';
export { mergeResults, type MergeInput, type MergeOutcome } from './merge.js';
export { compareResults, formatComparison, type Comparison, type CompareRow } from './compare.js';
export { judge, prepareJudge, EXIT_OK, EXIT_ERROR, EXIT_FAILED, type Judgement, type JudgeInput, type JudgeOptions } from './judge.js';
export { judgementMarkdown, comparisonMarkdown } from './markdown.js';
export { fmtMs, formatSourceResult, LATENCY_HEADER, latencyRow, latencyRows, sourceCountLines } from './summary.js';
export { decodeHistogram, encodeHistogram, addHistograms, phaseSummary } from './histogram.js';
export { formatValue, parseLimit, type MetricUnit } from './units.js';
