// Dump files (-d one file per message, -D one shared file), in the C sink's format:
//
//   <-S prefix>X-Client-Addr: 127.0.0.1
//   X-Client-Proto: ESMTP
//   X-Helo-Args: client.example            (only when a HELO/EHLO/LHLO was seen)
//   X-Mail-Args: <a@b> SIZE=10
//   X-Rcpt-Args: <c@d>                      (one per accepted recipient)
//   Received: from client.example ([127.0.0.1])
//   \tby sinkhost (smtp-sink) with ESMTP id 71861735;
//   \t<mail date of the MAIL command>
//   <message, every CR removed and the first '.' of each line removed>
//   <empty line>
//
// Writes are synchronous, as the C sink's are: a dump costs open+write+close on the page
// cache, and doing them on the thread pool would cost more than it saves. The message is
// streamed through a fixed buffer, so even a huge message takes bounded memory.
import { closeSync, mkdirSync, openSync, readSync, unlinkSync, writeSync, constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { mailDate, strftime, SecondCache } from '@smtpstone/core';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
// Big enough for a typical message in one write; small enough for a thousand sessions.
const FLUSH_AT = 16 * 1024;

export interface DumpSettings {
  /** -d template: each message to "<strftime(template)><8 hex digits>". */
  template?: string;
  /** -D template: each message appended to "<strftime(template)>". */
  sharedTemplate?: string;
  prefix?: Buffer;
  hostname: string;
  root?: string;
}

export interface Envelope {
  clientAddr: string;
  proto: string;
  heloArgs?: string;
  mailArgs: string;
  rcptArgs: string[];
  /** When MAIL was received (ms since the epoch): names the file and dates Received:. */
  startedAt: number;
}

/** Called for each dump that could not be written; the message itself is still answered. */
export type DumpFailure = (message: string) => void;

const dateCache = new SecondCache(mailDate);
/** Templates expand to the same path for a whole second: expand once per second. */
const expansions = new Map<string, SecondCache>();

function randomHex(): string {
  return ((Math.random() * 0x100000000) >>> 0).toString(16).padStart(8, '0');
}

/** Opens a new file exclusively, creating parent directories as needed. */
function openExclusive(base: string): { fd: number; path: string; id: string } {
  let madeDirs = false;
  for (let tries = 0; tries < 100; tries++) {
    const id = randomHex();
    const path = base + id;
    try {
      return { fd: openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o644), path, id };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && !madeDirs) {
        madeDirs = true;
        mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
        tries--;
        continue;
      }
      if (code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`mail_file_open: something is looping: ${base}`);
}

/** One session's dump writer; one message at a time, as SMTP allows. */
export class DumpWriter {
  private fd = -1;
  private path = '';
  private readonly out = Buffer.allocUnsafe(FLUSH_AT);
  private used = 0;
  /** The C sink's data state: 0 in a line, 1 after CR, 2 after CR LF, 3 after CR LF '.', 4 then CR. */
  private state = 2;
  private failed = false;
  /** DATA: line-leading dots are stuffing and go; BDAT: the content is raw and they stay. */
  private unstuff = true;

  constructor(
    private readonly settings: DumpSettings,
    private readonly onFailure: DumpFailure,
  ) {}

  private resolve(template: string, startedAt: number): string {
    const root = this.settings.root;
    const key = `${root ?? ''}\0${template}`;
    let cache = expansions.get(key);
    if (cache === undefined) {
      cache = new SecondCache((d) => (root !== undefined ? join(root, strftime(template, d)) : strftime(template, d)));
      expansions.set(key, cache);
    }
    return cache.get(startedAt);
  }

  /** Opens the file when DATA is accepted and writes the header block. */
  begin(env: Envelope, unstuff = true): void {
    this.state = 2;
    this.unstuff = unstuff;
    this.used = 0;
    this.failed = false;
    try {
      const base = this.resolve((this.settings.template ?? this.settings.sharedTemplate) as string, env.startedAt);
      const opened = openExclusive(base);
      this.fd = opened.fd;
      this.path = opened.path;
      // -D: the message goes to a private temporary file first, so concurrent messages
      // land in the shared file whole; like the C sink, unlink it at once.
      if (this.settings.template === undefined) unlinkSync(opened.path);
      this.appendText(this.headerBlock(env, opened.id));
    } catch (err) {
      this.fail(err);
    }
  }

  private headerBlock(env: Envelope, id: string): string {
    let h = `X-Client-Addr: ${env.clientAddr}\nX-Client-Proto: ${env.proto}\n`;
    if (env.heloArgs !== undefined) h += `X-Helo-Args: ${env.heloArgs}\n`;
    h += `X-Mail-Args: ${env.mailArgs}\n`;
    for (const r of env.rcptArgs) h += `X-Rcpt-Args: ${r}\n`;
    const from = env.heloArgs !== undefined ? env.heloArgs : `[${env.clientAddr}]`;
    h += `Received: from ${from} ([${env.clientAddr}])\n`;
    h += `\tby ${this.settings.hostname} (smtp-sink) with ${env.proto} id ${id};\n`;
    h += `\t${dateCache.get(env.startedAt)}\n`;
    return h;
  }

  private appendText(text: string): void {
    const prefix = this.settings.prefix;
    if (prefix !== undefined && this.used === 0) {
      // The C sink writes -S with %s: it stops at a NUL.
      const nul = prefix.indexOf(0);
      this.writeRaw(nul < 0 ? prefix : prefix.subarray(0, nul));
    }
    this.writeRaw(Buffer.from(text, 'utf8'));
  }

  private writeRaw(bytes: Buffer): void {
    if (this.used + bytes.length > this.out.length) this.flush();
    if (bytes.length > this.out.length) {
      writeSync(this.fd, bytes);
      return;
    }
    bytes.copy(this.out, this.used);
    this.used += bytes.length;
  }

  /**
   * Message bytes as received (terminator included), with CRs and line-leading dots removed
   * as the C sink does. Runs between CRs are copied natively; bytes are looked at one by one
   * only around a CR and at the start of a line.
   */
  write(chunk: Buffer, start: number, end: number): void {
    if (this.fd < 0 || this.failed) return;
    let state = this.state;
    let i = start;
    while (i < end) {
      const b = chunk[i];
      if (b === CR) {
        state = state === 3 ? 4 : 1;
        i++;
        continue;
      }
      if (b === LF && (state === 1 || state === 4)) {
        this.put(LF);
        state = 2;
        i++;
        continue;
      }
      if (b === DOT && state === 2 && this.unstuff) {
        state = 3;
        i++;
        continue;
      }
      // A run with no CR in it: copied as it is (a bare LF inside does not start a line).
      let stop = chunk.indexOf(CR, i);
      if (stop < 0 || stop > end) stop = end;
      this.copy(chunk, i, stop);
      state = 0;
      i = stop;
    }
    this.state = state;
  }

  /**
   * The end of a BDAT message: what DATA's ".\r\n" leaves in the dump (a newline), after
   * ending an unterminated last line, so both paths write the same file for one message.
   */
  endRaw(): void {
    if (this.fd < 0 || this.failed) return;
    if (this.state !== 2) this.put(LF);
    this.put(LF);
    this.state = 2;
  }

  private put(byte: number): void {
    if (this.used >= FLUSH_AT) this.flush();
    this.out[this.used++] = byte;
  }

  private copy(chunk: Buffer, from: number, to: number): void {
    while (from < to) {
      if (this.used >= FLUSH_AT) this.flush();
      const n = Math.min(to - from, FLUSH_AT - this.used);
      chunk.copy(this.out, this.used, from, from + n);
      this.used += n;
      from += n;
    }
  }

  private flush(): void {
    if (this.used === 0 || this.failed) return;
    try {
      writeSync(this.fd, this.out, 0, this.used);
    } catch (err) {
      this.fail(err);
    }
    this.used = 0;
  }

  /** Finishes the message: -d closes its file, -D appends the temporary file to the shared one. */
  finish(startedAt: number): boolean {
    if (this.fd < 0) return false;
    this.flush();
    const fd = this.fd;
    this.fd = -1;
    try {
      if (!this.failed && this.settings.template === undefined) this.appendToShared(fd, startedAt);
    } catch (err) {
      this.fail(err);
    } finally {
      closeSync(fd);
    }
    return !this.failed;
  }

  private appendToShared(tmp: number, startedAt: number): void {
    const path = this.resolve(this.settings.sharedTemplate as string, startedAt);
    let shared: number;
    try {
      shared = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
      shared = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o644);
    }
    try {
      let pos = 0;
      for (;;) {
        const n = readSync(tmp, this.out, 0, this.out.length, pos);
        if (n <= 0) break;
        writeSync(shared, this.out, 0, n);
        pos += n;
      }
    } finally {
      closeSync(shared);
    }
  }

  /** The transaction was aborted (RSET, HELO, disconnect): -d removes its file. */
  abort(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    this.used = 0;
    try {
      closeSync(fd);
      if (this.settings.template !== undefined) unlinkSync(this.path);
    } catch {
      // Already gone: nothing to clean up.
    }
  }

  private fail(err: unknown): void {
    if (!this.failed) this.onFailure(`dump ${this.path || '(unopened)'}: ${(err as Error).message}`);
    this.failed = true;
  }
}
