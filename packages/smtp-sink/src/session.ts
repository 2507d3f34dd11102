// One client connection: the SMTP/LMTP state machine of smtp-sink.
//
// Input is handled a chunk at a time, in place: command lines are found with indexOf and
// their verbs matched as bytes; DATA is scanned for its terminator with memmem and, outside
// dump mode, never copied. Replies to everything a chunk held go out in one write, which is
// how the C sink batches replies to pipelined commands. When a reply must wait (-w/-W, -H,
// -A), the rest of the chunk is parked and the socket paused, so later commands are answered
// after the delayed one, in order (the C sink answers them first).
//
// TLS (STARTTLS or --tls) wraps the socket in a TLSSocket and carries on with the same state
// machine on it; AUTH exchanges (when real AUTH is configured) take the next lines as their
// responses. Neither touches the plaintext path beyond a field test per line.
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { EndOfDataScanner, printable } from '@smtpstone/core';
import { Cmd, COMMAND_NAMES, delaySeconds, matchVerb, type ParsedVerb } from './commands.js';
import { DumpWriter } from './dump.js';
import { REPLY, bdatReply, unsupportedOption } from './replies.js';
import { AUTH_REPLY, type AuthExchange, type AuthStep } from './auth.js';
import { TLS_REPLY } from './tls.js';
import type { SinkContext } from './context.js';

const CR = 0x0d;
const LF = 0x0a;
const COLON = 0x3a;
/** Longest command line, CR LF included (the C sink's limit). */
export const MAX_COMMAND_LINE = 2048;
/** Stop reading while this much of our output is still unsent (a client that never reads). */
const MAX_UNSENT = 256 * 1024;

const enum Mode {
  Command,
  Data,
  /** Reading the byte count of a BDAT chunk. */
  Bdat,
  /** STARTTLS answered or --tls: no input is read as SMTP until the handshake is done. */
  Handshake,
  Closed,
}

const ignore = (): void => undefined;

export class SinkSession {
  private mode = Mode.Command;
  /** Input parked while a delayed reply is pending. */
  private parked: Buffer | null = null;
  private parkedAt = 0;
  private suspended = false;
  private out = '';
  /** A command line split across chunks, kept here until its CR LF arrives. */
  private line: Buffer | null = null;
  private lineLength = 0;
  private lineTooLong = false;
  /** The input kept so far ended in CR: an LF at the start of the next chunk ends the line. */
  private partialEndsInCR = false;
  private readonly verb: ParsedVerb = { cmd: Cmd.Unknown, verbStart: 0, verbEnd: 0, argsStart: 0 };
  // The transaction.
  private inTransaction = false;
  private acceptedRecipients = 0;
  /** DATA was accepted in this transaction: the next "." ends a message, not a stray dot. */
  private dataSeen = false;
  // BDAT (--chunking): the chunk being read, and whether the transaction is a BDAT one.
  private bdatSize = 0;
  private bdatLeft = 0;
  private bdatLast = false;
  /** The chunk was refused: its bytes are read and dropped, so the stream stays in step. */
  private bdatDiscard = false;
  private bdatSeen = false;
  /** Bytes of the message so far, as on the wire (for --size-limit). */
  private messageBytes = 0;
  /** MAIL carried SMTPUTF8 (--smtputf8). */
  private smtputf8 = false;
  private proto: 'SMTP' | 'ESMTP' | 'LMTP';
  private heloArgs: string | undefined;
  private mailArgs = '';
  private rcptArgs: string[] = [];
  private startedAt = 0;
  private readonly scanner = new EndOfDataScanner();
  private readonly dump: DumpWriter | undefined;
  private readonly clientAddr: string;
  private timer: NodeJS.Timeout | undefined;
  // Request deadlines. The idle timer (-t) restarts on every byte, so a client dripping a byte
  // now and then could hold a session for ever. A command line must therefore arrive whole
  // within -t of its first byte, and a message's content (DATA, or a BDAT chunk) earns
  // 1/--min-data-rate seconds per byte on top of -t, at most -t ahead: Postfix smtpd's
  // smtpd_per_request_deadline with smtpd_min_data_rate. One lazy timer at most: bytes are
  // only added up as they come, and the timer works out the time left when it fires.
  /** When the line or message under way must be done (Date.now() ms); 0: no deadline running. */
  private deadlineAt = 0;
  /** Message bytes received since the deadline was last moved. */
  private deadlineBytes = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private readonly onDeadlineEvent = (): void => this.onDeadline();
  /** The connection: the accepted socket, then the TLSSocket wrapped around it. */
  private socket: Socket;
  // TLS.
  /** STARTTLS was answered 220; the handshake starts once that reply is sent. */
  private upgradePending = false;
  private tlsStarted = false;
  private secure = false;
  private tlsFailed = false;
  // AUTH (real AUTH only).
  private authenticated = false;
  /** An AUTH exchange waiting for the client's next line. */
  private authExchange: AuthExchange | null = null;
  private ended = false;
  private readonly onData = (chunk: Buffer): void => this.feed(chunk, 0);
  private readonly onTimeoutEvent = (): void => this.onTimeout();
  private readonly onErrorEvent = (err: NodeJS.ErrnoException): void => this.onError(err);
  private readonly onCloseEvent = (): void => this.onClose();
  private readonly onDrain = (): void => {
    // Not while a handshake is pending: a resumed plain socket would lose the ClientHello.
    if (!this.suspended && this.mode < Mode.Handshake) this.socket.resume();
  };

  constructor(
    socket: Socket,
    private readonly ctx: SinkContext,
    private readonly onEnd: (session: SinkSession) => void,
  ) {
    this.socket = socket;
    const o = ctx.options;
    this.proto = o.lmtp ? 'LMTP' : 'SMTP';
    this.clientAddr = clientAddress(socket);
    if (ctx.dumping) {
      this.dump = new DumpWriter(ctx.dumpSettings, (text) => {
        ctx.counters.dumpErrors++;
        ctx.log.warning(text);
      });
    }
    socket.setNoDelay(true);
    socket.setTimeout(o.timeoutSeconds * 1000);
    this.attach(socket);
  }

  private attach(socket: Socket): void {
    socket.on('data', this.onData);
    socket.on('timeout', this.onTimeoutEvent);
    socket.on('error', this.onErrorEvent);
    socket.on('close', this.onCloseEvent);
    socket.on('drain', this.onDrain);
  }

  private get closed(): boolean {
    return this.mode === Mode.Closed;
  }

  /** Sends the banner (or what the fault options make of it) and starts reading. */
  start(): void {
    if (this.ctx.options.verbose > 0) {
      this.ctx.log.info(`connect (${this.clientAddr === 'local' ? 'AF_LOCAL local' : `${familyOf(this.socket)} ${this.clientAddr}`})`);
    }
    if (this.ctx.implicitTls) {
      // --tls: the handshake comes first; the banner follows it (onSecure).
      this.mode = Mode.Handshake;
      this.socket.pause();
      this.wrapTls(this.socket);
      return;
    }
    this.greet();
  }

  private greet(): void {
    this.respond(Cmd.Connect, null, 0, 0);
    this.flush();
  }

  // ---- input ------------------------------------------------------------------------------

  private feed(chunk: Buffer, from: number): void {
    let pos = from;
    const len = chunk.length;
    while (pos < len && !this.suspended && this.mode < Mode.Handshake) {
      pos = this.mode === Mode.Command ? this.feedCommand(chunk, pos) : this.mode === Mode.Data ? this.feedData(chunk, pos) : this.feedBdat(chunk, pos);
    }
    if (this.upgradePending) {
      // Whatever the client sent after STARTTLS, before the handshake, is dropped unread: it
      // came in the clear and must not be executed as if it had come under TLS (the STARTTLS
      // command injection of CVE-2011-0411, RFC 3207 section 6).
      if (pos < len) this.ctx.counters.starttlsDiscarded++;
      this.beginTls();
      return;
    }
    if (this.suspended && pos < len && !this.closed) {
      this.parked = chunk;
      this.parkedAt = pos;
    }
    this.flush();
  }

  /** Handles at most one command line from chunk[pos..]; returns where the next input starts. */
  private feedCommand(chunk: Buffer, pos: number): number {
    const lf = chunk.indexOf(LF, pos);
    if (lf < 0) {
      this.keepPartialLine(chunk, pos, chunk.length);
      return chunk.length;
    }
    // An overlong line keeps no bytes, so whether its last chunk ended in CR is kept apart.
    const crBefore = lf > pos ? chunk[lf - 1] === CR : (this.lineLength > 0 || this.lineTooLong) && this.partialEndsInCR;
    if (!crBefore) {
      // A bare LF does not end a command: it stays inside the line, as in the C sink.
      this.keepPartialLine(chunk, pos, lf + 1);
      return lf + 1;
    }
    if (this.lineLength === 0 && !this.lineTooLong) {
      if (lf + 1 - pos > MAX_COMMAND_LINE) this.tooLong();
      else this.command(chunk, pos, lf - 1);
    } else {
      this.keepPartialLine(chunk, pos, lf + 1);
      this.deadlineAt = 0;
      if (this.lineTooLong) this.tooLong();
      else this.command(this.line!, 0, this.lineLength - 2);
      this.lineLength = 0;
      this.lineTooLong = false;
    }
    return lf + 1;
  }

  private keepPartialLine(chunk: Buffer, from: number, to: number): void {
    if (to > from) this.partialEndsInCR = chunk[to - 1] === CR;
    if (this.lineTooLong) return;
    if (this.lineLength === 0) this.startDeadline();
    const n = to - from;
    if (this.lineLength + n > MAX_COMMAND_LINE) {
      this.lineTooLong = true;
      this.lineLength = 0;
      return;
    }
    if (this.line === null) this.line = Buffer.allocUnsafe(MAX_COMMAND_LINE);
    chunk.copy(this.line, this.lineLength, from, to);
    this.lineLength += n;
  }

  private tooLong(): void {
    this.authExchange = null;
    this.ctx.counters.longLines++;
    this.ctx.log.warning('command line too long');
    this.reply(REPLY.lineTooLong);
  }

  private feedData(chunk: Buffer, pos: number): number {
    const end = this.scanner.scan(chunk, pos);
    const stop = end < 0 ? chunk.length : end;
    this.ctx.counters.bytes += stop - pos;
    this.messageBytes += stop - pos;
    this.deadlineBytes += stop - pos;
    this.dump?.write(chunk, pos, stop);
    if (end < 0) return stop;
    // The ".\r\n" that ended the message is not part of it.
    this.ctx.counters.bytes -= 3;
    this.messageBytes -= 3;
    this.mode = Mode.Command;
    this.deadlineAt = 0;
    this.endOfData();
    return end;
  }

  /** BDAT content: taken by count, as it is (no dot-unstuffing, no end-of-data scan). */
  private feedBdat(chunk: Buffer, pos: number): number {
    const n = Math.min(this.bdatLeft, chunk.length - pos);
    const stop = pos + n;
    this.deadlineBytes += n;
    if (!this.bdatDiscard) {
      this.ctx.counters.bytes += n;
      this.messageBytes += n;
      this.dump?.write(chunk, pos, stop);
    }
    this.bdatLeft -= n;
    if (this.bdatLeft === 0) this.chunkDone();
    return stop;
  }

  /** A BDAT chunk has been read whole: its reply, or the end of the message after LAST. */
  private chunkDone(): void {
    this.mode = Mode.Command;
    this.deadlineAt = 0;
    if (this.bdatDiscard) {
      // Refused (503, or -f/-r bdat): a BDAT transaction under way is over.
      if (this.bdatSeen) this.resetTransaction(true);
      return;
    }
    if (!this.bdatLast) {
      this.reply(bdatReply(this.bdatSize));
      return;
    }
    this.dump?.endRaw();
    this.endOfData();
  }

  /**
   * "BDAT n [LAST]": sets up reading n bytes, refused until the command is accepted. A bad
   * count leaves no way to find the next command (RFC 3030 section 3): 501, then close.
   */
  private bdatHeader(line: Buffer, start: number, end: number): boolean {
    let i = start;
    while (i < end && (line[i] === 0x20 || line[i] === 0x09)) i++;
    let n = 0;
    const digits = i;
    while (i < end && line[i] >= 0x30 && line[i] <= 0x39 && i - digits < 15) n = n * 10 + line[i++] - 0x30;
    if (i === digits || (i < end && line[i] !== 0x20 && line[i] !== 0x09)) return false;
    while (i < end && (line[i] === 0x20 || line[i] === 0x09)) i++;
    let last = false;
    if (i + 4 <= end && (line[i] | 0x20) === 0x6c && (line[i + 1] | 0x20) === 0x61 && (line[i + 2] | 0x20) === 0x73 && (line[i + 3] | 0x20) === 0x74) {
      last = true;
      i += 4;
      while (i < end && (line[i] === 0x20 || line[i] === 0x09)) i++;
    }
    if (i !== end) return false;
    this.bdatSize = n;
    this.bdatLeft = n;
    this.bdatLast = last;
    this.bdatDiscard = true;
    this.mode = Mode.Bdat;
    if (n > 0) this.startDeadline();
    return true;
  }

  // ---- commands ---------------------------------------------------------------------------

  private command(line: Buffer, start: number, end: number): void {
    const ctx = this.ctx;
    if (this.authExchange !== null) {
      // The line answers a 334; it is not logged (it carries credentials).
      this.authStepped(ctx.authenticator!.step(line.toString('latin1', start, end), this.authExchange), this.authExchange);
      return;
    }
    if (ctx.options.verbose > 0) ctx.log.info(printable(line, start, end));
    matchVerb(line, start, end, this.verb);
    const cmd = this.verb.cmd;
    const counts = ctx.counters.commandCounts;
    if (cmd === Cmd.Empty) {
      counts[COMMAND_NAMES.length + 1]++;
      this.reject(REPLY.empty);
      return;
    }
    if (cmd === Cmd.Unknown || !ctx.enabled[cmd]) {
      counts[COMMAND_NAMES.length]++;
      this.reject(REPLY.unknown);
      return;
    }
    counts[cmd]++;
    if (ctx.draining && cmd !== Cmd.Quit) {
      this.reject(REPLY.closing);
      this.close(false);
      return;
    }
    if (cmd === Cmd.Bdat) {
      if (!this.bdatHeader(line, this.verb.argsStart, end)) {
        this.reject(REPLY.bdatSyntax);
        this.close(false);
        return;
      }
      this.respond(cmd, line, this.verb.argsStart, end);
      // A refused empty chunk (-f/-r bdat) is over at once; a delayed one waits for its reply.
      if (this.mode === Mode.Bdat && this.bdatLeft === 0 && !this.suspended) this.chunkDone();
      return;
    }
    this.respond(cmd, line, this.verb.argsStart, end);
  }

  /** The C sink's command_resp(): log, then faults in order, then a delay, then the reply. */
  private respond(cmd: Cmd, line: Buffer | null, argsStart: number, end: number): void {
    const ctx = this.ctx;
    const f = ctx.faults;
    if (f.log[cmd]) {
      if (line === null) ctx.syslog(COMMAND_NAMES[cmd as number] as string, '');
      else ctx.syslog(printable(line, this.verb.verbStart, this.verb.verbEnd), printable(line, argsStart, end).slice(0, 100));
    }
    if (f.disconnect[cmd]) {
      ctx.counters.faultDisconnects++;
      this.close(true);
      return;
    }
    if (f.close[cmd]) {
      ctx.counters.faultDisconnects++;
      this.reject(REPLY.closing);
      this.close(false);
      return;
    }
    if (f.hardReject[cmd] || f.softReject[cmd]) {
      const text = f.hardReject[cmd] ? ctx.hardReply : ctx.softReply;
      const times = cmd === Cmd.Dot && this.mode === Mode.Command && this.inTransaction && this.proto === 'LMTP' ? this.acceptedRecipients : 1;
      for (let i = 0; i < times; i++) this.reject(text);
      if (cmd === Cmd.Dot && this.inTransaction) this.resetTransaction(false);
      return;
    }
    const delay = f.delay[cmd];
    if (delay !== undefined) {
      const seconds = delaySeconds(delay);
      if (seconds > 0) {
        // The arguments must outlive this chunk.
        const args = line === null ? null : Buffer.from(line.subarray(argsStart, end));
        this.suspend(seconds, () => {
          this.perform(cmd, args, 0, args === null ? 0 : args.length);
          if (cmd === Cmd.Dot) this.checkMessageLimit();
        });
        return;
      }
    }
    this.perform(cmd, line, argsStart, end);
  }

  /** The normal reply to a command, with its effect on the session. */
  private perform(cmd: Cmd, line: Buffer | null, argsStart: number, end: number): void {
    const ctx = this.ctx;
    switch (cmd) {
      case Cmd.Connect:
        this.reply(ctx.banner);
        return;
      case Cmd.Helo:
        this.greeting(line!, argsStart, end, 'SMTP');
        this.reply(ctx.heloReply);
        return;
      case Cmd.Ehlo:
        this.greeting(line!, argsStart, end, 'ESMTP');
        this.reply(this.secure ? ctx.ehloReplyTls : ctx.ehloReply);
        return;
      case Cmd.Lhlo:
        this.greeting(line!, argsStart, end, 'LMTP');
        this.reply(this.secure ? ctx.ehloReplyTls : ctx.ehloReply);
        return;
      case Cmd.Auth:
        // Without real AUTH configured, "250 2.0.0 Ok" to anything, as the original.
        if (ctx.authenticator === undefined) this.reply(REPLY.ok);
        else this.auth(line!, argsStart, end);
        return;
      case Cmd.Starttls:
        this.starttls(argsStart < end);
        return;
      case Cmd.Xclient:
      case Cmd.Xforward:
      case Cmd.Noop:
      case Cmd.Vrfy:
        this.reply(REPLY.ok);
        return;
      case Cmd.Mail:
        if (ctx.mailGated && this.mailRefused()) return;
        if (this.inTransaction) {
          this.outOfOrder(REPLY.nestedMail);
          return;
        }
        if (ctx.checkParams && this.mailRefusedByParams(line!, argsStart, end)) return;
        this.inTransaction = true;
        this.acceptedRecipients = 0;
        this.startedAt = Date.now();
        if (ctx.dumping) {
          this.mailArgs = afterColon(line!, argsStart, end);
          this.rcptArgs = [];
        }
        this.reply(REPLY.mailOk);
        return;
      case Cmd.Rcpt:
        if (!this.inTransaction) {
          this.outOfOrder(REPLY.needMail);
          return;
        }
        if (ctx.checkParams && this.rcptRefusedByParams(line!, argsStart, end)) return;
        this.acceptedRecipients++;
        ctx.counters.recipients++;
        if (ctx.dumping) this.rcptArgs.push(afterColon(line!, argsStart, end));
        this.reply(REPLY.rcptOk);
        return;
      case Cmd.Data:
        if (!this.inTransaction || this.acceptedRecipients === 0) {
          this.outOfOrder(REPLY.needRcpt);
          return;
        }
        if (this.bdatSeen) {
          this.outOfOrder(REPLY.bdatAfterData);
          return;
        }
        this.reply(REPLY.dataGo);
        this.startData();
        return;
      case Cmd.Bdat:
        if (!this.inTransaction || this.acceptedRecipients === 0) {
          this.outOfOrder(REPLY.needRcpt);
        } else {
          this.bdatDiscard = false;
          if (!this.bdatSeen) this.startBdat();
        }
        if (this.mode === Mode.Bdat && this.bdatLeft === 0) this.chunkDone();
        return;
      case Cmd.Dot:
        if (this.inTransaction && this.mode === Mode.Command && this.dataSeen) {
          this.dataSeen = false;
          const limit = ctx.options.sizeLimit;
          if (limit !== undefined && this.messageBytes > limit) {
            const times = this.proto === 'LMTP' ? this.acceptedRecipients : 1;
            for (let i = 0; i < times; i++) this.reject(REPLY.sizeExceeded);
            this.resetTransaction(false);
            return;
          }
          ctx.counters.messagesAccepted++;
          if (this.proto === 'LMTP') {
            for (let i = 0; i < this.acceptedRecipients; i++) this.reply(REPLY.lmtpDotOk);
          } else {
            this.reply(REPLY.ok);
          }
          this.resetTransaction(false);
        } else {
          // A "." outside DATA: the C sink says Ok in SMTP mode (and nothing in LMTP mode,
          // which leaves an LMTP client waiting forever); we say Ok in both.
          this.reply(REPLY.ok);
        }
        return;
      case Cmd.Rset:
        this.resetTransaction(true);
        this.reply(REPLY.rsetOk);
        return;
      case Cmd.Quit:
        ctx.counters.quits++;
        this.reply(REPLY.bye);
        this.close(false);
        return;
      default:
        this.reject(REPLY.unknown);
    }
  }

  /** --require-tls / --require-auth: refuses MAIL (530) when the session lacks what they ask. */
  private mailRefused(): boolean {
    const o = this.ctx.options;
    if (o.requireTls && !this.secure) {
      this.reject(TLS_REPLY.required);
      return true;
    }
    if (o.requireAuth && !this.authenticated) {
      this.reject(AUTH_REPLY.required);
      return true;
    }
    return false;
  }

  // ---- MAIL and RCPT parameters (only with --size-limit, --smtputf8 or -N) ----------------

  private mailRefusedByParams(line: Buffer, start: number, end: number): boolean {
    const o = this.ctx.options;
    const { address, params } = splitPath(line, start, end);
    let utf8 = false;
    for (const p of params) {
      const eq = p.indexOf('=');
      const key = (eq < 0 ? p : p.slice(0, eq)).toUpperCase();
      if (key === 'SIZE' && o.sizeLimit !== undefined && eq >= 0 && /^\d+$/.test(p.slice(eq + 1)) && Number(p.slice(eq + 1)) > o.sizeLimit) {
        this.reject(REPLY.sizeExceeded);
        return true;
      }
      if (key === 'SMTPUTF8' && o.smtputf8) utf8 = true;
      if ((key === 'RET' || key === 'ENVID') && !o.announce.dsn) {
        this.reject(unsupportedOption(printable(Buffer.from(p, 'latin1'), 0, p.length)));
        return true;
      }
    }
    if (o.smtputf8 && !utf8 && nonAscii(address)) {
      this.reject(REPLY.needSmtputf8);
      return true;
    }
    this.smtputf8 = utf8;
    return false;
  }

  private rcptRefusedByParams(line: Buffer, start: number, end: number): boolean {
    const o = this.ctx.options;
    const { address, params } = splitPath(line, start, end);
    if (!o.announce.dsn) {
      for (const p of params) {
        const key = p.slice(0, p.indexOf('=') < 0 ? p.length : p.indexOf('=')).toUpperCase();
        if (key === 'NOTIFY' || key === 'ORCPT') {
          this.reject(unsupportedOption(printable(Buffer.from(p, 'latin1'), 0, p.length)));
          return true;
        }
      }
    }
    if (o.smtputf8 && !this.smtputf8 && nonAscii(address)) {
      this.reject(REPLY.needSmtputf8);
      return true;
    }
    return false;
  }

  // ---- AUTH -------------------------------------------------------------------------------

  private auth(line: Buffer, argsStart: number, end: number): void {
    const ctx = this.ctx;
    if (this.authenticated) {
      this.outOfOrder(AUTH_REPLY.already);
      return;
    }
    if (this.inTransaction) {
      this.outOfOrder(AUTH_REPLY.inTransaction);
      return;
    }
    const exchange: AuthExchange = { mechanism: 'PLAIN' };
    this.authStepped(ctx.authenticator!.begin(line.toString('latin1', argsStart, end), exchange), exchange);
  }

  private authStepped(step: AuthStep, exchange: AuthExchange): void {
    const counters = this.ctx.counters;
    this.authExchange = step.state === 'more' ? exchange : null;
    switch (step.state) {
      case 'more':
        this.reply(step.reply);
        return;
      case 'success':
        this.authenticated = true;
        counters.authSuccesses++;
        this.reply(step.reply);
        return;
      case 'failure':
        counters.authFailures++;
        this.reject(step.reply);
        return;
      case 'aborted':
        this.reject(step.reply);
    }
  }

  // ---- TLS --------------------------------------------------------------------------------

  private starttls(hasArgs: boolean): void {
    if (this.secure) {
      this.outOfOrder(TLS_REPLY.already);
      return;
    }
    if (hasArgs) {
      this.reject(TLS_REPLY.syntax);
      return;
    }
    this.reply(TLS_REPLY.ready);
    this.mode = Mode.Handshake;
    this.upgradePending = true;
  }

  /** Sends the 220 to STARTTLS, then wraps the socket once it is out. */
  private beginTls(): void {
    this.upgradePending = false;
    const plain = this.socket;
    // Paused, the socket keeps what arrives (the ClientHello) for the TLSSocket to read.
    plain.pause();
    plain.removeListener('data', this.onData);
    const out = this.out;
    this.out = '';
    plain.write(out, (err) => {
      if (err == null) this.wrapTls(plain);
    });
  }

  private wrapTls(plain: Socket): void {
    if (this.closed || plain.destroyed) return;
    const ctx = this.ctx;
    plain.removeListener('data', this.onData);
    plain.removeListener('timeout', this.onTimeoutEvent);
    plain.removeListener('error', this.onErrorEvent);
    plain.removeListener('drain', this.onDrain);
    plain.on('error', ignore);
    plain.setTimeout(0);
    const secure = new TLSSocket(plain, { isServer: true, secureContext: ctx.tls!.context });
    this.socket = secure;
    this.tlsStarted = true;
    this.attach(secure);
    // -t covers the handshake too: a client that stalls in it is dropped and counted.
    secure.setTimeout(ctx.options.timeoutSeconds * 1000);
    secure.once('secure', () => this.onSecure(secure));
  }

  private onSecure(secure: TLSSocket): void {
    if (this.closed) return;
    const ctx = this.ctx;
    const protocol = secure.getProtocol() ?? 'unknown';
    const cipher = secure.getCipher()?.name ?? 'unknown';
    ctx.counters.countHandshake(protocol, cipher);
    if (ctx.options.verbose > 0) ctx.log.info(`TLS established: ${protocol} ${cipher}`);
    this.secure = true;
    // RFC 3207 section 4.2: forget everything learned before the handshake; the client
    // starts over with EHLO.
    this.resetTransaction(true);
    this.proto = ctx.options.lmtp ? 'LMTP' : 'SMTP';
    this.heloArgs = undefined;
    this.authenticated = false;
    this.authExchange = null;
    this.lineLength = 0;
    this.lineTooLong = false;
    this.mode = Mode.Command;
    if (ctx.implicitTls) this.greet();
  }

  private tlsFailure(why: string): void {
    if (this.tlsFailed) return;
    this.tlsFailed = true;
    this.ctx.counters.tlsFailures++;
    if (this.ctx.options.verbose > 0) this.ctx.log.warning(`TLS handshake failed: ${why}`);
  }

  private greeting(line: Buffer, argsStart: number, end: number, proto: 'SMTP' | 'ESMTP' | 'LMTP'): void {
    this.resetTransaction(true);
    this.proto = this.ctx.options.lmtp ? 'LMTP' : proto;
    if (this.ctx.dumping) this.heloArgs = printable(line, argsStart, end).replace(/^[ \t]+/, '');
  }

  private startData(): void {
    const ctx = this.ctx;
    const o = ctx.options;
    this.mode = Mode.Data;
    this.dataSeen = true;
    this.messageBytes = 0;
    this.startDeadline();
    this.scanner.reset();
    this.dump?.begin({
      clientAddr: this.clientAddr,
      proto: this.proto,
      heloArgs: this.heloArgs,
      mailArgs: this.mailArgs,
      rcptArgs: this.rcptArgs,
      startedAt: this.startedAt,
    });
    if (o.abortAfterDataSeconds !== undefined) {
      // -A: read nothing more; later send 550 and hang up.
      const abort = (): void => {
        ctx.counters.faultDisconnects++;
        this.reject(REPLY.violation);
        this.close(false);
      };
      if (o.abortAfterDataSeconds === 0) {
        this.suspended = true;
        this.socket.pause();
        abort();
      } else {
        this.suspend(o.abortAfterDataSeconds, abort, false);
      }
      return;
    }
    if (o.dataReadDelaySeconds > 0) this.suspend(o.dataReadDelaySeconds, () => undefined);
  }

  /** The first accepted BDAT of a transaction: the message starts (raw, for the dump). */
  private startBdat(): void {
    this.bdatSeen = true;
    this.dataSeen = true;
    this.messageBytes = 0;
    this.dump?.begin(
      {
        clientAddr: this.clientAddr,
        proto: this.proto,
        heloArgs: this.heloArgs,
        mailArgs: this.mailArgs,
        rcptArgs: this.rcptArgs,
        startedAt: this.startedAt,
      },
      false,
    );
  }

  private endOfData(): void {
    const ctx = this.ctx;
    ctx.counters.messages++;
    if (this.smtputf8) ctx.counters.smtputf8Messages++;
    if (ctx.options.verbose > 0) ctx.log.info('.');
    if (this.dump !== undefined && this.dump.finish(this.startedAt)) ctx.counters.dumps++;
    ctx.onMessage();
    if (ctx.draining) {
      // The sink is stopping (-M/-n reached while this message was on its way): refuse it.
      const times = this.proto === 'LMTP' ? this.acceptedRecipients : 1;
      for (let i = 0; i < times; i++) this.reject(REPLY.closing);
      this.resetTransaction(false);
      this.close(false);
      return;
    }
    this.respond(Cmd.Dot, null, 0, 0);
    // A message whose "." was rejected or dropped still counts toward -M; a delayed reply
    // checks once it has been sent.
    if (!this.suspended) this.checkMessageLimit();
  }

  private checkMessageLimit(): void {
    const max = this.ctx.options.maxMessages;
    if (max !== undefined && this.ctx.counters.messages >= max) {
      this.flush();
      this.ctx.limitReached(`${max} messages received`);
    }
  }

  private resetTransaction(abortDump: boolean): void {
    if (abortDump && this.mode !== Mode.Data) this.dump?.abort();
    this.inTransaction = false;
    this.acceptedRecipients = 0;
    this.dataSeen = false;
    this.bdatSeen = false;
    this.smtputf8 = false;
  }

  // ---- output and timers ------------------------------------------------------------------

  private reply(text: string): void {
    this.out += text;
  }

  /** A command in the wrong place: counted, and refused with its reply. */
  private outOfOrder(text: string): void {
    this.ctx.counters.outOfOrder++;
    this.reject(text);
  }

  private reject(text: string): void {
    this.ctx.counters.countReject(replyCode(text));
    this.out += text;
  }

  private flush(): void {
    if (this.out === '' || this.closed) return;
    const ok = this.socket.write(this.out);
    this.out = '';
    if (!ok && this.socket.writableLength > MAX_UNSENT) this.socket.pause();
  }

  /**
   * Parks input for `seconds`, then runs `then` and carries on with the parked input. The
   * idle timer is off meanwhile: our own delay is not the client's silence.
   */
  private suspend(seconds: number, then: () => void, resume = true): void {
    this.suspended = true;
    this.socket.pause();
    this.socket.setTimeout(0);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.closed) return;
      then();
      if (this.upgradePending) {
        // A delayed STARTTLS: what was parked behind it is dropped, as in feed().
        this.suspended = false;
        if (this.parked !== null) this.ctx.counters.starttlsDiscarded++;
        this.parked = null;
        this.beginTls();
        return;
      }
      this.flush();
      if (!resume || this.closed) return;
      this.suspended = false;
      this.socket.setTimeout(this.ctx.options.timeoutSeconds * 1000);
      const parked = this.parked;
      this.parked = null;
      if (parked !== null) this.feed(parked, this.parkedAt);
      if (!this.suspended && !this.closed) this.socket.resume();
    }, seconds * 1000);
  }

  /** Ends the session: with a reset when `abrupt`, else after what we wrote is sent. */
  private close(abrupt: boolean): void {
    if (this.closed) return;
    if (abrupt) {
      this.out = '';
      this.mode = Mode.Closed;
      this.socket.destroy();
      return;
    }
    const out = this.out;
    this.out = '';
    this.mode = Mode.Closed;
    // Once the last reply is handed to the kernel the session is over: closing now spares
    // the reset a client like smtp-source sends back (SO_LINGER 0) and its error object.
    const socket = this.socket;
    socket.end(out, () => socket.destroy());
    // A client that never reads must not keep us waiting for the FIN to drain.
    socket.setTimeout(this.ctx.options.timeoutSeconds * 1000);
  }

  /** Starts the deadline of a command line or a message's content: -t from now. */
  private startDeadline(): void {
    const o = this.ctx.options;
    if (!o.requestDeadline) return;
    this.deadlineAt = Date.now() + o.timeoutSeconds * 1000;
    this.deadlineBytes = 0;
    // A timer still pending from an earlier line is due sooner; it re-arms for the rest.
    if (this.deadlineTimer === undefined) this.deadlineTimer = setTimeout(this.onDeadlineEvent, o.timeoutSeconds * 1000);
  }

  private onDeadline(): void {
    this.deadlineTimer = undefined;
    if (this.deadlineAt === 0 || this.closed) return;
    const o = this.ctx.options;
    const now = Date.now();
    const limit = o.timeoutSeconds * 1000;
    const inMessage = this.mode === Mode.Data || this.mode === Mode.Bdat;
    if (this.suspended || this.socket.isPaused()) {
      // Our own delay (-w, -H, -A) or a client not reading our replies: not its slowness.
      this.deadlineAt = Math.max(this.deadlineAt, now + limit);
    } else if (inMessage) {
      this.deadlineAt = Math.min(this.deadlineAt + (this.deadlineBytes * 1000) / o.minDataRate, now + limit);
    }
    this.deadlineBytes = 0;
    if (this.deadlineAt > now) {
      this.deadlineTimer = setTimeout(this.onDeadlineEvent, this.deadlineAt - now);
      return;
    }
    this.ctx.counters.deadlines++;
    this.ctx.log.warning(
      inMessage
        ? `message deadline exceeded: content slower than ${o.minDataRate} bytes/s (--min-data-rate) after ${this.messageBytes} bytes`
        : `command deadline exceeded: no whole command line within ${o.timeoutSeconds} s (-t)`,
    );
    this.close(true);
  }

  private onTimeout(): void {
    if (this.closed) {
      this.socket.destroy();
      return;
    }
    this.ctx.counters.timeouts++;
    if (this.tlsStarted && !this.secure) {
      this.tlsFailure('timeout');
      this.ctx.log.warning('TLS handshake timeout');
      this.close(true);
      return;
    }
    this.ctx.log.warning('read timeout');
    this.close(true);
  }

  private onError(err: NodeJS.ErrnoException): void {
    if (this.tlsStarted && !this.secure) {
      // A failed handshake: counted on its own, and the connection dropped.
      this.tlsFailure(err.code ?? err.message);
      this.close(true);
      return;
    }
    // A reset after we already closed is the client's business, not an error of the session.
    if (!this.closed) {
      this.ctx.counters.socketErrors++;
      if (this.ctx.options.verbose > 0) this.ctx.log.warning(`lost connection: ${err.code ?? err.message}`);
    }
  }

  private onClose(): void {
    if (this.ended) return;
    this.ended = true;
    // A client that hangs up in the middle of the handshake failed it too.
    if (this.tlsStarted && !this.secure && this.mode !== Mode.Closed) this.tlsFailure('connection closed');
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    const wasInData = this.mode === Mode.Data || this.mode === Mode.Bdat;
    if (wasInData) this.ctx.counters.lostInData++;
    this.mode = Mode.Closed;
    this.dump?.abort();
    if (this.ctx.options.verbose > 0) this.ctx.log.info('disconnect');
    this.onEnd(this);
  }

  /** Drops the connection (used when the sink shuts down). */
  destroy(): void {
    this.socket.destroy();
  }
}

function replyCode(text: string): number {
  return (text.charCodeAt(0) - 48) * 100 + (text.charCodeAt(1) - 48) * 10 + (text.charCodeAt(2) - 48);
}

/** MAIL/RCPT arguments as the dump shows them: after the first ':', leading spaces dropped. */
function afterColon(line: Buffer, start: number, end: number): string {
  const colon = line.indexOf(COLON, start);
  const from = colon >= 0 && colon < end ? colon + 1 : start;
  return printable(line, from, end).replace(/^ +/, '');
}

/** The path of MAIL/RCPT ("<...>" or a bare word after the colon) and the parameters after it. */
function splitPath(line: Buffer, start: number, end: number): { address: Buffer; params: string[] } {
  let from = line.indexOf(COLON, start);
  from = from >= 0 && from < end ? from + 1 : start;
  while (from < end && line[from] === 0x20) from++;
  let to: number;
  if (line[from] === 0x3c) {
    to = line.indexOf(0x3e, from);
    to = to >= 0 && to < end ? to + 1 : end;
  } else {
    to = from;
    while (to < end && line[to] !== 0x20) to++;
  }
  const params = line.toString('latin1', to, end).split(/[ \t]+/).filter((p) => p !== '');
  return { address: line.subarray(from, to), params };
}

function nonAscii(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] >= 0x80) return true;
  return false;
}

function clientAddress(socket: Socket): string {
  const a = socket.remoteAddress;
  if (a === undefined) return 'local';
  if (a.startsWith('::ffff:') && a.includes('.')) return a.slice(7);
  return a.includes(':') ? `ipv6:${a}` : a;
}

function familyOf(socket: Socket): string {
  return socket.remoteFamily === 'IPv6' && !(socket.remoteAddress ?? '').startsWith('::ffff:') ? 'AF_INET6' : 'AF_INET';
}
