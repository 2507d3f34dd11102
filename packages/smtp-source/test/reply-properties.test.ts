// A property of smtp-source's client side, checked by fast-check on generated servers: however
// a server's replies are cut into TCP chunks (across reply boundaries, inside a CR LF, a byte
// or two at a time), the run counts the same messages, recipients, rejects and errors as when
// each batch of replies comes in one write. Lock-step and pipelined, one connection per
// message and -d, with multi-line replies and lines longer than the parser keeps.
import { createServer, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SourceResult } from '../src/index.js';
import { runBounded } from './helpers.js';

/** The codes a server gives, each list used in turn (cycling) for the n-th such command. */
interface ReplyPlan {
  mail: number[];
  rcpt: number[];
  endOfData: number[];
  /** Extra "ddd-" lines before each reply's last line. */
  extraLines: number[];
  /** Length of each reply line's text; 12,000 is past what the parser keeps of a line. */
  textLength: number[];
}

const plan = fc.record({
  mail: fc.array(fc.constantFrom(250, 250, 451, 550), { minLength: 1, maxLength: 4 }),
  rcpt: fc.array(fc.constantFrom(250, 250, 450, 550), { minLength: 1, maxLength: 4 }),
  endOfData: fc.array(fc.constantFrom(250, 250, 451, 554), { minLength: 1, maxLength: 4 }),
  extraLines: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
  textLength: fc.array(fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 80 }) }, { weight: 1, arbitrary: fc.constant(12_000) }), { minLength: 1, maxLength: 4 }),
});

/** Where a batch of reply bytes is cut: fractions of its length, each piece a separate write. */
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 10 });

interface PlanServer {
  port: number;
  close(): Promise<void>;
}

/**
 * A server that answers by `p` and writes each batch of replies (all those one read of
 * commands produced) in the pieces `cutAt` gives, a turn of the event loop apart. It keeps
 * SMTP's rules (503 for RCPT without MAIL, 554 for DATA without recipients) so that a run
 * never waits on it.
 */
async function planServer(p: ReplyPlan, cutAt: number[]): Promise<PlanServer> {
  const used = { mail: 0, rcpt: 0, endOfData: 0, lines: 0 };
  const pick = (list: number[], k: keyof typeof used): number => list[used[k]++ % list.length];
  const reply = (code: number, text: string): string => {
    const extra = pick(p.extraLines, 'lines');
    let out = '';
    for (let i = 0; i < extra; i++) out += `${code}-${'m'.repeat(pick(p.textLength, 'lines'))}\r\n`;
    return `${out}${code} ${text}${'t'.repeat(pick(p.textLength, 'lines'))}\r\n`;
  };
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let mailOk = false;
    let rcptOk = 0;
    let inData = false;
    let quit = false;
    let pending = '';
    // Writes go out in order even when one batch is still being cut when the next is ready.
    let writing = Promise.resolve();
    const send = (text: string): void => {
      const bytes = Buffer.from(text, 'latin1');
      const at = [...new Set(cutAt.map((f) => Math.floor(f * bytes.length)))].sort((a, b) => a - b);
      const close = quit;
      writing = writing.then(async () => {
        let from = 0;
        for (const c of [...at, bytes.length]) {
          if (c > from && !socket.destroyed) socket.write(bytes.subarray(from, c));
          from = Math.max(from, c);
          await new Promise((r) => setImmediate(r));
        }
        if (close) socket.end();
      });
    };
    send(reply(220, 'plan ESMTP '));
    socket.on('data', (d: Buffer) => {
      pending += d.toString('latin1');
      let out = '';
      let i: number;
      while (!quit && (i = pending.indexOf('\r\n')) >= 0) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 2);
        if (inData) {
          if (line !== '.') continue;
          inData = false;
          out += reply(pick(p.endOfData, 'endOfData'), 'end ');
          mailOk = false;
          rcptOk = 0;
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') out += `250-plan\r\n250-PIPELINING\r\n${reply(250, 'ok ')}`;
        else if (verb === 'HELO') out += reply(250, 'ok ');
        else if (verb === 'MAIL') {
          const code = pick(p.mail, 'mail');
          mailOk = code === 250;
          out += reply(code, 'mail ');
        } else if (verb === 'RCPT') {
          const code = mailOk ? pick(p.rcpt, 'rcpt') : 503;
          if (code === 250) rcptOk++;
          out += reply(code, 'rcpt ');
        } else if (verb === 'DATA') {
          inData = mailOk && rcptOk > 0;
          out += inData ? '354 go ahead\r\n' : reply(554, 'no valid recipients ');
        } else if (verb === 'RSET') {
          mailOk = false;
          rcptOk = 0;
          out += reply(250, 'reset ');
        } else if (verb === 'QUIT') {
          quit = true;
          out += '221 bye\r\n';
        } else out += reply(502, 'unknown ');
      }
      if (out !== '') send(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The part of a result that does not depend on timing. */
function counted(r: SourceResult) {
  return { messages: r.messages, recipients: r.recipients, bytes: r.bytes, connections: r.connections, errors: r.errors, rejects: r.rejects, fatal: r.fatal };
}

interface RunShape {
  messages: number;
  recipients: number;
  pipelining: boolean;
  reuseConnection: boolean;
}

const runShape: fc.Arbitrary<RunShape> = fc.record({
  messages: fc.integer({ min: 1, max: 5 }),
  recipients: fc.integer({ min: 1, max: 3 }),
  pipelining: fc.boolean(),
  reuseConnection: fc.boolean(),
});

/** The counts of one run against a plan server whose replies come whole, and of one with them cut at `cutAt`. */
async function wholeAndCut(p: ReplyPlan, cutAt: number[], shape: RunShape) {
  const results = [];
  for (const at of [[], cutAt]) {
    const server = await planServer(p, at);
    try {
      const { result } = await runBounded({ target: `127.0.0.1:${server.port}`, ...shape, allowReject: true, timeoutSeconds: 3 }, 10_000);
      results.push(counted(result));
    } finally {
      await server.close();
    }
  }
  return { whole: results[0], cut: results[1] };
}

describe('smtp-source, however the replies are cut', () => {
  it('counts the same messages, recipients, rejects and errors as with whole replies', async () => {
    await fc.assert(
      fc.asyncProperty(plan, cuts, runShape, async (p, cutAt, shape) => {
        const { whole, cut } = await wholeAndCut(p, cutAt, shape);
        expect(cut).toEqual(whole);
        // Every message got an answer: none failed or timed out for want of a reply.
        expect(whole.errors).toEqual({ timeouts: 0, lostConnections: 0, serverClosed: 0, connectFailures: 0 });
        expect(whole.messages.started).toBe(shape.messages);
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('the same counts with each batch of replies in 200 pieces (a byte at a time for most)', async () => {
    const byteWise = Array.from({ length: 200 }, (_, i) => i / 200);
    await fc.assert(
      fc.asyncProperty(plan.filter((p) => !p.textLength.includes(12_000)), runShape, async (p, shape) => {
        const { whole, cut } = await wholeAndCut(p, byteWise, shape);
        expect(cut).toEqual(whole);
      }),
      { numRuns: 10 },
    );
  }, 120_000);
});
