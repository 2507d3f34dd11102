// C-style escapes as Postfix's unescape() reads them (smtp-sink -S): \a \b \f \n \r \t \v,
// \ddd (one to three octal digits) and \\. Any other "\x" is "x"; a trailing "\" is dropped.

const SIMPLE: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11 };

export function unescapeC(input: string): Buffer {
  const out: number[] = [];
  const src = Buffer.from(input, 'utf8');
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c !== 0x5c) {
      out.push(c);
      continue;
    }
    i++;
    if (i >= src.length) break;
    const e = String.fromCharCode(src[i]);
    if (e in SIMPLE) {
      out.push(SIMPLE[e]);
    } else if (e >= '0' && e <= '7') {
      let v = 0;
      let n = 0;
      while (n < 3 && i < src.length && src[i] >= 0x30 && src[i] <= 0x37) {
        v = v * 8 + (src[i] - 0x30);
        i++;
        n++;
      }
      i--;
      out.push(v & 0xff);
    } else {
      out.push(src[i]);
    }
  }
  return Buffer.from(out);
}
