// Every reply text smtp-sink sends, byte for byte as Postfix 3.7's smtp-sink sends them.

export const REPLY = {
  ok: '250 2.0.0 Ok\r\n',
  mailOk: '250 2.1.0 Ok\r\n',
  rcptOk: '250 2.1.5 Ok\r\n',
  rsetOk: '250 2.1.0 Ok\r\n',
  lmtpDotOk: '250 2.2.0 Ok\r\n',
  dataGo: '354 End data with <CR><LF>.<CR><LF>\r\n',
  bye: '221 Bye\r\n',
  nestedMail: '503 5.5.1 Error: nested MAIL command\r\n',
  needMail: '503 5.5.1 Error: need MAIL command\r\n',
  needRcpt: '503 5.5.1 Error: need RCPT command\r\n',
  unknown: '500 5.5.1 Error: unknown command\r\n',
  empty: '500 5.5.2 Error: unknown command\r\n',
  // The C sink drops the connection without a word; we answer and keep the session.
  lineTooLong: '500 5.5.2 Error: command line too long\r\n',
  closing: '421 4.0.0 Server closing connection\r\n',
  violation: '550 This violates SMTP\r\n',
  bdatSyntax: '501 5.5.4 Syntax: BDAT count [LAST]\r\n',
  bdatAfterData: '503 5.5.1 Error: DATA and BDAT cannot be mixed in one transaction\r\n',
  sizeExceeded: '552 5.3.4 Message size exceeds fixed limit\r\n',
  needSmtputf8: '553 5.6.7 Must declare SMTPUTF8 to send unicode address\r\n',
  softDefault: '450 4.3.0 Error: command failed',
  hardDefault: '500 5.3.0 Error: command failed',
} as const;

export interface Announce {
  pipelining: boolean;
  eightBitMime: boolean;
  auth: boolean;
  xclient: boolean;
  xforward: boolean;
  enhancedStatusCodes: boolean;
  dsn: boolean;
}

/** What EHLO announces beyond the original: STARTTLS, and the AUTH mechanisms when configured. */
export interface ExtraAnnounce {
  starttls?: boolean;
  /** Replaces the original's "PLAIN LOGIN". */
  authMechanisms?: readonly string[];
  /** --size-limit: "SIZE n" after 8BITMIME. */
  sizeLimit?: number;
  /** --chunking: CHUNKING after DSN. */
  chunking?: boolean;
  /** --smtputf8: SMTPUTF8 last. */
  smtputf8?: boolean;
}

/** The reply to each accepted BDAT chunk but the last. */
export function bdatReply(n: number): string {
  return `250 2.0.0 Ok: ${n} bytes\r\n`;
}

/** A MAIL/RCPT parameter the sink does not serve (DSN ones under -N), as Postfix's smtpd says it. */
export function unsupportedOption(param: string): string {
  return `555 5.5.4 Unsupported option: ${param}\r\n`;
}

/**
 * The EHLO/LHLO reply, in the C sink's order; its last line is "250 " with a trailing space.
 * STARTTLS (not in the original) goes just before AUTH.
 */
export function ehloReply(hostname: string, a: Announce, extra: ExtraAnnounce = {}): string {
  let r = `250-${hostname}\r\n`;
  if (a.pipelining) r += '250-PIPELINING\r\n';
  if (a.eightBitMime) r += '250-8BITMIME\r\n';
  if (extra.sizeLimit !== undefined) r += `250-SIZE ${extra.sizeLimit}\r\n`;
  if (extra.starttls) r += '250-STARTTLS\r\n';
  if (a.auth) r += `250-AUTH ${extra.authMechanisms?.join(' ') ?? 'PLAIN LOGIN'}\r\n`;
  if (a.xclient) r += '250-XCLIENT NAME HELO\r\n';
  if (a.xforward) r += '250-XFORWARD NAME ADDR PROTO HELO\r\n';
  if (a.enhancedStatusCodes) r += '250-ENHANCEDSTATUSCODES\r\n';
  if (a.dsn) r += '250-DSN\r\n';
  if (extra.chunking) r += '250-CHUNKING\r\n';
  if (extra.smtputf8) r += '250-SMTPUTF8\r\n';
  return r + '250 \r\n';
}

export function bannerReply(hostname: string, esmtp: boolean, pix: boolean): string {
  if (pix) return '220 ********\r\n';
  return esmtp ? `220 ${hostname} ESMTP\r\n` : `220 ${hostname}\r\n`;
}

/** -b/-B: a reply must have exactly three leading digits, the first as given. */
export function checkErrorReply(text: string, firstDigit: '4' | '5'): boolean {
  return /^\d{3}(?!\d)/.test(text) && text[0] === firstDigit;
}
