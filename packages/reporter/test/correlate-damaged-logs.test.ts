// The correlation on damaged logs (issue 7): the parser-level fuzzing (maillog-fuzz.test.ts)
// shows that bad lines are counted and never thrown on; this shows that the report built on
// them still tells the truth about each journal message. The journal is made from the whole
// log (every queue id with a client= and a message-id line: one message of ours), then the
// log is cut, split into several logs, or garbled, and each message's fate, final lines and
// latency are held against what the whole log says. Every random case names its seed.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { randInt, randomSplits, rng } from '../../core/test/random.js';
import { correlate, MESSAGE_FATES, type Correlation, type JournalEntry, type MessageFate, type MessageLife } from '../src/correlate/index.js';
import { readMaillog, type LogRecord, type MaillogCounters } from '../src/maillog/index.js';
import { mergeByTime } from '../src/maillog/merge.js';
import { buildReportModel } from '../src/report/build.js';
import { FIXTURE_OPTIONS, fixturePath } from './maillog-helpers.js';

/** Real Postfix logs with every fate the correlation gives on a whole log. */
const FIXTURES = ['relay-backlog.log', 'relay-deferred-then-sent.log', 'relay-bounced.log', 'relay-faults.log', 'transports-mixed.log'] as const;

const DELIVERED: ReadonlySet<MessageFate> = new Set<MessageFate>(['delivered', 'deferred-then-delivered']);

interface Read {
  records: LogRecord[];
  counters: MaillogCounters;
}

/** Bytes through readMaillog as a stream, in the given pieces (one piece when not told). */
async function readBytes(bytes: Buffer, pieces: Array<[number, number]> = [[0, bytes.length]]): Promise<Read> {
  const reader = readMaillog(Readable.from(pieces.map(([a, b]) => bytes.subarray(a, b))), FIXTURE_OPTIONS);
  const records: LogRecord[] = [];
  for await (const r of reader) records.push(r);
  return { records, counters: reader.counters };
}

/** Lines (each written with its LF) as one log's reader. */
function logOf(lines: readonly string[]): ReturnType<typeof readMaillog> {
  return readMaillog(Readable.from([Buffer.from(lines.map((l) => l + '\n').join(''), 'utf8')]), FIXTURE_OPTIONS);
}

/**
 * The journal smtp-source would have written for the log's messages: one entry per queue id
 * with a client= line and a message-id, its queue id and Message-Id, the recipients as sent
 * (orig_to when logged, else to), and the injection's end at the client= line's time.
 */
function journalOf(records: readonly LogRecord[]): JournalEntry[] {
  const byId = new Map<string, { time: number; messageId?: string; recipients: string[] }>();
  for (const r of records) if (r.kind === 'client' && !byId.has(r.queueId)) byId.set(r.queueId, { time: r.time, recipients: [] });
  for (const r of records) {
    const m = r.queueId !== undefined ? byId.get(r.queueId) : undefined;
    if (m === undefined) continue;
    if (r.kind === 'message-id' && !r.resent) m.messageId ??= r.messageId;
    if (r.kind === 'delivery') {
      const a = r.origTo ?? r.to;
      if (!m.recipients.includes(a)) m.recipients.push(a);
    }
  }
  const out: JournalEntry[] = [];
  for (const [queueId, m] of byId) {
    if (m.messageId === undefined) continue;
    const end = new Date(m.time).toISOString();
    out.push({
      seq: out.length + 1,
      session: 1,
      messageId: m.messageId,
      start: end,
      startMs: 0,
      end,
      endMs: 0,
      recipients: m.recipients,
      status: 'accepted',
      code: 250,
      reply: `2.0.0 Ok: queued as ${queueId}`,
      queueId,
    });
  }
  return out;
}

/** What the report says about one message: fate, latency, removal, and each recipient's lines. */
function facts(m: MessageLife) {
  return {
    fate: m.fate,
    latencyMs: m.latencyMs,
    removedAt: m.removedAt,
    expiredAt: m.expiredAt,
    recipients: m.recipients.map((r) => ({
      address: r.address,
      deferrals: r.deferrals,
      final: r.final && { queueId: r.final.queueId, time: r.final.time, program: r.final.program, status: r.final.status, relay: r.final.relay, delay: r.final.delay, dsn: r.final.dsn },
    })),
  };
}

/** The invariants of any correlation of a journal, whatever the log was like (few expect calls: this runs often). */
function wellFormed(c: Correlation, journal: readonly JournalEntry[], why: string): void {
  expect(c.messages.map((m) => m.seq), why).toEqual(journal.map((e) => e.seq));
  const bad = c.messages.filter((m) => !MESSAGE_FATES.includes(m.fate) || (m.latencyMs !== undefined) !== DELIVERED.has(m.fate) || (m.latencyMs ?? 0) < 0);
  expect(bad.map((m) => [m.seq, m.fate, m.latencyMs]), why).toEqual([]);
  const s = c.summary;
  const counted = Object.fromEntries(MESSAGE_FATES.map((f) => [f, c.messages.filter((m) => m.fate === f).length]));
  expect(s.fates, why).toEqual(counted);
  expect(s.delivered + s.deferredThenDelivered + s.bounced + s.deferred + s.pending + s.removed + s.lost + s.notAccepted, why).toBe(journal.length);
  expect(s.latencyMs?.count ?? 0, why).toBe(s.delivered + s.deferredThenDelivered);
}

/** Lines of a log with the byte offset of each line's start and end (LF excluded). */
function linesOf(bytes: Buffer): Array<{ text: string; start: number; end: number }> {
  const out: Array<{ text: string; start: number; end: number }> = [];
  let start = 0;
  while (start < bytes.length) {
    let nl = bytes.indexOf(0x0a, start);
    if (nl < 0) nl = bytes.length;
    out.push({ text: bytes.toString('utf8', start, nl), start, end: nl });
    start = nl + 1;
  }
  return out;
}

interface Fixture {
  name: string;
  bytes: Buffer;
  lines: string[];
  records: LogRecord[];
  journal: JournalEntry[];
  full: Correlation;
}

const cache = new Map<string, Promise<Fixture>>();

/** A log, its journal and the correlation of the whole log: the truth the damaged ones are held to. */
function fixture(name: string, bytes: Buffer = readFileSync(fixturePath(name))): Promise<Fixture> {
  let p = cache.get(name);
  if (p === undefined) {
    p = (async () => {
      const { records } = await readBytes(bytes);
      const journal = journalOf(records);
      const full = await correlate(journal, records);
      const lines = bytes.toString('utf8').split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      return { name, bytes, lines, records, journal, full };
    })();
    cache.set(name, p);
  }
  return p;
}

describe('the whole logs (the reference)', () => {
  it('every fixture gives a journal whose messages all have a known fate, by queue id', async () => {
    const seen = new Set<MessageFate>();
    for (const name of FIXTURES) {
      const f = await fixture(name);
      expect(f.journal.length, name).toBeGreaterThanOrEqual(12);
      wellFormed(f.full, f.journal, name);
      expect(f.full.summary.found, name).toBe(f.journal.length);
      expect(f.full.summary.joinedByQueueId, name).toBe(f.journal.length);
      for (const m of f.full.messages) seen.add(m.fate);
    }
    // The references cover success, success after a retry, and failure.
    expect([...seen].sort()).toEqual(['bounced', 'deferred-then-delivered', 'delivered']);
  });
});

// ---------------------------------------------------------------------------------------------

/** relay-backlog with one of our delivery lines' replies holding multi-byte characters. */
const MULTIBYTE_REPLY = '250 2.0.0 Ok — accepté ✓';

function multibyteBacklog(): Buffer {
  const text = readFileSync(fixturePath('relay-backlog.log'), 'utf8');
  const i = text.indexOf('status=sent (250 2.0.0 Ok)');
  expect(i).toBeGreaterThan(0);
  return Buffer.from(text.slice(0, i) + `status=sent (${MULTIBYTE_REPLY})` + text.slice(i + 'status=sent (250 2.0.0 Ok)'.length), 'utf8');
}

/** Checks a cut log's correlation against the whole log's, for the cut at byte `cut`. */
function checkCut(f: Fixture, c: Correlation, cut: number, why: string): void {
  wellFormed(c, f.journal, why);
  const prefix = f.bytes.toString('latin1', 0, cut);
  const whole = f.full.messages;
  // Lost exactly when no line of it (not even a cut one, up to its queue id's colon) was read.
  expect(c.messages.map((m) => m.fate === 'lost'), `${why}: lost`).toEqual(whole.map((m) => !prefix.includes(`${m.queueId}:`)));
  // Delivered in the cut log: delivered in the whole log, by the same lines, with the same
  // latency (qmgr's `removed` may still be to come).
  const sent = c.messages.filter((m) => DELIVERED.has(m.fate));
  const delivery = (m: MessageLife) => ({ ...facts(m), removedAt: undefined });
  expect(sent.map(delivery), `${why}: delivered`).toEqual(sent.map((m) => delivery(whole[m.seq - 1])));
  // Cut after the message's last line: its whole story, whatever it is.
  const told = c.messages.filter((_, i) => cut >= lastLineEnd(f, i));
  expect(told.map(facts), `${why}: complete`).toEqual(told.map((m) => facts(whole[m.seq - 1])));
  // Nothing bounced that the whole log does not bounce.
  const bounced = c.messages.filter((m) => m.fate === 'bounced');
  expect(bounced.map((m) => whole[m.seq - 1].fate), `${why}: bounced`).toEqual(bounced.map(() => 'bounced'));
}

const lastEnds = new WeakMap<Fixture, number[]>();

/** Where the last line naming the i-th journal message's queue id ends (LF excluded). */
function lastLineEnd(f: Fixture, i: number): number {
  let ends = lastEnds.get(f);
  if (ends === undefined) {
    const spans = linesOf(f.bytes);
    ends = f.full.messages.map((m) => spans.filter((l) => l.text.includes(`${m.queueId}: `)).at(-1)!.end);
    lastEnds.set(f, ends);
  }
  return ends[i];
}

describe('truncated logs', () => {
  it('cut at random points (mid-line, any chunking): never throws, one fate each, nothing the whole log does not say, delivered only grows', async () => {
    let cuts = 0;
    let midLine = 0;
    for (const [k, name] of FIXTURES.entries()) {
      const f = await fixture(name);
      const spans = linesOf(f.bytes);
      const points: Array<{ cut: number; seed: number }> = [];
      for (let s = 0; s < 10; s++) {
        const seed = 100 * (k + 1) + s;
        const r = rng(seed);
        // Half anywhere; half near a random line's tag end, its queue id's colon (the queue id
        // whole or cut) or its status= word.
        let cut = randInt(r, f.bytes.length + 1);
        if (s % 2 === 1) {
          const l = spans[randInt(r, spans.length)];
          const tagEnd = l.text.indexOf(': ');
          const at = [tagEnd, l.text.indexOf(': ', tagEnd + 2), l.text.indexOf('status=')][randInt(r, 3)];
          cut = l.start + (at < 0 ? randInt(r, l.text.length) : Math.max(0, at - 4 + randInt(r, 10)));
        }
        points.push({ cut, seed });
      }
      // And the line ends: whole lines only.
      for (let i = 0; i < spans.length; i += Math.ceil(spans.length / 8)) points.push({ cut: spans[i].end + 1, seed: -i });
      points.push({ cut: f.bytes.length, seed: -spans.length });
      points.sort((a, b) => a.cut - b.cut);
      let delivered: Set<number> = new Set();
      for (const { cut, seed } of points) {
        const why = `${name} cut ${cut} (seed ${seed})`;
        const r = rng(seed + 7919);
        const bytes = f.bytes.subarray(0, cut);
        const { records } = await readBytes(bytes, randomSplits(r, bytes.length, 6));
        const c = await correlate(f.journal, records);
        checkCut(f, c, cut, why);
        // A message delivered at a cut is delivered at every later one.
        const now = new Set(c.messages.filter((m) => DELIVERED.has(m.fate)).map((m) => m.seq));
        for (const seq of delivered) expect(now.has(seq), `${why} seq ${seq}`).toBe(true);
        expect(now.size, why).toBeGreaterThanOrEqual(delivered.size);
        delivered = now;
        cuts++;
        if (cut > 0 && cut < f.bytes.length && f.bytes[cut - 1] !== 0x0a && f.bytes[cut] !== 0x0a) midLine++;
      }
      // The whole log again, as the last cut.
      expect(delivered.size, name).toBe(f.full.summary.delivered + f.full.summary.deferredThenDelivered);
    }
    expect(cuts).toBeGreaterThanOrEqual(40);
    expect(midLine).toBeGreaterThanOrEqual(30);
  });

  it('cut inside a multi-byte character of a delivery line: still that delivery, no half character kept', async () => {
    const bytes = multibyteBacklog();
    const f = await fixture('relay-backlog+multibyte', bytes);
    const spans = linesOf(f.bytes);
    const line = spans.find((l) => l.text.includes(MULTIBYTE_REPLY))!;
    const q = /: ([0-9A-F]+): to=/.exec(line.text)![1];
    const seq = f.full.messages.findIndex((m) => m.queueId === q);
    expect(f.full.messages[seq].fate).toBe('delivered');
    expect(f.full.messages[seq].recipients[0].final?.reply).toBe(MULTIBYTE_REPLY);
    const replyAt = line.start + Buffer.byteLength(line.text.slice(0, line.text.indexOf(MULTIBYTE_REPLY)), 'utf8');
    let inside = 0;
    for (let cut = replyAt; cut <= line.end; cut++) {
      // Only cuts between a lead byte and its continuation bytes.
      if ((f.bytes[cut] & 0xc0) !== 0x80) continue;
      inside++;
      const { records, counters } = await readBytes(f.bytes.subarray(0, cut));
      const c = await correlate(f.journal, records);
      checkCut(f, c, cut, `multibyte cut ${cut}`);
      const m = c.messages[seq];
      expect(m.fate, `cut ${cut}`).toBe('delivered');
      const reply = m.recipients[0].final!.reply;
      // The cut character is one U+FFFD at the end, never a wrong character; the rest is as written.
      expect(reply.endsWith('\ufffd'), `cut ${cut}`).toBe(true);
      expect(MULTIBYTE_REPLY.startsWith(reply.slice(0, -1)), `cut ${cut}: ${reply}`).toBe(true);
      expect(counters.garbled + counters.kinds.unknown, `cut ${cut}`).toBe(0);
    }
    // — is 3 bytes, é 2, ✓ 3: 2 + 1 + 2 places inside a character.
    expect(inside).toBe(5);
  });
});

// ---------------------------------------------------------------------------------------------

/** Classic stamp `Nov 24 21:34:35` of a line, as seconds of the day. */
function secondsOf(line: string): number {
  const [h, m, s] = line.slice(7, 15).split(':').map(Number);
  return h * 3600 + m * 60 + s;
}

function withSeconds(line: string, t: number): string {
  const hh = String(Math.floor(t / 3600)).padStart(2, '0');
  const mm = String(Math.floor(t / 60) % 60).padStart(2, '0');
  const ss = String(t % 60).padStart(2, '0');
  return `${line.slice(0, 7)}${hh}:${mm}:${ss}${line.slice(15)}`;
}

/** Classic stamps as RFC 3339 ones, the n-th line of a second at n ms past it. */
function rfc3339(lines: readonly string[]): string[] {
  let second = -1;
  let n = 0;
  return lines.map((l) => {
    const t = secondsOf(l);
    n = t === second ? n + 1 : 0;
    second = t;
    const iso = new Date(Date.UTC(2026, 10, 24) + t * 1000 + n).toISOString().replace('Z', '000+00:00');
    return iso + l.slice(15);
  });
}

/** Runs the logs the way `smtpstone-report --log a --log b` does: merged in time order. */
async function correlateLogs(journal: readonly JournalEntry[], logs: readonly (readonly string[])[]): Promise<Correlation> {
  return correlate(journal, mergeByTime(logs.map(logOf)));
}

/**
 * The same fates, final lines, latencies and hops as the whole log; with `everyRecord`, also
 * every record read and joined (client=, cleanup) as there.
 */
function expectSameStory(c: Correlation, full: Correlation, why: string, everyRecord = true): void {
  expect(c.messages.map(facts), why).toEqual(full.messages.map(facts));
  expect(c.messages.map((m) => m.hops), why).toEqual(full.messages.map((m) => m.hops));
  expect(c.summary.fates, why).toEqual(full.summary.fates);
  expect(c.summary.latencyMs, why).toEqual(full.summary.latencyMs);
  expect(c.summary.records, why).toBe(full.summary.records);
  if (!everyRecord) return;
  expect(c.summary.matchedRecords, why).toBe(full.summary.matchedRecords);
  expect(c.messages.map((m) => [m.client, m.cleanup, m.qmgr, m.removedAt]), why).toEqual(full.messages.map((m) => [m.client, m.cleanup, m.qmgr, m.removedAt]));
}

/**
 * A second Postfix instance (syslog_name postfix-out) in the same minutes: local-maildir.log's
 * 60 messages with their tag renamed, their recipient made ours, and their stamps spread over
 * our log's span (the original is all one second).
 */
function secondInstance(ours: readonly string[]): string[] {
  const theirs = readFileSync(fixturePath('local-maildir.log'), 'utf8').trimEnd().split('\n');
  const from = secondsOf(ours[0]);
  const span = secondsOf(ours[ours.length - 1]) - from + 1;
  return theirs.map((l, i) =>
    withSeconds(l, from + Math.floor((i * span) / theirs.length))
      .replace(' postfix/', ' postfix-out/')
      .replace('to=<user@localhost>', 'to=<user@remote.example>'),
  );
}

describe('interleaved logs', () => {
  it('split by process into two, three or four logs (any order), read as several --log: the same fates, lines, latencies and records', async () => {
    for (const name of FIXTURES) {
      const f = await fixture(name);
      const front = (l: string) => / postfix\/(?:\w+\/)?(?:smtpd|cleanup)\[/.test(l);
      const a = f.lines.filter(front);
      const b = f.lines.filter((l) => !front(l));
      expect(a.length * b.length, name).toBeGreaterThan(0);
      // Whole-second stamps: within a second, lines of different logs come out in log order, so
      // qmgr's `removed` may come before that second's smtpd, cleanup or delivery lines.
      expectSameStory(await correlateLogs(f.journal, [a, b]), f.full, `${name} [smtpd+cleanup, rest]`);
      expectSameStory(await correlateLogs(f.journal, [b, a]), f.full, `${name} [rest, smtpd+cleanup]`);
      const smtpd = (l: string) => / postfix\/(?:\w+\/)?smtpd\[/.test(l);
      const qmgr = (l: string) => / postfix\/(?:\w+\/)?qmgr\[/.test(l);
      const three = [a.filter(smtpd), a.filter((l) => !smtpd(l)), b];
      expectSameStory(await correlateLogs(f.journal, three), f.full, `${name} three logs`);
      expectSameStory(await correlateLogs(f.journal, [...three].reverse()), f.full, `${name} three logs reversed`);
      // The queue manager apart from the delivery agents: its `removed` first, then the sent line.
      const four = [b.filter(qmgr), ...three.slice(0, 2), b.filter((l) => !qmgr(l))];
      expectSameStory(await correlateLogs(f.journal, four), f.full, `${name} four logs, qmgr first`);
      expectSameStory(await correlateLogs(f.journal, [...four].reverse()), f.full, `${name} four logs reversed`);
    }
  });

  it('a delivery agent under a name of its own (postfix/amavis, or a flipped byte: postfix/smtx) still delivers', async () => {
    const f = await fixture('relay-sent.log');
    for (const program of ['amavis', 'smtx']) {
      const lines = f.lines.map((l) => l.replace(/ postfix\/smtp\[/, ` postfix/${program}[`));
      expect(lines.filter((l) => l.includes(`postfix/${program}[`)).length, program).toBeGreaterThan(0);
      const c = await correlateLogs(f.journal, [lines]);
      expect(c.summary.fates, program).toEqual(f.full.summary.fates);
      expect(c.summary.latencyMs, program).toEqual(f.full.summary.latencyMs);
      expect(c.summary.matchedRecords, program).toBe(f.full.summary.matchedRecords);
      const finals = c.messages.flatMap((m) => m.recipients.map((r) => r.final?.program));
      expect(new Set(finals), program).toEqual(new Set([program]));
    }
  });

  it('split line by line at random into 2-3 logs (RFC 3339 stamps, so each line has its own time): the same fates and latencies', async () => {
    // relay-sent.iso8601.log's fractions were made up and are not in line order, so the
    // classic logs are rewritten here with fractions that keep it (a millisecond per line).
    for (const name of ['relay-backlog.log', 'relay-deferred-then-sent.log', 'relay-faults.log', 'transports-mixed.log'] as const) {
      const classic = await fixture(name);
      const f = await fixture(`${name}+rfc3339`, Buffer.from(rfc3339(classic.lines).map((l) => l + '\n').join(''), 'utf8'));
      expect(f.full.messages.map((m) => m.fate), name).toEqual(classic.full.messages.map((m) => m.fate));
      expect(f.full.summary.latencyPrecision, name).toBe('us');
      for (let seed = 1; seed <= 3; seed++) {
        const r = rng(seed);
        const n = 2 + (seed % 2);
        const logs: string[][] = Array.from({ length: n }, () => []);
        for (const l of f.lines) logs[randInt(r, n)].push(l);
        expectSameStory(await correlateLogs(f.journal, logs), f.full, `${name} seed ${seed}`);
      }
    }
  });

  it('a second instance (postfix-out/...) interleaved, as another --log or in the same file: none of its lines attach to our messages', async () => {
    for (const name of FIXTURES) {
      const f = await fixture(name);
      const other = secondInstance(f.lines);
      const why = `${name} + postfix-out`;
      expectSameStoryBut(await correlateLogs(f.journal, [f.lines, other]), f.full, other.length, why);
      expectSameStoryBut(await correlateLogs(f.journal, [other, f.lines]), f.full, other.length, `${why} (first)`);
      // One file: the two instances' lines in time order (ties: ours first), one reader.
      const merged = [...f.lines, ...other].map((l, i) => ({ l, i, t: secondsOf(l) })).sort((x, y) => x.t - y.t || x.i - y.i).map((x) => x.l);
      expectSameStoryBut(await correlateLogs(f.journal, [merged]), f.full, other.length, `${why} (one file)`);
    }
  });

  it('…unless a line of ours hands the message on to it (`queued as` its queue id): then that hop is followed, and only that one', async () => {
    const f = await fixture('relay-backlog.log');
    const other = secondInstance(f.lines);
    // Our first message's delivery line now says the next server (the postfix-out instance) queued it.
    const m0 = f.full.messages[0];
    const sentAt = m0.recipients[0].final!.time;
    const sentLine = f.lines.findIndex((l) => l.includes(`${m0.queueId}: to=<`));
    // The other instance's first message whose client= line is at or after that second.
    const clients = other.filter((l) => l.includes(': client='));
    const hop = clients.map((l) => /: ([0-9A-F]+): client=/.exec(l)![1]).find((_, i) => Date.UTC(2026, 10, 24) + secondsOf(clients[i]) * 1000 >= sentAt)!;
    expect(hop).toBeDefined();
    const ours = [...f.lines];
    ours[sentLine] = ours[sentLine].replace('status=sent (250 2.0.0 Ok)', `status=sent (250 2.0.0 Ok: queued as ${hop})`);
    expect(ours[sentLine]).toContain(hop);
    const hopLines = other.filter((l) => l.includes(`${hop}: `));
    const hopDelivery = hopLines.find((l) => l.includes(' to=<'))!;
    for (const logs of [[ours, other], [other, ours]]) {
      const c = await correlateLogs(f.journal, logs);
      wellFormed(c, f.journal, 'hand-off');
      const m = c.messages[0];
      expect(m.hops).toEqual([m0.queueId, hop]);
      expect(m.fate).toBe('delivered');
      expect(m.recipients).toHaveLength(1);
      expect(m.recipients[0].handoffs.map((h) => h.queueId)).toEqual([m0.queueId]);
      expect(m.recipients[0].final).toMatchObject({ queueId: hop, program: 'local', relay: 'local', status: 'sent' });
      expect(m.latencyMs).toBe(Math.max(0, Date.UTC(2026, 10, 24) + secondsOf(hopDelivery) * 1000 - m.injectedAt));
      // The other 49 are as before, and of the 60 others' lines only the hop's joined.
      expect(c.messages.slice(1).map(facts)).toEqual(f.full.messages.slice(1).map(facts));
      expect(c.messages.slice(1).map((x) => x.hops)).toEqual(f.full.messages.slice(1).map((x) => x.hops));
      expect(c.summary.matchedRecords).toBe(f.full.summary.matchedRecords + hopLines.length);
    }
  });
});

/** The same story as the whole log, with `extra` more records read and none of them matched. */
function expectSameStoryBut(c: Correlation, full: Correlation, extra: number, why: string): void {
  expect(c.messages.map(facts), why).toEqual(full.messages.map(facts));
  expect(c.messages.map((m) => m.hops), why).toEqual(full.messages.map((m) => m.hops));
  expect(c.summary.matchedRecords, why).toBe(full.summary.matchedRecords);
  expect(c.summary.records, why).toBe(full.summary.records + extra);
}

// ---------------------------------------------------------------------------------------------

type Damage = 'junk' | 'flip' | 'glue';

/**
 * Damages a few random lines of a log: replaced by junk, 1-3 bytes flipped (any byte, LF
 * included), or glued to the next line (two writers without atomic appends: the line's tail
 * comes after the next one). Returns the bytes and the damaged lines, before and after.
 */
function garble(lines: readonly string[], r: () => number): { bytes: Buffer; damaged: Array<{ index: number; was: string; now: string; how: Damage }> } {
  const out = lines.map((l) => Buffer.from(l, 'utf8'));
  const damaged: Array<{ index: number; was: string; now: string; how: Damage }> = [];
  const n = 1 + randInt(r, 6);
  for (let k = 0; k < n; k++) {
    const i = randInt(r, out.length);
    const how: Damage = (['junk', 'flip', 'glue'] as const)[randInt(r, 3)];
    const was = [out[i].toString('latin1')];
    if (how === 'junk') {
      out[i] = Buffer.from(Array.from({ length: 1 + randInt(r, 100) }, () => 0x20 + randInt(r, 95)));
    } else if (how === 'flip') {
      const b = Buffer.from(out[i]);
      for (let f = 1 + randInt(r, 3); f > 0; f--) b[randInt(r, b.length)] = randInt(r, 256);
      out[i] = b;
    } else if (i + 1 < out.length) {
      was.push(out[i + 1].toString('latin1'));
      const cut = randInt(r, out[i].length);
      const tail = out[i].subarray(cut);
      out[i] = Buffer.concat([out[i].subarray(0, cut), out[i + 1]]);
      out[i + 1] = tail;
    }
    for (let j = 0; j < was.length; j++) damaged.push({ index: i + j, was: was[j], now: out[i + j].toString('latin1'), how });
  }
  return { bytes: Buffer.concat(out.flatMap((b) => [b, Buffer.from('\n')])), damaged };
}

describe('garbled logs', () => {
  it('random lines junked, flipped or glued: never throws, one fate each; intact messages keep theirs; no made-up delivery; the report says lines were lost', async () => {
    let intact = 0;
    let changed = 0;
    const became = new Set<MessageFate>();
    for (let seed = 1; seed <= 40; seed++) {
      const f = await fixture(FIXTURES[seed % FIXTURES.length]);
      const r = rng(seed);
      const { bytes, damaged } = garble(f.lines, r);
      const why = `${f.name} seed ${seed}`;
      const { records, counters } = await readBytes(bytes, randomSplits(r, bytes.length, 6));
      const c = await correlate(f.journal, records);
      wellFormed(c, f.journal, why);
      const whole = f.full.messages;
      // A message is damaged when a damaged line named its queue id, before or after the damage.
      const hits = whole.map((m) => damaged.filter((d) => d.was.includes(m.queueId!) || d.now.includes(m.queueId!)));
      const untouched = c.messages.filter((_, i) => hits[i].length === 0);
      intact += untouched.length;
      expect(untouched.map(facts), `${why}: intact`).toEqual(untouched.map((m) => facts(whole[m.seq - 1])));
      const hurt = c.messages.filter((_, i) => hits[i].length > 0);
      // Never a delivery or a bounce the whole log does not have.
      const claims = hurt.filter((m) => DELIVERED.has(m.fate) || m.fate === 'bounced');
      expect(claims.map((m) => [m.seq, DELIVERED.has(m.fate) ? 'delivered' : m.fate]), `${why}: damaged`).toEqual(
        claims.map((m) => [m.seq, DELIVERED.has(whole[m.seq - 1].fate) ? 'delivered' : whole[m.seq - 1].fate]),
      );
      // A delivery whose to= lines were not hit is told by the same final lines, latency too.
      const sure = hurt.filter((m) => DELIVERED.has(m.fate) && !hits[m.seq - 1].some((d) => `${d.was}\n${d.now}`.includes(`${m.queueId}: to=<`)));
      expect(sure.map((m) => [m.latencyMs, facts(m).recipients.map((x) => x.final)]), `${why}: sent lines intact`).toEqual(
        sure.map((m) => [whole[m.seq - 1].latencyMs, facts(whole[m.seq - 1]).recipients.map((x) => x.final)]),
      );
      // The report: what a damaged message became is one of the fates that warn, and the
      // unreadable lines are counted and warned about (a sent line lost while qmgr's
      // `removed` survived reads `removed`, which has no warning of its own).
      const unparsed = counters.garbled + counters.kinds.unknown;
      const model = buildReportModel(c, { journal: 'journal.jsonl', logs: ['maillog'], unknownLogLines: unparsed });
      const moved = hurt.filter((m) => m.fate !== whole[m.seq - 1].fate);
      changed += moved.length;
      for (const m of moved) became.add(m.fate);
      if (moved.length > 0) {
        expect(unparsed, `${why}: unparsed`).toBeGreaterThan(0);
        expect(model.warnings, why).toContain(`log: ${unparsed} line(s) not understood (counted, skipped)`);
      }
      const s = c.summary;
      if (s.pending > 0) expect(model.warnings, why).toContain(`${s.pending} message(s) had no final status when the log ends`);
      if (s.deferred > 0) expect(model.warnings, why).toContain(`${s.deferred} message(s) were still deferred when the log ends`);
      if (s.lost > 0) expect(model.warnings.some((w) => w.startsWith(`${s.lost} accepted message(s) never appear in the log`)), why).toBe(true);
      expect(model.summary.fates, why).toEqual(s.fates);
    }
    // The damage did hit some messages and spared others.
    expect(intact).toBeGreaterThan(200);
    expect(changed).toBeGreaterThanOrEqual(10);
    expect([...became].sort()).toEqual(['deferred', 'delivered', 'pending', 'removed']);
  });

  it('every line of a message junked: it is lost, the others keep their fates, and the report warns of both', async () => {
    const f = await fixture('relay-deferred-then-sent.log');
    for (const victim of [0, 7, f.journal.length - 1]) {
      const q = f.journal[victim].queueId!;
      const lines = f.lines.map((l) => (l.includes(`${q}: `) ? 'x'.repeat(l.length) : l));
      const junked = f.lines.filter((l) => l.includes(`${q}: `)).length;
      const { records, counters } = await readBytes(Buffer.from(lines.join('\n') + '\n'));
      const c = await correlate(f.journal, records);
      wellFormed(c, f.journal, q);
      expect(c.messages[victim].fate).toBe('lost');
      expect(c.messages.filter((_, i) => i !== victim).map(facts)).toEqual(f.full.messages.filter((_, i) => i !== victim).map(facts));
      expect(counters.garbled).toBe(junked);
      const model = buildReportModel(c, { journal: 'journal.jsonl', logs: ['maillog'], unknownLogLines: counters.garbled + counters.kinds.unknown });
      expect(model.warnings).toContain(`log: ${junked} line(s) not understood (counted, skipped)`);
      expect(model.warnings).toContain('1 accepted message(s) never appear in the log: lost, or the log does not cover the run');
    }
  });
});
