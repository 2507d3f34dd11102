// correlate() on hand-written journals and log lines, parsed by the real maillog parser.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { correlate, distribution, parseJournal, percentile, readJournal, type JournalEntry, type JournalReadStats } from '../src/correlate/index.js';
import { ParseContext, parseLine, readMaillog, type LogRecord } from '../src/maillog/index.js';

const OPTIONS = { year: 2026, zone: 'UTC' };

function entry(seq: number, fields: Partial<JournalEntry> = {}): JournalEntry {
  return {
    seq,
    session: 1,
    messageId: `<run.${seq}@client.example>`,
    start: '2026-11-24T21:12:33.900Z',
    startMs: 0,
    end: '2026-11-24T21:12:34.100Z',
    endMs: 200,
    recipients: ['user@remote.example'],
    status: 'accepted',
    code: 250,
    reply: '2.0.0 Ok',
    ...fields,
  };
}

/** The lines through readMaillog, as a stream: the way a real run reads them. */
function records(lines: string[]): AsyncIterable<LogRecord> {
  return readMaillog(Readable.from([lines.join('\n') + '\n']), OPTIONS);
}

/** A message's usual life, sent at second `sent`. */
function life(q: string, seq: number, sent = '36', to = 'user@remote.example'): string[] {
  return [
    `Nov 24 21:12:34 mx postfix/smtpd[4488]: ${q}: client=localhost[127.0.0.1]`,
    `Nov 24 21:12:34 mx postfix/cleanup[4490]: ${q}: message-id=<run.${seq}@client.example>`,
    `Nov 24 21:12:34 mx postfix/qmgr[4470]: ${q}: from=<sender@example.com>, size=1234, nrcpt=1 (queue active)`,
    `Nov 24 21:12:${sent} mx postfix/smtp[4483]: ${q}: to=<${to}>, relay=127.0.0.1[127.0.0.1]:25510, delay=2, delays=0.1/0.2/0.3/1.4, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4XYZ)`,
    `Nov 24 21:12:${sent} mx postfix/qmgr[4470]: ${q}: removed`,
  ];
}

describe('correlate', () => {
  it('joins by queue id: client, cleanup, qmgr, the delivery, removed and the latency', async () => {
    const { messages, summary } = await correlate([entry(1, { queueId: 'DC94620C112' })], records(life('DC94620C112', 1)));
    const m = messages[0];
    expect(m).toMatchObject({
      seq: 1,
      queueId: 'DC94620C112',
      joinedBy: 'queue-id',
      fate: 'delivered',
      client: { time: Date.UTC(2026, 10, 24, 21, 12, 34), peer: 'localhost[127.0.0.1]' },
      cleanup: { messageId: '<run.1@client.example>' },
      qmgr: { from: 'sender@example.com', size: 1234, nrcpt: 1 },
      activations: 1,
      removedAt: Date.UTC(2026, 10, 24, 21, 12, 36),
      latencyMs: 1900,
      latencyPrecision: 's',
    });
    expect(m.recipients).toHaveLength(1);
    expect(m.recipients[0]).toMatchObject({
      address: 'user@remote.example',
      deferrals: 0,
      final: { status: 'sent', relay: '127.0.0.1[127.0.0.1]:25510', delay: 2, dsn: '2.0.0', program: 'smtp', delays: { beforeQmgr: 0.1, inQmgr: 0.2, connSetup: 0.3, transmission: 1.4 } },
    });
    expect(summary).toMatchObject({ journalEntries: 1, injected: 1, found: 1, joinedByQueueId: 1, lost: 0, delivered: 1, recipients: { sent: 1 }, latencyPrecision: 's' });
    expect(summary.latencyMs).toEqual({ count: 1, min: 1900, p50: 1900, p90: 1900, p99: 1900, max: 1900, mean: 1900 });
    expect(summary.delays.transmission?.max).toBe(1.4);
    expect(summary.records).toBe(5);
    expect(summary.matchedRecords).toBe(5);
  });

  it('a delivery logged in the same second as the injection ended: latency clamped to 0', async () => {
    const { messages } = await correlate([entry(1, { queueId: 'AAA' + '20C112' })], records(life('AAA20C112', 1, '34')));
    expect(messages[0].latencyMs).toBe(0);
  });

  it('falls back to the Message-Id when the journal has no queue id (or one the log never shows), keeping the client= line', async () => {
    const journal = [entry(1), entry(2, { queueId: 'NOTINLOG1' })];
    const lines = [
      `Nov 24 21:12:33 mx postfix/smtpd[4400]: F00000000A: client=other[10.0.0.1]`,
      `Nov 24 21:12:33 mx postfix/cleanup[4490]: F00000000A: message-id=<someone.else@example>`,
      ...life('DC94620C112', 1),
      ...life('DCA5120C350', 2),
    ];
    const { messages, summary } = await correlate(journal, records(lines));
    expect(messages[0]).toMatchObject({ queueId: 'DC94620C112', joinedBy: 'message-id', fate: 'delivered', client: { peer: 'localhost[127.0.0.1]' }, qmgr: { nrcpt: 1 } });
    expect(messages[1]).toMatchObject({ journalQueueId: 'NOTINLOG1', queueId: 'DCA5120C350', joinedBy: 'message-id', fate: 'delivered' });
    expect(summary).toMatchObject({ found: 2, joinedByMessageId: 2, joinedByQueueId: 0, lost: 0, delivered: 2 });
  });

  it('a message never in the log is lost; a rejected one is not-accepted, not lost', async () => {
    const journal = [entry(1, { queueId: 'DC94620C112' }), entry(2, { queueId: 'DCA5120C350' }), entry(3, { status: 'rejected', code: 554, messageId: undefined })];
    const { messages, summary } = await correlate(journal, records(life('DC94620C112', 1)));
    expect(messages.map((m) => m.fate)).toEqual(['delivered', 'lost', 'not-accepted']);
    expect(summary).toMatchObject({ journalEntries: 3, injected: 2, notAccepted: 1, found: 1, lost: 1, delivered: 1 });
  });

  it('deferred, then sent after a retry: deferred-then-delivered with the final line, and one still deferred', async () => {
    const q = 'DC94620C112';
    const q2 = 'DCA5120C350';
    const lines = [
      `Nov 24 21:12:34 mx postfix/smtpd[4488]: ${q}: client=localhost[127.0.0.1]`,
      `Nov 24 21:12:34 mx postfix/cleanup[4490]: ${q}: message-id=<run.1@client.example>`,
      `Nov 24 21:12:34 mx postfix/qmgr[4470]: ${q}: from=<sender@example.com>, size=1234, nrcpt=1 (queue active)`,
      `Nov 24 21:12:34 mx postfix/smtp[4483]: ${q}: to=<user@remote.example>, relay=none, delay=0.01, delays=0/0/0/0, dsn=4.4.1, status=deferred (connect to 127.0.0.1[127.0.0.1]:25510: Connection refused)`,
      `Nov 24 21:12:34 mx postfix/smtpd[4488]: ${q2}: client=localhost[127.0.0.1]`,
      `Nov 24 21:12:34 mx postfix/qmgr[4470]: ${q2}: from=<sender@example.com>, size=1234, nrcpt=1 (queue active)`,
      `Nov 24 21:12:34 mx postfix/smtp[4483]: ${q2}: to=<user@remote.example>, relay=none, delay=0.01, delays=0/0/0/0, dsn=4.4.1, status=deferred (connect to 127.0.0.1[127.0.0.1]:25510: Connection refused)`,
      `Nov 24 21:12:44 mx postfix/qmgr[4470]: ${q}: from=<sender@example.com>, size=1234, nrcpt=1 (queue active)`,
      `Nov 24 21:12:44 mx postfix/smtp[4483]: ${q}: to=<user@remote.example>, relay=127.0.0.1[127.0.0.1]:25510, delay=10, delays=10/0/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)`,
      `Nov 24 21:12:44 mx postfix/qmgr[4470]: ${q}: removed`,
    ];
    const { messages, summary } = await correlate([entry(1, { queueId: q }), entry(2, { queueId: q2 })], records(lines));
    expect(messages[0]).toMatchObject({ fate: 'deferred-then-delivered', activations: 2, latencyMs: 9900 });
    expect(messages[0].recipients[0]).toMatchObject({ deferrals: 1, firstDeferral: { status: 'deferred', dsn: '4.4.1' }, final: { status: 'sent', delay: 10 } });
    expect(messages[1]).toMatchObject({ fate: 'deferred', latencyMs: undefined, removedAt: undefined });
    expect(summary).toMatchObject({ deferredThenDelivered: 1, deferred: 1, delivered: 0, recipients: { sent: 1, deferred: 1 }, recipientsDeferredOnce: 2 });
    expect(summary.delays.beforeQmgr).toMatchObject({ count: 1, max: 10 });
  });

  it('a bounce: bounced, with its non-delivery notification; no latency', async () => {
    const q = '8AD7C20C323';
    const lines = [
      `Nov 24 21:12:29 mx postfix/smtpd[4488]: ${q}: client=localhost[127.0.0.1]`,
      `Nov 24 21:12:29 mx postfix/cleanup[4490]: ${q}: message-id=<run.1@client.example>`,
      `Nov 24 21:12:29 mx postfix/qmgr[4470]: ${q}: from=<sender@example.com>, size=1234, nrcpt=1 (queue active)`,
      `Nov 24 21:12:29 mx postfix/smtp[4483]: ${q}: to=<user@remote.example>, relay=127.0.0.1[127.0.0.1]:25510, delay=0.02, delays=0/0/0/0.02, dsn=5.3.0, status=bounced (host 127.0.0.1[127.0.0.1] said: 500 5.3.0 Error: command failed (in reply to RCPT TO command))`,
      `Nov 24 21:12:29 mx postfix/bounce[4546]: ${q}: sender non-delivery notification: 910AE20C33A`,
      `Nov 24 21:12:29 mx postfix/qmgr[4470]: ${q}: removed`,
    ];
    const { messages, summary } = await correlate([entry(1, { queueId: q })], records(lines));
    expect(messages[0]).toMatchObject({ fate: 'bounced', notifications: ['910AE20C33A'], latencyMs: undefined });
    expect(messages[0].recipients[0].final).toMatchObject({ status: 'bounced', dsn: '5.3.0' });
    expect(summary).toMatchObject({ bounced: 1, delivered: 0, recipients: { bounced: 1 }, latencyMs: undefined });
    expect(summary.delay?.count).toBe(1);
  });

  it('several recipients: each its own final line; latency to the last; a partial bounce makes the message bounced', async () => {
    const q = 'DC94620C112';
    const q2 = 'DCA5120C350';
    const rcpts = ['a@remote.example', 'b@remote.example', 'c@remote.example'];
    const head = (id: string, seq: number): string[] => [
      `Nov 24 21:12:34 mx postfix/smtpd[4488]: ${id}: client=localhost[127.0.0.1]`,
      `Nov 24 21:12:34 mx postfix/cleanup[4490]: ${id}: message-id=<run.${seq}@client.example>`,
      `Nov 24 21:12:34 mx postfix/qmgr[4470]: ${id}: from=<sender@example.com>, size=900, nrcpt=3 (queue active)`,
    ];
    const to = (id: string, r: string, sec: number, status = 'sent', dsn = '2.0.0'): string =>
      `Nov 24 21:12:${sec} mx postfix/smtp[4483]: ${id}: to=<${r}>, relay=127.0.0.1[127.0.0.1]:25510, delay=${sec - 34}, delays=0/0/0/${sec - 34}, dsn=${dsn}, status=${status} (reply)`;
    const lines = [
      ...head(q, 1),
      ...head(q2, 2),
      to(q, 'B@remote.example', 35),
      to(q2, 'a@remote.example', 35),
      to(q, 'a@remote.example', 37),
      to(q2, 'b@remote.example', 35, 'bounced', '5.1.1'),
      to(q, 'c@remote.example', 36),
      to(q2, 'c@remote.example', 35),
      `Nov 24 21:12:37 mx postfix/qmgr[4470]: ${q}: removed`,
    ];
    const journal = [entry(1, { queueId: q, recipients: rcpts }), entry(2, { queueId: q2, recipients: rcpts })];
    const { messages, summary } = await correlate(journal, records(lines));
    expect(messages[0]).toMatchObject({ fate: 'delivered', qmgr: { nrcpt: 3 }, latencyMs: 2900 });
    expect(messages[0].recipients.map((r) => [r.address, r.final?.status])).toEqual(rcpts.map((r) => [r, 'sent']));
    expect(messages[1].fate).toBe('bounced');
    expect(summary).toMatchObject({ delivered: 1, bounced: 1, recipients: { sent: 5, bounced: 1 } });
    expect(summary.delay?.count).toBe(6);
  });

  it('a journal recipient Postfix never took (rejected at RCPT, nrcpt smaller) does not hold the message back', async () => {
    const q = 'DC94620C112';
    const journal = [entry(1, { queueId: q, recipients: ['2rcpt@partial.example', 'rcpt@partial.example'] })];
    const { messages, summary } = await correlate(journal, records(life(q, 1, '35', 'rcpt@partial.example')));
    expect(messages[0].fate).toBe('delivered');
    expect(summary.recipients).toEqual({ sent: 1, none: 1 });
  });

  it('a queue id reused after removed does not attach to the first message; records from a plain array work too', async () => {
    const q = 'DC94620C112';
    const ctx = new ParseContext(OPTIONS);
    const lines = [...life(q, 1), `Nov 24 21:13:00 mx postfix/qmgr[4470]: ${q}: from=<x@example.com>, size=1, nrcpt=1 (queue active)`];
    const recs = lines.map((l) => parseLine(l, ctx)!);
    const { messages, summary } = await correlate([entry(1, { queueId: q })], recs);
    expect(messages[0]).toMatchObject({ fate: 'delivered', activations: 1 });
    expect(summary.matchedRecords).toBe(5);
  });
});

describe('readJournal', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const line = (seq: number): string => JSON.stringify(entry(seq, { queueId: `Q${seq}` }));

  it('reads whole lines; a truncated last line is counted, not thrown', async () => {
    const p = join(dir, 'cut.jsonl');
    writeFileSync(p, `${line(1)}\n${line(2)}\n${line(3).slice(0, 40)}`);
    const stats: JournalReadStats = { entries: 0, truncated: 0, invalid: 0 };
    const entries = await readJournal(p, stats);
    expect(entries.map((e) => e.queueId)).toEqual(['Q1', 'Q2']);
    expect(stats).toEqual({ entries: 2, truncated: 1, invalid: 0 });
  });

  it('a complete file; a bad middle line is invalid; an empty file is no entries', async () => {
    const p = join(dir, 'ok.jsonl');
    writeFileSync(p, `${line(1)}\n{"broken\n${line(3)}\n`);
    const stats: JournalReadStats = { entries: 0, truncated: 0, invalid: 0 };
    expect((await readJournal(p, stats)).map((e) => e.seq)).toEqual([1, 3]);
    expect(stats).toEqual({ entries: 2, truncated: 0, invalid: 1 });
    const empty = join(dir, 'empty.jsonl');
    writeFileSync(empty, '');
    expect(await readJournal(empty)).toEqual([]);
    // A last line without its newline that is whole still counts.
    expect(parseJournal(`${line(1)}\n${line(2)}`).map((e) => e.seq)).toEqual([1, 2]);
  });
});

describe('percentiles', () => {
  it('nearest rank on the sorted values', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(distribution(v)).toEqual({ count: 100, min: 1, p50: 50, p90: 90, p99: 99, max: 100, mean: 50.5 });
    expect(percentile([7], 99)).toBe(7);
    expect(distribution([])).toBeUndefined();
  });
});
