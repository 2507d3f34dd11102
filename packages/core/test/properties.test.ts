// Properties of the protocol core, checked by fast-check on generated streams (shrunk to a
// smallest failing case when one fails): every way a stream can be cut into TCP chunks, one
// byte at a time included, gives the same answer as reading it whole.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dotStuff, dotUnstuff } from '../src/dot-stuff.js';
import { EndOfDataScanner } from '../src/end-of-data.js';
import { ReplyParser } from '../src/reply-parser.js';

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

/** Bytes weighted towards what matters to SMTP framing: CR, LF, '.', NUL, 8-bit; any byte too. */
const framingByte = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(CR, LF, DOT) },
  { weight: 2, arbitrary: fc.constantFrom(0x00, 0xff, 0x80, 0x61) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
);

/** A message body: lines of such bytes (bare CR and LF inside), lines of only '.', ends in CR LF. */
const body = fc
  .array(fc.oneof({ weight: 4, arbitrary: fc.array(framingByte, { maxLength: 12 }) }, { weight: 1, arbitrary: fc.constantFrom([DOT], [DOT, DOT], [DOT, CR], [LF, DOT]) }), {
    maxLength: 12,
  })
  .map((lines) => Buffer.concat(lines.map((l) => Buffer.from([...l, CR, LF]))));

/** Cut points for a buffer of length n: sorted, possibly repeated (empty chunks). */
function cutsFor(n: number): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 0, max: n }), { maxLength: 8 }).map((c) => [...c].sort((a, b) => a - b));
}

function chunks(buf: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const c of [...cuts, buf.length]) {
    out.push(buf.subarray(from, c));
    from = c;
  }
  return out;
}

/** Feeds chunks to a fresh scanner; returns the stream offset just past the end of data, or -1. */
function endOffset(pieces: Buffer[]): number {
  const scanner = new EndOfDataScanner();
  let offset = 0;
  for (const p of pieces) {
    const at = scanner.scan(p);
    if (at >= 0) return offset + at;
    offset += p.length;
  }
  return -1;
}

describe('dot-stuff, end-of-data scan, unstuff', () => {
  it('is the identity on any body, however the wire is cut into chunks', () => {
    fc.assert(
      fc.property(
        body.chain((b) => {
          const wire = Buffer.concat([dotStuff(b), Buffer.from('.\r\n')]);
          return fc.tuple(fc.constant(b), fc.constant(wire), cutsFor(wire.length));
        }),
        ([b, wire, cuts]) => {
          // The end is found exactly at the end of the wire: never inside the stuffed body.
          const end = endOffset(chunks(wire, cuts));
          expect(end).toBe(wire.length);
          // What came before ".\r\n" unstuffs to the body.
          expect(dotUnstuff(wire.subarray(0, end - 3)).equals(b)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('is the identity fed one byte at a time', () => {
    fc.assert(
      fc.property(body, (b) => {
        const wire = Buffer.concat([dotStuff(b), Buffer.from('.\r\n')]);
        const bytes = Array.from({ length: wire.length }, (_, i) => wire.subarray(i, i + 1));
        expect(endOffset(bytes)).toBe(wire.length);
      }),
      { numRuns: 500 },
    );
  });

  it('finds the end of data at the same offset whatever the chunking, on any byte stream', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }).chain((a) => fc.tuple(fc.constant(Buffer.from(a)), cutsFor(a.length))),
        ([stream, cuts]) => {
          expect(endOffset(chunks(stream, cuts))).toBe(endOffset([stream]));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

interface Reply {
  code: number;
  text: string;
  lines: number;
}

function parse(pieces: Buffer[]): Reply[] {
  const out: Reply[] = [];
  const parser = new ReplyParser((code, p) => out.push({ code, text: p.replyText(), lines: p.replyLineCount() }));
  for (const p of pieces) parser.push(p);
  return out;
}

/** A reply as servers write it: "ddd-" lines then "ddd ", text of any bytes but CR and LF. */
const replyWire = fc
  .tuple(
    fc.integer({ min: 200, max: 599 }),
    fc.array(fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a.filter((x) => x !== CR && x !== LF))), { minLength: 1, maxLength: 4 }),
    fc.boolean(),
  )
  .map(([code, texts, bareLf]) =>
    Buffer.concat(texts.map((t, i) => Buffer.concat([Buffer.from(`${code}${i === texts.length - 1 ? ' ' : '-'}`), t, Buffer.from(bareLf ? '\n' : '\r\n')]))),
  );

describe('ReplyParser', () => {
  it('gives the same replies however a stream of replies is cut into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(replyWire, { minLength: 1, maxLength: 5 }).chain((rs) => {
          const wire = Buffer.concat(rs);
          return fc.tuple(fc.constant(rs.length), fc.constant(wire), cutsFor(wire.length));
        }),
        ([count, wire, cuts]) => {
          const whole = parse([wire]);
          expect(whole).toHaveLength(count);
          expect(parse(chunks(wire, cuts))).toEqual(whole);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never throws on garbage, and chunking never changes what it reports', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }).chain((a) => fc.tuple(fc.constant(Buffer.from(a)), cutsFor(a.length))),
        ([garbage, cuts]) => {
          expect(parse(chunks(garbage, cuts))).toEqual(parse([garbage]));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
