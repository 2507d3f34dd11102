// Servers that misbehave in ways no real MTA does on purpose: scripted here on loopback,
// since no real peer sends garbage, splits replies byte by byte or stalls on request.
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeScripted, scripted, smtp } from './scripted-server.js';
import { runSource } from '../src/index.js';

afterEach(closeScripted);

const quiet = { writeLog: () => undefined };

describe('smtp-source against misbehaving servers', () => {
  it('multi-line replies split one byte at a time still parse', async () => {
    const drip = (s: Socket, text: string): void => {
      let i = 0;
      const t = setInterval(() => {
        if (i >= text.length || s.destroyed) return clearInterval(t);
        s.write(text[i++]);
      }, 1);
    };
    const port = await scripted((s) => drip(s, '220-hello\r\n220-there\r\n220 ESMTP\r\n'), smtp({ HELO: (s) => drip(s, '250-a\r\n250 b\r\n') }));
    const r = await runSource({ target: `127.0.0.1:${port}`, messages: 2, ...quiet });
    expect(r.fatal).toBeUndefined();
    expect(r.messages.accepted).toBe(2);
  });

  it('a garbage reply is code 0: fatal without -A, counted with -A', async () => {
    const port = await scripted('220 hi\r\n', smtp({ HELO: (s) => s.write('bogus\r\n') }));
    const r = await runSource({ target: `127.0.0.1:${port}`, messages: 1, ...quiet });
    expect(r.fatal).toBe('HELO rejected: 0 bogus');
    const logs: string[] = [];
    const a = await runSource({ target: `127.0.0.1:${port}`, messages: 3, allowReject: true, writeLog: (l) => logs.push(l) });
    expect(a.fatal).toBeUndefined();
    expect(a.rejects.helo).toEqual({ '0': 3 });
    expect(a.messages.accepted).toBe(3);
    expect(logs.join('')).toContain('smtp-source: warning: HELO rejected: 0 bogus');
  });

  it('a reset in mid-DATA: fatal "lost connection while sending message"; with -A each is counted', async () => {
    const port = await scripted('220 hi\r\n', smtp({ '.': (s) => s.destroy() }));
    const r = await runSource({ target: `127.0.0.1:${port}`, messages: 1, ...quiet });
    expect(r.fatal).toBe('lost connection while sending message');
    expect(r.messages.failed).toBe(1);
    const a = await runSource({ target: `127.0.0.1:${port}`, messages: 4, sessions: 2, allowReject: true, ...quiet });
    expect(a.errors.lostConnections).toBe(4);
    expect(a.messages).toMatchObject({ started: 4, sent: 4, accepted: 0, failed: 4 });
  });

  it('421 at MAIL with -A: counted, and the next message comes on a new connection', async () => {
    const port = await scripted('220 hi\r\n', smtp({ MAIL: (s) => s.end('421 4.3.2 go away\r\n') }));
    const a = await runSource({ target: `127.0.0.1:${port}`, messages: 3, reuseConnection: true, allowReject: true, ...quiet });
    expect(a.errors.serverClosed).toBe(3);
    expect(a.rejects.mail).toEqual({ '421': 3 });
    expect(a.connections.opened).toBe(3);
    expect(a.messages.rejected).toBe(3);
  });

  it('a server that never speaks: a timeout, reported with its context', async () => {
    const port = await scripted(() => undefined, () => undefined);
    const t0 = Date.now();
    const r = await runSource({ target: `127.0.0.1:${port}`, messages: 1, timeoutSeconds: 1, ...quiet });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(r.fatal).toBe('timeout while reading server greeting');
    expect(r.errors.timeouts).toBe(1);
  });

  it('a server that hangs up after the banner: lost connection while sending HELO', async () => {
    const port = await scripted('220 hi\r\n', (_l, s) => s.destroy());
    const r = await runSource({ target: `127.0.0.1:${port}`, messages: 1, ...quiet });
    expect(r.fatal).toBe('lost connection while sending HELO');
  });

  it('no answer to QUIT is no error (the C program died on it)', async () => {
    const port = await scripted('220 hi\r\n', smtp({ QUIT: (s) => s.destroy() }));
    const r = await runSource({ target: `127.0.0.1:${port}`, messages: 3, ...quiet });
    expect(r.fatal).toBeUndefined();
    expect(r.messages.accepted).toBe(3);
  });

  it('connection refused: fatal at once; -C 3 tries three times', async () => {
    const port = await scripted('220 hi\r\n', smtp());
    await closeScripted();
    const logs: string[] = [];
    const r = await runSource({ target: `127.0.0.1:${port}`, messages: 1, connectAttempts: 3, writeLog: (l) => logs.push(l) });
    expect(r.fatal).toBe('connect: Connection refused');
    expect(r.errors.connectFailures).toBe(3);
    expect(logs.filter((l) => l.includes('warning: connect: Connection refused'))).toHaveLength(2);
  });

  it('LMTP with -A and one rejected recipient waits for one reply per accepted recipient (the C program hung)', async () => {
    let rcpt = 0;
    const port = await scripted(
      '220 lmtp\r\n',
      smtp({
        RCPT: (s) => s.write(rcpt++ % 2 === 0 ? '550 5.1.1 no such user\r\n' : '250 ok\r\n'),
        '.': (s) => s.write('250 2.0.0 <x> id1 Saved\r\n'),
      }),
    );
    const t0 = Date.now();
    const r = await runSource({ target: `127.0.0.1:${port}`, lmtp: true, recipients: 2, messages: 2, allowReject: true, timeoutSeconds: 5, ...quiet });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r.fatal).toBeUndefined();
    expect(r.recipients).toEqual({ sent: 4, accepted: 2, rejected: 2 });
    expect(r.messages.accepted).toBe(2);
  });

  it('replies nobody asked for are ignored, not crashed on', async () => {
    const port = await scripted('220 hi\r\n', smtp({ NOOP: () => undefined, HELO: (s) => s.write('250 ok\r\n250 extra\r\n') }));
    const t0 = Date.now();
    const r = await runSource({ target: `127.0.0.1:${port}`, messages: 1, allowReject: true, timeoutSeconds: 1, ...quiet });
    // The extra reply answers MAIL, so the client falls out of step, as the C program would;
    // the run still ends, within its timeout, and says what it saw.
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(r.messages.started).toBe(1);
    expect(r.messages.accepted).toBe(0);
    expect(r.rejects.data).toEqual({ '250': 1 });
  });
});
