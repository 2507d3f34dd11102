// followMaillog: a Postfix log read as it grows, the way `tail -F` follows a file: from the
// start (or the end), then each appended line, across rotation (rename and create, delete and
// recreate, copytruncate) and while the file is missing. One parser sees every file in turn,
// so records, line numbers and the year rollover carry on across rotations as on one stream.
//
// Wake-ups come from fs.watch (the directory, for the name coming and going, and the open
// file, whose watch stays with it when it is renamed) and from a poll timer, which is what
// notices anything fs.watch misses (NFS, some container filesystems, a watch that failed).
// Every wake-up reads to the end of the open file, then looks at what the path names now.
import { watch, type BigIntStats, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { emptyCounters, MaillogParser, type MaillogCounters, type MaillogParserOptions } from './parser.js';
import { hasGzipMagic, recordIterator } from './reader.js';
import type { LogRecord } from './records.js';

/** What a follow has seen so far, updated as it goes (a CLI can say "followed 2 rotations"). */
export interface FollowStats {
  /** Lines read, blank and garbled included, over every file followed. */
  lines: number;
  /** Bytes parsed (a partial line skipped by `fromEnd` not included). */
  bytes: number;
  /** Files opened, the first included. */
  files: number;
  /** Times the path came to name another file (rename and create, delete and recreate). */
  rotations: number;
  /** Times the file shrank under the reader (copytruncate), each read again from its start. */
  truncations: number;
}

export function emptyFollowStats(): FollowStats {
  return { lines: 0, bytes: 0, files: 0, rotations: 0, truncations: 0 };
}

export interface FollowMaillogOptions extends MaillogParserOptions {
  /**
   * Start at the end of the file found at the start (like `tail -n0 -F`); a partial last line
   * there is skipped up to its LF. A file that appears later, or after a rotation, is still
   * read from its start. Default false: read the whole file first.
   */
  fromEnd?: boolean;
  /** Ends the iteration (normally, not with an error); records of lines already read are still handed out. */
  signal?: AbortSignal;
  /** End after this many ms without a new byte (undefined: never). */
  idleMs?: number;
  /** The longest wait between two looks at the file when fs.watch says nothing (default 250 ms). */
  pollMs?: number;
  /** Bytes read at a time (default 64 KiB); with maxLineLength, all the memory a follow holds. */
  chunkSize?: number;
  /** Counts, kept up to date as the follow goes (reset to zero when the iteration starts). */
  stats?: FollowStats;
}

/** The file being read: its identity when opened, and how far it has been read. */
interface Followed {
  fh: FileHandle;
  dev: bigint;
  ino: bigint;
  /** Where the next read starts. */
  offset: number;
  /** The first bytes have been seen not to be gzip's. */
  plain: boolean;
  /** fromEnd started inside a line: skip up to its LF. */
  skipPartial: boolean;
  watcher: FSWatcher | undefined;
}

/**
 * Errors that mean "not there (yet)": keep trying. Once a file has been followed, a new one
 * may also be unreadable for a moment (created, then chowned, by logrotate).
 */
function isMissing(error: unknown, lenient: boolean): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || (lenient && (code === 'EACCES' || code === 'EPERM'));
}

/** A wait that ends on the first of: a poke (fs.watch), a timeout (the poll), an abort. */
class Wakeup {
  private poked = false;
  private wakeWaiter: (() => void) | undefined;

  readonly poke = (): void => {
    this.poked = true;
    this.wakeWaiter?.();
  };

  async wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (!this.poked && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          this.wakeWaiter = undefined;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal?.addEventListener('abort', done);
        this.wakeWaiter = done;
      });
    }
    // A poke during the read that follows is kept for the next wait: nothing is missed, and
    // each poke costs at most one extra look.
    this.poked = false;
  }
}

/** fs.watch, or undefined where it cannot be had (no such directory, no support); an error closes it. */
function tryWatch(target: string, onEvent: (filename: string | null) => void, onError: () => void): FSWatcher | undefined {
  try {
    const watcher = watch(target, { persistent: false }, (_event, filename) => onEvent(filename));
    watcher.on('error', () => {
      watcher.close();
      onError();
    });
    return watcher;
  } catch {
    return undefined;
  }
}

export class MaillogFollower implements AsyncIterable<LogRecord> {
  private parser: MaillogParser | undefined;

  constructor(
    private readonly path: string,
    private readonly options: FollowMaillogOptions = {},
  ) {
    const { pollMs, idleMs, chunkSize } = options;
    if (pollMs !== undefined && !(pollMs > 0)) throw new RangeError('pollMs must be positive');
    if (idleMs !== undefined && !(idleMs >= 0)) throw new RangeError('idleMs must not be negative');
    if (chunkSize !== undefined && !(chunkSize >= 1)) throw new RangeError('chunkSize must be at least 1');
  }

  /** What has been read so far, over every file followed. */
  get counters(): MaillogCounters {
    return this.parser?.counters ?? emptyCounters();
  }

  /** The records in batches, one per chunk read. */
  async *batches(): AsyncGenerator<LogRecord[]> {
    const o = this.options;
    const { signal, idleMs } = o;
    const pollMs = o.pollMs ?? 250;
    const chunkSize = o.chunkSize ?? 1 << 16;
    const stats = o.stats;
    if (stats) Object.assign(stats, emptyFollowStats());
    let batch: LogRecord[] = [];
    // Without `year` or `notAfter`, year-less stamps are placed at or before now (a day's slack).
    const parser = new MaillogParser((r) => batch.push(r), o);
    this.parser = parser;
    const buffer = Buffer.allocUnsafe(chunkSize);
    const path = resolve(this.path);
    const name = basename(path);
    const wake = new Wakeup();
    let dirWatcher: FSWatcher | undefined;
    let file: Followed | undefined;
    let opened = 0;
    let lastBytesAt = Date.now();

    const take = (): LogRecord[] => {
      if (stats) {
        stats.lines = parser.counters.lines;
        stats.bytes = parser.counters.bytes;
      }
      const b = batch;
      batch = [];
      return b;
    };

    const openFollowed = async (fromEnd: boolean): Promise<Followed | undefined> => {
      let fh: FileHandle;
      try {
        fh = await open(path, 'r');
      } catch (error) {
        if (isMissing(error, opened > 0)) return undefined;
        throw error;
      }
      try {
        const st = await fh.stat({ bigint: true });
        const f: Followed = { fh, dev: st.dev, ino: st.ino, offset: 0, plain: false, skipPartial: false, watcher: undefined };
        if (fromEnd && st.size > 0n) {
          f.offset = Number(st.size);
          const last = Buffer.alloc(1);
          await fh.read(last, 0, 1, f.offset - 1);
          f.skipPartial = last[0] !== 0x0a;
        }
        // Stays with the file when it is renamed away: writes still going to it wake us.
        f.watcher = tryWatch(path, wake.poke, () => (f.watcher = undefined));
        return f;
      } catch (error) {
        await fh.close();
        throw error;
      }
    };

    const closeFollowed = async (f: Followed): Promise<void> => {
      f.watcher?.close();
      await f.fh.close();
    };

    /** False until the file has two bytes (or one that cannot start gzip's magic); throws on gzip. */
    const checkPlain = async (f: Followed): Promise<boolean> => {
      const head = Buffer.alloc(2);
      const { bytesRead } = await f.fh.read(head, 0, 2, 0);
      if (hasGzipMagic(head, bytesRead)) {
        throw new Error(`${this.path} is gzip-compressed: followMaillog follows plain logs only (readMaillog reads .gz files)`);
      }
      f.plain = bytesRead === 2 || (bytesRead === 1 && head[0] !== 0x1f);
      return f.plain;
    };

    /** Reads f to its current end (or an abort), parsing as it goes. */
    async function* drain(f: Followed): AsyncGenerator<LogRecord[]> {
      for (;;) {
        if (signal?.aborted) return;
        if (!f.plain && !(await checkPlain(f))) return;
        const { bytesRead } = await f.fh.read(buffer, 0, chunkSize, f.offset);
        if (bytesRead === 0) return;
        f.offset += bytesRead;
        lastBytesAt = Date.now();
        let start = 0;
        if (f.skipPartial) {
          const nl = buffer.subarray(0, bytesRead).indexOf(0x0a);
          if (nl < 0) continue;
          start = nl + 1;
          f.skipPartial = false;
        }
        parser.push(buffer, start, bytesRead);
        const b = take();
        if (b.length > 0) yield b;
      }
    }

    try {
      for (let first = true; ; first = false) {
        if (signal?.aborted) return;
        dirWatcher ??= tryWatch(
          dirname(path),
          (filename) => {
            if (filename === null || filename === name) wake.poke();
          },
          () => (dirWatcher = undefined),
        );
        if (!file) {
          file = await openFollowed(first && o.fromEnd === true);
          if (file) {
            opened++;
            if (stats) stats.files = opened;
          }
        }
        if (file) {
          // Truncated (copytruncate)? Looked at before reading, so that new lines written
          // since are not read from the old offset. A held partial line is the old content's last.
          if ((await file.fh.stat({ bigint: true })).size < BigInt(file.offset)) {
            parser.end();
            const b = take();
            if (b.length > 0) yield b;
            file.offset = 0;
            file.plain = false;
            file.skipPartial = false;
            if (stats) stats.truncations++;
          }
          yield* drain(file);
          if (signal?.aborted) return;
          let now: BigIntStats | undefined;
          try {
            now = await stat(path, { bigint: true });
          } catch (error) {
            if (!isMissing(error, true)) throw error;
          }
          if (now && (now.dev !== file.dev || now.ino !== file.ino)) {
            // Rotated: what reached the old file since the last read first, then its last
            // line even without an LF (nothing more will come to it), then the new file.
            yield* drain(file);
            if (signal?.aborted) return;
            parser.end();
            const b = take();
            if (b.length > 0) yield b;
            const old = file;
            file = undefined;
            await closeFollowed(old);
            if (stats) stats.rotations++;
            continue;
          }
          // While the path is missing, the old descriptor is kept and read: writers may still
          // be writing to it until they reopen the log.
        }
        let timeout = pollMs;
        if (idleMs !== undefined) {
          const left = lastBytesAt + idleMs - Date.now();
          if (left <= 0) return;
          timeout = Math.min(timeout, left);
        }
        await wake.wait(timeout, signal);
      }
    } finally {
      dirWatcher?.close();
      if (file) await closeFollowed(file);
    }
  }

  /** One record at a time; a `break` closes the file and the watches. */
  [Symbol.asyncIterator](): AsyncIterator<LogRecord> {
    return recordIterator(this.batches());
  }
}

/**
 * Follows a Postfix log like `tail -F`: the records of the lines in the file (or, with
 * `fromEnd`, only of lines appended from now on), then of each line appended, until
 * `signal` aborts or `idleMs` passes without a new byte. Rotation is followed: when the path
 * names another file, the old one is read to its end (its last line emitted even without an
 * LF) and the new one from its start; a file that shrank is read again from its start; a
 * missing file is waited for. A partial last line is held until its LF comes. Plain files
 * only: a gzip file is an error. Year and zone as in readMaillog, except that without `year`
 * or `notAfter` year-less stamps are placed at or before now (when the follow starts).
 */
export function followMaillog(path: string, options: FollowMaillogOptions = {}): MaillogFollower {
  return new MaillogFollower(path, options);
}
