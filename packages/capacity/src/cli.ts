#!/usr/bin/env node
// smtpstone-sweep: a thin shell over runSweep(). Progress on stderr as steps finish; the table,
// the knee and the recommendation on stdout (stderr when --json - or --markdown - take stdout).
// Exit status: 0 done, 3 the knee is below --require, 1 a bad flag or an unreachable target.
import { mkdirSync, statSync } from 'node:fs';
import { Diagnostics, FatalError, writeOutput } from '@smtpstone/core';
import { EXIT_ERROR, EXIT_FAILED, EXIT_OK } from '@smtpstone/results';
import { FlagError, helpText, parseSweepArgs, PROGRAM } from './cli-options.js';
import { rateText } from './judge.js';
import { renderHtml } from './render/html.js';
import { renderMarkdown } from './render/markdown.js';
import { duration, percent, rate, VERDICT_TEXT } from './render/table.js';
import { formatSweep } from './render/text.js';
import type { StepResult } from './step.js';
import { runSweep, SweepError } from './sweep.js';

const log = new Diagnostics(PROGRAM);

const put = writeOutput;

function stepLine(s: StepResult): string {
  const broken = s.bounds.filter((b) => !b.pass).map((b) => b.text);
  const figures = `accepted ${rate(s.acceptedPerSecond)} of ${rate(s.offeredPerSecond)}, p99 ${s.latency.count > 0 ? duration(s.latency.p99) : '–'}, late ${percent(s.lateStarts.share)}, errors ${s.errors}`;
  const delivery = s.delivery !== undefined ? `, delivered ${rate(s.delivery.deliveryPerSecond)}, backlog ${s.delivery.peakBacklog}` : '';
  const box = s.system !== undefined ? `, box ${s.system.kind}` : '';
  return `  ${VERDICT_TEXT[s.verdict]}: ${figures}${delivery}${box}${broken.length > 0 ? ` — ${broken.join('; ')}` : ''}\n`;
}

async function main(): Promise<number> {
  const cli = parseSweepArgs(process.argv.slice(2));
  if (cli.help) {
    process.stdout.write(helpText());
    return EXIT_OK;
  }
  const o = cli.sweep;
  if (o.log !== undefined) {
    try {
      if (!statSync(o.log.path).isFile()) throw new FlagError(`--log ${o.log.path}: not a file`);
    } catch (err) {
      if (err instanceof FlagError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new FlagError(`--log ${o.log.path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
    }
    if (o.log.journalDir !== undefined) {
      try {
        mkdirSync(o.log.journalDir, { recursive: true });
      } catch (err) {
        throw new FlagError(`--journal-dir ${o.log.journalDir}: ${(err as Error).message}`);
      }
    }
  }
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    // First Ctrl-C: the step under way ends (2 s grace) and the sweep reports; second: now.
    if (++signals > 1) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const stepSeconds = duration(o.stepDurationMs ?? 20_000);
  const result = await runSweep({
    ...o,
    signal: stop.signal,
    writeLog: (line) => process.stderr.write(line),
    onStepStart: cli.quiet
      ? undefined
      : (i) => process.stderr.write(`${PROGRAM}: step ${i.index}${i.refine ? ' (refining)' : ` of ${o.rates.length}`}: ${rateText(i.ratePerSecond)} for ${stepSeconds}\n`),
    onStepEnd: cli.quiet ? undefined : (s) => process.stderr.write(stepLine(s)),
  });
  const textOut = cli.json === '-' || cli.markdown === '-' ? process.stderr : process.stdout;
  textOut.write(formatSweep(result));
  if (cli.json !== undefined) put(cli.json, JSON.stringify(result, null, 2) + '\n', '--json');
  if (cli.markdown !== undefined) put(cli.markdown, renderMarkdown(result), '--markdown');
  if (cli.html !== undefined) put(cli.html, renderHtml(result, cli.title), '--html');
  return result.knee.require !== undefined && !result.knee.require.pass ? EXIT_FAILED : EXIT_OK;
}

main().then(
  (code) => {
    process.exitCode = code;
    setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    const known = err instanceof FlagError || err instanceof FatalError || err instanceof RangeError || err instanceof SweepError;
    const message = err instanceof Error ? (known ? err.message : (err.stack ?? err.message)) : String(err);
    process.stderr.write(log.line('fatal', message));
    process.exit(EXIT_ERROR);
  },
);
