// What smtp-source sends in DATA, built once as Buffers so that each message costs one small
// header Buffer and a write of the shared body.
//
// Generated headers (not with -o or -F), as the C program writes them, plus our two ids:
//   From: <sender>
//   To: <recipient>                    (always the unnumbered -t address)
//   Date: <mail date of the first message>
//   Message-Id: <...@myhostname>
//   X-Smtpstone-Id: <run>.<seq>        (ours: ties a delivery log line to the journal)
//   Subject: <-S text>                 (only with -S)
//   <empty line>
import { readFileSync } from 'node:fs';
import { dotStuff, mailDate } from '@smtpstone/core';

const CRLF = Buffer.from('\r\n', 'latin1');

const DIGITS = '0123456789';

/**
 * The -l body exactly as the C program builds it: n bytes of 'X' where every 80th byte
 * boundary ends a line (CR LF) and each such line starts with a digit 1,2,...,9,0,1,...;
 * then CR LF. So n+2 bytes on the wire, and no line starts with '.'.
 */
export function lengthBody(n: number): Buffer {
  const buf = Buffer.alloc(n + 2, 'X');
  for (let i = 80; i < n; i += 80) {
    buf[i - 80] = DIGITS.charCodeAt(Math.floor(i / 80) % 10);
    buf[i - 2] = 0x0d;
    buf[i - 1] = 0x0a;
  }
  buf[n] = 0x0d;
  buf[n + 1] = 0x0a;
  return buf;
}

export const DEFAULT_BODY = Buffer.from(
  'La de da de da 1.\r\nLa de da de da 2.\r\nLa de da de da 3.\r\nLa de da de da 4.\r\n',
  'latin1',
);

/**
 * A -F file as a message: each line ended CR LF (LF or CR LF in the file alike) and a line
 * starting with '.' given another. The C program kept the file's CRs (so a CR LF file went
 * out as CR CR LF) and added an empty line before the final dot; we send the file as it is.
 */
export function fileBody(path: string): Buffer {
  return dotStuff(fileBodyRaw(path));
}

/** A -F file as BDAT carries it: lines ended CR LF, not dot-stuffed. */
export function fileBodyRaw(path: string): Buffer {
  const data = readFileSync(path);
  const parts: Buffer[] = [];
  let start = 0;
  while (start < data.length) {
    let lf = data.indexOf(0x0a, start);
    if (lf < 0) lf = data.length;
    const end = lf > start && data[lf - 1] === 0x0d ? lf - 1 : lf;
    parts.push(data.subarray(start, end), CRLF);
    start = lf + 1;
  }
  return Buffer.concat(parts);
}

/**
 * RFC 3461 xtext: printable ASCII but '+' and '=' as itself, every other byte (of the UTF-8
 * form) as '+' and two upper-case hex digits.
 */
export function xtext(value: string): string {
  let out = '';
  for (const b of Buffer.from(value, 'utf8')) {
    out += b >= 33 && b <= 126 && b !== 0x2b && b !== 0x3d ? String.fromCharCode(b) : '+' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/**
 * RFC 6533 utf-8-addr-xtext (unitext false) or utf-8-addr-unitext (true, only where SMTPUTF8
 * is in use): printable ASCII other than '+', '=' and '\' as itself; non-ASCII as "\x{HEX}", or as
 * its UTF-8 in unitext; everything else as "\x{HEX}". HEX is the code point in upper case, two
 * digits at least and no other leading zeros.
 */
export function uxtext(value: string, unitext: boolean): string {
  let out = '';
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    const plain = cp >= 0x21 && cp <= 0x7e && cp !== 0x2b && cp !== 0x3d && cp !== 0x5c;
    out += plain || (unitext && cp > 0x7f) ? ch : `\\x{${cp.toString(16).toUpperCase().padStart(2, '0')}}`;
  }
  return out;
}

/**
 * The ORCPT value for recipient r: "rfc822;" and xtext for an ASCII address (RFC 3461), and
 * "utf-8;" for an address with non-ASCII characters (RFC 6533), raw UTF-8 only under SMTPUTF8.
 */
export function orcpt(r: string, smtputf8: boolean): string {
  return /^[\x00-\x7f]*$/.test(r) ? `rfc822;${xtext(r)}` : `utf-8;${uxtext(r, smtputf8)}`;
}

export const END_OF_DATA = Buffer.from('.\r\n', 'latin1');

export interface HeaderSettings {
  sender: string;
  recipient: string;
  myHostname: string;
  subject?: string;
  tracking: boolean;
  runId: string;
  date: Date;
}

/** Builds the per-message headers; everything but the ids is formatted once. */
export class HeaderBuilder {
  private readonly before: string;
  private readonly after: string;

  constructor(private readonly s: HeaderSettings) {
    this.before = `From: <${s.sender}>\r\nTo: <${s.recipient}>\r\nDate: ${mailDate(s.date)}\r\n`;
    this.after = (s.subject !== undefined ? `Subject: ${s.subject}\r\n` : '') + '\r\n';
  }

  /**
   * The Message-Id of message `seq`: unique across runs, or with tracking off the original's
   * <pid.session.messages-left@myhostname> in 4-digit hex.
   */
  messageId(seq: number, session = 0, left = 0): string {
    if (!this.s.tracking) {
      const hex = (n: number): string => (n & 0xffff).toString(16).padStart(4, '0');
      return `<${hex(process.pid)}.${hex(session)}.${hex(left)}@${this.s.myHostname}>`;
    }
    return `<${this.s.runId}.${seq}@${this.s.myHostname}>`;
  }

  build(seq: number, session = 0, left = 0): Buffer {
    const tracking = this.s.tracking ? `X-Smtpstone-Id: ${this.s.runId}.${seq}\r\n` : '';
    return Buffer.from(`${this.before}Message-Id: ${this.messageId(seq, session, left)}\r\n${tracking}${this.after}`, 'utf8');
  }
}

/** A short id for this run: time and randomness, safe in a Message-Id local part. */
export function newRunId(now = Date.now()): string {
  return now.toString(36) + Math.floor(Math.random() * 36 ** 4).toString(36).padStart(4, '0');
}
