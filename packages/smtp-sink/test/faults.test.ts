// Each fault option of smtp-sink, observed from the client's side: Postfix's own
// smtp-source where it can see the effect, a raw client where timing or order matters.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliSink, peer, portOf, RawClient, run, tempDir, testSink, type CliSink } from './helpers.js';
import { expectSameTally, sinkTally, type Tally } from './interop-helpers.js';
import { countingProxy } from './tallies.js';
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

/**
 * Runs Postfix's smtp-source against a fresh sink through a counting proxy (issue 7): `bytes`
 * is the client's side of the message bytes, what it sent after DATA; its messages and
 * recipients each test states from what the source was told to send and what it reported.
 */
async function source(args: string[], options: Partial<SinkOptionsInput>) {
  sink = await testSink(options);
  const proxy = await countingProxy(`127.0.0.1:${portOf(sink)}`);
  const started = Date.now();
  const r = await run(smtpSource!, [...args, proxy.target], { timeoutMs: 20000 });
  const ms = Date.now() - started;
  // The source exits once it has the reply to QUIT (or on a fatal error), a moment before the
  // sink sees the close through the proxy: wait until its session has ended.
  const s = sink;
  const deadline = Date.now() + 5000;
  while ((s.stats().sessions < 1 || s.stats().active > 0) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
  return { ...r, ms, stats: s.stats(), bytes: proxy.bytes() };
}

/** The C smtp-source's tally: the messages and recipients it had accepted, the bytes the proxy saw. */
const tally = (messages: number, recipients: number, bytes: number): Tally => ({ messages, recipients, bytes });

/** The CLI sink's final counters, from its --json file. */
function jsonTally(path: string): Tally {
  const j = JSON.parse(readFileSync(path, 'utf8')) as { messagesAccepted: number; recipients: number; bytes: number };
  return { messages: j.messagesAccepted, recipients: j.recipients, bytes: j.bytes };
}

describe.skipIf(!smtpSource)('fault options seen by Postfix smtp-source', () => {
  it('-f mail: MAIL gets the hard error and PIPELINING leaves EHLO', async () => {
    const r = await source(['-m', '1'], { hardReject: ['mail'] });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('fatal: sender rejected: 500 5.3.0 Error: command failed');
    expect(r.stats.rejects).toEqual({ '500': 1 });
    // Nothing went through: no recipient, no message, no message byte on either side.
    expectSameTally(tally(0, 0, r.bytes), sinkTally(r.stats));
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
    // Every RCPT refused, so the source never sent DATA: nothing on either side.
    expectSameTally(tally(0, 0, r.bytes), sinkTally(r.stats));
  });

  it('-f . in LMTP: one hard error per recipient after the dot', async () => {
    const r = await source(['-L', '-r', '3', '-A', '-m', '1'], { lmtp: true, hardReject: ['.'], hardReply: '554 5.7.1 No thanks' });
    expect(r.code).toBe(0);
    expect(r.stderr.match(/end of data rejected: 554 5.7.1 No thanks/g)?.length).toBe(3);
    expect(r.stats.messages).toBe(1);
    expect(r.stats.messagesAccepted).toBe(0);
    // The three recipients were taken at RCPT and the whole message went over; only the end of
    // data was refused (three times), so no message counts, on either side.
    expectSameTally(tally(0, 3, r.bytes), sinkTally(r.stats));
  });

  it('-q data: the connection drops without a reply', async () => {
    const r = await source(['-m', '1'], { disconnect: ['data'] });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('fatal: lost connection while sending DATA command');
    expect(r.stats.faultDisconnects).toBe(1);
    // The recipient was accepted before the cut at DATA; no 354, so no message byte.
    expectSameTally(tally(0, 1, r.bytes), sinkTally(r.stats));
  });

  it('-Q helo: 421 and the connection closes', async () => {
    const r = await source(['-m', '1'], { close: ['helo'] });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('fatal: HELO rejected: 421 4.0.0 Server closing connection');
    expect(r.stats.rejects).toEqual({ '421': 1 });
    expectSameTally(tally(0, 0, r.bytes), sinkTally(r.stats));
  });

  it('-w 1: DATA is answered a second later', async () => {
    const r = await source(['-m', '1'], { delays: [{ command: 'data', seconds: 1 }] });
    expect(r.code).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(1000);
    expect(r.stats.messages).toBe(1);
    expectSameTally(tally(1, 1, r.bytes), sinkTally(r.stats));
  });

  it('-W rcpt:1 with -r 2: each RCPT waits a second', async () => {
    const r = await source(['-m', '1', '-r', '2'], { delays: [{ command: 'rcpt', seconds: 1 }] });
    expect(r.code).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(2000);
    expectSameTally(tally(1, 2, r.bytes), sinkTally(r.stats));
  });

  it('-A 0: the message is answered "550 This violates SMTP" and the session closed', async () => {
    const r = await source(['-m', '1'], { abortAfterDataSeconds: 0 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/550 This violates SMTP|lost connection while sending message/);
    expect(r.stats.rejects['550']).toBe(1);
    expect(r.stats.messages).toBe(0);
    // The recipient was accepted and no message was, on both sides. -A reads nothing after its
    // 354, so the sink counts no message byte, exactly; the source's bytes can only be bounded:
    // whether its message got through the proxy before the hang-up is a race.
    expect({ messages: r.stats.messagesAccepted, recipients: r.stats.recipients, bytes: r.stats.bytes }).toEqual({ messages: 0, recipients: 1, bytes: 0 });
    expect(r.stats.bytes).toBeLessThanOrEqual(r.bytes);
  });

  it('-H 1: the message data is read a second after 354', async () => {
    const r = await source(['-m', '1', '-l', '1000'], { dataReadDelaySeconds: 1 });
    expect(r.code).toBe(0);
    expect(r.ms).toBeGreaterThanOrEqual(1000);
    expect(r.stats.messages).toBe(1);
    expectSameTally(tally(1, 1, r.bytes), sinkTally(r.stats));
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
    // With 1% odds, 20 NOOPs almost never wait (0.99^20 = 82% that none does). Each reply is
    // timed on its own: a delayed one took the whole second, the others (far) less than it.
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      await c.command('NOOP', 30000);
      const ms = performance.now() - t0;
      expect(ms < 900 || ms >= 990, `NOOP ${i + 1} took ${ms.toFixed(0)} ms`).toBe(true);
    }
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
    const dir = tempDir();
    try {
      const json = join(dir.path, 'stats.json');
      cli = await cliSink(['-M', '3', '--json', json]);
      const proxy = await countingProxy(`127.0.0.1:${cli.port}`);
      const r = await run(smtpSource!, ['-m', '3', proxy.target]);
      expect(r.code).toBe(0);
      expect((await cli.exited).code).toBe(0);
      expect(cli.stderr()).toContain('stopped (3 messages received)');
      expectSameTally(tally(3, 3, proxy.bytes()), jsonTally(json));
    } finally {
      dir.remove();
    }
  });

  it('-n 2: the sink exits after two sessions, even without -c', async () => {
    const dir = tempDir();
    try {
      const json = join(dir.path, 'stats.json');
      cli = await cliSink(['-n', '2', '--json', json]);
      const proxy = await countingProxy(`127.0.0.1:${cli.port}`);
      const r = await run(smtpSource!, ['-m', '2', '-s', '1', proxy.target]);
      expect(r.code).toBe(0);
      expect((await cli.exited).code).toBe(0);
      expect(cli.stderr()).toContain('stopped (2 sessions ended)');
      expectSameTally(tally(2, 2, proxy.bytes()), jsonTally(json));
    } finally {
      dir.remove();
    }
  });
});
