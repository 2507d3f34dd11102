// The part of a line before Postfix's text (reporter-notes.md section 2): a time, a host and
// a tag[pid], in any of the forms a reader meets:
//   maillog_file      Nov 04 21:29:06 mx postfix/smtp[6068]: TEXT        (day zero-padded)
//   classic syslog    Nov  4 21:29:06 mx postfix/smtp[6068]: TEXT        (day space-padded)
//   RFC 3339 file     2026-11-24T21:34:49.053533+00:00 mx postfix/smtp[6068]: TEXT
//   RFC 3164 wire     <22>Nov 24 21:34:49 vm postfix/smtp[6068]: TEXT
//   RFC 5424          <22>1 2026-11-24T21:34:49.053533+00:00 vm postfix/smtp 6068 - [sd] TEXT
//   Solaris           ... postfix/smtpd[123]: [ID 197553 mail.info] TEXT
// Hand-written scanning rather than one big regex: this runs for every line, and a stamp
// shared with the previous line is recognised without parsing it again.
import { monthAt, parseOffset, type LogClock } from './clock.js';
import type { Names, TagInfo } from './names.js';
import type { TimePrecision } from './records.js';

export interface Envelope {
  time: number;
  timePrecision: TimePrecision;
  host: string;
  /** The tag, split; its `tag` is '' when the line has none (then `tagged` is false and `text` is all after the host). */
  tag: TagInfo;
  pid: number | undefined;
  tagged: boolean;
  /** Everything after `tag[pid]: ` (and a Solaris `[ID n fac.lvl] `). */
  text: string;
}

const SP = 0x20;
// 10 ** k: the ** operator was a third of the time of an RFC 3339 stamp (measured).
const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000];

function digit(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -1;
}

/** Two digits at i as a number, or -1. */
function two(s: string, i: number): number {
  const a = digit(s, i);
  const b = digit(s, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

interface Stamp {
  time: number;
  precision: TimePrecision;
  /** Index after the stamp and its following space. */
  end: number;
}

/** `Mmm dd hh:mm:ss ` (day zero- or space-padded, or a lone digit) at `start`. */
function classicStamp(s: string, start: number, clock: LogClock): Stamp | undefined {
  const cached = clock.sameYearless(s, start);
  if (cached > 0 && s.charCodeAt(start + cached) === SP) {
    return { time: clock.last, precision: 's', end: start + cached + 1 };
  }
  const month = monthAt(s, start);
  if (month < 0 || s.charCodeAt(start + 3) !== SP) return undefined;
  let i = start + 4;
  if (s.charCodeAt(i) === SP) i++;
  let day = digit(s, i);
  if (day < 0) return undefined;
  i++;
  const d2 = digit(s, i);
  if (d2 >= 0) {
    day = day * 10 + d2;
    i++;
  }
  if (day < 1 || day > 31 || s.charCodeAt(i) !== SP) return undefined;
  const h = two(s, i + 1);
  const mi = two(s, i + 4);
  const sec = two(s, i + 7);
  if (h < 0 || mi < 0 || sec < 0 || s[i + 3] !== ':' || s[i + 6] !== ':' || h > 23 || mi > 59 || sec > 60) {
    return undefined;
  }
  const end = i + 9;
  if (s.charCodeAt(end) !== SP) return undefined;
  return { time: clock.yearless(s.slice(start, end), month, day, h, mi, sec), precision: 's', end: end + 1 };
}

/** `YYYY-MM-DDThh:mm:ss[.frac][Z|+hh:mm|+hhmm] ` at `start`. */
function isoStamp(s: string, start: number, clock: LogClock): Stamp | undefined {
  // The fraction first: it differs on every line, the rest is mostly the last line's.
  let i = start + 19;
  let fraction = 0;
  let precision: TimePrecision = 's';
  if (s[i] === '.' || s[i] === ',') {
    const from = ++i;
    let v = 0;
    for (let d = digit(s, i); d >= 0; d = digit(s, ++i)) v = v * 10 + d;
    const n = i - from;
    if (n === 0 || n > 9) return undefined;
    fraction = n <= 3 ? v * POW10[3 - n] : v / POW10[n - 3]; // in ms
    precision = n <= 3 ? 'ms' : 'us';
  }
  let whole = clock.sameDated(s, start, i);
  const space = s.indexOf(' ', i);
  if (whole === undefined) {
    const y = two(s, start) * 100 + two(s, start + 2);
    const mo = two(s, start + 5);
    const d = two(s, start + 8);
    const h = two(s, start + 11);
    const mi = two(s, start + 14);
    const sec = two(s, start + 17);
    if (
      y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
      sec > 60 || s[start + 4] !== '-' || s[start + 7] !== '-' || (s[start + 10] !== 'T' && s[start + 10] !== 't') ||
      s[start + 13] !== ':' || s[start + 16] !== ':' || space < 0
    ) {
      return undefined;
    }
    const offsetText = s.slice(i, space);
    const offset = space > i ? parseOffset(offsetText) : undefined;
    if (space > i && offset === undefined) return undefined;
    whole = clock.dated(s.slice(start, start + 19), offsetText, y, mo - 1, d, h, mi, sec, offset);
  }
  clock.last = whole + fraction;
  return { time: clock.last, precision, end: space + 1 };
}

function stampAt(s: string, start: number, clock: LogClock): Stamp | undefined {
  const c = s.charCodeAt(start);
  if (c >= 0x41 && c <= 0x5a) return classicStamp(s, start, clock);
  if (c >= 0x30 && c <= 0x39) return isoStamp(s, start, clock);
  return undefined;
}

/** `<PRI>` at the start: the index after it, or 0 when there is none. */
function skipPri(s: string): number {
  if (s.charCodeAt(0) !== 0x3c) return 0;
  const close = s.indexOf('>', 1);
  if (close < 2 || close > 4) return 0;
  for (let i = 1; i < close; i++) if (digit(s, i) < 0) return 0;
  return Number(s.slice(1, close)) <= 191 ? close + 1 : 0;
}

/** The next space-delimited token from i: [start, end). */
function tokenEnd(s: string, i: number): number {
  const sp = s.indexOf(' ', i);
  return sp < 0 ? s.length : sp;
}

/** RFC 5424 after `<PRI>`: `1 TIMESTAMP HOST APP PROCID MSGID SD [MSG]`. */
function rfc5424(s: string, start: number, clock: LogClock, names: Names): Envelope | undefined {
  let i = start + 2; // "1 "
  let time: number;
  let precision: TimePrecision;
  if (s.startsWith('- ', i)) {
    time = clock.last;
    precision = 'none';
    i += 2;
  } else {
    const stamp = isoStamp(s, i, clock);
    if (!stamp) return undefined;
    time = stamp.time;
    precision = stamp.precision;
    i = stamp.end;
  }
  const fields: string[] = [];
  for (let k = 0; k < 4; k++) {
    const end = tokenEnd(s, i);
    if (end === i) return undefined;
    const field = s.slice(i, end);
    fields.push(field === '-' ? '' : field);
    i = end + 1;
  }
  const [host, tag, procid] = fields;
  // STRUCTURED-DATA: '-' or [id param="value"]... with \" \\ \] escaped in values.
  if (s.startsWith('-', i)) i++;
  else {
    while (s.charCodeAt(i) === 0x5b /* [ */) {
      let quoted = false;
      i++;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (quoted && c === 0x5c) i++;
        else if (c === 0x22) quoted = !quoted;
        else if (c === 0x5d && !quoted) break;
      }
      if (i >= s.length) return undefined;
      i++;
    }
  }
  if (i < s.length && s.charCodeAt(i) !== SP) return undefined;
  let text = s.slice(i + 1);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a BOM marks a UTF-8 MSG
  const pid = /^\d{1,10}$/.test(procid) ? Number(procid) : undefined;
  return { time, timePrecision: precision, host, tag: names.tag(tag), pid, tagged: tag !== '', text };
}

/**
 * `tag[pid]: ` or `tag: ` at i: sets tag, pid and text on `out`, or returns false when the
 * token is not a tag.
 */
function scanTag(s: string, i: number, out: Envelope, names: Names): boolean {
  let j = i;
  for (; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 0x5b /* [ */ || c === 0x3a /* : */ || c === SP) break;
  }
  if (j === i || j === s.length || s.charCodeAt(j) === SP) return false;
  let pid: number | undefined;
  let colon = j;
  if (s.charCodeAt(j) === 0x5b) {
    const close = s.indexOf(']', j + 1);
    if (close < 0) return false;
    if (close === j + 1 || close - j > 11) return false;
    pid = 0;
    for (let k = j + 1; k < close; k++) {
      const d = digit(s, k);
      if (d < 0) return false;
      pid = pid * 10 + d;
    }
    colon = close + 1;
    if (s.charCodeAt(colon) !== 0x3a) return false;
  }
  const after = colon + 1;
  if (after < s.length && s.charCodeAt(after) !== SP) return false;
  out.tag = names.tagAt(s, i, j);
  out.pid = pid;
  out.tagged = true;
  let text = after + 1;
  // Solaris syslog: "[ID 197553 mail.info] " before the text.
  if (s.startsWith('[ID ', text)) {
    const close = s.indexOf('] ', text);
    if (close > 0 && /^\[ID \d+ [\w-]+\.\w+$/.test(s.slice(text, close))) text = close + 2;
  }
  out.text = text <= s.length ? s.slice(text) : '';
  return true;
}

/**
 * The envelope of one line (without its line ending), or undefined when no timestamp form
 * matches: such a line is garbled. A line with a time but no `tag:` comes back untagged.
 */
export function parseEnvelope(line: string, clock: LogClock, names: Names): Envelope | undefined {
  const start = skipPri(line);
  if (start > 0 && digit(line, start) > 0 && line.charCodeAt(start + 1) === SP) return rfc5424(line, start, clock, names);
  const stamp = stampAt(line, start, clock);
  if (!stamp) return undefined;
  const out: Envelope = {
    time: stamp.time,
    timePrecision: stamp.precision,
    host: '',
    tag: names.tag(''),
    pid: undefined,
    tagged: false,
    text: '',
  };
  const i = stamp.end;
  const hostEnd = tokenEnd(line, i);
  // A token ending in ':' right after the time is a tag: logs that write no host (Dovecot's
  // own log_path file: "Nov 24 21:29:37 master: Info: ...").
  if (line.charCodeAt(hostEnd - 1) === 0x3a && scanTag(line, i, out, names)) return out;
  out.host = names.host(line, i, hostEnd);
  if (hostEnd < line.length && scanTag(line, hostEnd + 1, out, names)) return out;
  out.text = line.slice(Math.min(hostEnd + 1, line.length));
  return out;
}
