// Properties of the sink's command handling, checked by fast-check on generated input (shrunk
// to a smallest failing case when one fails): verbs are matched whatever their case and
// surroundings, garbage never throws, and a whole session gets the same replies, byte for
// byte, and leaves the same counts however the client's bytes are cut into TCP chunks.
import { connect } from 'node:net';
import { once } from 'node:events';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cmd, COMMAND_NAMES, matchVerb, type ParsedVerb } from '../src/commands.js';
import { parseUsers, type Sink, type SinkOptionsInput } from '../src/index.js';
import { portOf, testSink } from './helpers.js';

const CLIENT_VERBS = COMMAND_NAMES.filter((n) => n !== 'connect' && n !== '.');

/** A verb in any mix of upper and lower case. */
const anyCase = (verb: string): fc.Arbitrary<string> =>
  fc.array(fc.boolean(), { minLength: verb.length, maxLength: verb.length }).map((up) => [...verb].map((ch, i) => (up[i] ? ch.toUpperCase() : ch.toLowerCase())).join(''));

const blanks = fc.array(fc.constantFrom(' ', '\t'), { maxLength: 3 }).map((a) => a.join(''));
const argText = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 });

function parse(text: string | Buffer): ParsedVerb {
  const line = typeof text === 'string' ? Buffer.from(text, 'latin1') : text;
  const out: ParsedVerb = { cmd: Cmd.Unknown, verbStart: 0, verbEnd: 0, argsStart: 0 };
  matchVerb(line, 0, line.length, out);
  return out;
}

describe('matchVerb', () => {
  it('finds every verb in any case, after any blanks, with or without arguments', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CLIENT_VERBS).chain((v) => fc.tuple(fc.constant(v), anyCase(v))), blanks, fc.option(argText), ([name, typed], lead, args) => {
        const text = `${lead}${typed}${args === null ? '' : ` ${args}`}`;
        const p = parse(text);
        expect(COMMAND_NAMES[p.cmd]).toBe(name);
        expect(text.slice(p.verbStart, p.verbEnd)).toBe(typed);
        expect(text.slice(p.argsStart)).toBe(args ?? '');
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on any bytes; blank lines are empty, and a match is the verb it names', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const line = Buffer.from(bytes);
        const p = parse(line);
        const words = line.toString('latin1').split(/[ \t]+/).filter((w) => w !== '');
        if (words.length === 0) expect(p.cmd).toBe(Cmd.Empty);
        else if (p.cmd !== Cmd.Unknown) expect(COMMAND_NAMES[p.cmd].toUpperCase()).toBe(words[0].toUpperCase());
      }),
      { numRuns: 1000 },
    );
  });
});

// ---- whole sessions -------------------------------------------------------------------------

/** Body lines that test the DATA framing: dot lines, bare CR and LF, 8-bit, NUL. */
const bodyLine = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom('a', 'Z', ' ', '.', '\r', '\n', '\x00', '\xe9', ':'), maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom('.', '..', '. ', '.\r', 'x'.repeat(3000)) },
);

/** Lines ended by CR LF, as sent. */
const lines = (ls: string[]): string => ls.map((l) => `${l}\r\n`).join('');

/** BDAT chunk content: any bytes, end-of-data look-alikes included (BDAT takes them by count). */
const chunkBytes = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: fc.constantFrom('a', '.', '\r', '\n', '\x00', '\xe9'), maxLength: 24 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '\r\n.\r\n', 'QUIT\r\n', 'y'.repeat(3000)) },
);

/** A BDAT transaction: some chunks, the last one marked LAST (or an empty "BDAT 0 LAST"). */
const bdatTransaction = fc
  .tuple(fc.integer({ min: 0, max: 2 }), fc.array(chunkBytes, { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([rcpts, chunks, emptyLast]) => {
    const body = chunks.map((c, i) => `BDAT ${c.length}${i === chunks.length - 1 && !emptyLast ? ' LAST' : ''}\r\n${c}`).join('');
    return lines(['MAIL FROM:<s@x>', ...Array.from({ length: rcpts }, (_, i) => `RCPT TO:<r${i}@x>`)]) + body + (emptyLast ? 'BDAT 0 LAST\r\n' : '');
  });

/** One client line (or a whole transaction), as the bytes it sends. */
const clientText = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .constantFrom('EHLO x', 'HELO y', 'LHLO z', 'MAIL FROM:<a@b>', 'RCPT TO:<c@d>', 'rcpt to:<e@f> NOTIFY=NEVER', 'RSET', 'NOOP', 'VRFY x', 'DATA', 'XCLIENT NAME=z', 'XFORWARD ADDR=1.2.3.4', 'STARTTLS')
      .map((l) => lines([l])),
  },
  {
    // AUTH exchanges (alice:secret where the sink has users): whole, step by step, cancelled, bad base64.
    weight: 1,
    arbitrary: fc
      .constantFrom(['AUTH PLAIN AGFsaWNlAHNlY3JldA=='], ['AUTH PLAIN AGFiAGM='], ['AUTH PLAIN', 'AGFsaWNlAHNlY3JldA=='], ['AUTH LOGIN', 'YWxpY2U=', 'c2VjcmV0'], ['AUTH LOGIN YWxpY2U=', 'd3Jvbmc='], ['AUTH LOGIN', '*'], ['AUTH PLAIN', '!!!'])
      .map((ls) => lines(ls)),
  },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 3 }), fc.array(bodyLine, { maxLength: 6 }))
      .map(([rcpts, body]) => lines(['MAIL FROM:<s@x>', ...Array.from({ length: rcpts }, (_, i) => `RCPT TO:<r${i}@x>`), 'DATA', ...body.map((b) => b.replace(/^\.(?=\r?$)/, '..')), '.'])),
  },
  // Without --chunking BDAT is an unknown command and its chunk is read as commands; with it, a
  // refused chunk is still read past. (A bad count closes the session, so none is generated.)
  { weight: 2, arbitrary: bdatTransaction },
  { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 30 }).map((g) => lines([g])) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'NOOP ' + 'y'.repeat(2041), 'NOOP ' + 'y'.repeat(2042), 'NOOP ' + 'y'.repeat(5000)).map((l) => lines([l])) },
);

// A lone DATA after a MAIL and a RCPT swallows every later line as message text: a final "."
// ends such a message (and outside DATA just gets "250 Ok"), so every session reaches its QUIT.
// The empty line before it ends whatever line a chunk's bytes left open.
const script = fc.array(clientText, { minLength: 1, maxLength: 12 }).map((groups) => Buffer.from(groups.join('') + lines(['', '.', 'QUIT']), 'latin1'));

/** Sends `pieces` one by one (each its own write, a turn of the event loop apart); resolves with all the sink sent back. */
async function session(port: number, pieces: Buffer[]): Promise<Buffer> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const got: Buffer[] = [];
  socket.on('data', (d: Buffer) => got.push(d));
  socket.on('error', () => undefined);
  // Listened for from the start: the sink may close before the last piece is written.
  const closed = new Promise((resolve) => socket.once('close', resolve));
  await once(socket, 'connect');
  for (const p of pieces) {
    if (socket.destroyed) break;
    if (p.length > 0) socket.write(p);
    await new Promise((r) => setImmediate(r));
  }
  // A sink that missed the QUIT would keep the session for -t: cut it, and let the replies differ.
  const timer = setTimeout(() => socket.destroy(), 3000);
  await closed;
  clearTimeout(timer);
  return Buffer.concat(got);
}

function cut(buf: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    out.push(buf.subarray(from, c));
    from = c;
  }
  out.push(buf.subarray(from));
  return out;
}

// Without --chunking BDAT is an unknown command; LMTP answers the end of a message per recipient.
describe.each([
  { mode: 'SMTP', options: {} },
  { mode: 'SMTP with --chunking', options: { chunking: true } },
  { mode: 'LMTP with --chunking', options: { lmtp: true, chunking: true } },
  { mode: 'AUTH users, --chunking, -r . -f vrfy', options: { chunking: true, auth: { mechanisms: ['PLAIN', 'LOGIN'], users: parseUsers('alice:secret\n') }, hardReject: ['.'], softReject: ['vrfy'] } },
] satisfies { mode: string; options: Partial<SinkOptionsInput> }[])('a whole session, however it is cut ($mode)', ({ options }) => {
  let sink: Sink;
  beforeAll(async () => {
    sink = await testSink(options);
  });
  afterAll(() => sink.close());

  /** What a session changed in the counters that do not depend on timing. */
  async function counted(run: () => Promise<Buffer>): Promise<{ replies: string; counts: Record<string, unknown> }> {
    const before = sink.stats();
    const replies = await run();
    // The session is over once the sink closed it; its counters are final by then.
    const after = sink.stats();
    const diff = (k: 'messages' | 'recipients' | 'bytes' | 'longLines' | 'outOfOrder' | 'quits' | 'authSuccesses' | 'authFailures') => after[k] - before[k];
    const byKey = (now: Record<string, number>, then: Record<string, number>) => Object.fromEntries(Object.entries(now).map(([k, n]) => [k, n - (then[k] ?? 0)]).filter(([, n]) => n !== 0));
    return {
      replies: replies.toString('latin1'),
      counts: {
        messages: diff('messages'),
        recipients: diff('recipients'),
        bytes: diff('bytes'),
        longLines: diff('longLines'),
        outOfOrder: diff('outOfOrder'),
        quits: diff('quits'),
        auth: [diff('authSuccesses'), diff('authFailures')],
        commands: byKey(after.commands, before.commands),
        rejects: byKey(after.rejects, before.rejects),
      },
    };
  }

  it('the same replies and counts in one write as in random chunks', async () => {
    const port = portOf(sink);
    await fc.assert(
      fc.asyncProperty(script.chain((s) => fc.tuple(fc.constant(s), fc.array(fc.integer({ min: 0, max: s.length }), { maxLength: 12 }))), async ([bytes, cuts]) => {
        const whole = await counted(() => session(port, [bytes]));
        const pieces = await counted(() => session(port, cut(bytes, cuts)));
        expect(pieces).toEqual(whole);
        expect(whole.counts.quits).toBe(1);
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('the same replies and counts fed one byte at a time', async () => {
    const port = portOf(sink);
    await fc.assert(
      fc.asyncProperty(script.filter((s) => s.length < 400), async (bytes) => {
        const whole = await counted(() => session(port, [bytes]));
        const bytewise = await counted(() => session(port, cut(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1))));
        expect(bytewise).toEqual(whole);
      }),
      { numRuns: 15 },
    );
  }, 60_000);
});
