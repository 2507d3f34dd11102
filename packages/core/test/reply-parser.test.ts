import { describe, expect, it } from 'vitest';
import { ReplyParser, type ReplyParserOptions } from '../src/reply-parser.js';
import { randomSplits, rng } from './random.js';

interface Reply {
  code: number;
  text: string;
  lines: number;
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

/** A parser that records every reply, as seen from inside the callback. */
function recorder(options?: ReplyParserOptions): { parser: ReplyParser; replies: Reply[] } {
  const replies: Reply[] = [];
  const parser = new ReplyParser((code, p) => {
    expect(p).toBe(parser);
    expect(p.code).toBe(code);
    replies.push({ code, text: p.replyText(), lines: p.replyLineCount() });
  }, options);
  return { parser, replies };
}

function parseWhole(text: string | Buffer, options?: ReplyParserOptions): Reply[] {
  const { parser, replies } = recorder(options);
  parser.push(typeof text === 'string' ? b(text) : text);
  return replies;
}

function parsePieces(input: Buffer, pieces: Array<[number, number]>, copy: boolean, options?: ReplyParserOptions): Reply[] {
  const { parser, replies } = recorder(options);
  for (const [from, to] of pieces) {
    if (copy) parser.push(Buffer.from(input.subarray(from, to)));
    else parser.push(input, from, to);
  }
  return replies;
}

describe('ReplyParser: single replies', () => {
  it('parses a single-line reply', () => {
    expect(parseWhole('220 mail.example.com ESMTP ready\r\n')).toEqual([
      { code: 220, text: 'mail.example.com ESMTP ready', lines: 1 },
    ]);
  });

  it('parses a bare code with no text', () => {
    expect(parseWhole('250\r\n')).toEqual([{ code: 250, text: '', lines: 1 }]);
    expect(parseWhole('250 \r\n')).toEqual([{ code: 250, text: '', lines: 1 }]);
  });

  it('parses a multi-line reply into one reply', () => {
    expect(parseWhole('250-a\r\n250 b\r\n')).toEqual([{ code: 250, text: 'a\nb', lines: 2 }]);
  });

  it('parses an EHLO response', () => {
    const ehlo = '250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n';
    expect(parseWhole(ehlo)).toEqual([
      { code: 250, text: 'mx.example.com\nPIPELINING\nSIZE 10240000\n8BITMIME\nSMTPUTF8', lines: 5 },
    ]);
  });

  it('takes the code from the last line', () => {
    // Postfix keeps the last line's code; a server should not mix codes, but some do.
    expect(parseWhole('250-a\r\n550 b\r\n')).toEqual([{ code: 550, text: 'a\nb', lines: 2 }]);
  });

  it('keeps empty continuation lines as empty text lines', () => {
    expect(parseWhole('250-\r\n250-\r\n250 end\r\n')).toEqual([{ code: 250, text: '\n\nend', lines: 3 }]);
  });

  it('skips blanks (spaces and tabs) after the code and separator, and only there', () => {
    expect(parseWhole('250    spaced  out  \r\n')).toEqual([{ code: 250, text: 'spaced  out  ', lines: 1 }]);
    expect(parseWhole('250-\t x\r\n250 \t y\r\n')).toEqual([{ code: 250, text: 'x\ny', lines: 2 }]);
  });

  it('decodes the text as UTF-8', () => {
    expect(parseWhole('250 héllo wörld ✓\r\n')).toEqual([{ code: 250, text: 'héllo wörld ✓', lines: 1 }]);
  });
});

describe('ReplyParser: line endings', () => {
  it('accepts bare LF line endings', () => {
    expect(parseWhole('250-a\n250 b\n')).toEqual([{ code: 250, text: 'a\nb', lines: 2 }]);
    expect(parseWhole('220 hi\n')).toEqual([{ code: 220, text: 'hi', lines: 1 }]);
  });

  it('mixes CRLF and bare LF', () => {
    expect(parseWhole('250-a\n250-b\r\n250 c\n')).toEqual([{ code: 250, text: 'a\nb\nc', lines: 3 }]);
  });

  it('strips every trailing CR, and only trailing ones', () => {
    expect(parseWhole('250 ok\r\r\r\n')).toEqual([{ code: 250, text: 'ok', lines: 1 }]);
    expect(parseWhole('250 a\rb\r\n')).toEqual([{ code: 250, text: 'a\rb', lines: 1 }]);
    expect(parseWhole('250\r\r\n')).toEqual([{ code: 250, text: '', lines: 1 }]);
    // The "-" must be seen after the CRs are gone: "250-\r" is still a continuation.
    expect(parseWhole('250-\r\r\n250 x\r\n')).toEqual([{ code: 250, text: '\nx', lines: 2 }]);
  });

  it('does not finish a line until its LF arrives', () => {
    const { parser, replies } = recorder();
    parser.push(b('250 ok\r'));
    expect(replies).toEqual([]);
    parser.push(b('\n'));
    expect(replies).toEqual([{ code: 250, text: 'ok', lines: 1 }]);
  });
});

describe('ReplyParser: malformed lines', () => {
  it.each([
    ['2500 x', '2500 x'],
    ['bogus', 'bogus'],
    ['25 x', '25 x'],
    ['25', '25'],
    ['', ''],
    ['abc def', 'abc def'],
    ['-250 x', '-250 x'],
    ['  indented', 'indented'],
    ['x250 y', 'x250 y'],
  ])('%j has code 0 and its whole text', (line, text) => {
    expect(parseWhole(line + '\r\n')).toEqual([{ code: 0, text, lines: 1 }]);
  });

  it('does not read a code from a short line left over in the line buffer', () => {
    // "25" follows a line that began "250": only the new line's bytes may count. (Bare LFs,
    // so no CR overwrites the stale "0".)
    expect(parseWhole('250 first\n25\n2\n\n')).toEqual([
      { code: 250, text: 'first', lines: 1 },
      { code: 0, text: '25', lines: 1 },
      { code: 0, text: '2', lines: 1 },
      { code: 0, text: '', lines: 1 },
    ]);
  });

  it('a line that is not "ddd-" ends the reply early (Postfix)', () => {
    expect(parseWhole('250-a\r\nbogus\r\n250 b\r\n')).toEqual([
      { code: 0, text: 'a\nbogus', lines: 2 },
      { code: 250, text: 'b', lines: 1 },
    ]);
    expect(parseWhole('250-a\r\n2500-x\r\n250 b\r\n')).toEqual([
      { code: 0, text: 'a\n2500-x', lines: 2 },
      { code: 250, text: 'b', lines: 1 },
    ]);
  });

  it('a "-" after something other than a code is not a continuation', () => {
    expect(parseWhole('abc-x\r\n250 y\r\n')).toEqual([
      { code: 0, text: 'abc-x', lines: 1 },
      { code: 250, text: 'y', lines: 1 },
    ]);
    expect(parseWhole('25a-x\n250 y\n')).toEqual([
      { code: 0, text: '25a-x', lines: 1 },
      { code: 250, text: 'y', lines: 1 },
    ]);
  });

  it('a four-digit code is not a continuation even with "-"', () => {
    expect(parseWhole('2500-x\r\n250 y\r\n')).toEqual([
      { code: 0, text: '2500-x', lines: 1 },
      { code: 250, text: 'y', lines: 1 },
    ]);
  });
});

describe('ReplyParser: chunking', () => {
  const stream =
    '220 mx ESMTP\r\n' +
    '250-mx\r\n250-PIPELINING\n250 8BITMIME\r\n' +
    '250 2.1.0 Ok\r\n' +
    '250-a\r\nbogus\r\n' +
    '354 End data with <CR><LF>.<CR><LF>\r\r\n' +
    '2500 x\n' +
    '250 héllo\r\n' +
    '221 Bye\r\n';
  const input = b(stream);
  const expected: Reply[] = [
    { code: 220, text: 'mx ESMTP', lines: 1 },
    { code: 250, text: 'mx\nPIPELINING\n8BITMIME', lines: 3 },
    { code: 250, text: '2.1.0 Ok', lines: 1 },
    { code: 0, text: 'a\nbogus', lines: 2 },
    { code: 354, text: 'End data with <CR><LF>.<CR><LF>', lines: 1 },
    { code: 0, text: '2500 x', lines: 1 },
    { code: 250, text: 'héllo', lines: 1 },
    { code: 221, text: 'Bye', lines: 1 },
  ];

  it('several replies in one chunk, in order', () => {
    expect(parseWhole(input)).toEqual(expected);
  });

  it('gives the same replies when split at every byte boundary', () => {
    for (let cut = 0; cut <= input.length; cut++) {
      const pieces: Array<[number, number]> = [[0, cut], [cut, input.length]];
      expect(parsePieces(input, pieces, true), `cut ${cut}`).toEqual(expected);
      expect(parsePieces(input, pieces, false), `cut ${cut} (offsets)`).toEqual(expected);
    }
  });

  it('gives the same replies when fed one byte at a time', () => {
    const pieces = Array.from({ length: input.length }, (_, i): [number, number] => [i, i + 1]);
    expect(parsePieces(input, pieces, true)).toEqual(expected);
    expect(parsePieces(input, pieces, false)).toEqual(expected);
  });

  it('splits every multi-line reply at every pair of byte boundaries', () => {
    const small = b('250-a\r\n250-bb\n250 c\r\r\n');
    const want = [{ code: 250, text: 'a\nbb\nc', lines: 3 }];
    for (let i = 0; i <= small.length; i++) {
      for (let j = i; j <= small.length; j++) {
        expect(parsePieces(small, [[0, i], [i, j], [j, small.length]], true), `${i}/${j}`).toEqual(want);
      }
    }
  });

  it('gives the same replies for random splits', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const pieces = randomSplits(r, input.length, 20);
      expect(parsePieces(input, pieces, seed % 2 === 0), `seed ${seed}`).toEqual(expected);
    }
  });

  it('push(chunk, start, end) reads only [start, end)', () => {
    const { parser, replies } = recorder();
    const buf = b('999 junk\r\n250 ok\r\n999 junk\r\n');
    parser.push(buf, 10, 18);
    expect(replies).toEqual([{ code: 250, text: 'ok', lines: 1 }]);
    parser.push(buf, 18, 22); // "999 " without its LF: nothing yet
    expect(replies).toHaveLength(1);
    expect(parser.pending).toBe(true);
  });

  it('accepts a plain Uint8Array', () => {
    const { parser, replies } = recorder();
    parser.push(new TextEncoder().encode('250-a\r\n250 b\r\n'));
    expect(replies).toEqual([{ code: 250, text: 'a\nb', lines: 2 }]);
  });
});

describe('ReplyParser: limits', () => {
  it('truncates an overlong line to maxLineLength and skips the rest of it', () => {
    const long = '250 ' + 'x'.repeat(100) + '\r\n' + '251 next\r\n';
    const want = [
      { code: 250, text: 'x'.repeat(12), lines: 1 },
      { code: 251, text: 'next', lines: 1 },
    ];
    expect(parseWhole(long, { maxLineLength: 16 })).toEqual(want);
    const input = b(long);
    for (let cut = 0; cut <= input.length; cut++) {
      const pieces: Array<[number, number]> = [[0, cut], [cut, input.length]];
      expect(parsePieces(input, pieces, true, { maxLineLength: 16 }), `cut ${cut}`).toEqual(want);
    }
  });

  it('an overlong continuation line keeps the reply going', () => {
    const text = '250-' + 'y'.repeat(50) + '\r\n250 end\r\n';
    expect(parseWhole(text, { maxLineLength: 10 })).toEqual([{ code: 250, text: 'yyyyyy\nend', lines: 2 }]);
  });

  it('survives a huge line with the default limit (10240)', () => {
    const huge = Buffer.concat([b('250 '), Buffer.alloc(200_000, 0x7a), b('\r\n220 after\r\n')]);
    const replies = parseWhole(huge);
    expect(replies).toHaveLength(2);
    expect(replies[0].code).toBe(250);
    expect(replies[0].text).toBe('z'.repeat(10240 - 4));
    expect(replies[1]).toEqual({ code: 220, text: 'after', lines: 1 });
  });

  it('caps the text of a long multi-line reply at maxReplyLength but counts every line', () => {
    const lines = Array.from({ length: 10 }, (_, i) => `250-line${i}\r\n`).join('') + '250 last\r\n';
    const replies = parseWhole(lines, { maxReplyLength: 20 });
    expect(replies).toHaveLength(1);
    expect(replies[0].code).toBe(250);
    expect(replies[0].lines).toBe(11);
    expect(replies[0].text).toBe('line0\nline1\nline2\nli');
    // The next reply starts with an empty text buffer again.
    const { parser, replies: more } = recorder({ maxReplyLength: 20 });
    parser.push(b(lines + '220 fresh\r\n'));
    expect(more[1]).toEqual({ code: 220, text: 'fresh', lines: 1 });
  });
});

describe('ReplyParser: state', () => {
  it('pending is true while a reply is incomplete', () => {
    const { parser, replies } = recorder();
    expect(parser.pending).toBe(false);
    parser.push(b('25'));
    expect(parser.pending).toBe(true);
    parser.push(b('0-a\r\n'));
    expect(parser.pending).toBe(true);
    parser.push(b('250 b\r\n'));
    expect(parser.pending).toBe(false);
    expect(replies).toHaveLength(1);
  });

  it('code holds the last reply code after the callback', () => {
    const { parser } = recorder();
    expect(parser.code).toBe(0);
    parser.push(b('354 go ahead\r\n'));
    expect(parser.code).toBe(354);
    parser.push(b('250-partial\r\n'));
    expect(parser.code).toBe(354);
    parser.push(b('bogus\r\n'));
    expect(parser.code).toBe(0);
  });

  it('calls onReply once per reply with the reply code', () => {
    const codes: number[] = [];
    const parser = new ReplyParser((code) => codes.push(code));
    parser.push(b('220 a\r\n250 b\r\n354 c\r\n'));
    expect(codes).toEqual([220, 250, 354]);
  });

  it('reset() forgets a partial line and a partial reply', () => {
    const { parser, replies } = recorder();
    parser.push(b('250-a\r\n250-b\r\n25'));
    parser.reset();
    expect(parser.pending).toBe(false);
    parser.push(b('354 go\r\n'));
    expect(replies).toEqual([{ code: 354, text: 'go', lines: 1 }]);
  });
});
