// One smtp-source session: a connection's life, message after message, as the C program
// runs it (lock-step, one command outstanding), or with --pipelining MAIL, RCPTs and DATA in
// one write when the server offers PIPELINING.
//
// Replies are matched to what they answer through a queue of expectations, which serves both
// modes: lock-step keeps one entry in it, pipelining several.
import { createHmac } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { ReplyParser, printableString, strerror } from '@smtpstone/core';
import type { SourceRun } from './engine.js';
import { NOT_YET } from './open-model.js';
import type { Stage } from './counters.js';
import { END_OF_DATA, orcpt, xtext } from './message.js';
import { parseQueueId } from './queue-id.js';

const enum Expect {
  Banner,
  Helo,
  Mail,
  Rcpt,
  Data,
  Dot,
  Rset,
  Quit,
  // Timed as phases of their own (tls, auth), not per reply:
  StartTls,
  /** Not a reply: the TLS handshake under way (so that the timeout sweep and the context see it). */
  Handshake,
  Auth,
  /** The 250 to a BDAT chunk but the last (timed in the data phase; LAST's reply is Dot). */
  Bdat,
}

const STAGE: Stage[] = ['banner', 'helo', 'mail', 'rcpt', 'data', 'dot', 'rset', 'quit', 'starttls', 'starttls', 'auth', 'data'];

interface Transaction {
  seq: number;
  startMs: number;
  /** Open model: when the message was due (performance.now() clock) and its stage; else -1. */
  dueMs: number;
  stage: number;
  recipients: string[];
  accepted: number;
  rejected: number;
  dotReplies: number;
  dotRejected: boolean;
  firstCode: number;
  firstText: string;
  queueId: string | undefined;
  lmtp: { code: number; reply: string; queueId?: string }[] | undefined;
  mailFailed: boolean;
  /** The last unexpected reply in this transaction, for the journal. */
  errorCode: number;
  errorText: string;
  /** The generated headers of this message (built with the envelope: SIZE= needs their length). */
  headers: Buffer | undefined;
  /** Sent by BDAT: the bytes of the message sent so far. */
  bdat: boolean;
  bdatOffset: number;
}

export class SourceSession {
  private socket: Socket | undefined;
  private connected = false;
  private readonly expects: Expect[] = [];
  private readonly sentAt: number[] = [];
  private readonly parser: ReplyParser;
  /** The message whose envelope (MAIL, RCPT, DATA) is under way. */
  private txn: Transaction | undefined;
  /** The message whose end-of-data reply is awaited (with pipelining, beside the next txn). */
  private finishing: Transaction | undefined;
  /** With pipelining and no -d, QUIT went out right behind the last ".". */
  private quitQueued = false;
  private pipelining = false;
  private connectFailuresLeft: number;
  private ended = false;
  /** A message claimed before its transaction could begin (while connecting). */
  private pendingSeq = 0;
  /** Its due time and stage (open model; else -1). */
  private pendingDueMs = -1;
  private pendingStage = -1;
  /** When we last sent a command or heard from the server (performance.now()). */
  private lastActivity = 0;
  private readBuffer: Buffer | undefined;
  /** With TLS: the TCP socket under the TLS one (this.socket once the handshake starts). */
  private raw: Socket | undefined;
  /** The TLS handshake of this connection is done. */
  private secured = false;
  /** --starttls opportunistic: this connection goes on in plaintext. */
  private plaintextOk = false;
  /** With TLS or AUTH: the last EHLO reply's text (its PIPELINING and AUTH lines). */
  private ehloText = '';
  /** AUTH succeeded on this connection. */
  private authenticated = false;
  /** The AUTH exchange: its step (0 = AUTH sent) and when it began. */
  private authStep = 0;
  private authStartedMs = 0;
  /** What the last EHLO offered of CHUNKING, SMTPUTF8, SIZE, DSN (--bdat, --smtputf8, --size, --dsn). */
  private offersChunking = false;
  private offersSmtputf8 = false;
  private offersSize = false;
  private offersDsn = false;
  private offers8BitMime = false;

  constructor(
    readonly id: number,
    private readonly run: SourceRun,
  ) {
    this.parser = new ReplyParser((code, p) => this.onReply(code, p));
    this.connectFailuresLeft = run.options.connectAttempts;
  }

  /**
   * Claims a message and sends it, connecting first when needed. In the open model a message
   * not due yet parks the session (its connection kept with -d) until the run's dispatcher
   * starts it again (`woken`).
   */
  start(woken = false): void {
    if (this.ended) return;
    const seq = this.run.claim(woken);
    if (seq === 0) {
      if (this.connected) this.quit();
      else this.finish();
      return;
    }
    if (seq === NOT_YET) {
      this.run.park(this);
      return;
    }
    this.setPending(seq);
    if (this.connected) this.beginTransaction();
    else this.run.enqueueConnect(this);
  }

  private setPending(seq: number): void {
    this.pendingSeq = seq;
    this.pendingDueMs = this.run.claimedDueMs;
    this.pendingStage = this.run.claimedStage;
  }

  /** A claimed message that never got its transaction counts as failed. */
  private dropPending(): void {
    if (this.pendingSeq === 0) return;
    this.pendingSeq = 0;
    this.run.pendingDropped(this.pendingStage);
  }

  /** True while the connection is open (and the session could send on it). */
  get isConnected(): boolean {
    return this.connected;
  }

  // ---- connection ---------------------------------------------------------------------------

  /** Called by the run's connect queue: one connect() in progress at a time, as in the C program. */
  connectNow(done: () => void): void {
    const run = this.run;
    const ep = run.endpoint;
    const started = performance.now();
    // Replies land in one buffer of this session's, handed straight to the parser: no
    // Buffer per read and no stream machinery on the way in.
    const onread = {
      buffer: (this.readBuffer ??= Buffer.allocUnsafe(16 * 1024)),
      callback: (n: number, buf: Uint8Array): boolean => {
        this.lastActivity = performance.now();
        this.parser.push(buf, 0, n);
        return true;
      },
    };
    // TLS needs the stream: the TLS layer takes the socket over (see startTls).
    const tls = run.options.tls !== undefined;
    const socket = tls
      ? ep.kind === 'unix'
        ? connect({ path: ep.path })
        : connect({ host: ep.host, port: ep.port })
      : ep.kind === 'unix'
        ? connect({ path: ep.path, onread })
        : connect({ host: ep.host, port: ep.port, onread });
    this.socket = socket;
    if (tls) {
      this.raw = socket;
      socket.on('data', (buf: Buffer) => {
        this.lastActivity = performance.now();
        this.parser.push(buf, 0, buf.length);
      });
    }
    socket.setNoDelay(true);
    let settled = false;
    socket.once('connect', () => {
      settled = true;
      done();
      this.connected = true;
      run.counters.connectionsOpened++;
      run.histograms.record('connect', performance.now() - started);
      this.parser.reset();
      if (run.options.tls?.mode === 'implicit') this.startTls(performance.now());
      else this.expect(Expect.Banner);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!settled) {
        settled = true;
        done();
        this.connectFailed(err);
      }
      // Later errors (a reset) arrive as 'close'; the context says what was going on.
    });
    socket.on('close', () => {
      if (settled && this.socket === socket) this.onClose();
    });
  }

  private connectFailed(err: NodeJS.ErrnoException): void {
    const run = this.run;
    run.counters.connectFailures++;
    this.socket = undefined;
    this.raw = undefined;
    let text = `connect: ${strerror(err)}`;
    if (err.code === 'EMFILE') {
      // Out of descriptors: more sessions than ulimit -n allows. Say which limit.
      text += ` (ulimit -n ${run.fdLimit ?? '?'} is too low for -s ${run.options.sessions}: raise it, or lower -s)`;
    }
    if (--this.connectFailuresLeft <= 0) {
      this.dropPending();
      // The original gives up on the whole run: -C is the budget of each session.
      this.run.fatal(text, this);
      return;
    }
    run.log.warning(text);
    setTimeout(() => this.run.enqueueConnect(this), 0);
  }

  /**
   * The TLS handshake on this connection's socket: at once with --tls, after "220" to STARTTLS
   * with --starttls. Then the banner (implicit TLS) or EHLO again (RFC 3207).
   */
  private startTls(sinceMs: number): void {
    const run = this.run;
    const o = run.options.tls!;
    const raw = this.raw!;
    raw.removeAllListeners('data');
    this.expect(Expect.Handshake);
    this.sentAt[this.sentAt.length - 1] = sinceMs;
    const servername = run.tlsServername;
    const ep = run.endpoint;
    const secure: TLSSocket = tlsConnect({
      socket: raw,
      secureContext: run.secureContext,
      ...(servername !== undefined ? { servername } : {}),
      ...(ep.kind === 'inet' ? { host: ep.host } : {}),
      rejectUnauthorized: o.insecure !== true,
      ...(o.sessionReuse === true && run.tlsSession !== undefined ? { session: run.tlsSession } : {}),
    });
    this.socket = secure;
    secure.on('data', (buf: Buffer) => {
      this.lastActivity = performance.now();
      this.parser.push(buf, 0, buf.length);
    });
    if (o.sessionReuse === true) secure.on('session', (session: Buffer) => (run.tlsSession = session));
    secure.once('secureConnect', () => {
      if (this.socket !== secure) return;
      this.expects.shift();
      const started = this.sentAt.shift()!;
      this.secured = true;
      const c = run.tlsCounters;
      c.handshakes++;
      if (secure.isSessionReused()) c.resumed++;
      const protocol = secure.getProtocol() ?? 'unknown';
      c.protocols.set(protocol, (c.protocols.get(protocol) ?? 0) + 1);
      const cipher = secure.getCipher()?.name ?? 'unknown';
      c.ciphers.set(cipher, (c.ciphers.get(cipher) ?? 0) + 1);
      run.histograms.record('tls', performance.now() - started);
      if (run.options.verbose > 0) run.log.info(`TLS ${protocol} ${cipher}${secure.isSessionReused() ? ' (resumed)' : ''}`);
      this.parser.reset();
      if (o.mode === 'implicit') this.expect(Expect.Banner);
      else this.send(`${this.greetingVerb} ${run.myHostname}`, Expect.Helo);
    });
    secure.on('error', (err: NodeJS.ErrnoException) => {
      if (this.socket !== secure || this.secured) return; // after the handshake: 'close' tells
      run.tlsCounters.failures++;
      this.closeConnection();
      this.failed(tlsFailure(err));
    });
    secure.on('close', () => {
      if (this.socket === secure) this.onClose();
    });
  }

  // ---- commands -----------------------------------------------------------------------------

  private expect(what: Expect): void {
    const now = performance.now();
    this.expects.push(what);
    this.sentAt.push(now);
    this.lastActivity = now;
  }

  /** Sends one command line; the run keeps the lines that never change as ready Buffers. */
  private send(line: string, what: Expect): void {
    if (this.run.options.verbose > 0) this.run.log.info(line);
    this.expect(what);
    this.socket!.write(this.run.commandBytes(line));
  }


  private greet(): void {
    const o = this.run.options;
    if (o.oldMode) {
      this.beginTransaction();
      return;
    }
    this.send(`${this.greetingVerb} ${this.run.myHostname}`, Expect.Helo);
  }

  /** LHLO in LMTP; EHLO when pipelining, STARTTLS or AUTH is wanted; HELO otherwise, as the original. */
  private get greetingVerb(): string {
    const o = this.run.options;
    return o.lmtp ? 'LHLO' : o.pipelining || o.tls?.mode === 'starttls' || o.auth !== undefined || this.run.usesExtensions ? 'EHLO' : 'HELO';
  }

  /**
   * After a successful EHLO (or a refused one with -A): STARTTLS first when wanted, then AUTH,
   * then the message. PIPELINING is taken from the last EHLO (after TLS, RFC 3207).
   */
  private afterEhlo(ok: boolean, text: string): void {
    const run = this.run;
    const o = run.options;
    this.ehloText = ok ? text : '';
    if (o.tls?.mode === 'starttls' && !this.secured && !this.plaintextOk) {
      if (ok && /(^|\n)STARTTLS(\s|$)/i.test(text)) {
        this.pipelining = false;
        this.send('STARTTLS', Expect.StartTls);
        return;
      }
      if (o.tls.required !== false) {
        run.tlsCounters.failures++;
        this.closeConnection();
        this.failed('STARTTLS not offered by the server (--starttls required; --starttls opportunistic goes on in plaintext)');
        return;
      }
      this.goPlaintext();
    }
    if (ok && o.pipelining) this.pipelining = /(^|\n)PIPELINING(\s|$)/i.test(text);
    if (o.auth !== undefined && !this.authenticated) {
      this.startAuth(ok ? text : '');
      return;
    }
    if (this.pendingSeq !== 0) this.beginTransaction();
  }

  /** The extensions --bdat, --smtputf8, --size and --dsn use, as the last EHLO offered them. */
  private takeExtensions(text: string): void {
    const has = (name: string): boolean => new RegExp(`(^|\\n)${name}(\\s|$)`, 'i').test(text);
    this.offersChunking = has('CHUNKING');
    this.offersSmtputf8 = has('SMTPUTF8');
    this.offersSize = /(^|\n)SIZE(\s|$)/i.test(text);
    this.offersDsn = has('DSN');
    this.offers8BitMime = has('8BITMIME');
  }

  private goPlaintext(): void {
    this.plaintextOk = true;
    this.run.tlsCounters.plaintext++;
    if (this.run.options.verbose > 0) this.run.log.info('STARTTLS not offered: going on in plaintext (--starttls opportunistic)');
  }

  // ---- AUTH ---------------------------------------------------------------------------------

  private get credentials(): { user: string; password: string } {
    const list = this.run.options.auth!.credentials;
    return list[(this.id - 1) % list.length];
  }

  /** Sends a line that carries a secret: -v shows `shown` instead. Never cached. */
  private sendSecret(line: string, shown: string): void {
    if (this.run.options.verbose > 0 && shown !== '') this.run.log.info(shown);
    this.expect(Expect.Auth);
    this.socket!.write(line + '\r\n');
  }

  private startAuth(ehloText: string): void {
    const run = this.run;
    const mechanism = run.options.auth!.mechanism;
    const offered = /(?:^|\n)AUTH[ =]([^\n]*)/i.exec(ehloText);
    const list = offered === null ? [] : offered[1].trim().toUpperCase().split(/\s+/);
    if (!list.includes(mechanism)) {
      run.authCounters.failed++;
      this.closeConnection();
      this.failed(offered === null ? `AUTH not offered by the server (--auth ${mechanism})` : `AUTH ${mechanism} not offered by the server (it offers ${list.join(' ')}; see --auth)`);
      return;
    }
    run.authCounters.attempts++;
    this.authStep = 0;
    this.authStartedMs = performance.now();
    const { user, password } = this.credentials;
    const b64 = (v: string): string => Buffer.from(v, 'utf8').toString('base64');
    switch (mechanism) {
      case 'PLAIN':
        return this.sendSecret(`AUTH PLAIN ${b64(`\0${user}\0${password}`)}`, 'AUTH PLAIN ****');
      case 'XOAUTH2':
        return this.sendSecret(`AUTH XOAUTH2 ${b64(`user=${user}\x01auth=Bearer ${password}\x01\x01`)}`, 'AUTH XOAUTH2 ****');
      default:
        this.send(`AUTH ${mechanism}`, Expect.Auth);
    }
  }

  private onAuthReply(code: number, text: string): void {
    const run = this.run;
    const mechanism = run.options.auth!.mechanism;
    if (code === 334) {
      const step = ++this.authStep;
      const { user, password } = this.credentials;
      const b64 = (v: string): string => Buffer.from(v, 'utf8').toString('base64');
      // A server that wants PLAIN's response after an empty challenge gets it then.
      if (mechanism === 'PLAIN' && step === 1) return this.sendSecret(b64(`\0${user}\0${password}`), '****');
      if (mechanism === 'LOGIN' && step === 1) return this.sendSecret(b64(user), '****');
      if (mechanism === 'LOGIN' && step === 2) return this.sendSecret(b64(password), '****');
      if (mechanism === 'CRAM-MD5' && step === 1) {
        const challenge = Buffer.from(text.trim(), 'base64');
        const digest = createHmac('md5', password).update(challenge).digest('hex');
        return this.sendSecret(b64(`${user} ${digest}`), '****');
      }
      // XOAUTH2's error challenge (a JSON status) is answered with an empty line; then 535.
      return this.sendSecret('', '');
    }
    run.histograms.record('auth', performance.now() - this.authStartedMs);
    if (code === 235) {
      run.authCounters.succeeded++;
      this.authenticated = true;
      if (this.pendingSeq !== 0) this.beginTransaction();
      return;
    }
    run.authCounters.failed++;
    if (!this.problem('auth', 'authentication failed', code, text)) return;
    // -A: this connection is of no use; the next message starts on a new one.
    this.abandon();
  }

  private beginTransaction(): void {
    const run = this.run;
    const seq = this.pendingSeq;
    this.pendingSeq = 0;
    const recipients = run.recipientsFor();
    this.txn = {
      seq,
      startMs: performance.now(),
      dueMs: this.pendingDueMs,
      stage: this.pendingStage,
      recipients,
      accepted: 0,
      rejected: 0,
      dotReplies: 0,
      dotRejected: false,
      firstCode: 0,
      firstText: '',
      queueId: undefined,
      lmtp: run.options.lmtp ? [] : undefined,
      mailFailed: false,
      errorCode: 0,
      errorText: '',
      headers: run.headersFor(seq, this.id),
      bdat: false,
      bdatOffset: 0,
    };
    const t = this.txn;
    const o = run.options;
    let mail = `MAIL FROM:<${run.sender}>`;
    if (run.usesExtensions) {
      if (o.smtputf8 === true && !this.offersSmtputf8) return this.smtputf8NotOffered(t);
      if (o.bdat !== undefined) {
        t.bdat = this.offersChunking;
        if (t.bdat) {
          run.extensionCounters.bdatMessages++;
        } else {
          run.extensionCounters.bdatFallbacks++;
          run.warnOnce('bdat', 'CHUNKING not offered by the server: sending with DATA instead of BDAT (--bdat)');
        }
      }
      if (o.size === true && this.offersSize) {
        run.extensionCounters.sizeSent++;
        mail += ` SIZE=${(t.headers?.length ?? 0) + (t.bdat ? run.rawBody : run.body).length}`;
      }
      if (o.eightBitMime === true) {
        if (this.offers8BitMime) {
          run.extensionCounters.eightBitMimeSent++;
          mail += ' BODY=8BITMIME';
        } else {
          run.extensionCounters.eightBitMimeNotOffered++;
          run.warnOnce('8bitmime', '8BITMIME not offered by the server: MAIL without BODY=8BITMIME (--8bitmime)');
        }
      }
      if (o.smtputf8 === true) mail += ' SMTPUTF8';
      if (o.dsn === true && this.offersDsn) {
        run.extensionCounters.dsnSent++;
        mail += ` RET=HDRS ENVID=${xtext(`${run.runId}.${seq}`)}`;
      }
    }
    if (this.pipelining) {
      // One write for the whole envelope and DATA (or the BDAT chunks, RFC 3030); replies are
      // sorted out in order.
      let batch = `${mail}\r\n`;
      this.expect(Expect.Mail);
      for (const r of recipients) {
        batch += `${this.rcptLine(r)}\r\n`;
        this.expect(Expect.Rcpt);
      }
      run.counters.recipientsSent += recipients.length;
      if (t.bdat) {
        if (run.options.verbose > 0) for (const l of batch.trimEnd().split('\r\n')) run.log.info(l);
        const socket = this.socket!;
        socket.cork();
        socket.write(batch);
        while (!this.sendChunk(t, true));
        socket.uncork();
        return;
      }
      batch += 'DATA\r\n';
      this.expect(Expect.Data);
      if (run.options.verbose > 0) for (const l of batch.trimEnd().split('\r\n')) run.log.info(l);
      this.socket!.write(batch);
      return;
    }
    this.send(mail, Expect.Mail);
  }

  /** RCPT TO, with --dsn (when offered) NOTIFY and ORCPT (RFC 3461; RFC 6533 for UTF-8 addresses). */
  private rcptLine(r: string): string {
    // --smtputf8 got this far only where SMTPUTF8 is offered, so the raw UTF-8 form is allowed.
    const o = this.run.options;
    if (o.dsn === true && this.offersDsn) return `RCPT TO:<${r}> NOTIFY=SUCCESS,FAILURE ORCPT=${orcpt(r, o.smtputf8 === true)}`;
    return `RCPT TO:<${r}>`;
  }

  /** --smtputf8 and a server without SMTPUTF8: the message fails (counted); fatal without -A. */
  private smtputf8NotOffered(t: Transaction): void {
    const run = this.run;
    this.txn = undefined;
    run.extensionCounters.smtputf8NotOffered++;
    const message = 'SMTPUTF8 not offered by the server (--smtputf8): message not sent';
    this.messageDone(t, 'failed', 0, message);
    if (!run.options.allowReject) {
      run.fatal(message, this);
      return;
    }
    run.warnOnce('smtputf8', `${message} (counted; the run goes on with -A)`);
    setImmediate(() => {
      if (!this.ended && this.connected) this.next();
    });
  }

  private sendRcpt(): void {
    const t = this.txn!;
    const i = t.accepted + t.rejected;
    this.run.counters.recipientsSent++;
    this.send(this.rcptLine(t.recipients[i]), Expect.Rcpt);
  }

  /**
   * The next BDAT chunk of t: "BDAT n" (LAST on the last one) and n bytes of the headers and
   * the body as they are, not dot-stuffed. Returns true after the last one.
   */
  private sendChunk(t: Transaction, pipelined = false): boolean {
    const run = this.run;
    const o = run.options;
    const socket = this.socket!;
    const h = t.headers;
    const hLen = h?.length ?? 0;
    const total = hLen + run.rawBody.length;
    const size = o.bdat!.chunkSize ?? total;
    const start = t.bdatOffset;
    const end = Math.min(total, start + size);
    const last = end >= total;
    t.bdatOffset = end;
    const line = `BDAT ${end - start}${last ? ' LAST' : ''}`;
    if (o.verbose > 0) run.log.info(line);
    this.expect(last ? Expect.Dot : Expect.Bdat);
    socket.cork();
    socket.write(line + '\r\n');
    if (h !== undefined && start < hLen) socket.write(h.subarray(start, Math.min(end, hLen)));
    if (end > hLen) socket.write(run.rawBody.subarray(Math.max(0, start - hLen), end - hLen));
    socket.uncork();
    if (!last) return false;
    // Pipelined, the RCPT replies are still to come: t becomes finishing at LAST's reply.
    if (!pipelined) {
      this.txn = undefined;
      this.finishing = t;
    }
    run.counters.messagesSent++;
    run.counters.bytesSent += total;
    run.dotSent();
    return true;
  }

  private sendMessage(): void {
    const run = this.run;
    const o = run.options;
    const t = this.txn!;
    this.txn = undefined;
    this.finishing = t;
    const socket = this.socket!;
    const headers = t.headers;
    // Headers, body and "." in one writev: separate small writes stall on Nagle/delayed ACK.
    socket.cork();
    if (headers !== undefined) socket.write(headers);
    socket.write(run.body);
    socket.write(END_OF_DATA);
    if (o.verbose > 0) run.log.info('.');
    const replies = o.lmtp ? t.accepted : 1;
    for (let i = 0; i < replies; i++) this.expect(Expect.Dot);
    run.counters.messagesSent++;
    run.counters.bytesSent += (headers?.length ?? 0) + run.body.length;
    run.dotSent();
    if (this.pipelining) {
      // Message content starts a new command group (RFC 2920), so what comes next rides
      // along: the next message's envelope with -d (when no wait is asked for), else QUIT.
      if (o.reuseConnection && o.waitSeconds === 0 && o.randomWaitSeconds === 0) {
        const seq = run.claim();
        if (seq > 0) {
          this.setPending(seq);
          this.beginTransaction();
        }
      } else if (!o.reuseConnection) {
        this.quitQueued = true;
        this.send('QUIT', Expect.Quit);
      }
    }
    socket.uncork();
  }

  private quit(): void {
    this.send('QUIT', Expect.Quit);
  }

  // ---- replies ------------------------------------------------------------------------------

  private onReply(code: number, parser: ReplyParser): void {
    const what = this.expects.shift();
    const sentAt = this.sentAt.shift();
    if (what === undefined || sentAt === undefined) return; // a reply to nothing: ignore it
    const run = this.run;
    const ok = code >= 200 && code < 300;
    // Decoding text costs a string: only where it is shown, parsed or kept.
    const expected = ok || (what === Expect.Data && code === 354);
    const text = !expected || what === Expect.Dot || what === Expect.Helo || run.options.verbose > 0 ? parser.replyText() : '';
    if (run.options.verbose > 0) run.log.info(`<<< ${code} ${text}`);
    if (what < Expect.StartTls) run.histograms.record(STAGE[what] as never, performance.now() - sentAt);
    const closing = code === 421 || code === 521;
    switch (what) {
      case Expect.Banner:
        if (!ok && !this.problem('banner', 'rejected at server banner', code, text)) return;
        this.greet();
        return;
      case Expect.Helo: {
        if (run.usesExtensions) this.takeExtensions(ok ? text : '');
        if (!ok) {
          if (!this.problem('helo', `${this.greetingVerb} rejected`, code, text)) return;
          if (closing) return this.abandon();
        }
        if (run.options.tls !== undefined || run.options.auth !== undefined) return this.afterEhlo(ok, text);
        if (ok && run.options.pipelining) this.pipelining = /(^|\n)PIPELINING(\s|$)/i.test(text);
        if (this.pendingSeq !== 0) this.beginTransaction();
        return;
      }
      case Expect.StartTls:
        if (code === 220) return this.startTls(sentAt);
        if (run.options.tls!.required !== false) {
          run.tlsCounters.failures++;
          if (!this.problem('starttls', 'STARTTLS rejected', code, text)) return;
          return this.abandon();
        }
        if (closing) return this.abandon();
        this.goPlaintext();
        return this.afterEhlo(this.ehloText !== '', this.ehloText);
      case Expect.Auth:
        return this.onAuthReply(code, text);
      case Expect.Handshake:
        return; // cannot happen: no reply is read during the handshake
      case Expect.Mail:
        if (!ok) {
          this.txn!.mailFailed = true;
          if (!this.problem('mail', 'sender rejected', code, text)) return;
          if (closing) return this.abandon();
          if (!this.pipelining) return this.send('RSET', Expect.Rset);
        } else if (!this.pipelining) {
          this.sendRcpt();
        }
        return;
      case Expect.Rcpt: {
        const t = this.txn!;
        if (ok) {
          t.accepted++;
          run.counters.recipientsAccepted++;
        } else {
          t.rejected++;
          run.counters.recipientsRejected++;
          if (!t.mailFailed && !this.problem('rcpt', 'recipient rejected', code, text)) return;
          if (closing) return this.abandon();
        }
        if (this.pipelining) return;
        if (t.accepted + t.rejected < t.recipients.length) return this.sendRcpt();
        if (t.accepted > 0) {
          if (t.bdat) this.sendChunk(t);
          else this.send('DATA', Expect.Data);
          return;
        }
        return this.send('RSET', Expect.Rset);
      }
      case Expect.Data: {
        const t = this.txn!;
        if (code !== 354) {
          if (!t.mailFailed && t.accepted > 0 && !this.problem('data', 'data rejected', code, text)) return;
          if (closing) return this.abandon();
          return this.send('RSET', Expect.Rset);
        }
        if (t.accepted === 0) {
          // Pipelined DATA accepted with no recipient: end it empty, as RFC 2920 asks.
          this.txn = undefined;
          this.finishing = t;
          this.expect(Expect.Dot);
          this.socket!.write(END_OF_DATA);
          return;
        }
        this.sendMessage();
        return;
      }
      case Expect.Dot: {
        if (this.finishing === undefined && this.txn?.bdat === true) {
          // Pipelined BDAT: LAST's reply ends the envelope.
          this.finishing = this.txn;
          this.txn = undefined;
        }
        const t = this.finishing!;
        t.dotReplies++;
        // LMTP over BDAT: LAST gets one reply per accepted recipient (RFC 3030, RFC 2033), and
        // only now, pipelined, is it sure how many were accepted.
        if (t.dotReplies === 1 && t.bdat && run.options.lmtp) {
          for (let i = 1; i < t.accepted; i++) {
            this.expects.unshift(Expect.Dot);
            this.sentAt.unshift(sentAt);
          }
        }
        if (t.dotReplies === 1) {
          t.firstCode = code;
          t.firstText = text;
        }
        const queueId = ok ? parseQueueId(text) : undefined;
        if (t.queueId === undefined) t.queueId = queueId;
        t.lmtp?.push({ code, reply: text, queueId });
        if (!ok) {
          t.dotRejected = true;
          if (t.accepted > 0 && !this.problem('dot', 'end of data rejected', code, text)) return;
        }
        if (!closing && this.expects.length > 0 && this.expects[0] === Expect.Dot) return;
        this.finishing = undefined;
        this.messageDone(t, t.accepted > 0 ? (t.dotRejected ? 'rejected' : 'accepted') : 'rejected');
        if (closing) {
          this.failPipelinedEnvelope();
          return this.abandon();
        }
        // With pipelining the next envelope or the QUIT is already on its way.
        if (this.txn !== undefined || this.quitQueued) return;
        return this.next();
      }
      case Expect.Rset:
        if (!ok) {
          if (!this.problem('rset', 'rset rejected', code, text)) return;
          if (closing) return this.abandon();
        }
        if (this.txn !== undefined) this.messageDone(this.txn, 'rejected');
        this.txn = undefined;
        return this.next();
      case Expect.Quit:
        this.closeConnection();
        return this.afterQuit();
      case Expect.Bdat: {
        run.histograms.record('data', performance.now() - sentAt);
        const t = this.txn!;
        if (!ok) {
          if (!t.mailFailed && t.accepted > 0 && !this.problem('data', 'BDAT rejected', code, text)) return;
          if (closing) return this.abandon();
          // Lock-step: no more chunks (RFC 3030); pipelined, the rest are on their way.
          if (!this.pipelining) return this.send('RSET', Expect.Rset);
          return;
        }
        if (!this.pipelining) this.sendChunk(t);
        return;
      }
    }
  }

  /**
   * An unexpected reply: a warning with -A (returns true, the caller goes on), else the end
   * of the run (returns false).
   */
  private problem(stage: Stage, what: string, code: number, text: string): boolean {
    const run = this.run;
    const t = stage === 'dot' ? this.finishing : this.txn;
    if (t !== undefined && t.errorCode === 0) {
      t.errorCode = code;
      t.errorText = text;
    }
    run.counters.reject(stage, code);
    if (code === 421 || code === 521) run.counters.serverClosed++;
    const message = `${what}: ${code} ${printableString(text)}`;
    if (!run.options.allowReject) {
      this.endAll('rejected', code, text);
      run.fatal(message, this);
      return false;
    }
    run.log.warning(message);
    return true;
  }

  /**
   * Ends every message this session has under way, and any it had claimed. The reply (or
   * failure) belongs to the oldest one; an envelope pipelined behind it never got an answer
   * of its own, so it failed rather than was rejected.
   */
  private endAll(status: 'rejected' | 'failed', code?: number, text?: string): void {
    const finishing = this.finishing;
    const txn = this.txn;
    this.finishing = undefined;
    if (finishing !== undefined) {
      this.messageDone(finishing, status, code, text);
      this.failPipelinedEnvelope();
    } else if (txn !== undefined) {
      this.txn = undefined;
      this.messageDone(txn, status, code, text);
    }
    this.dropPending();
  }

  /** The next message's envelope, sent behind a "." whose reply ended the session. */
  private failPipelinedEnvelope(): void {
    const txn = this.txn;
    this.txn = undefined;
    if (txn !== undefined) this.messageDone(txn, 'failed', 0, 'connection closed before its envelope was answered');
  }

  private messageDone(t: Transaction, status: 'accepted' | 'rejected' | 'failed', code?: number, text?: string): void {
    const run = this.run;
    const now = performance.now();
    if (status === 'accepted') {
      run.counters.messagesAccepted++;
      // The closed model's view: from MAIL. The open model adds the view from the due time (engine).
      run.histograms.record('message', now - t.startMs);
    } else if (status === 'rejected') {
      run.counters.messagesRejected++;
    } else {
      run.counters.messagesFailed++;
    }
    // The reply that tells the message's fate: the end-of-data one, or what refused it first.
    const refused = status !== 'accepted' && t.errorCode !== 0;
    run.messageEnded(this.id, t, status, code ?? (refused ? t.errorCode : t.firstCode), text ?? (refused ? t.errorText : t.firstText), now);
  }

  /** After a message: with -d wait and go on on this connection, else QUIT first. */
  private next(): void {
    if (this.run.options.reuseConnection) {
      this.run.afterMessageWait(() => this.start());
    } else {
      this.quit();
    }
  }

  private afterQuit(): void {
    if (this.run.options.reuseConnection) {
      this.finish();
      return;
    }
    this.run.afterMessageWait(() => this.start());
  }

  /** 421/521 with -A: drop the connection; the next message starts on a new one. */
  private abandon(): void {
    this.endAll('rejected');
    this.closeConnection();
    this.run.afterMessageWait(() => this.start());
  }

  private closeConnection(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.connected = false;
    this.pipelining = false;
    this.quitQueued = false;
    this.expects.length = 0;
    this.sentAt.length = 0;
    const raw = this.raw;
    if (raw !== undefined) {
      // TLS: the TLS socket has no reset of its own; close both.
      this.raw = undefined;
      this.run.tlsCounters.wireSent += raw.bytesWritten;
      this.run.tlsCounters.wireReceived += raw.bytesRead;
      this.secured = false;
      this.plaintextOk = false;
      this.authenticated = false;
      socket?.destroy();
      raw.destroy();
      return;
    }
    this.authenticated = false;
    // SO_LINGER 0, as the C program: a reset, so new-connection runs leave no TIME_WAIT.
    if (socket === undefined || socket.destroyed) return;
    if (this.run.endpoint.kind === 'inet') socket.resetAndDestroy();
    else socket.destroy(); // a unix socket has no reset
  }

  // ---- failures -----------------------------------------------------------------------------

  private context(): string {
    switch (this.expects[0]) {
      case Expect.Banner:
        return 'reading server greeting';
      case Expect.Helo:
        return `sending ${this.greetingVerb}`;
      case Expect.Mail:
        return 'sending sender';
      case Expect.Rcpt:
        return 'sending recipient';
      case Expect.Data:
        return 'sending DATA command';
      case Expect.StartTls:
        return 'sending STARTTLS';
      case Expect.Handshake:
        return 'in the TLS handshake';
      case Expect.Auth:
        return 'authenticating';
      default:
        return 'sending message';
    }
  }

  private onClose(): void {
    if (!this.connected) return;
    const waiting = this.expects.length > 0;
    const quitOnly = this.expects[0] === Expect.Quit;
    const context = this.context();
    this.closeConnection();
    if (quitOnly) {
      // The server hung up instead of answering QUIT: everything was already said.
      this.afterQuit();
      return;
    }
    if (!waiting && this.txn === undefined && this.finishing === undefined) return; // idle: reconnect on demand
    this.run.counters.lostConnections++;
    this.failed(`lost connection while ${context}`);
  }

  private onTimeout(): void {
    this.run.counters.timeouts++;
    const context = this.context();
    this.closeConnection();
    this.failed(`timeout while ${context}`);
  }

  /** A broken connection: fatal without -A; with -A counted, and the session carries on. */
  private failed(message: string): void {
    this.endAll('failed', 0, message);
    if (!this.run.options.allowReject) {
      this.run.fatal(message, this);
      return;
    }
    this.run.log.warning(message);
    this.run.afterMessageWait(() => this.start());
  }

  /**
   * Called by the run a few times a second. A socket timer would be re-armed on every read
   * and write, which costs more than the rest of a command's handling; one sweep does not.
   */
  checkTimeout(now: number): void {
    if (this.connected && this.expects.length > 0 && now - this.lastActivity >= this.run.options.timeoutSeconds * 1000) {
      this.onTimeout();
    }
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.closeConnection();
    this.run.sessionEnded(this);
  }

  /** Ends the session now (the run is stopping). */
  stop(): void {
    this.endAll('failed', 0, 'stopped');
    this.finish();
  }

  /** The end of a message is out and its reply not in yet: the server may have accepted it. */
  get awaitingEndOfData(): boolean {
    return this.finishing !== undefined || this.expects.includes(Expect.Dot);
  }

  /** True while only a QUIT is outstanding or the session is between messages. */
  get idle(): boolean {
    return this.txn === undefined && this.finishing === undefined && this.pendingSeq === 0;
  }
}

/** Certificate problems as OpenSSL/Node name them (the codes of X509_V_ERR_*). */
const CERT_CODES = /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_|INVALID_CA|ERR_TLS_CERT)/;

/** A failed handshake as one line: what went wrong and the flag that changes it. */
export function tlsFailure(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  // OpenSSL's "80AC...:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:file:line:..." -> its reason.
  const openssl = /:error:[0-9A-Fa-f]+:[^:]*:[^:]*:([^:]+):/.exec(err.message);
  const message = (openssl !== null ? openssl[1] : err.message).replace(/\s+/g, ' ').trim();
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `TLS handshake failed: certificate name mismatch: ${(err as { reason?: string }).reason ?? message} (--tls-servername NAME sets the name to check; --tls-insecure skips verification)`;
  }
  if (CERT_CODES.test(code)) {
    return `TLS handshake failed: certificate not trusted: ${message} (${code}) (--tls-ca FILE trusts its CA; --tls-insecure skips verification)`;
  }
  if (/protocol version|unsupported protocol|no protocols available|wrong version number/i.test(message)) {
    return `TLS handshake failed: no TLS version in common with the server: ${message} (see --tls-min-version)`;
  }
  if (code === 'ECONNRESET' || /socket disconnected/i.test(message)) return `TLS handshake failed: the server closed the connection (${message})`;
  return `TLS handshake failed: ${message}${code !== '' && !message.includes(code) ? ` (${code})` : ''}`;
}
