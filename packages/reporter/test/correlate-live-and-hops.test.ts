// The correlation's newer duties: following a message through a hand-off (content filter,
// second instance) and joining a live run where log lines come before their journal line.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { correlate, Correlator, whenDone, type JournalEntry } from '../src/correlate/index.js';
import { decodeQueueId, readMaillog, type LogRecord } from '../src/maillog/index.js';

const OPTIONS = { year: 2026, zone: 'UTC' };

function entry(seq: number, queueId: string, end = '2026-11-24T21:12:34.100Z'): JournalEntry {
  return {
    seq,
    session: 1,
    messageId: `<run.${seq}@client.example>`,
    start: end,
    startMs: 0,
    end,
    endMs: 0,
    recipients: ['user@remote.example'],
    status: 'accepted',
    code: 250,
    reply: `2.0.0 Ok: queued as ${queueId}`,
    queueId,
  };
}

async function recordsOf(lines: string[]): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const r of readMaillog(Readable.from([lines.join('\n') + '\n']), OPTIONS)) out.push(r);
  return out;
}

/** Hop 1 goes to a content filter on :10025, whose re-injection smtpd queues it as hop 2. */
const FILTERED = [
  'Nov 24 21:12:34 mx postfix/smtpd[100]: AAA111: client=localhost[127.0.0.1]',
  'Nov 24 21:12:34 mx postfix/cleanup[101]: AAA111: message-id=<run.1@client.example>',
  'Nov 24 21:12:34 mx postfix/qmgr[102]: AAA111: from=<s@example.com>, size=500, nrcpt=1 (queue active)',
  'Nov 24 21:12:35 mx postfix/smtpd[103]: BBB222: client=localhost[127.0.0.1]',
  'Nov 24 21:12:35 mx postfix/cleanup[101]: BBB222: message-id=<run.1@client.example>',
  'Nov 24 21:12:35 mx postfix/qmgr[102]: BBB222: from=<s@example.com>, size=700, nrcpt=1 (queue active)',
  'Nov 24 21:12:35 mx postfix/smtp[104]: AAA111: to=<user@remote.example>, relay=127.0.0.1[127.0.0.1]:10025, delay=1, delays=0.1/0.1/0.3/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as BBB222)',
  'Nov 24 21:12:35 mx postfix/qmgr[102]: AAA111: removed',
  'Nov 24 21:12:38 mx postfix/smtp[105]: BBB222: to=<user@remote.example>, relay=mx.remote.example[192.0.2.7]:25, delay=3, delays=0.1/2/0.4/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Xyz)',
  'Nov 24 21:12:38 mx postfix/qmgr[102]: BBB222: removed',
];

describe('following hand-offs', () => {
  it('follows a message queued again by a content filter to its last hop', async () => {
    const { messages, summary } = await correlate([entry(1, 'AAA111')], await recordsOf(FILTERED));
    const m = messages[0];
    expect(m.hops).toEqual(['AAA111', 'BBB222']);
    expect(m.fate).toBe('delivered');
    expect(m.recipients[0].final?.relay).toBe('mx.remote.example[192.0.2.7]:25');
    expect(m.recipients[0].handoffs.map((h) => h.relay)).toEqual(['127.0.0.1[127.0.0.1]:10025']);
    // 21:12:38 (last hop) minus the injection end at 21:12:34.100.
    expect(m.latencyMs).toBe(3900);
    expect(summary.delay?.max).toBe(3);
  });

  it('stops at a hand-off to a server that logs elsewhere (its queue id never shows here)', async () => {
    const lines = FILTERED.slice(0, 3).concat(FILTERED.slice(6, 8));
    const { messages } = await correlate([entry(1, 'AAA111')], await recordsOf(lines));
    expect(messages[0].hops).toEqual(['AAA111']);
    expect(messages[0].fate).toBe('delivered');
    expect(messages[0].recipients[0].final?.queuedAs).toBe('BBB222');
  });

  it('waits on a deferred last hop: the first hop having been sent does not make it delivered', async () => {
    const lines = FILTERED.slice(0, 8).concat([
      'Nov 24 21:12:38 mx postfix/smtp[105]: BBB222: to=<user@remote.example>, relay=none, delay=3, delays=0.1/0/3/0, dsn=4.4.1, status=deferred (connect to mx.remote.example[192.0.2.7]:25: Connection refused)',
    ]);
    const { messages, deferralTimes } = await correlate([entry(1, 'AAA111')], await recordsOf(lines));
    expect(messages[0].fate).toBe('deferred');
    expect(deferralTimes).toEqual([Date.UTC(2026, 10, 24, 21, 12, 38)]);
  });
});

describe('Correlator (live)', () => {
  it('joins log lines that arrived before their journal line, when holding is on', async () => {
    const records = await recordsOf(FILTERED);
    const live = new Correlator([], { holdRecords: 1000, live: true });
    for (const r of records.slice(0, 5)) live.add(r);
    live.addEntry(entry(1, 'AAA111'));
    for (const r of records.slice(5)) live.add(r);
    const { messages } = live.result();
    expect(messages[0].client?.peer).toBe('localhost[127.0.0.1]');
    expect(messages[0].qmgr?.size).toBe(500);
    expect(messages[0].hops).toEqual(['AAA111', 'BBB222']);
    expect(messages[0].fate).toBe('delivered');
  });

  it('gives a snapshot at any time, and a later one moves on', async () => {
    const records = await recordsOf(FILTERED);
    const live = new Correlator([entry(1, 'AAA111')]);
    for (const r of records.slice(0, 8)) live.add(r);
    expect(live.result().messages[0].fate).toBe('pending');
    expect(live.result().messages[0].latencyMs).toBeUndefined();
    for (const r of records.slice(8)) live.add(r);
    expect(live.result().summary.delivered).toBe(1);
  });

  it('after the fact, holds nothing while no message of ours is in the queue: a late journal line finds nothing', async () => {
    const records = await recordsOf(FILTERED);
    const batch = new Correlator([]);
    for (const r of records.slice(0, 5)) batch.add(r);
    batch.addEntry(entry(1, 'AAA111'));
    expect(batch.result().messages[0].client).toBeUndefined();
  });

  it('forgets the oldest held queue ids beyond the limit', async () => {
    const records = await recordsOf(FILTERED);
    const live = new Correlator([], { holdRecords: 2, live: true });
    for (const r of records) live.add(r);
    live.addEntry(entry(1, 'AAA111'));
    // AAA111's five records were pushed out by BBB222's: the message is seen only by what comes next.
    expect(live.result().messages[0].fate).toBe('lost');
  });
});

describe('whenDone', () => {
  const attemptAt = (queueId: string, stamp: string, delay: number) =>
    ({ queueId, time: Date.parse(stamp), timePrecision: 's', delay }) as Parameters<typeof whenDone>[0];

  it('refines a whole-second stamp with the long queue id\'s creation time plus delay=', () => {
    const q = '4jbVfZ3hD2zJcFV'; // created 2026-11-27 10:54:30.2xx UTC
    const created = decodeQueueId(q)!.time;
    expect(new Date(created).toISOString()).toMatch(/^2026-11-27T10:54:30\./);
    const done = whenDone(attemptAt(q, '2026-11-27T10:54:30Z', 0.09));
    expect(done).toEqual({ time: created + 90, precision: 'ms' });
  });

  it('keeps the refined time within the stamped second, and leaves short ids and long delays alone', () => {
    const q = '4jbVfZ3hD2zJcFV';
    // A stamp a second later than id + delay says (delay= is rounded): the stamp's second wins.
    expect(whenDone(attemptAt(q, '2026-11-27T10:54:31Z', 0.09)).time).toBe(Date.parse('2026-11-27T10:54:31Z'));
    expect(whenDone(attemptAt('DC94620C112', '2026-11-27T10:54:31Z', 0.09))).toEqual({ time: Date.parse('2026-11-27T10:54:31Z'), precision: 's' });
    expect(whenDone(attemptAt(q, '2026-11-27T10:54:45Z', 15)).precision).toBe('s');
  });
});
