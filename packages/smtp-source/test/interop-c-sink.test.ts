// Our smtp-source against Postfix's own smtp-sink (/usr/sbin/smtp-sink). The C sink counts
// with -c ("sess=N quit=N mesg=N\r" at every event, flushed) and logs every command with -v,
// so each run is checked from both ends: our result's counters, and what the C sink saw.
// The C sink's fault options (-r -f -Q -q -w, -M) inject errors; our counts must match what
// was injected, and where our CLI ends a run it must print the fatal line the C smtp-source
// prints for the same situation.
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SourceOptionsInput, SourceResult } from '../src/index.js';
import {
  counterText,
  diagnostics,
  expectSameTally,
  fatalLine,
  ourCli,
  postfixPeer,
  readJournal,
  resources,
  runBounded,
  runProgram,
  socketIn,
  sourceTally,
  type CSink,
  type SinkCounter,
  type Tally,
  dumpedWireBytes,
} from './helpers.js';

const cSinkBin = postfixPeer('smtp-sink');
const cSourceBin = postfixPeer('smtp-source');
const r = resources();

/** Fixed addresses and HELO name, so nothing depends on this machine's hostname. */
const ADDR = { sender: 'sender@example.com', recipient: 'rcpt@example.com', myHostname: 'client.example' } as const;
const ADDR_ARGS = ['-f', ADDR.sender, '-t', ADDR.recipient, '-M', ADDR.myHostname];
const NO_ERRORS = { timeouts: 0, lostConnections: 0, serverClosed: 0, connectFailures: 0 };

/** Runs our source through the API (bounded in time) and collects its log lines. */
function source(target: string, opts: Partial<SourceOptionsInput> = {}): Promise<{ result: SourceResult; logs: string }> {
  return runBounded({ target, ...ADDR, ...opts });
}

/** Waits for the C sink's -c line to read `expected`, stops it with SIGTERM and checks its last line. */
async function expectSinkCount(sink: CSink, expected: SinkCounter): Promise<void> {
  await sink.awaitCounter(expected);
  const exit = await sink.stop('SIGTERM');
  expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
  expect(sink.counter()).toBe(counterText(expected));
}

/** Command lines the C sink logged with -v ("<argv0>: MAIL FROM:<...>"), without the prefix. */
function sinkCommands(sink: CSink): string[] {
  return sink
    .stderr()
    .split('\n')
    .map((l) => /^\S*smtp-sink: ((?:HELO|LHLO|EHLO|MAIL|RCPT|DATA|QUIT|RSET)\b.*|\.)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);
}

const count = (list: string[], item: string): number => list.filter((x) => x === item).length;

/** The commands the C sink's fault options (-f, -r, -Q, -q: reject, or close, or hang up) refuse. */
function refusedBy(args: string[]): Set<string> {
  const out = new Set<string>();
  args.forEach((a, i) => {
    if (['-f', '-r', '-Q', '-q'].includes(a)) for (const c of args[i + 1].split(/[\s,]+/)) out.add(c.toLowerCase());
  });
  return out;
}


interface TalliedCSink extends CSink {
  /**
   * Issue 7: the C sink's side of the tally, from the sink alone. Messages: its -c "mesg"
   * (every "." it read) less those it did not accept: all when its options refuse ".", else
   * `unanswered` (-M exits before its reply). Recipients: the RCPT commands it logged (-v),
   * none when its options refuse RCPT. Bytes: every message it dumped (-d), made wire bytes
   * again. Read once the sink has stopped (or its -c line has settled).
   */
  tally(unanswered?: number): Promise<Tally>;
}

/** The C sink with -c, -v and -d (one dump file per message in a fresh directory) added. */
async function talliedSink(args: string[], opts: { unixPath?: string; backlog?: number } = {}): Promise<TalliedCSink> {
  const dir = r.dir();
  const sink = await r.cSink(cSinkBin!, [...['-c', '-v'].filter((o) => !args.includes(o)), ...args, '-d', `${dir}/%Y.`], opts);
  const refused = refusedBy(args);
  return Object.assign(sink, {
    async tally(unanswered = 0): Promise<Tally> {
      // Once the sink has exited, every line it wrote to stderr is read.
      if (sink.child.exitCode !== null || sink.child.signalCode !== null) {
        if (!sink.child.stderr!.readableEnded) await once(sink.child.stderr!, 'end');
      }
      const mesg = Number(/mesg=(\d+)/.exec(sink.counter())?.[1] ?? 0);
      // A dump is made at MAIL and unlinked when the transaction is aborted (-Q data, a
      // hang-up): one met before its unlink is not a message, only a finished one (its data
      // and the empty line the final "." leaves) is.
      const dumps = readdirSync(dir)
        .filter((f) => /^\d{4}\.[0-9a-f]{8}$/.test(f))
        .map((f) => readFileSync(join(dir, f), 'latin1'))
        .filter((d) => /(^|\n)Received: from /.test(d) && d.endsWith('\n\n'));
      return {
        messages: refused.has('.') ? 0 : mesg - unanswered,
        recipients: refused.has('rcpt') ? 0 : sinkCommands(sink).filter((c) => c.startsWith('RCPT ')).length,
        bytes: dumps.reduce((n, d) => n + dumpedWireBytes(d), 0),
      };
    },
  });
}

const minus = (a: Tally, b: Tally): Tally => ({ messages: a.messages - b.messages, recipients: a.recipients - b.recipients, bytes: a.bytes - b.bytes });

describe.skipIf(!cSinkBin)('our smtp-source against the C smtp-sink', { timeout: 10_000 }, () => {
  it('SMTP, a new connection per message (-m 60 -s 3)', async () => {
    const sink = await talliedSink(['-c']);
    const { result, logs } = await source(sink.target, { messages: 60, sessions: 3 });
    expect(result.fatal).toBeUndefined();
    expect(result.messages).toEqual({ started: 60, sent: 60, accepted: 60, rejected: 0, failed: 0 });
    expect(result.recipients).toEqual({ sent: 60, accepted: 60, rejected: 0 });
    expect(result.connections).toEqual({ opened: 60, failed: 0 });
    expect(result.errors).toEqual(NO_ERRORS);
    expect(result.rejects).toEqual({});
    expect(result.latency.helo.count).toBe(60);
    expect(result.latency.quit.count).toBe(60);
    expect(logs).toBe('');
    await expectSinkCount(sink, { sess: 60, quit: 60, mesg: 60 });
    expectSameTally(sourceTally(result), await sink.tally());
  });

  it('LMTP on both sides (-L -r 2): LHLO, and one end-of-data reply per recipient', async () => {
    const sink = await talliedSink(['-c', '-v', '-L']);
    const { result } = await source(sink.target, { lmtp: true, messages: 30, sessions: 3, recipients: 2 });
    expect(result.fatal).toBeUndefined();
    expect(result.messages).toEqual({ started: 30, sent: 30, accepted: 30, rejected: 0, failed: 0 });
    expect(result.recipients).toEqual({ sent: 60, accepted: 60, rejected: 0 });
    expect(result.latency.dot.count).toBe(60);
    expect(result.errors).toEqual(NO_ERRORS);
    await expectSinkCount(sink, { sess: 30, quit: 30, mesg: 30 });
    const cmds = sinkCommands(sink);
    expect(count(cmds, 'LHLO client.example')).toBe(30);
    expect(cmds.filter((c) => c.startsWith('HELO') || c.startsWith('EHLO'))).toEqual([]);
    expectSameTally(sourceTally(result), await sink.tally());
  });

  it('connection reuse (-d -m 200 -s 4): one HELO and one QUIT per connection', async () => {
    const sink = await talliedSink(['-c', '-v']);
    const { result } = await source(sink.target, { reuseConnection: true, messages: 200, sessions: 4 });
    expect(result.fatal).toBeUndefined();
    expect(result.messages).toEqual({ started: 200, sent: 200, accepted: 200, rejected: 0, failed: 0 });
    expect(result.connections).toEqual({ opened: 4, failed: 0 });
    expect(result.errors).toEqual(NO_ERRORS);
    await expectSinkCount(sink, { sess: 4, quit: 4, mesg: 200 });
    const cmds = sinkCommands(sink);
    expect(count(cmds, 'HELO client.example')).toBe(4);
    expect(count(cmds, 'MAIL FROM:<sender@example.com>')).toBe(200);
    expect(count(cmds, '.')).toBe(200);
    expect(count(cmds, 'QUIT')).toBe(4);
    expectSameTally(sourceTally(result), await sink.tally());
  });

  it('five recipients per message (-r 5): numbered 5..2 and then the plain address, as Postfix 3.7', async () => {
    const sink = await talliedSink(['-c', '-v']);
    const { result } = await source(sink.target, { recipients: 5, messages: 40, sessions: 4 });
    expect(result.messages.accepted).toBe(40);
    expect(result.recipients).toEqual({ sent: 200, accepted: 200, rejected: 0 });
    expect(result.latency.rcpt.count).toBe(200);
    await expectSinkCount(sink, { sess: 40, quit: 40, mesg: 40 });
    const rcpts = sinkCommands(sink).filter((c) => c.startsWith('RCPT'));
    expect(rcpts).toHaveLength(200);
    for (const k of ['5', '4', '3', '2', '']) expect(count(rcpts, `RCPT TO:<${k}rcpt@example.com>`)).toBe(40);
    expectSameTally(sourceTally(result), await sink.tally());
  });

  it('numbered recipients (-N -r 2 -d): the C sink sees 1..200 once each', async () => {
    const sink = await talliedSink(['-c', '-v']);
    const { result } = await source(sink.target, { numberRecipients: true, recipients: 2, messages: 100, sessions: 2, reuseConnection: true });
    expect(result.messages.accepted).toBe(100);
    expect(result.recipients).toEqual({ sent: 200, accepted: 200, rejected: 0 });
    await expectSinkCount(sink, { sess: 2, quit: 2, mesg: 100 });
    const numbers = sinkCommands(sink)
      .map((c) => /^RCPT TO:<(\d+)rcpt@example\.com>$/.exec(c)?.[1])
      .filter((n) => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expectSameTally(sourceTally(result), await sink.tally());
  });

  it('100 parallel sessions (-s 100 -m 1000), a new connection per message', async () => {
    const sink = await talliedSink(['-c'], { backlog: 1000 });
    const { result } = await source(sink.target, { sessions: 100, messages: 1000 });
    expect(result.fatal).toBeUndefined();
    expect(result.messages).toEqual({ started: 1000, sent: 1000, accepted: 1000, rejected: 0, failed: 0 });
    expect(result.recipients.accepted).toBe(1000);
    expect(result.connections).toEqual({ opened: 1000, failed: 0 });
    expect(result.errors).toEqual(NO_ERRORS);
    await expectSinkCount(sink, { sess: 1000, quit: 1000, mesg: 1000 });
    expectSameTally(sourceTally(result), await sink.tally());
  });

  it('large messages (-l 100000 -d -m 20): every body goes through', async () => {
    const sink = await talliedSink(['-c']);
    const { result } = await source(sink.target, { length: 100000, messages: 20, reuseConnection: true });
    expect(result.fatal).toBeUndefined();
    expect(result.messages).toEqual({ started: 20, sent: 20, accepted: 20, rejected: 0, failed: 0 });
    // The body is 100000 bytes + CR LF; the generated headers are 100-200 bytes.
    expect(result.bytes).toBeGreaterThan(20 * (100002 + 100));
    expect(result.bytes).toBeLessThan(20 * (100002 + 300));
    await expectSinkCount(sink, { sess: 1, quit: 1, mesg: 20 });
    expectSameTally(sourceTally(result), await sink.tally());
  });

  it('a unix-domain socket (unix:PATH) with -d -r 2', async () => {
    const path = socketIn(r.dir());
    const sink = await talliedSink(['-c', '-v'], { unixPath: path });
    expect(sink.target).toBe(`unix:${path}`);
    const { result } = await source(sink.target, { reuseConnection: true, messages: 100, sessions: 2, recipients: 2 });
    expect(result.fatal).toBeUndefined();
    expect(result.target).toBe(`unix:${path}`);
    expect(result.messages).toEqual({ started: 100, sent: 100, accepted: 100, rejected: 0, failed: 0 });
    expect(result.recipients.accepted).toBe(200);
    expect(result.connections.opened).toBe(2);
    await expectSinkCount(sink, { sess: 2, quit: 2, mesg: 100 });
    expect(sink.stderr().match(/connect \(AF_LOCAL local\)/g)).toHaveLength(2);
    expectSameTally(sourceTally(result), await sink.tally());
  });

  it('a unix-domain socket, LMTP, a new connection per message', async () => {
    const path = socketIn(r.dir());
    const sink = await talliedSink(['-c', '-L'], { unixPath: path });
    const { result } = await source(sink.target, { lmtp: true, messages: 30, sessions: 3, recipients: 3 });
    expect(result.messages).toEqual({ started: 30, sent: 30, accepted: 30, rejected: 0, failed: 0 });
    expect(result.recipients.accepted).toBe(90);
    expect(result.latency.dot.count).toBe(90);
    await expectSinkCount(sink, { sess: 30, quit: 30, mesg: 30 });
    expectSameTally(sourceTally(result), await sink.tally());
  });

  it.skipIf(!cSourceBin)('CLI on a unix-domain socket (-c -m 5): exit 0 and the C smtp-source\'s -c output', async () => {
    const path = socketIn(r.dir());
    const sink = await talliedSink(['-c'], { unixPath: path });
    const c = await runProgram(cSourceBin!, [...ADDR_ARGS, '-c', '-m', '5', sink.target]);
    expect(c.code).toBe(0);
    expect(c.stdout).toBe('1\r2\r3\r4\r5\r\n');
    // The sink's tally so far is the C source's; what it counts from here on is ours.
    await sink.awaitCounter({ sess: 5, quit: 5, mesg: 5 });
    const before = await sink.tally();
    const json = join(r.dir(), 'result.json');
    const ours = await ourCli([...ADDR_ARGS, '-c', '-m', '5', '--json', json, sink.target]);
    // The exit code with any "...Error" line of its stderr, so that a crash shows why.
    expect({ code: ours.code, errors: ours.stderr.split('\n').filter((l) => /Error/.test(l)) }).toEqual({ code: 0, errors: [] });
    expect(ours.stdout).toBe(c.stdout);
    await expectSinkCount(sink, { sess: 10, quit: 10, mesg: 10 });
    expectSameTally(sourceTally(JSON.parse(readFileSync(json, 'utf8')) as SourceResult), minus(await sink.tally(), before));
  });

  it.skipIf(!cSourceBin)('CLI: -c, --json and --journal; the -c output is the C smtp-source\'s', async () => {
    const dir = r.dir();
    const args = [...ADDR_ARGS, '-c', '-d', '-s', '2', '-m', '50'];
    const sink = await talliedSink(['-c']);
    const json = join(dir, 'result.json');
    const journal = join(dir, 'journal.jsonl');
    const ours = await ourCli([...args, '--json', json, '--journal', journal, sink.target]);
    expect(ours.code).toBe(0);
    // What the sink counted up to here is our run's.
    await sink.awaitCounter({ sess: 2, quit: 2, mesg: 50 });
    const oursAtSink = await sink.tally();
    const c = await runProgram(cSourceBin!, [...args, sink.target]);
    expect(c.code).toBe(0);
    expect(ours.stdout).toBe(Array.from({ length: 50 }, (_, i) => `${i + 1}\r`).join('') + '\n');
    expect(ours.stdout).toBe(c.stdout);
    expect(diagnostics(ours.stderr)).toEqual([]);
    const result = JSON.parse(readFileSync(json, 'utf8')) as SourceResult;
    expect(result.messages).toEqual({ started: 50, sent: 50, accepted: 50, rejected: 0, failed: 0 });
    expect(result.connections.opened).toBe(2);
    const entries = readJournal(journal);
    expect(entries.map((e) => e.seq).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(entries.every((e) => e.status === 'accepted' && e.code === 250 && e.reply === '2.0.0 Ok')).toBe(true);
    // Both runs: 2 sessions, 100 messages.
    await expectSinkCount(sink, { sess: 4, quit: 4, mesg: 100 });
    expectSameTally(sourceTally(result), oursAtSink);
  });
});

// ---- faults --------------------------------------------------------------------------------

interface FaultCase {
  title: string;
  /** C sink options that inject the fault. */
  sinkArgs: string[];
  /** Extra source options, as API options and as the same CLI flags. */
  api?: Partial<SourceOptionsInput>;
  cli?: string[];
  /** The diagnostic both programs print (as a warning with -A, else as the fatal line). */
  message: string;
  /** With -A, -m 3: our result and what the C sink counts. */
  withA: { result: Partial<SourceResult>; counter: SinkCounter; warnings: number };
  /** The C smtp-source ends the run even with -A (EOF is always fatal in the original). */
  cFatalEvenWithA?: boolean;
  /** Without -A, -m 3: our result (the run ends at the first fault) and the C sink's count. */
  withoutA: { result: Partial<SourceResult>; counter: SinkCounter };
}

const FAULTS: FaultCase[] = [
  {
    title: '-r rcpt (450 soft reject at RCPT)',
    sinkArgs: ['-r', 'rcpt'],
    message: 'recipient rejected: 450 4.3.0 Error: command failed',
    withA: {
      result: {
        messages: { started: 3, sent: 0, accepted: 0, rejected: 3, failed: 0 },
        recipients: { sent: 3, accepted: 0, rejected: 3 },
        rejects: { rcpt: { '450': 3 } },
        errors: NO_ERRORS,
      },
      counter: { sess: 3, quit: 3, mesg: 0 },
      warnings: 3,
    },
    withoutA: {
      result: { messages: { started: 1, sent: 0, accepted: 0, rejected: 1, failed: 0 }, rejects: { rcpt: { '450': 1 } }, errors: NO_ERRORS },
      counter: { sess: 1, quit: 0, mesg: 0 },
    },
  },
  {
    title: '-f mail (500 hard reject at MAIL)',
    sinkArgs: ['-f', 'mail'],
    message: 'sender rejected: 500 5.3.0 Error: command failed',
    withA: {
      result: {
        messages: { started: 3, sent: 0, accepted: 0, rejected: 3, failed: 0 },
        recipients: { sent: 0, accepted: 0, rejected: 0 },
        rejects: { mail: { '500': 3 } },
        errors: NO_ERRORS,
      },
      counter: { sess: 3, quit: 3, mesg: 0 },
      warnings: 3,
    },
    withoutA: {
      result: { messages: { started: 1, sent: 0, accepted: 0, rejected: 1, failed: 0 }, rejects: { mail: { '500': 1 } }, errors: NO_ERRORS },
      counter: { sess: 1, quit: 0, mesg: 0 },
    },
  },
  {
    title: '-Q data (421 and close at DATA)',
    sinkArgs: ['-Q', 'data'],
    message: 'data rejected: 421 4.0.0 Server closing connection',
    withA: {
      result: {
        messages: { started: 3, sent: 0, accepted: 0, rejected: 3, failed: 0 },
        recipients: { sent: 3, accepted: 3, rejected: 0 },
        rejects: { data: { '421': 3 } },
        errors: { ...NO_ERRORS, serverClosed: 3 },
        connections: { opened: 3, failed: 0 },
      },
      counter: { sess: 3, quit: 0, mesg: 0 },
      warnings: 3,
    },
    withoutA: {
      result: {
        messages: { started: 1, sent: 0, accepted: 0, rejected: 1, failed: 0 },
        rejects: { data: { '421': 1 } },
        errors: { ...NO_ERRORS, serverClosed: 1 },
      },
      counter: { sess: 1, quit: 0, mesg: 0 },
    },
  },
  {
    title: '-q rcpt (the sink hangs up at RCPT)',
    sinkArgs: ['-q', 'rcpt'],
    message: 'lost connection while sending recipient',
    withA: {
      // Ours counts the broken connection and goes on (deliberate: see cli-options.ts, -A).
      result: {
        messages: { started: 3, sent: 0, accepted: 0, rejected: 0, failed: 3 },
        recipients: { sent: 3, accepted: 0, rejected: 0 },
        rejects: {},
        errors: { ...NO_ERRORS, lostConnections: 3 },
      },
      counter: { sess: 3, quit: 0, mesg: 0 },
      warnings: 3,
    },
    cFatalEvenWithA: true,
    withoutA: {
      result: { messages: { started: 1, sent: 0, accepted: 0, rejected: 0, failed: 1 }, rejects: {}, errors: { ...NO_ERRORS, lostConnections: 1 } },
      counter: { sess: 1, quit: 0, mesg: 0 },
    },
  },
  {
    title: '-L -f . (500 for each of the 3 LMTP end-of-data replies)',
    sinkArgs: ['-L', '-f', '.'],
    api: { lmtp: true, recipients: 3 },
    cli: ['-L', '-r', '3'],
    message: 'end of data rejected: 500 5.3.0 Error: command failed',
    withA: {
      result: {
        messages: { started: 3, sent: 3, accepted: 0, rejected: 3, failed: 0 },
        recipients: { sent: 9, accepted: 9, rejected: 0 },
        rejects: { dot: { '500': 9 } },
        errors: NO_ERRORS,
      },
      counter: { sess: 3, quit: 3, mesg: 3 },
      warnings: 9,
    },
    withoutA: {
      result: { messages: { started: 1, sent: 1, accepted: 0, rejected: 1, failed: 0 }, rejects: { dot: { '500': 1 } }, errors: NO_ERRORS },
      counter: { sess: 1, quit: 0, mesg: 1 },
    },
  },
  {
    // The C sink sends one 421 for the first of the 3 replies the source waits for, then
    // closes. The C smtp-source closes the session on that 421 (-A) and goes on.
    title: '-L -Q . (421 for the first of 3 LMTP end-of-data replies, then close)',
    sinkArgs: ['-L', '-Q', '.'],
    api: { lmtp: true, recipients: 3 },
    cli: ['-L', '-r', '3'],
    message: 'end of data rejected: 421 4.0.0 Server closing connection',
    withA: {
      result: {
        messages: { started: 3, sent: 3, accepted: 0, rejected: 3, failed: 0 },
        recipients: { sent: 9, accepted: 9, rejected: 0 },
        rejects: { dot: { '421': 3 } },
        errors: { ...NO_ERRORS, serverClosed: 3 },
      },
      counter: { sess: 3, quit: 0, mesg: 3 },
      warnings: 3,
    },
    withoutA: {
      result: {
        messages: { started: 1, sent: 1, accepted: 0, rejected: 1, failed: 0 },
        rejects: { dot: { '421': 1 } },
        errors: { ...NO_ERRORS, serverClosed: 1 },
      },
      counter: { sess: 1, quit: 0, mesg: 1 },
    },
  },
];

describe.skipIf(!cSinkBin)('our smtp-source against the C smtp-sink\'s faults', { timeout: 10_000 }, () => {
  /** Runs the C smtp-source and our CLI with the same arguments, each against a fresh C sink. */
  async function bothClis(sinkArgs: string[], args: string[]) {
    const cSink = await r.cSink(cSinkBin!, sinkArgs);
    const c = await runProgram(cSourceBin!, [...ADDR_ARGS, ...args, cSink.target]);
    const oSink = await r.cSink(cSinkBin!, sinkArgs);
    const ours = await ourCli([...ADDR_ARGS, ...args, oSink.target]);
    return { c, ours };
  }

  for (const f of FAULTS) {
    it(`${f.title}, with -A: counted, and the run goes on`, async () => {
      const sink = await talliedSink(['-c', ...f.sinkArgs]);
      const { result, logs } = await source(sink.target, { ...f.api, messages: 3, allowReject: true });
      expect(result.fatal).toBeUndefined();
      expect(result).toMatchObject(f.withA.result);
      expect(result.rejects).toEqual(f.withA.result.rejects);
      expect(diagnostics(logs)).toEqual(Array(f.withA.warnings).fill(`warning: ${f.message}`));
      await expectSinkCount(sink, f.withA.counter);
      // Rejected messages count on neither side; a message refused at its "." was sent all the same.
      expectSameTally(sourceTally(result), await sink.tally());
      if (cSourceBin === undefined) return;
      // The CLIs: ours prints the same warnings as the C program.
      const { c, ours } = await bothClis(f.sinkArgs, ['-A', '-m', '3', ...(f.cli ?? [])]);
      expect(ours.code).toBe(0);
      expect(diagnostics(ours.stderr)).toEqual(Array(f.withA.warnings).fill(`warning: ${f.message}`));
      if (f.cFatalEvenWithA) {
        // The original ends the run on a lost connection even with -A; ours goes on.
        expect(c.code).toBe(1);
        expect(diagnostics(c.stderr)).toEqual([`fatal: ${f.message}`]);
      } else {
        expect(c.code).toBe(0);
        expect(diagnostics(ours.stderr)).toEqual(diagnostics(c.stderr));
      }
    });

    it(`${f.title}, without -A: the run ends with the C smtp-source's fatal line`, async () => {
      const sink = await talliedSink(['-c', ...f.sinkArgs]);
      const { result, logs } = await source(sink.target, { ...f.api, messages: 3 });
      expect(result.fatal).toBe(f.message);
      expect(result).toMatchObject(f.withoutA.result);
      expect(result.rejects).toEqual(f.withoutA.result.rejects);
      expect(diagnostics(logs)).toEqual([]);
      await expectSinkCount(sink, f.withoutA.counter);
      expectSameTally(sourceTally(result), await sink.tally());
      if (cSourceBin === undefined) return;
      const { c, ours } = await bothClis(f.sinkArgs, ['-m', '3', ...(f.cli ?? [])]);
      expect(c.code).toBe(1);
      expect(ours.code).toBe(1);
      expect(fatalLine(c.stderr)).toBe(`fatal: ${f.message}`);
      expect(fatalLine(ours.stderr)).toBe(fatalLine(c.stderr));
      expect(diagnostics(ours.stderr)).toEqual(diagnostics(c.stderr));
      expect(ours.stdout).toBe('');
    });
  }

  it('-w 1 (DATA answered after 1 s), -m 2 -s 2: both waits run side by side, nothing fails', async () => {
    const sink = await talliedSink(['-c', '-w', '1']);
    const { result, logs } = await source(sink.target, { messages: 2, sessions: 2 });
    expect(result.fatal).toBeUndefined();
    expect(result.messages).toEqual({ started: 2, sent: 2, accepted: 2, rejected: 0, failed: 0 });
    expect(result.errors).toEqual(NO_ERRORS);
    expect(logs).toBe('');
    expect(result.latency.data.count).toBe(2);
    expect(result.latency.data.min).toBeGreaterThanOrEqual(900);
    expect(result.latency.mail.max).toBeLessThan(500);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(900);
    // Side by side, not one after the other: the run took less than the two waits added up.
    expect(result.elapsedMs).toBeLessThan(result.latency.data.min + result.latency.data.max);
    await expectSinkCount(sink, { sess: 2, quit: 2, mesg: 2 });
    expectSameTally(sourceTally(result), await sink.tally());
  });

  it('-w 1 with -A -d -m 2: the two delays add up on one connection', async () => {
    const sink = await talliedSink(['-c', '-w', '1']);
    const { result, logs } = await source(sink.target, { messages: 2, reuseConnection: true, allowReject: true });
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(2);
    expect(result.errors).toEqual(NO_ERRORS);
    expect(result.rejects).toEqual({});
    expect(logs).toBe('');
    expect(result.latency.data.min).toBeGreaterThanOrEqual(900);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(1800);
    await expectSinkCount(sink, { sess: 1, quit: 1, mesg: 2 });
    expectSameTally(sourceTally(result), await sink.tally());
  });

  it('-W data:3 against our 1-second reply timeout: "timeout while sending DATA command"', async () => {
    const sink = await talliedSink(['-c', '-W', 'data:3']);
    const started = Date.now();
    const { result } = await source(sink.target, { messages: 2, timeoutSeconds: 1 });
    expect(Date.now() - started).toBeLessThan(2500);
    expect(result.fatal).toBe('timeout while sending DATA command');
    expect(result.errors).toEqual({ ...NO_ERRORS, timeouts: 1 });
    expect(result.messages).toEqual({ started: 1, sent: 0, accepted: 0, rejected: 0, failed: 1 });
    await expectSinkCount(sink, { sess: 1, quit: 0, mesg: 0 });
    expectSameTally(sourceTally(result), await sink.tally());
  });

  it('-M 3: the C sink exits before answering the 3rd ".", which ends our run as it ends the C source\'s', async () => {
    const sink = await talliedSink(['-c', '-M', '3']);
    const { result } = await source(sink.target, { messages: 3, reuseConnection: true });
    expect(result.fatal).toBe('lost connection while sending message');
    expect(result.messages).toEqual({ started: 3, sent: 3, accepted: 2, rejected: 0, failed: 1 });
    expect(result.errors).toEqual({ ...NO_ERRORS, lostConnections: 1 });
    expect(await sink.exited).toEqual({ code: 0, signal: null });
    expect(sink.counter()).toBe('sess=0 quit=0 mesg=3');
    // The sink read 3 messages but exited before its reply to the 3rd.
    expectSameTally(sourceTally(result), await sink.tally(1));
    if (cSourceBin === undefined) return;
    const cSink = await r.cSink(cSinkBin!, ['-M', '3']);
    const c = await runProgram(cSourceBin, [...ADDR_ARGS, '-d', '-m', '3', cSink.target]);
    const oSink = await r.cSink(cSinkBin!, ['-M', '3']);
    const ours = await ourCli([...ADDR_ARGS, '-d', '-m', '3', oSink.target]);
    expect(c.code).toBe(1);
    expect(ours.code).toBe(1);
    expect(fatalLine(c.stderr)).toBe('fatal: lost connection while sending message');
    expect(fatalLine(ours.stderr)).toBe(fatalLine(c.stderr));
  });

  it.skipIf(!cSourceBin)('-M 3 with -c: on a fatal exit the counter gets no final newline, as in the C smtp-source', async () => {
    // Spec 1.2 (-c) and quirk 9: "On normal exit prints \n. Nothing is printed on a fatal exit."
    const cSink = await r.cSink(cSinkBin!, ['-M', '3']);
    const c = await runProgram(cSourceBin!, [...ADDR_ARGS, '-c', '-d', '-m', '3', cSink.target]);
    const oSink = await talliedSink(['-M', '3']);
    const json = join(r.dir(), 'result.json');
    const ours = await ourCli([...ADDR_ARGS, '-c', '-d', '-m', '3', '--json', json, oSink.target]);
    expect(c.code).toBe(1);
    expect(ours.code).toBe(1);
    expect(c.stdout).toBe('1\r2\r3\r');
    expect(ours.stdout).toBe(c.stdout);
    // The sink read 3 messages but exited before its reply to the 3rd.
    expect(await oSink.exited).toEqual({ code: 0, signal: null });
    expectSameTally(sourceTally(JSON.parse(readFileSync(json, 'utf8')) as SourceResult), await oSink.tally(1));
  });
});
