import { describe, expect, it } from 'vitest';
import { printable, printableString } from '../src/printable.js';

describe('printable', () => {
  it('keeps printable ASCII', () => {
    const ascii = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
    expect(printable(Buffer.from(ascii, 'latin1'))).toBe(ascii);
  });

  it('replaces every control character, and DEL, with "?"', () => {
    for (let c = 0; c < 0x20; c++) {
      expect(printable(Buffer.from([0x61, c, 0x62])), `byte ${c}`).toBe('a?b');
    }
    expect(printable(Buffer.from([0x7f]))).toBe('?');
    expect(printable(Buffer.from('250 ok\r\n\0\x1b[31m', 'latin1'))).toBe('250 ok????[31m');
  });

  it('keeps valid UTF-8', () => {
    const text = 'héllo wörld ✓ 日本語 😀';
    expect(printable(Buffer.from(text, 'utf8'))).toBe(text);
  });

  it.each([
    [[0xff], '?'],
    [[0x80], '?'],
    [[0xc3, 0x28], '?('], // lead byte without its continuation
    [[0x61, 0xc3], 'a?'], // truncated at the end
    [[0xc0, 0xaf], '??'], // overlong "/"
    [[0xed, 0xa0, 0x80], '???'], // UTF-16 surrogate
    [[0xf8, 0x88, 0x80, 0x80, 0x80], '?????'], // 5-byte form
  ])('replaces invalid UTF-8 %j', (input, output) => {
    expect(printable(Buffer.from(input))).toBe(output);
  });

  it('random bytes: no control or replacement character gets through, and kept text is from the input', () => {
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (let n = 0; n < 500; n++) {
      const buf = Buffer.alloc(32);
      for (let i = 0; i < buf.length; i++) buf[i] = next();
      const out = printable(buf);
      expect(out).not.toMatch(/[\u0000-\u001f\u007f\ufffd]/);
      for (const run of out.split('?')) {
        if (run !== '') expect(buf.includes(Buffer.from(run, 'utf8')), JSON.stringify(run)).toBe(true);
      }
    }
  });

  it('random valid printable UTF-8 comes back unchanged', () => {
    let seed = 777;
    const next = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const ranges: Array<[number, number]> = [[0x20, 0x7e], [0xa0, 0x7ff], [0x800, 0xd7ff], [0xe000, 0xfffc], [0x10000, 0x10ffff]];
    for (let n = 0; n < 300; n++) {
      let text = '';
      for (let i = 0; i < 20; i++) {
        const [lo, hi] = ranges[next(ranges.length)];
        text += String.fromCodePoint(lo + next(hi - lo + 1));
      }
      expect(printable(Buffer.from(text, 'utf8'))).toBe(text);
    }
  });

  it('reads only [start, end)', () => {
    const buf = Buffer.from('\x01hello\x02world', 'latin1');
    expect(printable(buf, 1, 6)).toBe('hello');
    expect(printable(buf, 5, 8)).toBe('o?w');
    expect(printable(buf, 3)).toBe('llo?world');
    expect(printable(buf, 4, 4)).toBe('');
  });

  it('a range that cuts a character shows the cut part as "?"', () => {
    const buf = Buffer.from('aé', 'utf8');
    expect(printable(buf, 0, 2)).toBe('a?');
  });

  it('uses the given replacement', () => {
    expect(printable(Buffer.from([0x61, 0x00, 0xff]), 0, 3, '_')).toBe('a__');
  });

  it('accepts a plain Uint8Array, as its signature allows', () => {
    const bytes = new TextEncoder().encode('hi\tthere ✓');
    expect(printable(bytes)).toBe('hi?there ✓');
    expect(printable(bytes, 3, 8)).toBe('there');
  });
});

describe('printableString', () => {
  it('replaces control characters and U+FFFD', () => {
    expect(printableString('a\tb\r\nc\u007f\ufffd')).toBe('a?b??c??');
  });

  it('keeps everything else', () => {
    expect(printableString('smtp-sink: 250 ✓ héllo 😀')).toBe('smtp-sink: 250 ✓ héllo 😀');
    expect(printableString('')).toBe('');
  });

  it('uses the given replacement', () => {
    expect(printableString('\0x\0', '.')).toBe('.x.');
  });
});
