#!/usr/bin/env node
// smtp-source's command: a thin shell over startSource() with what a terminal user sees.
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Diagnostics, FatalError } from '@smtpstone/core';
import { helpText, parseSourceArgs } from './cli-options.js';
import { startSource } from './engine.js';
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
  const { run, done } = await startSource(cli.source, { journalPath: cli.journal });
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
    const text = JSON.stringify(result, null, 2) + '\n';
    if (cli.json === '-') process.stdout.write(text);
    else writeFileSync(cli.json, text);
  }
  // The summary goes to stderr so that stdout stays what the original printed (-c) or JSON.
  process.stderr.write(formatResult(result));
  return result.fatal !== undefined ? 1 : 0;
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
