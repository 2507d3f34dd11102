// The settings of one sink, as the API takes them. The CLI maps smtp-sink's flags onto
// these; every default is the C sink's.
import type { Endpoint } from '@smtpstone/core';
import type { Announce } from './replies.js';
import type { CommandDelay, CommandName } from './commands.js';
import { DEFAULT_AUTH_MECHANISMS, type AuthSettings } from './auth.js';

export interface SinkOptions {
  /** Where to listen: "[inet:][host]:port" or "unix:/path" (port 0 picks a free port). */
  listen: string | Endpoint;
  /** listen(2) backlog. */
  backlog: number;
  /** -4 / -6: the address family to listen on. */
  family: 'any' | 'ipv4' | 'ipv6';
  /** -h: name in the banner, HELO/EHLO replies and the Received: header of dumps. */
  hostname: string;
  /** -L: speak LMTP (only LHLO; one end-of-data reply per accepted recipient). */
  lmtp: boolean;
  /** -e clears it: banner without "ESMTP", EHLO unknown. */
  esmtp: boolean;
  /** -P: banner "220 ********" (implies esmtp false). */
  pix: boolean;
  /** What EHLO announces (-p -8 -a -C -F -E -N). */
  announce: Announce;
  /** -C clears it: the XCLIENT command answers 500. */
  xclient: boolean;
  /** -F clears it: the XFORWARD command answers 500. */
  xforward: boolean;
  /** -b: the soft error reply, without CRLF. */
  softReply: string;
  /** -B: the hard error reply, without CRLF. */
  hardReply: string;
  /** -f: commands answered with the hard error reply. */
  hardReject: CommandName[];
  /** -r: commands answered with the soft error reply. */
  softReject: CommandName[];
  /** -q: commands that get no reply: the connection is dropped. */
  disconnect: CommandName[];
  /** -Q: commands answered "421 4.0.0 Server closing connection", then the connection closes. */
  close: CommandName[];
  /** -s: commands logged as syslog-style lines on stderr. */
  log: CommandName[];
  /** -w / -W: reply delays. */
  delays: CommandDelay[];
  /** -A: after 354, read nothing more; after this many seconds send 550 and close. */
  abortAfterDataSeconds?: number;
  /** -H: after 354, wait this many seconds before reading the message. */
  dataReadDelaySeconds: number;
  /** -m: most clients served at once; more wait, accepted but unread, with no banner. */
  maxClients: number;
  /** -M: stop after this many messages (the last one still gets its reply). */
  maxMessages?: number;
  /** -n: stop after this many sessions have ended. */
  maxSessions?: number;
  /** -t: idle timeout in seconds for reading a command or data, and for writes. */
  timeoutSeconds: number;
  /**
   * Request deadlines (default on): a command line must arrive whole within -t of its first
   * byte, and message content at --min-data-rate on average, so a dripping client is cut off.
   */
  requestDeadline: boolean;
  /** --min-data-rate: bytes per second of message content the deadline asks for (default 500, as Postfix). */
  minDataRate: number;
  /** -d: one dump file per message, path from this strftime template + 8 hex digits. */
  dumpTemplate?: string;
  /** -D: every message appended to the file this strftime template names. */
  sharedDumpTemplate?: string;
  /** -S: bytes written at the start of every dump (no newline added). */
  dumpPrefix?: Buffer;
  /** -R: directory that dump paths are taken relative to (Node cannot chroot). */
  root?: string;
  /** -v: log connects, every command line received and disconnects. */
  verbose: number;
  /**
   * --starttls: STARTTLS announced and served; --tls: every connection is TLS from its first
   * byte (port 465 style). Unset: no TLS, STARTTLS is an unknown command as in the original.
   */
  tls?: 'starttls' | 'implicit';
  /** --tls-cert / --tls-key: PEM certificate (chain) and key; without them a self-signed one is made. */
  tlsCert?: string | Buffer;
  tlsKey?: string | Buffer;
  /** --require-tls: MAIL before TLS is answered 530 (implies STARTTLS unless TLS is implicit). */
  requireTls: boolean;
  /**
   * --auth-mechanisms / --users: real AUTH (334 exchanges, 235/535). Unset: AUTH answers
   * "250 2.0.0 Ok" to anything, as the original does.
   */
  auth?: AuthSettings;
  /** --require-auth: MAIL before a successful AUTH is answered 530 (implies real AUTH). */
  requireAuth: boolean;
  /** --chunking: CHUNKING announced and BDAT served (RFC 3030); without it BDAT answers 500. */
  chunking: boolean;
  /** --size-limit: "SIZE n" announced; MAIL SIZE= over it and longer messages get 552. */
  sizeLimit?: number;
  /** --smtputf8: SMTPUTF8 announced; without it in MAIL, a non-ASCII address gets 553 (RFC 6531). */
  smtputf8: boolean;
  /** Program name in diagnostics ("smtp-sink"). */
  program: string;
  /** Where diagnostics and -s lines go (stderr by default). */
  writeLog: (line: string) => void;
}

export const DEFAULT_ANNOUNCE: Announce = {
  pipelining: true,
  eightBitMime: true,
  auth: true,
  xclient: true,
  xforward: true,
  enhancedStatusCodes: true,
  dsn: true,
};

export function defaultSinkOptions(): Omit<SinkOptions, 'listen'> {
  return {
    backlog: 511,
    family: 'any',
    hostname: 'smtp-sink',
    lmtp: false,
    esmtp: true,
    pix: false,
    announce: { ...DEFAULT_ANNOUNCE },
    xclient: true,
    xforward: true,
    softReply: '450 4.3.0 Error: command failed',
    hardReply: '500 5.3.0 Error: command failed',
    hardReject: [],
    softReject: [],
    disconnect: [],
    close: [],
    log: [],
    delays: [],
    dataReadDelaySeconds: 0,
    maxClients: 256,
    timeoutSeconds: 100,
    requestDeadline: true,
    minDataRate: 500,
    requireTls: false,
    requireAuth: false,
    chunking: false,
    smtputf8: false,
    verbose: 0,
    program: 'smtp-sink',
    writeLog: (line) => process.stderr.write(line),
  };
}

export type SinkOptionsInput = Partial<SinkOptions> & Pick<SinkOptions, 'listen'>;

export function resolveSinkOptions(input: SinkOptionsInput): SinkOptions {
  const base = defaultSinkOptions();
  const o: SinkOptions = { ...base, ...input, announce: { ...base.announce, ...input.announce } };
  if (o.pix) o.esmtp = false;
  // -f and -r take PIPELINING out of EHLO, as in the C sink.
  if (o.hardReject.length > 0 || o.softReject.length > 0) o.announce.pipelining = false;
  if (!o.xclient) o.announce.xclient = false;
  if (!o.xforward) o.announce.xforward = false;
  if (o.requireTls && o.tls === undefined) o.tls = 'starttls';
  if (o.requireAuth && o.auth === undefined) o.auth = { mechanisms: [...DEFAULT_AUTH_MECHANISMS] };
  return o;
}
