// Postfix's own load generator, /usr/sbin/smtp-source, drives our sink. smtp-source is strict
// and lock-step: it dies on any unexpected reply, and in LMTP mode it reads exactly one reply
// per RCPT after the dot, so a run that exits 0 with matching counts on both sides means the
// sink spoke the protocol the way the C sink does.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SinkStats } from '../src/index.js';
import { peer, portOf, run, type Run } from './helpers.js';
import {
  expectSameTally,
  lastCounter,
  NO_PROBLEMS,
  problems,
  resources,
  runOk,
  settled,
  sinkTally,
  socketIn,
  waitFor,
  type Tally,
} from './interop-helpers.js';
import { countingProxy } from './tallies.js';

const smtpSource = peer('smtp-source');
const r = resources();

/** Fixed addresses and HELO name, so nothing depends on this machine's hostname. */
const ADDR = ['-f', 'sender@example.com', '-t', 'rcpt@example.com', '-M', 'client.example'];

/** smtp-source's default body: four "La de da de da N." lines. */
const DEFAULT_BODY_BYTES = 4 * 'La de da de da 1.\r\n'.length;

/** The lines of smtp-source's -l body (spec 1.4) as a dump shows them, without line ends. */
function generatedBody(n: number): string[] {
  const lines: string[] = [];
  for (let i = 80; i < n; i += 80) lines.push('0123456789'[(i / 80) % 10] + 'X'.repeat(77));
  lines.push('X'.repeat(n - 80 * lines.length));
  return lines;
}

/**
 * Runs smtp-source with `args` against the sink at `target`, through a counting proxy, and
 * returns its output and its side of the tally. smtp-source reports nothing but -c's counter,
 * so its messages and recipients are what it was told to send (-m, each to -r recipients; it
 * exits non-zero on any refusal) and its bytes what the proxy saw it send after DATA.
 */
async function counted(args: string[], target: string): Promise<{ out: Run; tally: Tally }> {
  const proxy = await countingProxy(target);
  const out = await runOk(smtpSource!, [...ADDR, ...args, proxy.target]);
  const opt = (name: string) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : 1);
  return { out, tally: { messages: opt('-m'), recipients: opt('-m') * opt('-r'), bytes: proxy.bytes() } };
}

describe.skipIf(!smtpSource)('smtp-source drives the sink', () => {
  it('SMTP, a new connection per message: -m 500 -s 5 -c', async () => {
    const sink = await r.sink();
    const { out, tally } = await counted(['-c', '-m', '500', '-s', '5'], `127.0.0.1:${portOf(sink)}`);
    // -c prints "1\r2\r...500\r\n" on stdout.
    expect(lastCounter(out.stdout)).toBe('500');
    expect(out.stdout.endsWith('500\r\n')).toBe(true);
    expect(out.stderr).toBe('');
    const s = await settled(sink, 500);
    expect(s.messages).toBe(500);
    expect(s.messagesAccepted).toBe(500);
    expect(s.recipients).toBe(500);
    expect(s.sessions).toBe(500);
    expect(s.connections).toBe(500);
    expect(s.quits).toBe(500);
    expect(s.commands).toMatchObject({ helo: 500, ehlo: 0, lhlo: 0, mail: 500, rcpt: 500, data: 500, quit: 500, rset: 0 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    // Four generated headers, a blank line and the four-line body per message.
    expect(s.bytes).toBeGreaterThan(500 * (DEFAULT_BODY_BYTES + 60));
    expect(s.bytes).toBeLessThan(500 * (DEFAULT_BODY_BYTES + 300));
    expectSameTally(tally, sinkTally(s));
  });

  it('LMTP on both sides (-L): one end-of-data reply per recipient, -r 3', async () => {
    const sink = await r.sink({ lmtp: true });
    const { out, tally } = await counted(['-L', '-c', '-m', '300', '-s', '3', '-r', '3'], `127.0.0.1:${portOf(sink)}`);
    expect(lastCounter(out.stdout)).toBe('300');
    const s = await settled(sink, 300);
    expect(s.messages).toBe(300);
    expect(s.messagesAccepted).toBe(300);
    expect(s.recipients).toBe(900);
    expect(s.sessions).toBe(300);
    expect(s.quits).toBe(300);
    expect(s.commands).toMatchObject({ lhlo: 300, helo: 0, ehlo: 0, mail: 300, rcpt: 900, data: 300, quit: 300 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(tally, sinkTally(s));
  });

  it('LMTP with connection reuse (-L -d -r 4): replies stay in step over 400 messages', async () => {
    // One reply too many or too few after a dot would desynchronise the next transaction.
    const sink = await r.sink({ lmtp: true });
    const { out, tally } = await counted(['-L', '-d', '-c', '-m', '400', '-s', '2', '-r', '4'], `127.0.0.1:${portOf(sink)}`);
    expect(lastCounter(out.stdout)).toBe('400');
    const s = await settled(sink, 2);
    expect(s).toMatchObject({ messages: 400, recipients: 1600, sessions: 2, connections: 2, quits: 2 });
    expect(s.commands).toMatchObject({ lhlo: 2, mail: 400, rcpt: 1600, data: 400, quit: 2 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(tally, sinkTally(s));
  });

  it('an SMTP client against an LMTP sink is refused at HELO, as by the C sink', async () => {
    const sink = await r.sink({ lmtp: true });
    const proxy = await countingProxy(`127.0.0.1:${portOf(sink)}`);
    const out = await run(smtpSource!, [...ADDR, '-m', '1', proxy.target], { timeoutMs: 10000 });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('fatal: HELO rejected: 500 5.5.1 Error: unknown command');
    const s = await settled(sink, 1);
    expect(s.messages).toBe(0);
    expect(s.rejects).toEqual({ '500': 1 });
    // Nothing went through: no message, no recipient, no message byte on either side.
    expectSameTally({ messages: 0, recipients: 0, bytes: proxy.bytes() }, sinkTally(s));
  });

  it('connection reuse (-d): 1000 messages over 4 sessions', async () => {
    const sink = await r.sink();
    const { out, tally } = await counted(['-d', '-c', '-m', '1000', '-s', '4'], `127.0.0.1:${portOf(sink)}`);
    expect(lastCounter(out.stdout)).toBe('1000');
    const s = await settled(sink, 4);
    expect(s).toMatchObject({ messages: 1000, messagesAccepted: 1000, recipients: 1000, sessions: 4, connections: 4, quits: 4 });
    // With -d the next message starts at MAIL: one HELO per connection.
    expect(s.commands).toMatchObject({ helo: 4, mail: 1000, rcpt: 1000, data: 1000, quit: 4, rset: 0 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(tally, sinkTally(s));
  });

  it('several recipients per message (-r 5)', async () => {
    const sink = await r.sink();
    const { out, tally } = await counted(['-c', '-m', '400', '-s', '4', '-r', '5'], `127.0.0.1:${portOf(sink)}`);
    expect(lastCounter(out.stdout)).toBe('400');
    const s = await settled(sink, 400);
    expect(s).toMatchObject({ messages: 400, recipients: 2000, sessions: 400, quits: 400 });
    expect(s.commands).toMatchObject({ rcpt: 2000, data: 400 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(tally, sinkTally(s));
  });

  it('numbered recipients (-N -r 2): the sink sees every RCPT 1..400 once', async () => {
    const sink = await r.sink({ verbose: 1 });
    const { tally } = await counted(['-N', '-d', '-m', '200', '-s', '2', '-r', '2'], `127.0.0.1:${portOf(sink)}`);
    const s = await settled(sink, 2);
    expect(s).toMatchObject({ messages: 200, recipients: 400 });
    const numbers = sink.logs
      .map((l) => /^smtp-sink: RCPT TO:<(\d+)rcpt@example\.com>\n$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(sink.logs.filter((l) => l === 'smtp-sink: HELO client.example\n')).toHaveLength(2);
    expect(sink.logs.filter((l) => l === 'smtp-sink: MAIL FROM:<sender@example.com>\n')).toHaveLength(200);
    expectSameTally(tally, sinkTally(s));
  });

  it('50 parallel sessions (-s 50): the sink serves them at once', async () => {
    const sink = await r.sink();
    let peakActive = 0;
    sink.on('message', () => {
      peakActive = Math.max(peakActive, sink.stats().active);
    });
    const { out, tally } = await counted(['-c', '-m', '1000', '-s', '50'], `127.0.0.1:${portOf(sink)}`);
    expect(lastCounter(out.stdout)).toBe('1000');
    const s = await settled(sink, 1000);
    expect(s).toMatchObject({ messages: 1000, recipients: 1000, sessions: 1000, connections: 1000, quits: 1000 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expect(peakActive).toBeGreaterThan(1);
    expectSameTally(tally, sinkTally(s));
  });

  it('more sessions than the sink serves at once (-s 20 against maxClients 4): the rest wait, none is lost', async () => {
    const sink = await r.sink({ maxClients: 4 });
    let peakActive = 0;
    sink.on('message', () => {
      peakActive = Math.max(peakActive, sink.stats().active);
    });
    const { tally } = await counted(['-d', '-m', '400', '-s', '20'], `127.0.0.1:${portOf(sink)}`);
    const s = await settled(sink, 20);
    expect(s).toMatchObject({ messages: 400, sessions: 20, connections: 20, quits: 20, waiting: 0 });
    expect(s.peakWaiting).toBeGreaterThan(0);
    expect(peakActive).toBeLessThanOrEqual(4);
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(tally, sinkTally(s));
  });

  it('large messages (-l 200000): every byte is counted', async () => {
    const sink = await r.sink();
    const m = 200;
    const { tally } = await counted(['-d', '-m', String(m), '-l', '200000'], `127.0.0.1:${portOf(sink)}`);
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: m, recipients: m, sessions: 1 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    // One session, so every message has the same headers: the count is m x (headers + body),
    // and the body on the wire is 200000 bytes + CRLF.
    expect(s.bytes % m).toBe(0);
    const headers = s.bytes / m - 200002;
    expect(headers).toBeGreaterThan(60);
    expect(headers).toBeLessThan(300);
    expectSameTally(tally, sinkTally(s));
  });

  it('the -l body arrives intact in a dump file', async () => {
    const dir = r.dir();
    const sink = await r.sink({ dumpTemplate: join(dir, 'msg.') });
    const { tally } = await counted(['-m', '1', '-l', '5120'], `127.0.0.1:${portOf(sink)}`);
    expectSameTally(tally, sinkTally(await settled(sink, 1)));
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    const dump = readFileSync(join(dir, files[0]), 'latin1');
    const [head, body] = [dump.slice(0, dump.indexOf('\n\n')), dump.slice(dump.indexOf('\n\n') + 2)];
    expect(head).toMatch(/^X-Client-Addr: 127\.0\.0\.1\nX-Client-Proto: SMTP\nX-Helo-Args: client\.example\nX-Mail-Args: <sender@example\.com>\nX-Rcpt-Args: <rcpt@example\.com>\nReceived: from client\.example \(\[127\.0\.0\.1\]\)\n/);
    expect(head).toContain('\nFrom: <sender@example.com>\nTo: <rcpt@example.com>\n');
    // 63 numbered lines of 78 characters, then 80 X, then the empty line of the terminator.
    const lines = body.split('\n');
    expect(lines).toHaveLength(63 + 1 + 2);
    expect(lines.slice(0, 64)).toEqual(generatedBody(5120));
    expect(lines[0]).toBe('1' + 'X'.repeat(77));
    expect(lines[63]).toBe('X'.repeat(80));
    expect(lines.slice(64)).toEqual(['', '']);
  });

  it('-o (no HELO, no generated headers) with -F: the dump shows the file, dots and all', async () => {
    const dir = r.dir();
    const file = join(dir, 'body.txt');
    writeFileSync(file, '.a\n..b\nplain\n.\nend');
    const sink = await r.sink({ dumpTemplate: join(dir, 'msg.') });
    const { tally } = await counted(['-o', '-F', file, '-m', '1'], `127.0.0.1:${portOf(sink)}`);
    const s = await settled(sink, 1);
    expect(s.commands).toMatchObject({ helo: 0, ehlo: 0, mail: 1, rcpt: 1, data: 1, quit: 1 });
    // smtp-source stuffs the dot lines and adds an empty line before the "." (spec 1.2, -F).
    expect(s.bytes).toBe('..a\r\n...b\r\nplain\r\n..\r\nend\r\n\r\n'.length);
    expectSameTally(tally, sinkTally(s));
    const files = readdirSync(dir).filter((f) => f.startsWith('msg.'));
    expect(files).toHaveLength(1);
    const dump = readFileSync(join(dir, files[0]), 'latin1');
    // With no HELO there is no X-Helo-Args and Received: names the address.
    expect(dump).toMatch(
      /^X-Client-Addr: 127\.0\.0\.1\nX-Client-Proto: SMTP\nX-Mail-Args: <sender@example\.com>\nX-Rcpt-Args: <rcpt@example\.com>\nReceived: from \[127\.0\.0\.1\] \(\[127\.0\.0\.1\]\)\n\tby smtp-sink \(smtp-sink\) with SMTP id [0-9a-f]{8};\n\t[^\n]+\n\.a\n\.\.b\nplain\n\.\nend\n\n\n$/,
    );
  });

  it('-F with a CRLF file: the "\\r\\r\\n" line ends smtp-source sends neither end the data early nor reach the dump', async () => {
    const dir = r.dir();
    const file = join(dir, 'crlf.txt');
    writeFileSync(file, 'Subject: crlf\r\n\r\nx\r\n.\r\ny\r\n');
    const sink = await r.sink({ dumpTemplate: join(dir, 'msg.') });
    const { tally } = await counted(['-F', file, '-m', '3', '-d'], `127.0.0.1:${portOf(sink)}`);
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 3, messagesAccepted: 3, dumps: 3 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    // Each line keeps its CR and gets CR LF; the "." line is stuffed; one more CR LF at the end.
    expect(s.bytes).toBe(3 * 'Subject: crlf\r\r\n\r\r\nx\r\r\n..\r\r\ny\r\r\n\r\n'.length);
    expectSameTally(tally, sinkTally(s));
    for (const f of readdirSync(dir).filter((n) => n.startsWith('msg.'))) {
      const dump = readFileSync(join(dir, f), 'latin1');
      expect(dump.slice(dump.indexOf('\nSubject: ') + 1)).toBe('Subject: crlf\n\nx\n.\ny\n\n\n');
    }
  });

  it('-D shared dump: 200 messages from 10 parallel sessions land whole, one after another', async () => {
    const dir = r.dir();
    const shared = join(dir, 'all.dump');
    const sink = await r.sink({ sharedDumpTemplate: shared });
    const { tally } = await counted(['-m', '200', '-s', '10', '-l', '3000'], `127.0.0.1:${portOf(sink)}`);
    const s = await settled(sink, 200);
    expect(s).toMatchObject({ messages: 200, dumps: 200, dumpErrors: 0 });
    const parts = readFileSync(shared, 'latin1').split(/^(?=X-Client-Addr: )/m);
    expect(parts).toHaveLength(200);
    const body = generatedBody(3000).join('\n') + '\n\n';
    for (const part of parts) {
      expect(part).toMatch(
        /^X-Client-Addr: 127\.0\.0\.1\nX-Client-Proto: SMTP\nX-Helo-Args: client\.example\nX-Mail-Args: <sender@example\.com>\nX-Rcpt-Args: <rcpt@example\.com>\nReceived: from client\.example \(\[127\.0\.0\.1\]\)\n\tby smtp-sink \(smtp-sink\) with SMTP id [0-9a-f]{8};\n\t[^\n]+\nFrom: <sender@example\.com>\nTo: <rcpt@example\.com>\nDate: [^\n]+\nMessage-Id: <[0-9a-f.]+@client\.example>\n\n/,
      );
      expect(part.slice(part.indexOf('\n\n') + 2)).toBe(body);
    }
    // No line of these messages starts with "." and none has a bare CR, so each message on the
    // wire is its dump text after the Received: block, less the terminator's "\n", with CR LF.
    const wire = parts.reduce((n, p) => n + p.slice(p.indexOf('\nFrom: ') + 1, -1).replace(/\n/g, '\r\n').length, 0);
    expect(s.bytes).toBe(wire);
    expectSameTally(tally, sinkTally(s));
  });

  it('a unix-domain socket: SMTP with -d', async () => {
    const path = socketIn(r.dir());
    const sink = await r.sink({ listen: `unix:${path}`, verbose: 1 });
    const { out, tally } = await counted(['-c', '-d', '-m', '600', '-s', '3', '-r', '2'], `unix:${path}`);
    expect(lastCounter(out.stdout)).toBe('600');
    const s = await settled(sink, 3);
    expect(s).toMatchObject({ messages: 600, recipients: 1200, sessions: 3, connections: 3, quits: 3 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expect(sink.logs.filter((l) => l === 'smtp-sink: connect (AF_LOCAL local)\n')).toHaveLength(3);
    expectSameTally(tally, sinkTally(s));
  });

  it('a unix-domain socket: LMTP, a new connection per message', async () => {
    const path = socketIn(r.dir());
    const sink = await r.sink({ listen: `unix:${path}`, lmtp: true });
    const { out, tally } = await counted(['-L', '-c', '-m', '300', '-s', '3', '-r', '2'], `unix:${path}`);
    expect(lastCounter(out.stdout)).toBe('300');
    const s = await settled(sink, 300);
    expect(s).toMatchObject({ messages: 300, recipients: 600, sessions: 300, quits: 300 });
    expect(s.commands).toMatchObject({ lhlo: 300, helo: 0 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(tally, sinkTally(s));
  });
});

describe.skipIf(!smtpSource)('smtp-source drives the CLI sink', () => {
  /** --json arguments for a CLI sink, and its final counters once it has exited. */
  const jsonStats = () => {
    const file = join(r.dir(), 'stats.json');
    return { args: ['--json', file], stats: () => JSON.parse(readFileSync(file, 'utf8')) as SinkStats };
  };

  /** Parses every "sess=N quit=N mesg=N" update the sink's -c printed. */
  const counters = (stdout: string) =>
    stdout
      .split(/[\r\n]+/)
      .filter((p) => p !== '')
      .map((p) => {
        const m = /^sess=(\d+) quit=(\d+) mesg=(\d+)$/.exec(p);
        if (m === null) throw new Error(`not a counter line: ${JSON.stringify(p)}`);
        return { sess: Number(m[1]), quit: Number(m[2]), mesg: Number(m[3]) };
      });

  it('-c: the counter line after SIGTERM matches what smtp-source sent', async () => {
    const json = jsonStats();
    const sink = await r.cli(['-c', ...json.args]);
    const { out, tally } = await counted(['-c', '-m', '500', '-s', '5'], `127.0.0.1:${sink.port}`);
    expect(lastCounter(out.stdout)).toBe('500');
    // The sink prints at each change; wait until it has seen every session end.
    await waitFor('the final counter line', () => sink.stdout().includes('sess=500 quit=500 mesg=500\r'), 5000, () => lastCounter(sink.stdout()));
    const exit = await sink.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(lastCounter(sink.stdout())).toBe('sess=500 quit=500 mesg=500');
    const all = counters(sink.stdout());
    for (let i = 1; i < all.length; i++) {
      expect(all[i].sess).toBeGreaterThanOrEqual(all[i - 1].sess);
      expect(all[i].mesg).toBeGreaterThanOrEqual(all[i - 1].mesg);
    }
    expect(sink.stderr()).toMatch(/stopped \(terminated\): 500 sessions, 500 messages, 500 recipients, \d+ bytes, 0 rejects, 0 timeouts/);
    expectSameTally(tally, sinkTally(json.stats()));
  });

  it('-L -c: LMTP through the CLI with connection reuse', async () => {
    const json = jsonStats();
    const sink = await r.cli(['-L', '-c', ...json.args]);
    const { tally } = await counted(['-L', '-d', '-m', '300', '-s', '2', '-r', '3'], `127.0.0.1:${sink.port}`);
    await waitFor('the final counter line', () => sink.stdout().includes('sess=2 quit=2 mesg=300\r'), 5000, () => lastCounter(sink.stdout()));
    expect(await sink.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(lastCounter(sink.stdout())).toBe('sess=2 quit=2 mesg=300');
    expect(sink.stderr()).toMatch(/stopped \(terminated\): 2 sessions, 300 messages, 900 recipients, \d+ bytes, 0 rejects, 0 timeouts/);
    expectSameTally(tally, sinkTally(json.stats()));
  });

  it('-M: the sink answers the last message, lets the clients QUIT and exits by itself', async () => {
    const json = jsonStats();
    const sink = await r.cli(['-c', '-M', '60', ...json.args]);
    const { out, tally } = await counted(['-v', '-m', '60', '-s', '3'], `127.0.0.1:${sink.port}`);
    // smtp-source -v logs every reply: each "." got its 250 and each QUIT its 221.
    expect(out.stderr.split('\n').filter((l) => l.endsWith('smtp-source: <<< 250 2.0.0 Ok'))).toHaveLength(60);
    expect(out.stderr.split('\n').filter((l) => l.endsWith('smtp-source: <<< 221 Bye'))).toHaveLength(60);
    const exit = await Promise.race([sink.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 5000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(lastCounter(sink.stdout())).toBe('sess=60 quit=60 mesg=60');
    expect(sink.stderr()).toContain('stopped (60 messages received): 60 sessions, 60 messages, 60 recipients');
    expectSameTally(tally, sinkTally(json.stats()));
  });

  it('-L -c on a unix-domain socket', async () => {
    const path = socketIn(r.dir());
    const json = jsonStats();
    const sink = await r.cliUnix(['-L', '-c', ...json.args], path);
    const { out, tally } = await counted(['-L', '-c', '-m', '200', '-s', '4', '-r', '2'], `unix:${path}`);
    expect(lastCounter(out.stdout)).toBe('200');
    await waitFor('the final counter line', () => sink.stdout().includes('sess=200 quit=200 mesg=200\r'), 5000, () => lastCounter(sink.stdout()));
    expect(await sink.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(lastCounter(sink.stdout())).toBe('sess=200 quit=200 mesg=200');
    expect(sink.stderr()).toMatch(/stopped \(terminated\): 200 sessions, 200 messages, 400 recipients, \d+ bytes, 0 rejects, 0 timeouts/);
    expectSameTally(tally, sinkTally(json.stats()));
  });

  it('-n: the sink exits by itself once smtp-source has ended its sessions', async () => {
    const json = jsonStats();
    const sink = await r.cli(['-c', '-n', '100', ...json.args]);
    const { tally } = await counted(['-m', '100', '-s', '4'], `127.0.0.1:${sink.port}`);
    const exit = await Promise.race([sink.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 5000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(lastCounter(sink.stdout())).toBe('sess=100 quit=100 mesg=100');
    expect(sink.stderr()).toContain('stopped (100 sessions ended): 100 sessions, 100 messages, 100 recipients');
    expectSameTally(tally, sinkTally(json.stats()));
  });
});
