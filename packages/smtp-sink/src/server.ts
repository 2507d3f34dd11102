// The listener: binds the endpoint, hands each connection to a session, holds clients
// beyond -m until a slot frees, and stops at -M/-n.
//
// Node cannot stop accepting on a listening socket without closing it (which would reset
// every client in the kernel's backlog), so clients beyond -m are accepted and held paused,
// unread and with no banner, until a session ends. To the client this is what the C sink's
// kernel backlog looks like; it costs us one file descriptor per waiting client.
//
// At the file descriptor limit (ulimit -n) accept() fails with EMFILE, and libuv then accepts
// and closes connections unseen to keep the backlog moving: nothing would count them. So the
// server's maxConnections is set just under what the limit leaves, and Node closes the excess
// itself and says so ('drop'), which is counted (overFdLimit) and warned about.
import { EventEmitter } from 'node:events';
import { chmodSync, lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { lookup } from 'node:dns/promises';
import { Diagnostics, FatalError, openFileLimit, parseListenEndpoint, strerror, type Endpoint } from '@smtpstone/core';
import { buildContext, type SinkContext } from './context.js';
import { resolveSinkOptions, type SinkOptions, type SinkOptionsInput } from './options.js';
import { SinkSession } from './session.js';
import { SinkCounters, type SinkStats } from './stats.js';
import { loadTls, selfSignedTls, type SinkTls } from './tls.js';

export interface Sink {
  /** Where the sink listens; for port 0 the port the system picked. */
  readonly address: Endpoint;
  readonly options: SinkOptions;
  /** With TLS configured: the certificate in use (PEM), its SHA-256 fingerprint, and whether it was generated. */
  readonly tls: { cert: string; fingerprint256: string; selfSigned: boolean } | undefined;
  /** A snapshot of the counters. */
  stats(): SinkStats;
  /** Resolves with the reason when -M or -n is reached. */
  readonly done: Promise<string>;
  /**
   * Stops listening and resolves with the final counters. Clients still connected get up to
   * `graceMs` to finish: each may still QUIT, any other command is answered 421. Then the
   * rest are dropped.
   */
  close(graceMs?: number): Promise<SinkStats>;
  on(event: 'message' | 'session-end', listener: () => void): this;
}

class SinkServer extends EventEmitter implements Sink {
  address!: Endpoint;
  readonly counters = new SinkCounters();
  readonly done: Promise<string>;
  private resolveDone!: (reason: string) => void;
  private finished = false;
  private readonly server: Server;
  private readonly sessions = new Set<SinkSession>();
  private readonly waiting: Socket[] = [];
  private readonly ctx: SinkContext;
  private closing: Promise<SinkStats> | undefined;
  /** The connection cap the descriptor limit allows (undefined: none found). */
  private fdCap: { limit: number; connections: number } | undefined;
  private lastDropWarning = 0;

  readonly tls: Sink['tls'];

  constructor(
    readonly options: SinkOptions,
    tls: SinkTls | undefined,
  ) {
    super();
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.tls = tls === undefined ? undefined : { cert: tls.cert, fingerprint256: tls.fingerprint256, selfSigned: tls.selfSigned };
    this.ctx = buildContext(
      options,
      this.counters,
      {
        onMessage: () => this.emit('message'),
        limitReached: (reason) => this.finish(reason),
      },
      tls,
    );
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  async listen(): Promise<void> {
    const o = this.options;
    const ep = typeof o.listen === 'string' ? parseListenEndpoint(o.listen) : o.listen;
    if (ep.kind === 'unix') {
      removeStaleSocket(ep.path);
      await this.bind({ path: ep.path, backlog: o.backlog }, `bind: ${ep.path}`);
      chmodSync(ep.path, 0o666);
      this.address = ep;
      this.capConnections();
      return;
    }
    let host = ep.host;
    if (host === '') {
      host = o.family === 'ipv4' ? '0.0.0.0' : o.family === 'ipv6' ? '::' : '';
    } else {
      const family = o.family === 'ipv4' ? 4 : o.family === 'ipv6' ? 6 : 0;
      try {
        host = (await lookup(host, { family })).address;
      } catch (err) {
        throw new FatalError(`${ep.host}: ${(err as NodeJS.ErrnoException).code === 'ENOTFOUND' ? 'Name or service not known' : (err as Error).message}`);
      }
    }
    await this.bind(
      { host: host === '' ? undefined : host, port: ep.port, backlog: o.backlog, ipv6Only: host.includes(':') && o.family === 'ipv6' },
      `bind ${host === '' ? '*' : host} port ${ep.port}`,
    );
    const a = this.server.address();
    if (a === null || typeof a === 'string') throw new FatalError('listener has no address');
    this.address = { kind: 'inet', host: a.address, port: a.port };
    this.capConnections();
  }

  /** Caps connections at what RLIMIT_NOFILE leaves, so that the excess is closed and counted. */
  private capConnections(): void {
    this.fdCap = connectionCap(this.options);
    if (this.fdCap === undefined) return;
    this.server.maxConnections = this.fdCap.connections;
    this.server.on('drop', () => {
      this.counters.overFdLimit++;
      const now = Date.now();
      if (now - this.lastDropWarning < 10_000) return;
      this.lastDropWarning = now;
      this.ctx.log.warning(
        `at the file descriptor limit (ulimit -n ${this.fdCap!.limit}: ${this.fdCap!.connections} connections): ` +
          `${this.counters.overFdLimit} connections closed unanswered so far`,
      );
    });
  }

  private bind(opts: Parameters<Server['listen']>[0], what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => reject(new FatalError(`${what}: ${strerror(err)}`));
      this.server.once('error', onError);
      this.server.listen(opts, () => {
        this.server.off('error', onError);
        // Past binding, an accept error (EMFILE, say) must not stop the sink.
        this.server.on('error', (err) => this.ctx.log.warning(`listener: ${err.message}`));
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    this.counters.connections++;
    if (this.finished) {
      socket.destroy();
      return;
    }
    if (this.sessions.size >= this.options.maxClients) {
      socket.pause();
      this.waiting.push(socket);
      this.counters.waiting = this.waiting.length;
      this.counters.peakWaiting = Math.max(this.counters.peakWaiting, this.waiting.length);
      socket.once('close', () => this.forgetWaiting(socket));
      socket.on('error', () => undefined);
      return;
    }
    this.serve(socket);
  }

  private serve(socket: Socket): void {
    const session = new SinkSession(socket, this.ctx, (s) => this.sessionEnded(s));
    this.sessions.add(session);
    this.counters.active = this.sessions.size;
    session.start();
  }

  private forgetWaiting(socket: Socket): void {
    const i = this.waiting.indexOf(socket);
    if (i >= 0) {
      this.waiting.splice(i, 1);
      this.counters.waiting = this.waiting.length;
    }
  }

  private sessionEnded(session: SinkSession): void {
    this.sessions.delete(session);
    this.counters.sessions++;
    this.counters.active = this.sessions.size;
    this.emit('session-end');
    const max = this.options.maxSessions;
    if (max !== undefined && this.counters.sessions >= max) this.finish(`${max} sessions ended`);
    while (!this.finished && this.waiting.length > 0 && this.sessions.size < this.options.maxClients) {
      const next = this.waiting.shift()!;
      this.counters.waiting = this.waiting.length;
      if (next.destroyed) continue;
      next.removeAllListeners('close');
      next.removeAllListeners('error');
      // Resumed before the session takes it: with --tls the session pauses it again at once
      // and hands what it holds (the ClientHello) to the TLS layer.
      next.resume();
      this.serve(next);
    }
  }

  private finish(reason: string): void {
    if (this.finished) return;
    this.finished = true;
    this.resolveDone(reason);
  }

  stats(): SinkStats {
    return this.counters.snapshot();
  }

  close(graceMs = 0): Promise<SinkStats> {
    this.closing ??= new Promise((resolve) => {
      this.finished = true;
      this.ctx.draining = true;
      for (const s of this.waiting) s.destroy();
      const listenerClosed = new Promise<void>((done) => this.server.close(() => done()));
      const sessionsGone = new Promise<void>((done) => {
        if (this.sessions.size === 0) return done();
        const timer = setTimeout(() => {
          for (const s of [...this.sessions]) s.destroy();
        }, graceMs);
        const check = (): void => {
          if (this.sessions.size > 0) return;
          clearTimeout(timer);
          this.off('session-end', check);
          done();
        };
        this.on('session-end', check);
      });
      void Promise.all([listenerClosed, sessionsGone]).then(() => resolve(this.stats()));
      if (this.address?.kind === 'unix') {
        try {
          unlinkSync(this.address.path);
        } catch {
          // Someone removed it already.
        }
      }
    });
    return this.closing;
  }
}

function removeStaleSocket(path: string): void {
  try {
    lstatSync(path);
  } catch {
    return;
  }
  try {
    unlinkSync(path);
  } catch (err) {
    throw new FatalError(`remove ${path}: ${strerror(err as NodeJS.ErrnoException)}`);
  }
}

/** Descriptors kept free for what is not a connection: files, the metrics listener, logs. */
const SPARE_DESCRIPTORS = 32;

/**
 * How many connections the soft RLIMIT_NOFILE leaves room for, with the descriptors open now
 * and a spare set aside; a dump file per message (-d, -D) doubles a connection's cost.
 * Undefined where /proc does not tell.
 */
function connectionCap(o: SinkOptions): { limit: number; connections: number } | undefined {
  const limit = openFileLimit();
  if (limit === undefined) return undefined;
  let open: number;
  try {
    open = readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
  const perConnection = o.dumpTemplate !== undefined || o.sharedDumpTemplate !== undefined ? 2 : 1;
  return { limit, connections: Math.max(1, Math.floor((limit - open - SPARE_DESCRIPTORS) / perConnection)) };
}

/** Starts a sink and resolves once it listens. */
export async function startSink(input: SinkOptionsInput): Promise<Sink> {
  const options = resolveSinkOptions(input);
  let tls: SinkTls | undefined;
  if (options.tls !== undefined) {
    if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
      throw new FatalError(options.tlsCert === undefined ? '--tls-key needs --tls-cert' : '--tls-cert needs --tls-key');
    }
    if (options.tlsCert !== undefined) {
      tls = loadTls(options.tlsCert, options.tlsKey!);
    } else {
      tls = await selfSignedTls(options.hostname);
      new Diagnostics(options.program, options.writeLog).info(
        `no --tls-cert: using a self-signed certificate for ${options.hostname}, SHA-256 fingerprint ${tls.fingerprint256}`,
      );
    }
  }
  const sink = new SinkServer(options, tls);
  await sink.listen();
  return sink;
}
