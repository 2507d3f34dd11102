// --bdat, --smtputf8, --size and --dsn: the exact bytes on the wire (a recording server that
// speaks BDAT), and a real Postfix smtpd (CHUNKING, SMTPUTF8, SIZE and DSN offered) that
// queues and logs what it got. Our own smtp-sink is not used here.
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatResult, runSource, type JournalEntry, type SourceOptionsInput, type SourceResult } from '../src/index.js';
import { parseSourceArgs } from '../src/cli-options.js';
import { orcpt, uxtext, xtext } from '../src/message.js';
import { startSink, type Sink } from '@smtpstone/smtp-sink';
import { LONG_QUEUE_ID, messagesByQueueId, postfixAvailable, privateDir, QUICK_RELAY_SETTINGS, startPrivatePostfix, waitUntil, type LoggedMessage, type PrivatePostfix } from '@smtpstone/testbed';
import { expectSameTally, sourceTally } from './helpers.js';
import { postfixTally, type PostfixSession } from './postfix-tally.js';

const CLIENT = 'client.example';
const SENDER = 'sender@example.com';
const RCPT = 'rcpt@example.net';

// ---- a recording ESMTP server with CHUNKING -----------------------------------------------

interface BdatRecorder {
  port: number;
  /** Everything each connection sent, byte for byte. */
  wire: Buffer[];
  /** The command lines (BDAT chunk data left out). */
  commands: string[];
  /** Per message: the chunks' data as received. */
  chunks: Buffer[][];
  close(): Promise<void>;
}

async function bdatRecorder(ehlo: string[], refuseChunk = 0): Promise<BdatRecorder> {
  const wire: Buffer[] = [];
  const commands: string[] = [];
  const chunks: Buffer[][] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const index = wire.push(Buffer.alloc(0)) - 1;
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    let buf = Buffer.alloc(0);
    let need = -1;
    let last = false;
    let current: Buffer[] = [];
    let chunkNo = 0;
    socket.write('220 recorder ESMTP\r\n');
    socket.on('data', (d: Buffer) => {
      wire[index] = Buffer.concat([wire[index], d]);
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (need >= 0) {
          if (buf.length < need) return;
          current.push(Buffer.from(buf.subarray(0, need)));
          buf = buf.subarray(need);
          need = -1;
          if (++chunkNo === refuseChunk) {
            current = [];
            socket.write('554 5.6.0 chunk refused\r\n');
          } else if (last) {
            chunks.push(current);
            current = [];
            socket.write('250 2.0.0 Ok: queued as ABC123\r\n');
          } else {
            socket.write('250 2.0.0 Ok: chunk\r\n');
          }
          continue;
        }
        const lf = buf.indexOf('\r\n');
        if (lf < 0) return;
        const line = buf.subarray(0, lf).toString('utf8');
        buf = buf.subarray(lf + 2);
        commands.push(line);
        const verb = line.split(' ')[0].toUpperCase();
        if (verb === 'EHLO') {
          socket.write(['250-recorder', ...ehlo].map((l, i, a) => `250${i === a.length - 1 ? ' ' : '-'}${l.replace(/^250-/, '')}\r\n`).join(''));
        } else if (verb === 'BDAT') {
          const m = /^BDAT (\d+)( LAST)?$/.exec(line)!;
          need = Number(m[1]);
          last = m[2] !== undefined;
        } else if (verb === 'DATA') {
          socket.write('554 no DATA here\r\n');
        } else if (verb === 'QUIT') {
          socket.end('221 Bye\r\n');
          return;
        } else {
          socket.write('250 Ok\r\n');
        }
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    wire,
    commands,
    chunks,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Our source against a recorder: this file's client, sender, recipient and a 5 s timeout; warnings kept. */
async function recorded(rec: { port: number }, options: Partial<SourceOptionsInput>): Promise<{ result: SourceResult; warnings: string[] }> {
  const warnings: string[] = [];
  const result = await runSource({ target: `127.0.0.1:${rec.port}`, myHostname: CLIENT, sender: SENDER, recipient: RCPT, timeoutSeconds: 5, writeLog: (l) => warnings.push(l), ...options });
  return { result, warnings };
}

const ALL = ['PIPELINING', 'SIZE 10240000', 'CHUNKING', 'SMTPUTF8', 'DSN', '8BITMIME'];

describe('--bdat, --smtputf8, --size, --dsn on the wire', () => {
  it('--bdat 100 with -l 5000: BDAT 100 chunks, the last BDAT n LAST; the chunks join to the message, not dot-stuffed', async () => {
    const rec = await bdatRecorder(ALL);
    try {
      const { result, warnings } = await recorded(rec, { length: 5000, bdat: { chunkSize: 100 }, size: true });
      expect(result.fatal).toBeUndefined();
      expect(warnings).toEqual([]);
      expect(result.messages).toMatchObject({ sent: 1, accepted: 1 });
      expect(result.options).toMatchObject({ bdat: true, bdatChunkSize: 100, size: true });
      expect(result.extensions).toEqual({ bdatMessages: 1, bdatFallbacks: 0, smtputf8NotOffered: 0, sizeSent: 1, dsnSent: 0, eightBitMimeSent: 0, eightBitMimeNotOffered: 0 });
      const [message] = rec.chunks;
      const whole = Buffer.concat(message);
      const total = whole.length;
      expect(total).toBe(result.bytes);
      expect(rec.commands[0]).toBe(`EHLO ${CLIENT}`);
      expect(rec.commands[1]).toBe(`MAIL FROM:<${SENDER}> SIZE=${total}`);
      expect(rec.commands[2]).toBe(`RCPT TO:<${RCPT}>`);
      const bdats = rec.commands.filter((c) => c.startsWith('BDAT'));
      const n = Math.ceil(total / 100);
      expect(bdats).toHaveLength(n);
      for (const b of bdats.slice(0, -1)) expect(b).toBe('BDAT 100');
      expect(bdats[n - 1]).toBe(`BDAT ${total - 100 * (n - 1)} LAST`);
      expect(message.slice(0, -1).every((c) => c.length === 100)).toBe(true);
      // The message: the headers, then the -l body (5000 bytes and CR LF), no final dot.
      const text = whole.toString('latin1');
      expect(text).toMatch(/^From: <sender@example\.com>\r\nTo: <rcpt@example\.net>\r\nDate: /);
      expect(text.endsWith('X\r\n')).toBe(true);
      expect(text).not.toContain('\r\n.\r\n');
      expect(rec.commands.at(-1)).toBe('QUIT');
    } finally {
      await rec.close();
    }
  });

  it('--bdat (one chunk), --pipelining: MAIL, RCPT and "BDAT n LAST" with the message in one write', async () => {
    const rec = await bdatRecorder(ALL);
    try {
      const { result } = await recorded(rec, { recipients: 2, messages: 2, reuseConnection: true, pipelining: true, bdat: {} });
      expect(result.fatal).toBeUndefined();
      expect(result.messages).toMatchObject({ sent: 2, accepted: 2, rejected: 0, failed: 0 });
      expect(rec.chunks).toHaveLength(2);
      const size = rec.chunks[0][0].length;
      const wire = rec.wire[0].toString('latin1');
      const envelope = `MAIL FROM:<${SENDER}>\r\nRCPT TO:<2${RCPT}>\r\nRCPT TO:<${RCPT}>\r\nBDAT ${size} LAST\r\nFrom: <${SENDER}>\r\n`;
      expect(wire.startsWith(`EHLO ${CLIENT}\r\n${envelope}`)).toBe(true);
      expect(rec.commands.filter((c) => c.startsWith('BDAT'))).toEqual([`BDAT ${size} LAST`, `BDAT ${rec.chunks[1][0].length} LAST`]);
      expect(rec.commands.includes('DATA')).toBe(false);
    } finally {
      await rec.close();
    }
  });

  it('--bdat with a -F file whose lines start with ".": sent as it is, not dot-stuffed', async () => {
    const rec = await bdatRecorder(ALL);
    const dir = privateDir('src-bdat-');
    try {
      const file = join(dir, 'm.txt');
      const { writeFileSync } = await import('node:fs');
      writeFileSync(file, 'Subject: dots\n\n.one\n..two\nend\n');
      const result = await runSource({ target: `127.0.0.1:${rec.port}`, myHostname: CLIENT, messageFile: file, bdat: {}, size: true, timeoutSeconds: 5, writeLog: () => undefined });
      expect(result.fatal).toBeUndefined();
      const body = 'Subject: dots\r\n\r\n.one\r\n..two\r\nend\r\n';
      expect(rec.chunks[0][0].toString('latin1')).toBe(body);
      expect(rec.commands).toContain(`BDAT ${body.length} LAST`);
      expect(rec.commands[1]).toBe(`MAIL FROM:<foo@${CLIENT}> SIZE=${body.length}`);
    } finally {
      await rec.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ORCPT: rfc822 and xtext for ASCII addresses; utf-8 (RFC 6533) for the others, 7-bit unless SMTPUTF8', () => {
    expect(orcpt('a+b=c@example.com', false)).toBe('rfc822;a+2Bb+3Dc@example.com');
    expect(orcpt('a+b=c@example.com', true)).toBe('rfc822;a+2Bb+3Dc@example.com');
    expect(orcpt('jörg+1@bücher.example', false)).toBe('utf-8;j\\x{F6}rg\\x{2B}1@b\\x{FC}cher.example');
    expect(orcpt('jörg+1@bücher.example', true)).toBe('utf-8;jörg\\x{2B}1@bücher.example');
    // Past the BMP, one code point (not two UTF-16 halves); controls and '\\' two digits at least.
    expect(uxtext('😀\\\t', false)).toBe('\\x{1F600}\\x{5C}\\x{09}');
    expect(uxtext('😀 ', true)).toBe('😀\\x{20}');
  });

  it('--smtputf8 --dsn: SMTPUTF8, RET=HDRS ENVID= on MAIL; NOTIFY and a utf-8 ORCPT (RFC 6533) on RCPT', async () => {
    const rec = await bdatRecorder(ALL);
    try {
      const rcpt = '用户+x=y@example.com';
      const { result } = await recorded(rec, { recipient: rcpt, smtputf8: true, dsn: true, bdat: {} });
      expect(result.fatal).toBeUndefined();
      expect(result.extensions).toMatchObject({ dsnSent: 1, smtputf8NotOffered: 0 });
      const runId = result.options.runId as string;
      expect(rec.commands[1]).toBe(`MAIL FROM:<${SENDER}> SMTPUTF8 RET=HDRS ENVID=${runId}.1`);
      // Under SMTPUTF8 the address goes as UTF-8; '+' and '=' (xtext's specials) as \\x{..}.
      expect(rec.commands[2]).toBe(`RCPT TO:<${rcpt}> NOTIFY=SUCCESS,FAILURE ORCPT=utf-8;用户\\x{2B}x\\x{3D}y@example.com`);
      expect(xtext('a+b=c d')).toBe('a+2Bb+3Dc+20d');
    } finally {
      await rec.close();
    }
  });

  it('no CHUNKING, SMTPUTF8, SIZE, DSN offered: DATA instead of BDAT (warned once, counted), plain MAIL/RCPT; --smtputf8 fails the message', async () => {
    const rec = await bdatRecorder(['PIPELINING']);
    try {
      const { result, warnings } = await recorded(rec, { messages: 2, bdat: { chunkSize: 10 }, size: true, dsn: true, allowReject: true });
      // The recorder refuses DATA: that it was sent is what counts here.
      expect(rec.commands.filter((c) => c === 'DATA')).toHaveLength(2);
      expect(rec.commands.filter((c) => c.startsWith('MAIL'))).toEqual([`MAIL FROM:<${SENDER}>`, `MAIL FROM:<${SENDER}>`]);
      expect(rec.commands.filter((c) => c.startsWith('RCPT'))).toEqual([`RCPT TO:<${RCPT}>`, `RCPT TO:<${RCPT}>`]);
      expect(result.extensions).toEqual({ bdatMessages: 0, bdatFallbacks: 2, smtputf8NotOffered: 0, sizeSent: 0, dsnSent: 0, eightBitMimeSent: 0, eightBitMimeNotOffered: 0 });
      expect(warnings.filter((w) => w.includes('CHUNKING not offered'))).toHaveLength(1);
      expect(formatResult(result)).toContain('\n  extensions: BDAT 0 messages, 2 by DATA (CHUNKING not offered); SIZE on 0 MAILs; DSN on 0 MAILs\n');

      const { result: utf8 } = await recorded(rec, { recipient: '用户@example.com', smtputf8: true, messages: 2, allowReject: true });
      expect(utf8.messages).toMatchObject({ accepted: 0, failed: 2 });
      expect(utf8.extensions?.smtputf8NotOffered).toBe(2);
      const fatal = await runSource({ target: `127.0.0.1:${rec.port}`, myHostname: CLIENT, smtputf8: true, timeoutSeconds: 5, writeLog: () => undefined });
      expect(fatal.fatal).toBe('SMTPUTF8 not offered by the server (--smtputf8): message not sent');
    } finally {
      await rec.close();
    }
  });

  it('a refused BDAT chunk (lock-step): no more chunks, RSET, the message rejected (-A: counted at data)', async () => {
    const rec = await bdatRecorder(ALL, 2);
    try {
      const { result } = await recorded(rec, { bdat: { chunkSize: 50 }, allowReject: true });
      expect(result.messages).toMatchObject({ accepted: 0, rejected: 1 });
      expect(result.rejects).toEqual({ data: { '554': 1 } });
      expect(rec.commands.slice(3)).toEqual(['BDAT 50', 'BDAT 50', 'RSET', 'QUIT']);
    } finally {
      await rec.close();
    }
  });

  it('CLI: the flags, and one line naming the flag for each bad use', () => {
    const ok = parseSourceArgs(['--bdat', '100', '--smtputf8', '--size', '--dsn', '--8bitmime', '-t', '用户@example.com', '127.0.0.1:25']).source;
    expect(ok).toMatchObject({ bdat: { chunkSize: 100 }, smtputf8: true, size: true, dsn: true, eightBitMime: true, recipient: '用户@example.com' });
    expect(parseSourceArgs(['--bdat', '127.0.0.1:25']).source).toMatchObject({ bdat: {}, target: '127.0.0.1:25' });
    const bad = (args: string[]): string => {
      try {
        parseSourceArgs(args);
      } catch (err) {
        return (err as Error).message;
      }
      return 'no error';
    };
    expect(bad(['--bdat', '0', 'h:25'])).toBe('bad chunk size: 0 (--bdat wants a whole number of bytes greater than 0, or nothing for one chunk)');
    expect(bad(['--bdat=x', 'h:25'])).toMatch(/^bad chunk size: x \(--bdat/);
    expect(bad(['--bdat', '-o', 'h:25'])).toBe('--bdat cannot be used with -o (old mode sends no EHLO)');
    expect(bad(['--size', '-o', 'h:25'])).toBe('--size cannot be used with -o (old mode sends no EHLO)');
    expect(bad(['--8bitmime', '-o', 'h:25'])).toBe('--8bitmime cannot be used with -o (old mode sends no EHLO)');
    expect(bad(['-t', '用户@example.com', 'h:25'])).toBe('-t 用户@example.com is not ASCII (UTF-8 addresses need --smtputf8)');
    expect(bad(['-f', 'ü@example.com', 'h:25'])).toBe('-f ü@example.com is not ASCII (UTF-8 addresses need --smtputf8)');
  });
});

// ---- a real Postfix -------------------------------------------------------------------------

describe.skipIf(!postfixAvailable())('--bdat, --smtputf8, --size, --dsn against a real Postfix smtpd', () => {
  let pf: PrivatePostfix;
  let tmp: string;
  let runs = 0;

  beforeAll(async () => {
    tmp = privateDir('src-ext-');
    pf = await startPrivatePostfix({ main: { smtputf8_enable: 'yes' } });
  });

  afterAll(async () => {
    await pf?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  async function send(options: Partial<SourceOptionsInput>): Promise<{ result: SourceResult; journal: JournalEntry[]; warnings: string[] }> {
    const journalPath = join(tmp, `run-${++runs}.jsonl`);
    const warnings: string[] = [];
    const result = await runSource(
      { target: `127.0.0.1:${pf.port}`, myHostname: CLIENT, sender: SENDER, recipient: RCPT, timeoutSeconds: 10, writeLog: (l) => warnings.push(l), ...options },
      { journalPath },
    );
    const text = readFileSync(journalPath, 'utf8');
    const journal = text === '' ? [] : text.trimEnd().split('\n').map((l) => JSON.parse(l) as JournalEntry);
    return { result, journal, warnings };
  }

  /**
   * Postfix's side of the tally (postfix-tally.ts): every run here greets with EHLO. With BDAT
   * the wire bytes are the chunks' bytes, not dot-stuffed, and smtpd stores them line by line
   * as for DATA, so size= minus the added lines is the chunk bytes (the generated messages have
   * no line starting with "." and none of 128 bytes or more).
   */
  // Only what smtpd received: with NOTIFY=SUCCESS Postfix queues a success DSN to the sender too.
  const tally = (before: number, expected: number, proto: PostfixSession['proto'] = 'ESMTP') => postfixTally(pf, before, expected, { proto, client: CLIENT, smtpd: 'postfix/smtpd' });

  /** Each journal line queued, and its queue id in the maillog with our Message-Id, size and a delivery. */
  async function logged(journal: JournalEntry[], rcpt = RCPT): Promise<LoggedMessage[]> {
    for (const e of journal) {
      expect(e.status).toBe('accepted');
      expect(e.queueId).toMatch(LONG_QUEUE_ID);
    }
    const records = await pf.waitForLog(`${journal.length} queue ids delivered`, (rs) => {
      const byId = messagesByQueueId(rs);
      return journal.every((e) => {
        const lm = byId.get(e.queueId!);
        return lm !== undefined && lm.client !== undefined && lm.messageId !== undefined && lm.size !== undefined && lm.deliveries.length > 0 && lm.removed;
      });
    });
    const byId = messagesByQueueId(records);
    return journal.map((e) => {
      const lm = byId.get(e.queueId!)!;
      expect(lm.client).toBe('localhost[127.0.0.1]');
      expect(lm.messageId).toBe(e.messageId);
      expect(lm.deliveries.map((d) => d.to)).toEqual([rcpt]);
      return lm;
    });
  }

  it('--bdat in one chunk and in 100-byte chunks of a 5 KB message: queued, and Postfix logs the same size as for DATA', async () => {
    const sizes: number[] = [];
    for (const bdat of [undefined, {}, { chunkSize: 100 }]) {
      const before = pf.records().length;
      const { result, journal, warnings } = await send({ length: 5000, bdat, size: true });
      expect(result.fatal).toBeUndefined();
      expect(warnings).toEqual([]);
      expect(result.messages).toMatchObject({ sent: 1, accepted: 1 });
      if (bdat !== undefined) expect(result.extensions).toMatchObject({ bdatMessages: 1, bdatFallbacks: 0, sizeSent: 1 });
      // The journal says how each message went: BDAT marked, DATA not.
      expect(journal[0].bdat).toBe(bdat !== undefined ? true : undefined);
      const [lm] = await logged(journal);
      // Postfix's size counts its Received: header, which names the queue id (of varying length).
      sizes.push(lm.size! - journal[0].queueId!.length);
      expectSameTally(sourceTally(result), await tally(before, 1));
    }
    expect(sizes[1]).toBe(sizes[0]);
    expect(sizes[2]).toBe(sizes[0]);
  });

  it('--bdat --pipelining -d -m 5 -r 2: every message queued and delivered', async () => {
    const before = pf.records().length;
    const { result, journal } = await send({ bdat: { chunkSize: 50 }, pipelining: true, reuseConnection: true, messages: 5, recipients: 2 });
    expect(result.fatal).toBeUndefined();
    expect(result.messages).toMatchObject({ sent: 5, accepted: 5, rejected: 0, failed: 0 });
    expect(new Set(journal.map((e) => e.queueId)).size).toBe(5);
    const records = await pf.waitForLog('5 queue ids delivered twice', (rs) => {
      const byId = messagesByQueueId(rs);
      return journal.every((e) => (byId.get(e.queueId!)?.deliveries.length ?? 0) >= 2);
    });
    const byId = messagesByQueueId(records);
    for (const e of journal) expect(byId.get(e.queueId!)!.messageId).toBe(e.messageId);
    expectSameTally(sourceTally(result), await tally(before, 5));
  });

  it('--smtputf8 with a UTF-8 recipient: Postfix takes it, logs the message and delivers to 用户@example.com', async () => {
    const rcpt = '用户@example.com';
    const before = pf.records().length;
    const { result, journal } = await send({ recipient: rcpt, smtputf8: true, bdat: {} });
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(1);
    expect(journal[0].recipients).toEqual([rcpt]);
    await logged(journal, rcpt);
    // SMTPUTF8 on MAIL: smtpd's Received: says "with UTF8SMTP"; its "for <用户@...>" is UTF-8 bytes.
    expectSameTally(sourceTally(result), await tally(before, 1, 'UTF8SMTP'));
  });

  it('--size --dsn: Postfix takes SIZE, RET, ENVID, NOTIFY and ORCPT', async () => {
    const before = pf.records().length;
    const { result, journal, warnings } = await send({ size: true, dsn: true, messages: 3, recipients: 2, reuseConnection: true });
    expect(result.fatal).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(result.messages.accepted).toBe(3);
    expect(result.extensions).toMatchObject({ sizeSent: 3, dsnSent: 3 });
    expect(result.recipients).toEqual({ sent: 6, accepted: 6, rejected: 0 });
    const records = await pf.waitForLog('3 queue ids delivered twice', (rs) => {
      const byId = messagesByQueueId(rs);
      return journal.every((e) => (byId.get(e.queueId!)?.deliveries.length ?? 0) >= 2);
    });
    const byId = messagesByQueueId(records);
    for (const e of journal) expect(byId.get(e.queueId!)!.messageId).toBe(e.messageId);
    expectSameTally(sourceTally(result), await tally(before, 3));
  });
});

// ---- ORCPT through a real Postfix -----------------------------------------------------------

describe.skipIf(!postfixAvailable())('a utf-8 ORCPT through Postfix to our sink', () => {
  let pf: PrivatePostfix;
  let sink: Sink;
  const sinkLog: string[] = [];

  beforeAll(async () => {
    sink = await startSink({ listen: '127.0.0.1:0', smtputf8: true, verbose: 1, writeLog: (l) => sinkLog.push(l) });
    const sinkPort = sink.address.kind === 'inet' ? sink.address.port : 0;
    pf = await startPrivatePostfix({ main: { smtputf8_enable: 'yes', default_transport: 'smtp', relayhost: `[127.0.0.1]:${sinkPort}`, ...QUICK_RELAY_SETTINGS } });
  });

  afterAll(async () => {
    await pf?.stop();
    await sink?.close();
  });

  /** RFC 6533 uxtext and RFC 3461 xtext, decoded. */
  function decodeOrcpt(value: string): { type: string; address: string } {
    const [type, text] = [value.slice(0, value.indexOf(';')), value.slice(value.indexOf(';') + 1)];
    if (type.toLowerCase() === 'utf-8') return { type, address: text.replace(/\\x\{([0-9A-F]+)\}/g, (_m, h: string) => String.fromCodePoint(parseInt(h, 16))) };
    const bytes = Buffer.from(text.replace(/\+([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    return { type, address: bytes.toString('utf8') };
  }

  it('Postfix takes our utf-8 ORCPT, decodes it and hands the same address on to the next hop', async () => {
    const rcpt = 'jörg+x=y@bücher.example';
    const result = await runSource({ target: `127.0.0.1:${pf.port}`, myHostname: CLIENT, sender: SENDER, recipient: rcpt, smtputf8: true, dsn: true, timeoutSeconds: 10, writeLog: () => undefined });
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(1);
    await waitUntil('the relayed message at the sink', () => sink.stats().messages >= 1, 20_000);
    const rcptLine = sinkLog.find((l) => l.includes('RCPT TO:') && l.includes('ORCPT='));
    expect(rcptLine, sinkLog.join('\n')).toBeDefined();
    const orcptValue = /ORCPT=(\S+)/.exec(rcptLine!)![1];
    expect(decodeOrcpt(orcptValue)).toEqual({ type: expect.stringMatching(/^utf-8$/i), address: rcpt });
  });
});
