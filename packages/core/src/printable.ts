// Postfix's printable(): anything that is not printable ASCII (or valid UTF-8) becomes a
// replacement character, so a hostile peer cannot put control bytes into our logs.

const NON_PRINTABLE = /[\u0000-\u001f\u007f\ufffd]/g;

/** Decodes bytes as UTF-8 and replaces control characters and invalid sequences. */
export function printable(bytes: Uint8Array, start = 0, end = bytes.length, replacement = '?'): string {
  // A plain Uint8Array's toString() ignores the encoding and joins numbers: view it as a Buffer.
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.toString('utf8', start, end).replace(NON_PRINTABLE, replacement);
}

/** The same for a string already decoded. */
export function printableString(s: string, replacement = '?'): string {
  return s.replace(NON_PRINTABLE, replacement);
}
