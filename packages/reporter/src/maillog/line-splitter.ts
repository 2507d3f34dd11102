// Splits a byte stream into lines at LF, in constant memory: a line that spans chunks is
// gathered in one fixed buffer of maxLineLength bytes, and a longer line is cut there (the
// rest is skipped up to its LF). Each line is decoded on its own, so a string kept from a
// record holds on to its line only, not to a whole chunk.

export type LineEncoding = 'utf8' | 'latin1';

/** Called with a line (no LF, no trailing CR) and whether it was cut at maxLineLength. */
export type LineSink = (line: string, cut: boolean) => void;

export class LineSplitter {
  private readonly pending: Buffer;
  private pendingLength = 0;
  /** The line being gathered has passed maxLineLength. */
  private overflow = false;
  /** A partial line is waiting for its LF (even an empty one after a CR, say). */
  private open = false;

  constructor(
    private readonly sink: LineSink,
    private readonly maxLineLength = 65536,
    private readonly encoding: LineEncoding = 'utf8',
  ) {
    if (!(maxLineLength >= 1)) throw new RangeError('maxLineLength must be at least 1');
    this.pending = Buffer.allocUnsafe(maxLineLength);
  }

  push(chunk: Buffer, start = 0, end = chunk.length): void {
    let i = start;
    while (i < end) {
      let nl = chunk.indexOf(0x0a, i);
      if (nl >= end) nl = -1;
      if (nl < 0) {
        this.append(chunk, i, end);
        return;
      }
      if (this.open) {
        this.append(chunk, i, nl);
        this.flush();
      } else {
        this.emit(chunk, i, nl, nl - i > this.maxLineLength);
      }
      i = nl + 1;
    }
  }

  /** The last line, when the input did not end with LF. */
  end(): void {
    if (this.open) this.flush();
  }

  private emit(buf: Buffer, start: number, end: number, cut: boolean): void {
    if (cut) end = start + this.maxLineLength;
    else if (end > start && buf[end - 1] === 0x0d) end--;
    this.sink(buf.toString(this.encoding, start, end), cut);
  }

  private append(buf: Buffer, start: number, end: number): void {
    this.open = true;
    const room = this.maxLineLength - this.pendingLength;
    if (end - start > room) {
      this.overflow = true;
      end = start + room;
    }
    if (end > start) this.pendingLength += buf.copy(this.pending, this.pendingLength, start, end);
  }

  private flush(): void {
    const cut = this.overflow;
    const length = this.pendingLength;
    this.pendingLength = 0;
    this.overflow = false;
    this.open = false;
    this.emit(this.pending, 0, length, cut);
  }
}
