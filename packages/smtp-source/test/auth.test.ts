// SMTP AUTH (and STARTTLS's plaintext cases) against a scripted server on loopback: the exact
// encodings of PLAIN, LOGIN, CRAM-MD5 and XOAUTH2, 535 with and without -A, credentials spread
// over the sessions, a mechanism not offered, LMTP over STARTTLS with AUTH, the flags' checks,
// and the secret never in -v output, --json, the journal or stderr.
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runSource, type SourceOptionsInput } from '../src/index.js';
import { parseSourceArgs } from '../src/cli-options.js';
import { ourCli, runBounded } from './helpers.js';
import { makeCerts, scriptedServer, type Certs, type ScriptedServer } from './tls-helpers.js';
import { tempDir } from '../../smtp-sink/test/helpers.js';

const USER = 'alice@example.test';
const PASSWORD = 'S3cret-Pa55w0rd!';
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
/** Every form the secret could leak in. */
const LEAKS = [PASSWORD, b64(PASSWORD), b64(`\0${USER}\0${PASSWORD}`), b64(`user=${USER}\x01auth=Bearer ${PASSWORD}\x01\x01`)];

function noSecret(where: string, text: string): void {
  for (const leak of LEAKS) expect(text.includes(leak), `${where} holds the secret`).toBe(false);
}

let server: ScriptedServer | undefined;
let tmp: ReturnType<typeof tempDir>;
let certs: Certs;

beforeAll(() => {
  tmp = tempDir('src-auth-');
  certs = makeCerts('auth.test');
});
afterAll(() => {
  tmp?.remove();
  certs?.remove();
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function base(port: number): SourceOptionsInput {
  return { target: `127.0.0.1:${port}`, myHostname: 'client.test', sender: 's@client.test', recipient: 'r@auth.test' };
}

describe('smtp-source --auth', () => {
  it.each(['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'] as const)('%s: the exact encoding, 235, messages sent; no secret in -v, result or journal', async (mechanism) => {
    server = await scriptedServer({ accounts: [{ user: USER, password: PASSWORD }] });
    const journal = join(tmp.path, `journal-${mechanism}.jsonl`);
    const { result, logs } = await runBounded(
      { ...base(server.port), messages: 2, reuseConnection: true, verbose: 1, auth: { mechanism, credentials: [{ user: USER, password: PASSWORD }] } },
      8000,
      { journalPath: journal },
    );
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(2);
    expect(result.auth).toEqual({ mechanism, attempts: 1, succeeded: 1, failed: 0 });
    expect(result.latency.auth.count).toBe(1);
    expect(result.latency.tls.count).toBe(0);
    expect(result.options.auth).toEqual({ mechanism, users: 1 });
    expect(server.seen).toHaveLength(1);
    const c = server.seen[0];
    expect(c.auth).toEqual({ mechanism, user: USER, ok: true });
    expect(c.lines[0]).toBe('EHLO client.test'); // AUTH implies EHLO
    const at = c.lines.findIndex((l) => l.startsWith('AUTH'));
    const exchange = c.lines.slice(at, c.lines.findIndex((l) => l.startsWith('MAIL')));
    if (mechanism === 'PLAIN') expect(exchange).toEqual([`AUTH PLAIN ${b64(`\0${USER}\0${PASSWORD}`)}`]);
    if (mechanism === 'LOGIN') expect(exchange).toEqual(['AUTH LOGIN', b64(USER), b64(PASSWORD)]);
    if (mechanism === 'CRAM-MD5') {
      const digest = createHmac('md5', PASSWORD).update('<1896.697170952@auth.test>').digest('hex');
      expect(exchange).toEqual(['AUTH CRAM-MD5', b64(`${USER} ${digest}`)]);
    }
    if (mechanism === 'XOAUTH2') expect(exchange).toEqual([`AUTH XOAUTH2 ${b64(`user=${USER}\x01auth=Bearer ${PASSWORD}\x01\x01`)}`]);
    // -v shows the exchange with the secret masked.
    expect(logs).toContain(mechanism === 'PLAIN' || mechanism === 'XOAUTH2' ? `AUTH ${mechanism} ****` : `AUTH ${mechanism}`);
    expect(logs).toContain('<<< 235');
    noSecret('-v output', logs);
    if (mechanism === 'LOGIN' || mechanism === 'CRAM-MD5') noSecret('-v output', logs.replaceAll(b64(USER), '')); // the user may show, never the password
    noSecret('the result', JSON.stringify(result));
    await new Promise((r) => setTimeout(r, 50));
    noSecret('the journal', readFileSync(journal, 'utf8'));
  });

  it('535 without -A: the run stops with one line, counted as an auth failure; the secret is nowhere', async () => {
    server = await scriptedServer({ accounts: [{ user: USER, password: 'another' }] });
    const { result, logs } = await runBounded({ ...base(server.port), messages: 3, verbose: 1, auth: { mechanism: 'PLAIN', credentials: [{ user: USER, password: PASSWORD }] } });
    expect(result.fatal).toBe('authentication failed: 535 5.7.8 Error: authentication failed: bad credentials');
    expect(result.auth).toEqual({ mechanism: 'PLAIN', attempts: 1, succeeded: 0, failed: 1 });
    expect(result.rejects).toEqual({ auth: { '535': 1 } });
    expect(result.messages.accepted).toBe(0);
    expect(server.seen.flatMap((c) => c.lines).some((l) => l.startsWith('MAIL'))).toBe(false);
    noSecret('-v output', logs);
    noSecret('the result', JSON.stringify(result));
  });

  it('535 with -A: a warning per session try, the run goes on to the next message', async () => {
    server = await scriptedServer({ accounts: [{ user: USER, password: 'another' }] });
    const { result, logs } = await runBounded({ ...base(server.port), messages: 3, allowReject: true, auth: { mechanism: 'LOGIN', credentials: [{ user: USER, password: PASSWORD }] } });
    expect(result.fatal).toBeUndefined();
    expect(result.auth).toEqual({ mechanism: 'LOGIN', attempts: 3, succeeded: 0, failed: 3 });
    expect(result.messages).toMatchObject({ started: 3, accepted: 0 });
    expect(result.messages.rejected + result.messages.failed).toBe(3);
    expect(logs.match(/warning: authentication failed: 535 /g)).toHaveLength(3);
    expect(server.seen).toHaveLength(3);
    noSecret('warnings', logs);
  });

  it('a mechanism the server does not offer is a clear error', async () => {
    server = await scriptedServer({ accounts: [{ user: USER, password: PASSWORD }], mechanisms: ['PLAIN', 'LOGIN'] });
    const r = await runSource({ ...base(server.port), writeLog: () => undefined, auth: { mechanism: 'CRAM-MD5', credentials: [{ user: USER, password: PASSWORD }] } });
    expect(r.fatal).toBe('AUTH CRAM-MD5 not offered by the server (it offers PLAIN LOGIN; see --auth)');
    expect(r.auth?.failed).toBe(1);
    await server.close();
    server = await scriptedServer({ accounts: [], mechanisms: [] });
    const r2 = await runSource({ ...base(server.port), writeLog: () => undefined, auth: { mechanism: 'PLAIN', credentials: [{ user: USER, password: PASSWORD }] } });
    expect(r2.fatal).toBe('AUTH not offered by the server (--auth PLAIN)');
  });

  it('--credentials spreads the accounts round-robin over the sessions (CLI, --json -, -v): no secret on stdout or stderr', async () => {
    const accounts = [1, 2, 3].map((i) => ({ user: `user${i}@example.test`, password: `${PASSWORD}-${i}` }));
    server = await scriptedServer({ accounts });
    const file = join(tmp.path, 'credentials');
    writeFileSync(file, `# accounts\n${accounts.map((a) => `${a.user}:${a.password}`).join('\n')}\n`);
    const journal = join(tmp.path, 'journal-cli.jsonl');
    const r = await ourCli(['-v', '-s', '3', '-m', '6', '-d', '--pipelining', '--auth', 'plain', '--credentials', file, '--json', '-', '--journal', journal, '-M', 'client.test', `127.0.0.1:${server.port}`]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.options.auth).toEqual({ mechanism: 'PLAIN', users: 3 });
    expect(json.auth).toEqual({ mechanism: 'PLAIN', attempts: 3, succeeded: 3, failed: 0 });
    expect(json.messages.accepted).toBe(6);
    expect(server.seen.map((c) => c.auth?.user).sort()).toEqual(accounts.map((a) => a.user));
    // With pipelining, MAIL/RCPT/DATA go together only after AUTH.
    for (const c of server.seen) expect(c.lines.findIndex((l) => l.startsWith('AUTH'))).toBeLessThan(c.lines.findIndex((l) => l.startsWith('MAIL')));
    expect(r.stderr).toContain('AUTH PLAIN ****');
    expect(r.stderr).toContain('  auth: PLAIN, 3 attempts, 3 succeeded, 0 failed');
    for (const a of accounts) {
      for (const leak of [a.password, b64(`\0${a.user}\0${a.password}`)]) {
        expect(r.stdout.includes(leak)).toBe(false);
        expect(r.stderr.includes(leak)).toBe(false);
        expect(readFileSync(journal, 'utf8').includes(leak)).toBe(false);
      }
    }
  });

  it('CLI: 535 without -A is one fatal line, --password-file keeps the secret off the command line', async () => {
    server = await scriptedServer({ accounts: [{ user: USER, password: 'another' }] });
    const pw = join(tmp.path, 'password');
    writeFileSync(pw, `${PASSWORD}\n`);
    const r = await ourCli(['-v', '--auth', 'XOAUTH2', '--user', USER, '--password-file', pw, '--json', '-', '-M', 'client.test', `127.0.0.1:${server.port}`]);
    expect(r.code).toBe(1);
    const fatal = r.stderr.split('\n').filter((l) => l.includes('fatal:'));
    expect(fatal).toEqual(['smtp-source: fatal: authentication failed: 535 5.7.8 Error: authentication failed: bad credentials']);
    expect(server.seen[0].lines.slice(-2)).toEqual([`AUTH XOAUTH2 ${b64(`user=${USER}\x01auth=Bearer ${PASSWORD}\x01\x01`)}`, '']);
    noSecret('stdout', r.stdout);
    noSecret('stderr', r.stderr);
  });
});

describe('smtp-source --starttls against a scripted server', () => {
  it('required: a server without STARTTLS is a counted error with a clear line', async () => {
    server = await scriptedServer({ accounts: [], requireAuth: false });
    const r = await runSource({ ...base(server.port), messages: 2, writeLog: () => undefined, tls: { mode: 'starttls' } });
    expect(r.fatal).toBe('STARTTLS not offered by the server (--starttls required; --starttls opportunistic goes on in plaintext)');
    expect(r.tls).toMatchObject({ handshakes: 0, failures: 1 });
    expect(server.seen[0].lines.some((l) => l.startsWith('MAIL'))).toBe(false);
  });

  it('opportunistic: goes on in plaintext', async () => {
    server = await scriptedServer({ accounts: [], requireAuth: false });
    const r = await runSource({ ...base(server.port), messages: 2, writeLog: () => undefined, tls: { mode: 'starttls', required: false } });
    expect(r.fatal).toBeUndefined();
    expect(r.messages.accepted).toBe(2);
    expect(r.tls).toMatchObject({ handshakes: 0, failures: 0, plaintext: 2 });
  });

  it('LMTP over STARTTLS with AUTH: LHLO again after TLS, then AUTH, then the message (one reply per recipient)', async () => {
    server = await scriptedServer({ accounts: [{ user: USER, password: PASSWORD }], starttls: certs, lmtp: true });
    const { result, logs } = await runBounded({
      ...base(server.port),
      messages: 2,
      recipients: 2,
      lmtp: true,
      reuseConnection: true,
      pipelining: true,
      verbose: 1,
      tls: { mode: 'starttls', ca: readFileSync(certs.caFile), servername: 'auth.test' },
      auth: { mechanism: 'LOGIN', credentials: [{ user: USER, password: PASSWORD }] },
    });
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(2);
    expect(result.tls).toMatchObject({ handshakes: 1, failures: 0, resumed: 0 });
    expect(result.latency.tls.count).toBe(1);
    // Wire bytes: the handshake and the records carry more than the message content.
    expect(result.tls!.bytes.sent).toBeGreaterThan(result.bytes + 300);
    expect(result.tls!.bytes.received).toBeGreaterThan(1000);
    const c = server.seen[0];
    expect(c.tls).toBe(true);
    expect(c.lines.slice(0, 4)).toEqual(['LHLO client.test', 'STARTTLS', 'LHLO client.test', 'AUTH LOGIN']);
    expect(logs).toMatch(/: TLS TLSv1\.3 /);
    noSecret('-v output', logs.replaceAll(b64(USER), ''));
  });
});

describe('smtp-source TLS and AUTH flags', () => {
  const fails = (args: string[]): string => {
    try {
      parseSourceArgs([...args, '127.0.0.1:25']);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error(`accepted: ${args.join(' ')}`);
  };

  it('each bad value or clash is one line naming the flag', () => {
    const creds = join(tmp.path, 'bad-credentials');
    writeFileSync(creds, `good:${PASSWORD}\n\nno-colon-${PASSWORD}\n`);
    const notPem = join(tmp.path, 'not-pem');
    writeFileSync(notPem, 'hello\n');
    const cases: [string[], string][] = [
      [['--tls', '--starttls'], '--tls cannot be used with --starttls'],
      [['--starttls', 'sometimes'], 'bad STARTTLS mode: sometimes (--starttls wants required, opportunistic or nothing for required)'],
      [['--tls', '--tls-ca', '/nonexistent/ca.pem'], 'cannot read /nonexistent/ca.pem: '],
      [['--tls', '--tls-ca', notPem], `no PEM certificate in ${notPem} (--tls-ca`],
      [['--tls-ca', certs.caFile], '--tls-ca needs --starttls or --tls'],
      [['--tls-insecure'], '--tls-insecure needs --starttls or --tls'],
      [['--tls', '--tls-min-version', 'TLSv1.1'], 'bad TLS version: TLSv1.1 (--tls-min-version wants TLSv1.2 or TLSv1.3)'],
      [['--tls', '--tls-servername', 'bad name'], 'bad server name: bad name (--tls-servername'],
      [['--starttls', '-o'], '--starttls cannot be used with -o'],
      [['--auth', 'PLAIN'], '--auth PLAIN needs --user or --credentials'],
      [['--auth', 'PLAIN', '--user', 'u'], '--auth PLAIN needs --password or --password-file'],
      [['--auth', 'NTLM', '--user', 'u'], 'bad AUTH mechanism: NTLM (--auth wants PLAIN, LOGIN, CRAM-MD5, XOAUTH2)'],
      [['--user', 'u'], '--user needs --auth'],
      [['--auth', 'PLAIN', '--credentials', creds], `bad credentials line 3 in ${creds} (--credentials wants user:password)`],
      [['--auth', 'PLAIN', '--credentials', creds, '--user', 'u'], '--credentials cannot be used with --user'],
      [['--auth', 'PLAIN', '--user', 'u', '--password-file', '/nonexistent/pw'], 'cannot read /nonexistent/pw: '],
      [['--auth', 'PLAIN', '--user', 'u', '--password', 'p', '--password-file', creds], '--password cannot be used with --password-file'],
    ];
    for (const [args, want] of cases) {
      const message = fails(args);
      expect(message, args.join(' ')).toContain(want);
      expect(message, args.join(' ')).not.toContain('\n');
      expect(message, args.join(' ')).not.toContain(PASSWORD);
    }
  });

  it('good values map onto the options', () => {
    const ca = parseSourceArgs(['--starttls', '--tls-ca', certs.caFile, '--tls-servername', 'mx.example.test', '--tls-min-version', 'TLSv1.3', '--tls-session-reuse', '127.0.0.1:25']);
    expect(ca.source.tls).toMatchObject({ mode: 'starttls', required: true, servername: 'mx.example.test', minVersion: 'TLSv1.3', sessionReuse: true });
    // A bare --starttls before the target is not its value.
    expect(parseSourceArgs(['--starttls', '127.0.0.1:25']).source.tls).toEqual({ mode: 'starttls', required: true });
    expect(parseSourceArgs(['--starttls', 'opportunistic', '127.0.0.1:25']).source.tls).toEqual({ mode: 'starttls', required: false });
    expect(parseSourceArgs(['--tls', '--tls-insecure', '127.0.0.1:465']).source.tls).toEqual({ mode: 'implicit', insecure: true });
    expect(parseSourceArgs(['--auth', 'cram-md5', '--user', 'u', '--password', 'p', '127.0.0.1:25']).source.auth).toEqual({
      mechanism: 'CRAM-MD5',
      credentials: [{ user: 'u', password: 'p' }],
    });
  });
});
