// STARTTLS and implicit TLS on the sink, driven by real peers (openssl s_client, swaks,
// nodemailer) and by a raw client for what they won't do: pipelining behind STARTTLS,
// STARTTLS twice, garbage instead of a ClientHello, a handshake that never comes.
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, currentUser, peer, portOf, run } from './helpers.js';
import { expectSameTally, resources, settled, sinkTally, waitFor, wireBytes, type TestSink } from './interop-helpers.js';
import { nodemailerTally, swaksTally, nodemailerTransport, type NodemailerTransport } from './tallies.js';
import { makeTestCerts, type TestCerts } from '@smtpstone/testbed';
import { SClient, SmtpConn } from './tls-helpers.js';

const openssl = peer('openssl');
const swaksBin = peer('swaks');
const r = resources();

let certs: TestCerts;
beforeAll(() => {
  if (openssl === undefined) return;
  certs = makeTestCerts({ names: ['localhost'], ips: ['127.0.0.1'], openssl });
  return () => certs.remove();
});

let clients: { close(): void }[] = [];
afterEach(() => {
  for (const c of clients) c.close();
  clients = [];
});
function track<T extends { close(): void }>(c: T): T {
  clients.push(c);
  return c;
}

function transport(sink: TestSink, extra: Record<string, unknown>): NodemailerTransport {
  return nodemailerTransport(portOf(sink), extra);
}

const message = { from: 'a@example.com', to: 'b@example.com', subject: 'over TLS', text: 'hello\n.dot line\n' };

/** The EHLO reply's keywords (first line, the host name, left out). */
function keywords(text: string): string[] {
  return text.split('\n').slice(1).filter((l) => l !== '');
}

describe.skipIf(!openssl)('STARTTLS (--starttls)', () => {
  it('openssl s_client -starttls smtp sends a message through it; the sink counts it and the handshake', async () => {
    const sink = await r.sink({ tls: 'starttls' });
    expect(sink.tls?.selfSigned).toBe(true);
    expect(sink.logs.join('')).toMatch(/self-signed certificate for smtp-sink, SHA-256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}\n/);
    const c = track(SClient.start(openssl!, ['-starttls', 'smtp', '-connect', `127.0.0.1:${portOf(sink)}`]));
    await waitFor('the handshake', () => sink.stats().tlsHandshakes === 1, 10000);
    c.send('EHLO client.example\r\n');
    let at = await c.expectLine(/^250-smtp-sink$/);
    at = await c.expectLine(/^250 $/, at);
    // Under TLS, STARTTLS is no longer announced.
    expect(c.out.slice(0, at)).not.toContain('STARTTLS');
    c.send('MAIL FROM:<a@example.com>\r\n');
    at = await c.expectLine(/^250 2\.1\.0 Ok$/, at);
    c.send('RCPT TO:<b@example.com>\r\n');
    at = await c.expectLine(/^250 2\.1\.5 Ok$/, at);
    c.send('DATA\r\n');
    at = await c.expectLine(/^354 /, at);
    const body = 'Subject: hi\r\n\r\nhello over TLS\r\n';
    c.send(body + '.\r\n');
    at = await c.expectLine(/^250 2\.0\.0 Ok$/, at);
    c.send('QUIT\r\n');
    await c.expectLine(/^221 Bye$/, at);
    expect(await c.exit()).toBe(0);
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, messagesAccepted: 1, recipients: 1, quits: 1, tlsHandshakes: 1, tlsFailures: 0, starttlsDiscarded: 0 });
    expect(s.commands).toMatchObject({ ehlo: 2, starttls: 1, mail: 1, quit: 1, unknown: 0 });
    expect(Object.values(s.tlsProtocols)).toEqual([1]);
    expect(Object.keys(s.tlsProtocols)[0]).toMatch(/^TLSv1\.[23]$/);
    expect(Object.values(s.tlsCiphers)).toEqual([1]);
    // What we had s_client send: one message to one recipient, each got its 250.
    expectSameTally({ messages: 1, recipients: 1, bytes: wireBytes(body) }, sinkTally(s));
  });

  it('EHLO announces STARTTLS before AUTH; 220 2.0.0 Ready to start TLS; after the handshake the session starts over', async () => {
    const sink = await r.sink({ tls: 'starttls' });
    const c = track(await SmtpConn.open(portOf(sink)));
    await c.until(1);
    const ehlo = await c.command('EHLO client.example');
    expect(keywords(ehlo.text)).toEqual(['PIPELINING', '8BITMIME', 'STARTTLS', 'AUTH PLAIN LOGIN', 'XCLIENT NAME HELO', 'XFORWARD NAME ADDR PROTO HELO', 'ENHANCEDSTATUSCODES', 'DSN']);
    expect((await c.command('MAIL FROM:<a@b>')).code).toBe(250);
    expect(await c.command('STARTTLS')).toEqual({ code: 220, text: '2.0.0 Ready to start TLS' });
    const t = track(await c.upgrade());
    // The transaction begun in the clear is gone: RCPT needs a new MAIL.
    expect(await t.command('RCPT TO:<c@d>')).toEqual({ code: 503, text: '5.5.1 Error: need MAIL command' });
    expect(keywords((await t.command('EHLO client.example')).text)).not.toContain('STARTTLS');
    expect((await t.command('QUIT')).code).toBe(221);
  });

  it('STARTTLS twice: 503 and the session goes on', async () => {
    const sink = await r.sink({ tls: 'starttls' });
    const c = track(await SmtpConn.open(portOf(sink)));
    await c.until(1);
    await c.command('EHLO x');
    expect((await c.command('STARTTLS')).code).toBe(220);
    const t = track(await c.upgrade());
    await t.command('EHLO x');
    expect(await t.command('STARTTLS')).toEqual({ code: 503, text: '5.5.1 Error: TLS already active' });
    expect(await t.command('NOOP')).toEqual({ code: 250, text: '2.0.0 Ok' });
    expect(await t.command('STARTTLS now')).toEqual({ code: 503, text: '5.5.1 Error: TLS already active' });
    expect((await t.command('QUIT')).code).toBe(221);
    const s = await settled(sink, 1);
    expect(s.rejects).toEqual({ '503': 2 });
    expect(s.tlsHandshakes).toBe(1);
  });

  it('STARTTLS with an argument is a syntax error and the session stays in the clear', async () => {
    const sink = await r.sink({ tls: 'starttls' });
    const c = track(await SmtpConn.open(portOf(sink)));
    await c.until(1);
    expect(await c.command('STARTTLS please')).toEqual({ code: 501, text: '5.5.4 Syntax: STARTTLS' });
    expect((await c.command('NOOP')).code).toBe(250);
  });

  it('commands pipelined behind STARTTLS are discarded, not run after the handshake (CVE-2011-0411)', async () => {
    const sink = await r.sink({ tls: 'starttls' });
    const c = track(await SmtpConn.open(portOf(sink)));
    await c.until(1);
    await c.command('EHLO x');
    c.send('STARTTLS\r\nMAIL FROM:<injected@evil>\r\nRCPT TO:<victim@x>\r\n');
    const replies = await c.until(3);
    expect(replies[2]).toEqual({ code: 220, text: '2.0.0 Ready to start TLS' });
    const t = track(await c.upgrade());
    await t.command('EHLO x');
    // Had the injected MAIL run, this would be 250.
    expect(await t.command('RCPT TO:<b@c>')).toEqual({ code: 503, text: '5.5.1 Error: need MAIL command' });
    expect(await t.command('NOOP')).toEqual({ code: 250, text: '2.0.0 Ok' });
    // Nothing else came back: no reply to the injected commands, in the clear or under TLS.
    expect(c.replies).toHaveLength(3);
    expect(t.replies).toHaveLength(3);
    t.close();
    const s = await settled(sink, 1);
    expect(s.commands).toMatchObject({ mail: 0, rcpt: 1, starttls: 1 });
    expect(s.starttlsDiscarded).toBe(1);
  });

  it('--require-tls: MAIL before STARTTLS gets 530; after it, 250', async () => {
    const sink = await r.sink({ requireTls: true });
    expect(sink.options.tls).toBe('starttls');
    const c = track(await SmtpConn.open(portOf(sink)));
    await c.until(1);
    await c.command('EHLO x');
    expect(await c.command('MAIL FROM:<a@b>')).toEqual({ code: 530, text: '5.7.0 Must issue a STARTTLS command first' });
    expect(await c.command('RCPT TO:<a@b>')).toEqual({ code: 503, text: '5.5.1 Error: need MAIL command' });
    expect((await c.command('STARTTLS')).code).toBe(220);
    const t = track(await c.upgrade());
    await t.command('EHLO x');
    expect(await t.command('MAIL FROM:<a@b>')).toEqual({ code: 250, text: '2.1.0 Ok' });
    expect((await t.command('QUIT')).code).toBe(221);
    expect((await settled(sink, 1)).rejects).toMatchObject({ '530': 1 });
  });

  it('STARTTLS in the fault lists: -f starttls, -q starttls, -W starttls:1', async () => {
    const hard = await r.sink({ tls: 'starttls', hardReject: ['starttls'] });
    const c1 = track(await SmtpConn.open(portOf(hard)));
    await c1.until(1);
    expect(await c1.command('STARTTLS')).toEqual({ code: 500, text: '5.3.0 Error: command failed' });
    expect((await c1.command('NOOP')).code).toBe(250);

    const drop = await r.sink({ tls: 'starttls', disconnect: ['starttls'] });
    const c2 = track(await SmtpConn.open(portOf(drop)));
    await c2.until(1);
    c2.send('STARTTLS\r\n');
    await c2.waitClosed();
    expect(c2.replies).toHaveLength(1);

    const slow = await r.sink({ tls: 'starttls', delays: [{ command: 'starttls', seconds: 1 }] });
    const c3 = track(await SmtpConn.open(portOf(slow)));
    await c3.until(1);
    const t0 = Date.now();
    expect((await c3.command('STARTTLS')).code).toBe(220);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    const t = track(await c3.upgrade());
    expect((await t.command('EHLO x')).code).toBe(250);
    expect(slow.stats().tlsHandshakes).toBe(1);
  });

  it('garbage instead of a ClientHello: counted, closed, and the sink serves the next client', async () => {
    const sink = await r.sink({ tls: 'starttls' });
    const c = track(await SmtpConn.open(portOf(sink)));
    await c.until(1);
    expect((await c.command('STARTTLS')).code).toBe(220);
    c.send('EHLO this is not a ClientHello\r\n\r\n\r\n');
    await c.waitClosed();
    await waitFor('the failure to be counted', () => sink.stats().tlsFailures === 1 && sink.stats().active === 0, 5000, () => sink.stats());
    const d = track(await SmtpConn.open(portOf(sink)));
    await d.until(1);
    expect((await d.command('STARTTLS')).code).toBe(220);
    const t = track(await d.upgrade());
    expect((await t.command('EHLO x')).code).toBe(250);
    expect(sink.stats()).toMatchObject({ tlsHandshakes: 1, tlsFailures: 1 });
  });

  it('a client that goes quiet after 220 is dropped at -t and counted', async () => {
    const sink = await r.sink({ tls: 'starttls', timeoutSeconds: 1 });
    const c = track(await SmtpConn.open(portOf(sink)));
    await c.until(1);
    expect((await c.command('STARTTLS')).code).toBe(220);
    const t0 = Date.now();
    await c.waitClosed(5000);
    expect(Date.now() - t0).toBeLessThan(4000);
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ tlsFailures: 1, timeouts: 1, tlsHandshakes: 0 });
  });

  it('nodemailer with requireTLS upgrades and sends; with the CA of --tls-cert it verifies the certificate', async () => {
    const sink = await r.sink({ tls: 'starttls' });
    const info = await transport(sink, { secure: false, requireTLS: true, tls: { rejectUnauthorized: false } }).sendMail(message);
    expect(info.response).toBe('250 2.0.0 Ok');

    const signed = await r.sink({ tls: 'starttls', tlsCert: certs.certPem, tlsKey: certs.keyPem });
    expect(signed.tls).toMatchObject({ selfSigned: false, fingerprint256: new X509Certificate(certs.certPem).fingerprint256 });
    expect(signed.logs.join('')).not.toContain('self-signed');
    const info2 = await transport(signed, { secure: false, requireTLS: true, tls: { ca: certs.caPem } }).sendMail(message);
    expect(info2.response).toBe('250 2.0.0 Ok');
    // The self-signed one does not pass verification.
    await expect(transport(sink, { secure: false, requireTLS: true }).sendMail(message)).rejects.toThrow();
    const s = await settled(signed, 1);
    expect(s).toMatchObject({ messages: 1, tlsHandshakes: 1 });
    expectSameTally(nodemailerTally([info2]), sinkTally(s));
    // The refused verification sent nothing: the self-signed sink has the first message only.
    expectSameTally(nodemailerTally([info]), sinkTally(await settled(sink, 2)));
  });
});

describe.skipIf(!openssl)('implicit TLS (--tls)', () => {
  it('openssl s_client (no -starttls): the banner comes under TLS, then a message', async () => {
    const sink = await r.sink({ tls: 'implicit' });
    const c = track(SClient.start(openssl!, ['-connect', `127.0.0.1:${portOf(sink)}`]));
    let at = await c.expectLine(/^220 smtp-sink ESMTP$/);
    c.send('EHLO client.example\r\n');
    at = await c.expectLine(/^250 $/, at);
    // Already under TLS: no STARTTLS offered.
    expect(c.out).not.toContain('STARTTLS');
    c.send('MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n');
    at = await c.expectLine(/^354 /, at);
    const body = 'hello\r\n';
    c.send(body + '.\r\nQUIT\r\n');
    at = await c.expectLine(/^250 2\.0\.0 Ok$/, at);
    await c.expectLine(/^221 Bye$/, at);
    expect(await c.exit()).toBe(0);
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, tlsHandshakes: 1, tlsFailures: 0 });
    expect(s.commands.starttls).toBe(0);
    expectSameTally({ messages: 1, recipients: 1, bytes: wireBytes(body) }, sinkTally(s));
  });

  it('STARTTLS under implicit TLS is 503', async () => {
    const sink = await r.sink({ tls: 'implicit' });
    const c = track(await SmtpConn.implicit(portOf(sink)));
    expect((await c.until(1))[0]).toEqual({ code: 220, text: 'smtp-sink ESMTP' });
    expect((await c.command('STARTTLS')).code).toBe(503);
    expect((await c.command('NOOP')).code).toBe(250);
  });

  it('nodemailer secure: true sends through it, and verifies with the CA of --tls-cert', async () => {
    const sink = await r.sink({ tls: 'implicit' });
    const info = await transport(sink, { secure: true, tls: { rejectUnauthorized: false } }).sendMail(message);
    expect(info.response).toBe('250 2.0.0 Ok');
    const signed = await r.sink({ tls: 'implicit', tlsCert: certs.certPem, tlsKey: certs.keyPem });
    const info2 = await transport(signed, { secure: true, tls: { ca: certs.caPem } }).sendMail(message);
    expect(info2.response).toBe('250 2.0.0 Ok');
    const s = await settled(sink, 1);
    const s2 = await settled(signed, 1);
    expect(s.tlsHandshakes).toBe(1);
    expect(s2.tlsHandshakes).toBe(1);
    expectSameTally(nodemailerTally([info]), sinkTally(s));
    expectSameTally(nodemailerTally([info2]), sinkTally(s2));
  });

  it('a plaintext client is counted as a failed handshake and closed; the sink goes on', async () => {
    const sink = await r.sink({ tls: 'implicit' });
    const c = track(await SmtpConn.open(portOf(sink)));
    c.send('EHLO plaintext.example\r\n');
    await c.waitClosed();
    expect(c.replies).toEqual([]);
    await waitFor('the failure', () => sink.stats().tlsFailures === 1, 5000, () => sink.stats());
    const t = track(await SmtpConn.implicit(portOf(sink)));
    expect((await t.until(1))[0].code).toBe(220);
  });

  it('a handshake that never starts ends at -t', async () => {
    const sink = await r.sink({ tls: 'implicit', timeoutSeconds: 1 });
    const c = track(await SmtpConn.open(portOf(sink)));
    const t0 = Date.now();
    await c.waitClosed(5000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(c.replies).toEqual([]);
    expect(await settled(sink, 1)).toMatchObject({ tlsFailures: 1, timeouts: 1 });
  });
});

describe.skipIf(!openssl || !swaksBin)('swaks over TLS', () => {
  const swaks = (port: number, extra: string[]) =>
    run(swaksBin!, ['--server', '127.0.0.1', '--port', String(port), '--from', 'a@example.com', '--to', 'b@example.com', '--helo', 'h.example', '--timeout', '10', '--body', 'hi', ...extra], { timeoutMs: 20000 });

  it('--tls (STARTTLS) against --starttls', async () => {
    const sink = await r.sink({ tls: 'starttls' });
    const out = await swaks(portOf(sink), ['--tls']);
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(out.stdout).toContain(' -> STARTTLS');
    expect(out.stdout).toContain('<-  220 2.0.0 Ready to start TLS');
    expect(out.stdout).toMatch(/=== TLS started with cipher/);
    expect(out.stdout).toContain('<~  250 2.0.0 Ok');
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, tlsHandshakes: 1 });
    expectSameTally(swaksTally(out.stdout.split(/\r?\n/)), sinkTally(s));
  });

  it('--tlsc (implicit TLS) against --tls', async () => {
    const sink = await r.sink({ tls: 'implicit' });
    const out = await swaks(portOf(sink), ['--tlsc']);
    expect(out.code, out.stdout + out.stderr).toBe(0);
    expect(out.stdout).toContain('<~  220 smtp-sink ESMTP');
    expect(out.stdout).toContain('<~  250 2.0.0 Ok');
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, tlsHandshakes: 1 });
    expectSameTally(swaksTally(out.stdout.split(/\r?\n/)), sinkTally(s));
  });
});

describe.skipIf(!openssl)('the CLI with TLS', () => {
  it('--tls without a certificate prints the fingerprint of the one it made; --json has the TLS counters', async () => {
    const dir = r.dir();
    const json = join(dir, 'stats.json');
    const sink = await r.cli(['--tls', '--json', json]);
    const m = /self-signed certificate for smtp-sink, SHA-256 fingerprint ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})\n/.exec(sink.stderr());
    expect(m, sink.stderr()).not.toBeNull();
    const c = track(await SmtpConn.implicit(sink.port));
    expect(c.tls.getPeerX509Certificate()?.fingerprint256).toBe(m![1]);
    await c.until(1);
    await c.command('EHLO x');
    expect((await c.command('QUIT')).code).toBe(221);
    await c.waitClosed();
    await new Promise((res) => setTimeout(res, 100));
    expect(await sink.stop('SIGTERM')).toMatchObject({ code: 0 });
    const s = JSON.parse(readFileSync(json, 'utf8'));
    expect(s).toMatchObject({ tlsHandshakes: 1, tlsFailures: 0, starttlsDiscarded: 0, authSuccesses: 0, authFailures: 0 });
    expect(Object.keys(s.tlsProtocols)).toHaveLength(1);
  });

  it('--starttls --tls-cert --tls-key serves the given certificate', async () => {
    const sink = await r.cli(['--starttls', '--tls-cert', certs.certFile, '--tls-key', certs.keyFile]);
    expect(sink.stderr()).not.toContain('self-signed');
    const c = track(await SmtpConn.open(sink.port));
    await c.until(1);
    expect((await c.command('STARTTLS')).code).toBe(220);
    const t = track(await c.upgrade({ ca: certs.caPem, servername: 'localhost', rejectUnauthorized: true }));
    expect(t.tls.authorized).toBe(true);
    expect((await t.command('EHLO x')).code).toBe(250);
  });

  it('a bad certificate, or a key of another certificate, is refused with one line naming the flag', async () => {
    const junk = join(certs.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    // The other flags' checks are in auth.test.ts; this one needs the certificates made here.
    const out = await run(process.execPath, [CLI, '-u', currentUser(), '--starttls', '--tls-cert', junk, '--tls-key', certs.keyFile, '127.0.0.1:0', '10'], { timeoutMs: 10000 });
    expect(out.code).toBe(1);
    expect(out.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(out.stderr).toMatch(/^smtp-sink: fatal: bad TLS certificate \(--tls-cert\)/);
    const mismatch = await run(process.execPath, [CLI, '-u', currentUser(), '--tls', '--tls-cert', certs.certFile, '--tls-key', certs.otherKeyFile, '127.0.0.1:0', '10'], { timeoutMs: 10000 });
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toBe('smtp-sink: fatal: TLS key does not match the certificate (--tls-key, --tls-cert)\n');
    const badKey = await run(process.execPath, [CLI, '-u', currentUser(), '--tls', '--tls-cert', certs.certFile, '--tls-key', certs.certFile, '127.0.0.1:0', '10'], { timeoutMs: 10000 });
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(/^smtp-sink: fatal: bad TLS key \(--tls-key\)[^\n]*\n$/);
  });
});
