// Our smtp-source's AUTH (after STARTTLS) against a real Postfix smtpd that authenticates through
// a real Dovecot: a private Dovecot running its auth service only (passwd-file with two users,
// PLAIN LOGIN CRAM-MD5, a unix socket) and a private Postfix (see @smtpstone/testbed) with
// smtpd_sasl_type = dovecot, TLS with an openssl-made certificate, smtpd_tls_auth_only = yes,
// and restrictions that let only authenticated clients relay: loopback is not in mynetworks,
// the recipient domain is neither local nor a relay domain, so an unauthenticated RCPT gets
// "554 5.7.1 Relay access denied". Postfix's maillog says who authenticated how on the
// smtpd "client=" line (sasl_method=..., sasl_username=...).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dovecotAvailable,
  postfixAvailable,
  privateDir,
  startPrivateDovecotAuth,
  startPrivatePostfix,
  type PrivateDovecotAuth,
  type PrivatePostfix,
} from '@smtpstone/testbed';
import type { SourceOptionsInput, SourceResult } from '../src/index.js';
import { postfixTally } from './postfix-tally.js';
import { expectSameTally, ourCli, runBounded, sourceTally } from './helpers.js';
import { makeCerts, type Certs } from './tls-helpers.js';

const postfixOk = postfixAvailable();
const dovecotOk = dovecotAvailable();
const available = postfixOk && dovecotOk;
const skipReason = !postfixOk ? ' (skipped: no private Postfix possible here)' : !dovecotOk ? ' (skipped: no private Dovecot possible here)' : '';

const NAME = 'mx.example.test';
const USERS = { u1: 'p1-Secret', u2: 'p2-Secret' } as const;
const RCPT = 'rcpt@relay.example.net';

describe.skipIf(!available)(`smtp-source AUTH against a real Postfix smtpd with Dovecot SASL${skipReason}`, () => {
  let dv: PrivateDovecotAuth | undefined;
  let pf: PrivatePostfix | undefined;
  let certs: Certs | undefined;
  let tmp: string | undefined;

  beforeAll(async () => {
    tmp = privateDir('src-sasl-');
    certs = makeCerts(NAME);
    dv = await startPrivateDovecotAuth({ users: { ...USERS } });
    const socketPath = dv.socketPath;
    pf = await startPrivatePostfix({
      main: {
        smtpd_tls_cert_file: certs.certFile,
        smtpd_tls_key_file: certs.keyFile,
        smtpd_tls_security_level: 'may',
        smtpd_tls_auth_only: 'yes',
        smtpd_sasl_auth_enable: 'yes',
        smtpd_sasl_type: 'dovecot',
        // An absolute path: the dovecot type takes one (a relative one is under the queue directory).
        smtpd_sasl_path: socketPath,
        // Loopback must not be trusted, or permit_mynetworks-like defaults would let anyone relay.
        mynetworks: '192.0.2.1/32',
        smtpd_relay_restrictions: 'permit_sasl_authenticated, reject_unauth_destination',
        smtpd_recipient_restrictions: 'permit_sasl_authenticated, reject',
        smtpd_error_sleep_time: '0s',
      },
    });
  }, 30000);

  afterAll(async () => {
    try {
      await pf?.stop();
    } finally {
      try {
        await dv?.stop();
      } finally {
        certs?.remove();
        if (tmp) rmSync(tmp, { recursive: true, force: true });
      }
    }
  });

  function options(more: Partial<SourceOptionsInput>): SourceOptionsInput {
    return { target: `127.0.0.1:${pf!.port}`, myHostname: 'client.example', sender: 'sender@example.com', recipient: RCPT, timeoutSeconds: 10, ...more };
  }
  const tls = (): SourceOptionsInput['tls'] => ({ mode: 'starttls', ca: readFileSync(certs!.caFile), servername: NAME });

  /** smtpd "client=" lines naming this method and user. */
  function saslLines(method: string, user: string): string[] {
    return pf!
      .log()
      .split('\n')
      .filter((l) => / postfix\/smtpd\[\d+\]: [0-9A-Za-z]+: client=/.test(l) && l.endsWith(`, sasl_method=${method}, sasl_username=${user}`));
  }
  async function waitForSasl(method: string, user: string, n: number): Promise<string[]> {
    await pf!.waitForLog(`${n} client= lines with sasl_method=${method}, sasl_username=${user}`, () => saslLines(method, user).length >= n, 15000);
    return saslLines(method, user);
  }

  it('--starttls --tls-ca --auth PLAIN --user u1 -m 3: 3 accepted, the maillog names PLAIN and u1 on every client= line', async () => {
    const records = pf!.records().length;
    const before = saslLines('PLAIN', 'u1').length;
    const { result } = await runBounded(options({ messages: 3, sessions: 1, tls: tls(), auth: { mechanism: 'PLAIN', credentials: [{ user: 'u1', password: USERS.u1 }] } }), 20000);
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(3);
    expect(result.auth).toEqual({ mechanism: 'PLAIN', attempts: 3, succeeded: 3, failed: 0 });
    expect(result.tls).toMatchObject({ handshakes: 3, failures: 0 });
    const lines = await waitForSasl('PLAIN', 'u1', before + 3);
    expect(lines.length - before).toBe(3);
    expectSameTally(sourceTally(result), await postfixTally(pf!, records, 3, { proto: 'ESMTPSA' }));
  });

  it.each(['LOGIN', 'CRAM-MD5'] as const)('--auth %s --user u2 -m 2: accepted, the maillog names the method and u2', async (mechanism) => {
    const records = pf!.records().length;
    const before = saslLines(mechanism, 'u2').length;
    const { result } = await runBounded(options({ messages: 2, sessions: 1, tls: tls(), auth: { mechanism, credentials: [{ user: 'u2', password: USERS.u2 }] } }), 20000);
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(2);
    expect(result.auth).toEqual({ mechanism, attempts: 2, succeeded: 2, failed: 0 });
    const lines = await waitForSasl(mechanism, 'u2', before + 2);
    expect(lines.length - before).toBe(2);
    expectSameTally(sourceTally(result), await postfixTally(pf!, records, 2, { proto: 'ESMTPSA' }));
  });

  it('a wrong password with -A: 535 counted per session, nothing accepted, Postfix logs the failure', async () => {
    const records = pf!.records().length;
    const failedBefore = pf!.log().split('\n').filter((l) => /SASL PLAIN authentication failed/.test(l)).length;
    const { result, logs } = await runBounded(
      options({ messages: 2, sessions: 1, allowReject: true, tls: tls(), auth: { mechanism: 'PLAIN', credentials: [{ user: 'u1', password: 'wrong-password' }] } }),
      20000,
    );
    expect(result.fatal).toBeUndefined();
    expect(result.auth).toEqual({ mechanism: 'PLAIN', attempts: 2, succeeded: 0, failed: 2 });
    expect(result.rejects).toEqual({ auth: { '535': 2 } });
    expect(result.messages.accepted).toBe(0);
    expect(logs.match(/warning: authentication failed: 535 5\.7\.8 /g)).toHaveLength(2);
    expect(logs.includes('wrong-password')).toBe(false);
    await pf!.waitForLog('2 SASL PLAIN failures', () => pf!.log().split('\n').filter((l) => /SASL PLAIN authentication failed/.test(l)).length >= failedBefore + 2);
    expectSameTally(sourceTally(result), await postfixTally(pf!, records, 0, { proto: 'ESMTPSA' }));
  });

  it('STARTTLS without --auth: Postfix refuses to relay (554), so the permit is what lets the other cases through', async () => {
    const records = pf!.records().length;
    const { result } = await runBounded(options({ messages: 1, allowReject: true, tls: tls() }), 20000);
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(0);
    expect(result.rejects).toEqual({ rcpt: { '554': 1 } });
    await pf!.waitForLog('the relay refusal in the maillog', () => /NOQUEUE: reject: RCPT from [^:]+: 554 5\.7\.1 .*Relay access denied/.test(pf!.log()));
    expectSameTally(sourceTally(result), await postfixTally(pf!, records, 0, { proto: 'ESMTPS' }));
  });

  it('--credentials with 2 users over -s 2 (CLI): both usernames on client= lines in the maillog', async () => {
    const file = join(tmp!, 'credentials');
    writeFileSync(file, `# two accounts\n${Object.entries(USERS).map(([u, p]) => `${u}:${p}`).join('\n')}\n`);
    const records = pf!.records().length;
    const before = { u1: saslLines('PLAIN', 'u1').length, u2: saslLines('PLAIN', 'u2').length };
    const r = await ourCli(
      ['--starttls', '--tls-ca', certs!.caFile, '--tls-servername', NAME, '--auth', 'PLAIN', '--credentials', file, '-s', '2', '-m', '4', '-d', '--json', '-', '-M', 'client.example', '-f', 'sender@example.com', '-t', RCPT, `127.0.0.1:${pf!.port}`],
      20000,
    );
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as SourceResult;
    expect(json.messages.accepted).toBe(4);
    expect(json.auth).toEqual({ mechanism: 'PLAIN', attempts: 2, succeeded: 2, failed: 0 });
    await waitForSasl('PLAIN', 'u1', before.u1 + 1);
    await waitForSasl('PLAIN', 'u2', before.u2 + 1);
    expect(saslLines('PLAIN', 'u1').length - before.u1 + saslLines('PLAIN', 'u2').length - before.u2).toBe(4);
    for (const p of Object.values(USERS)) {
      expect(r.stdout.includes(p)).toBe(false);
      expect(r.stderr.includes(p)).toBe(false);
    }
    expectSameTally(sourceTally(json), await postfixTally(pf!, records, 4, { proto: 'ESMTPSA' }));
  });

  it('without --starttls (smtpd_tls_auth_only): AUTH is not offered, one clear fatal line (CLI)', async () => {
    const r = await ourCli(['--auth', 'PLAIN', '--user', 'u1', '--password', USERS.u1, '-M', 'client.example', '-t', RCPT, `127.0.0.1:${pf!.port}`], 20000);
    expect(r.code).toBe(1);
    const fatal = r.stderr.split('\n').filter((l) => l.includes('fatal:'));
    expect(fatal).toEqual(['smtp-source: fatal: AUTH not offered by the server (--auth PLAIN)']);
  });
});
