// Byte comparison with Postfix's smtp-source: one capturing C smtp-sink (-d <dir>/%Y., one
// dump file per message) receives one message from the C program and one from ours, run with
// the same arguments; the two dumps must be identical once the lines that legitimately differ
// are taken out (the sink's Received: block with its random id and time, Date:, Message-Id:
// and our X-Smtpstone-Id:). Those lines are checked for their form instead.
// -F is the one deliberate difference: documented exactly below, on the wire and in the dump.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countingProxy } from '../../smtp-sink/test/tallies.js';
import type { SourceResult } from '../src/index.js';
import {
  expectSameTally,
  MAIL_DATE,
  normalizeDump,
  ourCli,
  postfixPeer,
  resources,
  runBounded,
  runProgram,
  sourceTally,
  takeDump,
  type CSink,
  type NormalizedDump,
  type Tally,
  dumpedWireBytes,
} from './helpers.js';

const cSinkBin = postfixPeer('smtp-sink');
const cSourceBin = postfixPeer('smtp-source');
const r = resources();

/** The same for both programs: one message, one session, fixed names. */
const COMMON = ['-m', '1', '-s', '1', '-M', 'client.example', '-f', 'sender@example.com', '-t', 'you@x'];

interface Pair {
  c: NormalizedDump;
  ours: NormalizedDump;
  cRaw: string;
  oursRaw: string;
  /** Issue 7: each client's tally beside the C sink's for that client's message. */
  tallies: { c: { client: Tally; sink: Tally }; ours: { client: Tally; sink: Tally } };
}


/** The C sink's side of the tally for the one message a dump holds: its recipients are the X-Rcpt-Args lines. */
function dumpTally(dump: string): Tally {
  const header = dump.slice(0, dump.indexOf('\nReceived: from '));
  return { messages: 1, recipients: header.split('\n').filter((l) => l.startsWith('X-Rcpt-Args: ')).length, bytes: dumpedWireBytes(dump) };
}

/**
 * The C smtp-source's side, for a run that exited 0 (it exits 1 on any refusal): the -m
 * messages, each to -r recipients, and the bytes a counting proxy saw it send after DATA.
 */
function cSourceTally(args: string[], bytes: number): Tally {
  const opt = (name: string) => (args.includes(name) ? Number(args[args.lastIndexOf(name) + 1]) : 1);
  return { messages: opt('-m'), recipients: opt('-m') * opt('-r'), bytes };
}

/** Our CLI's side, from its --json file. */
function jsonTally(path: string): Tally {
  return sourceTally(JSON.parse(readFileSync(path, 'utf8')) as SourceResult);
}

function expectPairTallies(p: Pair): void {
  expectSameTally(p.tallies.c.client, p.tallies.c.sink);
  expectSameTally(p.tallies.ours.client, p.tallies.ours.sink);
}

/** A capturing C sink: `-d <dir>/%Y.` (plus -L for LMTP). */
async function capturingSink(lmtp = false): Promise<{ sink: CSink; dir: string }> {
  const dir = r.dir();
  const sink = await r.cSink(cSinkBin!, [...(lmtp ? ['-L'] : []), '-d', join(dir, '%Y.')]);
  return { sink, dir };
}

/** Sends one message with the C smtp-source and one with our CLI (same arguments, plus `oursOnly`). */
async function dumps(args: string[], opts: { lmtp?: boolean; oursOnly?: string[] } = {}): Promise<Pair> {
  const { sink, dir } = await capturingSink(opts.lmtp);
  // The C program goes through a counting proxy (its bytes); ours writes --json (its tally).
  const proxy = await countingProxy(sink.target);
  const c = await runProgram(cSourceBin!, [...COMMON, ...args, proxy.target]);
  expect({ code: c.code, stderr: c.stderr }).toEqual({ code: 0, stderr: '' });
  const cRaw = await takeDump(dir);
  const json = join(r.dir(), 'ours.json');
  const ours = await ourCli([...COMMON, ...args, ...(opts.oursOnly ?? []), '--json', json, sink.target]);
  expect({ code: ours.code, fatal: ours.stderr.split('\n').filter((l) => / (fatal|warning): |Error/.test(l)) }).toEqual({ code: 0, fatal: [] });
  const oursRaw = await takeDump(dir);
  return {
    c: normalizeDump(cRaw),
    ours: normalizeDump(oursRaw),
    cRaw,
    oursRaw,
    tallies: {
      c: { client: cSourceTally([...COMMON, ...args], proxy.bytes()), sink: dumpTally(cRaw) },
      ours: { client: jsonTally(json), sink: dumpTally(oursRaw) },
    },
  };
}

/** The removed lines have the same form in both dumps; ours carries the run's tracking id. */
function checkRemovedLines(p: Pick<Pair, 'c' | 'ours'>, opts: { headers?: boolean; tracking?: boolean; helo?: boolean; proto?: string } = {}): void {
  const { headers = true, tracking = true, helo = true, proto = 'SMTP' } = opts;
  for (const d of [p.c, p.ours]) {
    expect(d.received).toHaveLength(3);
    expect(d.received[0]).toBe(helo ? 'Received: from client.example ([127.0.0.1])' : 'Received: from [127.0.0.1] ([127.0.0.1])');
    expect(d.received[1]).toMatch(new RegExp(`^\\tby smtp-sink \\(smtp-sink\\) with ${proto} id [0-9a-f]{8};$`));
    expect(d.received[2].slice(1)).toMatch(MAIL_DATE);
  }
  if (!headers) {
    for (const d of [p.c, p.ours]) expect({ date: d.date, messageId: d.messageId, trackingId: d.trackingId }).toEqual({ date: [], messageId: [], trackingId: [] });
    return;
  }
  for (const d of [p.c, p.ours]) {
    expect(d.date).toHaveLength(1);
    expect(d.date[0].slice('Date: '.length)).toMatch(MAIL_DATE);
  }
  // The original's Message-Id: <pid.fd.messages-left@myhostname>, 4 hex digits each.
  expect(p.c.messageId).toHaveLength(1);
  expect(p.c.messageId[0]).toMatch(/^Message-Id: <[0-9a-f]{4}\.[0-9a-f]{4}\.0000@client\.example>$/);
  expect(p.c.trackingId).toEqual([]);
  expect(p.ours.messageId).toHaveLength(1);
  if (tracking) {
    const m = /^Message-Id: <([0-9a-z]+)\.1@client\.example>$/.exec(p.ours.messageId[0]);
    expect(m, p.ours.messageId[0]).not.toBeNull();
    expect(p.ours.trackingId).toEqual([`X-Smtpstone-Id: ${m![1]}.1`]);
  } else {
    expect(p.ours.messageId[0]).toMatch(/^Message-Id: <[0-9a-f]{4}\.[0-9a-f]{4}\.0000@client\.example>$/);
    expect(p.ours.trackingId).toEqual([]);
  }
}

/** The dump lines after the generated headers: the body and the terminator's empty line. */
function bodyLines(d: NormalizedDump): string[] {
  return d.text.slice(d.text.indexOf('\n\n') + 2).split('\n');
}

/** The -l body as a dump shows it (spec 1.4), without line ends. */
function lengthBody(n: number): string[] {
  const lines: string[] = [];
  for (let i = 80; i < n; i += 80) lines.push('0123456789'[(i / 80) % 10] + 'X'.repeat(77));
  lines.push('X'.repeat(n - 80 * lines.length));
  return lines;
}

const LA_DE_DA = ['La de da de da 1.', 'La de da de da 2.', 'La de da de da 3.', 'La de da de da 4.'];

describe.skipIf(!cSinkBin || !cSourceBin)('dumps of one message from the C smtp-source and from ours', { timeout: 30_000 }, () => {
  it('default body', async () => {
    const p = await dumps([]);
    checkRemovedLines(p);
    expect(p.ours.text).toBe(p.c.text);
    expect(p.c.text).toBe(
      'X-Client-Addr: 127.0.0.1\nX-Client-Proto: SMTP\nX-Helo-Args: client.example\nX-Mail-Args: <sender@example.com>\nX-Rcpt-Args: <you@x>\n' +
        'From: <sender@example.com>\nTo: <you@x>\n\n' +
        LA_DE_DA.join('\n') +
        '\n\n',
    );
    expectPairTallies(p);
  });

  for (const n of [80, 200, 5120]) {
    it(`-l ${n}`, async () => {
      const p = await dumps(['-l', String(n)]);
      checkRemovedLines(p);
      expect(p.ours.text).toBe(p.c.text);
      expect(bodyLines(p.c)).toEqual([...lengthBody(n), '', '']);
      expectPairTallies(p);
    });
  }

  it('-S subject', async () => {
    const p = await dumps(['-S', 'Load test: one']);
    checkRemovedLines(p);
    expect(p.ours.text).toBe(p.c.text);
    expect(p.c.text).toContain('\nFrom: <sender@example.com>\nTo: <you@x>\nSubject: Load test: one\n\n');
    expectPairTallies(p);
  });

  it('-r 3: the same three recipients, numbered 3, 2 and none', async () => {
    const p = await dumps(['-r', '3']);
    checkRemovedLines(p);
    expect(p.ours.text).toBe(p.c.text);
    expect(p.c.text.split('\n').filter((l) => l.startsWith('X-Rcpt-Args: '))).toEqual(['X-Rcpt-Args: <3you@x>', 'X-Rcpt-Args: <2you@x>', 'X-Rcpt-Args: <you@x>']);
    expectPairTallies(p);
  });

  it('-N -r 2: recipients numbered from 1', async () => {
    const p = await dumps(['-N', '-r', '2']);
    checkRemovedLines(p);
    expect(p.ours.text).toBe(p.c.text);
    expect(p.c.text.split('\n').filter((l) => l.startsWith('X-Rcpt-Args: '))).toEqual(['X-Rcpt-Args: <1you@x>', 'X-Rcpt-Args: <2you@x>']);
    expectPairTallies(p);
  });

  it('-o: no HELO and no headers at all', async () => {
    const p = await dumps(['-o']);
    checkRemovedLines(p, { headers: false, helo: false });
    expect(p.ours.text).toBe(p.c.text);
    expect(p.c.text).toBe('X-Client-Addr: 127.0.0.1\nX-Client-Proto: SMTP\nX-Mail-Args: <sender@example.com>\nX-Rcpt-Args: <you@x>\n' + LA_DE_DA.join('\n') + '\n\n');
    expectPairTallies(p);
  });

  it('-L against an LMTP sink', async () => {
    const p = await dumps(['-L', '-r', '2'], { lmtp: true });
    checkRemovedLines(p, { proto: 'LMTP' });
    expect(p.ours.text).toBe(p.c.text);
    expect(p.c.text).toMatch(/^X-Client-Addr: 127\.0\.0\.1\nX-Client-Proto: LMTP\nX-Helo-Args: client\.example\n/);
    expectPairTallies(p);
  });

  it('--original-headers: no X-Smtpstone-Id, a Message-Id of the original\'s form', async () => {
    const p = await dumps(['-S', 'x'], { oursOnly: ['--original-headers'] });
    checkRemovedLines(p, { tracking: false });
    expect(p.ours.text).toBe(p.c.text);
    expect(p.oursRaw).not.toContain('X-Smtpstone-Id');
    expectPairTallies(p);
  });

  it('the API with trackingHeaders: false sends what the C program sends', async () => {
    const { sink, dir } = await capturingSink();
    const proxy = await countingProxy(sink.target);
    const c = await runProgram(cSourceBin!, [...COMMON, '-l', '200', proxy.target]);
    expect(c.code).toBe(0);
    const cRaw = await takeDump(dir);
    const cDump = normalizeDump(cRaw);
    const { result } = await runBounded({
      target: sink.target,
      messages: 1,
      sessions: 1,
      myHostname: 'client.example',
      sender: 'sender@example.com',
      recipient: 'you@x',
      length: 200,
      trackingHeaders: false,
    });
    expect(result.messages.accepted).toBe(1);
    const oursRaw = await takeDump(dir);
    const ours = normalizeDump(oursRaw);
    expect(ours.text).toBe(cDump.text);
    expect(ours.trackingId).toEqual([]);
    expect(ours.messageId[0]).toMatch(/^Message-Id: <[0-9a-f]{4}\.[0-9a-f]{4}\.0000@client\.example>$/);
    // Issue 7: the C program (counting proxy) and ours (its result), each against the sink's dump.
    expectSameTally(cSourceTally(COMMON, proxy.bytes()), dumpTally(cRaw));
    expectSameTally(sourceTally(result), dumpTally(oursRaw));
  });

  it('-F: the one deliberate difference, exactly (CR kept and an extra empty line in C; CR LF lines in ours)', async () => {
    const dir = r.dir();
    const lines = ['Subject: file test', '', 'line 1', '.dot line', '..two dots', 'last line'];
    const lfFile = join(dir, 'lf.txt');
    const crlfFile = join(dir, 'crlf.txt');
    writeFileSync(lfFile, lines.join('\n') + '\n');
    writeFileSync(crlfFile, lines.join('\r\n') + '\r\n');
    // On the wire, as a recording server sees the DATA bytes (before the final ".").
    const rec = await r.recorder();
    const target = `127.0.0.1:${rec.port}`;
    for (const [who, run] of [
      ['c', (a: string[]) => runProgram(cSourceBin!, a)],
      ['ours', (a: string[]) => ourCli(a)],
    ] as const) {
      for (const file of [lfFile, crlfFile]) {
        const out = await run([...COMMON, '-F', file, target]);
        expect({ who, code: out.code }).toEqual({ who, code: 0 });
      }
    }
    const wire = rec.messages.map((m) => m.toString('latin1'));
    expect(wire).toEqual([
      // C, LF file: each line CR LF, dots stuffed, then an extra empty line.
      'Subject: file test\r\n\r\nline 1\r\n..dot line\r\n...two dots\r\nlast line\r\n\r\n',
      // C, CR LF file: the file's CR is kept, so each line ends CR CR LF; the extra empty line.
      'Subject: file test\r\r\n\r\r\nline 1\r\r\n..dot line\r\r\n...two dots\r\r\nlast line\r\r\n\r\n',
      // Ours, either file: the lines CR LF, dots stuffed, nothing added.
      'Subject: file test\r\n\r\nline 1\r\n..dot line\r\n...two dots\r\nlast line\r\n',
      'Subject: file test\r\n\r\nline 1\r\n..dot line\r\n...two dots\r\nlast line\r\n',
    ]);

    // In the C sink's dump (which drops every CR and unstuffs dots), the only difference left
    // is C's extra empty line at the end, for the LF and the CR LF file alike.
    const { sink, dir: dumpDir } = await capturingSink();
    const proxy = await countingProxy(sink.target);
    for (const file of [lfFile, crlfFile]) {
      const proxyBefore = proxy.bytes();
      const c = await runProgram(cSourceBin!, [...COMMON, '-F', file, proxy.target]);
      expect(c.code).toBe(0);
      const cRaw = await takeDump(dumpDir);
      const cDump = normalizeDump(cRaw);
      const json = join(dir, 'ours.json');
      const o = await ourCli([...COMMON, '-F', file, '--json', json, sink.target]);
      expect(o.code).toBe(0);
      const oRaw = await takeDump(dumpDir);
      const oDump = normalizeDump(oRaw);
      // Issue 7. The C sink's dump drops every CR, so for the CR LF file the C program's kept
      // CR (one per file line, not on its extra empty line) is added back to the sink's side.
      const keptCRs = file === crlfFile ? lines.length : 0;
      const cSink = dumpTally(cRaw);
      expectSameTally(cSourceTally(COMMON, proxy.bytes() - proxyBefore), { ...cSink, bytes: cSink.bytes + keptCRs });
      expectSameTally(jsonTally(json), dumpTally(oRaw));
      checkRemovedLines({ c: cDump, ours: oDump }, { headers: false });
      expect(oDump.text.endsWith('\nSubject: file test\n\nline 1\n.dot line\n..two dots\nlast line\n\n')).toBe(true);
      expect(cDump.text).toBe(oDump.text + '\n');
    }
  });
});

describe.skipIf(!cSinkBin || !cSourceBin)('-c output of the C smtp-source and ours', { timeout: 30_000 }, () => {
  it('-c -s 3 -m 7: "1\\r2\\r...7\\r\\n" from both', async () => {
    // -v and -d give the sink's side of issue 7's tally: its RCPT lines and its dumps.
    const dumpDir = r.dir();
    const sink = await r.cSink(cSinkBin!, ['-c', '-v', '-d', join(dumpDir, '%Y.')]);
    const args = ['-M', 'client.example', '-f', 'sender@example.com', '-t', 'you@x', '-c', '-s', '3', '-m', '7'];
    const proxy = await countingProxy(sink.target);
    const c = await runProgram(cSourceBin!, [...args, proxy.target]);
    // The sink's count of the C program's messages, before ours starts.
    await sink.awaitCounter({ sess: 7, quit: 7, mesg: 7 });
    const cSink = cSinkTally(sink, dumpDir);
    const json = join(r.dir(), 'ours.json');
    const ours = await ourCli([...args, '--json', json, sink.target]);
    expect(c.code).toBe(0);
    expect(ours.code).toBe(0);
    expect(c.stdout).toBe('1\r2\r3\r4\r5\r6\r7\r\n');
    expect(ours.stdout).toBe(c.stdout);
    await sink.awaitCounter({ sess: 14, quit: 14, mesg: 14 });
    expect(sink.counter()).toBe('sess=14 quit=14 mesg=14');
    // Issue 7: each client against what the sink counted while it ran.
    const all = cSinkTally(sink, dumpDir);
    expectSameTally(cSourceTally(args, proxy.bytes()), cSink);
    expectSameTally(jsonTally(json), { messages: all.messages - cSink.messages, recipients: all.recipients - cSink.recipients, bytes: all.bytes - cSink.bytes });
  });
});

/** The C sink's tally from itself: -c's mesg, the RCPT lines -v logged, every -d dump made wire bytes again. */
function cSinkTally(sink: CSink, dumpDir: string): Tally {
  const rcpts = sink.stderr().split('\n').filter((l) => /^\S*smtp-sink: RCPT\b/.test(l)).length;
  const dumps = readdirSync(dumpDir).filter((f) => /^\d{4}\.[0-9a-f]{8}$/.test(f));
  return {
    messages: Number(/mesg=(\d+)/.exec(sink.counter())?.[1] ?? 0),
    recipients: rcpts,
    bytes: dumps.reduce((n, f) => n + dumpedWireBytes(readFileSync(join(dumpDir, f), 'latin1')), 0),
  };
}
