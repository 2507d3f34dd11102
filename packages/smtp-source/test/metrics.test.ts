// Live Prometheus metrics of a run (serveSourceMetrics): scraped while our source sends to
// our sink and after it ends, against the run's own result: counts, errors, rejects, and
// the latency summary whose quantiles come from the same HDR histograms as result.latency.
// The scrape is read with a small parser written here; promtool, where installed, checks it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FatalError } from '@smtpstone/core';
import { scrape, type Scrape } from '../../metrics/test/exposition.js';
import { startSource, PHASES, type SourceOptionsInput, type SourceResult } from '../src/index.js';
import type { SourceRun } from '../src/engine.js';
import { LATENCY_QUANTILES, serveSourceMetrics, type MetricsServer } from '../src/metrics.js';
import { expectSameTally, freePort, portOf, resources, settled, sinkTally, sourceTally, waitFor, type TestSink } from './helpers.js';

const r = resources();
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const ADDR = { sender: 'sender@example.com', recipient: 'rcpt@example.com', myHostname: 'client.example' } as const;

// ---- running a source with metrics ------------------------------------------------------------

async function sourceWithMetrics(input: SourceOptionsInput): Promise<{ run: SourceRun; done: Promise<SourceResult>; metrics: MetricsServer }> {
  const running = await startSource({ ...ADDR, writeLog: () => undefined, ...input });
  cleanup.push(() => running.run.stop(0));
  const metrics = await serveSourceMetrics(running.run, '127.0.0.1:0');
  cleanup.push(() => metrics.close());
  return { run: running.run, done: bounded(running.done, 10_000), metrics };
}

function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not done within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const inet = (sink: TestSink): string => `127.0.0.1:${portOf(sink)}`;

/** Issue 7: the run's tally against our sink's, once the sink has seen every connection end. */
async function expectTallied(sink: TestSink, result: SourceResult): Promise<void> {
  expectSameTally(sourceTally(result), sinkTally(await settled(sink, result.connections.opened)));
}

/** Every count of the result as the scrape must show it. */
function expectCountsOf(m: Scrape, result: SourceResult): void {
  const shown = {
    messages: {
      started: m.value('smtpsource_messages_started_total'),
      sent: m.value('smtpsource_messages_sent_total'),
      accepted: m.value('smtpsource_messages_accepted_total'),
      rejected: m.value('smtpsource_messages_rejected_total'),
      failed: m.value('smtpsource_messages_failed_total'),
    },
    recipients: {
      sent: m.value('smtpsource_recipients_sent_total'),
      accepted: m.value('smtpsource_recipients_accepted_total'),
      rejected: m.value('smtpsource_recipients_rejected_total'),
    },
    bytes: m.value('smtpsource_message_bytes_total'),
    connections: m.value('smtpsource_connections_total'),
    errors: {
      timeouts: m.value('smtpsource_errors_total', { kind: 'timeout' }),
      lostConnections: m.value('smtpsource_errors_total', { kind: 'lost_connection' }),
      serverClosed: m.value('smtpsource_errors_total', { kind: 'server_closed' }),
      connectFailures: m.value('smtpsource_errors_total', { kind: 'connect_failure' }),
    },
    rejects: {} as Record<string, Record<string, number>>,
  };
  for (const s of m.samples.filter((x) => x.name === 'smtpsource_rejects_total')) {
    (shown.rejects[s.labels.stage] ??= {})[s.labels.code] = s.value;
  }
  expect(shown).toEqual({
    messages: result.messages,
    recipients: result.recipients,
    bytes: result.bytes,
    connections: result.connections.opened,
    errors: result.errors,
    rejects: result.rejects,
  });
}

/** The latency summary against result.latency (milliseconds there, seconds here). */
function expectLatencyOf(m: Scrape, result: SourceResult): void {
  const key = { 0.5: 'p50', 0.9: 'p90', 0.99: 'p99', 0.999: 'p999' } as const;
  for (const phase of PHASES) {
    const want = result.latency[phase];
    expect(m.value('smtpsource_latency_seconds_count', { phase }), phase).toBe(want.count);
    for (const q of LATENCY_QUANTILES) {
      const v = m.value('smtpsource_latency_seconds', { phase, quantile: String(q) });
      if (want.count === 0) expect(v, `${phase} ${q}`).toBeNaN();
      else expect(v! * 1000, `${phase} ${q}`).toBeCloseTo(want[key[q]], 6);
    }
    const sum = m.value('smtpsource_latency_seconds_sum', { phase })!;
    expect(sum * 1000, `${phase} sum`).toBeCloseTo(want.mean * want.count, 1);
  }
}

describe('smtp-source metrics', { timeout: 20_000 }, () => {
  it('a scrape during a run shows it under way; after it, the counts and latency of the result', async () => {
    // DATA waits two seconds at the sink, so the run is caught with both sessions in DATA.
    const sink = await r.sink({ delays: [{ command: 'data', seconds: 2 }] });
    const { run, done, metrics } = await sourceWithMetrics({ target: inet(sink), messages: 4, sessions: 2, recipients: 2, length: 300 });
    await waitFor('both sessions in DATA', () => sink.stats().commands.data === 2, 5000, () => sink.stats());

    const during = (await scrape(metrics.url)).scrape;
    expect(during.value('smtpsource_messages_started_total')).toBe(2);
    expect(during.value('smtpsource_messages_accepted_total')).toBe(0);
    expect(during.value('smtpsource_recipients_sent_total')).toBe(4);
    expect(during.value('smtpsource_connections_total')).toBe(2);
    expect(during.value('smtpsource_latency_seconds_count', { phase: 'rcpt' })).toBe(4);
    expect(during.value('smtpsource_latency_seconds_count', { phase: 'data' })).toBe(0);
    expect(during.value('smtpsource_latency_seconds', { phase: 'data', quantile: '0.5' })).toBeNaN();
    if (typeof (run as { activeSessions?: unknown }).activeSessions === 'number') {
      expect(during.value('smtpsource_sessions_active')).toBe(2);
    } else {
      // SourceRun does not count its sessions publicly yet; the gauge appears once it does.
      expect(during.types.has('smtpsource_sessions_active')).toBe(false);
    }

    const result = await done;
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(4);
    const { scrape: after } = await scrape(metrics.url);
    expectCountsOf(after, result);
    expectLatencyOf(after, result);
    // The sink held DATA for two seconds: the latency is in seconds, not ms or µs.
    expect(after.value('smtpsource_latency_seconds', { phase: 'data', quantile: '0.5' })).toBeGreaterThanOrEqual(2);
    expect(after.value('smtpsource_latency_seconds', { phase: 'data', quantile: '0.5' })).toBeLessThan(4);
    // Both ends count the same message bytes.
    expect(after.value('smtpsource_message_bytes_total')).toBe(sink.stats().bytes);
    expect(after.value('smtpsource_run_info', { run_id: run.runId, target: result.target })).toBe(1);
    await expectTallied(sink, result);
  });

  it('rejects by stage and code, and errors by kind, as the result counts them', async () => {
    const sink = await r.sink({ hardReject: ['rcpt'] });
    const rejected = await sourceWithMetrics({ target: inet(sink), messages: 3, sessions: 1, recipients: 2, allowReject: true });
    const result = await rejected.done;
    expect(result.rejects).toEqual({ rcpt: { '500': 6 } });
    const { scrape: m } = await scrape(rejected.metrics.url);
    expectCountsOf(m, result);
    expectLatencyOf(m, result);
    expect(m.value('smtpsource_rejects_total', { stage: 'rcpt', code: '500' })).toBe(6);
    await expectTallied(sink, result);

    // Nobody listens there: a connect failure, which ends the run.
    const refused = await sourceWithMetrics({ target: `127.0.0.1:${await freePort()}`, messages: 1 });
    const failed = await refused.done;
    expect(failed.errors.connectFailures).toBe(1);
    const { scrape: m2 } = await scrape(refused.metrics.url);
    expectCountsOf(m2, failed);
    expect(m2.value('smtpsource_errors_total', { kind: 'connect_failure' })).toBe(1);
  });

  it('TLS and AUTH counters, only for runs that use them, as the result and the sink count them', async () => {
    const sink = await r.sink({ tls: 'starttls', auth: { mechanisms: ['PLAIN'], users: new Map([['u1', 'secret']]) }, requireAuth: true });
    const good = await sourceWithMetrics({
      target: inet(sink),
      messages: 6,
      sessions: 2,
      tls: { mode: 'starttls', insecure: true },
      auth: { mechanism: 'PLAIN', credentials: [{ user: 'u1', password: 'secret' }] },
    });
    const result = await good.done;
    expect(result.messages.accepted).toBe(6);
    const { scrape: m } = await scrape(good.metrics.url);
    expect(m.value('smtpsource_tls_handshakes_total')).toBe(result.tls!.handshakes);
    expect(m.value('smtpsource_tls_resumed_total')).toBe(result.tls!.resumed);
    expect(m.value('smtpsource_tls_failures_total')).toBe(0);
    expect(m.value('smtpsource_auth_succeeded_total')).toBe(result.auth!.succeeded);
    expect(m.value('smtpsource_auth_failed_total')).toBe(0);
    await expectTallied(sink, result);
    const s = sink.stats();
    expect({ handshakes: m.value('smtpsource_tls_handshakes_total'), auth: m.value('smtpsource_auth_succeeded_total') }).toEqual({ handshakes: s.tlsHandshakes, auth: s.authSuccesses });

    const wrong = await sourceWithMetrics({
      target: inet(sink),
      messages: 2,
      sessions: 1,
      allowReject: true,
      tls: { mode: 'starttls', insecure: true },
      auth: { mechanism: 'PLAIN', credentials: [{ user: 'u1', password: 'wrong' }] },
    });
    const refused = await wrong.done;
    const { scrape: m2 } = await scrape(wrong.metrics.url);
    expect(m2.value('smtpsource_auth_failed_total')).toBe(refused.auth!.failed);
    expect(refused.auth!.failed).toBeGreaterThan(0);

    // A plaintext run has neither.
    const plain = await r.sink();
    const bare = await sourceWithMetrics({ target: inet(plain), messages: 1 });
    await bare.done;
    const { scrape: m3 } = await scrape(bare.metrics.url);
    expect([...m3.types.keys()].filter((n) => /^smtpsource_(tls|auth)_/.test(n))).toEqual([]);
  });

  it('serves the text format with its content type, a summary type, HELP for every metric, and process metrics', async () => {
    const sink = await r.sink();
    const { done, metrics } = await sourceWithMetrics({ target: inet(sink), messages: 5, sessions: 2 });
    await expectTallied(sink, await done);
    const { scrape: m, text, contentType } = await scrape(metrics.url);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text.endsWith('\n')).toBe(true);
    expect(m.types.get('smtpsource_latency_seconds')).toBe('summary');
    expect(m.types.get('smtpsource_run_info')).toBe('gauge');
    for (const name of [...m.types.keys()].filter((n) => n.startsWith('smtpsource_'))) {
      expect(m.help.has(name), `HELP of ${name}`).toBe(true);
      if (name.endsWith('_total')) expect(m.types.get(name), name).toBe('counter');
    }
    // Each phase: four quantiles, _sum and _count.
    expect(m.samples.filter((s) => s.name.startsWith('smtpsource_latency_seconds'))).toHaveLength(PHASES.length * 6);
    expect(m.value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(m.value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);

    const base = `http://127.0.0.1:${metrics.address.port}`;
    const root = await fetch(`${base}/`);
    expect(await root.text()).toBe('smtp-source: Prometheus metrics at /metrics\n');
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    await missing.text();

    // The run is over; the metrics stay until close().
    await metrics.close();
    await expect(fetch(metrics.url, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });

  it('a bad listen address is refused with one line naming --metrics-port', async () => {
    const sink = await r.sink();
    const { run, done } = await startSource({ ...ADDR, target: inet(sink), messages: 1, writeLog: () => undefined });
    await expectTallied(sink, await done);
    await expect(serveSourceMetrics(run, 'nope')).rejects.toThrow(new FatalError('bad metrics address: nope (--metrics-port wants [host:]port, port 0 to 65535)'));
    await expect(serveSourceMetrics(run, 65536)).rejects.toThrow(FatalError);
  });

  const promtool = [process.env.PROMTOOL ?? '', ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'promtool'))]
    .filter((p) => p !== '')
    .find((p) => existsSync(p));
  // In CI (CI=true) a missing promtool fails the test, as every missing peer does.
  it.skipIf(promtool === undefined && !process.env.CI)(
    `promtool check metrics accepts the scrape${promtool === undefined ? ' (skipped: no promtool; apt-get install prometheus, or set PROMTOOL)' : ''}`,
    async () => {
      const sink = await r.sink({ hardReject: ['rcpt'] });
      const { done, metrics } = await sourceWithMetrics({ target: inet(sink), messages: 2, allowReject: true });
      await expectTallied(sink, await done);
      const { text } = await scrape(metrics.url);
      if (promtool === undefined) throw new Error('promtool is not installed (apt-get install prometheus)');
      const res = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 10_000 });
      const out = res.stdout + res.stderr;
      expect(out).not.toMatch(/error while linting|parsing error/);
      // Lint remarks may only concern prom-client's own process metrics, not ours.
      expect(out.split('\n').filter((l) => l.trim() !== '' && !/^nodejs_/.test(l))).toEqual([]);
    },
  );
});
