// SMTP/LMTP reply parsing on Buffers (RFC 5321 4.2), for clients and for tests.
//
// A reply is one or more lines "ddd-text" ended by "ddd text" (or "ddd"). Following
// Postfix's smtp_get/response(): lines end at LF (a bare LF too), trailing CRs are dropped,
// the code is taken only when a line starts with exactly three digits (else 0), and a line
// that is not "ddd-" ends the reply. Nothing is allocated per line: the reply's text is
// kept in one reusable buffer and decoded only when asked for.

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;

export interface ReplyParserOptions {
  /** Longest line kept; the rest of a longer line is skipped (Postfix: 10240). */
  maxLineLength?: number;
  /** Most bytes of text kept for one multi-line reply; later lines still count. */
  maxReplyLength?: number;
}

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

export class ReplyParser {
  private readonly maxLine: number;
  private readonly text: Buffer;
  private textLength = 0;
  /** The line being read, when it spans chunks. */
  private readonly line: Buffer;
  private lineLength = 0;
  private lineOverflow = false;
  private lineCount = 0;
  private lastCode = 0;

  /**
   * @param onReply called once per complete reply with its code (0 when malformed); while
   *   it runs, text() and lineCount() describe that reply.
   */
  constructor(
    private readonly onReply: (code: number, parser: ReplyParser) => void,
    options: ReplyParserOptions = {},
  ) {
    this.maxLine = options.maxLineLength ?? 10240;
    this.line = Buffer.allocUnsafe(this.maxLine);
    this.text = Buffer.allocUnsafe(options.maxReplyLength ?? 10240);
  }

  /** Feeds bytes from the server; calls onReply for each reply they complete. */
  push(chunk: Uint8Array, start = 0, end = chunk.length): void {
    const buf = chunk as Buffer;
    let pos = start;
    while (pos < end) {
      const lf = buf.indexOf(LF, pos);
      const stop = lf < 0 || lf >= end ? end : lf;
      this.appendToLine(chunk, pos, stop);
      if (stop === end) return;
      pos = stop + 1;
      this.lineDone();
    }
  }

  /** True while part of a reply has been read and its last line has not. */
  get pending(): boolean {
    return this.lineLength > 0 || this.lineCount > 0;
  }

  /** The reply's text: each line's text after the code, joined with "\n". */
  replyText(): string {
    return this.text.toString('utf8', 0, this.textLength);
  }

  /** How many lines the current reply had. */
  replyLineCount(): number {
    return this.lineCount;
  }

  /** The code of the current reply (also passed to onReply). */
  get code(): number {
    return this.lastCode;
  }

  /** Forgets any partial reply (after a reconnect, say). */
  reset(): void {
    this.lineLength = 0;
    this.lineOverflow = false;
    this.lineCount = 0;
    this.textLength = 0;
  }

  private appendToLine(chunk: Uint8Array, from: number, to: number): void {
    const room = this.maxLine - this.lineLength;
    const n = Math.min(room, to - from);
    if (n > 0) {
      this.line.set(chunk.subarray(from, from + n), this.lineLength);
      this.lineLength += n;
    }
    if (to - from > n) this.lineOverflow = true;
  }

  private lineDone(): void {
    const line = this.line;
    let len = this.lineLength;
    while (len > 0 && line[len - 1] === CR) len--;
    const threeDigits = isDigit(line[0]) && isDigit(line[1]) && isDigit(line[2]) && !(len > 3 && isDigit(line[3]));
    const code = len >= 3 && threeDigits ? (line[0] - 0x30) * 100 + (line[1] - 0x30) * 10 + (line[2] - 0x30) : 0;
    const more = code !== 0 && len > 3 && line[3] === DASH;
    // The text starts after the code and its separator, leading blanks skipped.
    let t = code !== 0 ? Math.min(len, 4) : 0;
    while (t < len && (line[t] === 0x20 || line[t] === 0x09)) t++;
    if (this.lineCount > 0 && this.textLength < this.text.length) this.text[this.textLength++] = LF;
    const n = Math.min(len - t, this.text.length - this.textLength);
    if (n > 0) {
      line.copy(this.text, this.textLength, t, t + n);
      this.textLength += n;
    }
    this.lineCount++;
    this.lineLength = 0;
    this.lineOverflow = false;
    if (more) return;
    this.lastCode = code;
    this.onReply(code, this);
    this.lineCount = 0;
    this.textLength = 0;
  }
}
