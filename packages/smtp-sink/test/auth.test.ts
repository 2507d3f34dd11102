// Real AUTH on the sink (--auth-mechanisms, --users, --require-auth): swaks and nodemailer
// authenticate with PLAIN, LOGIN and CRAM-MD5; a raw client covers the exchanges they
// won't send (bad base64, "*", AUTH twice, AUTH in a transaction). Also the one-line
// errors of every new TLS and AUTH flag.
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseUsers, type AuthMechanism, type SinkStats } from '../src/index.js';
import { CLI, currentUser, peer, portOf, RawClient, run } from './helpers.js';
import { expectSameTally, resources, settled, sinkTally, type TestSink } from './interop-helpers.js';
import { addTallies, nodemailerTally, swaksTally, nodemailerTransport } from './tallies.js';

const swaksBin = peer('swaks');
const r = resources();

const USERS = '# test users\nalice:secret\n\nbob:pa:ss word\n';
const ALL: AuthMechanism[] = ['PLAIN', 'LOGIN', 'CRAM-MD5'];

let clients: { close(): void }[] = [];
afterEach(() => {
  for (const c of clients) c.close();
  clients = [];
});

async function open(sink: TestSink): Promise<RawClient> {
  const c = await RawClient.open(portOf(sink));
  clients.push(c);
  await c.until(1);
  expect((await c.command('EHLO client.example')).code).toBe(250);
  return c;
}

/** The sink still greets a new client and takes a message from it. */
async function stillServing(sink: TestSink): Promise<void> {
  const c = await RawClient.open(portOf(sink));
  clients.push(c);
  expect((await c.until(1))[0].code).toBe(220);
  expect((await c.command('NOOP')).code).toBe(250);
  c.close();
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

function withUsers(options: Parameters<typeof r.sink>[0] = {}): Promise<TestSink> {
  return r.sink({ auth: { mechanisms: ALL, users: parseUsers(USERS) }, ...options });
}

describe('AUTH exchanges against a users file', () => {
  it('EHLO announces the configured mechanisms in order; -a still leaves AUTH out but it works', async () => {
    const sink = await withUsers();
    const c = await open(sink);
    expect((await c.command('EHLO x')).text).toContain('\nAUTH PLAIN LOGIN CRAM-MD5\n');
    const hidden = await withUsers({ announce: { pipelining: true, eightBitMime: true, auth: false, xclient: true, xforward: true, enhancedStatusCodes: true, dsn: true } });
    const h = await open(hidden);
    expect((await h.command('EHLO x')).text).not.toContain('AUTH');
    expect(await h.command(`AUTH PLAIN ${b64('\0alice\0secret')}`)).toEqual({ code: 235, text: '2.7.0 Authentication successful' });
  });

  it('PLAIN with an initial response and with the "334 " continuation; a wrong password is 535', async () => {
    const sink = await withUsers();
    const c = await open(sink);
    expect(await c.command(`AUTH PLAIN ${b64('\0alice\0wrong')}`)).toEqual({ code: 535, text: '5.7.8 Error: authentication failed' });
    expect(await c.command('AUTH PLAIN')).toEqual({ code: 334, text: '' });
    expect(await c.command(b64('bob\0bob\0pa:ss word'))).toEqual({ code: 235, text: '2.7.0 Authentication successful' });
    expect(await c.command('MAIL FROM:<a@b>')).toEqual({ code: 250, text: '2.1.0 Ok' });
    expect(sink.stats()).toMatchObject({ authSuccesses: 1, authFailures: 1 });
    await stillServing(sink);
  });

  it('LOGIN: two 334 prompts', async () => {
    const sink = await withUsers();
    const c = await open(sink);
    expect(await c.command('AUTH LOGIN')).toEqual({ code: 334, text: 'VXNlcm5hbWU6' });
    expect(await c.command(b64('alice'))).toEqual({ code: 334, text: 'UGFzc3dvcmQ6' });
    expect((await c.command(b64('secret'))).code).toBe(235);
    const d = await open(sink);
    expect((await d.command(`AUTH LOGIN ${b64('alice')}`)).text).toBe('UGFzc3dvcmQ6');
    expect((await d.command(b64('nope'))).code).toBe(535);
  });

  it('CRAM-MD5: a challenge with a timestamp, the HMAC-MD5 checked with the password', async () => {
    const sink = await withUsers();
    for (const [password, code] of [['secret', 235], ['wrong', 535]] as const) {
      const c = await open(sink);
      const challengeReply = await c.command('AUTH CRAM-MD5');
      expect(challengeReply.code).toBe(334);
      const challenge = Buffer.from(challengeReply.text, 'base64').toString('latin1');
      expect(challenge).toMatch(/^<\d+\.\d{13}@smtp-sink>$/);
      const digest = createHmac('md5', password).update(challenge).digest('hex');
      expect((await c.command(b64(`alice ${digest}`))).code).toBe(code);
    }
    await stillServing(sink);
  });

  it('bad base64 is 501 5.5.2 Cannot decode response; "*" cancels with 501; the session goes on', async () => {
    const sink = await withUsers();
    const c = await open(sink);
    expect(await c.command('AUTH PLAIN not*base64')).toEqual({ code: 501, text: '5.5.2 Cannot decode response' });
    expect((await c.command('AUTH LOGIN')).code).toBe(334);
    expect(await c.command('%%%%')).toEqual({ code: 501, text: '5.5.2 Cannot decode response' });
    expect((await c.command('AUTH LOGIN')).code).toBe(334);
    expect(await c.command('*')).toEqual({ code: 501, text: '5.7.0 Authentication aborted' });
    expect(await c.command('NOOP')).toEqual({ code: 250, text: '2.0.0 Ok' });
    expect((await c.command(`AUTH PLAIN ${b64('\0alice\0secret')}`)).code).toBe(235);
    expect(sink.stats()).toMatchObject({ authSuccesses: 1, authFailures: 0 });
    await stillServing(sink);
  });

  it('AUTH twice, AUTH in a transaction: 503; an unknown mechanism 504; no mechanism 501', async () => {
    const sink = await withUsers();
    const c = await open(sink);
    expect(await c.command('AUTH DIGEST-MD5')).toEqual({ code: 504, text: '5.5.4 Unrecognized authentication type' });
    expect(await c.command('AUTH')).toEqual({ code: 501, text: '5.5.4 Syntax: AUTH mechanism' });
    expect((await c.command('MAIL FROM:<a@b>')).code).toBe(250);
    expect(await c.command(`AUTH PLAIN ${b64('\0alice\0secret')}`)).toEqual({ code: 503, text: '5.5.1 Error: MAIL transaction in progress' });
    expect((await c.command('RSET')).code).toBe(250);
    expect((await c.command(`AUTH PLAIN ${b64('\0alice\0secret')}`)).code).toBe(235);
    expect(await c.command(`AUTH PLAIN ${b64('\0alice\0secret')}`)).toEqual({ code: 503, text: '5.5.1 Error: already authenticated' });
    expect((await c.command('QUIT')).code).toBe(221);
    const s = await settled(sink, 1);
    expect(s.rejects).toEqual({ '501': 1, '503': 2, '504': 1 });
  });

  it('--require-auth: MAIL before AUTH is 530; after it, 250', async () => {
    const sink = await r.sink({ requireAuth: true, auth: { mechanisms: ['PLAIN'], users: parseUsers(USERS) } });
    const c = await open(sink);
    expect(await c.command('MAIL FROM:<a@b>')).toEqual({ code: 530, text: '5.7.0 Authentication required' });
    expect((await c.command(`AUTH PLAIN ${b64('\0alice\0bad')}`)).code).toBe(535);
    expect((await c.command('MAIL FROM:<a@b>')).code).toBe(530);
    expect((await c.command(`AUTH PLAIN ${b64('\0alice\0secret')}`)).code).toBe(235);
    expect((await c.command('MAIL FROM:<a@b>')).code).toBe(250);
    await stillServing(sink);
  });
});

describe('AUTH without a users file', () => {
  it('accepts everyone with every mechanism (a load sink does not stand in the way)', async () => {
    const sink = await r.sink({ auth: { mechanisms: ALL } });
    const a = await open(sink);
    expect((await a.command(`AUTH PLAIN ${b64('\0anyone\0anything')}`)).code).toBe(235);
    const b = await open(sink);
    await b.command('AUTH LOGIN');
    await b.command(b64('x'));
    expect((await b.command(b64('y'))).code).toBe(235);
    const c = await open(sink);
    await c.command('AUTH CRAM-MD5');
    expect((await c.command(b64('who 0123456789abcdef0123456789abcdef'))).code).toBe(235);
    // Bad base64 is still refused.
    const d = await open(sink);
    expect((await d.command('AUTH PLAIN ???')).code).toBe(501);
    expect(sink.stats()).toMatchObject({ authSuccesses: 3, authFailures: 0 });
  });

  it('--require-auth alone turns real AUTH on with the original\'s mechanisms', async () => {
    const sink = await r.sink({ requireAuth: true });
    expect(sink.options.auth).toEqual({ mechanisms: ['PLAIN', 'LOGIN'] });
    const c = await open(sink);
    expect((await c.command('MAIL FROM:<a@b>')).code).toBe(530);
    expect((await c.command(`AUTH PLAIN ${b64('\0u\0p')}`)).code).toBe(235);
    expect((await c.command('MAIL FROM:<a@b>')).code).toBe(250);
  });

  it('with none of the new options AUTH is the original\'s: 250 2.0.0 Ok to anything', async () => {
    const sink = await r.sink();
    const c = await open(sink);
    expect(await c.command('AUTH PLAIN')).toEqual({ code: 250, text: '2.0.0 Ok' });
    expect(await c.command('AUTH whatever')).toEqual({ code: 250, text: '2.0.0 Ok' });
    expect(await c.command('STARTTLS')).toEqual({ code: 500, text: '5.5.1 Error: unknown command' });
    expect(sink.stats().commands).toMatchObject({ auth: 2, starttls: 0, unknown: 1 });
  });
});

describe('nodemailer authenticates', () => {
  const send = (sink: TestSink, auth: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const t = nodemailerTransport(portOf(sink), { secure: false, ignoreTLS: true, auth, ...extra });
    return t.sendMail({ from: 'a@example.com', to: 'b@example.com', subject: 'auth', text: 'hi' });
  };

  it('PLAIN, LOGIN and CRAM-MD5 with the right password; EAUTH with a wrong one', async () => {
    const sink = await withUsers({ requireAuth: true });
    const infos = [];
    for (const authMethod of ALL) {
      const info = await send(sink, { user: 'alice', pass: 'secret' }, { authMethod });
      infos.push(info);
      expect(info.response, authMethod).toBe('250 2.0.0 Ok');
    }
    await expect(send(sink, { user: 'alice', pass: 'wrong' })).rejects.toMatchObject({ code: 'EAUTH', responseCode: 535 });
    const s = await settled(sink, 4);
    expect(s).toMatchObject({ messages: 3, authSuccesses: 3, authFailures: 1 });
    // The refused login sent no message: the sink has the three others and nothing more.
    expectSameTally(nodemailerTally(infos), sinkTally(s));
  });

  it('over STARTTLS, as a client would in production', async () => {
    const sink = await withUsers({ tls: 'starttls', requireTls: true, requireAuth: true });
    const info = await send(sink, { user: 'bob', pass: 'pa:ss word' }, { ignoreTLS: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    expect(info.response).toBe('250 2.0.0 Ok');
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, authSuccesses: 1, tlsHandshakes: 1 });
    expectSameTally(nodemailerTally([info]), sinkTally(s));
  });
});

describe.skipIf(!swaksBin)('swaks authenticates against --users FILE (the CLI)', () => {
  const swaks = (port: number, extra: string[]) =>
    run(swaksBin!, ['--server', '127.0.0.1', '--port', String(port), '--from', 'a@example.com', '--to', 'b@example.com', '--helo', 'h.example', '--timeout', '10', '--body', 'hi', ...extra], { timeoutMs: 20000 });

  it.each(ALL)('--auth %s: 235 with the password, 535 without; the sink serves on', async (mechanism) => {
    const dir = r.dir();
    const users = join(dir, 'users');
    writeFileSync(users, USERS);
    const json = join(dir, 'stats.json');
    const sink = await r.cli(['--users', users, '--auth-mechanisms', 'plain,login,cram-md5', '--require-auth', '--json', json]);
    const ok = await swaks(sink.port, ['--auth', mechanism, '--auth-user', 'alice', '--auth-password', 'secret']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('<-  250-AUTH PLAIN LOGIN CRAM-MD5');
    expect(ok.stdout).toContain('<-  235 2.7.0 Authentication successful');
    expect(ok.stdout).toContain('<-  250 2.0.0 Ok');
    const bad = await swaks(sink.port, ['--auth', mechanism, '--auth-user', 'alice', '--auth-password', 'wrong']);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toContain('535 5.7.8 Error: authentication failed');
    // swaks gave up at AUTH: it sent no MAIL, so its side of the tally is empty.
    expect(bad.stdout).not.toMatch(/^ [-~]> MAIL FROM:/m);
    const again = await swaks(sink.port, ['--auth', mechanism, '--auth-user', 'bob', '--auth-password', 'pa:ss word']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    // The sink's final counters (--json at exit) against what swaks's transcripts show.
    expect(await sink.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const final = JSON.parse(readFileSync(json, 'utf8')) as SinkStats;
    expect(final).toMatchObject({ authSuccesses: 2, authFailures: 1 });
    expectSameTally(addTallies(swaksTally(ok.stdout.split(/\r?\n/)), swaksTally(again.stdout.split(/\r?\n/))), sinkTally(final));
  });
});

describe('flag validation (TLS and AUTH)', () => {
  const dir = () => r.dir();
  it('each bad value is refused with one line naming the flag', async () => {
    const d = dir();
    const badUsers = join(d, 'bad-users');
    writeFileSync(badUsers, 'alice:secret\nno-colon-here\n');
    const junk = join(d, 'junk.pem');
    writeFileSync(junk, 'junk\n');
    const cases: [string[], string[]][] = [
      [['--auth-mechanisms', 'PLAIN,FOO'], ['--auth-mechanisms', 'FOO']],
      [['--auth-mechanisms', ','], ['--auth-mechanisms']],
      [['--users', join(d, 'missing')], ['--users', 'No such file']],
      [['--users', badUsers], ['--users', 'line 2']],
      [['--starttls', '--tls-cert', join(d, 'missing'), '--tls-key', junk], ['--tls-cert', 'No such file']],
      [['--starttls', '--tls-cert', junk, '--tls-key', join(d, 'missing')], ['--tls-key', 'No such file']],
      [['--starttls', '--tls-cert', junk], ['--tls-key']],
      [['--starttls', '--tls-key', junk], ['--tls-cert']],
      [['--tls-cert', junk, '--tls-key', junk], ['--starttls']],
      [['--starttls', '--tls'], ['--starttls', '--tls']],
    ];
    for (const [args, names] of cases) {
      const out = await run(process.execPath, [CLI, '-u', currentUser(), ...args, '127.0.0.1:0', '10'], { timeoutMs: 10000 });
      expect(out.code, args.join(' ')).toBe(1);
      const lines = out.stderr.trimEnd().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0]).toMatch(/^smtp-sink: fatal: /);
      for (const n of names) expect(lines[0], args.join(' ')).toContain(n);
    }
  });
});
