#!/usr/bin/env node
// smtp-source's command: a thin shell over startSource() with what a terminal user sees.
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Diagnostics, FatalError, writeOutput } from '@smtpstone/core';
import { judge } from '@smtpstone/results';
import { helpText, parseSourceArgs } from './cli-options.js';
import { startSource } from './engine.js';
import { serveSourceMetrics, type MetricsServer } from './metrics.js';
import { formatResult } from './report.js';

const invoked = basename(process.argv[1] ?? 'smtp-source');
const program = invoked === 'cli.js' ? 'smtp-source' : invoked;
const log = new Diagnostics(program);

async function main(): Promise<number> {
  const cli = parseSourceArgs(process.argv.slice(2), program);
  if (cli.help) {
    process.stdout.write(helpText(program));
    return 0;
  }
  if (cli.window !== undefined) log.warning(`-T ${cli.window}: Node.js cannot set socket buffer sizes; using the system default`);
  if (cli.startAt !== undefined) {
    const wait = cli.startAt - Date.now();
    // A shard scheduled late starts at once and says so: the merge spans the copies' real times.
    if (wait < -1000) log.warning(`--start-at ${new Date(cli.startAt).toISOString()} was ${(-wait / 1000).toFixed(1)} s ago: starting now`);
    else if (wait > 0) await sleep(wait);
  }
  const { run, done } = await startSource(cli.source, { journalPath: cli.journal });
  let metrics: MetricsServer | undefined;
  if (cli.metricsListen !== undefined) {
    try {
      metrics = await serveSourceMetrics(run, cli.metricsListen);
    } catch (err) {
      run.stop(0);
      throw err;
    }
    if (metrics.address.port === 0 || /(^|:)0$/.test(cli.metricsListen) || (cli.source.verbose ?? 0) > 0) log.info(`metrics at ${metrics.url}`);
  }
  if (cli.counter) run.on('dot', (n: number) => process.stdout.write(`${n}\r`));
  const useBar = cli.progress ?? (process.stderr.isTTY === true && !cli.counter && !process.env.CI);
  // Loaded only when shown: most runs are piped or in CI.
  const stopBar = useBar ? (await import('./progress.js')).showProgress(run) : undefined;

  let signals = 0;
  const onSignal = (): void => {
    // First Ctrl-C: finish what is in flight (2 s at most) and report; second: stop now.
    signals++;
    run.stop(signals > 1 ? 0 : 2000);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const result = await done;
  stopBar?.();
  // As the original: the counter line is ended at a normal exit, not at a fatal one.
  if (cli.counter && result.fatal === undefined) process.stdout.write('\n');
  if (result.fatal !== undefined) process.stderr.write(log.line('fatal', result.fatal));
  if (cli.json !== undefined) {
    writeOutput(cli.json, JSON.stringify(result, null, 2) + '\n', '--json');
  }
  // The summary goes to stderr so that stdout stays what the original printed (-c) or JSON.
  process.stderr.write(formatResult(result));
  await metrics?.close();
  if (result.fatal !== undefined) return 1;
  if (cli.judging === undefined) return 0;
  const judgement = judge(result, cli.judging);
  for (const w of judgement.warnings) log.warning(w);
  process.stderr.write(judgement.lines.map((l) => l + '\n').join(''));
  return judgement.exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
    setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    const message = err instanceof FatalError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(log.line('fatal', message));
    process.exit(1);
  },
);
