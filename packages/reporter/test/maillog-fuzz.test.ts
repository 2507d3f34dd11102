// Hostile input: cut-off lines, flipped bytes, huge lines, binary junk, lines of two logs
// interleaved. The parser must never throw, and every line must be counted somewhere.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { randInt, randomSplits, rng } from '../../core/test/random.js';
import { MaillogParser, ParseContext, parseLine, RECORD_KINDS, type MaillogCounters } from '../src/maillog/index.js';
import { FIXTURE_OPTIONS, fixturePath, fixtureText, parseAll } from './maillog-helpers.js';

/** Every line is blank, garbled, or a record of one kind. */
function accounted(c: MaillogCounters): void {
  const records = RECORD_KINDS.reduce((n, k) => n + c.kinds[k], 0);
  expect(records + c.garbled + c.blank).toBe(c.lines);
}

// One line per grammar, from the fixtures, plus forms the fixtures lack.
const SAMPLES = [
  'Nov 24 21:29:06 mx postfix/smtp[6068]: 44E4D20C1BF: to=<user@remote.example>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.02, delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)',
  'Nov 24 21:32:53 mx postfix/error[6796]: 4jYwyY3RRjzJ9Kx: to=<user@retry.example.test>, orig_to=<retryto@example.test>, relay=none, delay=0.06, delays=0.01/0.02/0/0.03, dsn=4.3.2, status=deferred (try again later (test))',
  'Nov 24 21:32:53 mx postfix/smtpd[6791]: NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 550 5.1.1 <nosuch@localhost>: Recipient address rejected: User unknown in local recipient table; from=<sender@example.com> to=<nosuch@localhost> proto=ESMTP helo=<vm>',
  'Nov 24 21:32:53 mx postfix/smtpd[6791]: disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=13/15 data=1 quit=1 commands=17/19',
  'Nov 24 21:32:53 mx postfix/smtpd[6791]: 4jYwyY3RRjzJ9Kx: client=localhost[127.0.0.1]',
  'Nov 24 21:32:53 mx postfix/cleanup[6794]: 4jYwyY3RRjzJ9Kx: message-id=<20261124213253.006790@vm>',
  'Nov 24 21:32:53 mx postfix/qmgr[6787]: 4jYwyY3RRjzJ9Kx: from=<sender@example.com>, size=699, nrcpt=15 (queue active)',
  'Nov 24 21:34:08 mx postfix/qmgr[7026]: 4jYwzx4YtrzJ9By: from=<a@example.com>, status=expired, returned to sender',
  'Nov 24 21:33:30 mx postfix/bounce[6814]: 4jYwzG1Kj5zJ9CX: sender non-delivery notification: 4jYwzG1QL4zJ9Ff',
  'Nov 24 21:32:55 mx postfix/pickup[6786]: 4jYwyb4576zJ9fN: uid=0 from=<root@example.test>',
  'Nov 24 21:34:15 mx postfix/postsuper[7107]: Placed on hold: 1 message',
  'Nov 24 21:29:03 mx postfix/master[6038]: daemon started -- version 3.7.11, configuration /srv/pfx/etc',
  '2026-11-24T21:12:23.007919+00:00 mx postfix/smtpd[4469]: connect from localhost[127.0.0.1]',
  '<22>1 2026-11-24T21:34:49.053533+00:00 vm postfix/smtp 6068 - [timeQuality tzKnown="1" isSynced="0"] 44E4D20C1BF: to=<user@remote.example>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.02, delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)',
  'Nov 24 21:40:00 mx postfix/cleanup[7000]: 4jYwyY3RRjzJ9Kx: reject: header Subject: buy now from localhost[127.0.0.1]; from=<a@example.com> to=<b@example.com> proto=ESMTP helo=<vm>: 5.7.1 spam',
  'Nov 24 21:29:06 mx postfix/smtp[6068]: 44E4D20C1BF: to=<"a>b, c"@example.com>, relay=none, delay=1, delays=1/0/0/0, tls=dane, dsn=2.0.0, status=sent (x)',
];

describe('fuzz: truncated lines', () => {
  it('every prefix of every sample line parses without throwing', () => {
    const context = new ParseContext(FIXTURE_OPTIONS);
    let records = 0;
    let garbled = 0;
    for (const line of SAMPLES) {
      for (let n = 0; n <= line.length; n++) {
        const r = parseLine(line.slice(0, n), context);
        if (r) records++;
        else garbled++;
      }
    }
    expect(records + garbled).toBe(SAMPLES.reduce((n, l) => n + l.length + 1, 0));
    expect(records).toBeGreaterThan(garbled);
  });

  it('a prefix is never mistaken for a complete line of a richer kind', () => {
    // A delivery cut before its status, or a record cut in the middle of a field, must not
    // come out as a delivery with made-up values.
    const context = new ParseContext(FIXTURE_OPTIONS);
    const line = SAMPLES[0];
    for (let n = 0; n < line.indexOf('status=sent') + 'status=sent'.length; n++) {
      expect(parseLine(line.slice(0, n), context)?.kind ?? 'garbled', `${n}`).not.toBe('delivery');
    }
  });

  it('the same prefixes through the streaming parser are all counted', () => {
    const text = SAMPLES.flatMap((l) => Array.from({ length: l.length }, (_, n) => l.slice(0, n + 1))).join('\n');
    const { counters } = parseAll(text);
    expect(counters.lines).toBe(SAMPLES.reduce((n, l) => n + l.length, 0));
    accounted(counters);
  });
});

describe('fuzz: damaged bytes', () => {
  it('flipped bytes in a fixture never throw, and every line is accounted for', () => {
    const original = readFileSync(fixturePath('transports-mixed.log'));
    for (let seed = 1; seed <= 30; seed++) {
      const r = rng(seed);
      const bytes = Buffer.from(original);
      for (let k = 0; k < 200; k++) bytes[randInt(r, bytes.length)] = randInt(r, 256);
      const parser = new MaillogParser(() => undefined, FIXTURE_OPTIONS);
      for (const [from, to] of randomSplits(r, bytes.length, 50)) parser.push(bytes, from, to);
      parser.end();
      const lf = bytes.reduce((n, b) => n + (b === 0x0a ? 1 : 0), 0);
      expect(parser.counters.lines, `seed ${seed}`).toBe(bytes[bytes.length - 1] === 0x0a ? lf : lf + 1);
      accounted(parser.counters);
    }
  });

  it('binary junk: never throws, all garbled or counted', () => {
    const r = rng(7);
    const junk = Buffer.alloc(1 << 20);
    for (let i = 0; i < junk.length; i++) junk[i] = randInt(r, 256);
    const { counters } = parseAll(junk);
    expect(counters.bytes).toBe(junk.length);
    expect(counters.garbled + counters.blank).toBe(counters.lines);
    accounted(counters);
  });

  it('invalid UTF-8 in an address survives as U+FFFD (utf8) or as the byte (latin1)', () => {
    const line = Buffer.concat([
      Buffer.from('Nov 24 21:32:55 mx postfix/pickup[6786]: 4jYwyb4576zJ9fN: uid=0 from=<r'),
      Buffer.from([0xe9, 0xff]),
      Buffer.from('t@example.test>\n'),
    ]);
    const utf8 = parseAll(line).records[0];
    expect(utf8.kind === 'pickup' && utf8.from).toBe('r\ufffd\ufffdt@example.test');
    const latin1 = parseAll(line, { ...FIXTURE_OPTIONS, encoding: 'latin1' }).records[0];
    expect(latin1.kind === 'pickup' && latin1.from).toBe('r\u00e9\u00fft@example.test');
  });
});

describe('fuzz: very long lines', () => {
  const MB = 1 << 20;

  it('a 1 MB line of junk, a 1 MB reply, a 1 MB line without LF at the end', () => {
    const head = 'Nov 24 21:29:06 mx postfix/smtp[6068]: 44E4D20C1BF: to=<user@remote.example>, relay=none, delay=1, delays=1/0/0/0, dsn=5.0.0, status=bounced (';
    const text = [
      'x'.repeat(MB),
      head + 'y'.repeat(MB) + ')',
      SAMPLES[4],
      'z'.repeat(MB),
    ].join('\n');
    const { counters, records } = parseAll(text);
    expect(counters.lines).toBe(4);
    expect(counters.cut).toBe(3);
    expect(counters.garbled).toBe(2);
    // The delivery is cut at 64 KiB but still a delivery: the status comes before the reply.
    expect(records.map((r) => r.kind)).toEqual(['delivery', 'client']);
    const d = records[0];
    expect(d.kind === 'delivery' && d.reply.length).toBe(65536 - head.length);
  });

  it('with a larger maxLineLength the whole line is kept', () => {
    const head = 'Nov 24 21:29:06 mx postfix/smtp[6068]: 44E4D20C1BF: to=<user@remote.example>, relay=none, delay=1, delays=1/0/0/0, dsn=5.0.0, status=bounced (';
    const { records, counters } = parseAll(head + 'y'.repeat(MB) + ')\n', { ...FIXTURE_OPTIONS, maxLineLength: 2 * MB });
    expect(counters.cut).toBe(0);
    const d = records[0];
    expect(d.kind === 'delivery' && d.reply.length).toBe(MB);
  });
});

describe('fuzz: interleaved logs', () => {
  it('two logs merged line by line give the sum of their records', () => {
    const a = fixtureText('relay-faults.log').trimEnd().split('\n');
    const b = fixtureText('dovecot-lmtp.dovecot.log').trimEnd().split('\n');
    const merged: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (i < a.length) merged.push(a[i]);
      if (i < b.length) merged.push(b[i]);
    }
    const alone = parseAll(a.join('\n')).counters;
    const both = parseAll(merged.join('\n')).counters;
    expect(both.lines).toBe(a.length + b.length);
    expect(both.kinds.foreign).toBe(b.length);
    expect({ ...both.kinds, foreign: 0 }).toEqual(alone.kinds);
  });

  it('two writers without atomic appends: lines glued into each other', () => {
    const r = rng(5);
    const lines = fixtureText('relay-bounced.log').trimEnd().split('\n');
    const glued: string[] = [];
    for (let i = 0; i + 1 < lines.length; i += 2) {
      // The first line loses its tail to the second one; the tail comes later on a line of its own.
      const cut = randInt(r, lines[i].length);
      glued.push(lines[i].slice(0, cut) + lines[i + 1], lines[i].slice(cut));
    }
    const { counters } = parseAll(glued.join('\n'));
    expect(counters.lines).toBe(glued.length);
    accounted(counters);
  });

  it('junk lines between log lines change no record', () => {
    const r = rng(11);
    const lines = fixtureText('setup-first-tries.log').trimEnd().split('\n');
    const noisy: string[] = [];
    let junk = 0;
    for (const l of lines) {
      noisy.push(l);
      if (r() < 0.5) {
        noisy.push(Buffer.from(Array.from({ length: 1 + randInt(r, 80) }, () => 0x21 + randInt(r, 90))).toString('latin1'));
        junk++;
      }
    }
    const clean = parseAll(lines.join('\n'));
    const dirty = parseAll(noisy.join('\n'));
    expect(dirty.counters.garbled).toBe(junk);
    const strip = (x: typeof clean.records) => x.map(({ line: _line, ...rest }) => rest);
    expect(strip(dirty.records)).toEqual(strip(clean.records));
  });
});
