// End to end: the classic after-queue content filter loop, without a filter program. The
// private Postfix's main.cf says `content_filter = smtp:[127.0.0.1]:REINJECT`, and master.cf
// has a second smtpd on 127.0.0.1:REINJECT with `-o content_filter=` (and the usual
// reinjection overrides). So each message smtp-source injects is queued as Q1, handed by the
// smtp client to the reinjection smtpd ("250 2.0.0 Ok: queued as Q2"), and Q2 is delivered by
// discard:benchmark (default_transport). The report must follow each message through both
// hops to its final delivery.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSource } from '../../smtp-source/src/index.js';
import { postfixAvailable, QUICK_RELAY_SETTINGS, privateDir, startPrivatePostfix, type LoggedMessage, type PrivatePostfix } from '@smtpstone/testbed';
import { correlate, readJournal, whenDone } from '../src/correlate/index.js';
import { readMaillog } from '../src/maillog/index.js';
import { allRecords, journalQueueIds, linesOf, logged, SHOW_LOG } from './e2e-helpers.js';
import { expectSameTally, sourceTally } from '../../smtp-source/test/helpers.js';
import { postfixHandedOn, postfixTally } from '../../smtp-source/test/postfix-tally.js';

const available = postfixAvailable();
if (!available) console.warn('e2e-content-filter: skipped: postfix/postconf, /usr/share/postfix/master.cf.dist or root is missing');

const MESSAGES = 20;

/** `250 2.0.0 Ok: queued as Q2` in a delivery line's parenthesis: Q2. */
function queuedAs(detail: string): string | undefined {
  return /\bqueued as ([0-9A-Za-z]+)\)?$/.exec(detail)?.[1];
}

describe.skipIf(!available)('e2e: a message handed to a content filter (reinjection smtpd) is followed to its final delivery', () => {
  let pf: PrivatePostfix | undefined;
  let tmp: string | undefined;

  beforeAll(async () => {
    tmp = privateDir('e2e-filter-');
    pf = await startPrivatePostfix({
      main: {
        // Bounded waits in the hand-off (Postfix's defaults are minutes).
        ...QUICK_RELAY_SETTINGS,
      },
      listeners: {
        // The reinjection smtpd: no filter again (else a loop), no checks the first pass made.
        reinject: {
          content_filter: '',
          receive_override_options: 'no_unknown_recipient_checks,no_header_body_checks,no_milters',
          smtpd_helo_restrictions: '',
          smtpd_client_restrictions: '',
          smtpd_sender_restrictions: '',
          smtpd_relay_restrictions: '',
          smtpd_recipient_restrictions: 'permit_mynetworks,reject',
          mynetworks: '127.0.0.0/8',
          smtpd_authorized_xforward_hosts: '127.0.0.0/8',
        },
      },
      // Every message accepted by the plain smtpd goes to the reinjection smtpd first.
      mainWithPorts: ({ ports }) => ({ content_filter: `smtp:[127.0.0.1]:${ports.reinject}` }),
    });
  });

  afterAll(async () => {
    try {
      await pf?.stop();
    } finally {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    }
  });

  it(`-m ${MESSAGES} -s 2: every message has two hops (Q1 -> reinjection smtpd -> Q2 -> discard) and is delivered at the last one`, async () => {
    const started = Date.now();
    const before = pf!.records().length;
    const reinjectPort = pf!.ports.reinject;
    const filterRelay = `127.0.0.1[127.0.0.1]:${reinjectPort}`;
    const journalPath = join(tmp!, 'run.jsonl');
    const result = await runSource(
      { target: `127.0.0.1:${pf!.port}`, myHostname: 'client.example', sender: 'sender@example.com', recipient: 'rcpt@example.net', sessions: 2, messages: MESSAGES, timeoutSeconds: 10, writeLog: () => undefined },
      { journalPath },
    );
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(MESSAGES);
    const journal = await readJournal(journalPath);
    const q1s = journalQueueIds(journal);
    expect(q1s).toHaveLength(MESSAGES);

    // The log, read by the test itself: each Q1 sent to the reinjection smtpd, which queued it
    // as Q2; each Q2 delivered by discard and removed.
    const secondHop = (byId: Map<string, LoggedMessage>, q1: string): LoggedMessage | undefined => {
      const d = byId.get(q1)?.deliveries.find((x) => x.status === 'sent');
      const q2 = d && queuedAs(d.detail);
      return q2 !== undefined ? byId.get(q2) : undefined;
    };
    await pf!.waitForLog(
      'both hops of every message delivered and removed',
      () => {
        const byId = logged(pf!);
        return q1s.every((q1) => byId.get(q1)?.removed === true && secondHop(byId, q1)?.removed === true);
      },
      20_000,
    );
    const byId = logged(pf!);
    const q2Of = new Map<string, string>();
    for (const q1 of q1s) {
      const first = byId.get(q1)!;
      expect(first.client).toBe('localhost[127.0.0.1]');
      expect(first.deliveries).toHaveLength(1);
      expect(first.deliveries[0]).toMatchObject({ program: 'smtp', relay: filterRelay, status: 'sent', dsn: '2.0.0' });
      const second = secondHop(byId, q1)!;
      expect(second.queueId).not.toBe(q1);
      expect(second.client).toBe('localhost[127.0.0.1]');
      expect(second.messageId).toBe(first.messageId);
      expect(second.deliveries).toEqual([expect.objectContaining({ program: 'discard', relay: 'none', status: 'sent', to: 'rcpt@example.net' })]);
      q2Of.set(q1, second.queueId);
    }
    // The second smtpd logs under its own syslog_name.
    const q2Set = new Set(q2Of.values());
    expect(pf!.records().filter((r) => r.queueId !== undefined && q2Set.has(r.queueId) && r.program === 'smtpd').every((r) => r.tag === 'postfix/reinject/smtpd')).toBe(true);
    if (SHOW_LOG) {
      const [q1] = q1s;
      console.log(`hand-off of one message (${Date.now() - started} ms in):\n${linesOf(pf!, [q1, q2Of.get(q1)!]).join('\n')}`);
    }

    // The reporter's reading: when each hop's delivery was logged. Postfix often logs Q2's whole
    // life (client=, message-id=, queue active, discard's sent, removed) BEFORE Q1's "sent
    // (... queued as Q2)" line: the reinjection smtpd answers 250 once Q2 is safe, and qmgr and
    // discard may be quicker than the smtp client is to log. So in log order the last hop can
    // come first, and with whole-second stamps its time may even be a second earlier.
    const records = await allRecords(pf!.maillog);
    const firstHopSent = new Map<string, { time: number; index: number }>();
    const lastHopSent = new Map<string, { time: number; index: number }>();
    const q1Of = new Map([...q2Of].map(([q1, q2]) => [q2, q1]));
    records.forEach((r, index) => {
      if (r.kind !== 'delivery' || r.status !== 'sent') return;
      if (q2Of.has(r.queueId!)) firstHopSent.set(r.queueId!, { time: r.time, index });
      else if (q1Of.has(r.queueId!)) lastHopSent.set(q1Of.get(r.queueId!)!, { time: r.time, index });
    });
    expect(firstHopSent.size).toBe(MESSAGES);
    expect(lastHopSent.size).toBe(MESSAGES);
    if (SHOW_LOG) {
      const early = q1s.filter((q1) => lastHopSent.get(q1)!.index < firstHopSent.get(q1)!.index);
      const earlierSecond = q1s.filter((q1) => lastHopSent.get(q1)!.time < firstHopSent.get(q1)!.time);
      console.log(`Q2 delivered before Q1's "queued as" line in the log: ${early.length} of ${MESSAGES}; in an earlier second: ${earlierSecond.length}`);
      if (early.length > 0) console.log(linesOf(pf!, [early[0], q2Of.get(early[0])!]).join('\n'));
    }

    const { messages, summary } = await correlate(journal, readMaillog(pf!.maillog));
    expect(summary).toMatchObject({ journalEntries: MESSAGES, injected: MESSAGES, found: MESSAGES, lost: 0, bounced: 0, deferred: 0, pending: 0 });
    for (const m of messages) {
      const q1 = m.journalQueueId!;
      expect(m.queueId).toBe(q1);
      // The queue ids in order: the one smtpd gave at injection, then the reinjection's.
      expect(m.hops).toEqual([q1, q2Of.get(q1)]);
      expect(m.fate).toBe('delivered');
      expect(m.recipients).toHaveLength(1);
      const final = m.recipients[0].final!;
      // The last hop's delivery, not the hand-off to the filter.
      expect(final.relay).not.toBe(filterRelay);
      expect(final).toMatchObject({ program: 'discard', relay: 'none', status: 'sent' });
      // Measured to the last hop's delivery line (its second, refined by the long queue id + delay=)...
      expect(m.latencyMs).toBe(Math.max(0, whenDone(final).time - m.injectedAt));
      expect(whenDone(final).time).toBeGreaterThanOrEqual(lastHopSent.get(q1)!.time);
      expect(whenDone(final).time).toBeLessThan(lastHopSent.get(q1)!.time + 1000);
      // ...so no shorter than to the hand-off, but for the whole-second stamps (see above).
      const slack = m.latencyPrecision === 's' ? 1000 : 0;
      expect(m.latencyMs!).toBeGreaterThanOrEqual(firstHopSent.get(q1)!.time - m.injectedAt - slack);
      expect(m.latencyMs!).toBeLessThanOrEqual(Date.now() - started + 1000);
    }
    expect(summary.delivered).toBe(MESSAGES);
    expect(summary.latencyMs?.count).toBe(MESSAGES);

    // Issue 7's accounting, hop by hop. smtp-source (HELO) against the first smtpd's Q1s:
    expectSameTally(sourceTally(result), await postfixTally(pf!, before, MESSAGES, { proto: 'SMTP', smtpd: 'postfix/smtpd' }));
    // Q1s the smtp client handed to the reinjection smtpd (bytes: their size=, as relayed)
    // against the Q2s that smtpd queued (EHLO from the smtp client, greeting as myhostname).
    const handedOn = postfixHandedOn(pf!.records(), { from: before });
    expect(handedOn.messages).toBe(MESSAGES);
    expectSameTally(handedOn, await postfixTally(pf!, before, MESSAGES, { proto: 'ESMTP', client: 'mx.example.test', smtpd: 'postfix/reinject/smtpd' }));
  }, 40_000);
});
