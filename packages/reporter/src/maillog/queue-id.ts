// Postfix queue ids (global/mail_queue.h). Short: upper-case hex, 5 digits of the queue
// file's creation microseconds then its inode. Long (enable_long_queue_ids): the creation
// seconds in base 52 (6+ digits), 4 base-52 digits of microseconds, 'z', the inode in base 51.
// Base 52 includes 'z', so the time digits may contain 'z' (4jYwzG1KfgzJ9CW); only the inode
// digits exclude it, which makes the separator the last 'z'. The alphabets have no vowels, so
// words in the same place ("statistics", "Deleted", "warning") never look like ids.

const ALPHABET = '0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz';
const MAX_ID = 32;

// Per char code: 1 = upper-case hex digit, 2 = base-52 digit, 4 = base-51 digit (no 'z').
const CLASS = new Uint8Array(128);
for (const c of '0123456789ABCDEF') CLASS[c.charCodeAt(0)] |= 1;
for (const c of ALPHABET) CLASS[c.charCodeAt(0)] |= c === 'z' ? 2 : 6;

const VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

/** True for a short (hex) or long queue id. */
export function isQueueId(id: string): boolean {
  return queueIdEnd(id, 0) === id.length && id.length > 0;
}

/**
 * Where a queue id starting at `start` of `s` ends (the index after it), or -1. The caller
 * checks what follows (": ").
 */
export function queueIdEnd(s: string, start: number): number {
  let hex = true;
  let long = true;
  let lastZ = -1;
  let i = start;
  const limit = Math.min(s.length, start + MAX_ID);
  for (; i < limit; i++) {
    const c = s.charCodeAt(i);
    const k = c < 128 ? CLASS[c] : 0;
    if (k === 0) break;
    if ((k & 1) === 0) hex = false;
    if ((k & 2) === 0) long = false;
    if (c === 0x7a) lastZ = i;
    if (!hex && !long) return -1;
  }
  const n = i - start;
  if (hex && n >= 6) return i;
  // Long: at least 10 time digits before the last 'z' and at least one inode digit after it.
  if (long && lastZ - start >= 10 && lastZ < i - 1) return i;
  return -1;
}

export type DecodedQueueId =
  | { form: 'short'; micros: number; inode: number }
  | { form: 'long'; /** Creation time, epoch ms with the microseconds as a fraction. */ time: number; inode: number };

function decode(s: string, base: number): number {
  let v = 0;
  for (let i = 0; i < s.length; i++) v = v * base + VALUE[s.charCodeAt(i)];
  return v;
}

/**
 * What a queue id encodes: the queue file's creation microseconds and inode (short), or its
 * full creation time and inode (long: the only sub-second time a Postfix log carries).
 */
export function decodeQueueId(id: string): DecodedQueueId | undefined {
  if (!isQueueId(id)) return undefined;
  if (/^[0-9A-F]+$/.test(id)) {
    return { form: 'short', micros: parseInt(id.slice(0, 5), 16), inode: parseInt(id.slice(5), 16) };
  }
  const z = id.lastIndexOf('z');
  const seconds = decode(id.slice(0, z - 4), 52);
  const micros = decode(id.slice(z - 4, z), 52);
  return { form: 'long', time: seconds * 1000 + micros / 1000, inode: decode(id.slice(z + 1), 51) };
}
