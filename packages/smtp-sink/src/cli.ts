#!/usr/bin/env -S node --max-semi-space-size=1
// A 1 MB young generation: with a thousand clients V8 would otherwise grow it to 16 MB a
// semi-space and peak RSS by a third, for no gain in speed (docs/benchmarks.md).
// smtp-sink's command: a thin shell over startSink() that adds what a terminal user sees.
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Diagnostics, FatalError, formatEndpoint } from '@smtpstone/core';
import { helpText, parseSinkArgs } from './cli-options.js';
import { parseMetricsListen, serveSinkMetrics, type MetricsServer } from './metrics.js';
import { dropPrivileges } from './privileges.js';
import { startSink } from './server.js';
import { counterLine, statsLine, type SinkStats } from './stats.js';

const program = basename(process.argv[1] ?? 'smtp-sink').replace(/\.js$/, '') === 'cli' ? 'smtp-sink' : basename(process.argv[1] ?? 'smtp-sink');
const log = new Diagnostics(program);
const STOP_GRACE_MS = 2000;

function fatal(message: string): never {
  process.stderr.write(log.line('fatal', message));
  process.exit(1);
}

async function main(): Promise<void> {
  const cli = parseSinkArgs(process.argv.slice(2), program);
  if (cli.help) {
    process.stdout.write(helpText(program));
    return;
  }
  if (process.geteuid?.() === 0 && cli.user === undefined) throw new FatalError('-u option is required if running as root');
  if (cli.window !== undefined) {
    log.warning(`-T ${cli.window}: Node.js cannot set the TCP window size of a listening socket; using the system default`);
  }
  if (cli.sink.root !== undefined) {
    if (cli.user === undefined) log.warning('-R without -u is ignored, as in the original');
    else log.warning(`-R ${cli.sink.root}: Node.js cannot chroot; dump paths are resolved below ${cli.sink.root}, but nothing is confined`);
    if (cli.user === undefined) cli.sink.root = undefined;
  }

  const sink = await startSink(cli.sink);
  let metrics: MetricsServer | undefined;
  if (cli.metricsListen !== undefined) {
    try {
      metrics = await serveSinkMetrics(sink, cli.metricsListen);
    } catch (err) {
      await sink.close();
      throw err;
    }
  }
  if (cli.user !== undefined) dropPrivileges(cli.user);
  if (cli.endpoint.kind === 'inet' && cli.endpoint.port === 0) log.info(`listening on ${formatEndpoint(sink.address)}`);
  else if ((cli.sink.verbose ?? 0) > 0) log.info(`listening on ${formatEndpoint(sink.address)}`);
  if (metrics !== undefined && (parseMetricsListen(cli.metricsListen!).port === 0 || (cli.sink.verbose ?? 0) > 0)) {
    log.info(`metrics at ${metrics.url}`);
  }

  let stopping = false;
  if (cli.counter) {
    // The C sink prints at every change; we print at most once per turn of the event loop.
    let pending = false;
    const show = (): void => {
      if (pending || stopping) return;
      pending = true;
      setImmediate(() => {
        pending = false;
        if (!stopping) process.stdout.write(counterLine(sink.stats()));
      });
    };
    sink.on('message', show);
    sink.on('session-end', show);
  }

  let interval: NodeJS.Timeout | undefined;
  if (cli.statsInterval !== undefined) {
    let lastMessages = 0;
    let lastAt = Date.now();
    interval = setInterval(() => {
      const s = sink.stats();
      const now = Date.now();
      log.info(statsLine(s, s.messages - lastMessages, now - lastAt));
      lastMessages = s.messages;
      lastAt = now;
    }, cli.statsInterval * 1000);
  }

  const stop = async (why: string, code: number, graceMs: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (interval !== undefined) clearInterval(interval);
    const final = await sink.close(graceMs);
    await metrics?.close();
    report(final, why, cli.counter, cli.json);
    process.exitCode = code;
    // Let stdout drain, then leave even if a client still holds a half-closed socket.
    setImmediate(() => process.exit(code));
  };
  process.on('SIGINT', () => void stop('interrupted', 0, 0));
  process.on('SIGTERM', () => void stop('terminated', 0, 0));
  // At -M/-n, clients get a moment to QUIT cleanly (the original just exited under them).
  sink.done.then((reason) => void stop(reason, 0, STOP_GRACE_MS));
}

function report(s: SinkStats, why: string, counter: boolean, json: string | undefined): void {
  if (counter) process.stdout.write(counterLine(s) + '\n');
  const rejects = Object.values(s.rejects).reduce((a, b) => a + b, 0);
  log.info(
    `stopped (${why}): ${s.sessions} sessions, ${s.messages} messages, ${s.recipients} recipients, ` +
      `${s.bytes} bytes, ${rejects} rejects, ${s.timeouts} timeouts, ${s.deadlines} deadlines in ${(s.elapsedMs / 1000).toFixed(1)} s ` +
      `(${s.messagesPerSecond.toFixed(1)} msg/s)`,
  );
  if (json !== undefined) {
    const text = JSON.stringify(s, null, 2) + '\n';
    if (json === '-') process.stdout.write(text);
    else writeFileSync(json, text);
  }
}

main().catch((err: unknown) => {
  if (err instanceof FatalError) fatal(err.message);
  fatal(err instanceof Error ? (err.stack ?? err.message) : String(err));
});
