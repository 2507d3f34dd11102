// Live metrics of a run in Prometheus's text format (--metrics-port). Nothing here runs per
// message: every metric is a prom-client collector that reads run.counters and
// run.histograms when Prometheus scrapes. Latency is a summary per phase whose quantiles come
// from the run's own HDR histograms, so they are the numbers the final report gives.
// Process metrics (CPU, memory, event-loop lag, GC) come from prom-client's default set:
// a load generator that is out of CPU measures itself, not the server.
import type { Registry, Summary as PromSummary } from '@smtpstone/metrics';
import { loadPromClient, parseMetricsListen, processMetricsRegistry, scrapedCounter, serveRegistry, type MetricsListen, type MetricsServer } from '@smtpstone/metrics';
import { formatEndpoint } from '@smtpstone/core';
import type { SourceRun } from './engine.js';
import type { SourceCounters } from './counters.js';
import { PHASES } from './histograms.js';

export { parseMetricsListen, type MetricsListen, type MetricsServer } from '@smtpstone/metrics';

/** The quantiles of smtpsource_latency_seconds. */
export const LATENCY_QUANTILES = [0.5, 0.9, 0.99, 0.999] as const;

const ERROR_KINDS = [
  ['timeout', (c: SourceCounters) => c.timeouts],
  ['lost_connection', (c: SourceCounters) => c.lostConnections],
  ['server_closed', (c: SourceCounters) => c.serverClosed],
  ['connect_failure', (c: SourceCounters) => c.connectFailures],
] as const;

/** The run's metrics (smtpsource_*), read from the run at scrape time; no process metrics. */
export async function sourceMetricsRegistry(run: SourceRun): Promise<Registry> {
  const prom = await loadPromClient();
  const { Counter, Gauge, Registry, Summary } = prom;
  const registry = new Registry();
  const registers = [registry];
  const c = run.counters;

  const counter = (name: string, help: string, read: (c: SourceCounters) => number): void => scrapedCounter(prom, registry, name, help, () => read(c));

  counter('smtpsource_messages_started_total', 'Messages taken from the pool.', (c) => c.messagesStarted);
  counter('smtpsource_messages_sent_total', 'Messages whose final "." was sent.', (c) => c.messagesSent);
  counter('smtpsource_messages_accepted_total', 'Messages the server accepted.', (c) => c.messagesAccepted);
  counter('smtpsource_messages_rejected_total', 'Messages the server refused.', (c) => c.messagesRejected);
  counter('smtpsource_messages_failed_total', 'Messages that never got an answer (lost connection, timeout).', (c) => c.messagesFailed);
  counter('smtpsource_recipients_sent_total', 'RCPT commands sent.', (c) => c.recipientsSent);
  counter('smtpsource_recipients_accepted_total', 'Recipients the server accepted.', (c) => c.recipientsAccepted);
  counter('smtpsource_recipients_rejected_total', 'Recipients the server refused.', (c) => c.recipientsRejected);
  counter('smtpsource_message_bytes_total', 'Message bytes sent in DATA (dot-stuffed, without the final ".").', (c) => c.bytesSent);
  counter('smtpsource_connections_total', 'Connections opened.', (c) => c.connectionsOpened);
  const plainCounter = (name: string, help: string, read: () => number): void => scrapedCounter(prom, registry, name, help, read);
  // TLS and AUTH, when the run uses them.
  const tls = run.tlsCounters;
  if (run.options.tls !== undefined) {
    plainCounter('smtpsource_tls_handshakes_total', 'TLS handshakes completed (--starttls, --tls).', () => tls.handshakes);
    plainCounter('smtpsource_tls_resumed_total', 'TLS handshakes that resumed an earlier session (--tls-session-reuse).', () => tls.resumed);
    plainCounter('smtpsource_tls_failures_total', 'TLS handshakes that failed, and sessions refused TLS when it was required.', () => tls.failures);
  }
  const auth = run.authCounters;
  if (run.options.auth !== undefined) {
    plainCounter('smtpsource_auth_succeeded_total', 'AUTH exchanges the server accepted (235).', () => auth.succeeded);
    plainCounter('smtpsource_auth_failed_total', 'AUTH exchanges the server refused.', () => auth.failed);
  }
  new Counter({
    name: 'smtpsource_errors_total',
    help: 'Connections that failed, by kind: timeout, lost_connection, server_closed (421/521), connect_failure.',
    labelNames: ['kind'],
    registers,
    collect() {
      this.reset();
      for (const [kind, read] of ERROR_KINDS) this.inc({ kind }, read(c));
    },
  });
  new Counter({
    name: 'smtpsource_rejects_total',
    help: 'Unexpected replies, by protocol stage and reply code.',
    labelNames: ['stage', 'code'],
    registers,
    collect() {
      this.reset();
      for (const [stage, byCode] of c.rejects) for (const [code, n] of byCode) this.inc({ stage, code }, n);
    },
  });

  // The sessions of a run are private to SourceRun; when it offers a count, show it.
  const live = run as { readonly activeSessions?: unknown };
  if (typeof live.activeSessions === 'number') {
    new Gauge({
      name: 'smtpsource_sessions_active',
      help: 'Sessions of the run still going (connected, connecting or waiting).',
      registers,
      collect() {
        this.set(live.activeSessions as number);
      },
    });
  }

  new Gauge({
    name: 'smtpsource_run_info',
    help: 'The run: its id (as in X-Smtpstone-Id and the journal) and its target.',
    labelNames: ['run_id', 'target'],
    registers,
    collect() {
      this.reset();
      const target = run.endpoint !== undefined ? formatEndpoint(run.endpoint) : String(run.options.target);
      this.set({ run_id: run.runId, target }, 1);
    },
  });

  // A summary whose quantiles are read from the HDR histograms (microseconds) at scrape
  // time. _sum is count x mean: exact to the histograms' 3 significant digits.
  // 'quantile' is a label of the values only (prom-client refuses it as a label name).
  type Values = Awaited<ReturnType<PromSummary<'phase' | 'quantile'>['get']>>;
  class PhaseLatency extends Summary<'phase' | 'quantile'> {
    override async get(): Promise<Values> {
      const base = await super.get();
      const values: typeof base.values = [];
      for (const phase of PHASES) {
        const h = run.histograms.byPhase.get(phase)!;
        const n = h.totalCount;
        for (const q of LATENCY_QUANTILES) {
          values.push({ labels: { phase, quantile: q }, value: n > 0 ? h.getValueAtPercentile(q * 100) / 1e6 : NaN });
        }
        values.push({ metricName: `${base.name}_sum`, labels: { phase }, value: n > 0 ? (h.mean * n) / 1e6 : 0 });
        values.push({ metricName: `${base.name}_count`, labels: { phase }, value: n });
      }
      return { ...base, values };
    }
  }
  new PhaseLatency({
    name: 'smtpsource_latency_seconds',
    help: 'Latency per protocol phase (connect, banner, helo, mail, rcpt, data, dot, rset, quit) and per message, from HDR histograms.',
    labelNames: ['phase'],
    percentiles: [...LATENCY_QUANTILES],
    registers,
  });
  return registry;
}

/**
 * Serves the run's metrics and the process metrics on `listen` ("[host:]port", loopback unless
 * a host is given) until close(); the run ending does not close it.
 */
export async function serveSourceMetrics(run: SourceRun, listen: MetricsListen): Promise<MetricsServer> {
  parseMetricsListen(listen);
  const { Registry } = await loadPromClient();
  return serveRegistry(Registry.merge([await sourceMetricsRegistry(run), await processMetricsRegistry()]), listen, 'smtp-source');
}
