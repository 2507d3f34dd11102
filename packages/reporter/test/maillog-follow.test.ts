// followMaillog on real files: appends, half-written lines, each kind of rotation, a file
// that is not there yet, fromEnd, abort, idleMs, gzip. Every wait is bounded: a follower
// ends by abort (afterEach aborts any left running) or by idleMs.
import {
  appendFileSync,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  emptyFollowStats,
  followMaillog,
  readMaillog,
  type FollowMaillogOptions,
  type FollowStats,
  type LogRecord,
} from '../src/maillog/index.js';
import { FIXTURE_OPTIONS, fixturePath, fixtureText, parseAll } from './maillog-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'maillog-follow-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Genuine Postfix lines (connect, client=, message-id=, from=, ...), without their LF. */
const L = fixtureText('relay-sent.log').split('\n').slice(0, 40);

const text = (lines: string[]): string => lines.map((l) => `${l}\n`).join('');

/** The records of these lines read as one stream: what a follow over them should give. */
const expected = (lines: string[]): LogRecord[] => parseAll(text(lines)).records;

/** A fresh directory per test, so one test's files never wake another's follower. */
function logPath(): string {
  return join(mkdtempSync(join(tmp, 'case-')), 'maillog');
}

interface Follow {
  records: LogRecord[];
  stats: FollowStats;
  /** Resolves when the iteration ends (rejects if it failed). */
  done: Promise<void>;
  /** Aborts and waits for the end. */
  stop(): Promise<void>;
  /** Waits (at most `ms`) until cond() holds; fails with what was seen otherwise. */
  until(cond: () => boolean, what: string, ms?: number): Promise<void>;
}

const running: Follow[] = [];
afterEach(async () => {
  for (const f of running.splice(0)) await f.stop().catch(() => undefined);
});

/** Starts following `path`, collecting records; a short poll so tests do not lean on fs.watch. */
function follow(path: string, options: FollowMaillogOptions = {}): Follow {
  const ac = new AbortController();
  const stats = emptyFollowStats();
  const records: LogRecord[] = [];
  let failure: unknown;
  const done = (async () => {
    for await (const r of followMaillog(path, { ...FIXTURE_OPTIONS, pollMs: 20, signal: ac.signal, stats, ...options })) {
      records.push(r);
    }
  })();
  done.catch((error: unknown) => (failure = error));
  const f: Follow = {
    records,
    stats,
    done,
    stop: async () => {
      ac.abort();
      await done;
    },
    until: async (cond, what, ms = 3000) => {
      const deadline = Date.now() + ms;
      while (!cond()) {
        if (failure) throw failure;
        if (Date.now() > deadline) {
          throw new Error(`timed out waiting for ${what}: ${records.length} records, stats ${JSON.stringify(stats)}`);
        }
        await sleep(5);
      }
    },
  };
  running.push(f);
  return f;
}

const count = (f: Follow, n: number): Promise<void> => f.until(() => f.records.length >= n, `${n} records`);

describe('followMaillog', () => {
  it('reads the lines already in the file, then appended lines, in order', async () => {
    const path = logPath();
    writeFileSync(path, text(L.slice(0, 5)));
    const f = follow(path);
    await count(f, 5);
    appendFileSync(path, text(L.slice(5, 8)));
    await sleep(30);
    appendFileSync(path, text(L.slice(8, 12)));
    await count(f, 12);
    await f.stop();
    expect(f.records).toEqual(expected(L.slice(0, 12)));
    expect(f.records.map((r) => r.kind).slice(0, 4)).toEqual(['connect', 'connect', 'client', 'message-id']);
    expect(f.stats).toMatchObject({ lines: 12, files: 1, rotations: 0, truncations: 0 });
  });

  it('holds a half-written line until its newline arrives', async () => {
    const path = logPath();
    const half = L[2].length >> 1;
    writeFileSync(path, text(L.slice(0, 2)) + L[2].slice(0, half));
    const f = follow(path);
    await count(f, 2);
    await sleep(150); // several polls
    expect(f.records).toHaveLength(2);
    expect(f.stats.lines).toBe(2);
    appendFileSync(path, `${L[2].slice(half)}\n`);
    await count(f, 3);
    await f.stop();
    expect(f.records).toEqual(expected(L.slice(0, 3)));
    expect(f.records[2]).toMatchObject({ kind: 'client', queueId: '7F76A20C249' });
  });

  it('rename and create: reads the old file to its end, writes after the rename included, then the new file from its start', async () => {
    const path = logPath();
    writeFileSync(path, text(L.slice(0, 3)));
    const f = follow(path);
    await count(f, 3);
    renameSync(path, `${path}.1`);
    // The writer has not reopened the log yet: these go to the renamed file...
    appendFileSync(`${path}.1`, text(L.slice(3, 6)));
    // ...and only then is the new file created (no pause: the switch must not lose them).
    writeFileSync(path, text(L.slice(6, 9)));
    await count(f, 9);
    await f.stop();
    expect(f.records).toEqual(expected(L.slice(0, 9)));
    expect(f.stats).toMatchObject({ lines: 9, files: 2, rotations: 1, truncations: 0 });
  });

  it("emits the old file's unterminated last line when the file is rotated away", async () => {
    const path = logPath();
    writeFileSync(path, text(L.slice(0, 2)) + L[2]);
    const f = follow(path);
    await count(f, 2);
    await sleep(100);
    expect(f.records).toHaveLength(2);
    renameSync(path, `${path}.1`);
    writeFileSync(path, text(L.slice(3, 5)));
    await count(f, 5);
    await f.stop();
    expect(f.records).toEqual(expected(L.slice(0, 5)));
    expect(f.stats.rotations).toBe(1);
  });

  it('delete and recreate after a gap: waits through the gap, then reads the new file from its start', async () => {
    const path = logPath();
    writeFileSync(path, text(L.slice(0, 3)));
    const f = follow(path);
    await count(f, 3);
    unlinkSync(path);
    await sleep(200); // ten polls with no file
    expect(f.stats.rotations).toBe(0);
    writeFileSync(path, text(L.slice(3, 6)));
    await count(f, 6);
    await f.stop();
    expect(f.records).toEqual(expected(L.slice(0, 6)));
    expect(f.stats).toMatchObject({ files: 2, rotations: 1, truncations: 0 });
  });

  it('copytruncate: a file that shrank is read again from its start', async () => {
    const path = logPath();
    writeFileSync(path, text(L.slice(0, 6)));
    const f = follow(path);
    await count(f, 6);
    copyFileSync(path, `${path}.1`);
    truncateSync(path, 0);
    appendFileSync(path, text(L.slice(6, 8))); // shorter than what was read: still seen as a truncation
    await count(f, 8);
    await f.stop();
    expect(f.records).toEqual(expected(L.slice(0, 8)));
    expect(f.stats).toMatchObject({ lines: 8, files: 1, rotations: 0, truncations: 1 });
  });

  it('waits for a file that is not there yet, then reads it from its start (even with fromEnd)', async () => {
    const path = logPath();
    const f = follow(path, { fromEnd: true });
    await sleep(100);
    expect(f.records).toHaveLength(0);
    expect(f.stats.files).toBe(0);
    writeFileSync(path, text(L.slice(0, 4)));
    await count(f, 4);
    await f.stop();
    expect(f.records).toEqual(expected(L.slice(0, 4)));
    expect(f.stats).toMatchObject({ files: 1, rotations: 0 });
  });

  it('fromEnd skips what the file already holds, a partial last line included', async () => {
    const path = logPath();
    const half = L[3].length >> 1;
    writeFileSync(path, text(L.slice(0, 3)) + L[3].slice(0, half));
    const f = follow(path, { fromEnd: true });
    await f.until(() => f.stats.files === 1, 'the file opened');
    appendFileSync(path, `${L[3].slice(half)}\n${text(L.slice(4, 6))}`);
    await count(f, 2);
    await sleep(60);
    await f.stop();
    // Numbered from where the follow started.
    expect(f.records).toEqual(expected(L.slice(4, 6)));
  });

  it('abort ends a wait at once, even with a long poll, after handing out the complete lines read', async () => {
    const path = logPath();
    writeFileSync(path, text(L.slice(0, 3)) + L[3].slice(0, 20));
    const f = follow(path, { pollMs: 60_000 });
    await count(f, 3);
    await sleep(50); // now waiting
    const t0 = Date.now();
    await f.stop();
    expect(Date.now() - t0).toBeLessThan(500);
    expect(f.records).toEqual(expected(L.slice(0, 3))); // not the half-written fourth
    expect(f.stats).toMatchObject({ lines: 3, files: 1 });
  });

  it('stats count lines, bytes, files, rotations and truncations over a rename, a truncation and a recreate', async () => {
    const path = logPath();
    writeFileSync(path, text(L.slice(0, 2)));
    const f = follow(path);
    await count(f, 2);
    renameSync(path, `${path}.1`);
    writeFileSync(path, text(L.slice(2, 4)));
    await count(f, 4);
    truncateSync(path, 0);
    appendFileSync(path, text(L.slice(4, 5)));
    await count(f, 5);
    unlinkSync(path);
    await sleep(60);
    writeFileSync(path, text(L.slice(5, 7)));
    await count(f, 7);
    await f.stop();
    expect(f.records).toEqual(expected(L.slice(0, 7)));
    expect(f.stats).toEqual({
      lines: 7,
      bytes: Buffer.byteLength(text(L.slice(0, 7))),
      files: 3,
      rotations: 2,
      truncations: 1,
    });
  });

  it('idleMs ends the iteration after that long without a new byte', async () => {
    const path = logPath();
    writeFileSync(path, text(L.slice(0, 2)));
    const f = follow(path, { idleMs: 200 });
    const t0 = Date.now();
    await count(f, 2);
    const appended = Date.now();
    appendFileSync(path, text(L.slice(2, 3)));
    await count(f, 3);
    await Promise.race([f.done, sleep(3000).then(() => Promise.reject(new Error('idleMs did not end the follow')))]);
    // Not before idleMs had passed since the last byte (read after it was appended)...
    expect(Date.now() - appended).toBeGreaterThanOrEqual(190);
    // ...and not much later either.
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(f.records).toEqual(expected(L.slice(0, 3)));
  });

  it('in small chunks, gives the same records and counters as readMaillog', async () => {
    const path = logPath();
    copyFileSync(fixturePath('relay-sent.log'), path);
    const follower = followMaillog(path, { ...FIXTURE_OPTIONS, chunkSize: 100, pollMs: 20, idleMs: 100 });
    const followed: LogRecord[] = [];
    for await (const r of follower) followed.push(r);
    const reader = readMaillog(path, FIXTURE_OPTIONS);
    const read: LogRecord[] = [];
    for await (const r of reader) read.push(r);
    expect(followed).toHaveLength(1020);
    expect(followed).toEqual(read);
    expect(follower.counters).toEqual(reader.counters);
  });

  it('refuses a gzip file with an error that says so', async () => {
    const path = logPath();
    writeFileSync(path, gzipSync(readFileSync(fixturePath('relay-sent.log'))));
    const f = follow(path, { idleMs: 1000 });
    await expect(f.done).rejects.toThrow(/gzip-compressed: followMaillog follows plain logs only/);
    expect(f.records).toHaveLength(0);
  });
});
