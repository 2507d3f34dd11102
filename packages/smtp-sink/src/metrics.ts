// Live metrics in Prometheus's text format (--metrics-port). Nothing here runs per message:
// every metric is a prom-client collector whose collect() reads the sink's counters when
// Prometheus scrapes, from one snapshot per scrape so that the numbers agree with each other.
// Process metrics (CPU, memory, event-loop lag, GC) come from prom-client's default set.
// prom-client is loaded on first use: importing it costs some 60 ms that a sink without
// --metrics-port should not pay.
import type { Registry } from '@smtpstone/metrics';
import { loadPromClient, parseMetricsListen, perScrape, processMetricsRegistry, scrapedCounter, serveRegistry, type MetricsListen, type MetricsServer } from '@smtpstone/metrics';
import type { Sink } from './server.js';
import type { SinkStats } from './stats.js';

export { parseMetricsListen, type MetricsListen, type MetricsServer } from '@smtpstone/metrics';

type Read = (s: SinkStats) => number;

/** The sink's metrics (smtpsink_*), read from sink.stats() at scrape time; no process metrics. */
export async function sinkMetricsRegistry(sink: Pick<Sink, 'stats'>): Promise<Registry> {
  const prom = await loadPromClient();
  const { Counter, Gauge, Registry } = prom;
  const registry = new Registry();
  const registers = [registry];
  const stats = perScrape(() => sink.stats());

  const counter = (name: string, help: string, read: Read): void => scrapedCounter(prom, registry, name, help, () => read(stats()));
  const gauge = (name: string, help: string, read: Read): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read(stats()));
      },
    });
  };
  const byLabel = <L extends string>(name: string, help: string, label: L, read: (s: SinkStats) => Record<string, number>): void => {
    new Counter<L>({
      name,
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        for (const [value, n] of Object.entries(read(stats()))) this.inc({ [label]: value } as Record<L, string>, n);
      },
    });
  };

  counter('smtpsink_connections_total', 'Connections accepted.', (s) => s.connections);
  counter('smtpsink_sessions_total', 'Sessions that have ended.', (s) => s.sessions);
  gauge('smtpsink_sessions_active', 'Sessions being served now.', (s) => s.active);
  gauge('smtpsink_connections_waiting', 'Clients accepted beyond -m, waiting for a slot with no banner yet.', (s) => s.waiting);
  gauge('smtpsink_connections_waiting_peak', 'Most clients that ever had to wait for a slot at once.', (s) => s.peakWaiting);
  counter('smtpsink_quits_total', 'QUIT commands.', (s) => s.quits);
  counter('smtpsink_messages_total', 'Messages whose end of data was seen.', (s) => s.messages);
  counter('smtpsink_messages_accepted_total', 'Messages whose end of data got a 2xx reply.', (s) => s.messagesAccepted);
  counter('smtpsink_recipients_total', 'Recipients accepted (RCPT answered 250).', (s) => s.recipients);
  counter('smtpsink_message_bytes_total', 'Message bytes received between the 354 and the final ".", as on the wire.', (s) => s.bytes);
  byLabel('smtpsink_commands_total', 'Commands received, by name ("unknown" for the rest, "empty" for blank lines).', 'command', (s) => s.commands);
  byLabel('smtpsink_rejects_total', 'Replies with a 4xx or 5xx code that refused a command, by code.', 'code', (s) => s.rejects);
  counter('smtpsink_fault_disconnects_total', 'Sessions dropped for -q, or closed for -Q or -A.', (s) => s.faultDisconnects);
  counter('smtpsink_timeouts_total', 'Sessions that timed out waiting for the client (-t).', (s) => s.timeouts);
  counter('smtpsink_connections_over_fd_limit_total', 'Connections closed unanswered at the file descriptor limit (ulimit -n).', (s) => s.overFdLimit);
  counter('smtpsink_deadlines_total', 'Sessions cut for a command line not whole within -t, or content slower than --min-data-rate.', (s) => s.deadlines);
  counter('smtpsink_long_lines_total', 'Command lines longer than the limit (answered 500).', (s) => s.longLines);
  counter('smtpsink_out_of_order_total', 'Commands answered 503 for coming out of order.', (s) => s.outOfOrder);
  counter('smtpsink_lost_in_data_total', 'Clients that went away in the middle of DATA.', (s) => s.lostInData);
  counter('smtpsink_socket_errors_total', 'Connections that ended with a socket error (reset and the like).', (s) => s.socketErrors);
  counter('smtpsink_dumps_total', 'Dump files written (-d, -D).', (s) => s.dumps);
  counter('smtpsink_dump_errors_total', 'Dump writes that failed (the message was still acknowledged).', (s) => s.dumpErrors);
  counter('smtpsink_tls_handshakes_total', 'TLS handshakes completed (STARTTLS or --tls).', (s) => s.tlsHandshakes);
  counter('smtpsink_tls_failures_total', 'TLS handshakes that failed (a bad ClientHello, a hang-up, a stall past -t).', (s) => s.tlsFailures);
  byLabel('smtpsink_tls_protocols_total', 'Completed TLS handshakes by protocol.', 'protocol', (s) => s.tlsProtocols);
  counter('smtpsink_starttls_discarded_total', 'STARTTLS commands with input pipelined behind them, discarded unread (CVE-2011-0411).', (s) => s.starttlsDiscarded);
  counter('smtpsink_auth_successes_total', 'AUTH exchanges answered 235 (real AUTH only).', (s) => s.authSuccesses);
  counter('smtpsink_auth_failures_total', 'AUTH exchanges answered 535 (real AUTH only).', (s) => s.authFailures);
  counter('smtpsink_smtputf8_messages_total', 'Messages whose MAIL carried SMTPUTF8 (--smtputf8).', (s) => s.smtputf8Messages);
  gauge('smtpsink_start_time_seconds', 'When the sink started listening, seconds since the epoch.', (s) => s.startedAt / 1000);
  gauge('smtpsink_uptime_seconds', 'Seconds since the sink started listening.', (s) => s.elapsedMs / 1000);
  return registry;
}

/**
 * Serves the sink's metrics and the process metrics on `listen` ("[host:]port", loopback
 * unless a host is given). Close it when the sink closes; the CLI does (--metrics-port).
 */
export async function serveSinkMetrics(sink: Pick<Sink, 'stats'>, listen: MetricsListen): Promise<MetricsServer> {
  parseMetricsListen(listen);
  const { Registry } = await loadPromClient();
  return serveRegistry(Registry.merge([await sinkMetricsRegistry(sink), await processMetricsRegistry()]), listen, 'smtp-sink');
}
