// The delivery line every agent writes through log_adhoc.c (smtp, lmtp, local, virtual, pipe,
// discard, error, and qmgr itself):
//   QID: to=<ADDR>[, orig_to=<ADDR>], relay=R[, conn_use=N], delay=T, delays=A/B/C/D[, tls=F], dsn=X.Y.Z, status=WORD (TEXT)
// Read as `key=value, ` pairs up to status=, keeping keys we do not know (Postfix 3.11 added
// tls=), because a fixed regex breaks on every new field. TEXT runs to the end of the line and
// may hold anything, parentheses and ", key=" look-alikes included.
import { scanAddress, secondsIn } from '../fields.js';
import { makeRecord } from '../make-record.js';
import type { Delays, DeliveryRecord, DeliveryStatus, MessageStatusRecord, RecordBase } from '../records.js';

const STATUS = new Set<string>(['sent', 'deferred', 'bounced', 'expired', 'SOFTBOUNCE', 'deliverable', 'undeliverable']);

/** `A/B/C/D`, the whole of s[start, end). */
function parseDelays(s: string, start: number, end: number): Delays | undefined {
  const p1 = s.indexOf('/', start);
  const p2 = s.indexOf('/', p1 + 1);
  const p3 = s.indexOf('/', p2 + 1);
  if (p1 < 0 || p2 < 0 || p3 < 0 || p3 >= end) return undefined;
  const a = secondsIn(s, start, p1);
  const b = secondsIn(s, p1 + 1, p2);
  const c = secondsIn(s, p2 + 1, p3);
  const d = secondsIn(s, p3 + 1, end);
  if (a < 0 || b < 0 || c < 0 || d < 0) return undefined;
  return { beforeQmgr: a, inQmgr: b, connSetup: c, transmission: d };
}

/** `status=WORD (TEXT)` at i: the status and the text (a cut-off closing parenthesis is forgiven). */
function parseStatus(t: string, i: number): { status: DeliveryStatus; reply: string } | undefined {
  let end = t.indexOf(' ', i);
  if (end < 0) end = t.length;
  const word = t.slice(i, end);
  if (!STATUS.has(word)) return undefined;
  let reply = '';
  if (end < t.length) {
    if (t.charCodeAt(end + 1) !== 0x28 /* ( */) return undefined;
    reply = t.slice(end + 2, t.charCodeAt(t.length - 1) === 0x29 ? t.length - 1 : t.length);
  }
  return { status: word as DeliveryStatus, reply };
}

/** Whether t[k, eq) is `name`. */
function keyIs(t: string, k: number, eq: number, name: string): boolean {
  return eq - k === name.length && t.startsWith(name, k);
}

const QUEUED_AS = /(?:queued|forwarded) as ([0-9A-Za-z]+)/;

/** `QID: to=<...>, ...` from any program, or undefined. */
export function parseDelivery(b: RecordBase): DeliveryRecord | undefined {
  const t = b.text;
  if (b.queueId === undefined || !t.startsWith('to=<')) return undefined;
  const to = scanAddress(t, 3);
  if (!to) return undefined;
  let origTo: string | undefined;
  let relay: string | undefined;
  let connUse: number | undefined;
  let delay: number | undefined;
  let delays: Delays | undefined;
  let dsn = '';
  let extra: Record<string, string> | undefined;
  let i = to.end;
  for (;;) {
    if (t.charCodeAt(i) !== 0x2c || t.charCodeAt(i + 1) !== 0x20) return undefined; // ", "
    const k = i + 2;
    const eq = t.indexOf('=', k);
    if (eq < 0) return undefined;
    if (eq - k === 6 && t.startsWith('status', k)) {
      i = eq + 1;
      break;
    }
    // An address value may hold ", "; any other value runs to the next ", ".
    if (t.charCodeAt(eq + 1) === 0x3c /* < */) {
      const a = scanAddress(t, eq + 1);
      if (!a || !t.startsWith('orig_to=', k)) return undefined;
      origTo = a.value;
      i = a.end;
      continue;
    }
    i = t.indexOf(', ', eq + 1);
    if (i < 0) return undefined;
    // Keys are compared in place and only kept values sliced: this runs for every delivery.
    if (keyIs(t, k, eq, 'relay')) {
      relay = t.slice(eq + 1, i);
    } else if (keyIs(t, k, eq, 'delay')) {
      delay = secondsIn(t, eq + 1, i);
      if (delay < 0) return undefined;
    } else if (keyIs(t, k, eq, 'delays')) {
      delays = parseDelays(t, eq + 1, i);
      if (!delays) return undefined;
    } else if (keyIs(t, k, eq, 'dsn')) {
      dsn = t.slice(eq + 1, i);
    } else if (keyIs(t, k, eq, 'conn_use')) {
      connUse = secondsIn(t, eq + 1, i);
      if (!Number.isInteger(connUse) || connUse < 1) return undefined;
    } else {
      // A field this parser does not name (Postfix 3.11 tls=): kept as written.
      const key = t.slice(k, eq);
      if (!/^[a-z][a-z_]*$/.test(key)) return undefined; // never __proto__
      (extra ??= {})[key] = t.slice(eq + 1, i);
    }
  }
  if (relay === undefined || delay === undefined) return undefined;
  const st = parseStatus(t, i);
  if (!st) return undefined;
  const queued = st.reply.includes(' as ') ? QUEUED_AS.exec(st.reply) : null;
  return makeRecord<DeliveryRecord>(b, {
    kind: 'delivery',
    queueId: b.queueId,
    to: to.value,
    origTo,
    relay,
    connUse,
    delay,
    delays,
    dsn,
    status: st.status,
    reply: st.reply,
    queuedAs: queued ? queued[1] : undefined,
    extra,
  });
}

/** `QID: status=deferred (bounce failed)`: a status with no recipient. */
export function parseMessageStatus(b: RecordBase): MessageStatusRecord | undefined {
  if (b.queueId === undefined || !b.text.startsWith('status=')) return undefined;
  const st = parseStatus(b.text, 7);
  if (!st) return undefined;
  return makeRecord<MessageStatusRecord>(b, { kind: 'message-status', queueId: b.queueId, status: st.status, reply: st.reply });
}
