// CHUNKING/BDAT (RFC 3030), SIZE (RFC 1870), SMTPUTF8 (RFC 6531) and DSN parameters on the
// sink. No common client sends BDAT, so a raw client splits chunks at every kind of boundary;
// Python's smtplib and nodemailer drive SMTPUTF8.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { peer, portOf, RawClient, tempDir, testSink } from './helpers.js';
import { expectSameTally, sinkTally, wireBytes } from './interop-helpers.js';
import { nodemailerTally, pySmtplib, nodemailerTransport } from './tallies.js';
import { parseSinkArgs } from '../src/cli-options.js';
import type { Sink, SinkOptionsInput } from '../src/index.js';

const python = peer('python3');
let sinks: Sink[] = [];
let clients: RawClient[] = [];
let dirs: ReturnType<typeof tempDir>[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  for (const s of sinks) await s.close();
  for (const d of dirs) d.remove();
  sinks = [];
  clients = [];
  dirs = [];
});

async function sinkWith(options: Partial<SinkOptionsInput> = {}): Promise<Sink> {
  const s = await testSink(options);
  sinks.push(s);
  return s;
}

async function client(s: Sink): Promise<RawClient> {
  const c = await RawClient.open(portOf(s));
  clients.push(c);
  await c.until(1);
  return c;
}

async function envelope(c: RawClient, from = 'MAIL FROM:<a@b.example>'): Promise<void> {
  expect((await c.command('EHLO client.example')).code).toBe(250);
  expect((await c.command(from)).code).toBe(250);
  expect((await c.command('RCPT TO:<c@d.example>')).code).toBe(250);
}

/** Sends `data` and waits for `count` more replies. */
async function exchange(c: RawClient, data: string | Buffer, count: number): Promise<string[]> {
  const n = c.replies.length;
  c.send(data);
  const r = await c.until(n + count);
  return r.slice(n).map((x) => `${x.code} ${x.text}`);
}

const keywords = (text: string): string[] => text.split('\n').slice(1).filter(Boolean);

describe('EHLO', () => {
  it('is unchanged without the new flags; BDAT is then an unknown command', async () => {
    const c = await client(await sinkWith());
    const ehlo = await c.command('EHLO x');
    expect(keywords(ehlo.text)).toEqual(['PIPELINING', '8BITMIME', 'AUTH PLAIN LOGIN', 'XCLIENT NAME HELO', 'XFORWARD NAME ADDR PROTO HELO', 'ENHANCEDSTATUSCODES', 'DSN']);
    expect(await exchange(c, 'BDAT 0 LAST\r\n', 1)).toEqual(['500 5.5.1 Error: unknown command']);
  });

  it('announces SIZE n, CHUNKING and SMTPUTF8 when asked', async () => {
    const c = await client(await sinkWith({ chunking: true, smtputf8: true, sizeLimit: 1000 }));
    const ehlo = await c.command('EHLO x');
    expect(keywords(ehlo.text)).toEqual([
      'PIPELINING', '8BITMIME', 'SIZE 1000', 'AUTH PLAIN LOGIN', 'XCLIENT NAME HELO', 'XFORWARD NAME ADDR PROTO HELO',
      'ENHANCEDSTATUSCODES', 'DSN', 'CHUNKING', 'SMTPUTF8',
    ]);
  });

  it('the CLI flags map onto the options', () => {
    const cli = parseSinkArgs(['--chunking', '--smtputf8', '--size-limit', '5000', '127.0.0.1:0', '10']);
    expect(cli.sink).toMatchObject({ chunking: true, smtputf8: true, sizeLimit: 5000 });
    expect(() => parseSinkArgs(['--size-limit', 'x', '127.0.0.1:0', '10'])).toThrow(/bad size limit/);
  });
});

describe('BDAT', () => {
  it('in LMTP mode: LHLO offers CHUNKING, and BDAT LAST gets one reply per accepted recipient', async () => {
    const s = await sinkWith({ lmtp: true, chunking: true });
    const c = await client(s);
    const lhlo = await c.command('LHLO client.example');
    expect(keywords(lhlo.text)).toContain('CHUNKING');
    expect((await c.command('MAIL FROM:<a@b.example>')).code).toBe(250);
    expect((await c.command('RCPT TO:<c@d.example>')).code).toBe(250);
    expect((await c.command('RCPT TO:<e@d.example>')).code).toBe(250);
    expect(await exchange(c, 'BDAT 5\r\nhelloBDAT 7 LAST\r\n world\r\n', 3)).toEqual(['250 2.0.0 Ok: 5 bytes', '250 2.2.0 Ok', '250 2.2.0 Ok']);
    expect(s.stats()).toMatchObject({ messages: 1, messagesAccepted: 1, recipients: 2, bytes: 12 });
    expectSameTally({ messages: 1, recipients: 2, bytes: 12 }, sinkTally(s.stats()));
  });

  it('header and data in one write; two chunks, then LAST; counted as a message', async () => {
    const s = await sinkWith({ chunking: true });
    const c = await client(s);
    await envelope(c);
    expect(await exchange(c, 'BDAT 5\r\nhello', 1)).toEqual(['250 2.0.0 Ok: 5 bytes']);
    expect(await exchange(c, 'BDAT 7 LAST\r\n world\n', 1)).toEqual(['250 2.0.0 Ok']);
    expect((await c.command('QUIT')).code).toBe(221);
    await c.waitClosed();
    const st = s.stats();
    expect(st).toMatchObject({ messages: 1, messagesAccepted: 1, bytes: 12, outOfOrder: 0, lostInData: 0 });
    expect(st.commands.bdat).toBe(2);
    // What the test sent: one message to one recipient, BDAT content counted as it is.
    expectSameTally({ messages: 1, recipients: 1, bytes: 'hello'.length + ' world\n'.length }, sinkTally(st));
  });

  it('data split over many writes, containing CRLF.CRLF and command-like lines, is taken by count', async () => {
    const s = await sinkWith({ chunking: true });
    const c = await client(s);
    await envelope(c);
    const body = 'Subject: x\r\n\r\nline\r\n.\r\nQUIT\r\nRSET\r\n..\r\n';
    const n = c.replies.length;
    c.send(`BDAT ${body.length} LAST\r\n`);
    for (let i = 0; i < body.length; i += 3) {
      c.send(body.slice(i, i + 3));
      await sleep(2);
    }
    const r = await c.until(n + 1);
    expect(r.slice(n).map((x) => `${x.code} ${x.text}`)).toEqual(['250 2.0.0 Ok']);
    expect((await c.command('NOOP')).code).toBe(250);
    expect(s.stats()).toMatchObject({ messages: 1, bytes: body.length, quits: 0 });
    expectSameTally({ messages: 1, recipients: 1, bytes: Buffer.byteLength(body) }, sinkTally(s.stats()));
  });

  it('a BDAT header split across writes, several BDATs in one write, and BDAT 0 LAST', async () => {
    const s = await sinkWith({ chunking: true });
    const c = await client(s);
    await envelope(c);
    c.send('BD');
    await sleep(10);
    c.send('AT 3\r');
    await sleep(10);
    expect(await exchange(c, '\nabc', 1)).toEqual(['250 2.0.0 Ok: 3 bytes']);
    expect(await exchange(c, 'BDAT 2\r\nde' + 'BDAT 0\r\n' + 'BDAT 1\r\nf' + 'BDAT 0 LAST\r\n', 4)).toEqual([
      '250 2.0.0 Ok: 2 bytes', '250 2.0.0 Ok: 0 bytes', '250 2.0.0 Ok: 1 bytes', '250 2.0.0 Ok',
    ]);
    // A whole second transaction in one write, pipelined.
    expect(
      await exchange(c, 'MAIL FROM:<x@y>\r\nRCPT TO:<z@w>\r\nBDAT 4 last\r\n1234MAIL FROM:<x@y>\r\nRCPT TO:<z@w>\r\nDATA\r\nq\r\n.\r\n', 7),
    ).toEqual(['250 2.1.0 Ok', '250 2.1.5 Ok', '250 2.0.0 Ok', '250 2.1.0 Ok', '250 2.1.5 Ok', '354 End data with <CR><LF>.<CR><LF>', '250 2.0.0 Ok']);
    expect(s.stats()).toMatchObject({ messages: 3, messagesAccepted: 3, bytes: 6 + 4 + 3 });
    // Chunks "abc", "de", "", "f", "" and "1234"; then "q" by DATA. One recipient per transaction.
    const sent = ['abc', 'de', '', 'f', '', '1234'].reduce((n, c) => n + c.length, 0) + wireBytes('q\r\n');
    expectSameTally({ messages: 3, recipients: 3, bytes: sent }, sinkTally(s.stats()));
  });

  it('without MAIL or RCPT: 503, and the chunk is read and dropped', async () => {
    const s = await sinkWith({ chunking: true });
    const c = await client(s);
    expect(await exchange(c, 'BDAT 6\r\nNOOP\r\nRSET\r\n', 2)).toEqual(['503 5.5.1 Error: need RCPT command', '250 2.1.0 Ok']);
    expect((await c.command('MAIL FROM:<a@b>')).code).toBe(250);
    expect(await exchange(c, 'BDAT 4 LAST\r\nxxxx', 1)).toEqual(['503 5.5.1 Error: need RCPT command']);
    expect(s.stats()).toMatchObject({ messages: 0, bytes: 0, outOfOrder: 2 });
  });

  it('a bad count gets 501 and the connection is closed (no way to find the next command)', async () => {
    for (const bad of ['BDAT', 'BDAT x', 'BDAT 5 FIRST', 'BDAT -1', 'BDAT 5LAST']) {
      const c = await client(await sinkWith({ chunking: true }));
      expect(await exchange(c, `${bad}\r\n`, 1)).toEqual(['501 5.5.4 Syntax: BDAT count [LAST]']);
      await c.waitClosed();
    }
  });

  it('DATA after BDAT in one transaction: 503; RSET starts over', async () => {
    const s = await sinkWith({ chunking: true });
    const c = await client(s);
    await envelope(c);
    expect(await exchange(c, 'BDAT 2\r\nab', 1)).toEqual(['250 2.0.0 Ok: 2 bytes']);
    expect(await exchange(c, 'DATA\r\n', 1)).toEqual(['503 5.5.1 Error: DATA and BDAT cannot be mixed in one transaction']);
    expect(await exchange(c, 'RSET\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nx\r\n.\r\n', 5)).toEqual([
      '250 2.1.0 Ok', '250 2.1.0 Ok', '250 2.1.5 Ok', '354 End data with <CR><LF>.<CR><LF>', '250 2.0.0 Ok',
    ]);
    expect(s.stats()).toMatchObject({ messages: 1, outOfOrder: 1 });
    // Two recipients accepted (one per transaction); the 2-byte chunk of the transaction RSET
    // dropped was still received, and the DATA message "x".
    expectSameTally({ messages: 1, recipients: 2, bytes: 'ab'.length + wireBytes('x\r\n') }, sinkTally(s.stats()));
  });

  it('joins the fault lists: -f bdat rejects each chunk and still reads it', async () => {
    const s = await sinkWith({ chunking: true, hardReject: ['bdat'] });
    const c = await client(s);
    await envelope(c);
    expect(await exchange(c, 'BDAT 6 LAST\r\nNOOP\r\nNOOP\r\n', 2)).toEqual(['500 5.3.0 Error: command failed', '250 2.0.0 Ok']);
    expect(s.stats()).toMatchObject({ messages: 0 });
  });
});

describe('BDAT with delays and hang-ups', () => {
  it('-W bdat:1 delays the chunk reply; the chunk and what follows it stay in step', async () => {
    const s = await sinkWith({ chunking: true, delays: [{ command: 'bdat', seconds: 1 }] });
    const c = await client(s);
    await envelope(c);
    const t0 = Date.now();
    expect(await exchange(c, 'BDAT 6\r\nNOOP\r\nBDAT 0 LAST\r\nNOOP\r\n', 3)).toEqual(['250 2.0.0 Ok: 6 bytes', '250 2.0.0 Ok', '250 2.0.0 Ok']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(s.stats()).toMatchObject({ messages: 1, bytes: 6 });
    expectSameTally({ messages: 1, recipients: 1, bytes: 'NOOP\r\n'.length }, sinkTally(s.stats()));
  });

  it('a client that hangs up inside a chunk is counted as lost in data', async () => {
    const s = await sinkWith({ chunking: true });
    const c = await client(s);
    await envelope(c);
    c.send('BDAT 100 LAST\r\nonly part');
    await sleep(50);
    c.close();
    for (let i = 0; i < 100 && s.stats().sessions < 1; i++) await sleep(10);
    expect(s.stats()).toMatchObject({ messages: 0, lostInData: 1 });
  });
});

describe('dump files', () => {
  it('a message sent by DATA and by BDAT gives byte-identical dumps (ids and dates masked)', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const s = await sinkWith({ chunking: true, dumpTemplate: join(dir.path, 'm.') });
    const c = await client(s);
    const content = 'Subject: same\r\n\r\n.leading dot\r\n..two\r\nbare\rcr\r\n.\r\nlast\r\n';
    const stuffed = content.replace(/^\./gm, '..');
    await envelope(c);
    expect(await exchange(c, 'DATA\r\n' + stuffed + '.\r\n', 2)).toEqual(['354 End data with <CR><LF>.<CR><LF>', '250 2.0.0 Ok']);
    expect((await c.command('MAIL FROM:<a@b.example>')).code).toBe(250);
    expect((await c.command('RCPT TO:<c@d.example>')).code).toBe(250);
    const half = 20;
    expect(await exchange(c, `BDAT ${half}\r\n${content.slice(0, half)}BDAT ${content.length - half} LAST\r\n${content.slice(half)}`, 2)).toEqual([
      `250 2.0.0 Ok: ${half} bytes`, '250 2.0.0 Ok',
    ]);
    expect((await c.command('QUIT')).code).toBe(221);
    // The DATA message dot-stuffed on the wire, the BDAT one as it is.
    expectSameTally({ messages: 2, recipients: 2, bytes: wireBytes(content) + content.length }, sinkTally(s.stats()));
    const files = readdirSync(dir.path).sort();
    expect(files).toHaveLength(2);
    const mask = (t: string): string => t.replace(/ id [0-9a-f]{8};\n\t.*\n/, ' id ID;\n\tDATE\n');
    const [a, b] = files.map((f) => mask(readFileSync(join(dir.path, f), 'latin1')));
    expect(a).toContain('.leading dot\n..two\nbarecr\n.\nlast\n\n');
    expect(b).toBe(a);
  });
});

describe('SIZE', () => {
  it('MAIL SIZE= over the limit, and messages over it by DATA or BDAT, get 552', async () => {
    const s = await sinkWith({ chunking: true, sizeLimit: 10 });
    const c = await client(s);
    expect((await c.command('EHLO x')).code).toBe(250);
    expect(await exchange(c, 'MAIL FROM:<a@b> SIZE=11\r\n', 1)).toEqual(['552 5.3.4 Message size exceeds fixed limit']);
    expect(await exchange(c, 'MAIL FROM:<a@b> SIZE=10\r\nRCPT TO:<c@d>\r\nDATA\r\n12345678901\r\n.\r\n', 4)).toEqual([
      '250 2.1.0 Ok', '250 2.1.5 Ok', '354 End data with <CR><LF>.<CR><LF>', '552 5.3.4 Message size exceeds fixed limit',
    ]);
    expect(await exchange(c, 'MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 6\r\n123456BDAT 5 LAST\r\n78901', 4)).toEqual([
      '250 2.1.0 Ok', '250 2.1.5 Ok', '250 2.0.0 Ok: 6 bytes', '552 5.3.4 Message size exceeds fixed limit',
    ]);
    // At the limit: accepted (8 bytes + CRLF = 10).
    expect(await exchange(c, 'MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 10 LAST\r\n12345678\r\n', 3)).toEqual(['250 2.1.0 Ok', '250 2.1.5 Ok', '250 2.0.0 Ok']);
    expect(s.stats()).toMatchObject({ messages: 3, messagesAccepted: 1 });
    expect(s.stats().rejects['552']).toBe(3);
    // One message accepted; three RCPTs accepted (the first MAIL was refused); every message
    // byte sent counts, those of the two refused for their size too.
    const sent = wireBytes('12345678901\r\n') + '123456'.length + '78901'.length + '12345678\r\n'.length;
    expectSameTally({ messages: 1, recipients: 3, bytes: sent }, sinkTally(s.stats()));
  });
});

describe('SMTPUTF8', () => {
  it('a non-ASCII address needs SMTPUTF8 in MAIL (553 5.6.7); with it, accepted and counted', async () => {
    const s = await sinkWith({ smtputf8: true });
    const c = await client(s);
    expect((await c.command('EHLO x')).code).toBe(250);
    expect(await exchange(c, Buffer.from('MAIL FROM:<jürgen@exämple.de>\r\n'), 1)).toEqual(['553 5.6.7 Must declare SMTPUTF8 to send unicode address']);
    expect(await exchange(c, Buffer.from('MAIL FROM:<a@b>\r\nRCPT TO:<δοκιμή@παράδειγμα.δοκιμή>\r\nRSET\r\n'), 3)).toEqual([
      '250 2.1.0 Ok', '553 5.6.7 Must declare SMTPUTF8 to send unicode address', '250 2.1.0 Ok',
    ]);
    expect(await exchange(c, Buffer.from('MAIL FROM:<jürgen@exämple.de> SMTPUTF8\r\nRCPT TO:<δοκιμή@παράδειγμα.δοκιμή>\r\nDATA\r\nx\r\n.\r\n'), 4)).toEqual([
      '250 2.1.0 Ok', '250 2.1.5 Ok', '354 End data with <CR><LF>.<CR><LF>', '250 2.0.0 Ok',
    ]);
    expect(s.stats()).toMatchObject({ messages: 1, smtputf8Messages: 1 });
    expectSameTally({ messages: 1, recipients: 1, bytes: wireBytes('x\r\n') }, sinkTally(s.stats()));
  });

  it.skipIf(!python)('Python smtplib sends with mail_options=["SMTPUTF8"]', async () => {
    const s = await sinkWith({ smtputf8: true });
    const script = `
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='client.example', timeout=10)
s.ehlo()
out['utf8'] = s.has_extn('smtputf8')
out['refused'] = s.sendmail('jürgen@exämple.de', ['δοκιμή@παράδειγμα.δοκιμή'], 'Subject: ü\\r\\n\\r\\nhallo\\r\\n'.encode('utf-8'), mail_options=['SMTPUTF8'])
out['quit'] = s.quit()
`;
    const { out, tally } = await pySmtplib(python!, script, [String(portOf(s))]);
    expect(out).toEqual({ utf8: true, refused: {}, quit: [221, 'Bye'] });
    expect(s.stats()).toMatchObject({ messages: 1, messagesAccepted: 1, smtputf8Messages: 1 });
    expectSameTally(tally, sinkTally(s.stats()));
  });

  it('nodemailer sends to a UTF-8 address when SMTPUTF8 is announced', async () => {
    const s = await sinkWith({ smtputf8: true });
    const t = nodemailerTransport(portOf(s), { secure: false, ignoreTLS: true });
    const info = await t.sendMail({ from: 'jürgen@exämple.de', to: 'δοκιμή@παράδειγμα.δοκιμή', subject: 'ü', text: 'hallo' });
    expect(info.rejected).toEqual([]);
    expect(s.stats()).toMatchObject({ messages: 1, messagesAccepted: 1, smtputf8Messages: 1 });
    expectSameTally(nodemailerTally([info]), sinkTally(s.stats()));
  });
});

describe('DSN parameters', () => {
  const dsnTransaction = 'MAIL FROM:<a@b> RET=HDRS ENVID=QQ314159\r\nRCPT TO:<c@d> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@d\r\n';

  it('are accepted while DSN is announced, also with the parameter checks on', async () => {
    for (const opts of [{}, { sizeLimit: 100, smtputf8: true }]) {
      const c = await client(await sinkWith(opts));
      expect(await exchange(c, dsnTransaction, 2)).toEqual(['250 2.1.0 Ok', '250 2.1.5 Ok']);
    }
  });

  it('-N: they get 555 5.5.4 Unsupported option', async () => {
    const c = await client(await sinkWith({ announce: { dsn: false } as SinkOptionsInput['announce'] }));
    expect(await exchange(c, dsnTransaction, 2)).toEqual(['555 5.5.4 Unsupported option: RET=HDRS', '503 5.5.1 Error: need MAIL command']);
    expect(await exchange(c, 'MAIL FROM:<a@b>\r\nRCPT TO:<c@d> ORCPT=rfc822;c@d\r\nRCPT TO:<c@d>\r\n', 3)).toEqual([
      '250 2.1.0 Ok', '555 5.5.4 Unsupported option: ORCPT=rfc822;c@d', '250 2.1.5 Ok',
    ]);
  });
});
