import { describe, expect, it } from 'vitest';
import { DATA_START_STATE, EndOfDataScanner, nextTerminatorState } from '../src/end-of-data.js';
import { randInt, randomBytes, randomSplits, rng, show } from './random.js';

const TERM = Buffer.from('\r\n.\r\n', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The reference: search "\r\n.\r\n" in "\r\n" + input; the answer is the index just past its LF. */
function naiveEnd(input: Uint8Array): number {
  const i = Buffer.concat([CRLF, input]).indexOf(TERM);
  return i < 0 ? -1 : i + TERM.length - CRLF.length;
}

/** Every end in a stream of back-to-back DATA phases, by the reference. */
function naiveAllEnds(input: Buffer): number[] {
  const ends: number[] = [];
  let from = 0;
  for (;;) {
    const e = naiveEnd(input.subarray(from));
    if (e < 0) return ends;
    from += e;
    ends.push(from);
  }
}

type Mode = 'offsets' | 'copies' | 'padded';
const MODES: Mode[] = ['offsets', 'copies', 'padded'];
// Junk around a padded chunk: a whole terminator on each side, so reading outside [start, end)
// would be noticed.
const PAD = b('\r\n.\r\n\r\n.');

/**
 * Feeds input[from, to) for each piece to one scanner and returns every end it reports, as
 * indexes into `input`. After an end the scan goes on in the same piece (the next DATA phase).
 *   offsets: scan(input, from, to) on the whole input
 *   copies:  scan(copy) on a fresh Buffer holding only the piece
 *   padded:  scan(big, start, end) on a Buffer with terminator bytes around the piece
 */
function scanPieces(input: Buffer, pieces: Array<[number, number]>, mode: Mode, scanner = new EndOfDataScanner()): number[] {
  const ends: number[] = [];
  for (const [from, to] of pieces) {
    let buf: Buffer;
    let shift: number; // index in `input` = index in `buf` + shift
    if (mode === 'offsets') {
      buf = input;
      shift = 0;
    } else if (mode === 'copies') {
      buf = Buffer.from(input.subarray(from, to));
      shift = from;
    } else {
      buf = Buffer.concat([PAD, input.subarray(from, to), PAD]);
      shift = from - PAD.length;
    }
    let pos = from - shift;
    const end = to - shift;
    for (;;) {
      const r = scanner.scan(buf, pos, end);
      if (r < 0) break;
      if (r <= pos || r > end) throw new Error(`scan(${pos}, ${end}) returned ${r}, outside (start, end]`);
      ends.push(r + shift);
      pos = r;
    }
  }
  return ends;
}

/**
 * expect(actual, label).toEqual(expected), but cheap when they match: the exhaustive loops
 * below make hundreds of thousands of comparisons.
 */
function same<T extends number | number[]>(actual: T, expected: T, label: string | (() => string)): void {
  const equal = Array.isArray(actual) && Array.isArray(expected)
    ? actual.length === expected.length && actual.every((v, i) => v === expected[i])
    : actual === expected;
  if (!equal) expect(actual, typeof label === 'string' ? label : label()).toEqual(expected);
}

/** The first end the scanner reports for input cut into `pieces`, or -1. */
function firstEnd(input: Buffer, pieces: Array<[number, number]>, mode: Mode): number {
  return scanPieces(input, pieces, mode)[0] ?? -1;
}

const whole = (input: Buffer): Array<[number, number]> => [[0, input.length]];
const byteAtATime = (input: Buffer): Array<[number, number]> =>
  Array.from({ length: input.length }, (_, i): [number, number] => [i, i + 1]);

/** Every string of length 0..maxLen over the given bytes. */
function* allStrings(alphabet: readonly number[], maxLen: number): Generator<Buffer> {
  for (let len = 0; len <= maxLen; len++) {
    const idx = new Array<number>(len).fill(0);
    for (;;) {
      yield Buffer.from(idx.map((i) => alphabet[i]));
      let k = len - 1;
      while (k >= 0 && idx[k] === alphabet.length - 1) idx[k--] = 0;
      if (k < 0) break;
      idx[k]++;
    }
  }
}

describe('nextTerminatorState', () => {
  /** The longest suffix of TERM[0, state) + byte that is a prefix of TERM. */
  function kmpState(state: number, byte: number): number {
    const seen = Buffer.concat([TERM.subarray(0, state), Buffer.from([byte])]);
    for (let k = Math.min(seen.length, TERM.length); k > 0; k--) {
      if (seen.subarray(seen.length - k).equals(TERM.subarray(0, k))) return k;
    }
    return 0;
  }

  it('is the matching automaton for "\\r\\n.\\r\\n" for every state and byte', () => {
    for (let state = 0; state < 5; state++) {
      for (let byte = 0; byte < 256; byte++) {
        expect(nextTerminatorState(state, byte), `state ${state} byte ${byte}`).toBe(kmpState(state, byte));
      }
    }
  });

  it('spot checks', () => {
    expect(nextTerminatorState(0, 0x0d)).toBe(1);
    expect(nextTerminatorState(1, 0x0d)).toBe(1); // CR CR: still one CR matched
    expect(nextTerminatorState(2, 0x2e)).toBe(3);
    expect(nextTerminatorState(3, 0x2e)).toBe(0); // "\r\n.." is a stuffed line, not the end
    expect(nextTerminatorState(4, 0x0d)).toBe(1);
    expect(nextTerminatorState(4, 0x0a)).toBe(5);
  });

  it('rejects states outside 0..4', () => {
    expect(() => nextTerminatorState(5, 0x0a)).toThrow(RangeError);
    expect(() => nextTerminatorState(-1, 0x0a)).toThrow(RangeError);
    expect(() => nextTerminatorState(6, 0x0a)).toThrow(/bad terminator state 6/);
  });

  it('DATA_START_STATE is "just after CR LF"', () => {
    expect(DATA_START_STATE).toBe(2);
    let s = DATA_START_STATE;
    for (const byte of b('.\r\n')) s = nextTerminatorState(s, byte);
    expect(s).toBe(5);
  });
});

describe('EndOfDataScanner: fixed cases', () => {
  const cases: Array<[string, number]> = [
    ['.\r\n', 3], // empty message: DATA counts as having ended a line
    ['.\r\nafter', 3],
    ['\r\n.\r\n', 5], // one empty line
    ['hello\r\n.\r\n', 10],
    ['hello\r\n.\r\nQUIT\r\n', 10],
    ['a\r\nb\r\n.\r\n', 9],
    ['\r\r\n.\r\n', 6],
    ['\r\n.\r\r\n.\r\n', 9],
    ['x\r\n.\r\n.\r\n', 6], // the first one counts
    ['', -1],
    ['.', -1],
    ['.\r', -1],
    ['.\n', -1], // bare LF after the dot
    ['\n.\n', -1],
    ['\n.\r\n', -1], // bare LF before the dot
    ['x\n.\r\n', -1],
    ['x\n.\n', -1],
    ['x\r\n.\n', -1],
    ['x\r.\r\n', -1], // bare CR before the dot
    ['x\r\n..\r\n', -1], // a stuffed dot line
    ['..\r\n', -1],
    ['x\r\n. \r\n', -1],
    [' .\r\n', -1],
    ['x\r\n.\r', -1],
    ['x\r\n\n.\r\n', -1],
    ['x\r\n.\n\r\n', -1],
    ['x\r\n.\r\r\n', -1],
    ['x\r\n\0.\r\n', -1],
  ];

  it.each(cases)('%j => %d', (text, expected) => {
    const input = b(text);
    expect(naiveEnd(input)).toBe(expected); // the reference agrees with the table
    for (const mode of MODES) {
      expect(firstEnd(input, whole(input), mode), mode).toBe(expected);
      expect(firstEnd(input, byteAtATime(input), mode), `${mode} byte at a time`).toBe(expected);
    }
  });

  it('finishes a terminator begun in an earlier chunk', () => {
    const s = new EndOfDataScanner();
    expect(s.scan(b('hello\r\n.\r'))).toBe(-1);
    expect(s.scan(b('\nnext'))).toBe(1);
  });

  it('does not carry a partial match across a chunk that breaks it', () => {
    const s = new EndOfDataScanner();
    expect(s.scan(b('hello\r\n'))).toBe(-1);
    expect(s.scan(b('x'))).toBe(-1);
    expect(s.scan(b('.\r\n'))).toBe(-1);
    expect(s.scan(b('\r\n.\r\n'))).toBe(5);
  });

  it('an empty chunk changes nothing', () => {
    const s = new EndOfDataScanner();
    expect(s.scan(b('hello\r\n.'))).toBe(-1);
    expect(s.scan(b(''))).toBe(-1);
    expect(s.scan(b('abc'), 1, 1)).toBe(-1);
    expect(s.scan(b('\r\n'))).toBe(2);
  });

  it('finds a terminator straddling two large chunks at every offset', () => {
    const body = Buffer.alloc(200_000, 'a'.charCodeAt(0));
    // Near misses all through the body: bare LFs, stuffed dots, CR without LF.
    for (let i = 1000; i < body.length - 100; i += 997) b('\n.\n\r\n..\r\n\r.\r\n').copy(body, i);
    for (let cut = 1; cut < TERM.length; cut++) {
      const input = Buffer.concat([body, TERM, b('tail')]);
      const split = body.length + cut;
      const expected = body.length + TERM.length;
      expect(naiveEnd(input)).toBe(expected);
      for (const mode of MODES) {
        expect(firstEnd(input, [[0, split], [split, input.length]], mode), `${mode} cut ${cut}`).toBe(expected);
      }
    }
    const noEnd = Buffer.concat([body, b('\r\n.\r')]);
    const chunks: Array<[number, number]> = [];
    for (let i = 0; i < noEnd.length; i += 65536) chunks.push([i, Math.min(noEnd.length, i + 65536)]);
    expect(firstEnd(noEnd, chunks, 'copies')).toBe(-1);
  });

  it('does not report a terminator that lies past `end`, and remembers the part before it', () => {
    const buf = b('ab\r\n.\r\nxyz');
    const s = new EndOfDataScanner();
    expect(s.scan(buf, 0, 4)).toBe(-1); // "ab\r\n": the whole terminator is in the buffer, past end
    expect(s.scan(buf, 4, 5)).toBe(-1); // "."
    expect(s.scan(buf, 5, buf.length)).toBe(7);
  });

  it('does not look before `start`', () => {
    const buf = b('x\r\n.\r\n');
    const s = new EndOfDataScanner();
    // From index 2 the data is "\n.\r\n": the CR before `start` must not count.
    expect(s.scan(buf, 2)).toBe(-1);
    const t = new EndOfDataScanner();
    expect(t.scan(buf, 3)).toBe(6); // ".\r\n" at the start of DATA
  });

  it('works on Buffers that are views into a larger ArrayBuffer', () => {
    const big = b('\r\n.\r\n' + 'hello\r\n.\r\n' + '\r\n.\r\n');
    const view = big.subarray(5, 15);
    expect(view.byteOffset).toBe(big.byteOffset + 5);
    expect(new EndOfDataScanner().scan(view)).toBe(10);
    expect(new EndOfDataScanner().scan(view, 0, 9)).toBe(-1);
  });

  it('works on a plain Uint8Array, as its signature allows', () => {
    const enc = new TextEncoder();
    expect(new EndOfDataScanner().scan(enc.encode('hello\r\n.\r\nmore'))).toBe(10);
    expect(new EndOfDataScanner().scan(enc.encode('hello\r\n.\r\nmore'), 2, 12)).toBe(10);
    expect(new EndOfDataScanner().scan(enc.encode('hello\n.\nmore'))).toBe(-1);
    const s = new EndOfDataScanner();
    expect(s.scan(enc.encode('abc\r\n'))).toBe(-1);
    expect(s.scan(enc.encode('.\r\n'))).toBe(3);
  });
});

describe('EndOfDataScanner: reset()', () => {
  it('forgets a partial terminator', () => {
    const s = new EndOfDataScanner();
    expect(s.scan(b('hello\r\n.'))).toBe(-1);
    s.reset();
    // Without reset() these two bytes would complete "\r\n.\r\n".
    expect(s.scan(b('\r\n'))).toBe(-1);
    expect(s.scan(b('x'))).toBe(-1);
  });

  it('restores the virtual CR LF before the first byte', () => {
    const s = new EndOfDataScanner();
    expect(s.scan(b('abc'))).toBe(-1);
    expect(s.scan(b('.\r\n'))).toBe(-1); // "abc.\r\n": not at a line start
    s.reset();
    expect(s.scan(b('.\r\n'))).toBe(3);
  });

  it('is where the scanner starts again after each end', () => {
    const s = new EndOfDataScanner();
    const buf = b('.\r\n.\r\nx\r\n.\r\n');
    expect(s.scan(buf)).toBe(3);
    expect(s.scan(buf, 3)).toBe(6); // the next DATA starts at a line start
    expect(s.scan(buf, 6)).toBe(buf.length);
    expect(s.scan(b('.\r\n'))).toBe(3);
  });
});

describe('EndOfDataScanner: agrees with the reference for every way of chunking', () => {
  const CR = 0x0d;
  const LF = 0x0a;
  const DOT = 0x2e;

  it('exhaustively: all inputs up to 6 bytes over {CR, LF, ".", "a"}, every split point', () => {
    let checked = 0;
    for (const input of allStrings([CR, LF, DOT, 0x61], 6)) {
      const expected = naiveEnd(input);
      const all = naiveAllEnds(input);
      for (const mode of MODES) {
        same(firstEnd(input, whole(input), mode), expected, () => `${show(input)} ${mode}`);
        same(firstEnd(input, byteAtATime(input), mode), expected, () => `${show(input)} ${mode} bytewise`);
        for (let cut = 0; cut <= input.length; cut++) {
          const pieces: Array<[number, number]> = [[0, cut], [cut, input.length]];
          same(scanPieces(input, pieces, mode), all, () => `${show(input)} ${mode} cut ${cut}`);
        }
      }
      checked++;
    }
    expect(checked).toBe(1 + 4 + 16 + 64 + 256 + 1024 + 4096);
  });

  it('exhaustively: all three-piece splits of inputs up to 7 bytes over {CR, LF, "."}', () => {
    for (const input of allStrings([CR, LF, DOT], 7)) {
      const all = naiveAllEnds(input);
      for (let i = 0; i <= input.length; i++) {
        for (let j = i; j <= input.length; j++) {
          const pieces: Array<[number, number]> = [[0, i], [i, j], [j, input.length]];
          same(scanPieces(input, pieces, 'offsets'), all, () => `${show(input)} ${i}/${j}`);
        }
      }
    }
  });

  it('starts over after an end found inside a chunk, whatever the previous chunk left behind', () => {
    // The previous chunk ends part-way into a terminator; this chunk breaks that match, holds a
    // whole terminator, and then more bytes that must be read as the start of a new DATA.
    const tails = ['a', 'a\r', 'a\r\n', 'a\r\n.', 'a\r\n.\r'];
    const middles = ['x\r\n.\r\n', 'xx\r\n.\r\n', '..\r\n.\r\n'];
    for (const tail of tails) {
      for (const middle of middles) {
        for (const rest of allStrings([CR, LF, DOT, 0x62], 4)) {
          const first = b(tail);
          const input = Buffer.concat([first, b(middle), rest]);
          const pieces: Array<[number, number]> = [[0, first.length], [first.length, input.length]];
          const label = `${show(first)} | ${show(input.subarray(first.length))}`;
          for (const mode of MODES) same(scanPieces(input, pieces, mode), naiveAllEnds(input), () => `${label} ${mode}`);
        }
      }
    }
  });

  it('random inputs (CR, LF, ".", NUL, 8-bit) with random splits', () => {
    const alphabet = [CR, LF, DOT, CR, LF, DOT, 0x00, 0x80, 0xff, 0x61];
    for (let seed = 1; seed <= 3000; seed++) {
      const r = rng(seed);
      const input = randomBytes(r, randInt(r, 80), alphabet, 0.15);
      const expected = naiveEnd(input);
      const all = naiveAllEnds(input);
      const label = `seed ${seed} ${show(input)}`;
      expect(firstEnd(input, byteAtATime(input), 'copies'), label).toBe(expected);
      for (let k = 0; k < 4; k++) {
        const pieces = randomSplits(r, input.length);
        const mode = MODES[randInt(r, MODES.length)];
        same(scanPieces(input, pieces, mode), all, () => `${label} ${mode} ${JSON.stringify(pieces)}`);
      }
    }
  });

  it('random long messages: the end is found exactly once, where the reference says', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const r = rng(1000 + seed);
      // A body of lines with near misses, dot-stuffed by hand so it cannot end early.
      const lines: string[] = [];
      for (let n = randInt(r, 200); n > 0; n--) {
        const pick = randInt(r, 6);
        lines.push(['..', '..x', 'x.', '\n.\n', '\r.', 'plain text'][pick]);
      }
      const body = b(lines.map((l) => l + '\r\n').join(''));
      const input = Buffer.concat([body, b('.\r\nRSET\r\n')]);
      const expected = body.length + 3;
      expect(naiveEnd(input)).toBe(expected);
      same(firstEnd(input, randomSplits(r, input.length, 30), 'padded'), expected, () => `seed ${seed}`);
    }
  });
});
