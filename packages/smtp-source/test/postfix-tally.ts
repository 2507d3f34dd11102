// Issue 7's accounting against Postfix: its side of the tally, read from its maillog alone.
import { execFileSync } from 'node:child_process';
import { messagesByQueueId, type Delivery, type LoggedMessage, type MaillogRecord, type PrivatePostfix } from '@smtpstone/testbed';
import type { Tally } from './helpers.js';

/**
 * A date as Postfix writes it in the headers it adds ("Fri, 27 Nov 2026 13:40:03 +0000 (UTC)"),
 * with placeholders of the same length: strftime's %Z here is Postfix's (same machine, same TZ).
 */
const POSTFIX_DATE = `Ddd, DD Mmm YYYY HH:MM:SS +ZZZZ (${execFileSync('date', ['+%Z'], { encoding: 'utf8' }).trim()})`;

/**
 * The bytes a line takes in a queue file: a type byte, its length in 7-bit groups, the line
 * without CR LF. The line's bytes are its UTF-8 (a UTF-8 recipient in Received:'s "for <...>").
 */
function recordBytes(line: string): number {
  return recordBytesOf(Buffer.byteLength(line, 'utf8'));
}

function recordBytesOf(n: number): number {
  let lengthBytes = 1;
  for (let rest = n >> 7; rest > 0; rest >>= 7) lengthBytes++;
  return 1 + lengthBytes + n;
}

export interface PostfixSession {
  /**
   * What smtpd's Received: says the protocol was: SMTP after HELO, ESMTP after EHLO, ESMTPS
   * with TLS, ESMTPSA with AUTH; UTF8SMTP (UTF8SMTPS, UTF8SMTPA, UTF8SMTPSA) for a MAIL with
   * SMTPUTF8. Checked against postcat for BDAT and SMTPUTF8.
   */
  proto: 'SMTP' | 'ESMTP' | 'ESMTPS' | 'ESMTPSA' | 'UTF8SMTP' | 'UTF8SMTPS' | 'UTF8SMTPA' | 'UTF8SMTPSA';
  /** The HELO/EHLO name (default client.example). */
  client?: string;
  /** -o: no HELO and no headers, so cleanup adds Message-Id:, Date:, From: and an empty line. */
  oldMode?: boolean;
  /** Headers without Message-Id:, Date: and From: (a -F file's): cleanup adds those three. */
  addsIdDateFrom?: boolean;
  /** Only the messages this smtpd (its syslog tag: postfix/smtpd, postfix/reinject/smtpd) received; default all. */
  smtpd?: string;
  /** Wait until `expected` messages are queued (qmgr's size= line), not removed: for messages left deferred. */
  until?: 'queued' | 'removed';
  /**
   * Every message's content as sent (dot-stuffed, CR LF line ends, without the final "."):
   * needed when a line is 128 bytes or longer or starts with ".", whose record is not the
   * line's wire size (see storedMinusWire).
   */
  content?: Buffer;
}

/** smtpd's line_length_limit: a longer line is stored as records of at most this many bytes. */
const LINE_LENGTH_LIMIT = 2048;

/**
 * How many bytes more a message's lines take as queue-file records than on the wire. smtpd
 * reads a line in pieces of at most line_length_limit bytes (the dot-stuffing dot included;
 * a line of exactly that many bytes ends with an empty piece, as its CR LF is read alone),
 * strips the stuffing dot from the first piece and stores each piece as a record: a type
 * byte, the length in 7-bit groups, the bytes. On the wire the line took its bytes and CR LF.
 */
function storedMinusWire(content: Buffer): number {
  let extra = 0;
  for (let start = 0; start < content.length; ) {
    let lf = content.indexOf(0x0a, start);
    if (lf < 0) lf = content.length;
    const raw = lf - start - (lf > start && content[lf - 1] === 0x0d ? 1 : 0);
    let stored = 0;
    for (let left = raw, first = true; ; first = false) {
      const piece = Math.min(left, LINE_LENGTH_LIMIT);
      stored += recordBytesOf(piece - (first && content[start] === 0x2e ? 1 : 0));
      left -= piece;
      if (piece < LINE_LENGTH_LIMIT) break;
    }
    extra += stored - (lf + 1 - start);
    start = lf + 1;
  }
  return extra;
}

/**
 * The header lines Postfix adds to a message it queues: smtpd's Received: (the "for <rcpt>"
 * clause only for a single recipient) and, for a message without headers (-o), cleanup's.
 * Checked against postcat on a held queue file.
 */
function postfixAddedLines(lm: LoggedMessage, how: PostfixSession): string[] {
  const single = lm.nrcpt === 1;
  const lines = [
    `Received: from ${how.oldMode ? 'localhost' : (how.client ?? 'client.example')} (localhost [127.0.0.1])`,
    `\tby mx.example.test (Postfix) with ${how.proto} id ${lm.queueId}${single ? '' : ';'}`,
    single ? `\tfor <${lm.deliveries[0]?.to}>; ${POSTFIX_DATE}` : `\t${POSTFIX_DATE}`,
  ];
  if (how.oldMode || how.addsIdDateFrom) lines.push(`Message-Id: <${lm.queueId}@mx.example.test>`, `Date: ${POSTFIX_DATE}`, `From: ${lm.from}`);
  if (how.oldMode) lines.push('');
  return lines;
}

/**
 * Postfix's side of the tally, from the maillog records from `before` on, once `expected`
 * queued messages are delivered and removed (or after waitForLog's limit): the messages queued
 * (qmgr's "from=<...>, size=N, nrcpt=R (queue active)"), their recipients (nrcpt), and their
 * bytes as on the wire, worked back from size=. That size is the queue file's content: one
 * record per line (a type byte, the length, the line without CR LF: for a line under 128
 * bytes, as many bytes as the line with its CR LF), Postfix's added header lines included. So
 * for messages with no line of 128 bytes or more and none dot-stuffed (smtp-source's generated
 * ones), wire bytes = size - the records of the added lines, exactly; for others, pass their
 * `content` and each line's difference is taken off too (storedMinusWire).
 */
export async function postfixTally(pf: PrivatePostfix, before: number, expected: number, how: PostfixSession): Promise<Tally> {
  const queued = (rs: MaillogRecord[]): LoggedMessage[] => {
    const from = rs.slice(before);
    const mine = how.smtpd === undefined ? undefined : new Set(from.filter((r) => r.tag === how.smtpd && r.queueId !== undefined).map((r) => r.queueId!));
    return [...messagesByQueueId(from).values()].filter((lm) => lm.size !== undefined && (mine === undefined || mine.has(lm.queueId)));
  };
  const done = (lm: LoggedMessage): boolean => how.until === 'queued' || lm.removed;
  const records = await pf
    .waitForLog(`${expected} messages queued${how.until === 'queued' ? '' : ', delivered and removed'}`, (rs) => queued(rs).filter(done).length >= expected)
    .catch(() => pf.records());
  const all = queued(records);
  const contentExtra = how.content === undefined ? 0 : storedMinusWire(how.content);
  return {
    messages: all.length,
    recipients: all.reduce((n, lm) => n + lm.nrcpt!, 0),
    bytes: all.reduce((n, lm) => n + lm.size! - postfixAddedLines(lm, how).reduce((k, l) => k + recordBytes(l), 0) - contentExtra, 0),
  };
}

/**
 * What Postfix handed on, from its maillog: the messages with a delivery (from record `from`
 * on) that `which` picks (default: status=sent by the smtp client, i.e. relayed to our sink or
 * to a content filter's smtpd), those deliveries (recipients), and the bytes of those
 * messages as the smtp client puts them on the wire. The client sends each queue-file line
 * with CR LF (dot-stuffed), Postfix's own Received: included, so for a message with no line of
 * 128 bytes or more and none starting with "." that is size= exactly (qmgr's line, looked up
 * in all `records`: a deferred message may have been queued before `from`). Bytes count once
 * per message: exact when each message went in one transaction (one recipient, or all in one).
 */
export function postfixHandedOn(records: MaillogRecord[], opts: { from?: number; which?: (d: Delivery) => boolean } = {}): Tally {
  const which = opts.which ?? ((d: Delivery) => d.status === 'sent' && d.program === 'smtp');
  const all = messagesByQueueId(records);
  const tally: Tally = { messages: 0, recipients: 0, bytes: 0 };
  for (const lm of messagesByQueueId(records.slice(opts.from ?? 0)).values()) {
    const picked = lm.deliveries.filter(which);
    if (picked.length === 0) continue;
    const size = all.get(lm.queueId)?.size;
    if (size === undefined) throw new Error(`no qmgr size= line for ${lm.queueId}`);
    tally.messages++;
    tally.recipients += picked.length;
    tally.bytes += size;
  }
  return tally;
}
