#!/usr/bin/env node
// smtpstone-report: joins smtp-source's --journal to the MTA's log and says what happened to
// every message, how fast the MTA drained them and whether the box was the bottleneck.
// A thin shell over buildReport()/followReport() and the renderers.
import { Diagnostics } from '@smtpstone/core';
import { judge } from '@smtpstone/results';
import { parseReportArgs } from './cli-options.js';
import { followReport } from './follow-run.js';
import { buildReport, formatReport, writeOutputs } from './run.js';

const log = new Diagnostics('smtpstone-report');

async function main(): Promise<number> {
  const cli = parseReportArgs(process.argv.slice(2));
  // Ctrl-C or a TERM stops the reading; the report covers what was read.
  const interrupt = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => interrupt.abort());
  const signal = interrupt.signal;
  const inputs = { journal: cli.journal, logs: cli.logs, samples: cli.samples, title: cli.title, year: cli.year, zone: cli.zone, signal };
  const { model, correlation } = cli.follow
    ? await followReport({ ...inputs, idleMs: cli.idleMs, settleMs: cli.settleMs, status: (line) => process.stderr.write(line + '\n') })
    : await buildReport(inputs);
  // --gate / --baseline: judged on the model, written into --json and --markdown, printed after the report.
  const judgement = cli.judging !== undefined ? judge(model, cli.judging) : undefined;
  writeOutputs(model, correlation, cli, judgement);
  const onStdout = cli.json === '-' || cli.markdown === '-';
  const out = onStdout ? process.stderr : process.stdout;
  out.write(formatReport(model));
  if (judgement === undefined) return 0;
  for (const w of judgement.warnings) log.warning(w);
  out.write(judgement.lines.map((l) => l + '\n').join(''));
  return judgement.exitCode;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(log.line('fatal', err instanceof Error ? err.message : String(err)));
    process.exit(1);
  },
);
