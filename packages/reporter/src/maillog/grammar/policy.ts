// Policy and content-check actions, shared by smtpd (smtpd_check.c log_whatsup) and cleanup
// (cleanup_act_log):
//   smtpd    QID|NOQUEUE: ACTION: STAGE from NAME[ADDR]: CODE DSN TEXT; from=<S> to=<R> proto=P helo=<H>
//   cleanup  QID: ACTION: CLASS CONTENT from NAME[ADDR]; from=<S> to=<R> proto=P helo=<H>: TEXT
//   milter   QID: milter-reject: STAGE from NAME[ADDR]: DSN TEXT; from=<S> to=<R> proto=P helo=<H>
// Every field after the ';' is optional. TEXT may itself hold "; " (RBL replies), so the
// split is the last "; " whose remainder parses as fields.
import { parsePeer, scanAddress, toUint } from '../fields.js';
import { makeRecord } from '../make-record.js';
import type { Peer, RecordBase, RejectRecord } from '../records.js';

const ACTIONS = new Set([
  'reject', 'reject_warning', 'hold', 'discard', 'filter', 'redirect', 'bcc', 'warning', 'info', 'replace',
  'prepend', 'milter-reject', 'milter-hold', 'milter-discard', 'milter-redirect', 'milter-filter',
]);

interface Tail {
  from: string | undefined;
  to: string | undefined;
  proto: string | undefined;
  helo: string | undefined;
  /** cleanup's ": TEXT" after the fields, '' when none. */
  text: string;
}

/** ` from=<S> to=<R> proto=P helo=<H>` then the end or ": TEXT", from `i`; undefined if it does not fit. */
function parseTail(s: string, i: number): Tail | undefined {
  const tail: Tail = { from: undefined, to: undefined, proto: undefined, helo: undefined, text: '' };
  while (i < s.length) {
    if (s.startsWith(': ', i)) {
      tail.text = s.slice(i + 2);
      return tail;
    }
    if (s.charCodeAt(i) !== 0x20) return undefined;
    i++;
    if (tail.from === undefined && tail.to === undefined && s.startsWith('from=<', i)) {
      const a = scanAddress(s, i + 5);
      if (!a) return undefined;
      tail.from = a.value;
      i = a.end;
    } else if (tail.to === undefined && tail.proto === undefined && s.startsWith('to=<', i)) {
      const a = scanAddress(s, i + 3);
      if (!a) return undefined;
      tail.to = a.value;
      i = a.end;
    } else if (tail.proto === undefined && tail.helo === undefined && s.startsWith('proto=', i)) {
      let end = i + 6;
      while (end < s.length && s.charCodeAt(end) !== 0x20 && s.charCodeAt(end) !== 0x3a) end++;
      tail.proto = s.slice(i + 6, end);
      i = end;
    } else if (tail.helo === undefined && s.startsWith('helo=<', i)) {
      const a = scanAddress(s, i + 5);
      if (!a) return undefined;
      tail.helo = a.value;
      i = a.end;
    } else {
      return undefined;
    }
  }
  return tail;
}

/** `CODE DSN TEXT`, each of CODE and DSN optional. */
function parseReply(s: string): { code: number | undefined; dsn: string | undefined; reason: string } {
  let code: number | undefined;
  let i = 0;
  if (/^[245]\d\d(?: |$)/.test(s)) {
    code = toUint(s.slice(0, 3));
    i = Math.min(4, s.length);
  }
  const m = /^[245]\.\d{1,3}\.\d{1,3}(?= |$)/.exec(s.slice(i));
  const dsn = m ? m[0] : undefined;
  if (m) i = Math.min(i + m[0].length + 1, s.length);
  return { code, dsn, reason: s.slice(i) };
}

/** The record for `ACTION: ...` in b.text, or undefined when the text is not one. */
export function parsePolicy(b: RecordBase): RejectRecord | undefined {
  const t = b.text;
  const colon = t.indexOf(': ');
  if (colon <= 0 || colon > 20) return undefined;
  const action = t.slice(0, colon);
  if (!ACTIONS.has(action)) return undefined;
  const body = colon + 2;
  // The last "; " after which the fields parse.
  let semi = t.length;
  let tail: Tail | undefined;
  while (!tail) {
    semi = t.lastIndexOf(';', semi - 1);
    if (semi < body) return undefined;
    tail = parseTail(t, semi + 1);
  }
  const head = t.slice(body, semi);
  const space = head.indexOf(' ');
  if (space <= 0) return undefined;
  const stage = head.slice(0, space);
  let content = '';
  let client: Peer | undefined;
  let reply = { code: undefined as number | undefined, dsn: undefined as string | undefined, reason: tail.text };
  if (head.startsWith(' from ', space)) {
    // smtpd and milter: STAGE from PEER: REPLY
    const peerEnd = head.indexOf(': ', space + 6);
    if (peerEnd < 0) return undefined;
    client = parsePeer(head.slice(space + 6, peerEnd));
    reply = parseReply(head.slice(peerEnd + 2));
    if (tail.text !== '') reply.reason = `${reply.reason}: ${tail.text}`;
  } else {
    // cleanup: CLASS CONTENT from PEER
    const from = head.lastIndexOf(' from ');
    if (from > space) {
      client = parsePeer(head.slice(from + 6));
      content = head.slice(space + 1, from);
    } else {
      content = head.slice(space + 1);
    }
    if (tail.text !== '') reply = parseReply(tail.text);
  }
  return makeRecord<RejectRecord>(b, {
    kind: 'reject',
    queueId: b.queueId,
    action,
    stage,
    content,
    client,
    code: reply.code,
    dsn: reply.dsn,
    reason: reply.reason,
    from: tail.from,
    to: tail.to,
    proto: tail.proto,
    helo: tail.helo,
  });
}
