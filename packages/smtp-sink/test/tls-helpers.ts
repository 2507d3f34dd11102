// Helpers for the TLS and AUTH tests: a raw SMTP client that can take STARTTLS or start in
// TLS, certificates made with the openssl command, and openssl s_client driven line by line.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { ReplyParser } from '@smtpstone/core';
import { runOk } from './interop-helpers.js';
import type { Reply } from './helpers.js';

/** Reads whole replies from a socket, plain or TLS; can move itself under TLS (STARTTLS). */
export class SmtpConn {
  readonly replies: Reply[] = [];
  closed = false;
  private waiters: (() => void)[] = [];
  private readonly parser = new ReplyParser((code, p) => {
    this.replies.push({ code, text: p.replyText() });
    this.wake();
  });
  private readonly onData = (chunk: Buffer): void => this.parser.push(chunk);

  constructor(readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static async plain(port: number): Promise<SmtpConn> {
    const socket = netConnect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new SmtpConn(socket);
  }

  /** A connection that starts with the TLS handshake (--tls). */
  static async implicit(port: number, options: ConnectionOptions = {}): Promise<SmtpConn> {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    await once(socket, 'secureConnect');
    return new SmtpConn(socket);
  }

  /** Starts TLS on this connection (after a 220 to STARTTLS) and returns the client over it. */
  async upgrade(options: ConnectionOptions = {}): Promise<SmtpConn> {
    this.socket.removeListener('data', this.onData);
    const secure = tlsConnect({ socket: this.socket, rejectUnauthorized: false, ...options });
    await once(secure, 'secureConnect');
    return new SmtpConn(secure);
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
      once(this.socket, 'close'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('connection still open')), timeoutMs)),
    ]);
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface Certs {
  dir: string;
  caCert: string;
  cert: string;
  key: string;
  /** A key that belongs to no certificate here. */
  otherKey: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** A CA and a server certificate it signed for localhost and 127.0.0.1, made with openssl. */
export async function makeCerts(openssl: string, dir: string): Promise<Certs> {
  const p = (n: string): string => join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await runOk(openssl, ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=smtpstone test CA']);
  await runOk(openssl, ['req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=localhost']);
  writeFileSync(p('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  await runOk(openssl, [
    'x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial',
    '-out', p('server.pem'), '-days', '2', '-extfile', p('ext.cnf'),
  ]);
  await runOk(openssl, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p('other.key')]);
  return {
    dir,
    caCert: p('ca.pem'),
    cert: p('server.pem'),
    key: p('server.key'),
    otherKey: p('other.key'),
    caPem: readFileSync(p('ca.pem'), 'latin1'),
    certPem: readFileSync(p('server.pem'), 'latin1'),
    keyPem: readFileSync(p('server.key'), 'latin1'),
  };
}

/**
 * openssl s_client as a line-by-line SMTP client: `-quiet` shows only what the server sends
 * after the handshake (with -starttls smtp, s_client has done the banner, EHLO and STARTTLS
 * itself). Waits for reply lines and writes commands as a person at a terminal would.
 */
export class SClient {
  out = '';
  private readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (d) => (this.out += d));
    child.stderr.on('data', () => undefined);
    this.exited = once(child, 'exit').then(([code]) => code as number | null);
  }

  static start(openssl: string, args: string[]): SClient {
    return new SClient(spawn(openssl, ['s_client', '-quiet', ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  /** Waits until stdout has a line matching `re` after the first `after` characters; returns where it ends. */
  async expectLine(re: RegExp, after = 0, timeoutMs = 10000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.out.slice(after);
      const lines = text.split('\n');
      let at = after;
      for (const line of lines.slice(0, -1)) {
        at += line.length + 1;
        if (re.test(line.replace(/\r$/, ''))) return at;
      }
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`s_client: no line ${re} in ${JSON.stringify(this.out)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  send(text: string): void {
    this.child.stdin.write(text);
  }

  async exit(timeoutMs = 10000): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  close(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
