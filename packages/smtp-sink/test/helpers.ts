// Test helpers: real sinks on ephemeral loopback ports, a raw SMTP client that reads replies
// with the core's parser, the CLI as a child process, and peers that must exist in CI.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { ReplyParser } from '@smtpstone/core';
import { startSink, type Sink, type SinkOptionsInput } from '../src/index.js';

export const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');

/** A sink on 127.0.0.1 with a port the system picks; logs are collected, not printed. */
export async function testSink(options: Partial<SinkOptionsInput> = {}): Promise<Sink & { logs: string[] }> {
  const logs: string[] = [];
  const sink = await startSink({ listen: '127.0.0.1:0', writeLog: (l) => logs.push(l), ...options });
  return Object.assign(sink, { logs });
}

export function portOf(sink: Sink): number {
  if (sink.address.kind !== 'inet') throw new Error('not an inet sink');
  return sink.address.port;
}

export interface Reply {
  code: number;
  text: string;
}

/** A client that writes raw bytes and reads whole replies, for what real clients won't send. */
export class RawClient {
  readonly replies: Reply[] = [];
  private waiters: (() => void)[] = [];
  closed = false;
  readonly parser = new ReplyParser((code, p) => {
    this.replies.push({ code, text: p.replyText() });
    this.wake();
  });

  private readonly onData = (chunk: Buffer): void => this.parser.push(chunk);

  private constructor(readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number | string, host = '127.0.0.1'): Promise<RawClient> {
    const socket = typeof port === 'string' ? connect(port) : connect(port, host);
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  /** A connection that starts with the TLS handshake (the sink's --tls). */
  static async implicit(port: number, options: ConnectionOptions = {}): Promise<RawClient> {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    await once(socket, 'secureConnect');
    return new RawClient(socket);
  }

  /** Starts TLS on this connection (after a 220 to STARTTLS) and returns the client over it. */
  async upgrade(options: ConnectionOptions = {}): Promise<RawClient> {
    this.socket.removeListener('data', this.onData);
    const secure = tlsConnect({ socket: this.socket, rejectUnauthorized: false, ...options });
    await once(secure, 'secureConnect');
    return new RawClient(secure);
  }

  get tls(): TLSSocket {
    return this.socket as TLSSocket;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits until `count` replies have arrived in all, or the connection closed, or timeout. */
  async until(count: number, timeoutMs = 5000): Promise<Reply[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length < count && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for reply ${count}; have ${JSON.stringify(this.replies)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.replies;
  }

  /** Sends a command and returns the next reply. */
  async command(line: string, timeoutMs = 5000): Promise<Reply> {
    const n = this.replies.length;
    this.send(line + '\r\n');
    const r = await this.until(n + 1, timeoutMs);
    if (r.length <= n) throw new Error(`connection closed before a reply to ${line}`);
    return r[n];
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    await Promise.race([
      // Not once(): a reset is an 'error' first, and a reset is a way of being closed.
      new Promise((resolve) => this.socket.once('close', resolve)),
      new Promise((_, reject) => setTimeout(() => reject(new Error('connection still open')), timeoutMs)),
    ]);
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * The path of a peer program, or undefined. Our own bins (node_modules/.bin, which pnpm puts
 * first on PATH and which hold an smtp-sink and an smtp-source of ours) never count as a
 * peer. Outside CI a missing peer skips its tests; in CI (CI=true) a missing peer is a
 * failure, since .ci/run installs them all.
 */
export function peer(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':').filter((d) => d !== '' && !d.includes('node_modules'));
  for (const dir of [...dirs, '/usr/sbin', '/usr/local/sbin']) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  if (process.env.CI) throw new Error(`peer "${name}" is not installed; .ci/run should have installed it`);
  return undefined;
}

export function tempDir(prefix = 'smtpstone-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion with a time limit. */
export async function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  if (opts.input !== undefined) child.stdin.end(opts.input);
  else child.stdin.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 20000);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}

/** The user to pass as -u: the CLI, like the original, insists on one when run as root. */
export function currentUser(): string {
  return process.env.USER ?? (spawnSync('id', ['-un'], { encoding: 'utf8' }).stdout.trim() || 'root');
}

export interface CliSink {
  child: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when the process exits. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts our CLI sink on 127.0.0.1:0 (or the given endpoint) and waits for its address. */
export async function cliSink(args: string[], endpoint = '127.0.0.1:0', backlog = '100'): Promise<CliSink> {
  const child = spawn(process.execPath, [CLI, '-u', currentUser(), ...args, endpoint, backlog], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const deadline = Date.now() + 5000;
  let port = 0;
  while (Date.now() < deadline) {
    if (endpoint.startsWith('unix:') && existsSync(endpoint.slice(5))) break;
    const m = /listening on .*:(\d+)\n/.exec(stderr);
    if (m) {
      port = Number(m[1]);
      break;
    }
    if (child.exitCode !== null) throw new Error(`sink exited: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  if (port === 0 && endpoint.startsWith('127.0.0.1:0')) throw new Error(`sink did not start: ${stderr}`);
  return {
    child,
    port,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
  };
}

/** Registers an afterEach that undoes what is pushed on the returned stack, newest first, every one even if another fails. */
export function teardownStack(): (() => unknown)[] {
  const undo: (() => unknown)[] = [];
  afterEach(async () => {
    while (undo.length > 0) {
      try {
        await undo.pop()!();
      } catch {
        // Tear down the rest regardless.
      }
    }
  });
  return undo;
}
