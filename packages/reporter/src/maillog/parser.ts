// A push parser: bytes in (any chunking), records out through a callback, with counters.
// This is the fast path; readMaillog wraps it as an async iterable.
import { LineSplitter, type LineEncoding } from './line-splitter.js';
import { ParseContext, parseLine, type ParseOptions } from './parse-line.js';
import { RECORD_KINDS, type LogRecord, type RecordKind } from './records.js';

export interface MaillogCounters {
  /** Lines read, blank and garbled included. */
  lines: number;
  bytes: number;
  /** Empty lines (not records). */
  blank: number;
  /** Lines with no timestamp in any known form: binary junk, lines cut before the time, journald's `-- Boot --` (not records). */
  garbled: number;
  /** Lines longer than maxLineLength: cut there, then parsed. */
  cut: number;
  /** Records by kind; `unknown` is the count of lines with a time that no grammar understood. */
  kinds: Record<RecordKind, number>;
}

export function emptyCounters(): MaillogCounters {
  const kinds = {} as Record<RecordKind, number>;
  for (const k of RECORD_KINDS) kinds[k] = 0;
  return { lines: 0, bytes: 0, blank: 0, garbled: 0, cut: 0, kinds };
}

export interface MaillogParserOptions extends ParseOptions {
  /** Longest line kept, in bytes (default 65536; Postfix itself cuts records at 2,000 characters). */
  maxLineLength?: number;
  /** How bytes become text (default utf8: invalid sequences become U+FFFD; latin1 keeps every byte). */
  encoding?: LineEncoding;
  /** Sees every garbled and unknown line (like pflogsumm's --unprocd-file). */
  onUnparsed?: (line: string, lineNumber: number, why: 'garbled' | 'unknown') => void;
}

export class MaillogParser {
  readonly counters: MaillogCounters = emptyCounters();
  readonly context: ParseContext;
  private readonly splitter: LineSplitter;
  private readonly onUnparsed: MaillogParserOptions['onUnparsed'];

  constructor(
    private readonly onRecord: (record: LogRecord) => void,
    options: MaillogParserOptions = {},
  ) {
    this.context = new ParseContext(options);
    this.onUnparsed = options.onUnparsed;
    this.splitter = new LineSplitter((line, cut) => this.line(line, cut), options.maxLineLength, options.encoding);
  }

  push(chunk: Buffer, start = 0, end = chunk.length): void {
    this.counters.bytes += end - start;
    this.splitter.push(chunk, start, end);
  }

  /** Ends the input: parses a last line that had no LF. */
  end(): void {
    this.splitter.end();
  }

  private line(line: string, cut: boolean): void {
    const c = this.counters;
    const n = ++c.lines;
    if (cut) c.cut++;
    if (line.length === 0) {
      c.blank++;
      return;
    }
    this.context.line = n;
    const record = parseLine(line, this.context);
    if (!record) {
      c.garbled++;
      this.onUnparsed?.(line, n, 'garbled');
      return;
    }
    c.kinds[record.kind]++;
    if (record.kind === 'unknown') this.onUnparsed?.(line, n, 'unknown');
    this.onRecord(record);
  }
}
