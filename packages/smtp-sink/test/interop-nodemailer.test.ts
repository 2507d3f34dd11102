// nodemailer's SMTP transport drives our sink: EHLO, one connection per message or a pool of
// reused connections, several recipients, DSN parameters, and LMTP (one reply per recipient).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { portOf } from './helpers.js';
import { expectSameTally, NO_PROBLEMS, problems, resources, settled, sinkTally, type TestSink } from './interop-helpers.js';
import { nodemailerTally, nodemailerTransport, type NodemailerTransport } from './tallies.js';

const r = resources();

/** Plain SMTP to the sink (no STARTTLS even when offered). */
function transport(sink: TestSink, extra: Record<string, unknown> = {}): NodemailerTransport {
  return nodemailerTransport(portOf(sink), { secure: false, ignoreTLS: true, ...extra });
}

function firstDifference(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

const message = (i: number, to: string | string[] = 'rcpt@example.com') => ({
  from: 'sender@example.com',
  to,
  subject: `message ${i}`,
  text: `Hello number ${i}.\n.a line that starts with a dot\nend\n`,
});

describe('nodemailer drives the sink', () => {
  it('sends several messages, one connection each', async () => {
    const sink = await r.sink();
    const t = transport(sink);
    const infos = [];
    for (let i = 0; i < 5; i++) {
      const info = await t.sendMail(message(i));
      infos.push(info);
      expect(info.accepted).toEqual(['rcpt@example.com']);
      expect(info.rejected).toEqual([]);
      expect(info.response).toBe('250 2.0.0 Ok');
      expect(info.envelope).toEqual({ from: 'sender@example.com', to: ['rcpt@example.com'] });
    }
    const s = await settled(sink, 5);
    expect(s).toMatchObject({ messages: 5, messagesAccepted: 5, recipients: 5, sessions: 5, connections: 5 });
    expect(s.commands).toMatchObject({ ehlo: 5, helo: 0, mail: 5, rcpt: 5, data: 5 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(nodemailerTally(infos), sinkTally(s));
  });

  it('sends to several recipients (to, cc, bcc) in one transaction', async () => {
    const sink = await r.sink();
    const t = transport(sink);
    const info = await t.sendMail({ ...message(1, ['a@b.example', 'c@d.example']), cc: 'e@f.example', bcc: 'g@h.example' });
    expect([...info.accepted].sort()).toEqual(['a@b.example', 'c@d.example', 'e@f.example', 'g@h.example']);
    expect(info.rejected).toEqual([]);
    expect(info.response).toBe('250 2.0.0 Ok');
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, recipients: 4, sessions: 1 });
    expect(s.commands).toMatchObject({ mail: 1, rcpt: 4, data: 1 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(nodemailerTally([info]), sinkTally(s));
  });

  it('pool: 30 messages over at most 3 reused connections', async () => {
    const sink = await r.sink();
    const t = transport(sink, { pool: true, maxConnections: 3, maxMessages: 100 });
    const infos = await Promise.all(Array.from({ length: 30 }, (_, i) => t.sendMail(message(i, ['x@y.example', 'z@w.example']))));
    for (const info of infos) {
      expect([...info.accepted].sort()).toEqual(['x@y.example', 'z@w.example']);
      expect(info.response).toBe('250 2.0.0 Ok');
    }
    const during = sink.stats();
    expect(during.messages).toBe(30);
    expect(during.recipients).toBe(60);
    expect(during.connections).toBeGreaterThanOrEqual(1);
    expect(during.connections).toBeLessThanOrEqual(3);
    t.close();
    const s = await settled(sink, during.connections);
    expect(s).toMatchObject({ messages: 30, recipients: 60, sessions: during.connections, connections: during.connections });
    expect(s.commands).toMatchObject({ ehlo: during.connections, mail: 30, rcpt: 60, data: 30 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(nodemailerTally(infos), sinkTally(s));
  });

  it('DSN parameters reach the sink (MAIL RET/ENVID, RCPT NOTIFY/ORCPT) and the body survives dot-stuffing', async () => {
    const dir = r.dir();
    const sink = await r.sink({ dumpTemplate: join(dir, 'msg.') });
    const t = transport(sink);
    const info = await t.sendMail({
      ...message(7, 'a@b.example'),
      dsn: { id: 'env-7', return: 'headers', notify: ['failure', 'delay'], recipient: 'sender@example.com' },
    });
    expect(info.response).toBe('250 2.0.0 Ok');
    const s = await settled(sink, 1);
    expectSameTally(nodemailerTally([info]), sinkTally(s));
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    const dump = readFileSync(join(dir, files[0]), 'utf8');
    const head = dump.split('\nReceived: ')[0];
    expect(head.split('\n')).toEqual([
      'X-Client-Addr: 127.0.0.1',
      'X-Client-Proto: ESMTP',
      'X-Helo-Args: client.example',
      'X-Mail-Args: <sender@example.com> RET=HDRS ENVID=env-7',
      'X-Rcpt-Args: <a@b.example> NOTIFY=FAILURE,DELAY ORCPT=rfc822;sender@example.com',
    ]);
    expect(dump).toContain('\nSubject: message 7\n');
    // nodemailer stuffed ".a line" to "..a line"; the dump shows the line as written.
    expect(dump).toContain('\n\nHello number 7.\n.a line that starts with a dot\nend\n');
    expect(dump.endsWith('\n\n')).toBe(true);
  });

  it('a raw 2 MB message full of dot lines: the dump is the message as written, the byte count as sent', async () => {
    const dir = r.dir();
    const sink = await r.sink({ dumpTemplate: join(dir, 'msg.') });
    const t = transport(sink);
    // Lines that start with one or two dots, lone dots and plain lines of many lengths, so the
    // socket's chunk boundaries fall everywhere around the CR LF "." sequences.
    const lines = ['Subject: big', 'From: <sender@example.com>', ''];
    for (let i = 0; i < 24000; i++) {
      const filler = 'abcdefghij'.repeat(20).slice(0, (i * 37) % 181);
      lines.push(i % 4 === 0 ? '.' + filler : i % 4 === 1 ? '..' + filler : i % 4 === 2 ? (i % 8 === 2 ? '.' : filler) : filler + '.');
    }
    const raw = lines.join('\r\n') + '\r\n';
    expect(raw.length).toBeGreaterThan(1_900_000);
    const info = await t.sendMail({ envelope: { from: 'sender@example.com', to: ['a@b.example'] }, raw });
    expect(info.response).toBe('250 2.0.0 Ok');
    expect(info.accepted).toEqual(['a@b.example']);
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, recipients: 1, dumps: 1, dumpErrors: 0 });
    // On the wire every line that starts with "." got one more.
    const stuffed = lines.filter((l) => l.startsWith('.')).length;
    expect(s.bytes).toBe(raw.length + stuffed);
    expectSameTally(nodemailerTally([info]), sinkTally(s));
    const [file] = readdirSync(dir);
    const dump = readFileSync(join(dir, file), 'utf8');
    const start = dump.indexOf('\nSubject: big\n') + 1;
    expect(start).toBeGreaterThan(0);
    const expected = raw.replace(/\r/g, '') + '\n';
    const got = dump.slice(start);
    const diffAt = firstDifference(got, expected);
    expect(diffAt, `dump differs at ${diffAt}: ${JSON.stringify(got.slice(diffAt - 40, diffAt + 40))} vs ${JSON.stringify(expected.slice(diffAt - 40, diffAt + 40))}`).toBe(-1);
  });

  it('LMTP (lmtp: true) against an LMTP sink: LHLO, one reply per recipient', async () => {
    const sink = await r.sink({ lmtp: true });
    const t = transport(sink, { lmtp: true });
    const infos = [];
    for (let i = 0; i < 3; i++) {
      const info = await t.sendMail(message(i, ['a@b.example', 'c@d.example', 'e@f.example']));
      infos.push(info);
      expect([...info.accepted].sort()).toEqual(['a@b.example', 'c@d.example', 'e@f.example']);
      expect(info.rejected).toEqual([]);
      expect(info.response).toBe('250 2.2.0 Ok');
    }
    const s = await settled(sink, 3);
    expect(s).toMatchObject({ messages: 3, messagesAccepted: 3, recipients: 9, sessions: 3 });
    expect(s.commands).toMatchObject({ lhlo: 3, ehlo: 0, helo: 0, mail: 3, rcpt: 9, data: 3 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(nodemailerTally(infos), sinkTally(s));
  });

  it('LMTP with a pool: replies stay in step over reused connections', async () => {
    const sink = await r.sink({ lmtp: true });
    const t = transport(sink, { lmtp: true, pool: true, maxConnections: 2 });
    const infos = await Promise.all(Array.from({ length: 20 }, (_, i) => t.sendMail(message(i, ['a@b.example', 'c@d.example']))));
    for (const info of infos) {
      expect([...info.accepted].sort()).toEqual(['a@b.example', 'c@d.example']);
      expect(info.response).toBe('250 2.2.0 Ok');
    }
    expect(sink.stats()).toMatchObject({ messages: 20, recipients: 40 });
    expect(sink.stats().connections).toBeLessThanOrEqual(2);
    expect(problems(sink.stats())).toEqual(NO_PROBLEMS);
    // Every end-of-data reply has come back, so the sink has counted every message.
    expectSameTally(nodemailerTally(infos), sinkTally(sink.stats()));
  });

  it('an SMTP transport against an LMTP sink fails at EHLO, as with the C sink', async () => {
    const sink = await r.sink({ lmtp: true });
    const t = transport(sink);
    await expect(t.sendMail(message(1))).rejects.toThrow(/500 5\.5\.1 Error: unknown command/);
    expect(sink.stats().messages).toBe(0);
    expectSameTally({ messages: 0, recipients: 0, bytes: 0 }, sinkTally(sink.stats()));
  });
});
