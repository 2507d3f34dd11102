#!/usr/bin/env node
// smtpstone-report: joins smtp-source's --journal to the MTA's log and says what happened to
// every message, how fast the MTA drained them and whether the box was the bottleneck.
// A thin shell over buildReport()/followReport() and the renderers.
import { Diagnostics } from '@smtpstone/core';
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
  writeOutputs(model, correlation, cli);
  const onStdout = cli.json === '-' || cli.markdown === '-';
  (onStdout ? process.stderr : process.stdout).write(formatReport(model));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(log.line('fatal', err instanceof Error ? err.message : String(err)));
    process.exit(1);
  },
);
