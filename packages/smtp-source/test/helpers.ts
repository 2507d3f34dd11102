// Helpers for smtp-source's interop tests: the C smtp-sink as a child process, our sink
// in-process, the C smtp-source and our CLI as children, a recording SMTP server and a
// recording proxy (to see the bytes and packets our source sends), and dump normalisation.
// Everything a test starts through resources() is torn down after the test, newest first.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SinkOptionsInput } from '../../smtp-sink/src/index.js';
import { startSource, type RunHooks, type SourceOptionsInput, type SourceResult } from '../src/index.js';
import { currentUser, peer, run, teardownStack, tempDir, testSink, type Run } from '../../smtp-sink/test/helpers.js';
import { lastCounter, wireBytes, type Tally, type TestSink } from '../../smtp-sink/test/interop-helpers.js';

export { portOf, run, type Run } from '../../smtp-sink/test/helpers.js';
export {
  expectSameTally,
  lastCounter,
  NO_PROBLEMS,
  problems,
  settled,
  sinkTally,
  socketIn,
  waitFor,
  wireBytes,
  type Tally,
  type TestSink,
} from '../../smtp-sink/test/interop-helpers.js';

/** Our source's side of the tally: messages and recipients accepted, message bytes sent. */
export function sourceTally(result: SourceResult): Tally {
  return { messages: result.messages.accepted, recipients: result.recipients.accepted, bytes: result.bytes };
}

function isElf(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    closeSync(fd);
    return head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } catch {
    return false;
  }
}

/**
 * The path of Postfix's own program (smtp-sink, smtp-source), or undefined; like peer(), a
 * missing program skips outside CI and fails in CI. peer() alone is not enough: under
 * `pnpm exec`/`npx` PATH starts with node_modules/.bin, where the workspace's own smtp-sink
 * (a root devDependency) shadows /usr/sbin/smtp-sink. So only a native binary counts.
 */
export function postfixPeer(name: 'smtp-sink' | 'smtp-source'): string | undefined {
  for (const p of [`/usr/sbin/${name}`, `/usr/local/sbin/${name}`]) if (isElf(p)) return p;
  const found = peer(name);
  if (found !== undefined && isElf(found)) return found;
  if (process.env.CI) throw new Error(`peer "${name}": no Postfix binary found (PATH gives ${found ?? 'nothing'})`);
  return undefined;
}

/** Our smtp-source CLI (built: tsc -b packages/smtp-source). */
export const SOURCE_CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');

/** Runs our CLI to completion (it must have been built). */
export async function ourCli(args: string[], timeoutMs = 9000): Promise<Run> {
  if (!existsSync(SOURCE_CLI)) throw new Error(`${SOURCE_CLI} is missing: build with tsc -b packages/smtp-source`);
  return run(process.execPath, [SOURCE_CLI, ...args], { timeoutMs });
}

/**
 * Runs our source through the API with its log lines collected, bounded in time: a run that
 * has not ended after `deadlineMs` is stopped and the test fails with what it had counted.
 */
export async function runBounded(input: SourceOptionsInput, deadlineMs = 8000, hooks: RunHooks = {}): Promise<{ result: SourceResult; logs: string }> {
  const logs: string[] = [];
  const { run, done } = await startSource({ writeLog: (l) => logs.push(l), ...input }, hooks);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), deadlineMs)));
  const first = await Promise.race([done, timeout]);
  clearTimeout(timer);
  if (first === 'timeout') {
    const so = run.result();
    run.stop(0);
    throw new Error(
      `the run did not end within ${deadlineMs} ms: ${JSON.stringify({ messages: so.messages, errors: so.errors, rejects: so.rejects, fatal: so.fatal })}; log: ${logs.join('')}`,
    );
  }
  return { result: first, logs: logs.join('') };
}

/** Runs a program (the C smtp-source) to completion. */
export async function runProgram(cmd: string, args: string[], timeoutMs = 9000): Promise<Run> {
  return run(cmd, args, { timeoutMs });
}

/**
 * The "warning:" and "fatal:" lines of an smtp-source run, without the program-name prefix
 * (the C program prints argv[0], e.g. "/usr/sbin/smtp-source: fatal: ..."; ours "smtp-source:
 * fatal: ..."). Our summary lines, which have no such prefix, are left out.
 */
export function diagnostics(stderr: string): string[] {
  const out: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = /^(?:\S*\/)?smtp-source: ((?:fatal|warning): .*)$/.exec(line);
    if (m) out.push(m[1]);
  }
  return out;
}

/** The one "fatal: ..." line of a run (without the program prefix), or undefined. */
export function fatalLine(stderr: string): string | undefined {
  const f = diagnostics(stderr).filter((l) => l.startsWith('fatal: '));
  if (f.length > 1) throw new Error(`more than one fatal line: ${JSON.stringify(f)}`);
  return f[0];
}

/** A port that was free a moment ago (bind port 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Listening TCP sockets on this port (127.0.0.1 or the wildcard), from /proc/net/tcp; undefined
 * where /proc is not readable. A probe connection would count as a session in the C sink's
 * -c line, so readiness is read from the kernel instead.
 */
function tcpListeners(port: number): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    if ((f[1] === `0100007F:${hexPort}` || f[1] === `00000000:${hexPort}`) && f[3] === '0A') n++;
  }
  return n;
}

/** True when a unix-domain socket at `path` is listening (/proc/net/unix flag __SO_ACCEPTCON). */
function unixListening(path: string): boolean | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return undefined;
  }
  return text.split('\n').some((line) => {
    const f = line.trim().split(/\s+/);
    return f.length >= 8 && f[7] === path && f[3] === '00010000';
  });
}

export interface SinkCounter {
  sess: number;
  quit: number;
  mesg: number;
}

/** "sess=1 quit=1 mesg=1" as the C sink's -c prints it. */
export function counterText(c: SinkCounter): string {
  return `sess=${c.sess} quit=${c.quit} mesg=${c.mesg}`;
}

export interface CSink {
  child: ChildProcess;
  /** The TCP port, or 0 on a unix-domain socket. */
  port: number;
  /** What a source connects to: "127.0.0.1:PORT" or "unix:PATH". */
  target: string;
  stdout(): string;
  stderr(): string;
  /** The last "sess=N quit=N mesg=N" line of -c ('' if none yet). */
  counter(): string;
  /**
   * Waits (up to timeoutMs) until the last -c line reads `expected`; resolves either way,
   * so that the test's own assertion shows what the sink counted.
   */
  awaitCounter(expected: SinkCounter, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (SIGTERM: the C sink dies at once; -c lines are flushed as they happen). */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The -u the C sink needs as root; as another user it needs none (and initgroups would fail). */
function userArgs(): string[] {
  return process.getuid?.() === 0 ? ['-u', currentUser() || 'root'] : [];
}

/**
 * Starts the C smtp-sink: `bin [-u user] args... 127.0.0.1:PORT|unix:PATH backlog` on a free
 * port (or the given unix socket) and waits until the kernel shows it listening. Because the
 * C sink binds with SO_REUSEPORT, a port another listener holds would be silently shared;
 * such a start is retried on a new port.
 */
export async function startCSink(bin: string, args: string[], opts: { unixPath?: string; backlog?: number } = {}): Promise<CSink> {
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = opts.unixPath !== undefined ? 0 : await freePort();
    const target = opts.unixPath !== undefined ? `unix:${opts.unixPath}` : `127.0.0.1:${port}`;
    const child = spawn(bin, [...userArgs(), ...args, target, String(opts.backlog ?? 100)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('latin1');
    child.stderr!.setEncoding('latin1');
    child.stdout!.on('data', (d: string) => (stdout += d));
    child.stderr!.on('data', (d: string) => (stderr += d));
    const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
    const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      const r = await exited;
      clearTimeout(timer);
      return r;
    };
    const deadline = Date.now() + 5000;
    let ready = false;
    let shared = false;
    while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      if (opts.unixPath !== undefined) {
        const l = unixListening(opts.unixPath);
        if (l === true || (l === undefined && existsSync(opts.unixPath))) {
          ready = true;
          break;
        }
      } else {
        const n = tcpListeners(port);
        if (n === undefined) {
          await stop('SIGKILL');
          throw new Error('/proc/net/tcp is not readable: cannot tell when the C sink listens without a probe session');
        }
        if (n > 1) {
          shared = true;
          break;
        }
        if (n === 1) {
          ready = true;
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    if (ready) {
      return {
        child,
        port,
        target,
        stdout: () => stdout,
        stderr: () => stderr,
        counter: () => lastCounter(stdout),
        async awaitCounter(expected, timeoutMs = 5000) {
          const want = counterText(expected);
          const until = Date.now() + timeoutMs;
          while (lastCounter(stdout) !== want && Date.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 10));
        },
        exited,
        stop,
      };
    }
    await stop('SIGKILL');
    lastError = shared ? `port ${port} was shared with another listener` : `the C sink did not start: ${stderr}`;
  }
  throw new Error(lastError);
}

// ---- a recording SMTP server ---------------------------------------------------------------

export interface Recorder {
  port: number;
  /** Every message as received between 354 and the final ".", byte for byte. */
  messages: Buffer[];
  /** Every command line received (without CR LF). */
  commands: string[];
  close(): Promise<void>;
}

/**
 * A minimal SMTP/LMTP server that says yes to everything and keeps the DATA bytes exactly as
 * they arrived (no CR removal, no dot-unstuffing), which the sinks' dumps cannot show.
 */
export async function recordingServer(opts: { lmtp?: boolean } = {}): Promise<Recorder> {
  const messages: Buffer[] = [];
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    let inData = false;
    let rcpts = 0;
    socket.write('220 recorder ESMTP\r\n');
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (inData) {
          let end: number;
          let skip: number;
          if (buf.subarray(0, 3).equals(Buffer.from('.\r\n'))) {
            end = 0;
            skip = 3;
          } else {
            const i = buf.indexOf('\r\n.\r\n');
            if (i < 0) return;
            end = i + 2;
            skip = i + 5;
          }
          messages.push(Buffer.from(buf.subarray(0, end)));
          buf = buf.subarray(skip);
          inData = false;
          socket.write(opts.lmtp ? '250 2.2.0 Ok\r\n'.repeat(rcpts) : '250 2.0.0 Ok\r\n');
          continue;
        }
        const lf = buf.indexOf('\r\n');
        if (lf < 0) return;
        const line = buf.subarray(0, lf).toString('latin1');
        buf = buf.subarray(lf + 2);
        commands.push(line);
        const verb = line.split(' ')[0].toUpperCase();
        if (verb === 'DATA') {
          inData = true;
          socket.write('354 go ahead\r\n');
        } else if (verb === 'QUIT') {
          socket.end('221 Bye\r\n');
          return;
        } else {
          if (verb === 'MAIL') rcpts = 0;
          if (verb === 'RCPT') rcpts++;
          socket.write('250 Ok\r\n');
        }
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    messages,
    commands,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- a recording proxy ---------------------------------------------------------------------

export interface Proxy {
  port: number;
  /** Per client connection, each chunk the client sent, as the proxy read it. */
  connections: Buffer[][];
  close(): Promise<void>;
}

/** A TCP proxy to 127.0.0.1:targetPort that records what clients send, chunk by chunk. */
export async function recordingProxy(targetPort: number): Promise<Proxy> {
  const connections: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const chunks: Buffer[] = [];
    connections.push(chunks);
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (d: Buffer) => {
      chunks.push(Buffer.from(d));
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    connections,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- dumps ---------------------------------------------------------------------------------

/**
 * Waits for the one dump file a `-d <dir>/%Y.` sink wrote (a name of 4 digits, '.', 8 hex
 * digits), reads it and removes it, so that the next run's file is told apart.
 */
export async function takeDump(dir: string, timeoutMs = 3000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const files = readdirSync(dir).filter((f) => /^\d{4}\.[0-9a-f]{8}$/.test(f));
    if (files.length > 1) throw new Error(`more than one dump in ${dir}: ${files.join(' ')}`);
    if (files.length === 1) {
      const path = join(dir, files[0]);
      const text = readFileSync(path, 'latin1');
      rmSync(path);
      return text;
    }
    if (Date.now() > deadline) throw new Error(`no dump file appeared in ${dir}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface NormalizedDump {
  /** The dump without the lines that legitimately differ between two runs. */
  text: string;
  /** The removed lines, by kind. */
  received: string[];
  date: string[];
  messageId: string[];
  trackingId: string[];
}

/**
 * Removes, from the header part of a dump (up to the first empty line), the lines that differ
 * from run to run: the sink's 3-line Received: (random id, time), Date:, Message-Id: and our
 * X-Smtpstone-Id:. Everything else is kept byte for byte.
 */
export function normalizeDump(dump: string): NormalizedDump {
  const lines = dump.split('\n');
  const kept: string[] = [];
  const out: NormalizedDump = { text: '', received: [], date: [], messageId: [], trackingId: [] };
  let inHeaders = true;
  let inReceived = false;
  for (const line of lines) {
    if (inHeaders && line === '') inHeaders = false;
    if (inHeaders) {
      if (inReceived && line.startsWith('\t')) {
        out.received.push(line);
        continue;
      }
      inReceived = false;
      if (line.startsWith('Received: ')) {
        inReceived = true;
        out.received.push(line);
        continue;
      }
      if (line.startsWith('Date: ')) {
        out.date.push(line);
        continue;
      }
      if (line.startsWith('Message-Id: ')) {
        out.messageId.push(line);
        continue;
      }
      if (line.startsWith('X-Smtpstone-Id: ')) {
        out.trackingId.push(line);
        continue;
      }
    }
    kept.push(line);
  }
  out.text = kept.join('\n');
  return out;
}

/** A mail date as both programs write it: "Fri, 27 Nov 2026 08:59:58 +0000 (UTC)". */
export const MAIL_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [ 123]\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4} \([^)]+\)$/;

/** Reads a --journal file: one JSON object per line. */
export function readJournal(path: string): Record<string, unknown>[] {
  const text = readFileSync(path, 'utf8');
  if (!text.endsWith('\n')) throw new Error(`journal does not end with a newline: ${JSON.stringify(text.slice(-100))}`);
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

// ---- teardown ------------------------------------------------------------------------------

/** Registers an afterEach that stops, newest first, everything the returned helpers start. */
export function resources() {
  const undo = teardownStack();
  return {
    /** The C smtp-sink (see startCSink), killed after the test. */
    async cSink(bin: string, args: string[], opts: { unixPath?: string; backlog?: number } = {}): Promise<CSink> {
      const sink = await startCSink(bin, args, opts);
      undo.push(() => sink.stop('SIGKILL'));
      return sink;
    },
    /** Our sink in-process on 127.0.0.1:0 (or options.listen), closed after the test. */
    async sink(options: Partial<SinkOptionsInput> = {}): Promise<TestSink> {
      const sink = await testSink(options);
      undo.push(() => sink.close(0));
      return sink;
    },
    async recorder(opts: { lmtp?: boolean } = {}): Promise<Recorder> {
      const rec = await recordingServer(opts);
      undo.push(() => rec.close());
      return rec;
    },
    async proxy(targetPort: number): Promise<Proxy> {
      const p = await recordingProxy(targetPort);
      undo.push(() => p.close());
      return p;
    },
    /** A fresh temporary directory (short path, fit for a unix socket), removed after the test. */
    dir(): string {
      const d = tempDir('smtpstone-src-');
      undo.push(() => d.remove());
      return d.path;
    },
  };
}

/** One message as the C sink dumped it, back on the wire: after its own headers, CR LF restored, dot-stuffed. */
export function dumpedWireBytes(dump: string): number {
  const lines = dump.split('\n');
  let i = 0;
  while (/^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args): /.test(lines[i])) i++;
  if (!lines[i].startsWith('Received: from ')) throw new Error(`not a C sink dump: ${JSON.stringify(dump.slice(0, 300))}`);
  for (i++; lines[i].startsWith('\t'); i++);
  // The dump ends each message with an empty line of its own.
  if (!dump.endsWith('\n\n')) throw new Error(`a C sink dump without its final empty line: ${JSON.stringify(dump.slice(-100))}`);
  return wireBytes(Buffer.from(lines.slice(i, -2).map((l) => `${l}\r\n`).join(''), 'latin1'));
}
