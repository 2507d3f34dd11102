// The settings of one smtp-source run, as the API takes them; the CLI maps Postfix
// smtp-source's flags onto these. Every default is the C program's.
import type { Endpoint } from '@smtpstone/core';
import type { DeviceSelector, VerdictThresholds } from '@smtpstone/sampler';
import type { RateStage } from './schedule.js';

export type { RateStage };

/** --sample: what to sample of this host while the run goes, and how to judge it. */
export interface SourceSampleOptions {
  /** Time between /proc readings (default 1000 ms). */
  intervalMs?: number;
  /** Verdict thresholds to change (the rest keep @smtpstone/sampler's defaults). */
  thresholds?: Partial<VerdictThresholds>;
  /** Block devices to report (default: whole disks). */
  devices?: DeviceSelector;
  /** Where to read stat, pressure/, loadavg and diskstats (default /proc). */
  procRoot?: string;
}

/** --starttls, --tls, --tls-*: how each connection gets TLS and what it checks. */
export interface SourceTlsOptions {
  /** 'starttls': STARTTLS after EHLO (RFC 3207); 'implicit': TLS from the first byte (port 465 style). */
  mode: 'starttls' | 'implicit';
  /**
   * STARTTLS only: true (the default) makes a server that does not offer STARTTLS an error for
   * the session; false goes on in plaintext.
   */
  required?: boolean;
  /** PEM certificates of the CAs to trust instead of the system's (--tls-ca FILE, read). */
  ca?: string | Buffer;
  /** SNI and the name checked in the certificate (default: the target host when it is a name). */
  servername?: string;
  /** Do not verify the server's certificate. */
  insecure?: boolean;
  /** The lowest TLS version offered. */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Offer the session (ticket) of an earlier handshake on new connections. */
  sessionReuse?: boolean;
}

export type AuthMechanism = 'PLAIN' | 'LOGIN' | 'CRAM-MD5' | 'XOAUTH2';
export const AUTH_MECHANISMS: readonly AuthMechanism[] = ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'];

/** --auth: the mechanism and the accounts, spread round-robin over the sessions. */
export interface SourceAuthOptions {
  mechanism: AuthMechanism;
  /** At least one; session i uses credentials[(i - 1) % n]. For XOAUTH2 the password is the token. */
  credentials: { user: string; password: string }[];
}

export interface SourceOptions {
  /** Where to connect: "[inet:]host[:port]" (port 25 by default) or "unix:/path". */
  target: string | Endpoint;
  /** -4 / -6 */
  family: 'any' | 'ipv4' | 'ipv6';
  /** -s: parallel sessions (with rate or stages: sessions open at most). */
  sessions: number;
  /**
   * -m: messages in all; ignored when durationMs is set. With `stages` a cap (none unless
   * given: resolveSourceOptions() makes it Infinity).
   */
  messages: number;
  /** --duration: keep starting messages for this long instead of counting them. */
  durationMs?: number;
  /**
   * --rate: the open model at a steady rate. Message k (from 0) is due k / perSecond seconds
   * after the start, whenever the one before it ends; `sessions` caps the sessions open at
   * once (they are opened as the schedule needs them). -m or durationMs ends the run.
   */
  rate?: { perSecond: number };
  /**
   * --ramp / --stages: the open model with the rate changing by stages (steady, or linear from
   * fromPerSecond to toPerSecond). The run ends with the last stage unless -m ends it first.
   */
  stages?: RateStage[];
  /**
   * --shard: this copy is one of several running one test together (on other machines, pods or
   * processes). Its messages are numbered from firstSeq (so journals and Message-Ids of the
   * copies never collide; -N numbers recipients on from there too). See applyShard().
   */
  shard?: { index: number; count: number; firstSeq: number };
  /** -r: recipients per message. */
  recipients: number;
  /** -N: number every recipient from one counter shared by all sessions. */
  numberRecipients: boolean;
  /** -d: keep the connection open for the next message. */
  reuseConnection: boolean;
  /** -L: speak LMTP (LHLO; one reply per accepted recipient after "."). */
  lmtp: boolean;
  /** -o: old mode, no HELO/LHLO and no generated headers. */
  oldMode: boolean;
  /** -A: an unexpected reply is a warning and the run goes on; otherwise it ends the run. */
  allowReject: boolean;
  /** -C: connect attempts each session may fail before the run gives up. */
  connectAttempts: number;
  /** -f */
  sender?: string;
  /** -t */
  recipient?: string;
  /** -M: name in HELO/LHLO, default addresses and Message-Id. */
  myHostname?: string;
  /** -S: a Subject: header (only with generated headers). */
  subject?: string;
  /** -l: body length in bytes; 0 for the four "La de da" lines. */
  length: number;
  /** -F: send this file (its lines dot-stuffed, ended CR LF) as the whole message. */
  messageFile?: string;
  /** -w: fixed wait after each message, seconds. */
  waitSeconds: number;
  /** -R: random wait of 0..n whole seconds after each message. */
  randomWaitSeconds: number;
  /** -T: socket send and receive buffer size (accepted; Node cannot set it). */
  window?: number;
  /** Seconds to wait for any one reply or write (the original's fixed 300). */
  timeoutSeconds: number;
  /** --pipelining: send MAIL, RCPTs and DATA together when the server offers PIPELINING (uses EHLO/LHLO). */
  pipelining: boolean;
  /** Add X-Smtpstone-Id: and a run-unique Message-Id: to generated headers. */
  trackingHeaders: boolean;
  /** -v: log commands and replies. */
  verbose: number;
  /**
   * --sample: sample this host's /proc from the first connect to the end of the run; the result
   * then carries `system` (the samples and the disk-bound/CPU-bound verdict). Off by default.
   */
  sample?: SourceSampleOptions;
  /** --starttls / --tls and the --tls-* flags: TLS on every connection. */
  tls?: SourceTlsOptions;
  /** --auth: SMTP AUTH after EHLO (after TLS when TLS is used). */
  auth?: SourceAuthOptions;
  /**
   * --bdat: send the message with BDAT (RFC 3030) when the server offers CHUNKING (EHLO is
   * used), in chunks of chunkSize bytes (none: the whole message in one BDAT LAST). Without
   * CHUNKING offered the message goes by DATA (counted, warned once).
   */
  bdat?: { chunkSize?: number };
  /** --smtputf8: UTF-8 addresses allowed; SMTPUTF8 on MAIL (a server not offering it: the message fails). */
  smtputf8?: boolean;
  /** --size: SIZE=<bytes sent> on MAIL when the server offers SIZE (RFC 1870). */
  size?: boolean;
  /** --dsn: RET=HDRS ENVID= on MAIL, NOTIFY=SUCCESS,FAILURE ORCPT= on RCPT when DSN is offered (RFC 3461). */
  dsn?: boolean;
  /**
   * --8bitmime: BODY=8BITMIME on MAIL when the server offers 8BITMIME (RFC 6152), for -F files
   * with 8-bit text; a server not offering it gets the message without, counted and warned once.
   */
  eightBitMime?: boolean;
  /** Program name in diagnostics. */
  program: string;
  /** Where warnings and -v lines go. */
  writeLog: (line: string) => void;
}

export function defaultSourceOptions(): Omit<SourceOptions, 'target'> {
  return {
    family: 'any',
    sessions: 1,
    messages: 1,
    recipients: 1,
    numberRecipients: false,
    reuseConnection: false,
    lmtp: false,
    oldMode: false,
    allowReject: false,
    connectAttempts: 1,
    length: 0,
    waitSeconds: 0,
    randomWaitSeconds: 0,
    timeoutSeconds: 300,
    pipelining: false,
    trackingHeaders: true,
    verbose: 0,
    program: 'smtp-source',
    writeLog: (line) => process.stderr.write(line),
  };
}

export type SourceOptionsInput = Partial<SourceOptions> & Pick<SourceOptions, 'target'>;

export function resolveSourceOptions(input: SourceOptionsInput): SourceOptions {
  const o = { ...defaultSourceOptions(), ...input };
  // The stages end the run; -m only when it is given.
  if (input.stages !== undefined && input.messages === undefined) o.messages = Infinity;
  return o;
}
