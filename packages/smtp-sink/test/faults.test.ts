// Each fault option of smtp-sink, observed from the client's side: Postfix's own
// smtp-source where it can see the effect, a raw client where timing or order matters.
import { afterEach, describe, expect, it } from 'vitest';
import { cliSink, peer, portOf, RawClient, run, testSink, type CliSink } from './helpers.js';
import type { Sink, SinkOptionsInput } from '../src/index.js';

const smtpSource = peer('smtp-source');

let sink: Sink | undefined;
let cli: CliSink | undefined;
afterEach(async () => {
  await sink?.close();
  await cli?.stop('SIGKILL');
  sink = undefined;
  cli = undefined;
});

async function source(args: string[], options: Partial<SinkOptionsInput>) {
  sink = await testSink(options);
  const started = Date.now();
  const r = await run(smtpSource!, [...args, `127.0.0.1:${portOf(sink)}`], { timeoutMs: 20000 });
  return { ...r, ms: Date.now() - started, stats: sink.stats() };
}

describe.skipIf(!smtpSource)('fault options seen by Postfix smtp-source', () => {
  it('-f mail: MAIL gets the hard error and PIPELINING leaves EHLO', async () => {
    const r = await source(['-m', '1'], { hardReject: ['mail'] });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('fatal: sender rejected: 500 5.3.0 Error: command failed');
    expect(r.stats.rejects).toEqual({ '500': 1 });
    const c = await RawClient.open(portOf(sink!));
    await c.until(1);
    expect((await c.command('EHLO x')).text).not.toContain('PIPELINING');
    c.close();
  });

  it('-r rcpt with -b: RCPT gets the chosen soft error; with -A the source goes on', async () => {
    const r = await source(['-A', '-m', '3'], { softReject: ['rcpt'], softReply: '451 4.7.1 Try again later' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('warning: recipient rejected: 451 4.7.1 Try again later');
    expect(r.stats.rejects).toEqual({ '451': 3 });
    expect(r.stats.messages).toBe(0);
    expect(r.stats.commands.rset).toBe(3);
  });

  it('-f . in LMTP: one hard error per recipient after the dot', async () => {
    const r = await source(['-L', '-r', '3', '-A', '-m', '1'], { lmtp: true, hardReject: ['.'], hardReply: '554 5.7.1 No thanks' });
    expect(r.code).toBe(0);
    expect(r.stderr.match(/end of data rejected: 554 5.7.1 No thanks/g)?.length).toBe(3);
    expect(r.stats.messages).toBe(1);
    expect(r.stats.messagesAccepted).toBe(0);
  });

  it('-q data: the connection drops without a reply', async () => {
    const r = await source(['-m', '1'], { disconnect: ['data'] });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('fatal: lost connection while sending DATA command');
    expect(r.stats.faultDisconnects).toBe(1);
  });

  it('-Q helo: 421 and the connection closes', async () => {
    const r = await source(['-m', '1'], { close: ['helo'] });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('fatal: HELO rejected: 421 4.0.0 Server closing connection');
    expect(r.stats.rejects).toEqual({ '421': 1 });
  });

  it('-w 1: DATA is answered a second later', async () => {
    const r = await source(['-m', '1'], { delays: [{ command: 'data', seconds: 1 }] });
    expect(r.code).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(1000);
    expect(r.stats.messages).toBe(1);
  });

  it('-W rcpt:1 with -r 2: each RCPT waits a second', async () => {
    const r = await source(['-m', '1', '-r', '2'], { delays: [{ command: 'rcpt', seconds: 1 }] });
    expect(r.code).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(2000);
  });

  it('-A 0: the message is answered "550 This violates SMTP" and the session closed', async () => {
    const r = await source(['-m', '1'], { abortAfterDataSeconds: 0 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/550 This violates SMTP|lost connection while sending message/);
    expect(r.stats.rejects['550']).toBe(1);
    expect(r.stats.messages).toBe(0);
  });

  it('-H 1: the message data is read a second after 354', async () => {
    const r = await source(['-m', '1', '-l', '1000'], { dataReadDelaySeconds: 1 });
    expect(r.code).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(1000);
    expect(r.stats.messages).toBe(1);
  });
});

describe('fault timing and order seen by a raw client', () => {
  it('a delayed reply keeps pipelined replies in order (the C sink answers the later one first)', async () => {
    sink = await testSink({ delays: [{ command: 'noop', seconds: 1 }] });
    const c = await RawClient.open(portOf(sink));
    await c.until(1);
    const t0 = Date.now();
    c.send('NOOP first\r\nRSET\r\n');
    const r = await c.until(3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(r.slice(1).map((x) => x.text)).toEqual(['2.0.0 Ok', '2.1.0 Ok']);
    c.close();
  });

  it('a delay longer than -t still gets its reply (the C sink timed out)', async () => {
    sink = await testSink({ timeoutSeconds: 1, delays: [{ command: 'noop', seconds: 2 }] });
    const c = await RawClient.open(portOf(sink));
    await c.until(1);
    expect(await c.command('NOOP', 4000)).toEqual({ code: 250, text: '2.0.0 Ok' });
    c.close();
  });

  it('-t: an idle client is dropped without a reply and counted', async () => {
    sink = await testSink({ timeoutSeconds: 1 });
    const c = await RawClient.open(portOf(sink));
    await c.until(1);
    await c.waitClosed(3000);
    expect(c.replies).toHaveLength(1);
    expect(sink.stats().timeouts).toBe(1);
    expect((sink as unknown as { logs: string[] }).logs.join('')).toContain('smtp-sink: warning: read timeout');
  });

  it('-W with odds: the delay is a whole number of units, sometimes none', async () => {
    sink = await testSink({ delays: [{ command: 'noop', seconds: 1, odds: 1 }] });
    const c = await RawClient.open(portOf(sink));
    await c.until(1);
    const t0 = Date.now();
    // With 1% odds, 20 NOOPs almost never wait (0.99^20 = 82% that none does; each wait is 1 s).
    for (let i = 0; i < 20; i++) await c.command('NOOP', 30000);
    expect((Date.now() - t0) % 1000).toBeLessThan(500);
    c.close();
  });

  it('-f connect: the banner is the error, and the session stays open', async () => {
    sink = await testSink({ hardReject: ['connect'] });
    const c = await RawClient.open(portOf(sink));
    expect((await c.until(1))[0]).toEqual({ code: 500, text: '5.3.0 Error: command failed' });
    expect(await c.command('HELO x')).toEqual({ code: 250, text: 'smtp-sink' });
    c.close();
  });

  it('-q connect: the connection closes before any banner', async () => {
    sink = await testSink({ disconnect: ['connect'] });
    const c = await RawClient.open(portOf(sink));
    await c.waitClosed();
    expect(c.replies).toHaveLength(0);
  });

  it('-m 1: a second client waits with no banner until the first leaves', async () => {
    sink = await testSink({ maxClients: 1 });
    const a = await RawClient.open(portOf(sink));
    await a.until(1);
    const b = await RawClient.open(portOf(sink));
    await new Promise((r) => setTimeout(r, 300));
    expect(b.replies).toHaveLength(0);
    expect(sink.stats().waiting).toBe(1);
    await a.command('QUIT');
    expect((await b.until(1))[0].code).toBe(220);
    expect(sink.stats().peakWaiting).toBe(1);
    b.close();
  });
});

describe.skipIf(!smtpSource)('limits that stop the CLI sink', () => {
  it('-M 3: the third message is answered, then the sink exits 0', async () => {
    cli = await cliSink(['-M', '3']);
    const r = await run(smtpSource!, ['-m', '3', `127.0.0.1:${cli.port}`]);
    expect(r.code).toBe(0);
    expect((await cli.exited).code).toBe(0);
    expect(cli.stderr()).toContain('stopped (3 messages received)');
  });

  it('-n 2: the sink exits after two sessions, even without -c', async () => {
    cli = await cliSink(['-n', '2']);
    const r = await run(smtpSource!, ['-m', '2', '-s', '1', `127.0.0.1:${cli.port}`]);
    expect(r.code).toBe(0);
    expect((await cli.exited).code).toBe(0);
    expect(cli.stderr()).toContain('stopped (2 sessions ended)');
  });
});
