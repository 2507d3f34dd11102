// Dot-stuffing (RFC 5321 4.5.2) on Buffers: a line that begins with '.' gets one more.
// Both directions take and return Buffers and never split the input into lines.

const DOT = 0x2e;
const LF = 0x0a;
const CR = 0x0d;

/** How many lines of `body` start with '.', i.e. how many bytes stuffing adds. */
export function countLinesNeedingStuffing(body: Uint8Array): number {
  let n = body.length > 0 && body[0] === DOT ? 1 : 0;
  const buf = body as Buffer;
  let i = buf.indexOf(LF);
  while (i >= 0 && i + 1 < body.length) {
    if (body[i + 1] === DOT) n++;
    i = buf.indexOf(LF, i + 1);
  }
  return n;
}

/**
 * Returns `body` with every line that starts with '.' given a second '.'. A line starts at
 * the beginning and after each LF. Returns the same Buffer when nothing needs stuffing.
 */
export function dotStuff(body: Buffer): Buffer {
  const extra = countLinesNeedingStuffing(body);
  if (extra === 0) return body;
  const out = Buffer.allocUnsafe(body.length + extra);
  let o = 0;
  let from = 0;
  let lineStart = 0;
  while (lineStart < body.length) {
    if (body[lineStart] === DOT) {
      o += body.copy(out, o, from, lineStart);
      out[o++] = DOT;
      from = lineStart;
    }
    const lf = body.indexOf(LF, lineStart);
    if (lf < 0) break;
    lineStart = lf + 1;
  }
  o += body.copy(out, o, from, body.length);
  return out;
}

/**
 * Turns message data as received in DATA (before the terminator) back into the message:
 * removes the first '.' of each line that begins with one. A line starts after any LF, as
 * dotStuff() sees it (and as Postfix's smtpd reads bare LF): the round trip is the identity
 * on any body, and a '.' after a bare LF, stuffed against SMTP smuggling, comes back single.
 */
export function dotUnstuff(data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  let o = 0;
  let atLineStart = true;
  for (let i = 0; i < data.length; i++) {
    const b = data[i];
    if (atLineStart && b === DOT) {
      atLineStart = false;
      continue;
    }
    out[o++] = b;
    atLineStart = b === LF;
  }
  return out.subarray(0, o);
}
