// Our smtp-source with TLS against a real Postfix smtpd (a private instance on loopback, see
// @smtpstone/testbed) with a CA and server certificate made by the openssl program: STARTTLS
// (smtpd_tls_security_level = may), implicit TLS (a listener with smtpd_tls_wrappermode = yes),
// certificate checks with and without --tls-ca, the name checked, session resumption, and a
// server limited to TLSv1.2 against --tls-min-version TLSv1.3. Postfix's maillog
// (smtpd_tls_loglevel = 1) tells that the connections were TLS.
import { existsSync, readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec, freePort, postfixAvailable, startPrivatePostfix, type PrivatePostfix } from '@smtpstone/testbed';
import type { SourceOptionsInput, SourceResult } from '../src/index.js';
import { postfixTally } from './postfix-tally.js';
import { expectSameTally, ourCli, runBounded, sourceTally, type Tally } from './helpers.js';
import { makeCerts, type Certs } from './tls-helpers.js';

const available = postfixAvailable();
const NAME = 'mx.example.test';

const sbin = (name: string): string => (existsSync(`/usr/sbin/${name}`) ? `/usr/sbin/${name}` : name);

/** The tally of several runs against one server. */
function sumOf(...results: SourceResult[]): Tally {
  return results.map(sourceTally).reduce((a, b) => ({ messages: a.messages + b.messages, recipients: a.recipients + b.recipients, bytes: a.bytes + b.bytes }));
}

/** Lines of the maillog that say a TLS session was set up, for the smtpd with this syslog name. */
function tlsLines(pf: PrivatePostfix, syslogName: string): string[] {
  return pf
    .log()
    .split('\n')
    .filter((l) => l.includes(` ${syslogName}[`) && /TLS connection established from/.test(l));
}

/** Resolves once the implicit-TLS listener completes a handshake and sends its banner (one probe at a time). */
async function waitForTlsBanner(port: number, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false });
      const done = (v: boolean): void => {
        clearTimeout(t);
        s.destroy();
        resolve(v);
      };
      const t = setTimeout(() => done(false), 1000);
      s.on('error', () => done(false));
      s.once('data', (d) => done(d.toString().startsWith('220')));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`no TLS banner on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(!available)('smtp-source with TLS against a real Postfix smtpd', () => {
  let pf: PrivatePostfix;
  let certs: Certs;
  let smtpsPort: number;

  beforeAll(async () => {
    certs = makeCerts(NAME);
    pf = await startPrivatePostfix({
      main: {
        smtpd_tls_cert_file: certs.certFile,
        smtpd_tls_key_file: certs.keyFile,
        smtpd_tls_security_level: 'may',
        smtpd_tls_loglevel: '1',
        // Session tickets (TLS 1.3 and 1.2) need the cache timeout above 0; it is, by default.
        smtpd_tls_session_cache_timeout: '3600s',
      },
      listeners: {
        // A server that stops at TLSv1.2.
        tls12: { smtpd_tls_protocols: '!SSLv2,!SSLv3,!TLSv1,!TLSv1.1,!TLSv1.3' },
      },
    });
    // The implicit-TLS listener sends no plaintext banner, which the testbed waits for at
    // start: it is added after, with a reload.
    smtpsPort = await freePort();
    const service = `127.0.0.1:${smtpsPort}/inet = 127.0.0.1:${smtpsPort} inet n - n - - smtpd -o syslog_name=postfix/smtps -o smtpd_tls_wrappermode=yes`;
    const added = await exec(sbin('postconf'), ['-c', pf.configDir, '-Me', service]);
    expect(added.code, added.stderr).toBe(0);
    const reloaded = await exec(sbin('postfix'), ['-c', pf.configDir, 'reload']);
    expect(reloaded.code, reloaded.stderr).toBe(0);
    await waitForTlsBanner(smtpsPort);
  }, 30000);

  afterAll(async () => {
    await pf?.stop();
    certs?.remove();
  });

  function options(port: number, more: Partial<SourceOptionsInput>): SourceOptionsInput {
    return { target: `127.0.0.1:${port}`, myHostname: 'client.example', sender: 'sender@example.com', recipient: 'rcpt@example.net', ...more };
  }

  it('STARTTLS with --tls-ca and --tls-servername: verified, EHLO again, every connection TLS in the maillog', async () => {
    const records = pf.records().length;
    const before = tlsLines(pf, 'postfix/smtpd').length;
    const { result } = await runBounded(
      options(pf.port, { messages: 3, sessions: 1, pipelining: true, tls: { mode: 'starttls', ca: readFileSync(certs.caFile), servername: NAME } }),
      15000,
    );
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(3);
    expect(result.tls).toMatchObject({ handshakes: 3, failures: 0, resumed: 0, protocols: { 'TLSv1.3': 3 } });
    expect(Object.values(result.tls!.ciphers).reduce((a, b) => a + b, 0)).toBe(3);
    expect(result.latency.tls.count).toBe(3);
    expect(result.options.tls).toMatchObject({ mode: 'starttls', required: true, servername: NAME, ca: true, insecure: false });
    await pf.waitForLog('3 TLS connections from the STARTTLS runs', () => tlsLines(pf, 'postfix/smtpd').length >= before + 3);
    expect(tlsLines(pf, 'postfix/smtpd').length - before).toBe(3);
    expectSameTally(sourceTally(result), await postfixTally(pf, records, 3, { proto: 'ESMTPS' }));
  });

  it('implicit TLS (wrappermode) with -d: one handshake, several messages, TLS in the maillog', async () => {
    const records = pf.records().length;
    const before = tlsLines(pf, 'postfix/smtps/smtpd').length;
    const { result } = await runBounded(
      options(smtpsPort, { messages: 4, reuseConnection: true, pipelining: true, tls: { mode: 'implicit', ca: readFileSync(certs.caFile), servername: NAME } }),
      15000,
    );
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(4);
    expect(result.tls).toMatchObject({ handshakes: 1, failures: 0 });
    expect(result.connections.opened).toBe(1);
    await pf.waitForLog('the implicit TLS connection', () => tlsLines(pf, 'postfix/smtps/smtpd').length >= before + 1);
    expect(tlsLines(pf, 'postfix/smtps/smtpd').length - before).toBe(1);
    expectSameTally(sourceTally(result), await postfixTally(pf, records, 4, { proto: 'ESMTPS' }));
  });

  it('without --tls-ca or --tls-insecure the self-made certificate fails with one clear line (CLI)', async () => {
    const r = await ourCli(['--starttls', '--tls-servername', NAME, '-M', 'client.example', `127.0.0.1:${pf.port}`], 15000);
    expect(r.code).toBe(1);
    const fatal = r.stderr.split('\n').filter((l) => l.includes('fatal:'));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatch(/^smtp-source: fatal: TLS handshake failed: certificate not trusted: .*\(--tls-ca FILE trusts its CA; --tls-insecure skips verification\)$/);
    expect(r.stderr).toMatch(/tls: 0 handshakes, 0 resumed \(0 %\), 1 failed/);
  });

  it('a name the certificate does not carry fails clearly; --tls-insecure passes', async () => {
    const records = pf.records().length;
    const { result } = await runBounded(options(smtpsPort, { tls: { mode: 'implicit', ca: readFileSync(certs.caFile), servername: 'other.example.test' } }), 15000);
    expect(result.fatal).toMatch(/^TLS handshake failed: certificate name mismatch: .*other\.example\.test.*--tls-servername NAME/);
    expect(result.tls).toMatchObject({ handshakes: 0, failures: 1 });
    const insecure = await runBounded(options(smtpsPort, { messages: 2, tls: { mode: 'implicit', insecure: true } }), 15000);
    expect(insecure.result.fatal).toBeUndefined();
    expect(insecure.result.messages.accepted).toBe(2);
    // Implicit TLS without --pipelining needs no EHLO: after HELO, Postfix's Received: says "with SMTP", TLS or not.
    expectSameTally(sumOf(result, insecure.result), await postfixTally(pf, records, 2, { proto: 'SMTP' }));
  });

  it('--tls-session-reuse: later connections resume the first session; without it none does', async () => {
    const records = pf.records().length;
    const tls = { mode: 'starttls' as const, ca: readFileSync(certs.caFile), servername: NAME };
    const reuse = await runBounded(options(pf.port, { messages: 4, sessions: 1, tls: { ...tls, sessionReuse: true } }), 15000);
    expect(reuse.result.fatal).toBeUndefined();
    expect(reuse.result.tls!.handshakes).toBe(4);
    expect(reuse.result.tls!.resumed).toBeGreaterThan(0);
    expect(reuse.result.tls!.resumptionRate).toBe(Math.round((reuse.result.tls!.resumed / 4) * 1000) / 1000);
    const fresh = await runBounded(options(pf.port, { messages: 4, sessions: 1, tls }), 15000);
    expect(fresh.result.tls).toMatchObject({ handshakes: 4, resumed: 0, resumptionRate: 0 });
    expectSameTally(sumOf(reuse.result, fresh.result), await postfixTally(pf, records, 8, { proto: 'ESMTPS' }));
  });

  it('a server limited to TLSv1.2: TLSv1.2 by default, a clear failure with --tls-min-version TLSv1.3', async () => {
    const records = pf.records().length;
    const tls = { mode: 'starttls' as const, ca: readFileSync(certs.caFile), servername: NAME };
    const ok = await runBounded(options(pf.ports.tls12, { tls }), 15000);
    expect(ok.result.fatal).toBeUndefined();
    expect(ok.result.tls!.protocols).toEqual({ 'TLSv1.2': 1 });
    const min13 = await runBounded(options(pf.ports.tls12, { tls: { ...tls, minVersion: 'TLSv1.3' } }), 15000);
    expect(min13.result.fatal).toMatch(/^TLS handshake failed: no TLS version in common with the server: .* \(see --tls-min-version\)$/);
    expect(min13.result.tls).toMatchObject({ handshakes: 0, failures: 1 });
    expectSameTally(sumOf(ok.result, min13.result), await postfixTally(pf, records, 1, { proto: 'ESMTPS' }));
  });
});
