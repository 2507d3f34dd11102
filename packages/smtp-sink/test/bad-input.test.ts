// Hostile and broken clients: the sink answers clearly, counts each case and keeps serving.
import { afterEach, describe, expect, it } from 'vitest';
import { cliSink, portOf, RawClient, testSink, type CliSink } from './helpers.js';
import type { Sink } from '../src/index.js';

let sink: Sink | undefined;
let cli: CliSink | undefined;
afterEach(async () => {
  await sink?.close();
  await cli?.stop('SIGKILL');
  sink = undefined;
  cli = undefined;
});

async function greeted(options = {}): Promise<RawClient> {
  sink = await testSink(options);
  const c = await RawClient.open(portOf(sink));
  await c.until(1);
  return c;
}

describe('bad input to smtp-sink', () => {
  it('an overlong command line gets 500 and the session goes on; 2046 characters are still fine', async () => {
    const c = await greeted();
    expect(await c.command('NOOP ' + 'x'.repeat(2041))).toEqual({ code: 250, text: '2.0.0 Ok' });
    expect(await c.command('NOOP ' + 'x'.repeat(2042))).toEqual({ code: 500, text: '5.5.2 Error: command line too long' });
    // Split over many writes, still one long line and one reply.
    c.send('NOOP ');
    for (let i = 0; i < 100; i++) c.send('y'.repeat(1000));
    expect(await c.command('')).toEqual({ code: 500, text: '5.5.2 Error: command line too long' });
    expect(await c.command('NOOP')).toEqual({ code: 250, text: '2.0.0 Ok' });
    expect(sink!.stats().longLines).toBe(2);
    c.close();
  });

  it('an overlong line whose CR ends one chunk and LF starts the next still ends there', async () => {
    const c = await greeted();
    c.socket.setNoDelay(true);
    // Found by the cut-session property: the overlong line kept no bytes, so the CR was forgotten
    // and the LF taken as bare, which glued the next command onto the discarded line.
    c.send('NOOP ' + 'y'.repeat(5000) + '\r');
    await new Promise((r) => setTimeout(r, 50));
    c.send('\n.\r\n');
    await c.until(3);
    expect(c.replies.slice(1)).toEqual([
      { code: 500, text: '5.5.2 Error: command line too long' },
      { code: 250, text: '2.0.0 Ok' },
    ]);
    c.close();
  });

  it('a 1 MB command line, in one write or in 1 kB pieces: one 500 each, the session goes on; a 1 MB line in DATA is counted whole', async () => {
    const c = await greeted();
    const mb = 'z'.repeat(1024 * 1024);
    expect(await c.command('MAIL FROM:<' + mb + '>')).toEqual({ code: 500, text: '5.5.2 Error: command line too long' });
    c.send('RCPT TO:<');
    for (let i = 0; i < 1024; i++) c.send(mb.slice(0, 1024));
    expect(await c.command('>')).toEqual({ code: 500, text: '5.5.2 Error: command line too long' });
    expect((await c.command('MAIL FROM:<a@b>')).code).toBe(250);
    expect((await c.command('RCPT TO:<c@d>')).code).toBe(250);
    expect((await c.command('DATA')).code).toBe(354);
    const bytesBefore = sink!.stats().bytes;
    expect(await c.command(mb + '\r\n.')).toEqual({ code: 250, text: '2.0.0 Ok' });
    expect(sink!.stats().bytes - bytesBefore).toBe(mb.length + 2);
    expect(sink!.stats().longLines).toBe(2);
    c.close();
  });

  it('binary garbage gets "unknown command", then the session works', async () => {
    const c = await greeted();
    c.send(Buffer.from([0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x41, 0x0d, 0x0a]));
    await c.until(2);
    expect(c.replies[1]).toEqual({ code: 500, text: '5.5.1 Error: unknown command' });
    expect(await c.command('HELO ok')).toEqual({ code: 250, text: 'smtp-sink' });
    expect(sink!.stats().commands.unknown).toBe(1);
    c.close();
  });

  it('a bare LF does not end a command (as in the C sink), and an empty line is 500 5.5.2', async () => {
    const c = await greeted();
    expect(await c.command('NOOP\nNOOP')).toEqual({ code: 500, text: '5.5.1 Error: unknown command' });
    expect(await c.command('')).toEqual({ code: 500, text: '5.5.2 Error: unknown command' });
    expect(await c.command('   ')).toEqual({ code: 500, text: '5.5.2 Error: unknown command' });
    c.close();
  });

  it('commands out of order get 503 and are counted', async () => {
    const c = await greeted();
    expect(await c.command('RCPT TO:<a@b>')).toEqual({ code: 503, text: '5.5.1 Error: need MAIL command' });
    expect(await c.command('DATA')).toEqual({ code: 503, text: '5.5.1 Error: need RCPT command' });
    expect(await c.command('MAIL FROM:<a@b>')).toEqual({ code: 250, text: '2.1.0 Ok' });
    expect(await c.command('MAIL FROM:<a@b>')).toEqual({ code: 503, text: '5.5.1 Error: nested MAIL command' });
    expect(await c.command('DATA')).toEqual({ code: 503, text: '5.5.1 Error: need RCPT command' });
    expect(sink!.stats().outOfOrder).toBe(4);
    expect(sink!.stats().rejects).toEqual({ '503': 4 });
    c.close();
  });

  it('a stray "." outside DATA is answered Ok, in LMTP mode too (the C sink left LMTP clients hanging)', async () => {
    const c = await greeted({ lmtp: true });
    expect(await c.command('.')).toEqual({ code: 250, text: '2.0.0 Ok' });
    c.close();
  });

  it('10,000 pipelined commands in one write get 10,000 replies in order', async () => {
    const c = await greeted();
    c.send('NOOP\r\n'.repeat(9999) + 'RSET\r\n');
    const r = await c.until(10001, 15000);
    expect(r.slice(1, 10000).every((x) => x.text === '2.0.0 Ok')).toBe(true);
    expect(r[10000]).toEqual({ code: 250, text: '2.1.0 Ok' });
    c.close();
  });

  it('a pipelined transaction gets all its replies in one write', async () => {
    const c = await greeted();
    const chunks: Buffer[] = [];
    c.socket.on('data', (d: Buffer) => chunks.push(d));
    c.send('EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n');
    await c.until(5);
    expect(chunks).toHaveLength(1);
    expect(chunks[0].toString().split('\r\n').length - 1).toBe(12);
    c.close();
  });

  it('clients that vanish in mid-DATA are counted, and a huge message is streamed, not held', async () => {
    const c = await greeted();
    await c.command('MAIL FROM:<a@b>');
    await c.command('RCPT TO:<c@d>');
    await c.command('DATA');
    const line = Buffer.from('x'.repeat(998) + '\r\n');
    const block = Buffer.concat(Array.from({ length: 1024 }, () => line));
    for (let i = 0; i < 20; i++) c.send(block); // 20 MB of message, then gone
    c.close();
    const deadline = Date.now() + 5000;
    while (sink!.stats().sessions < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(sink!.stats().lostInData).toBe(1);
    expect(sink!.stats().messages).toBe(0);
  });

  it('the CLI sink keeps its memory flat while a 300 MB message streams through', async () => {
    cli = await cliSink([]);
    const c = await RawClient.open(cli.port);
    await c.until(1);
    await c.command('MAIL FROM:<a@b>');
    await c.command('RCPT TO:<c@d>');
    await c.command('DATA');
    const line = Buffer.from('y'.repeat(78) + '\r\n');
    const block = Buffer.concat(Array.from({ length: 12800 }, () => line)); // 1 MB
    for (let i = 0; i < 300; i++) {
      if (!c.socket.write(block)) await new Promise((r) => c.socket.once('drain', r));
    }
    expect(await c.command('.', 30000)).toEqual({ code: 250, text: '2.0.0 Ok' });
    const status = (await import('node:fs')).readFileSync(`/proc/${cli.child.pid}/status`, 'utf8');
    const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)![1]);
    expect(hwmKb).toBeLessThan(120 * 1024);
    c.close();
  }, 60000);

  it('a client that never reads its replies does not make the sink buffer without bound', async () => {
    const c = await greeted();
    c.socket.pause();
    const flood = Buffer.from('NOOP\r\n'.repeat(100000));
    for (let i = 0; i < 20; i++) c.socket.write(flood);
    await new Promise((r) => setTimeout(r, 500));
    // Two million NOOPs would be 30 MB of replies; the sink stops reading long before that.
    expect(sink!.stats().commands.noop).toBeLessThan(2_000_000);
    const other = await RawClient.open(portOf(sink!));
    expect((await other.until(1))[0].code).toBe(220);
    other.close();
    c.close();
  });
});

describe('greetings and modes', () => {
  it('-e: no ESMTP in the banner and EHLO is unknown; HELO works', async () => {
    const c = await greeted({ esmtp: false });
    expect(c.replies[0]).toEqual({ code: 220, text: 'smtp-sink' });
    expect(await c.command('EHLO x')).toEqual({ code: 500, text: '5.5.1 Error: unknown command' });
    expect(await c.command('HELO x')).toEqual({ code: 250, text: 'smtp-sink' });
    c.close();
  });

  it('-P: the PIX banner', async () => {
    const c = await greeted({ pix: true });
    expect(c.replies[0]).toEqual({ code: 220, text: '********' });
    c.close();
  });

  it('-L: only LHLO, banner still ESMTP, one reply per recipient after the dot', async () => {
    const c = await greeted({ lmtp: true, hostname: 'lmtp.example' });
    expect(c.replies[0]).toEqual({ code: 220, text: 'lmtp.example ESMTP' });
    expect((await c.command('HELO x')).code).toBe(500);
    expect((await c.command('EHLO x')).code).toBe(500);
    expect((await c.command('LHLO x')).code).toBe(250);
    await c.command('MAIL FROM:<a@b>');
    for (const r of ['<1@x>', '<2@x>', '<3@x>']) await c.command(`RCPT TO:${r}`);
    await c.command('DATA');
    c.send('hello\r\n.\r\n');
    const r = await c.until(12);
    expect(r.slice(9)).toEqual([0, 1, 2].map(() => ({ code: 250, text: '2.2.0 Ok' })));
    c.close();
  });

  it('-8 -a -C -F -E -N -p trim EHLO to the host and "250 "; -C and -F also disable the commands', async () => {
    const c = await greeted({
      announce: { pipelining: false, eightBitMime: false, auth: false, xclient: true, xforward: true, enhancedStatusCodes: false, dsn: false },
      xclient: false,
      xforward: false,
    });
    expect(await c.command('EHLO x')).toEqual({ code: 250, text: 'smtp-sink\n' });
    expect((await c.command('XCLIENT NAME=x')).code).toBe(500);
    expect((await c.command('XFORWARD NAME=x')).code).toBe(500);
    expect(await c.command('AUTH PLAIN AGJvYgBzZWNyZXQ=')).toEqual({ code: 250, text: '2.0.0 Ok' });
    c.close();
  });

  it('verbs are matched without regard to case, and VRFY/NOOP/XCLIENT/XFORWARD say Ok', async () => {
    const c = await greeted();
    for (const cmd of ['vrfy x', 'NoOp', 'xclient NAME=a', 'XFORWARD ADDR=1.2.3.4']) {
      expect(await c.command(cmd)).toEqual({ code: 250, text: '2.0.0 Ok' });
    }
    c.close();
  });
});
