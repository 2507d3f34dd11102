// Prometheus exposition shared by smtp-sink and smtp-source (--metrics-port): the HTTP
// listener that serves a registry, the flag's address form, and the process metrics. Each tool
// builds its own registry of collectors that read its counters at scrape time; nothing here
// runs per message. prom-client is loaded on first use: importing it costs some 60 ms that a
// run without --metrics-port should not pay.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { EndpointError, FatalError, formatEndpoint, parseListenEndpoint, strerror, type Endpoint } from '@smtpstone/core';

/** Where metrics are served: "[host:]port" (a bare port means 127.0.0.1), or a port number. */
export type MetricsListen = string | number;

export interface MetricsServer {
  /** The HTTP listener's address; for port 0 the port the system picked. */
  readonly address: Endpoint & { kind: 'inet' };
  /** http://host:port/metrics */
  readonly url: string;
  /** Stops serving: idle connections close at once, a scrape under way gets a second. */
  close(): Promise<void>;
}

/**
 * Parses --metrics-port: `port` (on 127.0.0.1), `host:port`, `[ipv6]:port`, or `:port` for
 * every address. Throws a one-line FatalError naming `flag`.
 */
export function parseMetricsListen(spec: MetricsListen, flag = '--metrics-port'): { host: string; port: number } {
  const text = String(spec);
  const bad = (): FatalError => new FatalError(`bad metrics address: ${text === '' ? '""' : text} (${flag} wants [host:]port, port 0 to 65535)`);
  if (/^\d+$/.test(text)) {
    if (Number(text) > 65535) throw bad();
    return { host: '127.0.0.1', port: Number(text) };
  }
  if (text.startsWith('unix:')) throw bad();
  let ep: Endpoint;
  try {
    ep = parseListenEndpoint(text);
  } catch (err) {
    if (err instanceof EndpointError) throw bad();
    throw err;
  }
  if (ep.kind !== 'inet' || /[\s/]/.test(ep.host)) throw bad();
  return { host: ep.host, port: ep.port };
}

/**
 * Serves a registry over HTTP: GET /metrics (the registry's text format and content type),
 * GET / (a line pointing there), 404 for any other path, 405 for other methods.
 */
export async function serveRegistry(
  registry: Pick<Registry, 'metrics' | 'contentType'>,
  listen: MetricsListen,
  title: string,
): Promise<MetricsServer> {
  const { host, port } = parseMetricsListen(listen);
  const server = createServer((req, res) => void answer(req, res));
  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').replace(/\?.*$/s, '');
    if (path !== '/' && path !== '/metrics') return send(res, 404, 'not found: metrics are at /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'method not allowed: use GET\n');
    }
    if (path === '/') return send(res, 200, `${title}: Prometheus metrics at /metrics\n`);
    let body: string;
    try {
      body = await registry.metrics();
    } catch (err) {
      return send(res, 500, `collecting metrics failed: ${(err as Error).message}\n`);
    }
    send(res, 200, body, registry.contentType);
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void =>
      reject(new FatalError(`metrics: bind ${host === '' ? '*' : host} port ${port}: ${strerror(err)}`));
    server.once('error', onError);
    server.listen({ host: host === '' ? undefined : host, port }, () => {
      server.off('error', onError);
      server.on('error', () => undefined);
      resolve();
    });
  });
  const a = server.address();
  if (a === null || typeof a === 'string') throw new FatalError('metrics listener has no address');
  const address = { kind: 'inet' as const, host: a.address, port: a.port };
  let closing: Promise<void> | undefined;
  return {
    address,
    url: `http://${formatEndpoint(address)}/metrics`,
    close() {
      closing ??= new Promise((resolve) => {
        const cut = setTimeout(() => server.closeAllConnections(), 1000);
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

function send(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

type PromClient = typeof import('prom-client');
let promClient: Promise<PromClient> | undefined;

/** prom-client, imported once on first use. */
export function loadPromClient(): Promise<PromClient> {
  promClient ??= import('prom-client');
  return promClient;
}

let processRegistry: Registry | undefined;

/**
 * process_* and nodejs_* metrics, registered once per process: the default collectors start
 * an event-loop monitor and a GC observer that cannot be stopped, so they are not made anew
 * for every sink.
 */
export async function processMetricsRegistry(): Promise<Registry> {
  const { collectDefaultMetrics, Registry } = await loadPromClient();
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** Calls read() once per scrape: every collect() of one scrape runs in the same tick. */
export function perScrape<T>(read: () => T): () => T {
  let cached: T | undefined;
  return () => {
    if (cached === undefined) {
      cached = read();
      queueMicrotask(() => (cached = undefined));
    }
    return cached;
  };
}

/**
 * A counter that shows read() at every scrape: nothing is counted twice, the tools' own
 * counters are the truth (prom-client must be loaded: loadPromClient()).
 */
export function scrapedCounter(prom: PromClient, registry: Registry, name: string, help: string, read: () => number): void {
  new prom.Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

export type { Registry, Summary } from 'prom-client';
