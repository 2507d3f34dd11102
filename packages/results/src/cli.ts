#!/usr/bin/env node
// smtpstone-results: check, merge, compare and list the metrics of saved results. A thin shell
// over judge(), mergeResults() and compareResults(). Exit status: 0 pass, 3 a gate failed or a
// metric regressed, 1 any error (bad flag, unreadable or unfit file).
import { Diagnostics, writeOutput } from '@smtpstone/core';
import { HELP, parseResultsArgs, PROGRAM, USAGE, type CheckCli, type CompareCli, type MergeCli } from './cli-options.js';
import { compareResults, formatComparison } from './compare.js';
import { KIND_NAME, readResultFile } from './documents.js';
import { EXIT_ERROR, EXIT_OK, judge, prepareJudge } from './judge.js';
import { comparisonMarkdown, judgementMarkdown } from './markdown.js';
import { mergeResults } from './merge.js';
import { allMetrics, metricList, METRICS } from './metrics.js';
import { formatSourceResult } from './summary.js';
import { formatValue } from './units.js';

const log = new Diagnostics(PROGRAM);

const put = writeOutput;

/** Where the text for people goes: stdout, unless a machine output took it. */
const textStream = (o: { json?: string; markdown?: string }): NodeJS.WriteStream => (o.json === '-' || o.markdown === '-' ? process.stderr : process.stdout);

function check(cli: CheckCli): number {
  // Flags first (a bad gate is reported before any file is read), then the baseline, then the result.
  const options = prepareJudge({ gates: cli.gates, baseline: cli.baseline, maxRegression: cli.maxRegression, metrics: cli.metrics });
  const result = readResultFile(cli.file);
  const j = judge(result, options);
  for (const w of j.warnings) log.warning(w);
  const lines = cli.quiet ? j.lines.filter((l) => l.startsWith('FAIL  ')) : j.lines;
  textStream(cli).write(lines.map((l) => l + '\n').join(''));
  if (cli.json !== undefined) {
    const doc = { file: cli.file, kind: result.kind, pass: j.pass, exitCode: j.exitCode, gates: j.gates, baseline: j.baseline, warnings: j.warnings };
    put(cli.json, JSON.stringify(doc, null, 2) + '\n', '--json');
  }
  if (cli.markdown !== undefined) put(cli.markdown, judgementMarkdown(j), '--markdown');
  return j.exitCode;
}

function merge(cli: MergeCli): number {
  const inputs = cli.files.map((name) => ({ name, result: readResultFile(name) }));
  const { result, warnings } = mergeResults(inputs);
  for (const w of warnings) log.warning(w);
  if (cli.json !== undefined) put(cli.json, JSON.stringify(result, null, 2) + '\n', '--json');
  if (!cli.quiet) textStream(cli).write(formatSourceResult(result));
  return EXIT_OK;
}

function compare(cli: CompareCli): number {
  const [a, b] = cli.files.map(readResultFile);
  const c = compareResults(a, b, { names: cli.files, metrics: cli.metrics.length > 0 ? metricList(cli.metrics) : undefined });
  textStream(cli).write(formatComparison(c));
  if (cli.json !== undefined) put(cli.json, JSON.stringify(c, (_k, v: unknown) => (v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : v), 2) + '\n', '--json');
  if (cli.markdown !== undefined) put(cli.markdown, comparisonMarkdown(c), '--markdown');
  return EXIT_OK;
}

function metrics(file: string | undefined): number {
  if (file === undefined) {
    const phase = /^(connect|banner|helo|mail|rcpt|data|dot|rset|quit|message|delivery|corrected)_(p90|p999|max|mean|min)$/;
    const rows = METRICS.filter((d) => !phase.test(d.name) && !/^(connect|banner|helo|mail|rcpt|data|dot|rset|quit|message)_p(50|99)$/.test(d.name));
    const width = Math.max(...rows.map((d) => d.name.length));
    const out = rows.map((d) => `${d.name.padEnd(width)}  ${d.unit.padEnd(5)}  ${d.kinds.join('+').padEnd(13)}  ${d.describe}`);
    out.push('', 'Also <phase>_<stat> for a smtp-source result: phases connect banner helo mail rcpt data dot rset quit message,');
    out.push('stats p50 p90 p99 p999 max mean min (e.g. connect_p99, dot_max), corrected_<stat> for an open-model run;\nand delivery_<stat> for a report.');
    process.stdout.write(out.join('\n') + '\n');
    return EXIT_OK;
  }
  const r = readResultFile(file);
  const rows = allMetrics(r);
  const width = Math.max(...rows.map((m) => m.def.name.length));
  process.stdout.write(`${file}: ${KIND_NAME[r.kind]}\n`);
  const shown = (m: (typeof rows)[number]): string => (m.value.missing !== undefined ? `- (${m.value.missing})` : formatValue(m.def.unit, m.value.value));
  process.stdout.write(rows.map((m) => `${m.def.name.padEnd(width)}  ${shown(m)}`).join('\n') + '\n');
  return EXIT_OK;
}

function main(): number {
  const cli = parseResultsArgs(process.argv.slice(2));
  switch (cli.command) {
    case 'help':
      process.stdout.write(HELP);
      return EXIT_OK;
    case 'check':
      return check(cli);
    case 'merge':
      return merge(cli);
    case 'compare':
      return compare(cli);
    case 'metrics':
      return metrics(cli.file);
  }
}

let code: number;
try {
  code = main();
} catch (err) {
  process.stderr.write(log.line('fatal', err instanceof Error ? err.message : String(err)));
  if (process.argv.length <= 2) process.stderr.write(USAGE + '\n');
  code = EXIT_ERROR;
}
process.exitCode = code;
