import { describe, expect, it } from 'vitest';
import { countLinesNeedingStuffing, dotStuff, dotUnstuff } from '../src/dot-stuff.js';
import { EndOfDataScanner } from '../src/end-of-data.js';
import { randInt, randomBytes, rng, show } from './random.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const s = (buf: Buffer): string => buf.toString('latin1');

/** The reference: split at LF, give each line that starts with '.' another one. */
function naiveStuff(body: Buffer): Buffer {
  return b(
    s(body)
      .split('\n')
      .map((line) => (line.startsWith('.') ? '.' + line : line))
      .join('\n'),
  );
}

/** Replaces any LF in `line` with '.', in place. */
function noLF(line: Buffer): Buffer {
  for (let i = 0; i < line.length; i++) if (line[i] === 0x0a) line[i] = 0x2e;
  return line;
}

/** A random body of CRLF-ended lines; lines may be empty, only dots, or hold NUL and 8-bit. */
function randomBody(r: () => number): Buffer {
  const lines: Buffer[] = [];
  for (let n = randInt(r, 12); n > 0; n--) {
    const kind = randInt(r, 5);
    let line: Buffer;
    if (kind === 0) line = Buffer.alloc(1 + randInt(r, 3), '.');
    else if (kind === 1) line = Buffer.alloc(0);
    // No LF inside a line (that would be a line end); bare CR, NUL and 8-bit bytes are fine.
    else line = noLF(randomBytes(r, 1 + randInt(r, 20), [0x2e, 0x2e, 0x0d, 0x61, 0x20, 0x00, 0xff], 0.2));
    lines.push(line, b('\r\n'));
  }
  // Sometimes the last line has no CRLF.
  if (r() < 0.3) lines.push(randomBytes(r, randInt(r, 5), [0x2e, 0x61, 0x0d], 0));
  return Buffer.concat(lines);
}

describe('countLinesNeedingStuffing', () => {
  it.each([
    ['', 0],
    ['abc', 0],
    ['.', 1],
    ['..', 1],
    ['a.b', 0],
    ['.a\r\n.b\r\nc\r\n.', 3],
    ['a\n.', 1], // a bare LF also starts a line
    ['a\n', 0],
    ['\n\n\n', 0],
    ['\n.\n.\n.', 3],
    ['a\r.', 0], // a bare CR does not
  ])('%j => %d', (text, n) => {
    expect(countLinesNeedingStuffing(b(text))).toBe(n);
    expect(countLinesNeedingStuffing(new Uint8Array(b(text)))).toBe(n);
  });
});

describe('dotStuff', () => {
  it.each([
    ['.', '..'],
    ['..', '...'],
    ['.\r\n', '..\r\n'],
    ['.hidden\r\n', '..hidden\r\n'],
    ['a\r\n.\r\nb\r\n', 'a\r\n..\r\nb\r\n'],
    ['a\r\n.b\r\n..c\r\n', 'a\r\n..b\r\n...c\r\n'],
    ['a\n.b', 'a\n..b'],
    ['\r\n.\r\n', '\r\n..\r\n'],
    ['x\r\n.', 'x\r\n..'],
  ])('%j => %j', (input, output) => {
    const out = dotStuff(b(input));
    expect(s(out)).toBe(output);
    expect(out.length).toBe(input.length + countLinesNeedingStuffing(b(input)));
  });

  it.each(['', 'abc', 'a.b\r\nc.\r\n', ' .x\r\n', 'a\r.b', '\r\n\r\n'])('returns the same Buffer for %j', (text) => {
    const input = b(text);
    expect(dotStuff(input)).toBe(input);
  });

  it('returns a new Buffer when it stuffs, leaving the input alone', () => {
    const input = b('.a\r\n');
    const out = dotStuff(input);
    expect(out).not.toBe(input);
    expect(s(input)).toBe('.a\r\n');
  });

  it('handles a Buffer that is a view into a larger one', () => {
    const big = b('..XX\r\n.a\r\n.b\r\nYY..');
    const view = big.subarray(6, 14);
    expect(s(dotStuff(view))).toBe('..a\r\n..b\r\n');
  });

  it('keeps 8-bit and NUL bytes', () => {
    const input = Buffer.from([0x2e, 0x00, 0xff, 0x0d, 0x0a, 0x2e, 0x80, 0x0d, 0x0a]);
    expect([...dotStuff(input)]).toEqual([0x2e, 0x2e, 0x00, 0xff, 0x0d, 0x0a, 0x2e, 0x2e, 0x80, 0x0d, 0x0a]);
  });

  it('agrees with a line-by-line reference on random input', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const r = rng(seed);
      const input = randomBytes(r, randInt(r, 60), [0x2e, 0x2e, 0x0a, 0x0d, 0x61], 0.15);
      expect(s(dotStuff(input)), `seed ${seed} ${show(input)}`).toBe(s(naiveStuff(input)));
    }
  });
});

describe('dotUnstuff', () => {
  it.each([
    ['', ''],
    ['..', '.'],
    ['.', ''],
    ['.a', 'a'],
    ['..\r\n..\r\n', '.\r\n.\r\n'],
    ['...x\r\n', '..x\r\n'],
    ['a\r\n..b\r\nc', 'a\r\n.b\r\nc'],
    ['a.b\r\n', 'a.b\r\n'],
    ['a\n..b', 'a\n.b'], // a bare LF starts a line, as for dotStuff (the round trip is the identity)
    ['a\r.b', 'a\r.b'],
    ['\r\n.\r\n', '\r\n\r\n'],
  ])('%j => %j', (input, output) => {
    expect(s(dotUnstuff(b(input)))).toBe(output);
  });

  it('removes only the first dot of a line', () => {
    expect(s(dotUnstuff(b('....\r\n')))).toBe('...\r\n');
  });

  it('round-trips dotStuff for random CRLF bodies', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const body = randomBody(rng(seed));
      const stuffed = dotStuff(body);
      expect(s(dotUnstuff(stuffed)), `seed ${seed} ${show(body)}`).toBe(s(body));
    }
  });

  it('round-trips bodies made only of dot lines', () => {
    for (let n = 0; n < 6; n++) {
      const body = b(Array.from({ length: n }, (_, i) => '.'.repeat(i + 1) + '\r\n').join(''));
      expect(s(dotUnstuff(dotStuff(body)))).toBe(s(body));
    }
  });
});

describe('dot-stuffing and end of data together', () => {
  it('a stuffed body followed by ".\\r\\n" ends exactly there and unstuffs to the body', () => {
    for (let seed = 1; seed <= 1000; seed++) {
      const r = rng(50_000 + seed);
      let body = randomBody(r);
      if (body.length > 0 && !s(body).endsWith('\r\n')) body = Buffer.concat([body, b('\r\n')]);
      const data = Buffer.concat([dotStuff(body), b('.\r\n')]);
      const end = new EndOfDataScanner().scan(data);
      expect(end, `seed ${seed} ${show(body)}`).toBe(data.length);
      expect(s(dotUnstuff(data.subarray(0, end - 3)))).toBe(s(body));
    }
  });
});
