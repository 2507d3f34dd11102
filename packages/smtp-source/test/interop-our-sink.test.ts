// Our smtp-source against our smtp-sink, both in-process through their APIs. The sink counts
// everything (commands by name, bytes, rejects, fault disconnects), so each run is checked
// from both ends; a recording proxy between the two shows how the source split its writes,
// which is how pipelining is verified. Also: --duration, --journal, LMTP journal entries.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { SinkOptionsInput } from '../../smtp-sink/src/index.js';
import { startSource, type SourceOptionsInput, type SourceResult } from '../src/index.js';
import {
  diagnostics,
  expectSameTally,
  NO_PROBLEMS,
  ourCli,
  portOf,
  problems,
  readJournal,
  resources,
  runBounded,
  settled,
  sinkTally,
  socketIn,
  sourceTally,
  type Proxy,
  type Tally,
  type TestSink,
} from './helpers.js';

const r = resources();

const ADDR = { sender: 'sender@example.com', recipient: 'rcpt@example.com', myHostname: 'client.example' } as const;
const ADDR_ARGS = ['-f', ADDR.sender, '-t', ADDR.recipient, '-M', ADDR.myHostname];
const NO_ERRORS = { timeouts: 0, lostConnections: 0, serverClosed: 0, connectFailures: 0 };

function source(target: string, opts: Partial<SourceOptionsInput> = {}, journalPath?: string): Promise<{ result: SourceResult; logs: string }> {
  return runBounded({ target, ...ADDR, ...opts }, 8000, { journalPath });
}

const inet = (sink: TestSink | Proxy): string => `127.0.0.1:${'address' in sink ? portOf(sink) : sink.port}`;

/** The RCPT/MAIL/... lines our sink logged with verbose on, without the "smtp-sink: " prefix. */
function sinkCommands(sink: TestSink): string[] {
  return sink.logs.map((l) => /^smtp-sink: (.*)\n$/.exec(l)?.[1]).filter((l): l is string => l !== undefined);
}

const count = (list: string[], item: string): number => list.filter((x) => x === item).length;

/**
 * Issue 7: the source's tally (of one run, or the sum of several against the same sink) must be
 * the sink's own count: messages accepted, recipients accepted, message bytes as on the wire.
 */
function expectSinkTally(results: SourceResult | SourceResult[], s: ReturnType<TestSink['stats']>): void {
  const sum = [results].flat().map(sourceTally).reduce((a: Tally, b) => ({ messages: a.messages + b.messages, recipients: a.recipients + b.recipients, bytes: a.bytes + b.bytes }));
  expectSameTally(sum, sinkTally(s));
}

describe('our smtp-source against our smtp-sink', { timeout: 10_000 }, () => {
  it('SMTP, a new connection per message (-m 100 -s 5): both sides count the same', async () => {
    const sink = await r.sink();
    const { result, logs } = await source(inet(sink), { messages: 100, sessions: 5 });
    expect(result.fatal).toBeUndefined();
    expect(logs).toBe('');
    expect(result.messages).toEqual({ started: 100, sent: 100, accepted: 100, rejected: 0, failed: 0 });
    expect(result.recipients).toEqual({ sent: 100, accepted: 100, rejected: 0 });
    expect(result.connections).toEqual({ opened: 100, failed: 0 });
    expect(result.errors).toEqual(NO_ERRORS);
    const s = await settled(sink, 100);
    expect(s).toMatchObject({ messages: 100, messagesAccepted: 100, recipients: 100, sessions: 100, connections: 100, quits: 100 });
    expect(s.commands).toMatchObject({ helo: 100, ehlo: 0, lhlo: 0, mail: 100, rcpt: 100, data: 100, quit: 100, rset: 0 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    // Both count the message bytes between 354 and the final ".".
    expectSinkTally(result, s);
  });

  it('LMTP on both sides (-L -r 2): LHLO, one end-of-data reply per recipient', async () => {
    const sink = await r.sink({ lmtp: true });
    const { result } = await source(inet(sink), { lmtp: true, recipients: 2, messages: 50, sessions: 3 });
    expect(result.fatal).toBeUndefined();
    expect(result.messages).toEqual({ started: 50, sent: 50, accepted: 50, rejected: 0, failed: 0 });
    expect(result.recipients).toEqual({ sent: 100, accepted: 100, rejected: 0 });
    expect(result.latency.dot.count).toBe(100);
    const s = await settled(sink, 50);
    expect(s).toMatchObject({ messages: 50, messagesAccepted: 50, recipients: 100, quits: 50 });
    expect(s.commands).toMatchObject({ lhlo: 50, helo: 0, ehlo: 0, mail: 50, rcpt: 100, data: 50 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSinkTally(result, s);
  });

  it('connection reuse (-d -m 300 -s 4)', async () => {
    const sink = await r.sink();
    const { result } = await source(inet(sink), { reuseConnection: true, messages: 300, sessions: 4 });
    expect(result.messages.accepted).toBe(300);
    expect(result.connections.opened).toBe(4);
    const s = await settled(sink, 4);
    expect(s).toMatchObject({ messages: 300, sessions: 4, connections: 4, quits: 4 });
    expect(s.commands).toMatchObject({ helo: 4, mail: 300, rcpt: 300, data: 300, quit: 4, rset: 0 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSinkTally(result, s);
  });

  it('five recipients per message (-r 5): 5..2 then the plain address', async () => {
    const sink = await r.sink({ verbose: 1 });
    const { result } = await source(inet(sink), { recipients: 5, messages: 40, sessions: 4, reuseConnection: true });
    expect(result.recipients).toEqual({ sent: 200, accepted: 200, rejected: 0 });
    const s = await settled(sink, 4);
    expect(s).toMatchObject({ messages: 40, recipients: 200 });
    const rcpts = sinkCommands(sink).filter((c) => c.startsWith('RCPT'));
    expect(rcpts).toHaveLength(200);
    for (const k of ['5', '4', '3', '2', '']) expect(count(rcpts, `RCPT TO:<${k}rcpt@example.com>`)).toBe(40);
    expectSinkTally(result, s);
  });

  it('numbered recipients (-N -r 2): 1..200 once each across sessions', async () => {
    const sink = await r.sink({ verbose: 1 });
    const { result } = await source(inet(sink), { numberRecipients: true, recipients: 2, messages: 100, sessions: 3, reuseConnection: true });
    const s = await settled(sink, 3);
    const numbers = sinkCommands(sink)
      .map((c) => /^RCPT TO:<(\d+)rcpt@example\.com>$/.exec(c)?.[1])
      .filter((n) => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expectSinkTally(result, s);
  });

  it('100 parallel sessions (-s 100 -m 1000): the sink serves many at once', async () => {
    const sink = await r.sink();
    let peakActive = 0;
    sink.on('message', () => {
      peakActive = Math.max(peakActive, sink.stats().active);
    });
    const { result } = await source(inet(sink), { sessions: 100, messages: 1000 });
    expect(result.messages).toEqual({ started: 1000, sent: 1000, accepted: 1000, rejected: 0, failed: 0 });
    const s = await settled(sink, 1000);
    expect(s).toMatchObject({ messages: 1000, sessions: 1000, quits: 1000 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expect(peakActive).toBeGreaterThan(1);
    expectSinkTally(result, s);
  });

  it('large messages (-l 100000 -d -m 20): every byte is counted on both sides', async () => {
    const sink = await r.sink();
    const { result } = await source(inet(sink), { length: 100000, messages: 20, reuseConnection: true });
    expect(result.messages.accepted).toBe(20);
    const s = await settled(sink, 1);
    expect(s.messages).toBe(20);
    expectSinkTally(result, s);
    expect(s.bytes).toBeGreaterThan(20 * (100002 + 100));
    expect(s.bytes).toBeLessThan(20 * (100002 + 300));
  });

  it('a unix-domain socket with -d -r 2', async () => {
    const path = socketIn(r.dir());
    const sink = await r.sink({ listen: `unix:${path}` });
    const { result } = await source(`unix:${path}`, { reuseConnection: true, messages: 100, sessions: 2, recipients: 2 });
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(100);
    const s = await settled(sink, 2);
    expect(s).toMatchObject({ messages: 100, recipients: 200, sessions: 2, quits: 2 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSinkTally(result, s);
  });

  it('a unix-domain socket, LMTP, a new connection per message', async () => {
    const path = socketIn(r.dir());
    const sink = await r.sink({ listen: `unix:${path}`, lmtp: true });
    const { result } = await source(`unix:${path}`, { lmtp: true, messages: 30, sessions: 3, recipients: 2 });
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(30);
    const s = await settled(sink, 30);
    expect(s).toMatchObject({ messages: 30, recipients: 60, sessions: 30, quits: 30 });
    expect(s.commands).toMatchObject({ lhlo: 30 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSinkTally(result, s);
  });
});

// ---- faults --------------------------------------------------------------------------------

interface FaultCase {
  title: string;
  sink: Partial<SinkOptionsInput>;
  api?: Partial<SourceOptionsInput>;
  message: string;
  withA: { result: Partial<SourceResult>; warnings: number; sink: Record<string, unknown> };
  withoutA: { result: Partial<SourceResult>; sink: Record<string, unknown> };
}

const FAULTS: FaultCase[] = [
  {
    title: 'softReject rcpt (450 at RCPT)',
    sink: { softReject: ['rcpt'] },
    message: 'recipient rejected: 450 4.3.0 Error: command failed',
    withA: {
      result: { messages: { started: 3, sent: 0, accepted: 0, rejected: 3, failed: 0 }, recipients: { sent: 3, accepted: 0, rejected: 3 }, rejects: { rcpt: { '450': 3 } }, errors: NO_ERRORS },
      warnings: 3,
      sink: { rejects: { '450': 3 }, quits: 3, messages: 0, faultDisconnects: 0 },
    },
    withoutA: {
      result: { messages: { started: 1, sent: 0, accepted: 0, rejected: 1, failed: 0 }, rejects: { rcpt: { '450': 1 } }, errors: NO_ERRORS },
      sink: { rejects: { '450': 1 }, quits: 0, messages: 0 },
    },
  },
  {
    title: 'hardReject mail (500 at MAIL)',
    sink: { hardReject: ['mail'] },
    message: 'sender rejected: 500 5.3.0 Error: command failed',
    withA: {
      result: { messages: { started: 3, sent: 0, accepted: 0, rejected: 3, failed: 0 }, recipients: { sent: 0, accepted: 0, rejected: 0 }, rejects: { mail: { '500': 3 } }, errors: NO_ERRORS },
      warnings: 3,
      sink: { rejects: { '500': 3 }, quits: 3, messages: 0 },
    },
    withoutA: {
      result: { messages: { started: 1, sent: 0, accepted: 0, rejected: 1, failed: 0 }, rejects: { mail: { '500': 1 } }, errors: NO_ERRORS },
      sink: { rejects: { '500': 1 }, quits: 0, messages: 0 },
    },
  },
  {
    title: 'close data (421 and close at DATA)',
    sink: { close: ['data'] },
    message: 'data rejected: 421 4.0.0 Server closing connection',
    withA: {
      result: {
        messages: { started: 3, sent: 0, accepted: 0, rejected: 3, failed: 0 },
        recipients: { sent: 3, accepted: 3, rejected: 0 },
        rejects: { data: { '421': 3 } },
        errors: { ...NO_ERRORS, serverClosed: 3 },
      },
      warnings: 3,
      sink: { faultDisconnects: 3, quits: 0, messages: 0 },
    },
    withoutA: {
      result: { messages: { started: 1, sent: 0, accepted: 0, rejected: 1, failed: 0 }, rejects: { data: { '421': 1 } }, errors: { ...NO_ERRORS, serverClosed: 1 } },
      sink: { faultDisconnects: 1, quits: 0, messages: 0 },
    },
  },
  {
    title: 'disconnect rcpt (hang up at RCPT)',
    sink: { disconnect: ['rcpt'] },
    message: 'lost connection while sending recipient',
    withA: {
      result: { messages: { started: 3, sent: 0, accepted: 0, rejected: 0, failed: 3 }, recipients: { sent: 3, accepted: 0, rejected: 0 }, rejects: {}, errors: { ...NO_ERRORS, lostConnections: 3 } },
      warnings: 3,
      sink: { faultDisconnects: 3, quits: 0, messages: 0 },
    },
    withoutA: {
      result: { messages: { started: 1, sent: 0, accepted: 0, rejected: 0, failed: 1 }, rejects: {}, errors: { ...NO_ERRORS, lostConnections: 1 } },
      sink: { faultDisconnects: 1, quits: 0, messages: 0 },
    },
  },
  {
    title: 'LMTP hardReject . (500 for each of 3 end-of-data replies)',
    sink: { lmtp: true, hardReject: ['.'] },
    api: { lmtp: true, recipients: 3 },
    message: 'end of data rejected: 500 5.3.0 Error: command failed',
    withA: {
      result: { messages: { started: 3, sent: 3, accepted: 0, rejected: 3, failed: 0 }, recipients: { sent: 9, accepted: 9, rejected: 0 }, rejects: { dot: { '500': 9 } }, errors: NO_ERRORS },
      warnings: 9,
      sink: { rejects: { '500': 9 }, quits: 3, messages: 3, messagesAccepted: 0 },
    },
    withoutA: {
      result: { messages: { started: 1, sent: 1, accepted: 0, rejected: 1, failed: 0 }, rejects: { dot: { '500': 1 } }, errors: NO_ERRORS },
      sink: { quits: 0, messages: 1, messagesAccepted: 0 },
    },
  },
  {
    title: 'LMTP close . (421 for the first of 3 end-of-data replies, then close)',
    sink: { lmtp: true, close: ['.'] },
    api: { lmtp: true, recipients: 3 },
    message: 'end of data rejected: 421 4.0.0 Server closing connection',
    withA: {
      result: {
        messages: { started: 3, sent: 3, accepted: 0, rejected: 3, failed: 0 },
        recipients: { sent: 9, accepted: 9, rejected: 0 },
        rejects: { dot: { '421': 3 } },
        errors: { ...NO_ERRORS, serverClosed: 3 },
      },
      warnings: 3,
      sink: { faultDisconnects: 3, quits: 0, messages: 3 },
    },
    withoutA: {
      result: { messages: { started: 1, sent: 1, accepted: 0, rejected: 1, failed: 0 }, rejects: { dot: { '421': 1 } }, errors: { ...NO_ERRORS, serverClosed: 1 } },
      sink: { faultDisconnects: 1, quits: 0, messages: 1 },
    },
  },
];

describe('our smtp-source against our smtp-sink\'s faults', { timeout: 10_000 }, () => {
  for (const f of FAULTS) {
    it(`${f.title}, with -A: counted, and the run goes on`, async () => {
      const sink = await r.sink(f.sink);
      const { result, logs } = await source(inet(sink), { ...f.api, messages: 3, allowReject: true });
      expect(result.fatal).toBeUndefined();
      expect(result).toMatchObject(f.withA.result);
      expect(result.rejects).toEqual(f.withA.result.rejects);
      expect(diagnostics(logs)).toEqual(Array(f.withA.warnings).fill(`warning: ${f.message}`));
      const s = await settled(sink, 3);
      expect(s).toMatchObject({ sessions: 3, ...f.withA.sink });
      // Rejected messages count on neither side; bytes of a message refused at its end of data
      // were sent and received all the same.
      expectSinkTally(result, s);
    });

    it(`${f.title}, without -A: the run ends at the first fault`, async () => {
      const sink = await r.sink(f.sink);
      const { result, logs } = await source(inet(sink), { ...f.api, messages: 3 });
      expect(result.fatal).toBe(f.message);
      expect(result).toMatchObject(f.withoutA.result);
      expect(result.rejects).toEqual(f.withoutA.result.rejects);
      expect(diagnostics(logs)).toEqual([]);
      const s = await settled(sink, 1);
      expect(s).toMatchObject({ sessions: 1, ...f.withoutA.sink });
      expectSinkTally(result, s);
    });
  }

  it('delays data:1 (DATA answered after 1 s), -m 2 -s 2, with -A: side by side, nothing fails', async () => {
    const sink = await r.sink({ delays: [{ command: 'data', seconds: 1 }] });
    const { result, logs } = await source(inet(sink), { messages: 2, sessions: 2, allowReject: true });
    expect(result.fatal).toBeUndefined();
    expect(logs).toBe('');
    expect(result.messages.accepted).toBe(2);
    expect(result.errors).toEqual(NO_ERRORS);
    expect(result.latency.data.count).toBe(2);
    expect(result.latency.data.min).toBeGreaterThanOrEqual(900);
    // Side by side, not one after the other: the run took less than the two waits added up.
    expect(result.elapsedMs).toBeLessThan(result.latency.data.min + result.latency.data.max);
    const s = await settled(sink, 2);
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSinkTally(result, s);
  });

  it('delays data:1 without -A, -d -m 2: the delays add up on one connection', async () => {
    const sink = await r.sink({ delays: [{ command: 'data', seconds: 1 }] });
    const { result } = await source(inet(sink), { messages: 2, reuseConnection: true });
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(2);
    expect(result.latency.data.min).toBeGreaterThanOrEqual(900);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(1800);
    expectSinkTally(result, await settled(sink, 1));
  });
});

// ---- pipelining ----------------------------------------------------------------------------

/** Every chunk a client sent through the proxy, as text. */
function chunks(proxy: Proxy): string[] {
  return proxy.connections.flat().map((c) => c.toString('latin1'));
}

/**
 * For each chunk that holds a MAIL command, the chunk from MAIL on: the envelope must end its
 * packet. (With pipelining and -d it rides behind the previous message's ".".)
 */
function envelopes(proxy: Proxy): string[] {
  return chunks(proxy)
    .filter((c) => c.includes('MAIL FROM:'))
    .map((c) => c.slice(c.indexOf('MAIL FROM:')));
}

const ENVELOPE_3 = 'MAIL FROM:<sender@example.com>\r\nRCPT TO:<3rcpt@example.com>\r\nRCPT TO:<2rcpt@example.com>\r\nRCPT TO:<rcpt@example.com>\r\nDATA\r\n';

describe('--pipelining against our sink (which offers PIPELINING)', { timeout: 10_000 }, () => {
  it('MAIL, the RCPTs and DATA go out in one packet, QUIT right behind the "."; in lock-step each goes alone', async () => {
    const sink = await r.sink();
    const proxy = await r.proxy(portOf(sink));
    const { result } = await source(inet(proxy), { pipelining: true, recipients: 3, messages: 20, sessions: 2 });
    expect(result.fatal).toBeUndefined();
    expect(result.messages).toEqual({ started: 20, sent: 20, accepted: 20, rejected: 0, failed: 0 });
    expect(result.recipients).toEqual({ sent: 60, accepted: 60, rejected: 0 });
    expect(envelopes(proxy)).toEqual(Array(20).fill(ENVELOPE_3));
    // Each envelope was a packet of its own (the first group after EHLO's reply).
    expect(chunks(proxy).filter((c) => c === ENVELOPE_3)).toHaveLength(20);
    // Message content ends a command group (RFC 2920), so QUIT may follow the "." at once.
    expect(chunks(proxy).filter((c) => c.endsWith('\r\n.\r\nQUIT\r\n'))).toHaveLength(20);
    const s = await settled(sink, 20);
    expect(s).toMatchObject({ messages: 20, messagesAccepted: 20, recipients: 60, quits: 20 });
    expect(s.commands).toMatchObject({ ehlo: 20, helo: 0, mail: 20, rcpt: 60, data: 20, quit: 20 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSinkTally(result, s);

    // The same run in lock-step: MAIL is a packet of its own, and so is QUIT.
    const lockstep = await r.proxy(portOf(sink));
    const second = await source(inet(lockstep), { recipients: 3, messages: 5 });
    expect(envelopes(lockstep)).toEqual(Array(5).fill('MAIL FROM:<sender@example.com>\r\n'));
    expect(chunks(lockstep).filter((c) => c === 'QUIT\r\n')).toHaveLength(5);
    expectSinkTally([result, second.result], await settled(sink, 25));
  });

  it('with -d -s 4 -m 200 -r 2: counts match, one EHLO per connection, each envelope in one packet', async () => {
    const sink = await r.sink();
    const proxy = await r.proxy(portOf(sink));
    const { result } = await source(inet(proxy), { pipelining: true, reuseConnection: true, recipients: 2, messages: 200, sessions: 4 });
    expect(result.fatal).toBeUndefined();
    expect(result.messages).toEqual({ started: 200, sent: 200, accepted: 200, rejected: 0, failed: 0 });
    expect(result.recipients.accepted).toBe(400);
    expect(envelopes(proxy)).toEqual(Array(200).fill('MAIL FROM:<sender@example.com>\r\nRCPT TO:<2rcpt@example.com>\r\nRCPT TO:<rcpt@example.com>\r\nDATA\r\n'));
    const s = await settled(sink, 4);
    expect(s).toMatchObject({ messages: 200, messagesAccepted: 200, recipients: 400, sessions: 4, quits: 4 });
    expect(s.commands).toMatchObject({ ehlo: 4, helo: 0, mail: 200, rcpt: 400, data: 200, quit: 4 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSinkTally(result, s);
  });

  it('LMTP (-L -r 3 -d): LHLO, the envelope in one packet, and 3 end-of-data replies per message', async () => {
    const sink = await r.sink({ lmtp: true });
    const proxy = await r.proxy(portOf(sink));
    const { result } = await source(inet(proxy), { pipelining: true, lmtp: true, reuseConnection: true, recipients: 3, messages: 30 });
    expect(result.fatal).toBeUndefined();
    expect(result.messages).toEqual({ started: 30, sent: 30, accepted: 30, rejected: 0, failed: 0 });
    expect(result.latency.dot.count).toBe(90);
    expect(envelopes(proxy)).toEqual(Array(30).fill(ENVELOPE_3));
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 30, messagesAccepted: 30, recipients: 90, quits: 1 });
    expect(s.commands).toMatchObject({ lhlo: 1, ehlo: 0, mail: 30, rcpt: 90, data: 30 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSinkTally(result, s);
  });

  it('a sink that does not offer PIPELINING gets EHLO and then lock-step', async () => {
    const sink = await r.sink({ announce: { pipelining: false } as SinkOptionsInput['announce'] });
    const proxy = await r.proxy(portOf(sink));
    const { result } = await source(inet(proxy), { pipelining: true, recipients: 2, messages: 5, reuseConnection: true });
    expect(result.messages.accepted).toBe(5);
    expect(envelopes(proxy)).toEqual(Array(5).fill('MAIL FROM:<sender@example.com>\r\n'));
    const s = await settled(sink, 1);
    expect(s.commands).toMatchObject({ ehlo: 1, helo: 0, mail: 5, rcpt: 10 });
    expectSinkTally(result, s);
  });

  it('421 at a pipelined RCPT with -A: counted as the server closing, each message rejected', async () => {
    const sink = await r.sink({ close: ['rcpt'] });
    const { result, logs } = await source(inet(sink), { pipelining: true, allowReject: true, messages: 3, recipients: 2 });
    expect(result.fatal).toBeUndefined();
    expect(result.messages).toEqual({ started: 3, sent: 0, accepted: 0, rejected: 3, failed: 0 });
    expect(result.rejects).toEqual({ rcpt: { '421': 3 } });
    expect(result.errors).toEqual({ ...NO_ERRORS, serverClosed: 3 });
    expect(diagnostics(logs)).toEqual(Array(3).fill('warning: recipient rejected: 421 4.0.0 Server closing connection'));
    const s = await settled(sink, 3);
    expect(s).toMatchObject({ faultDisconnects: 3, messages: 0 });
    expectSinkTally(result, s);
  });

  it('421 at a pipelined RCPT without -A: the run ends with the fatal line', async () => {
    const sink = await r.sink({ close: ['rcpt'] });
    const { result } = await source(inet(sink), { pipelining: true, messages: 3, recipients: 2 });
    expect(result.fatal).toBe('recipient rejected: 421 4.0.0 Server closing connection');
    expect(result.messages).toEqual({ started: 1, sent: 0, accepted: 0, rejected: 1, failed: 0 });
    expectSinkTally(result, await settled(sink, 1));
  });

  // With -d, the next envelope goes out right behind the "." (RFC 2920). When the server then
  // closes at the end-of-data reply, that next message was never refused by anyone: it must not
  // be counted (or journaled) as rejected. journal.ts: "rejected: some reply said no; failed:
  // the connection broke". Checked as invariants, in lock-step and pipelined alike.
  for (const [mode, pipelining] of [
    ['lock-step', false],
    ['pipelined', true],
  ] as const) {
    it(`421 at the end of data with -d -A, ${mode}: only messages a reply refused count as rejected`, async () => {
      const journal = join(r.dir(), 'journal.jsonl');
      const sink = await r.sink({ close: ['.'] });
      const { result } = await source(inet(sink), { pipelining, reuseConnection: true, allowReject: true, messages: 3 }, journal);
      expect(result.fatal).toBeUndefined();
      const m = result.messages;
      expect(m.started).toBe(m.accepted + m.rejected + m.failed);
      // Every rejected message got its own 421.
      expect(result.rejects).toEqual({ dot: { '421': result.errors.serverClosed } });
      expect(m.rejected).toBe(result.errors.serverClosed);
      const entries = readJournal(journal);
      expect(entries).toHaveLength(m.started);
      for (const e of entries.filter((x) => x.status === 'rejected')) {
        expect({ seq: e.seq, code: e.code, reply: e.reply }).toEqual({ seq: e.seq, code: 421, reply: '4.0.0 Server closing connection' });
      }
      // Each 421 closes the connection: one session per rejected message, and bytes of the
      // refused messages count on both sides.
      expectSinkTally(result, await settled(sink, result.connections.opened));
    });

    it(`421 at the end of data with -d, no -A, ${mode}: one message refused, one counted rejected`, async () => {
      const journal = join(r.dir(), 'journal.jsonl');
      const sink = await r.sink({ close: ['.'] });
      const { result } = await source(inet(sink), { pipelining, reuseConnection: true, messages: 3 }, journal);
      expect(result.fatal).toBe('end of data rejected: 421 4.0.0 Server closing connection');
      const m = result.messages;
      expect(m.started).toBe(m.accepted + m.rejected + m.failed);
      expect(m.sent).toBe(1);
      expect(m.rejected).toBe(1);
      expect(result.rejects).toEqual({ dot: { '421': 1 } });
      const rejected = readJournal(journal).filter((e) => e.status === 'rejected');
      expect(rejected.map((e) => ({ seq: e.seq, code: e.code }))).toEqual([{ seq: 1, code: 421 }]);
      expectSinkTally(result, await settled(sink, 1));
    });
  }

  it('the sink hangs up at a pipelined MAIL, with -A: "lost connection while sending sender", counted', async () => {
    const sink = await r.sink({ disconnect: ['mail'] });
    const { result, logs } = await source(inet(sink), { pipelining: true, allowReject: true, messages: 3 });
    expect(result.fatal).toBeUndefined();
    expect(result.messages).toEqual({ started: 3, sent: 0, accepted: 0, rejected: 0, failed: 3 });
    expect(result.errors).toEqual({ ...NO_ERRORS, lostConnections: 3 });
    expect(diagnostics(logs)).toEqual(Array(3).fill('warning: lost connection while sending sender'));
    expectSinkTally(result, await settled(sink, 3));
  });
});

// ---- --duration and --journal --------------------------------------------------------------

describe('--duration and --journal against our sink', { timeout: 10_000 }, () => {
  it('--duration 1s (-s 2 -d): messages go through, and the run ends soon after 1 s', async () => {
    const sink = await r.sink();
    const started = Date.now();
    const { result } = await source(inet(sink), { durationMs: 1000, sessions: 2, reuseConnection: true });
    const wall = Date.now() - started;
    expect(result.fatal).toBeUndefined();
    expect(result.options.messages).toBeUndefined();
    expect(result.options.durationMs).toBe(1000);
    expect(result.messages.accepted).toBeGreaterThan(0);
    expect(result.messages.accepted).toBe(result.messages.started);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(1000);
    // Without -m only --duration ends the run: it stops starting messages at 1 s and ends when
    // the ones in flight do (milliseconds here; the room is for a busy box).
    expect(result.elapsedMs).toBeLessThan(3000);
    expect(wall).toBeLessThan(3000);
    const s = await settled(sink, 2);
    expect(s.messages).toBe(result.messages.accepted);
    expect(s.quits).toBe(2);
    expectSinkTally(result, s);
  });

  it('--journal: one JSON line per message, seq 1..m, accepted, no queue id from our sink\'s "Ok"', async () => {
    const dir = r.dir();
    const journal = join(dir, 'journal.jsonl');
    const sink = await r.sink();
    const { result } = await source(inet(sink), { messages: 20, sessions: 3, recipients: 2 }, journal);
    expect(result.messages.accepted).toBe(20);
    const runId = result.options.runId as string;
    const entries = readJournal(journal);
    expect(entries).toHaveLength(20);
    expect(entries.map((e) => e.seq).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    for (const e of entries) {
      expect(e).toMatchObject({ status: 'accepted', code: 250, reply: '2.0.0 Ok', recipients: ['2rcpt@example.com', 'rcpt@example.com'] });
      expect('queueId' in e).toBe(false);
      expect('lmtp' in e).toBe(false);
      expect(e.messageId).toBe(`<${runId}.${e.seq}@client.example>`);
      expect(e.trackingId).toBe(`${runId}.${e.seq}`);
      expect([1, 2, 3]).toContain(e.session);
      expect(e.endMs as number).toBeGreaterThanOrEqual(e.startMs as number);
      expect(e.start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(e.end).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    expectSinkTally(result, await settled(sink, 20));
  });

  it('--journal start and end come from one clock: end - start matches endMs - startMs, even if the wall clock steps', async () => {
    // start is read with Date.now() when MAIL goes out, end is the run's start time plus a
    // performance.now() delta; two clocks. Without a step they still disagree by up to 1 ms
    // (seen: 262 of 3000 entries with end 1 ms before start). A 5 ms step of the wall clock
    // after the run began (NTP) makes it deterministic.
    const journal = join(r.dir(), 'journal.jsonl');
    const sink = await r.sink();
    const realNow = Date.now.bind(Date);
    const pending = startSource({ target: inet(sink), ...ADDR, messages: 20, reuseConnection: true, writeLog: () => undefined }, { journalPath: journal });
    // The run object (and its start time) exists now; the wall clock steps 5 ms ahead.
    const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 5);
    let result: SourceResult;
    try {
      const { done } = await pending;
      result = await done;
      expect(result.messages.accepted).toBe(20);
    } finally {
      spy.mockRestore();
    }
    expectSinkTally(result, await settled(sink, 1));
    const entries = readJournal(journal);
    expect(entries).toHaveLength(20);
    const off = entries
      .map((e) => ({ seq: e.seq, wall: Date.parse(e.end as string) - Date.parse(e.start as string), mono: (e.endMs as number) - (e.startMs as number) }))
      .filter((x) => Math.abs(x.wall - x.mono) > 1);
    expect(off).toEqual([]);
  });

  it('CLI --journal FILE and --json -: the journal and the JSON result agree', async () => {
    const dir = r.dir();
    const journal = join(dir, 'journal.jsonl');
    const sink = await r.sink();
    const out = await ourCli([...ADDR_ARGS, '-s', '2', '-m', '10', '--journal', journal, '--json', '-', inet(sink)]);
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout) as SourceResult;
    expect(result.messages).toEqual({ started: 10, sent: 10, accepted: 10, rejected: 0, failed: 0 });
    const entries = readJournal(journal);
    expect(entries.map((e) => e.seq).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(entries.every((e) => e.status === 'accepted' && e.trackingId === `${result.options.runId as string}.${e.seq}`)).toBe(true);
    expect(readFileSync(journal, 'utf8').split('\n')).toHaveLength(11);
    expectSinkTally(result, await settled(sink, 10));
  });

  it('LMTP -r 3 --journal: each entry has the 3 end-of-data replies', async () => {
    const dir = r.dir();
    const journal = join(dir, 'journal.jsonl');
    const sink = await r.sink({ lmtp: true });
    const { result } = await source(inet(sink), { lmtp: true, recipients: 3, messages: 10, reuseConnection: true }, journal);
    expect(result.messages.accepted).toBe(10);
    const entries = readJournal(journal);
    expect(entries).toHaveLength(10);
    for (const e of entries) {
      expect(e).toMatchObject({ status: 'accepted', code: 250, reply: '2.2.0 Ok' });
      expect(e.recipients).toEqual(['3rcpt@example.com', '2rcpt@example.com', 'rcpt@example.com']);
      expect(e.lmtp).toEqual([
        { code: 250, reply: '2.2.0 Ok' },
        { code: 250, reply: '2.2.0 Ok' },
        { code: 250, reply: '2.2.0 Ok' },
      ]);
    }
    expectSinkTally(result, await settled(sink, 1));
  });

  it('LMTP -r 3 -A --journal against a sink that rejects ".": entries say rejected, with the 3 replies', async () => {
    const dir = r.dir();
    const journal = join(dir, 'journal.jsonl');
    const sink = await r.sink({ lmtp: true, hardReject: ['.'] });
    const { result } = await source(inet(sink), { lmtp: true, recipients: 3, messages: 4, allowReject: true }, journal);
    expect(result.messages.rejected).toBe(4);
    const entries = readJournal(journal);
    expect(entries).toHaveLength(4);
    for (const e of entries) {
      expect(e).toMatchObject({ status: 'rejected', code: 500, reply: '5.3.0 Error: command failed' });
      expect(e.lmtp).toEqual(Array(3).fill({ code: 500, reply: '5.3.0 Error: command failed' }));
    }
    // Refused at the end of data: no message accepted on either side, but its RCPTs and bytes were.
    expectSinkTally(result, await settled(sink, 4));
  });
});
