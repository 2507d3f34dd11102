// Issue 7's accounting against Postfix: its side of the tally, read from its maillog alone.
import { execFileSync } from 'node:child_process';
import { messagesByQueueId, type LoggedMessage, type MaillogRecord, type PrivatePostfix } from '@smtpstone/testbed';
import type { Tally } from './helpers.js';

/**
 * A date as Postfix writes it in the headers it adds ("Fri, 27 Nov 2026 13:40:03 +0000 (UTC)"),
 * with placeholders of the same length: strftime's %Z here is Postfix's (same machine, same TZ).
 */
const POSTFIX_DATE = `Ddd, DD Mmm YYYY HH:MM:SS +ZZZZ (${execFileSync('date', ['+%Z'], { encoding: 'utf8' }).trim()})`;

/** The bytes a line takes in a queue file: a type byte, its length in 7-bit groups, the line without CR LF. */
function recordBytes(line: string): number {
  const n = Buffer.byteLength(line, 'latin1');
  let lengthBytes = 1;
  for (let rest = n >> 7; rest > 0; rest >>= 7) lengthBytes++;
  return 1 + lengthBytes + n;
}

export interface PostfixSession {
  /** What smtpd's Received: says the protocol was: SMTP after HELO, ESMTP after EHLO, ESMTPS with TLS, ESMTPSA with AUTH. */
  proto: 'SMTP' | 'ESMTP' | 'ESMTPS' | 'ESMTPSA';
  /** The HELO/EHLO name (default client.example). */
  client?: string;
  /** -o: no HELO and no headers, so cleanup adds Message-Id:, Date:, From: and an empty line. */
  oldMode?: boolean;
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
  if (how.oldMode) lines.push(`Message-Id: <${lm.queueId}@mx.example.test>`, `Date: ${POSTFIX_DATE}`, `From: ${lm.from}`, '');
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
 * ones), wire bytes = size - the records of the added lines, exactly.
 */
export async function postfixTally(pf: PrivatePostfix, before: number, expected: number, how: PostfixSession): Promise<Tally> {
  const queued = (rs: MaillogRecord[]): LoggedMessage[] => [...messagesByQueueId(rs.slice(before)).values()].filter((lm) => lm.size !== undefined);
  const records = await pf
    .waitForLog(`${expected} messages queued, delivered and removed`, (rs) => queued(rs).filter((lm) => lm.removed).length >= expected)
    .catch(() => pf.records());
  const all = queued(records);
  return {
    messages: all.length,
    recipients: all.reduce((n, lm) => n + lm.nrcpt!, 0),
    bytes: all.reduce((n, lm) => n + lm.size! - postfixAddedLines(lm, how).reduce((k, l) => k + recordBytes(l), 0), 0),
  };
}
