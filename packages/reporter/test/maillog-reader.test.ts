// The streaming side: chunking, line endings, files (plain and gzip), streams, counters.
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { randomSplits, rng } from '../../core/test/random.js';
import { LineSplitter, MaillogParser, readMaillog, type LogRecord } from '../src/maillog/index.js';
import { FIXTURE_OPTIONS, fixturePath, parseAll, parseFixture, utc } from './maillog-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'maillog-reader-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function collect(it: AsyncIterable<LogRecord>): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe('LineSplitter', () => {
  const split = (chunks: string[], max?: number): Array<[string, boolean]> => {
    const lines: Array<[string, boolean]> = [];
    const s = new LineSplitter((line, cut) => lines.push([line, cut]), max);
    for (const c of chunks) s.push(Buffer.from(c, 'utf8'));
    s.end();
    return lines;
  };

  it('splits on LF, drops one CR before it, keeps a last line without LF', () => {
    expect(split(['a\r\nb\n\nc'])).toEqual([['a', false], ['b', false], ['', false], ['c', false]]);
    expect(split(['a\n'])).toEqual([['a', false]]);
    expect(split([''])).toEqual([]);
  });

  it('joins lines across chunks, a multi-byte character cut in two included', () => {
    const bytes = Buffer.from('héllo wörld\nzwei\n', 'utf8');
    const lines: string[] = [];
    const s = new LineSplitter((line) => lines.push(line));
    for (let i = 0; i < bytes.length; i++) s.push(bytes, i, i + 1);
    s.end();
    expect(lines).toEqual(['héllo wörld', 'zwei']);
  });

  it('cuts a line longer than maxLineLength and skips to its LF', () => {
    expect(split(['abcdefghij\nxy\n'], 4)).toEqual([['abcd', true], ['xy', false]]);
    expect(split(['abc', 'defg', 'hij\nxy'], 4)).toEqual([['abcd', true], ['xy', false]]);
    expect(split(['abcd\n'], 4)).toEqual([['abcd', false]]);
  });

  it('latin1 keeps every byte', () => {
    const lines: string[] = [];
    const s = new LineSplitter((line) => lines.push(line), 100, 'latin1');
    s.push(Buffer.from([0x61, 0xe9, 0xff, 0x0a]));
    expect(lines).toEqual(['a\u00e9\u00ff']);
  });
});

describe('MaillogParser', () => {
  it('gives the same records for any chunking', () => {
    const bytes = readFileSync(fixturePath('relay-faults.log'));
    const whole = parseAll(bytes).records;
    for (let seed = 1; seed <= 20; seed++) {
      const r = rng(seed);
      const records: LogRecord[] = [];
      const parser = new MaillogParser((rec) => records.push(rec), FIXTURE_OPTIONS);
      for (const [from, to] of randomSplits(r, bytes.length, 200)) parser.push(bytes, from, to);
      parser.end();
      expect(records, `seed ${seed}`).toEqual(whole);
      expect(parser.counters.bytes).toBe(bytes.length);
    }
  });

  it('CRLF line endings change nothing', () => {
    const text = readFileSync(fixturePath('transports-mixed.log'), 'utf8');
    expect(parseAll(text.replace(/\n/g, '\r\n')).records).toEqual(parseAll(text).records);
  });

  it('counts blank lines apart and does not make records of them', () => {
    const { counters, records } = parseAll('\n\nNov 24 21:32:17 mx postfix/qmgr[6506]: AAA3120C13D: removed\n\n');
    expect(counters).toMatchObject({ lines: 4, blank: 3, garbled: 0 });
    expect(records.map((r) => [r.kind, r.line])).toEqual([['removed', 3]]);
  });

  it('hands garbled and unknown lines to onUnparsed', () => {
    const seen: string[] = [];
    const parser = new MaillogParser(() => undefined, {
      ...FIXTURE_OPTIONS,
      onUnparsed: (line, n, why) => seen.push(`${n} ${why} ${line}`),
    });
    parser.push(Buffer.from('junk\nNov 24 21:32:17 mx postfix/qmgr[6506]: AAA3120C13D: whatever\n'));
    parser.end();
    expect(seen).toEqual(['1 garbled junk', '2 unknown Nov 24 21:32:17 mx postfix/qmgr[6506]: AAA3120C13D: whatever']);
    expect(parser.counters.garbled).toBe(1);
    expect(parser.counters.kinds.unknown).toBe(1);
  });
});

describe('readMaillog', () => {
  const expected = parseFixture('relay-deferred-then-sent.log');

  it('reads a path in small chunks, with counters', async () => {
    const reader = readMaillog(fixturePath('relay-deferred-then-sent.log'), { ...FIXTURE_OPTIONS, chunkSize: 777 });
    expect(await collect(reader)).toEqual(expected.records);
    expect(reader.counters).toEqual(expected.counters);
  });

  it('reads a stream of Buffers or strings', async () => {
    const bytes = readFileSync(fixturePath('relay-deferred-then-sent.log'));
    const pieces = [bytes.subarray(0, 1000), bytes.subarray(1000, 5000), bytes.subarray(5000)];
    expect(await collect(readMaillog(Readable.from(pieces), FIXTURE_OPTIONS))).toEqual(expected.records);
    expect(await collect(readMaillog(Readable.from([bytes.toString('utf8')]), FIXTURE_OPTIONS))).toEqual(expected.records);
  });

  it('reads a gzip file (postfix logrotate leaves them)', async () => {
    const path = join(tmp, 'maillog.20261124-213500.gz');
    writeFileSync(path, gzipSync(readFileSync(fixturePath('relay-deferred-then-sent.log'))));
    expect(await collect(readMaillog(path, FIXTURE_OPTIONS))).toEqual(expected.records);
  });

  it('a damaged gzip file rejects instead of hanging', async () => {
    const path = join(tmp, 'cut.gz');
    const gz = gzipSync(readFileSync(fixturePath('relay-sent.log')));
    writeFileSync(path, gz.subarray(0, gz.length >> 1));
    await expect(collect(readMaillog(path, FIXTURE_OPTIONS))).rejects.toThrow(/unexpected end of file/);
  });

  it('batches() hands out arrays', async () => {
    const reader = readMaillog(fixturePath('relay-sent.log'), { ...FIXTURE_OPTIONS, chunkSize: 4096 });
    let n = 0;
    let batches = 0;
    for await (const batch of reader.batches()) {
      batches++;
      n += batch.length;
    }
    expect(n).toBe(1020);
    expect(batches).toBeGreaterThan(10);
  });

  it('stops early on break and says how far it got', async () => {
    const reader = readMaillog(fixturePath('relay-sent.log'), { ...FIXTURE_OPTIONS, chunkSize: 4096 });
    let n = 0;
    for await (const r of reader) {
      expect(r.line).toBe(++n);
      if (n === 5) break;
    }
    expect(reader.counters.lines).toBeLessThan(1020);
    expect(reader.counters.lines).toBeGreaterThanOrEqual(5);
  });

  it("without a year, a file's year-less lines are placed at or before its mtime", async () => {
    const path = join(tmp, 'maillog');
    writeFileSync(path, readFileSync(fixturePath('local-maildir.log')));
    utimesSync(path, new Date('2027-02-01T00:00:00Z'), new Date('2027-02-01T00:00:00Z'));
    const [first] = await collect(readMaillog(path, { zone: 'UTC' }));
    expect(first.time).toBe(utc('2026-11-24T21:32:17'));
    utimesSync(path, new Date('2027-12-01T00:00:00Z'), new Date('2027-12-01T00:00:00Z'));
    const [again] = await collect(readMaillog(path, { zone: 'UTC' }));
    expect(again.time).toBe(utc('2027-11-24T21:32:17'));
  });

  it('a missing file rejects on iteration', async () => {
    await expect(collect(readMaillog(join(tmp, 'nope')))).rejects.toThrow(/ENOENT/);
  });
});
