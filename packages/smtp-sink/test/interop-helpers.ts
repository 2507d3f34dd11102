// Helpers shared by the interop tests, where real clients (Postfix's smtp-source, swaks,
// nodemailer, Python's smtplib) drive our sink. Everything a test starts is registered here
// and torn down after each test, so a failing assertion never leaves a sink or a directory.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { dotStuff } from '@smtpstone/core';
import type { Sink, SinkOptionsInput, SinkStats } from '../src/index.js';
import { CLI, cliSink, currentUser, run, teardownStack, tempDir, testSink, type CliSink, type Run } from './helpers.js';

export type TestSink = Sink & { logs: string[] };

/** Registers an afterEach that undoes, newest first, everything the returned helpers start. */
export function resources() {
  const undo = teardownStack();
  return {
    /** An API sink on 127.0.0.1:0 (or options.listen). */
    async sink(options: Partial<SinkOptionsInput> = {}): Promise<TestSink> {
      const sink = await testSink(options);
      undo.push(() => sink.close());
      return sink;
    },
    /** Our CLI sink as a child process. */
    async cli(args: string[], endpoint?: string): Promise<CliSink> {
      const sink = await cliSink(args, endpoint);
      undo.push(() => sink.stop('SIGKILL'));
      return sink;
    },
    /** Our CLI sink on a unix-domain socket (cliSink() waits for a TCP port). */
    async cliUnix(args: string[], path: string): Promise<CliSink> {
      const sink = await cliSinkUnix(args, path);
      undo.push(() => sink.stop('SIGKILL'));
      return sink;
    },
    /** A fresh temporary directory, removed after the test. */
    dir(): string {
      const d = tempDir('smtpstone-interop-');
      undo.push(() => d.remove());
      return d.path;
    },
  };
}

/** A unix-socket path in a fresh temp directory (short enough for sun_path). */
export function socketIn(dir: string): string {
  return join(dir, 's.sock');
}

/** Polls until cond() holds; fails with `what` and the last detail after timeoutMs. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000, detail: () => unknown = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(detail())}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Waits until `sessions` sessions have ended and none is active, and returns the counters.
 * A client exits once it has the reply to QUIT, a moment before the sink sees the close.
 */
export async function settled(sink: Sink, sessions: number, timeoutMs = 5000): Promise<SinkStats> {
  await waitFor(
    `${sessions} ended sessions`,
    () => {
      const s = sink.stats();
      return s.sessions >= sessions && s.active === 0;
    },
    timeoutMs,
    () => sink.stats(),
  );
  return sink.stats();
}

/** The last of the "\r"-separated counter updates a -c option writes on stdout. */
export function lastCounter(stdout: string): string {
  const parts = stdout.split(/[\r\n]+/).filter((p) => p !== '');
  return parts.length === 0 ? '' : parts[parts.length - 1];
}

/** Runs a program and fails with its output when it does not exit 0. */
export async function runOk(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<Run> {
  const r = await run(cmd, args, { timeoutMs: opts.timeoutMs ?? 15000, input: opts.input });
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code ?? r.signal}\nstdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-3000)}`);
  }
  return r;
}

/**
 * What one side of a run says went through. Every interop test ends by comparing the client's
 * tally with the server's (issue 7): a message counted on one side only is a failure.
 */
export interface Tally {
  /** Messages whose end of data was accepted. */
  messages: number;
  /** Recipients accepted. */
  recipients: number;
  /** Message bytes between the 354 and the final ".", as on the wire (dot-stuffed, CR LF). */
  bytes: number;
}

/** Our sink's side of the tally. */
export function sinkTally(s: SinkStats): Tally {
  return { messages: s.messagesAccepted, recipients: s.recipients, bytes: s.bytes };
}

/** The client's and the server's tallies, side by side, must be equal. */
export function expectSameTally(client: Tally, server: Tally): void {
  expect({ client }).toEqual({ client: server });
}

/**
 * The bytes a client puts on the wire between 354 and the final "." for `message`, given as
 * the CR LF lines it sends: dot-stuffed, a missing last CR LF added, the terminating ".\r\n"
 * not counted. What our sink counts as `bytes`.
 */
export function wireBytes(message: string | Buffer): number {
  let b = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  if (b.length > 0 && b[b.length - 1] !== 0x0a) b = Buffer.concat([b, Buffer.from('\r\n')]);
  return dotStuff(b).length;
}

/** The counters every well-behaved client run should leave at zero. */
export function problems(s: SinkStats): Record<string, unknown> {
  return {
    rejects: s.rejects,
    unknown: s.commands.unknown,
    empty: s.commands.empty,
    outOfOrder: s.outOfOrder,
    lostInData: s.lostInData,
    socketErrors: s.socketErrors,
    timeouts: s.timeouts,
    deadlines: s.deadlines,
    longLines: s.longLines,
    faultDisconnects: s.faultDisconnects,
  };
}

export const NO_PROBLEMS = {
  rejects: {},
  unknown: 0,
  empty: 0,
  outOfOrder: 0,
  lostInData: 0,
  socketErrors: 0,
  timeouts: 0,
  deadlines: 0,
  longLines: 0,
  faultDisconnects: 0,
};

/** Starts the CLI sink on unix:<path> and waits for the socket to appear. */
async function cliSinkUnix(args: string[], path: string): Promise<CliSink> {
  const child = spawn(process.execPath, [CLI, '-u', currentUser(), ...args, `unix:${path}`, '100'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const r = await exited;
    clearTimeout(timer);
    return r;
  };
  try {
    await waitFor(`the sink's socket ${path}`, () => existsSync(path) || child.exitCode !== null, 5000, () => stderr);
    if (child.exitCode !== null) throw new Error(`sink exited: ${stderr}`);
  } catch (err) {
    await stop('SIGKILL');
    throw err;
  }
  return { child, port: 0, stdout: () => stdout, stderr: () => stderr, exited, stop };
}
