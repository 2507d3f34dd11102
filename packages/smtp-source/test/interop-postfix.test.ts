// Our smtp-source against a real Postfix smtpd: a private instance on loopback (see
// @smtpstone/testbed) that queues what it accepts and delivers it with discard:benchmark. What we
// check is what a benchmark's reporter relies on: every "250 ... queued as ID" reply gives a
// journal line with that queue id, and the maillog tells the same story for that id (our
// Message-Id in cleanup's line, the recipients in qmgr's and discard's). Plus Postfix's
// rejections as counted with and without -A, and --pipelining on the wire.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSource, type JournalEntry, type SourceOptionsInput, type SourceResult } from '../src/index.js';
import {
  LONG_QUEUE_ID,
  type MaillogRecord,
  messagesByQueueId,
  postfixAvailable,
  privateDir,
  startPrivatePostfix,
  wireRecorder,
  type LoggedMessage,
  type PrivatePostfix,
} from '@smtpstone/testbed';
import { postfixTally } from './postfix-tally.js';
import { expectSameTally, sourceTally, type Tally } from './helpers.js';

const available = postfixAvailable();

/** Fixed names, so nothing depends on this machine's hostname. */
const CLIENT = 'client.example';
const SENDER = 'sender@example.com';
const RCPT = 'rcpt@example.net';

describe.skipIf(!available)('smtp-source against a real Postfix smtpd', () => {
  let pf: PrivatePostfix;
  let tmp: string;
  let runs = 0;

  beforeAll(async () => {
    tmp = privateDir('src-journal-');
    pf = await startPrivatePostfix({
      main: {
        // 554 5.7.1 for a whole domain, and for one address of another domain only.
        smtpd_recipient_restrictions: 'check_recipient_access inline:{ reject.example=REJECT, 2rcpt@partial.example=REJECT }',
      },
      listeners: {
        // An smtpd that does not offer PIPELINING to EHLO.
        nopipe: { smtpd_discard_ehlo_keywords: 'pipelining' },
      },
    });
  });

  afterAll(async () => {
    await pf?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** One run with a journal; warnings are collected, not printed. */
  async function send(options: Partial<SourceOptionsInput>): Promise<{ result: SourceResult; journal: JournalEntry[]; warnings: string[] }> {
    const journalPath = join(tmp, `run-${++runs}.jsonl`);
    const warnings: string[] = [];
    const result = await runSource(
      {
        target: `127.0.0.1:${pf.port}`,
        myHostname: CLIENT,
        sender: SENDER,
        recipient: RCPT,
        timeoutSeconds: 10,
        writeLog: (l) => warnings.push(l),
        ...options,
      },
      { journalPath },
    );
    const text = readFileSync(journalPath, 'utf8');
    const journal = text === '' ? [] : text.trimEnd().split('\n').map((l) => JSON.parse(l) as JournalEntry);
    return { result, journal, warnings };
  }

  /** Postfix's side of the tally (postfix-tally.ts): SMTP after HELO, ESMTP after EHLO (pipelining). */
  const tally = (before: number, expected: number, how: { ehlo?: boolean; oldMode?: boolean } = {}): Promise<Tally> =>
    postfixTally(pf, before, expected, { proto: how.ehlo ? 'ESMTP' : 'SMTP', client: CLIENT, oldMode: how.oldMode });

  /**
   * Every journal line accepted with Postfix's "queued as" reply and a long queue id, the ids
   * distinct, and the maillog (within 15 s) showing for each id our Message-Id, the qmgr line
   * with the right recipient count and one discard delivery per recipient.
   */
  async function expectQueuedAndDelivered(journal: JournalEntry[], m: number): Promise<Map<string, LoggedMessage>> {
    expect(journal).toHaveLength(m);
    expect(new Set(journal.map((e) => e.seq))).toEqual(new Set(Array.from({ length: m }, (_, i) => i + 1)));
    for (const e of journal) {
      expect(e.status).toBe('accepted');
      expect(e.code).toBe(250);
      expect(e.queueId).toMatch(LONG_QUEUE_ID);
      expect(e.reply).toBe(`2.0.0 Ok: queued as ${e.queueId}`);
      expect(e.messageId).toBe(`<${e.trackingId!.split('.')[0]}.${e.seq}@${CLIENT}>`);
      expect(e.lmtp).toBeUndefined();
    }
    const ids = journal.map((e) => e.queueId!);
    expect(new Set(ids).size).toBe(m);

    const done = (byId: Map<string, LoggedMessage>, e: JournalEntry): boolean => {
      const lm = byId.get(e.queueId!);
      return lm !== undefined && lm.messageId !== undefined && lm.nrcpt !== undefined && lm.deliveries.length >= e.recipients.length && lm.removed;
    };
    const records = await pf.waitForLog(`the life of ${m} queue ids in the maillog`, (rs) => {
      const byId = messagesByQueueId(rs);
      return journal.every((e) => done(byId, e));
    });
    const byId = messagesByQueueId(records);
    for (const e of journal) {
      const lm = byId.get(e.queueId!)!;
      expect(lm.client).toBe('localhost[127.0.0.1]');
      expect(lm.messageId).toBe(e.messageId);
      expect(lm.from).toBe(SENDER);
      expect(lm.nrcpt).toBe(e.recipients.length);
      expect(lm.deliveries.map((d) => d.to).sort()).toEqual([...e.recipients].sort());
      for (const d of lm.deliveries) expect(d).toMatchObject({ program: 'discard', relay: 'none', dsn: '2.0.0', status: 'sent', detail: 'benchmark' });
    }
    return byId;
  }

  it('-s 4 -m 50: every message queued; each journal queue id has our Message-Id and a discard delivery in the maillog', async () => {
    const before = pf.records().length;
    const { result, journal, warnings } = await send({ sessions: 4, messages: 50 });
    expect(result.fatal).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(result.messages).toEqual({ started: 50, sent: 50, accepted: 50, rejected: 0, failed: 0 });
    expect(result.recipients).toEqual({ sent: 50, accepted: 50, rejected: 0 });
    expect(result.connections).toEqual({ opened: 50, failed: 0 });
    expect(result.rejects).toEqual({});
    expect(journal.every((e) => e.recipients.length === 1 && e.recipients[0] === RCPT)).toBe(true);
    expect(new Set(journal.map((e) => e.session))).toEqual(new Set([1, 2, 3, 4]));
    await expectQueuedAndDelivered(journal, 50);
    expectSameTally(sourceTally(result), await tally(before, 50));
  });

  it('-r 3: three recipients per message, nrcpt=3 in the qmgr line, three discard deliveries', async () => {
    const before = pf.records().length;
    const { result, journal } = await send({ sessions: 2, messages: 10, recipients: 3 });
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(10);
    expect(result.recipients).toEqual({ sent: 30, accepted: 30, rejected: 0 });
    for (const e of journal) expect(e.recipients).toEqual([`3${RCPT}`, `2${RCPT}`, RCPT]);
    const byId = await expectQueuedAndDelivered(journal, 10);
    for (const e of journal) expect(byId.get(e.queueId!)!.nrcpt).toBe(3);
    expectSameTally(sourceTally(result), await tally(before, 10));
  });

  it('--pipelining: EHLO, then MAIL, RCPTs and DATA in one write; all queued and delivered', async () => {
    const before = pf.records().length;
    const wire = await wireRecorder(pf.port);
    try {
      const { result, journal } = await send({ target: `127.0.0.1:${wire.port}`, sessions: 4, messages: 50, recipients: 2, pipelining: true });
      expect(result.fatal).toBeUndefined();
      expect(result.messages).toEqual({ started: 50, sent: 50, accepted: 50, rejected: 0, failed: 0 });
      expect(result.recipients).toEqual({ sent: 100, accepted: 100, rejected: 0 });
      await expectQueuedAndDelivered(journal, 50);
      // On the wire: each connection's batches were single writes of the whole envelope.
      expect(wire.chunks).toHaveLength(50);
      const batch = new RegExp(`^MAIL FROM:<${SENDER}>\\r\\nRCPT TO:<2${RCPT}>\\r\\nRCPT TO:<${RCPT}>\\r\\nDATA\\r\\n$`);
      for (const conn of wire.chunks) {
        expect(conn[0]).toBe(`EHLO ${CLIENT}\r\n`);
        expect(conn.filter((c) => batch.test(c))).toHaveLength(1);
      }
      expectSameTally(sourceTally(result), await tally(before, 50, { ehlo: true }));
    } finally {
      await wire.close();
    }
    expect(pf.log()).not.toContain('improper command pipelining');
    // smtpd counted 50 EHLO sessions of one transaction each.
    await pf.waitForLog('50 EHLO sessions', (rs) => rs.filter((r) => r.tag === 'postfix/smtpd' && r.text.endsWith(' ehlo=1 mail=1 rcpt=2 data=1 quit=1 commands=6')).length === 50);
  });

  it('--pipelining -d: several pipelined transactions per connection', async () => {
    const before = pf.records().length;
    const { result, journal } = await send({ sessions: 2, messages: 20, pipelining: true, reuseConnection: true });
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(20);
    expect(result.connections.opened).toBe(2);
    await expectQueuedAndDelivered(journal, 20);
    // Two EHLO sessions of several transactions each, 20 in all.
    const reused = (rs: MaillogRecord[]): number[] =>
      rs
        .slice(before)
        .filter((r) => r.tag === 'postfix/smtpd')
        .map((r) => Number(/^disconnect from \S+ ehlo=1 mail=(\d+) rcpt=\1 data=\1 quit=1 commands=\d+$/.exec(r.text)?.[1] ?? 0))
        .filter((n) => n > 1);
    const records = await pf.waitForLog('two disconnects', (rs) => reused(rs).length === 2);
    expect(reused(records).reduce((a, b) => a + b, 0)).toBe(20);
    expect(pf.log()).not.toContain('improper command pipelining');
    expectSameTally(sourceTally(result), await tally(before, 20, { ehlo: true }));
  });

  it('--pipelining against an smtpd that does not offer PIPELINING: lock-step, one command per write', async () => {
    const before = pf.records().length;
    const wire = await wireRecorder(pf.ports.nopipe);
    try {
      const { result, journal } = await send({ target: `127.0.0.1:${wire.port}`, sessions: 2, messages: 10, recipients: 2, pipelining: true });
      expect(result.fatal).toBeUndefined();
      expect(result.messages.accepted).toBe(10);
      await expectQueuedAndDelivered(journal, 10);
      expect(wire.chunks).toHaveLength(10);
      for (const conn of wire.chunks) {
        const commands = conn.filter((c) => /^[A-Z]{4}\b/.test(c));
        expect(commands.map((c) => c.split(/[ :\r]/)[0])).toEqual(['EHLO', 'MAIL', 'RCPT', 'RCPT', 'DATA', 'QUIT']);
        for (const c of commands) expect(c.match(/\r\n/g)).toHaveLength(1);
      }
      expectSameTally(sourceTally(result), await tally(before, 10, { ehlo: true }));
    } finally {
      await wire.close();
    }
    await pf.waitForLog('10 sessions on the nopipe smtpd', (rs) => rs.filter((r) => r.tag === 'postfix/nopipe/smtpd' && r.text.endsWith(' ehlo=1 mail=1 rcpt=2 data=1 quit=1 commands=6')).length === 10);
  });

  it('-o (old mode: no HELO, no generated headers): queued; cleanup logs the Message-ID Postfix adds, <QUEUEID@myhostname>', async () => {
    const before = pf.records().length;
    const { result, journal } = await send({ sessions: 2, messages: 6, oldMode: true });
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(6);
    const records = await pf.waitForLog('6 removed', (rs) => {
      const byId = messagesByQueueId(rs);
      return journal.every((e) => e.queueId !== undefined && byId.get(e.queueId)?.removed === true);
    });
    const byId = messagesByQueueId(records);
    for (const e of journal) {
      expect(e.messageId).toBeUndefined();
      expect(e.trackingId).toBeUndefined();
      // <YYYYMMDDhhmmss.QUEUEID@myhostname> with short ids; a long id has the time in it already.
      expect(byId.get(e.queueId!)!.messageId).toBe(`<${e.queueId}@mx.example.test>`);
    }
    // No HELO: smtpd's command counts start at MAIL.
    await pf.waitForLog('6 sessions without HELO', (rs) => rs.slice(before).filter((r) => r.tag === 'postfix/smtpd' && /^disconnect from \S+ mail=1 rcpt=1 data=1 quit=1 commands=4$/.test(r.text)).length === 6);
    expectSameTally(sourceTally(result), await tally(before, 6, { oldMode: true }));
  });

  it('-F with long lines and dot lines: Postfix stores them differently from the wire, and the tally still agrees byte for byte', async () => {
    // 128 bytes and more take a longer record length; a line past line_length_limit (2048)
    // is stored in pieces; a leading dot is stuffed on the wire and stripped in the queue.
    const lines = ['Subject: long lines', '', 'short', 'x'.repeat(127), 'x'.repeat(128), 'x'.repeat(300), '.leading dot', '..two', '.', 'y'.repeat(2048), 'z'.repeat(2049), 'w'.repeat(5000), '.' + 'v'.repeat(4095), 'u'.repeat(2046), 't'.repeat(2047), 's'.repeat(4096), '.' + 'r'.repeat(2047), '.' + 'q'.repeat(2046), 'end'];
    const file = join(tmp, 'long-lines.msg');
    writeFileSync(file, lines.join('\n') + '\n');
    const content = Buffer.from(lines.map((l) => `${l.startsWith('.') ? '.' : ''}${l}\r\n`).join(''), 'latin1');
    const before = pf.records().length;
    const { result } = await send({ messages: 3, sessions: 1, messageFile: file });
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(3);
    expect(result.bytes).toBe(3 * content.length);
    // The file has a Subject: only: cleanup adds Message-Id:, Date: and From:.
    const postfix = await postfixTally(pf, before, 3, { proto: 'SMTP', client: CLIENT, content, addsIdDateFrom: true });
    expectSameTally(sourceTally(result), postfix);
    // Without the line-by-line account the sizes do not match: the relation is not a constant.
    const naive = await postfixTally(pf, before, 3, { proto: 'SMTP', client: CLIENT, addsIdDateFrom: true });
    expect(naive.bytes).not.toBe(postfix.bytes);
  });

  it('a recipient Postfix rejects, with -A: counted as rcpt 554 per message, nothing queued, the run goes on', async () => {
    const before = pf.records().length;
    const m = 6;
    const { result, journal, warnings } = await send({ sessions: 2, messages: m, recipient: 'x@reject.example', allowReject: true });
    expect(result.fatal).toBeUndefined();
    expect(result.rejects).toEqual({ rcpt: { '554': m } });
    expect(result.messages).toEqual({ started: m, sent: 0, accepted: 0, rejected: m, failed: 0 });
    expect(result.recipients).toEqual({ sent: m, accepted: 0, rejected: m });
    expect(warnings).toHaveLength(m);
    for (const w of warnings) expect(w).toContain('recipient rejected: 554 5.7.1 <x@reject.example>: Recipient address rejected: Access denied');
    expect(journal).toHaveLength(m);
    for (const e of journal) {
      expect(e.status).toBe('rejected');
      expect(e.queueId).toBeUndefined();
    }
    const rejects = await pf.waitForLog(`${m} NOQUEUE rejects`, (rs) => rs.slice(before).filter((r) => r.queueId === 'NOQUEUE').length >= m);
    const noqueue = rejects.slice(before).filter((r) => r.queueId === 'NOQUEUE');
    expect(noqueue).toHaveLength(m);
    for (const r of noqueue) {
      expect(r.text).toMatch(/^reject: RCPT from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 <x@reject\.example>: Recipient address rejected: Access denied; from=<sender@example\.com> to=<x@reject\.example> proto=SMTP helo=<client\.example>$/);
    }
    expect(pf.records().slice(before).filter((r) => r.program === 'smtpd' && r.text.startsWith('client='))).toEqual([]);
    expectSameTally(sourceTally(result), await tally(before, 0));
  });

  it('with -A the journal keeps the rejecting reply of a rejected message (code and text)', async () => {
    const before = pf.records().length;
    const { result, journal } = await send({ sessions: 1, messages: 2, recipient: 'x@reject.example', allowReject: true });
    expect(journal).toHaveLength(2);
    for (const e of journal) {
      expect(e.status).toBe('rejected');
      // Without -A (next test) the journal line says 554 and why; with -A it should too.
      expect(e.code).toBe(554);
      expect(e.reply).toBe('5.7.1 <x@reject.example>: Recipient address rejected: Access denied');
    }
    expectSameTally(sourceTally(result), await tally(before, 0));
  });

  it('a recipient Postfix rejects, without -A: the run ends with the fatal "recipient rejected: 554 ..."', async () => {
    const before = pf.records().length;
    const { result, journal, warnings } = await send({ sessions: 1, messages: 5, recipient: 'x@reject.example' });
    expect(result.fatal).toBe('recipient rejected: 554 5.7.1 <x@reject.example>: Recipient address rejected: Access denied');
    expect(result.messages.accepted).toBe(0);
    expect(result.messages.sent).toBe(0);
    expect(result.rejects).toEqual({ rcpt: { '554': 1 } });
    expect(warnings).toEqual([]);
    expect(journal).toHaveLength(1);
    expect(journal[0]).toMatchObject({ status: 'rejected', code: 554, reply: '5.7.1 <x@reject.example>: Recipient address rejected: Access denied' });
    expectSameTally(sourceTally(result), await tally(before, 0));
  });

  it('-A -r 2 with one of the two recipients rejected: the message is queued for the other (lock-step, pipelined, pipelined -d)', async () => {
    for (const [pipelining, reuseConnection] of [
      [false, false],
      [true, false],
      [true, true],
    ]) {
      const m = 5;
      const before = pf.records().length;
      const { result, journal } = await send({ sessions: 2, messages: m, recipients: 2, recipient: 'rcpt@partial.example', allowReject: true, pipelining, reuseConnection });
      expect(result.fatal).toBeUndefined();
      expect(result.rejects).toEqual({ rcpt: { '554': m } });
      expect(result.messages).toMatchObject({ sent: m, accepted: m, rejected: 0, failed: 0 });
      expect(result.recipients).toEqual({ sent: 2 * m, accepted: m, rejected: m });
      const records = await pf.waitForLog(`${m} partial deliveries`, (rs) => {
        const byId = messagesByQueueId(rs);
        return journal.every((e) => e.queueId !== undefined && byId.get(e.queueId)?.removed === true);
      });
      const byId = messagesByQueueId(records);
      for (const e of journal) {
        expect(e).toMatchObject({ status: 'accepted', code: 250, recipients: ['2rcpt@partial.example', 'rcpt@partial.example'] });
        expect(e.queueId).toMatch(LONG_QUEUE_ID);
        const lm = byId.get(e.queueId!)!;
        expect(lm.messageId).toBe(e.messageId);
        expect(lm.nrcpt).toBe(1);
        expect(lm.deliveries.map((d) => [d.to, d.status])).toEqual([['rcpt@partial.example', 'sent']]);
      }
      expectSameTally(sourceTally(result), await tally(before, m, { ehlo: pipelining }));
    }
  });

  it('-A --pipelining with every recipient rejected: DATA refused by Postfix, no message sent, only the RCPT rejects counted', async () => {
    for (const reuseConnection of [false, true]) {
      const m = 4;
      const before = pf.records().length;
      const { result, journal } = await send({ sessions: 2, messages: m, recipient: 'x@reject.example', allowReject: true, pipelining: true, reuseConnection });
      expect(result.fatal).toBeUndefined();
      expect(result.rejects).toEqual({ rcpt: { '554': m } });
      expect(result.messages).toEqual({ started: m, sent: 0, accepted: 0, rejected: m, failed: 0 });
      expect(result.connections.opened).toBe(reuseConnection ? 2 : m);
      expect(journal.map((e) => [e.status, e.code])).toEqual(Array(m).fill(['rejected', 554]));
      expectSameTally(sourceTally(result), await tally(before, 0));
    }
    expect(pf.log()).not.toContain('improper command pipelining');
  });
});
