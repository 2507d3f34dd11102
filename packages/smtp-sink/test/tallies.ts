// Each real client's own side of the tally (issue 7), shared by every test in which a real
// client drives our sink: swaks from its transcript, nodemailer from its send results, Python's
// smtplib instrumented to report what it wrote, the C smtp-source through a counting proxy.
// Each test compares it with the sink's side: expectSameTally(clientTally, sinkTally(stats)).
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { expect, onTestFinished } from 'vitest';
import { runOk, type Tally } from './interop-helpers.js';

export type NodemailerTransport = ReturnType<typeof nodemailer.createTransport>;

/**
 * A nodemailer transport to a sink on 127.0.0.1:port (HELO name client.example, 5 s
 * timeouts) with `options` on top, closed when the test ends.
 */
export function nodemailerTransport(port: number, options: Record<string, unknown> = {}): NodemailerTransport {
  const t = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    name: 'client.example',
    connectionTimeout: 5000,
    greetingTimeout: 5000,
    socketTimeout: 5000,
    ...options,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  onTestFinished(() => t.close());
  return t;
}

/** The sum of tallies, for a test whose client ran several times. */
export function addTallies(...tallies: Tally[]): Tally {
  return tallies.reduce((a, t) => ({ messages: a.messages + t.messages, recipients: a.recipients + t.recipients, bytes: a.bytes + t.bytes }), { messages: 0, recipients: 0, bytes: 0 });
}

/** swaks's transcript lines between the end-of-data "." and the QUIT. */
export function linesAfterDot(lines: string[]): string[] {
  const dot = lines.indexOf(' -> .');
  const quit = lines.indexOf(' -> QUIT');
  expect(dot).toBeGreaterThan(0);
  expect(quit).toBeGreaterThan(dot);
  return lines.slice(dot + 1, quit);
}

/**
 * swaks's side of the tally, from its transcript of one transaction: the replies after MAIL
 * come in command order (pipelined or not), the first for MAIL and then one per RCPT; the
 * message counts when a 2xx follows its "." (LMTP: any of the per-recipient replies); the bytes
 * are the " -> " lines swaks sent between the 354 and the ".", each with its CR LF. Lines
 * swaks sent under TLS (" ~> ", "<~  ") count the same.
 */
export function swaksTally(transcript: string[]): Tally {
  const lines = transcript.map((l) => l.replace(/^ ~> /, ' -> ').replace(/^<~ /, '<- '));
  const mail = lines.findIndex((l) => l.startsWith(' -> MAIL FROM:'));
  const start = lines.indexOf('<-  354 End data with <CR><LF>.<CR><LF>');
  expect(mail).toBeGreaterThan(0);
  expect(start).toBeGreaterThan(mail);
  const envelope = lines.slice(mail, start);
  const rcpts = envelope.filter((l) => l.startsWith(' -> RCPT TO:')).length;
  const rcptReplies = envelope.filter((l) => /^<- {2}\d{3} /.test(l)).slice(1, 1 + rcpts);
  expect(rcptReplies).toHaveLength(rcpts);
  const data = lines.slice(start + 1, lines.indexOf(' -> .'));
  expect(data.every((l) => l.startsWith(' -> '))).toBe(true);
  return {
    messages: linesAfterDot(lines).some((l) => /^<- {2}2\d\d /.test(l)) ? 1 : 0,
    recipients: rcptReplies.filter((l) => /^<- {2}2/.test(l)).length,
    bytes: data.reduce((n, l) => n + Buffer.byteLength(l.slice(' -> '.length)) + '\r\n'.length, 0),
  };
}

/**
 * nodemailer's side of the tally, from its send results: a message counts when its end of data
 * got a 2xx, its recipients are info.accepted. info.messageSize is what nodemailer's data stream
 * wrote after the 354 (dot-stuffed, CR LF), the ".\r\n" terminator included, which the tally
 * does not count.
 */
export function nodemailerTally(infos: { accepted: unknown[]; response: string }[]): Tally {
  const t: Tally = { messages: 0, recipients: 0, bytes: 0 };
  for (const info of infos) {
    const size = (info as { messageSize?: unknown }).messageSize;
    expect(typeof size).toBe('number');
    if (/^2/.test(info.response)) t.messages++;
    t.recipients += info.accepted.length;
    t.bytes += (size as number) - '.\r\n'.length;
  }
  return t;
}

/**
 * Shared prelude: JSON output of smtplib's (code, bytes) tuples and dicts, and smtplib's side of
 * the tally: recipients its rcpt() saw accepted, messages whose end of data its data() saw get
 * a 2xx, and the bytes data() put on the wire after the 354 (its last send(): the message after
 * smtplib's own CR LF fixing and dot-stuffing, less the ".\r\n" terminator).
 */
export const PYTHON_TALLY_PRELUDE = `
import json, smtplib, sys
def plain(v):
    if isinstance(v, bytes): return v.decode('utf-8', 'replace')
    if isinstance(v, (tuple, list)): return [plain(x) for x in v]
    if isinstance(v, dict): return {plain(k): plain(x) for k, x in v.items()}
    return v
out = {}
tally = {'messages': 0, 'recipients': 0, 'bytes': 0}
_send, _rcpt, _data = smtplib.SMTP.send, smtplib.SMTP.rcpt, smtplib.SMTP.data
def send(self, s):
    self.last_sent = s
    return _send(self, s)
def rcpt(self, *a, **k):
    code, resp = _rcpt(self, *a, **k)
    if code in (250, 251): tally['recipients'] += 1
    return code, resp
def data(self, msg):
    code, resp = _data(self, msg)
    assert self.last_sent.endswith(b'\\r\\n.\\r\\n')
    tally['bytes'] += len(self.last_sent) - len(b'.\\r\\n')
    if 200 <= code < 300: tally['messages'] += 1
    return code, resp
smtplib.SMTP.send, smtplib.SMTP.rcpt, smtplib.SMTP.data = send, rcpt, data
`;

/** Runs a script with `python` after PYTHON_TALLY_PRELUDE: what it put in `out`, and smtplib's tally. */
export async function pySmtplib(python: string, script: string, args: string[]): Promise<{ out: Record<string, unknown>; tally: Tally }> {
  const res = await runOk(python, ['-c', PYTHON_TALLY_PRELUDE + script + "\nprint(json.dumps({'out': plain(out), 'tally': tally}))\n", ...args]);
  return JSON.parse(res.stdout) as { out: Record<string, unknown>; tally: Tally };
}

/**
 * Counts, on one client-to-server stream, the message bytes as on the wire: everything after a
 * "DATA" command line up to and including the CR LF before the "." line that ends the data.
 * smtp-source is lock-step and sends no message before the 354, so what follows its DATA is
 * what follows the 354.
 */
export function dataByteCounter(): { feed(chunk: Buffer): void; bytes(): number } {
  const CR = 0x0d;
  const LF = 0x0a;
  const DOT = 0x2e;
  let total = 0;
  let command: number[] = [];
  let inData = false;
  let count = 0;
  // In data: 0 inside a line, 1 after a CR, 2 at the start of a line, 3 after a line's
  // leading ".", 4 after that "." and a CR.
  let state = 0;
  const feedByte = (b: number) => {
    if (!inData) {
      if (b !== LF) {
        if (command.length < 64) command.push(b);
        return;
      }
      const line = Buffer.from(command).toString('latin1').replace(/\r$/, '').toUpperCase();
      command = [];
      if (line === 'DATA') [inData, count, state] = [true, 0, 2];
      return;
    }
    count++;
    if (state === 4 && b === LF) {
      total += count - '.\r\n'.length;
      inData = false;
      return;
    }
    if (state === 2 && b === DOT) state = 3;
    else if (state === 3 && b === CR) state = 4;
    else if (b === CR) state = 1;
    else state = state === 1 && b === LF ? 2 : 0;
  };
  return {
    feed: (chunk) => {
      for (const b of chunk) feedByte(b);
    },
    bytes: () => total,
  };
}

/**
 * A proxy in front of the sink at `target` (smtp-source syntax: "127.0.0.1:port" or
 * "unix:path"), listening on 127.0.0.1:0 or, for a unix target, on `unix:<dir>/p.sock`, that
 * counts the message bytes each client sends. Closed when the test ends.
 */
export async function countingProxy(target: string): Promise<{ target: string; bytes(): number }> {
  const sinkPath = target.startsWith('unix:') ? target.slice('unix:'.length) : undefined;
  const upstreamAt = sinkPath !== undefined ? { path: sinkPath } : { host: '127.0.0.1', port: Number(target.split(':')[1]) };
  const counters: ReturnType<typeof dataByteCounter>[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const counter = dataByteCounter();
    counters.push(counter);
    const upstream = connect(upstreamAt);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ]) {
      sockets.add(a);
      a.on('error', () => undefined);
      a.on('close', (hadError) => {
        sockets.delete(a);
        if (hadError) b.destroy();
        else b.end();
      });
      a.pipe(b);
    }
    client.on('data', (d: Buffer) => counter.feed(d));
  });
  const path = sinkPath !== undefined ? join(sinkPath, '..', 'p.sock') : undefined;
  server.listen(path ?? { host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  onTestFinished(async () => {
    for (const sock of sockets) sock.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    target: path !== undefined ? `unix:${path}` : `127.0.0.1:${(server.address() as { port: number }).port}`,
    bytes: () => counters.reduce((n, c) => n + c.bytes(), 0),
  };
}
