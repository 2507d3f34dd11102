// Every fixture log against counts taken by reading it: the README's reference table (set 2,
// counted with grep there) and, for set 1, counted here with grep patterns given per number.
// None of these numbers came from running the parser.
import { describe, expect, it } from 'vitest';
import type { DeliveryStatus, RecordKind } from '../src/maillog/index.js';
import { ofKind, parseFixture } from './maillog-helpers.js';

interface Expected {
  lines: number;
  /** Records per kind; kinds not named must be 0. */
  kinds: Partial<Record<RecordKind, number>>;
  /** Delivery lines (to=) per status; statuses not named must be 0. */
  status: Partial<Record<DeliveryStatus, number>>;
  /** Distinct queue ids among qmgr from=,size= lines. */
  activeIds?: number;
  connUse?: number;
  origTo?: number;
}

// grep patterns used: connect = "]: connect from ", disconnect = "]: disconnect from ", client =
// ": client=", message-id = ": message-id=", active = "(queue active)$", removed = "qmgr[..]: QID:
// removed$" plus "postsuper[..]: QID: removed$", status = ": to=<.*, status=WORD ".
const EXPECTED: Record<string, Expected> = {
  // 10 sessions x 10 messages to the discard transport.
  'discard.log': {
    lines: 520,
    kinds: { connect: 10, disconnect: 10, client: 100, 'message-id': 100, active: 100, delivery: 100, removed: 100 },
    status: { sent: 100 },
  },
  // README table: 330 lines, 60 client=, 60 message-id=, 60 (60) from=, 60 sent, 60 removed, 25 conn_use=.
  'dovecot-lmtp.log': {
    lines: 330,
    kinds: { connect: 15, disconnect: 15, client: 60, 'message-id': 60, active: 60, delivery: 60, removed: 60 },
    status: { sent: 60 },
    activeIds: 60,
    connUse: 25,
  },
  // 50 messages with 3 recipients each: 150 lmtp to= lines, 132 of them on a reused connection.
  'lmtp-multircpt.log': {
    lines: 360,
    kinds: { connect: 5, disconnect: 5, client: 50, 'message-id': 50, active: 50, delivery: 150, removed: 50 },
    status: { sent: 150 },
    connUse: 132,
  },
  // README table: 320 lines, 60 of everything, no conn_use (local delivery).
  'local-maildir.log': {
    lines: 320,
    kinds: { connect: 10, disconnect: 10, client: 60, 'message-id': 60, active: 60, delivery: 60, removed: 60 },
    status: { sent: 60 },
    activeIds: 60,
    connUse: 0,
  },
  // README table: 270 lines, 50 client=, 50 sent, 50 removed, 28 conn_use=.
  'relay-backlog.log': {
    lines: 270,
    kinds: { connect: 10, disconnect: 10, client: 50, 'message-id': 50, active: 50, delivery: 50, removed: 50 },
    status: { sent: 50 },
    activeIds: 50,
    connUse: 28,
  },
  // 20 messages bounced by the sink, each bounce notice (20 more message-ids, 20 more from=<>)
  // bounced again: 40 bounced to= lines, 20 "sender non-delivery notification" lines.
  'relay-bounced.log': {
    lines: 210,
    kinds: {
      connect: 5, disconnect: 5, client: 20, 'message-id': 40, active: 40, delivery: 40, notification: 20, removed: 40,
    },
    status: { bounced: 40 },
    activeIds: 40,
  },
  // 20 messages: 5 deferred by smtp (connection refused), 15 by postfix/error ("delivery
  // temporarily suspended"), all 20 sent after the flush; 40 from= lines for 20 ids; 5
  // "connect to ...: Connection refused" lines without a queue id.
  'relay-deferred-then-sent.log': {
    lines: 155,
    kinds: { connect: 5, disconnect: 5, client: 20, 'message-id': 20, active: 40, delivery: 40, removed: 20, other: 5 },
    status: { sent: 20, deferred: 20 },
    activeIds: 20,
    connUse: 13,
  },
  // README table: 160 lines, 14 client=, 20 message-id=, 31 (20) from=, 9 sent, 14 deferred, 8
  // bounced, 2 expired, 20 removed (19 qmgr + 1 postsuper), 6 notices. Also: 2 postsuper
  // per-message lines (hold, release), 3 postsuper totals, 2 refreshing + 2 reload, and 13
  // others (7 scache statistics, 6 "connect to ... refused").
  'relay-faults.log': {
    lines: 160,
    kinds: {
      connect: 7, disconnect: 7, client: 14, 'message-id': 20, active: 31, delivery: 31, expired: 2, removed: 20,
      notification: 6, postsuper: 2, 'postsuper-summary': 3, lifecycle: 4, other: 13,
    },
    status: { sent: 9, deferred: 14, bounced: 8 },
    activeIds: 20,
    connUse: 0,
  },
  // 200 messages in 10 sessions to the relay sink; 189 deliveries on a reused connection.
  'relay-sent.log': {
    lines: 1020,
    kinds: { connect: 10, disconnect: 10, client: 200, 'message-id': 200, active: 200, delivery: 200, removed: 200 },
    status: { sent: 200 },
    activeIds: 200,
    connUse: 189,
  },
  'relay-sent.iso8601.log': {
    lines: 1020,
    kinds: { connect: 10, disconnect: 10, client: 200, 'message-id': 200, active: 200, delivery: 200, removed: 200 },
    status: { sent: 200 },
    activeIds: 200,
    connUse: 189,
  },
  // README table: 65 lines, 4 client=, 5 message-id=, 7 (5) from=, 14 sent, 4 deferred, 1
  // bounced, 5 removed, 1 notice, 2 QID rejects. Also 3 connects; 8 lifecycle lines (2
  // starting, 1 startup failed, 1 daemon started, 2 refreshing, 2 reload); 8 others (2
  // postfix-script warnings and 1 master fatal, 4 scache statistics, 1 lmtp connect refused).
  'setup-first-tries.log': {
    lines: 65,
    kinds: {
      connect: 3, disconnect: 3, client: 4, reject: 2, 'message-id': 5, active: 7, delivery: 19, notification: 1,
      removed: 5, lifecycle: 8, other: 8,
    },
    status: { sent: 14, deferred: 4, bounced: 1 },
    activeIds: 5,
    connUse: 0,
  },
  // README table: 94 lines, 12 client= (one via the submission smtpd), 1 pickup, 14
  // message-id=, 14 (14) from=, 25 sent, 1 deferred, 2 bounced, 13 removed, 1 notice, 4
  // conn_use=, 5 orig_to=. Rejects: 1 NOQUEUE and 1 QID (the table's "QID reject 2" is wrong:
  // grep -c finds one). Also 4 connects (one via submission) and 1 postsuper total.
  'transports-mixed.log': {
    lines: 94,
    kinds: {
      connect: 4, disconnect: 4, client: 12, pickup: 1, reject: 2, 'message-id': 14, active: 14, delivery: 28,
      notification: 1, removed: 13, 'postsuper-summary': 1,
    },
    status: { sent: 25, deferred: 1, bounced: 2 },
    activeIds: 14,
    connUse: 4,
    origTo: 5,
  },
  // Dovecot's own logs: no host field, tags like lmtp(6459) or lmtp(user)<pid><session/id>.
  'dovecot-lmtp.dovecot.log': { lines: 130, kinds: { foreign: 130 }, status: {} },
  'setup-first-tries.dovecot.log': { lines: 26, kinds: { foreign: 26 }, status: {} },
};

describe('maillog fixtures: counts read from the logs', () => {
  for (const [name, want] of Object.entries(EXPECTED)) {
    it(name, () => {
      const { records, counters, unparsed } = parseFixture(name);
      expect(unparsed).toEqual([]);
      expect(counters.lines).toBe(want.lines);
      expect(counters.garbled).toBe(0);
      expect(counters.blank).toBe(0);
      expect(counters.cut).toBe(0);
      const kinds = Object.fromEntries(Object.entries(counters.kinds).filter(([, n]) => n > 0));
      expect(kinds).toEqual(want.kinds);
      // Every line is a record of some kind.
      expect(records.length).toBe(want.lines);
      const deliveries = ofKind(records, 'delivery');
      const status: Record<string, number> = {};
      for (const d of deliveries) status[d.status] = (status[d.status] ?? 0) + 1;
      expect(status).toEqual(want.status);
      if (want.activeIds !== undefined) {
        expect(new Set(ofKind(records, 'active').map((r) => r.queueId)).size).toBe(want.activeIds);
      }
      if (want.connUse !== undefined) expect(deliveries.filter((d) => d.connUse !== undefined).length).toBe(want.connUse);
      if (want.origTo !== undefined) expect(deliveries.filter((d) => d.origTo !== undefined).length).toBe(want.origTo);
      // Lines carry their 1-based position, in order.
      expect(records.map((r) => r.line)).toEqual(Array.from({ length: want.lines }, (_, i) => i + 1));
    });
  }
});

describe('maillog fixtures: the life of messages', () => {
  it('relay-faults: removed comes from 19 qmgr lines and 1 postsuper line', () => {
    const removed = ofKind(parseFixture('relay-faults.log').records, 'removed');
    expect(removed.filter((r) => r.program === 'qmgr').length).toBe(19);
    expect(removed.filter((r) => r.program === 'postsuper').map((r) => r.queueId)).toEqual(['4jYx004gpgzJ9Dp']);
  });

  it('relay-faults: a deferred message comes back to the active queue and is sent with delays a = time deferred', () => {
    const { records } = parseFixture('relay-faults.log');
    const id = '4jYwzM1VLMzJ9Kw';
    const life = records.filter((r) => r.queueId === id).map((r) => (r.kind === 'delivery' ? `${r.kind}:${r.status}` : r.kind));
    expect(life).toEqual(['client', 'message-id', 'active', 'delivery:deferred', 'active', 'delivery:sent', 'removed']);
    const sent = ofKind(records, 'delivery').find((d) => d.queueId === id && d.status === 'sent');
    expect(sent?.delays).toEqual({ beforeQmgr: 10, inQmgr: 0, connSetup: 0, transmission: 0 });
  });

  it('transports-mixed: the 15-recipient message has one to= line per transport and no removed', () => {
    const { records } = parseFixture('transports-mixed.log');
    const id = '4jYwyY3RRjzJ9Kx';
    const programs = ofKind(records, 'delivery').filter((d) => d.queueId === id).map((d) => d.tag);
    expect(programs.sort()).toEqual(
      [
        'postfix-out/smtp', 'postfix/discard', 'postfix/error', 'postfix/error', 'postfix/lmtp', 'postfix/lmtp',
        'postfix/lmtp', 'postfix/local', 'postfix/local', 'postfix/pipe', 'postfix/pipe', 'postfix/relay/smtp',
        'postfix/smtp', 'postfix/virtual', 'postfix/virtual',
      ].sort(),
    );
    // The retry recipient stays deferred, so the message never leaves the queue (postsuper -d ALL).
    expect(ofKind(records, 'removed').some((r) => r.queueId === id)).toBe(false);
    expect(ofKind(records, 'notification')[0]).toMatchObject({ queueId: id, notificationId: '4jYwyY3s8LzJ9fJ' });
  });

  it('relay-bounced: every notice is a new message that is born, bounced and removed', () => {
    const { records } = parseFixture('relay-bounced.log');
    const notices = ofKind(records, 'notification');
    expect(notices.length).toBe(20);
    for (const n of notices) {
      const kinds = records.filter((r) => r.queueId === n.notificationId).map((r) => r.kind);
      expect(kinds.sort()).toEqual(['active', 'delivery', 'message-id', 'removed']);
      const active = ofKind(records, 'active').find((r) => r.queueId === n.notificationId);
      expect(active?.from).toBe('');
    }
  });

  it('local-maildir: smtpd pids serve several sessions in turn', () => {
    const { records } = parseFixture('local-maildir.log');
    const connects = ofKind(records, 'connect');
    const pids = new Set(connects.map((c) => c.pid));
    expect(pids.size).toBeLessThan(connects.length);
    // Per pid, connect and disconnect alternate.
    for (const pid of pids) {
      const seq = records.filter((r) => r.pid === pid && (r.kind === 'connect' || r.kind === 'disconnect')).map((r) => r.kind);
      seq.forEach((k, i) => expect(k).toBe(i % 2 === 0 ? 'connect' : 'disconnect'));
    }
  });
});
