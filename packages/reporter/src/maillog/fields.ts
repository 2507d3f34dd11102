// Small scanners shared by the program grammars: addresses in angle brackets, NAME[ADDR]
// peers, numbers. They return undefined rather than throw: a line that does not fit is
// the caller's 'unknown'.
import type { CommandCount, Peer } from './records.js';

export interface Scanned<T> {
  value: T;
  /** Index just after what was scanned. */
  end: number;
}

/**
 * The address in `<...>` starting at s[start] === '<'. Postfix writes addresses in external
 * form (info_log_address_format), so a quoted local part may hold '>', ',' and spaces:
 * `<"a>b, c"@example.com>`. Scan quotes (with backslash escapes) instead of splitting on '>'.
 */
export function scanAddress(s: string, start: number): Scanned<string> | undefined {
  if (s.charCodeAt(start) !== 0x3c /* < */) return undefined;
  const close = s.indexOf('>', start + 1);
  if (close < 0) return undefined;
  const quote = s.indexOf('"', start + 1);
  if (quote < 0 || quote > close) return { value: s.slice(start + 1, close), end: close + 1 };
  let quoted = false;
  for (let i = start + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (quoted && c === 0x5c /* \ */) i++;
    else if (c === 0x22 /* " */) quoted = !quoted;
    else if (c === 0x3e /* > */ && !quoted) return { value: s.slice(start + 1, i), end: i + 1 };
  }
  return undefined;
}

/** NAME[ADDR] or NAME[ADDR]:PORT, the whole of `s`. */
export function parsePeer(s: string): Peer | undefined {
  const open = s.indexOf('[');
  const close = s.indexOf(']', open + 1);
  if (open <= 0 || close < 0) return undefined;
  let port: number | undefined;
  if (close + 1 < s.length) {
    if (s.charCodeAt(close + 1) !== 0x3a /* : */) return undefined;
    port = toUint(s.slice(close + 2));
    if (port === undefined) return undefined;
  }
  return { name: s.slice(0, open), addr: s.slice(open + 1, close), port };
}

/** A non-negative decimal integer making up the whole string, or undefined. */
export function toUint(s: string): number | undefined {
  if (s.length === 0 || s.length > 15) return undefined;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return v;
}

/**
 * The non-negative decimal in s[start, end) (`0.04`, `51`, `6.6`), or -1. One division of
 * exact integers gives the same double as Number() on the text, without slicing it.
 */
export function secondsIn(s: string, start: number, end: number): number {
  let v = 0;
  let scale = 1;
  let point = false;
  if (end <= start || end - start > 16) return -1;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e && !point && i > start && i < end - 1) {
      point = true;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
    if (point) scale *= 10;
  }
  return v / scale;
}

/** `13/15` -> 13 of 15; `2` -> 2 of 2. */
export function parseCommandCount(s: string): CommandCount | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) {
    const n = toUint(s);
    return n === undefined ? undefined : { ok: n, total: n };
  }
  const ok = toUint(s.slice(0, slash));
  const total = toUint(s.slice(slash + 1));
  return ok === undefined || total === undefined ? undefined : { ok, total };
}

/**
 * `, key=value` pairs from `start` to the end: `client=H, sasl_method=PLAIN`. Values run to
 * the next ", "; undefined when a piece has no '='.
 */
export function parseAttributes(s: string, start: number): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let i = start;
  while (i < s.length) {
    if (!s.startsWith(', ', i)) return undefined;
    i += 2;
    let next = s.indexOf(', ', i);
    if (next < 0) next = s.length;
    const eq = s.indexOf('=', i);
    if (eq <= i || eq > next) return undefined;
    const key = s.slice(i, eq);
    if (key === '__proto__') return undefined;
    out[key] = s.slice(eq + 1, next);
    i = next;
  }
  return out;
}
