// Our smtp-source against our smtp-sink with the new extensions: STARTTLS and implicit TLS
// (self-signed and CA-signed certificates, session resumption), AUTH PLAIN/LOGIN/CRAM-MD5
// against --users (235 and 535), BDAT against --chunking (dumps equal to those of DATA),
// SMTPUTF8 and SIZE. Both in-process on an ephemeral loopback port, every run bounded; each
// case compares what the two sides counted.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SinkOptionsInput } from '../../smtp-sink/src/index.js';
import type { SourceOptionsInput, SourceResult } from '../src/index.js';
import { expectSameTally, NO_PROBLEMS, portOf, problems, resources, runBounded, settled, sinkTally, sourceTally, type TestSink } from './helpers.js';
import { makeCerts, type Certs } from './tls-helpers.js';

const r = resources();
const ADDR = { sender: 'sender@example.com', recipient: 'rcpt@example.com', myHostname: 'client.example' } as const;
const NO_ERRORS = { timeouts: 0, lostConnections: 0, serverClosed: 0, connectFailures: 0 };
const USERS = new Map([
  ['alice', 'wonder land'],
  ['bob', 'builder'],
]);

let certs: Certs;
beforeAll(() => {
  certs = makeCerts('mx.example.test');
});
afterAll(() => certs?.remove());

const inet = (sink: TestSink): string => `127.0.0.1:${portOf(sink)}`;

async function pair(sinkOpts: Partial<SinkOptionsInput>, sourceOpts: Partial<SourceOptionsInput>, sessionsEnded: number): Promise<{ result: SourceResult; s: ReturnType<TestSink['stats']>; logs: string }> {
  const sink = await r.sink(sinkOpts);
  const { result, logs } = await runBounded({ target: inet(sink), ...ADDR, ...sourceOpts }, 8000);
  const s = await settled(sink, sessionsEnded);
  return { result, s, logs };
}

/** All accepted, nothing lost, and the counts the same on both sides. */
function allAgree(result: SourceResult, s: ReturnType<TestSink['stats']>, messages: number, recipientsPerMessage = 1): void {
  expect(result.fatal).toBeUndefined();
  expect(result.messages).toEqual({ started: messages, sent: messages, accepted: messages, rejected: 0, failed: 0 });
  expect(result.recipients).toEqual({ sent: messages * recipientsPerMessage, accepted: messages * recipientsPerMessage, rejected: 0 });
  expect(result.errors).toEqual(NO_ERRORS);
  expect(s.messages).toBe(messages);
  expect(s.messagesAccepted).toBe(messages);
  expect(s.recipients).toBe(messages * recipientsPerMessage);
  expect(result.bytes).toBe(s.bytes);
  expect(problems(s)).toEqual(NO_PROBLEMS);
  expectSameTally(sourceTally(result), sinkTally(s));
}

describe('our smtp-source against our smtp-sink: TLS', { timeout: 15_000 }, () => {
  it('--starttls with the self-signed certificate (--tls-insecure), a connection per message', async () => {
    const { result, s } = await pair({ tls: 'starttls' }, { tls: { mode: 'starttls', insecure: true }, messages: 20, sessions: 4 }, 20);
    allAgree(result, s, 20);
    expect(result.tls).toMatchObject({ handshakes: 20, failures: 0, plaintext: 0 });
    expect(s.tlsHandshakes).toBe(20);
    expect(s.tlsFailures).toBe(0);
    expect(s.commands).toMatchObject({ ehlo: 40, mail: 20, rcpt: 20, data: 20, quit: 20 });
    expect(result.tls!.protocols).toEqual(s.tlsProtocols);
    expect(result.tls!.ciphers).toEqual(s.tlsCiphers);
  });

  it('--starttls with a CA-signed certificate (--tls-ca, --tls-servername), verified', async () => {
    const { result, s } = await pair(
      { tls: 'starttls', tlsCert: readFileSync(certs.certFile), tlsKey: readFileSync(certs.keyFile) },
      { tls: { mode: 'starttls', ca: readFileSync(certs.caFile), servername: certs.name }, messages: 30, sessions: 3, reuseConnection: true },
      3,
    );
    allAgree(result, s, 30);
    expect(result.tls).toMatchObject({ handshakes: 3, failures: 0 });
    expect(s.tlsHandshakes).toBe(3);
  });

  it('the CA-signed certificate under a wrong --tls-servername fails verification on the source; nothing delivered', async () => {
    const sink = await r.sink({ tls: 'starttls', tlsCert: readFileSync(certs.certFile), tlsKey: readFileSync(certs.keyFile) });
    const { result } = await runBounded({ target: inet(sink), ...ADDR, tls: { mode: 'starttls', ca: readFileSync(certs.caFile), servername: 'other.example.test' }, messages: 1 }, 8000);
    expect(result.messages.accepted).toBe(0);
    expect(result.tls?.handshakes ?? 0).toBe(0);
    const s = await settled(sink, 1);
    expect(s.messages).toBe(0);
    expectSameTally(sourceTally(result), sinkTally(s));
  });

  it('implicit TLS (--tls on both sides), -d -s 2 -r 2', async () => {
    const { result, s } = await pair(
      { tls: 'implicit', tlsCert: readFileSync(certs.certFile), tlsKey: readFileSync(certs.keyFile) },
      { tls: { mode: 'implicit', ca: readFileSync(certs.caFile), servername: certs.name }, messages: 40, sessions: 2, reuseConnection: true, recipients: 2 },
      2,
    );
    allAgree(result, s, 40, 2);
    expect(result.tls).toMatchObject({ handshakes: 2, failures: 0 });
    expect(s.tlsHandshakes).toBe(2);
    // Implicit TLS needs no EHLO: the source greets with HELO, as without TLS.
    expect(s.commands.helo + s.commands.ehlo).toBe(2);
    expect(s.commands.starttls).toBe(0);
  });

  it.each(['starttls', 'implicit'] as const)('--tls-session-reuse (%s) with -s 1 and a connection per message: later handshakes resume', async (mode) => {
    const n = 10;
    const { result, s } = await pair({ tls: mode }, { tls: { mode, insecure: true, sessionReuse: true }, messages: n, sessions: 1 }, n);
    allAgree(result, s, n);
    expect(result.tls!.handshakes).toBe(n);
    expect(s.tlsHandshakes).toBe(n);
    // The first handshake has nothing to resume; the others should.
    expect(result.tls!.resumed).toBeGreaterThan(0);
    expect(result.tls!.resumed).toBeLessThanOrEqual(n - 1);
  });
});

describe('our smtp-source against our smtp-sink: AUTH against --users', { timeout: 15_000 }, () => {
  it.each(['PLAIN', 'LOGIN', 'CRAM-MD5'] as const)('%s: 235 counted on both sides, two accounts over four sessions', async (mechanism) => {
    const { result, s } = await pair(
      { auth: { mechanisms: ['PLAIN', 'LOGIN', 'CRAM-MD5'], users: USERS }, requireAuth: true },
      { auth: { mechanism, credentials: [...USERS].map(([user, password]) => ({ user, password })) }, messages: 20, sessions: 4, reuseConnection: true },
      4,
    );
    allAgree(result, s, 20);
    expect(result.auth).toEqual({ mechanism, attempts: 4, succeeded: 4, failed: 0 });
    expect(s.authSuccesses).toBe(4);
    expect(s.authFailures).toBe(0);
  });

  it.each(['PLAIN', 'LOGIN', 'CRAM-MD5'] as const)('%s with STARTTLS first', async (mechanism) => {
    const { result, s } = await pair(
      { tls: 'starttls', auth: { mechanisms: ['PLAIN', 'LOGIN', 'CRAM-MD5'], users: USERS }, requireAuth: true, requireTls: true },
      { tls: { mode: 'starttls', insecure: true }, auth: { mechanism, credentials: [{ user: 'alice', password: 'wonder land' }] }, messages: 6, sessions: 2 },
      6,
    );
    allAgree(result, s, 6);
    expect(result.auth).toMatchObject({ succeeded: 6, failed: 0 });
    expect(s.authSuccesses).toBe(6);
    expect(result.tls!.handshakes).toBe(s.tlsHandshakes);
  });

  it.each(['PLAIN', 'LOGIN', 'CRAM-MD5'] as const)('%s with a wrong password and -A: 535 counted on both sides, nothing delivered', async (mechanism) => {
    const n = 3;
    const { result, s } = await pair(
      { auth: { mechanisms: ['PLAIN', 'LOGIN', 'CRAM-MD5'], users: USERS }, requireAuth: true },
      { auth: { mechanism, credentials: [{ user: 'alice', password: 'wrong' }] }, allowReject: true, messages: n, sessions: 1 },
      n,
    );
    expect(result.auth).toEqual({ mechanism, attempts: n, succeeded: 0, failed: n });
    expect(result.rejects.auth).toEqual({ '535': n });
    expect(result.messages.accepted).toBe(0);
    expect(s.authFailures).toBe(n);
    expect(s.authSuccesses).toBe(0);
    expect(s.messages).toBe(0);
    expect(s.commands).toMatchObject({ mail: 0 });
    expectSameTally(sourceTally(result), sinkTally(s));
  });
});

describe('our smtp-source against our smtp-sink: BDAT, SMTPUTF8, SIZE', { timeout: 15_000 }, () => {
  // The sink's queue id and date as its own tests mask them, and the source's Date: header
  // (the runs are apart in time; the run-unique tracking headers are off).
  const mask = (t: string): string => t.replace(/ id [0-9a-f]{8};\n\t.*\n/, ' id ID;\n\tDATE\n').replace(/^Date: .*$/m, 'Date: DATE');
  const dumps = (dir: string): string[] =>
    readdirSync(dir)
      .map((f) => mask(readFileSync(join(dir, f), 'latin1')))
      .sort();

  async function dumped(sourceOpts: Partial<SourceOptionsInput>, messages: number): Promise<{ files: string[]; result: SourceResult; s: ReturnType<TestSink['stats']> }> {
    const dir = r.dir();
    const { result, s } = await pair({ chunking: true, dumpTemplate: join(dir, 'm.') }, { messages, sessions: 1, reuseConnection: true, trackingHeaders: false, ...sourceOpts }, 1);
    allAgree(result, s, messages);
    expect(s.dumps).toBe(messages);
    return { files: dumps(dir), result, s };
  }

  it.each([
    ['-l 2000', 2000],
    ['-l 70000 (over the 64 KiB line buffers)', 70000],
  ])('--bdat with and without a chunk size (%s): dumps equal those of DATA', async (_, length) => {
    const n = 5;
    // --pipelining makes the DATA run greet with EHLO as --bdat does, so that the sink's
    // "with ESMTP" and X-Client-Proto lines are the same in both.
    const data = await dumped({ length, pipelining: true }, n);
    expect(data.files).toHaveLength(n);
    expect(data.s.commands).toMatchObject({ data: n, bdat: 0 });
    const whole = await dumped({ length, bdat: {} }, n);
    expect(whole.result.extensions).toMatchObject({ bdatMessages: n, bdatFallbacks: 0 });
    expect(whole.s.commands).toMatchObject({ data: 0, bdat: n });
    expect(whole.files).toEqual(data.files);
    const chunked = await dumped({ length, bdat: { chunkSize: 1000 } }, n);
    expect(chunked.result.extensions).toMatchObject({ bdatMessages: n, bdatFallbacks: 0 });
    expect(chunked.s.commands.data).toBe(0);
    expect(chunked.s.commands.bdat).toBeGreaterThan(n);
    expect(chunked.files).toEqual(data.files);
    // The source counts the same message bytes whichever way they went.
    expect(whole.result.bytes).toBe(chunked.result.bytes);
  });

  it('LMTP over BDAT (-L --bdat 300 -r 3, lock-step and pipelined): one reply per recipient after LAST, dumps equal those of DATA', async () => {
    const n = 4;
    const lmtp = async (sourceOpts: Partial<SourceOptionsInput>): Promise<{ files: string[]; result: SourceResult; s: ReturnType<TestSink['stats']> }> => {
      const dir = r.dir();
      const { result, s } = await pair(
        { lmtp: true, chunking: true, dumpTemplate: join(dir, 'm.') },
        { lmtp: true, recipients: 3, length: 2000, messages: n, sessions: 1, reuseConnection: true, trackingHeaders: false, ...sourceOpts },
        1,
      );
      allAgree(result, s, n, 3);
      expect(result.latency.dot.count).toBe(n * 3);
      return { files: dumps(dir), result, s };
    };
    const data = await lmtp({});
    expect(data.s.commands).toMatchObject({ data: n, bdat: 0 });
    for (const pipelining of [false, true]) {
      const bdat = await lmtp({ bdat: { chunkSize: 300 }, pipelining });
      expect(bdat.result.extensions).toMatchObject({ bdatMessages: n, bdatFallbacks: 0 });
      expect(bdat.s.commands.data).toBe(0);
      expect(bdat.s.commands.bdat).toBeGreaterThan(n * 6); // 300-byte chunks of 2 KB and the headers
      expect(bdat.files).toEqual(data.files);
    }
  });

  it('--smtputf8 with a UTF-8 recipient against --smtputf8', async () => {
    const { result, s } = await pair({ smtputf8: true, verbose: 1 }, { smtputf8: true, recipient: 'grüße@bücher.example', messages: 5, sessions: 1, reuseConnection: true }, 1);
    allAgree(result, s, 5);
    expect(result.extensions).toMatchObject({ smtputf8NotOffered: 0 });
    expect(s.smtputf8Messages).toBe(5);
  });

  it('--8bitmime with an 8-bit -F file: BODY=8BITMIME where 8BITMIME is offered, the bytes intact; counted and warned where not', async () => {
    const dir = r.dir();
    const file = join(dir, 'latin1.txt');
    const text = Buffer.from('Subject: caf\xe9\n\nd\xe9j\xe0 vu, 8-bit\n', 'latin1');
    writeFileSync(file, text);
    const { result, s } = await pair({ verbose: 1, dumpTemplate: join(dir, 'd.') }, { eightBitMime: true, messageFile: file, messages: 3, sessions: 1, reuseConnection: true }, 1);
    allAgree(result, s, 3);
    expect(result.extensions).toMatchObject({ eightBitMimeSent: 3, eightBitMimeNotOffered: 0 });
    const dumps = readdirSync(dir).filter((f) => f.startsWith('d.'));
    expect(dumps).toHaveLength(3);
    for (const d of dumps) {
      const dump = readFileSync(join(dir, d));
      expect(dump.toString('latin1')).toMatch(/^X-Mail-Args: <sender@example\.com> BODY=8BITMIME$/m);
      // The 8-bit bytes arrive as they were in the file.
      expect(dump.includes(Buffer.from('d\xe9j\xe0 vu, 8-bit', 'latin1'))).toBe(true);
    }

    // A sink not offering 8BITMIME (-8): MAIL goes without BODY=, each message counted, one warning.
    const without = await pair({ announce: { eightBitMime: false }, verbose: 1 }, { eightBitMime: true, messageFile: file, messages: 2, sessions: 1, reuseConnection: true }, 1);
    allAgree(without.result, without.s, 2);
    expect(without.result.extensions).toMatchObject({ eightBitMimeSent: 0, eightBitMimeNotOffered: 2 });
    expect(without.logs.split('\n').filter((l) => l.includes('8BITMIME not offered'))).toHaveLength(1);
  });

  it('--size against --size-limit: under the limit accepted, over it 552 on both sides', async () => {
    const under = await pair({ sizeLimit: 10_000 }, { size: true, length: 2000, messages: 4, sessions: 1, reuseConnection: true }, 1);
    allAgree(under.result, under.s, 4);
    expect(under.result.extensions).toMatchObject({ sizeSent: 4 });

    const n = 3;
    const over = await pair({ sizeLimit: 10_000 }, { size: true, allowReject: true, length: 20_000, messages: n, sessions: 1, reuseConnection: true }, 1);
    expect(over.result.messages.accepted).toBe(0);
    expect(over.result.messages.rejected + over.result.messages.failed).toBe(n);
    expect(over.result.rejects.mail).toEqual({ '552': n });
    expect(over.s.rejects).toMatchObject({ '552': n });
    expect(over.s.messages).toBe(0);
    expectSameTally(sourceTally(over.result), sinkTally(over.s));
  });
});
