// Live Prometheus metrics of the sink: what a scrape says against stats(), the HTTP side
// (paths, methods, content type), --metrics-port through the built CLI, and its bad values.
// The scrape is read with a small parser of the text format written here, so the test does
// not trust the library that wrote it; promtool, where installed, checks it too.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FatalError } from '@smtpstone/core';
import { scrape, type Scrape } from '../../metrics/test/exposition.js';
import { parseMetricsListen, serveSinkMetrics, type MetricsServer, type SinkStats } from '../src/index.js';
import { readUsersFile } from '../src/auth.js';
import { CLI, currentUser, peer, portOf, RawClient, run } from './helpers.js';
import { expectSameTally, resources, sinkTally, waitFor, wireBytes, type TestSink } from './interop-helpers.js';
import { countingProxy } from './tallies.js';

const r = resources();
/** Metrics servers to close after each test (before resources() closes their sinks). */
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

// ---- what each metric must equal -----------------------------------------------------------

/** Every smtpsink_ metric without labels, and the stats field it shows. */
const PLAIN: [string, (s: SinkStats) => number][] = [
  ['smtpsink_connections_total', (s) => s.connections],
  ['smtpsink_connections_over_fd_limit_total', (s) => s.overFdLimit],
  ['smtpsink_sessions_total', (s) => s.sessions],
  ['smtpsink_sessions_active', (s) => s.active],
  ['smtpsink_connections_waiting', (s) => s.waiting],
  ['smtpsink_connections_waiting_peak', (s) => s.peakWaiting],
  ['smtpsink_quits_total', (s) => s.quits],
  ['smtpsink_messages_total', (s) => s.messages],
  ['smtpsink_messages_accepted_total', (s) => s.messagesAccepted],
  ['smtpsink_recipients_total', (s) => s.recipients],
  ['smtpsink_message_bytes_total', (s) => s.bytes],
  ['smtpsink_fault_disconnects_total', (s) => s.faultDisconnects],
  ['smtpsink_timeouts_total', (s) => s.timeouts],
  ['smtpsink_deadlines_total', (s) => s.deadlines],
  ['smtpsink_long_lines_total', (s) => s.longLines],
  ['smtpsink_out_of_order_total', (s) => s.outOfOrder],
  ['smtpsink_lost_in_data_total', (s) => s.lostInData],
  ['smtpsink_socket_errors_total', (s) => s.socketErrors],
  ['smtpsink_dumps_total', (s) => s.dumps],
  ['smtpsink_dump_errors_total', (s) => s.dumpErrors],
  ['smtpsink_tls_handshakes_total', (s) => s.tlsHandshakes],
  ['smtpsink_tls_failures_total', (s) => s.tlsFailures],
  ['smtpsink_starttls_discarded_total', (s) => s.starttlsDiscarded],
  ['smtpsink_auth_successes_total', (s) => s.authSuccesses],
  ['smtpsink_auth_failures_total', (s) => s.authFailures],
  ['smtpsink_smtputf8_messages_total', (s) => s.smtputf8Messages],
  ['smtpsink_start_time_seconds', (s) => s.startedAt / 1000],
];
const LABELLED: [string, string, (s: SinkStats) => Record<string, number>][] = [
  ['smtpsink_commands_total', 'command', (s) => s.commands],
  ['smtpsink_rejects_total', 'code', (s) => s.rejects],
  ['smtpsink_tls_protocols_total', 'protocol', (s) => s.tlsProtocols],
];
const TIMING = ['smtpsink_uptime_seconds'];

/** Checks that a scrape shows exactly `s` (taken with no traffic in between). */
function expectScrapeShows(m: Scrape, s: SinkStats): void {
  for (const [name, read] of PLAIN) expect(m.value(name), name).toBe(read(s));
  for (const [name, label, read] of LABELLED) expect(m.byLabel(name, label), name).toEqual(read(s));
  const uptime = m.value('smtpsink_uptime_seconds')!;
  expect(uptime).toBeGreaterThanOrEqual(0);
  expect(uptime).toBeLessThanOrEqual(s.elapsedMs / 1000 + 0.001);
  // Nothing of ours goes untested.
  const ours = [...m.types.keys()].filter((n) => n.startsWith('smtpsink_'));
  expect(ours.sort()).toEqual([...PLAIN.map((p) => p[0]), ...LABELLED.map((l) => l[0]), ...TIMING].sort());
}

async function withMetrics(options: Parameters<typeof r.sink>[0] = {}): Promise<{ sink: TestSink; metrics: MetricsServer }> {
  const sink = await r.sink(options);
  const metrics = await serveSinkMetrics(sink, '127.0.0.1:0');
  cleanup.push(() => metrics.close());
  return { sink, metrics };
}

const HELLO = 'Subject: hi\r\n\r\nhello\r\n';

/** One message through a raw client: EHLO, MAIL, two RCPT, DATA, body, "." (no QUIT). */
async function sendMessage(c: RawClient, body = HELLO): Promise<void> {
  await c.until(1);
  expect((await c.command('EHLO client.example')).code).toBe(250);
  expect((await c.command('MAIL FROM:<a@example.com>')).code).toBe(250);
  expect((await c.command('RCPT TO:<b@example.com>')).code).toBe(250);
  expect((await c.command('RCPT TO:<c@example.com>')).code).toBe(250);
  expect((await c.command('DATA')).code).toBe(354);
  expect((await c.command(body + '.')).code).toBe(250);
}

describe('sink metrics through the API', { timeout: 15_000 }, () => {
  it('a scrape shows the same counters as stats(), during and after the sessions', async () => {
    const { sink, metrics } = await withMetrics();
    expect(metrics.address).toMatchObject({ kind: 'inet', host: '127.0.0.1' });
    expect(metrics.address.port).toBeGreaterThan(0);
    expect(metrics.url).toBe(`http://127.0.0.1:${metrics.address.port}/metrics`);

    const a = await RawClient.open(portOf(sink));
    await sendMessage(a);
    await sendMessage(a, 'x'.repeat(1000) + '\r\n');
    expect((await a.command('RCPT TO:<late@example.com>')).code).toBe(503);
    expect((await a.command('BOGUS')).code).toBe(500);
    expect((await a.command('NOOP')).code).toBe(250);
    const b = await RawClient.open(portOf(sink));
    await sendMessage(b);

    // Both sessions still open.
    const during = await scrape(metrics.url);
    const s1 = sink.stats();
    expect(s1).toMatchObject({ active: 2, sessions: 0, messages: 3, recipients: 6, rejects: { '500': 1, '503': 1 } });
    expectScrapeShows(during.scrape, s1);

    expect((await a.command('QUIT')).code).toBe(221);
    b.close();
    await waitFor('both sessions ended', () => sink.stats().sessions === 2);
    const after = await scrape(metrics.url);
    const s2 = sink.stats();
    expect(s2).toMatchObject({ active: 0, sessions: 2, quits: 1, connections: 2 });
    expectScrapeShows(after.scrape, s2);
    expect(after.scrape.value('smtpsink_message_bytes_total')).toBe(s2.bytes);
    expect(s2.bytes).toBeGreaterThan(1000);
    // What the test sent: three messages to two recipients each (the late RCPT was refused).
    const sent = { messages: 3, recipients: 6, bytes: wireBytes(HELLO) + wireBytes('x'.repeat(1000) + '\r\n') + wireBytes(HELLO) };
    expectSameTally(sent, sinkTally(s2));
  });

  it('TLS, AUTH and SMTPUTF8 counters: a STARTTLS session with a failed and a good AUTH and a UTF-8 message', async () => {
    const users = join(r.dir(), 'users');
    writeFileSync(users, 'u1:secret\n');
    const { sink, metrics } = await withMetrics({ tls: 'starttls', smtputf8: true, auth: { mechanisms: ['PLAIN'], users: readUsersFile(users) } });
    const plain = await RawClient.open(portOf(sink));
    await plain.until(1);
    expect((await plain.command('EHLO client.example')).code).toBe(250);
    expect((await plain.command('STARTTLS')).code).toBe(220);
    const c = await plain.upgrade();
    expect((await c.command('EHLO client.example')).code).toBe(250);
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    expect((await c.command(`AUTH PLAIN ${b64('\0u1\0wrong')}`)).code).toBe(535);
    expect((await c.command(`AUTH PLAIN ${b64('\0u1\0secret')}`)).code).toBe(235);
    expect((await c.command('MAIL FROM:<a@example.com> SMTPUTF8')).code).toBe(250);
    expect((await c.command('RCPT TO:<用户@example.com>')).code).toBe(250);
    expect((await c.command('DATA')).code).toBe(354);
    expect((await c.command(HELLO + '.')).code).toBe(250);
    const m = (await scrape(metrics.url)).scrape;
    const s = sink.stats();
    expect(s).toMatchObject({ tlsHandshakes: 1, tlsFailures: 0, authSuccesses: 1, authFailures: 1, smtputf8Messages: 1 });
    expectScrapeShows(m, s);
    expect(m.byLabel('smtpsink_tls_protocols_total', 'protocol')).toEqual(s.tlsProtocols);
    expectSameTally({ messages: 1, recipients: 1, bytes: wireBytes(HELLO) }, sinkTally(s));
    c.close();
  });

  it('clients held beyond -m show as waiting, and the peak stays once they are served', async () => {
    const { sink, metrics } = await withMetrics({ maxClients: 1 });
    const first = await RawClient.open(portOf(sink));
    await first.until(1);
    const held = [await RawClient.open(portOf(sink)), await RawClient.open(portOf(sink))];
    await waitFor('two waiting clients', () => sink.stats().waiting === 2);
    let m = (await scrape(metrics.url)).scrape;
    expect(m.value('smtpsink_sessions_active')).toBe(1);
    expect(m.value('smtpsink_connections_waiting')).toBe(2);
    expect(m.value('smtpsink_connections_waiting_peak')).toBe(2);
    expect(m.value('smtpsink_connections_total')).toBe(3);

    first.close();
    await held[0].until(1);
    m = (await scrape(metrics.url)).scrape;
    expect(m.value('smtpsink_connections_waiting')).toBe(1);
    expect(m.value('smtpsink_connections_waiting_peak')).toBe(2);
    for (const c of held) c.close();
  });

  it('serves the text format with its content type, HELP and TYPE for every metric, and process metrics', async () => {
    const { sink, metrics } = await withMetrics();
    const c = await RawClient.open(portOf(sink));
    await sendMessage(c);
    const { scrape: m, contentType, text } = await scrape(metrics.url);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text.endsWith('\n')).toBe(true);
    for (const { name } of m.samples) {
      const family = m.types.has(name) ? name : name.replace(/_(sum|count|bucket)$/, '');
      expect(m.types.has(family), `TYPE of ${name}`).toBe(true);
    }
    for (const name of m.samples.map((s) => s.name).filter((n) => n.startsWith('smtpsink_'))) {
      expect(m.help.has(name), `HELP of ${name}`).toBe(true);
      expect(m.types.get(name)).toBe(name.endsWith('_total') ? 'counter' : 'gauge');
    }
    expect(m.types.get('smtpsink_commands_total')).toBe('counter');
    expect(m.value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(m.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(m.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expectSameTally({ messages: 1, recipients: 2, bytes: wireBytes(HELLO) }, sinkTally(sink.stats()));
    c.close();
  });

  it('answers / with a pointer, other paths with 404, other methods with 405, HEAD without a body', async () => {
    const { metrics } = await withMetrics();
    const base = `http://127.0.0.1:${metrics.address.port}`;
    const root = await fetch(`${base}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await root.text()).toBe('smtp-sink: Prometheus metrics at /metrics\n');
    for (const path of ['/metricsx', '/metrics/', '/favicon.ico', '/x/metrics']) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(404);
      await res.text();
    }
    const post = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    await post.text();
    const head = await fetch(`${base}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await head.text()).toBe('');
    const query = await fetch(`${base}/metrics?name[]=smtpsink_messages_total`);
    expect(query.status).toBe(200);
    expect(await query.text()).toContain('smtpsink_messages_total 0');
  });

  it('close() stops serving and leaves the sink running', async () => {
    const { sink, metrics } = await withMetrics();
    // A kept-alive connection must not hold close() up.
    await (await fetch(metrics.url)).text();
    await metrics.close();
    await expect(fetch(metrics.url, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    const c = await RawClient.open(portOf(sink));
    expect((await c.until(1))[0].code).toBe(220);
    c.close();
    await metrics.close(); // twice is fine
  });

  it('a port in use is a one-line error naming metrics, and nothing is left listening', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    try {
      const sink = await r.sink();
      await expect(serveSinkMetrics(sink, `127.0.0.1:${port}`)).rejects.toThrow(
        new FatalError(`metrics: bind 127.0.0.1 port ${port}: Address already in use`),
      );
    } finally {
      blocker.close();
    }
  });
});

describe('--metrics-port values', () => {
  it.each([
    ['9125', { host: '127.0.0.1', port: 9125 }],
    ['0', { host: '127.0.0.1', port: 0 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['localhost:9125', { host: 'localhost', port: 9125 }],
    ['[::1]:9125', { host: '::1', port: 9125 }],
    [':9125', { host: '', port: 9125 }],
    ['0.0.0.0:9125', { host: '0.0.0.0', port: 9125 }],
  ])('%s listens on %j (a bare port is loopback; ":port" every address)', (spec, want) => {
    expect(parseMetricsListen(spec)).toEqual(want);
  });

  it.each(['', 'abc', '65536', '127.0.0.1', '127.0.0.1:', '127.0.0.1:x', '[::1', 'unix:/tmp/m.sock', '-1', 'a b:1'])(
    '%j is refused with one line naming the flag',
    (spec) => {
      expect(() => parseMetricsListen(spec)).toThrow(FatalError);
      expect(() => parseMetricsListen(spec)).toThrow(/^bad metrics address: .* \(--metrics-port wants \[host:\]port, port 0 to 65535\)$/);
    },
  );
});

// ---- the CLI -------------------------------------------------------------------------------

const promtool = ['PROMTOOL' in process.env ? process.env.PROMTOOL! : '', ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'promtool'))]
  .filter((p) => p !== '')
  .find((p) => existsSync(p));

describe('smtp-sink --metrics-port', { timeout: 20_000 }, () => {
  const smtpSource = peer('smtp-source');

  it.skipIf(smtpSource === undefined)('serves metrics while the C smtp-source sends, and they match --json at exit', async () => {
    const sink = await r.cli(['--metrics-port', '127.0.0.1:0', '--json', '-']);
    await waitFor('the metrics address', () => /metrics at http:\/\/\S+\n/.test(sink.stderr()), 5000, () => sink.stderr());
    const url = /metrics at (http:\/\/\S+)\n/.exec(sink.stderr())![1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    // Through a proxy that counts the message bytes smtp-source sends (tallies.ts).
    const proxy = await countingProxy(`127.0.0.1:${sink.port}`);
    const src = await run(smtpSource!, ['-s', '3', '-m', '12', '-r', '2', '-l', '500', proxy.target], { timeoutMs: 10_000 });
    expect(src.code).toBe(0);
    let m: Scrape;
    const deadline = Date.now() + 5000;
    do {
      m = (await scrape(url)).scrape;
    } while (m.value('smtpsink_sessions_total')! < 12 && Date.now() < deadline);
    expect(m.value('smtpsink_messages_total')).toBe(12);
    expect(m.value('smtpsink_recipients_total')).toBe(24);
    expect(m.value('smtpsink_sessions_active')).toBe(0);

    expect(await sink.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const final = JSON.parse(sink.stdout()) as SinkStats;
    expectScrapeShows(m, final);
    // smtp-source exits 0 only when every message and recipient was accepted: -m 12, -r 2 each.
    expectSameTally({ messages: 12, recipients: 24, bytes: proxy.bytes() }, sinkTally(final));
    // The metrics listener went with the sink.
    await expect(fetch(url, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });

  it('a fixed metrics port serves there and is not announced (port 0 is)', async () => {
    const fixed = await freePort();
    const sink = await r.cli(['--metrics-port', String(fixed)]);
    const m = (await scrape(`http://127.0.0.1:${fixed}/metrics`)).scrape;
    expect(m.value('smtpsink_connections_total')).toBe(0);
    expect(sink.stderr()).not.toContain('metrics at');
  });

  it.each([
    [['--metrics-port', 'abc'], 'smtp-sink: fatal: bad metrics address: abc (--metrics-port wants [host:]port, port 0 to 65535)'],
    [['--metrics-port', '70000'], 'smtp-sink: fatal: bad metrics address: 70000 (--metrics-port wants [host:]port, port 0 to 65535)'],
    [['--metrics-port', ''], 'smtp-sink: fatal: bad metrics address: "" (--metrics-port wants [host:]port, port 0 to 65535)'],
    [['--metrics-port', 'unix:/tmp/x'], 'smtp-sink: fatal: bad metrics address: unix:/tmp/x (--metrics-port wants [host:]port, port 0 to 65535)'],
    [['127.0.0.1:0', '10', '--metrics-port'], /^smtp-sink: fatal: .*metrics-port.* \(see smtp-sink --help\)$/],
  ] as [string[], string | RegExp][])('%j is refused with one line', async (args, line) => {
    const operands = args.includes('10') ? [] : ['127.0.0.1:0', '10'];
    const res = await run(process.execPath, [CLI, '-u', currentUser(), ...args, ...operands], { timeoutMs: 10_000 });
    expect(res.code).toBe(1);
    const lines = res.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    if (typeof line === 'string') expect(lines[0]).toBe(line);
    else expect(lines[0]).toMatch(line);
  });

  it('a metrics port in use stops the sink with one fatal line and exit code 1', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    try {
      const res = await run(process.execPath, [CLI, '-u', currentUser(), '--metrics-port', String(port), '127.0.0.1:0', '10'], { timeoutMs: 10_000 });
      expect(res.code).toBe(1);
      expect(res.stderr).toBe(`smtp-sink: fatal: metrics: bind 127.0.0.1 port ${port}: Address already in use\n`);
    } finally {
      blocker.close();
    }
  });

  it('--help lists --metrics-port', async () => {
    const res = await run(process.execPath, [CLI, '--help']);
    expect(res.stdout).toMatch(/--metrics-port <value>\s+Serve Prometheus metrics/);
  });

  // In CI (CI=true) a missing promtool fails the test, as every missing peer does.
  it.skipIf(promtool === undefined && !process.env.CI)(
    `promtool check metrics accepts the scrape${promtool === undefined ? ' (skipped: no promtool; apt-get install prometheus, or set PROMTOOL)' : ''}`,
    async () => {
      const { sink, metrics } = await withMetrics({ hardReject: ['rcpt'] });
      const c = await RawClient.open(portOf(sink));
      await c.until(1);
      await c.command('HELO x');
      await c.command('MAIL FROM:<a@b>');
      expect((await c.command('RCPT TO:<c@d>')).code).toBe(500);
      const { text } = await scrape(metrics.url);
      c.close();
      if (promtool === undefined) throw new Error('promtool is not installed (apt-get install prometheus)');
      const res = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 });
      const out = res.stdout + res.stderr;
      expect(out).not.toMatch(/error while linting|parsing error/);
      // Lint remarks may only concern prom-client's own process metrics, not ours.
      const remarks = out.split('\n').filter((l) => l.trim() !== '');
      expect(remarks.filter((l) => !/^nodejs_/.test(l))).toEqual([]);
    },
  );
});

async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
