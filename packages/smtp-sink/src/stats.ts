// What the sink counts. Every abnormal case has its own counter so a report can say what
// the clients did, not just that something went wrong.
import { perSecond } from '@smtpstone/core';
import { COMMAND_NAMES, type CommandName } from './commands.js';

export interface SinkStats {
  /** Connections accepted so far. */
  connections: number;
  /** Connections closed unanswered because the sink was at its file descriptor limit (ulimit -n). */
  overFdLimit: number;
  /** Sessions that have ended (the C sink's "sess"). */
  sessions: number;
  /** Sessions being served now. */
  active: number;
  /** Clients accepted beyond -m, waiting for a slot with no banner yet. */
  waiting: number;
  /** Most clients that ever had to wait for a slot at once. */
  peakWaiting: number;
  /** QUIT commands (the C sink's "quit"). */
  quits: number;
  /** Messages whose end of data was seen (the C sink's "mesg"). */
  messages: number;
  /** Messages whose end of data got a 2xx reply. */
  messagesAccepted: number;
  /** Recipients accepted (RCPT answered 250). */
  recipients: number;
  /** Message bytes received between DATA's 354 and the final ".", as on the wire. */
  bytes: number;
  /** Each command received, by name ("unknown" for the rest, "empty" for blank lines). */
  commands: Record<string, number>;
  /** Replies with code 4xx or 5xx we sent, by code. */
  rejects: Record<string, number>;
  /** Sessions dropped for -q, closed for -Q or -A. */
  faultDisconnects: number;
  /** Sessions that timed out waiting for the client (-t). */
  timeouts: number;
  /** Sessions cut for dripping: a command line not whole within -t, or content below --min-data-rate. */
  deadlines: number;
  /** Command lines longer than the limit (answered 500). */
  longLines: number;
  /** Commands answered 503 for coming out of order. */
  outOfOrder: number;
  /** Clients that went away in the middle of DATA. */
  lostInData: number;
  /** Connections that ended with a socket error (reset and the like). */
  socketErrors: number;
  /** Dump files written (-d, -D). */
  dumps: number;
  /** Dump writes that failed (the message is still acknowledged; see the log). */
  dumpErrors: number;
  /** TLS handshakes completed (STARTTLS or --tls). */
  tlsHandshakes: number;
  /** TLS handshakes that failed: a bad or garbage ClientHello, a hang-up, or a stall past -t. */
  tlsFailures: number;
  /** Completed handshakes by protocol ("TLSv1.3") and by cipher. */
  tlsProtocols: Record<string, number>;
  tlsCiphers: Record<string, number>;
  /** STARTTLS commands with more input pipelined behind them, discarded unread (CVE-2011-0411). */
  starttlsDiscarded: number;
  /** AUTH exchanges answered 235 / 535 (real AUTH only). */
  authSuccesses: number;
  authFailures: number;
  /** Messages whose MAIL carried SMTPUTF8 (--smtputf8), counted at their end of data. */
  smtputf8Messages: number;
  /** When the sink started listening (ms since the epoch). */
  startedAt: number;
  /** Milliseconds since start. */
  elapsedMs: number;
  /** messages / elapsed seconds. */
  messagesPerSecond: number;
}

/** The mutable counters a running sink updates; snapshot() gives a copy with derived rates. */
export class SinkCounters {
  connections = 0;
  overFdLimit = 0;
  sessions = 0;
  active = 0;
  waiting = 0;
  peakWaiting = 0;
  quits = 0;
  messages = 0;
  messagesAccepted = 0;
  recipients = 0;
  bytes = 0;
  /** Indexed by Cmd; unknown and empty at the end. */
  readonly commandCounts = new Array<number>(COMMAND_NAMES.length + 2).fill(0);
  readonly rejects = new Map<number, number>();
  faultDisconnects = 0;
  timeouts = 0;
  deadlines = 0;
  longLines = 0;
  outOfOrder = 0;
  lostInData = 0;
  socketErrors = 0;
  dumps = 0;
  dumpErrors = 0;
  tlsHandshakes = 0;
  tlsFailures = 0;
  readonly tlsProtocols = new Map<string, number>();
  readonly tlsCiphers = new Map<string, number>();
  starttlsDiscarded = 0;
  authSuccesses = 0;
  smtputf8Messages = 0;
  authFailures = 0;
  readonly startedAt = Date.now();
  private readonly startedHr = process.hrtime.bigint();

  countReject(code: number): void {
    this.rejects.set(code, (this.rejects.get(code) ?? 0) + 1);
  }

  countHandshake(protocol: string, cipher: string): void {
    this.tlsHandshakes++;
    this.tlsProtocols.set(protocol, (this.tlsProtocols.get(protocol) ?? 0) + 1);
    this.tlsCiphers.set(cipher, (this.tlsCiphers.get(cipher) ?? 0) + 1);
  }

  elapsedMs(): number {
    return Number(process.hrtime.bigint() - this.startedHr) / 1e6;
  }

  snapshot(): SinkStats {
    const commands: Record<string, number> = {};
    COMMAND_NAMES.forEach((n: CommandName, i) => {
      if (n !== 'connect') commands[n] = this.commandCounts[i];
    });
    commands.unknown = this.commandCounts[COMMAND_NAMES.length];
    commands.empty = this.commandCounts[COMMAND_NAMES.length + 1];
    const rejects: Record<string, number> = {};
    for (const [code, n] of [...this.rejects].sort((a, b) => a[0] - b[0])) rejects[String(code)] = n;
    const elapsedMs = this.elapsedMs();
    return {
      connections: this.connections,
      overFdLimit: this.overFdLimit,
      sessions: this.sessions,
      active: this.active,
      waiting: this.waiting,
      peakWaiting: this.peakWaiting,
      quits: this.quits,
      messages: this.messages,
      messagesAccepted: this.messagesAccepted,
      recipients: this.recipients,
      bytes: this.bytes,
      commands,
      rejects,
      faultDisconnects: this.faultDisconnects,
      timeouts: this.timeouts,
      deadlines: this.deadlines,
      longLines: this.longLines,
      outOfOrder: this.outOfOrder,
      lostInData: this.lostInData,
      socketErrors: this.socketErrors,
      dumps: this.dumps,
      dumpErrors: this.dumpErrors,
      tlsHandshakes: this.tlsHandshakes,
      tlsFailures: this.tlsFailures,
      tlsProtocols: Object.fromEntries(this.tlsProtocols),
      tlsCiphers: Object.fromEntries(this.tlsCiphers),
      starttlsDiscarded: this.starttlsDiscarded,
      authSuccesses: this.authSuccesses,
      smtputf8Messages: this.smtputf8Messages,
      authFailures: this.authFailures,
      startedAt: this.startedAt,
      elapsedMs: Math.round(elapsedMs),
      messagesPerSecond: Math.round(perSecond(this.messages, elapsedMs) * 1000) / 1000,
    };
  }
}

/** The -c line: "sess=%d quit=%d mesg=%d\r", no newline, as the C sink prints it. */
export function counterLine(s: { sessions: number; quits: number; messages: number }): string {
  return `sess=${s.sessions} quit=${s.quits} mesg=${s.messages}\r`;
}

/** The --stats-interval line. */
export function statsLine(s: SinkStats, intervalMessages: number, intervalMs: number): string {
  const rate = intervalMs > 0 ? ((intervalMessages * 1000) / intervalMs).toFixed(1) : '0.0';
  return (
    `stats: sessions=${s.sessions} active=${s.active} waiting=${s.waiting} messages=${s.messages} ` +
    `recipients=${s.recipients} bytes=${s.bytes} rejects=${Object.values(s.rejects).reduce((a, b) => a + b, 0)} ` +
    `timeouts=${s.timeouts} msg/s=${rate}`
  );
}
