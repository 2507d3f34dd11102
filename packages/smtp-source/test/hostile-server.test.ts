// Hostile servers (issue 7): cases bad-server.test.ts does not cover. Each is scripted on
// loopback and bounded: a small --timeout, and runBounded() fails a run that does not end.
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeScripted, scripted, smtp } from './scripted-server.js';
import { runBounded } from './helpers.js';

afterEach(closeScripted);

/** A multi-line reply of `lines` lines: "250-line n" x (lines-1), then "250 last". */
function huge(lines: number): string {
  let out = '';
  for (let i = 1; i < lines; i++) out += `250-line ${i} ${'x'.repeat(60)}\r\n`;
  return out + '250 last\r\n';
}

const target = (port: number) => `127.0.0.1:${port}`;

describe('smtp-source against hostile servers', () => {
  it('a 10,000-line reply to HELO/EHLO and to end of data is one reply each; the run goes on', async () => {
    const big = huge(10_000);
    const port = await scripted('220 hi\r\n', smtp({ HELO: (s) => s.write(big), EHLO: (s) => s.write(big), '.': (s) => s.write(big) }));
    const heap0 = process.memoryUsage().heapUsed;
    const t0 = Date.now();
    const { result: r } = await runBounded({ target: target(port), messages: 3, timeoutSeconds: 2 }, 10_000);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(r.fatal).toBeUndefined();
    expect(r.messages).toMatchObject({ started: 3, sent: 3, accepted: 3, rejected: 0, failed: 0 });
    expect(r.errors).toEqual({ timeouts: 0, lostConnections: 0, serverClosed: 0, connectFailures: 0 });
    // ~700 kB of reply text per reply, 6 replies: kept whole it would be megabytes more.
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(64 * 1024 * 1024);
    // With pipelining the EHLO reply is the huge one; PIPELINING is not offered, so lock-step.
    const { result: p } = await runBounded({ target: target(port), messages: 2, pipelining: true, timeoutSeconds: 2 }, 10_000);
    expect(p.fatal).toBeUndefined();
    expect(p.messages).toMatchObject({ started: 2, accepted: 2 });
  });

  it('a 10,000-line 550 to MAIL with -A: one reject, its text capped in the warning', async () => {
    const big = huge(10_000).replace(/^250/gm, '550');
    const port = await scripted('220 hi\r\n', smtp({ MAIL: (s) => s.write(big) }));
    const { result: r, logs } = await runBounded({ target: target(port), messages: 2, allowReject: true, timeoutSeconds: 2 }, 10_000);
    expect(r.fatal).toBeUndefined();
    expect(r.messages).toMatchObject({ started: 2, sent: 0, accepted: 0, rejected: 2, failed: 0 });
    expect(r.rejects).toEqual({ mail: { '550': 2 } });
    const warnings = logs.split('\n').filter((l) => /warning: sender rejected: 550 /.test(l));
    expect(warnings).toHaveLength(2);
    // The parser keeps at most ~10 kB of reply text; the full reply is ~700 kB.
    for (const w of warnings) expect(w.length).toBeLessThan(16 * 1024);
  });

  it('1 MB reply lines (a banner, a 250 to end of data, a 550 to MAIL): one reply each, text capped, the run goes on', async () => {
    const mb = 'x'.repeat(1024 * 1024);
    const port = await scripted(`220 ${mb}\r\n`, smtp({ '.': (s) => s.write(`250 ${mb}\r\n`) }));
    const { result: r } = await runBounded({ target: target(port), messages: 3, timeoutSeconds: 2 }, 10_000);
    expect(r.fatal).toBeUndefined();
    expect(r.messages).toMatchObject({ started: 3, sent: 3, accepted: 3, rejected: 0, failed: 0 });
    expect(r.errors).toEqual({ timeouts: 0, lostConnections: 0, serverClosed: 0, connectFailures: 0 });
    const rejecting = await scripted('220 hi\r\n', smtp({ MAIL: (s) => s.write(`550 ${mb}\r\n`) }));
    const { result: x, logs } = await runBounded({ target: target(rejecting), messages: 2, allowReject: true, timeoutSeconds: 2 }, 10_000);
    expect(x.messages).toMatchObject({ started: 2, rejected: 2 });
    expect(x.rejects).toEqual({ mail: { '550': 2 } });
    for (const w of logs.split('\n').filter((l) => l.includes('sender rejected'))) expect(w.length).toBeLessThan(16 * 1024);
  });

  it('a fatal error while another session awaits its end-of-data reply: that reply is waited for, and the message counts as accepted', async () => {
    // Connection 1 answers its "." after 300 ms; connection 2 refuses RCPT after 100 ms, which
    // without -A ends the run while connection 1's message may already be the server's.
    let connections = 0;
    const port = await scripted(
      '220 hi\r\n',
      smtp({
        HELO: (s, st) => {
          st.conn = ++connections;
          s.write('250 ok\r\n');
        },
        RCPT: (s, st) => {
          if (st.conn === 2) setTimeout(() => s.write('550 5.1.1 no such user\r\n'), 100);
          else s.write('250 ok\r\n');
        },
        '.': (s) => {
          setTimeout(() => s.write('250 2.0.0 Ok: queued as LATE1\r\n'), 300);
        },
      }),
    );
    const t0 = Date.now();
    const { result: r } = await runBounded({ target: target(port), messages: 2, sessions: 2, timeoutSeconds: 5 }, 8000);
    expect(r.fatal).toBe('recipient rejected: 550 5.1.1 no such user');
    // The server said 250 to connection 1's message: so does the result.
    expect(r.messages).toMatchObject({ started: 2, sent: 1, accepted: 1 });
    expect(Date.now() - t0).toBeLessThan(2500);
  });

  it('replies sent before the commands are taken as the replies, in order; counts stay consistent', async () => {
    // HELO, MAIL, RCPT and DATA replies all right after the banner, before the client writes;
    // the server then stays silent for those commands. The source reads the queued replies
    // in order as the answers to its commands (lock-step: one outstanding at a time), so
    // the messages go through: nothing is attributed twice and nothing is left waiting.
    const port = await scripted(
      '220 hi\r\n250 helo\r\n250 mail\r\n250 rcpt\r\n354 data\r\n',
      smtp({ HELO: () => undefined, MAIL: () => undefined, RCPT: () => undefined, DATA: (_s, st) => (st.data = true) }),
    );
    const t0 = Date.now();
    const { result: r } = await runBounded({ target: target(port), messages: 2, timeoutSeconds: 2 }, 8000);
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(r.fatal).toBeUndefined();
    expect(r.messages).toMatchObject({ started: 2, sent: 2, accepted: 2, rejected: 0, failed: 0 });
    expect(r.errors).toEqual({ timeouts: 0, lostConnections: 0, serverClosed: 0, connectFailures: 0 });
  });

  it('garbage lines interleaved before a reply are replies of code 0, one per line', async () => {
    // MAIL gets "junk", "not smtp", "250 ok": the first is MAIL's reply (code 0), the second
    // answers the RSET that follows (code 0), the third is stray and answers QUIT.
    const port = await scripted('220 hi\r\n', smtp({ MAIL: (s) => s.write('\x00\xff junk\r\nnot smtp\r\n250 ok\r\n') }));
    const { result: r } = await runBounded({ target: target(port), messages: 2, allowReject: true, timeoutSeconds: 2 }, 8000);
    expect(r.fatal).toBeUndefined();
    expect(r.messages).toMatchObject({ started: 2, sent: 0, accepted: 0, rejected: 2, failed: 0 });
    expect(r.rejects).toEqual({ mail: { '0': 2 }, rset: { '0': 2 } });
    expect(r.errors).toEqual({ timeouts: 0, lostConnections: 0, serverClosed: 0, connectFailures: 0 });
    // Without -A the first garbage line is fatal.
    const { result: f } = await runBounded({ target: target(port), messages: 2, timeoutSeconds: 2 }, 8000);
    expect(f.fatal).toMatch(/^sender rejected: 0 /);
  });

  it('421 after RCPT: serverClosed; with -A the next message comes on a new connection', async () => {
    let n = 0;
    const port = await scripted('220 hi\r\n', smtp({ RCPT: (s) => (n++ === 0 ? s.end('421 4.3.2 bye\r\n') : s.write('250 ok\r\n')) }));
    const { result: r } = await runBounded({ target: target(port), messages: 3, reuseConnection: true, allowReject: true, timeoutSeconds: 2 }, 8000);
    expect(r.fatal).toBeUndefined();
    expect(r.messages).toMatchObject({ started: 3, sent: 2, accepted: 2, rejected: 1, failed: 0 });
    expect(r.errors).toEqual({ timeouts: 0, lostConnections: 0, serverClosed: 1, connectFailures: 0 });
    expect(r.rejects).toEqual({ rcpt: { '421': 1 } });
    expect(r.connections.opened).toBe(2);
  });

  it('421 during the message (after 354): serverClosed; with -A the next message succeeds', async () => {
    let closeNext = true;
    const port = await scripted(
      '220 hi\r\n',
      smtp({
        '\0data': (s) => {
          if (closeNext) {
            closeNext = false;
            s.end('421 4.3.2 bye\r\n');
          }
        },
      }),
    );
    // A short message (likely all written before the 421 arrives) and a 2 MB one (the 421
    // arrives while the client is still writing it): the same counts either way.
    for (const length of [0, 2_000_000]) {
      closeNext = true;
      const { result: r } = await runBounded({ target: target(port), messages: 3, length, reuseConnection: true, allowReject: true, timeoutSeconds: 2 }, 8000);
      expect(r.fatal).toBeUndefined();
      // The 421 is read as the answer to the end of data.
      expect(r.messages).toMatchObject({ started: 3, sent: 3, accepted: 2, rejected: 1, failed: 0 });
      expect(r.errors).toEqual({ timeouts: 0, lostConnections: 0, serverClosed: 1, connectFailures: 0 });
      expect(r.rejects).toEqual({ dot: { '421': 1 } });
      expect(r.connections.opened).toBe(2);
    }
  });

  it('a server that accepts and never speaks: each session ends on the banner timeout', async () => {
    const port = await scripted(() => undefined, () => undefined);
    const t0 = Date.now();
    const { result: r } = await runBounded({ target: target(port), messages: 3, allowReject: true, timeoutSeconds: 1 }, 8000);
    const took = Date.now() - t0;
    // One session at a time: about 1 s each.
    expect(took).toBeGreaterThanOrEqual(2500);
    expect(took).toBeLessThan(6000);
    expect(r.fatal).toBeUndefined();
    expect(r.messages).toMatchObject({ started: 3, sent: 0, accepted: 0, rejected: 0, failed: 3 });
    expect(r.errors).toEqual({ timeouts: 3, lostConnections: 0, serverClosed: 0, connectFailures: 0 });
    expect(r.connections.opened).toBe(3);
  });

  it('a server that reads forever and never answers the end of data: a timeout per message', async () => {
    const port = await scripted('220 hi\r\n', smtp({ '.': () => undefined }));
    const t0 = Date.now();
    const { result: r } = await runBounded({ target: target(port), messages: 2, allowReject: true, timeoutSeconds: 1 }, 8000);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(1500);
    expect(took).toBeLessThan(5000);
    expect(r.fatal).toBeUndefined();
    expect(r.messages).toMatchObject({ started: 2, sent: 2, accepted: 0, rejected: 0, failed: 2 });
    expect(r.errors).toEqual({ timeouts: 2, lostConnections: 0, serverClosed: 0, connectFailures: 0 });
    // Without -A the first timeout is fatal.
    const { result: f } = await runBounded({ target: target(port), messages: 2, timeoutSeconds: 1 }, 8000);
    expect(f.fatal).toMatch(/^timeout /);
    expect(f.errors.timeouts).toBe(1);
  });

  it('a server that closes right after 354: a lost connection per message', async () => {
    const port = await scripted('220 hi\r\n', smtp({ DATA: (s) => s.end('354 go\r\n') }));
    const t0 = Date.now();
    const { result: r } = await runBounded({ target: target(port), messages: 3, allowReject: true, timeoutSeconds: 1 }, 8000);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(r.fatal).toBeUndefined();
    expect(r.messages).toMatchObject({ started: 3, sent: 3, accepted: 0, rejected: 0, failed: 3 });
    expect(r.errors).toEqual({ timeouts: 0, lostConnections: 3, serverClosed: 0, connectFailures: 0 });
    expect(r.connections.opened).toBe(3);
  });
});
