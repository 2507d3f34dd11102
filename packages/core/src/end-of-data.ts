// Finding the end of a DATA stream: the first CR LF . CR LF, where DATA itself counts as
// having just ended a line (so an immediate ".\r\n" is an empty message).
//
// Postfix's smtp-sink walks every byte through a 5-state machine. That machine is exactly
// a substring search for "\r\n.\r\n" with a virtual "\r\n" before the first byte, so the
// fast path hands each chunk to Buffer.indexOf (memmem) and only walks bytes at chunk
// edges, carrying over how much of the terminator the previous chunk ended with.

const TERMINATOR = Buffer.from('\r\n.\r\n', 'latin1');
const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

/**
 * The state after a byte, given the state before it: the length of the longest suffix of
 * the input so far that is a prefix of "\r\n.\r\n" (5 means found).
 */
export function nextTerminatorState(state: number, byte: number): number {
  switch (state) {
    case 0:
      return byte === CR ? 1 : 0;
    case 1:
      return byte === LF ? 2 : byte === CR ? 1 : 0;
    case 2:
      return byte === DOT ? 3 : byte === CR ? 1 : 0;
    case 3:
      return byte === CR ? 4 : 0;
    case 4:
      return byte === LF ? 5 : byte === CR ? 1 : 0;
    default:
      throw new RangeError(`bad terminator state ${state}`);
  }
}

/** The state a fresh DATA phase starts in: "just after CR LF". */
export const DATA_START_STATE = 2;

/**
 * Scans DATA chunks for the end-of-data marker without copying or allocating.
 * Create one per connection and call reset() at each DATA.
 */
export class EndOfDataScanner {
  private state = DATA_START_STATE;

  reset(): void {
    this.state = DATA_START_STATE;
  }

  /**
   * Looks for the terminator in chunk[start, end). Returns the index just past its final LF,
   * or -1 when the chunk holds no end (the scanner then remembers any partial match).
   */
  scan(chunk: Uint8Array, start = 0, end = chunk.length): number {
    let pos = start;
    let state = this.state;
    // Finish a match begun in an earlier chunk, byte by byte.
    while (state !== 0 && pos < end) {
      state = nextTerminatorState(state, chunk[pos++]);
      if (state === 5) {
        this.state = DATA_START_STATE;
        return pos;
      }
    }
    if (pos >= end) {
      this.state = state;
      return -1;
    }
    // A plain Uint8Array has no memmem indexOf; view its bytes as a Buffer (no copy).
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const hit = buf.indexOf(TERMINATOR, pos);
    if (hit >= 0 && hit + TERMINATOR.length <= end) {
      this.state = DATA_START_STATE;
      return hit + TERMINATOR.length;
    }
    // No whole terminator: remember the longest tail that could begin one.
    this.state = tailState(chunk, pos, end);
    return -1;
  }
}

function tailState(chunk: Uint8Array, from: number, end: number): number {
  for (let len = Math.min(4, end - from); len > 0; len--) {
    let match = true;
    for (let i = 0; i < len; i++) {
      if (chunk[end - len + i] !== TERMINATOR[i]) {
        match = false;
        break;
      }
    }
    if (match) return len;
  }
  return 0;
}
