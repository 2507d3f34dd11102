// A run of smtp-source: the pool of messages, the sessions that send them, the one-at-a-time
// connect queue, waits between messages, and the counting. runSource() is the API; the CLI
// is a thin shell over it.
import { EventEmitter } from 'node:events';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { createSecureContext, type SecureContext } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { Diagnostics, FatalError, formatEndpoint, openFileLimit, parseConnectEndpoint, perSecond, type Endpoint } from '@smtpstone/core';
import { phaseSummary } from '@smtpstone/results';
import { makeSystemRecord, Sampler, type SystemRecord } from '@smtpstone/sampler';
import { SourceCounters, TlsCounters, type ExtensionRecord, type SourceResult } from './counters.js';
import { GeneratorMonitor, type GeneratorRecord } from './generator.js';
import { PhaseHistograms } from './histograms.js';
import { Journal, type JournalEntry } from './journal.js';
import { DEFAULT_BODY, fileBody, fileBodyRaw, HeaderBuilder, lengthBody, newRunId } from './message.js';
import { EARLY_START_MS, NOT_YET, OpenModel } from './open-model.js';
import { resolveSourceOptions, type SourceOptions, type SourceOptionsInput } from './options.js';
import { checkStages, type RateStage } from './schedule.js';
import { SourceSession } from './session.js';

/** How long a fatal stop waits for the replies to ends of data already sent. */
const HALT_GRACE_MS = 2000;
/** Descriptors a run needs besides its sessions (Node itself, the journal, the sampler, metrics). */
const SPARE_DESCRIPTORS = 24;


export interface RunHooks {
  /** Where --journal goes. */
  journalPath?: string;
}

export interface MessageEvent {
  seq: number;
  session: number;
  status: 'accepted' | 'rejected' | 'failed';
  code: number;
  queueId?: string;
}

/** Parts of a transaction the run needs when a message ends (see session.ts). */
interface EndedTransaction {
  seq: number;
  startMs: number;
  /** Open model: when the message was due (performance.now() clock), and its stage; else -1. */
  dueMs: number;
  stage: number;
  recipients: string[];
  queueId: string | undefined;
  lmtp: { code: number; reply: string; queueId?: string }[] | undefined;
  /** Sent with BDAT rather than DATA. */
  bdat: boolean;
}

export class SourceRun extends EventEmitter {
  readonly counters = new SourceCounters();
  readonly histograms = new PhaseHistograms();
  readonly log: Diagnostics;
  endpoint!: Endpoint;
  readonly myHostname: string;
  readonly sender: string;
  private readonly recipient: string;
  readonly body: Buffer;
  /** --bdat: the body as BDAT carries it (not dot-stuffed); the same Buffer when nothing needs stuffing. */
  readonly rawBody: Buffer;
  /** With --bdat, --smtputf8, --size, --dsn or --8bitmime: what the extensions did. */
  readonly extensionCounters: ExtensionRecord = {
    bdatMessages: 0,
    bdatFallbacks: 0,
    smtputf8NotOffered: 0,
    sizeSent: 0,
    dsnSent: 0,
    eightBitMimeSent: 0,
    eightBitMimeNotOffered: 0,
  };
  /** Warnings given once per run (CHUNKING not offered, ...). */
  readonly warnedOnce = new Set<string>();
  private readonly headers: HeaderBuilder | undefined;
  readonly runId = newRunId();
  /** With TLS: what the handshakes gave. */
  readonly tlsCounters = new TlsCounters();
  /** With AUTH: attempts, successes and failures. */
  readonly authCounters = { attempts: 0, succeeded: 0, failed: 0 };
  /** With TLS: one context for every connection (the CAs and the lowest version). */
  readonly secureContext: SecureContext | undefined;
  /** --tls-session-reuse: the latest session (ticket) the server gave, offered on new connections. */
  tlsSession: Buffer | undefined;
  /** The target's host name when it is a name (SNI and the name checked, unless --tls-servername). */
  private targetName: string | undefined;
  private claimed = 0;
  /** --shard: this copy's messages are numbered from seqOffset + 1. */
  private readonly seqOffset: number;
  private recipientCounter = 0;
  private dots = 0;
  private readonly deadline: number | undefined;
  private stopping = false;
  private fatalMessage: string | undefined;
  private interrupted = false;
  private readonly sessions = new Set<SourceSession>();
  private readonly connectQueue: SourceSession[] = [];
  private connecting = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly startedWall = Date.now();
  private readonly startedMs = performance.now();
  /** Open model: the schedule's time 0, when start() ran (after the name lookup). */
  private originMs = this.startedMs;
  private endedMs: number | undefined;
  private readonly journal: Journal | undefined;
  /** --sample: reads /proc from the first connect to the end of the run. */
  private readonly sampler: Sampler | undefined;
  private samplingStarted = false;
  private system: SystemRecord | undefined;
  /** The open model (--rate, --ramp, --stages), or undefined for the closed one. */
  readonly open: OpenModel | undefined;
  /** Open model: sessions between messages, waiting to be given the next one due. */
  private readonly parkedConnected: SourceSession[] = [];
  private readonly parkedIdle: SourceSession[] = [];
  private dispatchTimer: NodeJS.Timeout | undefined;
  private dispatching = false;
  private nextSessionId = 1;
  /** Open model: due time (performance.now() clock) and stage of the message last claimed; -1 otherwise. */
  claimedDueMs = -1;
  claimedStage = -1;
  /** smtp-source's own event-loop delay and CPU, over every run. */
  private generatorMonitor: GeneratorMonitor | undefined;
  private generator: GeneratorRecord | undefined;
  private resolveDone!: (r: SourceResult) => void;
  readonly done = new Promise<SourceResult>((resolve) => (this.resolveDone = resolve));

  constructor(
    readonly options: SourceOptions,
    hooks: RunHooks = {},
  ) {
    super();
    const o = options;
    this.log = new Diagnostics(o.program, o.writeLog);
    this.myHostname = o.myHostname ?? hostname();
    this.sender = o.sender ?? `foo@${this.myHostname}`;
    this.recipient = o.recipient ?? `foo@${this.myHostname}`;
    this.body = o.messageFile !== undefined ? fileBody(o.messageFile) : o.length > 0 ? lengthBody(o.length) : DEFAULT_BODY;
    // Generated bodies have no line starting with '.': only a -F file differs unstuffed.
    this.rawBody = o.bdat !== undefined && o.messageFile !== undefined ? fileBodyRaw(o.messageFile) : this.body;
    if (o.bdat !== undefined) {
      const n = o.bdat.chunkSize;
      if (n !== undefined && (!Number.isInteger(n) || n <= 0)) throw new RangeError('bdat.chunkSize must be a whole number greater than 0');
      if (o.oldMode) throw new RangeError('bdat cannot be used with oldMode (no EHLO)');
    }
    if (!o.smtputf8) {
      for (const [v, flag] of [[o.sender, 'sender'], [o.recipient, 'recipient']] as const) {
        if (v !== undefined && /[^\x00-\x7f]/.test(v)) throw new RangeError(`${flag} ${v} is not ASCII: it needs smtputf8`);
      }
    }
    if ((o.smtputf8 || o.size || o.dsn || o.eightBitMime) && o.oldMode) throw new RangeError('smtputf8, size, dsn and eightBitMime cannot be used with oldMode (no EHLO)');
    if (!o.oldMode && o.messageFile === undefined) {
      this.headers = new HeaderBuilder({
        sender: this.sender,
        recipient: this.recipient,
        myHostname: this.myHostname,
        subject: o.subject,
        tracking: o.trackingHeaders,
        runId: this.runId,
        date: new Date(),
      });
    }
    this.deadline = o.durationMs !== undefined ? this.startedMs + o.durationMs : undefined;
    this.seqOffset = o.shard !== undefined ? o.shard.firstSeq - 1 : 0;
    // -N: a shard numbers its recipients on from where the copies before it end.
    this.recipientCounter = this.seqOffset * o.recipients;
    this.open = openModel(o);
    if (o.tls !== undefined) {
      if (o.tls.mode === 'implicit' && o.tls.required === false) throw new RangeError('tls.required applies to STARTTLS only');
      if (o.tls.mode === 'starttls' && o.oldMode) throw new RangeError('STARTTLS cannot be used with oldMode (no EHLO)');
      this.secureContext = createSecureContext({ ca: o.tls.ca, minVersion: o.tls.minVersion });
    }
    if (o.auth !== undefined) {
      if (o.auth.credentials.length === 0) throw new RangeError('auth needs at least one user');
      if (o.oldMode) throw new RangeError('auth cannot be used with oldMode (no EHLO)');
    }
    if (hooks.journalPath !== undefined) this.journal = new Journal(hooks.journalPath);
    if (o.sample !== undefined) {
      const { intervalMs, devices, procRoot } = o.sample;
      // Throws a RangeError for a bad interval, before anything starts.
      this.sampler = new Sampler({
        intervalMs,
        devices,
        procRoot,
        onSample: (sample) => {
          if (this.listenerCount('sample') > 0) this.emit('sample', sample);
        },
      });
    }
  }

  async resolveTarget(): Promise<void> {
    const o = this.options;
    const ep = typeof o.target === 'string' ? parseConnectEndpoint(o.target) : o.target;
    if (ep.kind === 'unix') {
      this.endpoint = ep;
      return;
    }
    this.targetName = isIP(ep.host.replace(/^\[|\]$/g, '')) === 0 ? ep.host : undefined;
    try {
      // Only the first address, as the original: no fallback to the next one.
      const family = o.family === 'ipv4' ? 4 : o.family === 'ipv6' ? 6 : 0;
      const { address } = await lookup(ep.host, { family });
      this.endpoint = { kind: 'inet', host: address, port: ep.port };
    } catch {
      throw new FatalError(`${ep.host}:${ep.port}: Name or service not known`);
    }
  }

  /** ulimit -n, read at the start (past it, not even /proc can be read). */
  fdLimit: number | undefined;

  start(): void {
    this.generatorMonitor = new GeneratorMonitor();
    this.originMs = performance.now();
    // A session is a descriptor; Node, the journal and the sampler need some of their own.
    this.fdLimit = openFileLimit();
    if (this.fdLimit !== undefined && this.options.sessions + SPARE_DESCRIPTORS > this.fdLimit) {
      this.log.warning(`-s ${this.options.sessions} sessions, but ulimit -n is ${this.fdLimit}: connects past the limit fail (raise ulimit -n)`);
    }
    // Reply timeouts: one sweep for all sessions (see SourceSession.checkTimeout).
    const step = Math.min(1000, Math.max(50, (this.options.timeoutSeconds * 1000) / 10));
    this.sweep = setInterval(() => {
      const now = performance.now();
      for (const s of this.sessions) s.checkTimeout(now);
    }, step);
    if (this.open !== undefined) {
      // Sessions are opened as the schedule needs them, up to -s.
      this.dispatch();
      if (this.sessions.size === 0) this.finish();
      return;
    }
    const n = this.options.durationMs !== undefined ? this.options.sessions : Math.min(this.options.sessions, this.options.messages);
    for (let i = 1; i <= n; i++) this.sessions.add(new SourceSession(i, this));
    for (const s of [...this.sessions]) s.start();
    if (this.sessions.size === 0) this.finish();
  }

  /** Sessions of the run still going (connecting, in a transaction, or parked between messages). */
  get activeSessions(): number {
    return this.sessions.size;
  }

  /**
   * Takes the next message from the pool: its number from 1, or 0 when none is left. In the
   * open model also NOT_YET when the next one is not due; `woken` says the dispatcher handed it
   * to an idle session (so a late start is the generator's timer, not a want of sessions).
   */
  claim(woken = false): number {
    if (this.stopping) return 0;
    const open = this.open;
    if (open !== undefined) {
      const rel = performance.now() - this.originMs;
      if (open.over(rel)) return 0;
      if (open.nextDueMs > rel + EARLY_START_MS) return NOT_YET;
      open.take(rel, !woken && this.parkedConnected.length + this.parkedIdle.length === 0 && this.sessions.size >= this.options.sessions);
      this.claimedDueMs = this.originMs + open.takenDueMs;
      this.claimedStage = open.takenStage;
      this.counters.messagesStarted++;
      // Keep a timer for the next due message, so that new sessions open on time.
      if (this.dispatchTimer === undefined && !this.dispatching) this.armDispatch(rel);
      return ++this.claimed + this.seqOffset;
    }
    if (this.deadline !== undefined) {
      if (performance.now() >= this.deadline) return 0;
    } else if (this.claimed >= this.options.messages) {
      return 0;
    }
    this.counters.messagesStarted++;
    return ++this.claimed + this.seqOffset;
  }

  /**
   * Recipients of the next message, numbered as Postfix 3.7's smtp-source does: with -N a
   * process-wide counter from 1 before every address; without it, for -r n > 1, the numbers
   * n, n-1, ..., 2 and then the plain address.
   */
  recipientsFor(): string[] {
    const o = this.options;
    const out: string[] = [];
    for (let left = o.recipients; left > 0; left--) {
      if (o.numberRecipients) out.push(`${++this.recipientCounter}${this.recipient}`);
      else out.push(left > 1 ? `${left}${this.recipient}` : this.recipient);
    }
    return out;
  }

  headersFor(seq: number, session: number): Buffer | undefined {
    return this.headers?.build(seq, session, this.messagesLeft(seq));
  }

  /** The original's "left" count in its Message-Id (0 when only time ends the run). */
  private messagesLeft(seq: number): number {
    const m = this.options.messages;
    return Number.isFinite(m) ? Math.max(0, m + this.seqOffset - seq) : 0;
  }

  // ---- the open model's dispatcher ----------------------------------------------------------

  /** A session between messages whose next message is not due yet: it waits here. */
  park(session: SourceSession): void {
    (session.isConnected ? this.parkedConnected : this.parkedIdle).push(session);
    if (this.dispatchTimer === undefined && !this.dispatching) this.armDispatch(performance.now() - this.originMs);
  }

  /** Arms the dispatcher for the next due message (or for the end of starts). */
  private armDispatch(relNow: number): void {
    const open = this.open!;
    if (open.over(relNow)) {
      // Nothing is left to start: idle sessions quit now.
      if (!this.dispatching) this.releaseParked();
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.dispatchTimer = undefined;
      this.dispatch();
    }, Math.max(1, Math.floor(open.nextDueMs - relNow)));
    this.timers.add(t);
    this.dispatchTimer = t;
  }

  /**
   * Gives every message now due to a free session: an idle one (with its connection open
   * first), else a new one while fewer than -s are open. What no session can take waits for
   * the next session to come free, and its start is late.
   */
  private dispatch(): void {
    const open = this.open!;
    if (this.dispatchTimer !== undefined) {
      clearTimeout(this.dispatchTimer);
      this.timers.delete(this.dispatchTimer);
      this.dispatchTimer = undefined;
    }
    this.dispatching = true;
    try {
      while (!this.stopping) {
        const rel = performance.now() - this.originMs;
        if (open.over(rel)) break;
        if (open.nextDueMs > rel + EARLY_START_MS) {
          this.dispatching = false;
          this.armDispatch(rel);
          return;
        }
        const session = this.parkedConnected.shift() ?? this.parkedIdle.shift() ?? this.newSession();
        if (session === undefined) return; // all -s sessions busy: the next to come free takes it
        const before = open.taken;
        session.start(true);
        if (open.taken === before) break; // cannot happen; never spin
      }
    } finally {
      this.dispatching = false;
    }
    if (!this.stopping && open.over(performance.now() - this.originMs)) this.releaseParked();
  }

  private newSession(): SourceSession | undefined {
    if (this.sessions.size >= this.options.sessions) return undefined;
    const s = new SourceSession(this.nextSessionId++, this);
    this.sessions.add(s);
    if (this.sessions.size > this.open!.peakSessions) this.open!.peakSessions = this.sessions.size;
    return s;
  }

  /** The schedule is over: sessions waiting for a message quit (with -d) or just end. */
  private releaseParked(): void {
    for (const s of [...this.parkedConnected.splice(0), ...this.parkedIdle.splice(0)]) s.start(true);
  }

  /** A claimed message that never got its transaction (the session's connection failed). */
  pendingDropped(stage: number): void {
    this.counters.messagesFailed++;
    if (this.open !== undefined && stage >= 0) this.open.ended(stage, 'failed', 0, 0);
  }

  /** SNI and the name the certificate must carry: --tls-servername, else the target's name. */
  get tlsServername(): string | undefined {
    return this.options.tls?.servername ?? this.targetName;
  }

  private readonly commandCache = new Map<string, Buffer>();

  /**
   * A command line as bytes with its CR LF. MAIL, DATA, QUIT and unnumbered RCPTs repeat for
   * every message, so they are encoded once; numbered recipients (-N) are not kept.
   */
  commandBytes(line: string): Buffer {
    let bytes = this.commandCache.get(line);
    if (bytes === undefined) {
      bytes = Buffer.from(line + '\r\n', 'utf8');
      if (this.commandCache.size < 64) this.commandCache.set(line, bytes);
    }
    return bytes;
  }

  /** --bdat, --smtputf8, --size, --dsn or --8bitmime was asked for (EHLO then, and the extensions record). */
  get usesExtensions(): boolean {
    const o = this.options;
    return o.bdat !== undefined || o.smtputf8 === true || o.size === true || o.dsn === true || o.eightBitMime === true;
  }

  /** A warning given once per run. */
  warnOnce(key: string, text: string): void {
    if (this.warnedOnce.has(key)) return;
    this.warnedOnce.add(key);
    this.log.warning(text);
  }

  /** -c: the C program counts "." sent, before its reply. */
  dotSent(): void {
    this.dots++;
    if (this.listenerCount('dot') > 0) this.emit('dot', this.dots);
  }

  enqueueConnect(session: SourceSession): void {
    if (this.stopping) {
      session.stop();
      return;
    }
    if (this.open !== undefined) {
      // The open model connects at the due time: clients arrive on their own, and the connect
      // is part of the message's latency. No queue.
      this.startSampling();
      session.connectNow(() => undefined);
      return;
    }
    this.connectQueue.push(session);
    this.nextConnect();
  }

  private nextConnect(): void {
    if (this.connecting) return;
    const next = this.connectQueue.shift();
    if (next === undefined) return;
    this.connecting = true;
    this.startSampling();
    next.connectNow(() => {
      this.connecting = false;
      this.nextConnect();
    });
  }

  private startSampling(): void {
    if (this.sampler !== undefined && !this.samplingStarted) {
      // The baseline reading: the first sample covers the first interval after the first connect.
      this.samplingStarted = true;
      this.sampler.start();
    }
  }

  /** -w / -R: the wait after every message, the last one included. */
  afterMessageWait(then: () => void): void {
    const o = this.options;
    const seconds = o.waitSeconds > 0 ? o.waitSeconds : o.randomWaitSeconds > 0 ? Math.floor(Math.random() * (o.randomWaitSeconds + 1)) : 0;
    if (seconds === 0) {
      then();
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      then();
    }, seconds * 1000);
    this.timers.add(t);
  }

  messageEnded(session: number, t: EndedTransaction, status: MessageEvent['status'], code: number, reply: string, nowMs: number): void {
    const open = this.open;
    if (open !== undefined && t.stage >= 0) open.ended(t.stage, status, Math.min(t.dueMs, t.startMs) - this.originMs, nowMs - this.originMs);
    if (this.journal !== undefined) {
      const entry: JournalEntry = {
        seq: t.seq,
        session,
        messageId: this.headers?.messageId(t.seq, session, this.messagesLeft(t.seq)),
        trackingId: this.headers !== undefined && this.options.trackingHeaders ? `${this.runId}.${t.seq}` : undefined,
        // Both times from the monotonic clock, anchored once: wall-clock steps cannot make a
        // message end before it started.
        start: new Date(this.startedWall + (t.startMs - this.startedMs)).toISOString(),
        startMs: round3(t.startMs - this.startedMs),
        end: new Date(this.startedWall + (nowMs - this.startedMs)).toISOString(),
        endMs: round3(nowMs - this.startedMs),
        recipients: t.recipients,
        status,
        code,
        reply,
        queueId: t.queueId,
        lmtp: t.lmtp,
        bdat: t.bdat ? true : undefined,
        // Open model: when the message was due, ms since the run started (it may start up to
        // EARLY_START_MS before).
        scheduledMs: t.dueMs >= 0 ? round3(t.dueMs - this.startedMs) : undefined,
      };
      this.journal.write(entry);
    }
    if (this.listenerCount('message') > 0) this.emit('message', { seq: t.seq, session, status, code, queueId: t.queueId } satisfies MessageEvent);
  }

  /** The run cannot go on: print as the original does, stop, report what happened. */
  fatal(message: string, from?: SourceSession): void {
    if (this.fatalMessage !== undefined) return;
    this.fatalMessage = message;
    // The session that failed ends now, whatever it was waiting for.
    from?.stop();
    this.halt();
  }

  /** Stops starting messages; what is in flight gets `graceMs` to finish, then is cut. */
  stop(graceMs = 2000): void {
    if (this.stopping) return;
    this.interrupted = true;
    this.stopping = true;
    this.open?.stopStarts(performance.now() - this.originMs);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.dispatchTimer = undefined;
    this.parkedConnected.length = 0;
    this.parkedIdle.length = 0;
    for (const s of this.connectQueue.splice(0)) s.stop();
    for (const s of [...this.sessions]) if (s.idle) s.stop();
    const t = setTimeout(() => this.halt(false), graceMs);
    t.unref();
  }

  /**
   * Stops the run. A message whose end of data is already out may have been accepted: with
   * `waitForEndOfData` its session gets a moment (HALT_GRACE_MS, at most the reply timeout) for
   * that reply, so that what the server holds is what the result says. The original exits at
   * once and leaves such messages unknown.
   */
  private halt(waitForEndOfData = true): void {
    this.stopping = true;
    this.open?.stopStarts(performance.now() - this.originMs);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.dispatchTimer = undefined;
    this.parkedConnected.length = 0;
    this.parkedIdle.length = 0;
    this.connectQueue.length = 0;
    for (const s of [...this.sessions]) if (!waitForEndOfData || !s.awaitingEndOfData) s.stop();
    if (this.sessions.size === 0) {
      this.finish();
      return;
    }
    const t = setTimeout(() => {
      for (const s of [...this.sessions]) s.stop();
      this.finish();
    }, Math.min(HALT_GRACE_MS, this.options.timeoutSeconds * 1000));
    t.unref();
  }

  sessionEnded(session: SourceSession): void {
    this.sessions.delete(session);
    if (this.sessions.size === 0) this.finish();
  }

  private finished = false;
  private sweep: NodeJS.Timeout | undefined;

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.sweep);
    this.endedMs = performance.now();
    this.generator = this.generatorMonitor?.stop();
    if (this.sampler !== undefined) this.system = this.stopSampling(this.sampler);
    const result = this.result();
    const close = this.journal?.close() ?? Promise.resolve();
    void close.then(() => this.resolveDone(result));
  }

  /**
   * Ends the sampling and judges it. The last, shorter interval is read when more than half an
   * interval has passed (as sampleFor() does), or when a run shorter than that would otherwise
   * have no sample at all.
   */
  private stopSampling(sampler: Sampler): SystemRecord {
    sampler.stop();
    const last = sampler.lastReadingMonoMs;
    if (last !== null) {
      const since = performance.now() - last;
      if (since > sampler.intervalMs / 2 || (sampler.samples.length === 0 && since >= MIN_LAST_SAMPLE_MS)) sampler.tick();
    }
    return makeSystemRecord(sampler.samples, sampler.intervalMs, this.options.sample?.thresholds);
  }

  /** The result so far (final once the run is done). */
  result(): SourceResult {
    const c = this.counters;
    const elapsedMs = (this.endedMs ?? performance.now()) - this.startedMs;
    const rate = (n: number): number => round3(perSecond(n, elapsedMs));
    const o = this.options;
    return {
      target: this.endpoint !== undefined ? formatEndpoint(this.endpoint) : String(o.target),
      options: {
        sessions: o.sessions,
        messages: o.durationMs !== undefined || !Number.isFinite(o.messages) ? undefined : o.messages,
        durationMs: o.durationMs,
        rate: o.rate,
        stages: o.stages,
        recipients: o.recipients,
        length: o.length,
        messageFile: o.messageFile,
        lmtp: o.lmtp,
        reuseConnection: o.reuseConnection,
        pipelining: o.pipelining,
        numberRecipients: o.numberRecipients,
        oldMode: o.oldMode,
        allowReject: o.allowReject,
        waitSeconds: o.waitSeconds,
        randomWaitSeconds: o.randomWaitSeconds,
        myHostname: this.myHostname,
        sender: this.sender,
        recipient: this.recipient,
        runId: this.runId,
        shard: o.shard,
        // No secrets: the TLS settings without the CAs, for AUTH the mechanism and how many users.
        ...(o.tls !== undefined
          ? {
              tls: {
                mode: o.tls.mode,
                required: o.tls.mode === 'starttls' ? o.tls.required !== false : true,
                servername: this.tlsServername,
                ca: o.tls.ca !== undefined,
                insecure: o.tls.insecure === true,
                minVersion: o.tls.minVersion,
                sessionReuse: o.tls.sessionReuse === true,
              },
            }
          : {}),
        ...(o.auth !== undefined ? { auth: { mechanism: o.auth.mechanism, users: o.auth.credentials.length } } : {}),
        ...(o.bdat !== undefined ? { bdat: true, bdatChunkSize: o.bdat.chunkSize } : {}),
        ...(o.smtputf8 === true ? { smtputf8: true } : {}),
        ...(o.size === true ? { size: true } : {}),
        ...(o.dsn === true ? { dsn: true } : {}),
        ...(o.eightBitMime === true ? { eightBitMime: true } : {}),
      },
      startedAt: new Date(this.startedWall).toISOString(),
      elapsedMs: round3(elapsedMs),
      messages: { started: c.messagesStarted, sent: c.messagesSent, accepted: c.messagesAccepted, rejected: c.messagesRejected, failed: c.messagesFailed },
      recipients: { sent: c.recipientsSent, accepted: c.recipientsAccepted, rejected: c.recipientsRejected },
      bytes: c.bytesSent,
      connections: { opened: c.connectionsOpened, failed: c.connectFailures },
      errors: { timeouts: c.timeouts, lostConnections: c.lostConnections, serverClosed: c.serverClosed, connectFailures: c.connectFailures },
      rejects: c.rejectsObject(),
      throughput: {
        messagesPerSecond: rate(c.messagesAccepted),
        recipientsPerSecond: rate(c.recipientsAccepted),
        bytesPerSecond: rate(c.bytesSent),
      },
      latency: this.histograms.summary(),
      // Open model only: the message latency from each message's due time, and the schedule.
      ...(this.open !== undefined
        ? { correctedLatency: { message: phaseSummary(this.open.corrected) }, schedule: this.open.record((this.endedMs ?? performance.now()) - this.originMs, this.originMs - this.startedMs) }
        : {}),
      generator: this.generator ?? this.generatorMonitor?.peek(),
      ...(o.tls !== undefined ? { tls: this.tlsCounters.record() } : {}),
      ...(o.auth !== undefined ? { auth: { mechanism: o.auth.mechanism, ...this.authCounters } } : {}),
      ...(this.usesExtensions ? { extensions: { ...this.extensionCounters } } : {}),
      fatal: this.fatalMessage,
      interrupted: this.interrupted,
      // Only with --sample, so that the JSON of other runs stays as it was.
      ...(this.system !== undefined ? { system: this.system } : {}),
    };
  }

}

/**
 * The shortest last interval read for a run that ended before its first full one: /proc/stat
 * counts CPU time in 10 ms ticks, so less would mostly be rounding.
 */
const MIN_LAST_SAMPLE_MS = 50;

/**
 * The open model asked for by the options, checked (a RangeError says what is wrong), or
 * undefined for the closed one.
 */
function openModel(o: SourceOptions): OpenModel | undefined {
  if (o.rate === undefined && o.stages === undefined) return undefined;
  if (o.rate !== undefined && o.stages !== undefined) throw new RangeError('rate and stages cannot be used together');
  if (o.waitSeconds > 0 || o.randomWaitSeconds > 0) throw new RangeError('rate or stages cannot be used with waitSeconds or randomWaitSeconds (the schedule decides when messages start)');
  let stages: RateStage[];
  let cap: number;
  if (o.rate !== undefined) {
    const r = o.rate.perSecond;
    if (!(Number.isFinite(r) && r > 0)) throw new RangeError(`rate: ${r} (want messages per second, more than 0)`);
    stages = [{ fromPerSecond: r, toPerSecond: r, durationMs: o.durationMs ?? Infinity }];
    cap = o.durationMs !== undefined ? Infinity : o.messages;
  } else {
    if (o.durationMs !== undefined) throw new RangeError('stages cannot be used with durationMs (the stages say how long the run lasts)');
    stages = o.stages!;
    cap = o.messages;
  }
  checkStages(stages);
  return new OpenModel(o.rate !== undefined ? 'rate' : 'stages', stages, cap, o.sessions);
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

export interface RunningSource {
  /** The run itself: 'dot', 'message' and (with options.sample) 'sample' events, result() so far, stop(). */
  readonly run: SourceRun;
  readonly done: Promise<SourceResult>;
}

/** Starts a run and returns at once; `done` resolves with the result. */
export async function startSource(input: SourceOptionsInput, hooks: RunHooks = {}): Promise<RunningSource> {
  const run = new SourceRun(resolveSourceOptions(input), hooks);
  await run.resolveTarget();
  run.start();
  return { run, done: run.done };
}

/** Runs smtp-source to the end and resolves with what happened. */
export async function runSource(input: SourceOptionsInput, hooks: RunHooks = {}): Promise<SourceResult> {
  return (await startSource(input, hooks)).done;
}
