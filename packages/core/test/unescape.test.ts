import { describe, expect, it } from 'vitest';
import { unescapeC } from '../src/unescape.js';

const bytes = (s: string): number[] => [...unescapeC(s)];

describe('unescapeC', () => {
  it.each([
    ['\\t', 0x09],
    ['\\n', 0x0a],
    ['\\r', 0x0d],
    ['\\a', 0x07],
    ['\\b', 0x08],
    ['\\f', 0x0c],
    ['\\v', 0x0b],
    ['\\\\', 0x5c],
    ['\\0', 0x00],
    ['\\101', 0x41],
    ['\\7', 0x07],
    ['\\77', 0x3f],
    ['\\377', 0xff],
  ])('%s => byte %i', (input, byte) => {
    expect(bytes(input)).toEqual([byte]);
  });

  it('returns a Buffer', () => {
    const out = unescapeC('a\\tb');
    expect(Buffer.isBuffer(out)).toBe(true);
    expect(out.toString('latin1')).toBe('a\tb');
  });

  it('decodes escapes in context', () => {
    expect(unescapeC('250 ok\\r\\n').toString('latin1')).toBe('250 ok\r\n');
    expect(unescapeC('\\101\\102C').toString('latin1')).toBe('ABC');
    expect(unescapeC('x\\\\ny').toString('latin1')).toBe('x\\ny'); // "\\\\" then a plain "n"
  });

  it('reads at most three octal digits', () => {
    expect(unescapeC('\\1014').toString('latin1')).toBe('A4');
    expect(unescapeC('\\0000').toString('latin1')).toBe('\0' + '0');
  });

  it('stops an octal escape at the first non-octal digit', () => {
    expect(bytes('\\08')).toEqual([0x00, 0x38]);
    expect(bytes('\\19')).toEqual([0x01, 0x39]);
    expect(bytes('\\0x')).toEqual([0x00, 0x78]);
    expect(bytes('\\12')).toEqual([0x0a]);
    expect(bytes('\\12\\0')).toEqual([0x0a, 0x00]);
  });

  it('keeps the low 8 bits of an octal escape above 255', () => {
    expect(bytes('\\777')).toEqual([0xff]);
    expect(bytes('\\400')).toEqual([0x00]);
  });

  it('turns any other "\\x" into "x"', () => {
    expect(unescapeC('\\q').toString('latin1')).toBe('q');
    expect(unescapeC('\\x41').toString('latin1')).toBe('x41');
    expect(unescapeC('\\8\\9').toString('latin1')).toBe('89');
    expect(unescapeC('\\"\\\'\\?').toString('latin1')).toBe('"\'?');
    expect(unescapeC('\\ ').toString('latin1')).toBe(' ');
  });

  it('drops a trailing backslash', () => {
    expect(unescapeC('abc\\').toString('latin1')).toBe('abc');
    expect(unescapeC('\\').length).toBe(0);
    expect(unescapeC('\\\\\\').toString('latin1')).toBe('\\');
  });

  it('leaves text without escapes alone, as UTF-8', () => {
    expect(unescapeC('').length).toBe(0);
    expect(unescapeC('plain text').toString('latin1')).toBe('plain text');
    expect(unescapeC('héllo ✓').equals(Buffer.from('héllo ✓', 'utf8'))).toBe(true);
  });

  it('a backslash before a multi-byte character keeps the character', () => {
    expect(unescapeC('\\é').equals(Buffer.from('é', 'utf8'))).toBe(true);
    expect(unescapeC('a\\✓b').equals(Buffer.from('a✓b', 'utf8'))).toBe(true);
  });
});
