// What every session of one sink shares: settings resolved once into the forms the hot path
// wants (reply strings, per-command flag arrays), the counters and the hooks to the server.
import { Diagnostics } from '@smtpstone/core';
import { Cmd, COMMAND_NAMES, commandIndex, noFaults, type CommandFaults } from './commands.js';
import type { DumpSettings } from './dump.js';
import { bannerReply, ehloReply } from './replies.js';
import type { SinkOptions } from './options.js';
import type { SinkCounters } from './stats.js';
import { Authenticator } from './auth.js';
import type { SinkTls } from './tls.js';

export interface SinkContext {
  readonly options: SinkOptions;
  readonly counters: SinkCounters;
  readonly faults: CommandFaults;
  /** Which commands a client may use, indexed by Cmd. */
  readonly enabled: boolean[];
  readonly banner: string;
  readonly heloReply: string;
  readonly ehloReply: string;
  /** EHLO once the session is under TLS: STARTTLS no longer announced (RFC 3207). */
  readonly ehloReplyTls: string;
  /** Set when TLS is configured (--starttls, --tls). */
  readonly tls: SinkTls | undefined;
  /** --tls: every session starts with a TLS handshake. */
  readonly implicitTls: boolean;
  /** Set when real AUTH is configured; unset, AUTH answers "250 2.0.0 Ok" as in the original. */
  readonly authenticator: Authenticator | undefined;
  /** --require-tls or --require-auth: MAIL must pass a check first. */
  readonly mailGated: boolean;
  /** MAIL/RCPT parameters are looked at (--size-limit, --smtputf8, -N); else never parsed. */
  readonly checkParams: boolean;
  readonly hardReply: string;
  readonly softReply: string;
  readonly dumping: boolean;
  readonly dumpSettings: DumpSettings;
  readonly log: Diagnostics;
  /** Set once the sink is stopping: a command other than QUIT gets 421 and the session ends. */
  draining: boolean;
  /** -s: one syslog-style line for a command. */
  syslog(verb: string, args: string): void;
  /** After each end of data (the -c counter line). */
  onMessage(): void;
  /** -M or -n was reached. */
  limitReached(reason: string): void;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Nov 27 08:40:01": the classic syslog timestamp, so -s lines read like the C sink's. */
function syslogStamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function buildContext(
  options: SinkOptions,
  counters: SinkCounters,
  hooks: { onMessage(): void; limitReached(reason: string): void },
  tls?: SinkTls,
): SinkContext {
  const faults = noFaults();
  for (const n of options.hardReject) faults.hardReject[commandIndex(n)] = true;
  for (const n of options.softReject) faults.softReject[commandIndex(n)] = true;
  for (const n of options.disconnect) faults.disconnect[commandIndex(n)] = true;
  for (const n of options.close) faults.close[commandIndex(n)] = true;
  for (const n of options.log) faults.log[commandIndex(n)] = true;
  for (const d of options.delays) faults.delay[commandIndex(d.command)] = d;

  const enabled = COMMAND_NAMES.map(() => true);
  enabled[Cmd.Connect] = false;
  enabled[Cmd.Helo] = !options.lmtp;
  enabled[Cmd.Ehlo] = !options.lmtp && options.esmtp && !options.pix;
  enabled[Cmd.Lhlo] = options.lmtp;
  enabled[Cmd.Xclient] = options.xclient;
  enabled[Cmd.Xforward] = options.xforward;
  enabled[Cmd.Starttls] = tls !== undefined;
  enabled[Cmd.Bdat] = options.chunking;
  const mechanisms = options.auth?.mechanisms;
  const extensions = { sizeLimit: options.sizeLimit, chunking: enabled[Cmd.Bdat], smtputf8: options.smtputf8 };

  const log = new Diagnostics(options.program, options.writeLog);
  const program = options.program.replace(/^.*\//, '');
  return {
    options,
    counters,
    faults,
    enabled,
    banner: bannerReply(options.hostname, options.esmtp && !options.pix, options.pix),
    heloReply: `250 ${options.hostname}\r\n`,
    ehloReply: ehloReply(options.hostname, options.announce, { starttls: options.tls === 'starttls' && tls !== undefined, authMechanisms: mechanisms, ...extensions }),
    ehloReplyTls: ehloReply(options.hostname, options.announce, { authMechanisms: mechanisms, ...extensions }),
    tls,
    implicitTls: options.tls === 'implicit' && tls !== undefined,
    authenticator: options.auth === undefined ? undefined : new Authenticator(options.auth, options.hostname),
    mailGated: options.requireTls || options.requireAuth,
    checkParams: options.sizeLimit !== undefined || options.smtputf8 || !options.announce.dsn,
    hardReply: options.hardReply + '\r\n',
    softReply: options.softReply + '\r\n',
    dumping: options.dumpTemplate !== undefined || options.sharedDumpTemplate !== undefined,
    dumpSettings: {
      template: options.dumpTemplate,
      sharedTemplate: options.sharedDumpTemplate,
      prefix: options.dumpPrefix,
      hostname: options.hostname,
      root: options.root,
    },
    log,
    draining: false,
    syslog(verb, args) {
      options.writeLog(`${syslogStamp(new Date())} ${program}[${process.pid}]: ${verb} ${args}\n`);
    },
    onMessage: hooks.onMessage,
    limitReached: hooks.limitReached,
  };
}
