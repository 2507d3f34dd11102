// Our smtp-source in LMTP mode (-L) against a real Dovecot LMTP server: a private instance on
// loopback (see @smtpstone/testbed) where every user exists and gets a Maildir. LMTP answers the
// final "." once per accepted recipient; the journal must keep each of those replies, and
// every message must be on disk once per recipient.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lengthBody, runSource, type JournalEntry, type SourceOptionsInput, type SourceResult } from '../src/index.js';
import { dovecotAvailable, privateDir, startPrivateDovecotLmtp, waitUntil, wireRecorder, type PrivateDovecot } from '@smtpstone/testbed';
import { expectSameTally, sourceTally, wireBytes, type Tally } from './helpers.js';

const available = dovecotAvailable();

const CLIENT = 'client.example';
const SENDER = 'sender@example.com';
const DOMAIN = 'lmtp.example';

/**
 * A stored message back on the wire: without the lines Dovecot prepends (Return-Path:, for a
 * single recipient Delivered-To:, and its Received: with continuation lines), its LF line ends
 * made CR LF again and dot-stuffed.
 */
function storedWireBytes(stored: string): number {
  const lines = stored.split('\n');
  let i = 0;
  if (!lines[i].startsWith('Return-Path: ')) throw new Error(`no Return-Path: first: ${JSON.stringify(stored.slice(0, 200))}`);
  i++;
  if (lines[i].startsWith('Delivered-To: ')) i++;
  if (!lines[i].startsWith('Received: ')) throw new Error(`no Received: after Dovecot's Return-Path: ${JSON.stringify(stored.slice(0, 300))}`);
  for (i++; /^\s/.test(lines[i]); i++);
  if (!stored.endsWith('\n')) throw new Error(`a stored message without a final newline: ${JSON.stringify(stored.slice(-100))}`);
  return wireBytes(Buffer.from(lines.slice(i, -1).map((l) => `${l}\r\n`).join(''), 'latin1'));
}

describe.skipIf(!available)('smtp-source -L against a real Dovecot LMTP server', () => {
  let dv: PrivateDovecot;
  let tmp: string;
  let runs = 0;

  beforeAll(async () => {
    tmp = privateDir('src-journal-');
    dv = await startPrivateDovecotLmtp();
  });

  afterAll(async () => {
    await dv?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  async function send(options: Partial<SourceOptionsInput>): Promise<{ result: SourceResult; journal: JournalEntry[]; warnings: string[] }> {
    const journalPath = join(tmp, `run-${++runs}.jsonl`);
    const warnings: string[] = [];
    const result = await runSource(
      {
        target: `127.0.0.1:${dv.port}`,
        lmtp: true,
        myHostname: CLIENT,
        sender: SENDER,
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

  /**
   * Issue 7: Dovecot's side of the tally, from the Maildirs of the users named `[n]local` alone.
   * Recipients: the files, one per recipient. Messages: their distinct Maildir names (Dovecot
   * saves a message once and copies it to every other recipient under the same
   * "<time>.M<usec>P<pid>.<host>", only the ",S=...,W=..." sizes may differ). Bytes: each
   * message's stored content back on the wire (see storedWireBytes).
   */
  function dovecotTally(local: string): Tally {
    const files = [...dv.maildirs()].filter(([user]) => new RegExp(`^\\d*${local}$`).test(user)).flatMap(([, f]) => f);
    const byName = new Map(files.map((f) => [basename(f).split(',')[0], f]));
    return {
      messages: byName.size,
      recipients: files.length,
      bytes: [...byName.values()].reduce((n, f) => n + storedWireBytes(readFileSync(f, 'latin1')), 0),
    };
  }

  /**
   * m messages of r numbered recipients `<n><local>@lmtp.example`, n = 1..m*r, all distinct:
   * the journal has r LMTP replies per message, "250 2.0.0 <rcpt> SESSION Saved" in recipient
   * order, and each recipient's Maildir holds exactly that message.
   */
  function expectDelivered(journal: JournalEntry[], local: string, m: number, r: number): void {
    expect(journal).toHaveLength(m);
    const all = journal.flatMap((e) => e.recipients);
    expect(new Set(all)).toEqual(new Set(Array.from({ length: m * r }, (_, i) => `${i + 1}${local}@${DOMAIN}`)));
    const maildirs = dv.maildirs();
    for (const e of journal) {
      expect(e.status).toBe('accepted');
      expect(e.code).toBe(250);
      expect(e.recipients).toHaveLength(r);
      expect(e.lmtp).toHaveLength(r);
      e.lmtp!.forEach((reply, i) => {
        expect(reply.code).toBe(250);
        expect(reply.reply).toMatch(new RegExp(`^2\\.0\\.0 <${e.recipients[i]}> \\S+ Saved$`));
      });
      // The message's first reply is the journal line's own.
      expect(e.reply).toBe(e.lmtp![0].reply);
      for (const rcpt of e.recipients) {
        const files = maildirs.get(rcpt.split('@')[0]) ?? [];
        expect(files, rcpt).toHaveLength(1);
        const message = readFileSync(files[0], 'latin1');
        expect(message).toContain(`\nMessage-Id: ${e.messageId}\n`);
        expect(message).toContain(`X-Smtpstone-Id: ${e.trackingId}`);
        expect(message).toMatch(new RegExp(`^Return-Path: <${SENDER}>`));
      }
    }
  }

  /** Dovecot's own log: one "saved mail to INBOX" per recipient, with our Message-Id. */
  async function expectLogged(journal: JournalEntry[]): Promise<void> {
    const want = journal.flatMap((e) => e.recipients.map((rcpt) => `lmtp(${rcpt})`));
    await waitUntil('Dovecot to log every delivery', () => want.every((w) => dv.log().includes(w)), 5000, () => dv.log());
    const log = dv.log();
    for (const e of journal) {
      for (const rcpt of e.recipients) {
        const line = log.split('\n').find((l) => l.includes(`lmtp(${rcpt})`));
        expect(line).toContain(`Info: msgid=${e.messageId}: saved mail to INBOX`);
      }
    }
  }

  it('-L -s 2 -m 10 -r 2 -N: 250 per recipient in the journal, 20 messages in 20 Maildirs', async () => {
    const { result, journal, warnings } = await send({ sessions: 2, messages: 10, recipients: 2, numberRecipients: true, recipient: `a@${DOMAIN}` });
    expect(result.fatal).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(result.messages).toEqual({ started: 10, sent: 10, accepted: 10, rejected: 0, failed: 0 });
    expect(result.recipients).toEqual({ sent: 20, accepted: 20, rejected: 0 });
    expect(result.connections.opened).toBe(10);
    expect(result.rejects).toEqual({});
    expectDelivered(journal, 'a', 10, 2);
    await expectLogged(journal);
    expectSameTally(sourceTally(result), dovecotTally('a'));
  });

  it('-L -d: two connections carry all ten messages', async () => {
    const connects = (): number => dv.log().split('\n').filter((l) => /lmtp\(\d+\): Info: Connect from 127\.0\.0\.1/.test(l)).length;
    const before = connects();
    const { result, journal } = await send({ sessions: 2, messages: 10, recipients: 2, numberRecipients: true, reuseConnection: true, recipient: `b@${DOMAIN}` });
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(10);
    expect(result.connections.opened).toBe(2);
    expectDelivered(journal, 'b', 10, 2);
    await expectLogged(journal);
    expect(connects() - before).toBe(2);
    expectSameTally(sourceTally(result), dovecotTally('b'));
  });

  it('-L --pipelining -d -r 3: MAIL, RCPTs and DATA in one write; three replies after each "."', async () => {
    const wire = await wireRecorder(dv.port);
    try {
      const { result, journal } = await send({
        target: `127.0.0.1:${wire.port}`,
        sessions: 2,
        messages: 10,
        recipients: 3,
        numberRecipients: true,
        reuseConnection: true,
        pipelining: true,
        recipient: `c@${DOMAIN}`,
      });
      expect(result.fatal).toBeUndefined();
      expect(result.messages.accepted).toBe(10);
      expect(result.recipients).toEqual({ sent: 30, accepted: 30, rejected: 0 });
      expectDelivered(journal, 'c', 10, 3);
      await expectLogged(journal);
      // Dovecot's LHLO reply offers PIPELINING, and we used it: each envelope went out in one
      // write (the first alone, later ones maybe behind the previous message's ".").
      expect(wire.chunks).toHaveLength(2);
      const batch = new RegExp(`(^|\\r\\n)MAIL FROM:<${SENDER}>\\r\\n(RCPT TO:<\\d+c@${DOMAIN}>\\r\\n){3}DATA\\r\\n$`);
      expect(wire.chunks.map((conn) => conn[0])).toEqual([`LHLO ${CLIENT}\r\n`, `LHLO ${CLIENT}\r\n`]);
      expect(wire.chunks.flat().filter((c) => batch.test(c))).toHaveLength(10);
      expectSameTally(sourceTally(result), dovecotTally('c'));
    } finally {
      await wire.close();
    }
  });

  it('-L --bdat 100 (lock-step, then --pipelining) -r 3 -d: one reply per recipient after BDAT LAST, every copy stored', async () => {
    for (const [local, pipelining] of [['g', false], ['h', true]] as const) {
      const { result, journal, warnings } = await send({
        sessions: 2,
        messages: 6,
        recipients: 3,
        numberRecipients: true,
        reuseConnection: true,
        pipelining,
        bdat: { chunkSize: 100 },
        length: 1000,
        recipient: `${local}@${DOMAIN}`,
      });
      expect(result.fatal).toBeUndefined();
      // Dovecot's LHLO reply offers CHUNKING: no message fell back to DATA.
      expect(warnings).toEqual([]);
      expect(result.extensions).toMatchObject({ bdatMessages: 6, bdatFallbacks: 0 });
      expect(journal.map((e) => e.bdat)).toEqual(Array(6).fill(true));
      expectDelivered(journal, local, 6, 3);
      await expectLogged(journal);
      expectSameTally(sourceTally(result), dovecotTally(local));
    }
  });

  it('-F with lines starting with ".", and -l 5120: stored byte for byte as sent (dot-stuffing undone by Dovecot)', async () => {
    const file = join(tmp, 'dots.eml');
    writeFileSync(file, 'Subject: dots\r\nMessage-Id: <dots@client.example>\r\n\r\n.leading dot\n..two dots\r\n.\n. space\nlast line without a newline');
    const f = await send({ messages: 1, recipients: 1, recipient: `e@${DOMAIN}`, messageFile: file });
    expect(f.result.messages.accepted).toBe(1);
    const l = await send({ messages: 1, recipients: 1, recipient: `f@${DOMAIN}`, length: 5120 });
    expect(l.result.messages.accepted).toBe(1);
    const stored = (user: string): string => {
      const files = dv.maildirs().get(user) ?? [];
      expect(files, user).toHaveLength(1);
      const text = readFileSync(files[0], 'latin1');
      // Dovecot adds Return-Path:, Delivered-To: and Received: above what it was given and
      // stores lines with LF.
      expect(text).toMatch(/^Return-Path: <sender@example\.com>\nDelivered-To: /);
      return text.slice(text.search(/\n(?=[^\s])(?!Delivered-To:|Received:)/) + 1);
    };
    expect(stored('e')).toBe('Subject: dots\nMessage-Id: <dots@client.example>\n\n.leading dot\n..two dots\n.\n. space\nlast line without a newline\n');
    const sent = stored('f');
    const body = lengthBody(5120).toString('latin1').replace(/\r\n/g, '\n');
    expect(sent.endsWith(`\n\n${body}`)).toBe(true);
    expect(sent).toContain(`\nMessage-Id: ${l.journal[0].messageId}\n`);
    expectSameTally(sourceTally(f.result), dovecotTally('e'));
    expectSameTally(sourceTally(l.result), dovecotTally('f'));
  });

  it('the journal has a queue id (the LMTP session id) for every recipient\'s reply', async () => {
    const { result, journal } = await send({ sessions: 1, messages: 2, recipients: 2, numberRecipients: true, recipient: `d@${DOMAIN}` });
    expect(journal).toHaveLength(2);
    for (const e of journal) {
      expect(e.lmtp).toHaveLength(2);
      for (const reply of e.lmtp!) {
        // "2.0.0 <1d@lmtp.example> mVQzBbxHCWvXPQAAg+zDdQ Saved", the second recipient's
        // "2.0.0 <2d@lmtp.example> mVQzBbxHCWvXPQAAg+zDdQ:R2 Saved": the id is the third word.
        // Dovecot's log names the second delivery <pid><SESSION:R2>; either form joins.
        const id = reply.reply.split(' ')[2];
        expect([id, id.split(':')[0]], reply.reply).toContain(reply.queueId);
      }
      expect(e.queueId).toBe(e.lmtp![0].queueId);
    }
    expectSameTally(sourceTally(result), dovecotTally('d'));
  });
});
