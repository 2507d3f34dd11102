// smtp-sink's command line: the flags of Postfix's smtp-sink, with their meanings and
// defaults, plus long options for what the original lacks. Each bad value is rejected with
// one line that keeps the C sink's wording and names the flag.
import { parseFlags, type ParsedFlags } from '@smtpstone/cli-flags';
import { FatalError, parseListenEndpoint, unescapeC, EndpointError, type Endpoint } from '@smtpstone/core';
import { parseCommandDelay, parseCommandList, CommandListError, type CommandDelay } from './commands.js';
import { parseMetricsListen } from './metrics.js';
import { checkErrorReply } from './replies.js';
import { defaultSinkOptions, type SinkOptionsInput } from './options.js';
import { AuthConfigError, DEFAULT_AUTH_MECHANISMS, parseMechanisms, readUsersFile } from './auth.js';
import { readPem } from './tls.js';

export const USAGE =
  'usage: smtp-sink [-468acCeEFLNpPv] [-A delay] [-b soft_reply] [-B hard_reply] [-d template] [-D template] ' +
  '[-f commands] [-h hostname] [-H delay] [-m count] [-M count] [-n count] [-q commands] [-Q commands] ' +
  '[-r commands] [-R root] [-s commands] [-S string] [-t timeout] [-T window] [-u user] [-w delay] ' +
  '[-W command:delay[:odds]] [inet:][host]:port backlog | unix:pathname backlog';

export interface SinkCli {
  sink: SinkOptionsInput;
  endpoint: Endpoint;
  /** -c: the C sink's counter line on stdout. */
  counter: boolean;
  /** -u */
  user?: string;
  /** -T (accepted, not applied: see --help). */
  window?: number;
  /** --json: where the final counters go ("-" for stdout). */
  json?: string;
  /** --stats-interval, seconds. */
  statsInterval?: number;
  /** --metrics-port: where to serve Prometheus metrics, "[host:]port" as given. */
  metricsListen?: string;
  help: boolean;
}

const FLAGS = {
  '4': { type: 'boolean', desc: 'Listen on IPv4 only' },
  '6': { type: 'boolean', desc: 'Listen on IPv6 only' },
  '8': { type: 'boolean', alias: 'no-8bitmime', desc: 'Do not announce 8BITMIME' },
  a: { type: 'boolean', alias: 'no-auth', desc: 'Do not announce AUTH (the command is still accepted, as in the original)' },
  A: { type: 'string', alias: 'abort-after-data', desc: 'After 354, read nothing more; after <delay> s send "550 This violates SMTP" and close' },
  b: { type: 'string', alias: 'soft-reply', desc: 'Soft error reply (4xx), default "450 4.3.0 Error: command failed"' },
  B: { type: 'string', alias: 'hard-reply', desc: 'Hard error reply (5xx), default "500 5.3.0 Error: command failed"' },
  c: { type: 'boolean', alias: 'count', desc: 'Print "sess=N quit=N mesg=N" on stdout as they change' },
  C: { type: 'boolean', alias: 'no-xclient', desc: 'Do not announce or accept XCLIENT' },
  d: { type: 'string', alias: 'dump', desc: 'Dump each message to a file named by this strftime template + 8 hex digits' },
  D: { type: 'string', alias: 'dump-append', desc: 'Append each message to the file named by this strftime template' },
  e: { type: 'boolean', alias: 'no-esmtp', desc: 'Disable ESMTP: banner without "ESMTP", EHLO unknown' },
  E: { type: 'boolean', alias: 'no-enhancedstatuscodes', desc: 'Do not announce ENHANCEDSTATUSCODES' },
  f: { type: 'string', alias: 'hard-reject', desc: 'Commands to answer with the hard error (also drops PIPELINING from EHLO)' },
  F: { type: 'boolean', alias: 'no-xforward', desc: 'Do not announce or accept XFORWARD' },
  h: { type: 'string', alias: 'hostname', desc: 'Host name in the banner, HELO/EHLO replies and dumps (default smtp-sink)' },
  H: { type: 'string', alias: 'data-read-delay', desc: 'After 354, wait this many seconds before reading the message' },
  L: { type: 'boolean', alias: 'lmtp', desc: 'Speak LMTP (LHLO only; one reply per recipient after ".")' },
  m: { type: 'string', alias: 'max-clients', desc: 'Most clients served at once (default 256); more wait with no banner' },
  M: { type: 'string', alias: 'max-messages', desc: 'Exit after this many messages (the last one is answered first)' },
  n: { type: 'string', alias: 'max-sessions', desc: 'Exit after this many sessions have ended' },
  N: { type: 'boolean', alias: 'no-dsn', desc: 'Do not announce DSN (RET= ENVID= NOTIFY= ORCPT= then get "555 5.5.4 Unsupported option")' },
  p: { type: 'boolean', alias: 'no-pipelining', desc: 'Do not announce PIPELINING' },
  P: { type: 'boolean', alias: 'pix', desc: 'PIX-style banner "220 ********" (implies -e)' },
  q: { type: 'string', alias: 'disconnect', desc: 'Commands on which to drop the connection without a reply' },
  Q: { type: 'string', alias: 'close', desc: 'Commands on which to send "421 4.0.0 Server closing connection" and close' },
  r: { type: 'string', alias: 'soft-reject', desc: 'Commands to answer with the soft error (also drops PIPELINING from EHLO)' },
  R: { type: 'string', alias: 'root', desc: 'With -u: dump paths are taken below this directory (Node cannot chroot; no confinement)' },
  s: { type: 'string', alias: 'log', desc: 'Commands to log, one syslog-style line each on stderr' },
  S: { type: 'string', alias: 'dump-prefix', desc: 'Text (C escapes allowed) written at the start of each dump' },
  t: { type: 'string', alias: 'timeout', desc: 'Idle timeout in seconds for reads and writes (default 100)' },
  T: { type: 'string', alias: 'window', desc: 'TCP window size (accepted but not applied: Node cannot set it; the system default is used)' },
  u: { type: 'string', alias: 'user', desc: 'Run as this user once the socket is bound (required when started as root)' },
  v: { type: 'count', alias: 'verbose', desc: 'Log connects, each command line and disconnects on stderr' },
  w: { type: 'string', alias: 'data-delay', desc: 'Wait this many seconds before answering DATA (= -W data:delay)' },
  W: { type: 'string', alias: 'delay', desc: 'command:delay[:odds]: delay the reply to a command (repeatable)' },
  'request-deadline': { type: 'boolean', desc: 'A command line must arrive whole within -t, message content at --min-data-rate (default on; --no-request-deadline for the original\'s idle timer only)' },
  'min-data-rate': { type: 'string', desc: 'Bytes/s of message content the request deadline asks for (default 500, as Postfix smtpd)' },
  starttls: { type: 'boolean', desc: 'Announce and serve STARTTLS (RFC 3207)' },
  tls: { type: 'boolean', desc: 'Implicit TLS: every connection starts with a TLS handshake (port 465 style)' },
  'require-tls': { type: 'boolean', desc: 'MAIL before TLS gets "530 5.7.0 Must issue a STARTTLS command first" (implies --starttls)' },
  'tls-cert': { type: 'string', desc: 'PEM certificate (chain) for TLS; without it a self-signed one is generated at start' },
  'tls-key': { type: 'string', desc: 'PEM private key of --tls-cert' },
  'auth-mechanisms': { type: 'string', desc: 'Real AUTH with these mechanisms (PLAIN, LOGIN, CRAM-MD5; default PLAIN,LOGIN)' },
  users: { type: 'string', desc: 'Real AUTH checked against this file of user:password lines (without it, every AUTH succeeds)' },
  'require-auth': { type: 'boolean', desc: 'MAIL before AUTH gets "530 5.7.0 Authentication required" (implies real AUTH)' },
  chunking: { type: 'boolean', desc: 'Announce CHUNKING and serve BDAT (RFC 3030)' },
  'size-limit': { type: 'string', desc: 'Announce "SIZE n"; MAIL SIZE= over it, and longer messages, get "552 5.3.4 Message size exceeds fixed limit"' },
  smtputf8: { type: 'boolean', desc: 'Announce SMTPUTF8 (RFC 6531); without it in MAIL, a non-ASCII address gets 553 5.6.7' },
  json: { type: 'string', desc: 'On exit, write the counters as JSON to FILE ("-" for stdout)' },
  'stats-interval': { type: 'string', desc: 'Every N seconds, a one-line summary on stderr' },
  'metrics-port': { type: 'string', desc: 'Serve Prometheus metrics at http://[host:]port/metrics (host 127.0.0.1 unless given; port 0 picks one)' },
  help: { type: 'boolean', desc: 'Show this help' },
} as const;

export const HELP_NOTES = `
Operands: [inet:][host]:port backlog   or   unix:pathname backlog   (port 0 picks a free port and prints it)
Command lists (-f -q -Q -r -s) take names separated by commas or spaces from:
  connect helo ehlo lhlo xclient xforward auth mail rcpt data . rset noop vrfy quit starttls bdat
  ("connect" is the banner, "." the end of data).
TLS and AUTH (not in the original): without --tls-cert/--tls-key a self-signed certificate is
  generated at start and its SHA-256 fingerprint printed. Without --auth-mechanisms, --users or
  --require-auth, AUTH answers "250 2.0.0 Ok" to anything, as the original does.
Differences from Postfix's smtp-sink (see docs/user-guide.md):
  -R  Node cannot chroot: dump paths are resolved below the directory, with a warning; nothing is confined.
  -T  Node cannot set a listening socket's TCP window: the flag is accepted, warned about and not applied.
  -s  lines go to stderr in syslog format (Node has no syslog(3)).
  -m  clients beyond the limit are accepted and held with no banner, not left in the kernel backlog.
  -n  counts ended sessions, with or without -c (the original counted QUITs, and only with -c).
  -M  answers the last message before exiting (the original exited before its reply).
  A client dripping bytes faster than -t is cut off by the request deadlines (--no-request-deadline: not).
  Overlong command lines (over 2046 characters) get "500 5.5.2 Error: command line too long" and the
  session goes on (the original dropped the connection). Replies delayed by -w/-W stay in order.`;

function wholeNumber(value: string, flag: string, what: string, min: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new FatalError(`${what}: ${value} (-${flag} wants a whole number${min > 0 ? ` greater than ${min - 1}` : ''})`);
  }
  return Number(value);
}

function commands(flag: string, values: string[]) {
  try {
    return values.flatMap((v) => parseCommandList(v));
  } catch (err) {
    if (err instanceof CommandListError) throw new FatalError(`${err.message} (in -${flag})`);
    throw err;
  }
}

/** Parses argv (without node and script) into sink options; throws FatalError on bad input. */
export function parseSinkArgs(argv: string[], program = 'smtp-sink'): SinkCli {
  const f = parseFlags(argv, FLAGS, { program, error: (message) => new FatalError(message) });
  const { last, flag, list } = f;

  if (flag('help')) {
    return { help: true } as SinkCli;
  }

  const operands = f.operands;
  if (operands.length !== 2 || !/^\d+$/.test(operands[1]) || Number(operands[1]) <= 0) {
    throw new FatalError(USAGE);
  }
  let endpoint: Endpoint;
  try {
    endpoint = parseListenEndpoint(operands[0]);
  } catch (err) {
    if (err instanceof EndpointError) throw new FatalError(err.message);
    throw err;
  }

  const d = defaultSinkOptions();
  const sink: SinkOptionsInput = { listen: endpoint, backlog: Number(operands[1]), program };
  if (flag('4') && flag('6')) sink.family = 'any';
  else if (flag('4')) sink.family = 'ipv4';
  else if (flag('6')) sink.family = 'ipv6';

  sink.announce = {
    ...d.announce,
    eightBitMime: !flag('8'),
    auth: !flag('a'),
    enhancedStatusCodes: !flag('E'),
    dsn: !flag('N'),
    pipelining: !flag('p'),
  };
  sink.xclient = !flag('C');
  sink.xforward = !flag('F');
  sink.esmtp = !flag('e');
  sink.pix = flag('P');
  sink.lmtp = flag('L');
  sink.chunking = flag('chunking');
  sink.smtputf8 = flag('smtputf8');
  const sizeLimit = last('size-limit');
  if (sizeLimit !== undefined) sink.sizeLimit = wholeNumber(sizeLimit, '-size-limit', 'bad size limit', 1);

  const A = last('A');
  if (A !== undefined) {
    if (!/^\d+$/.test(A)) throw new FatalError(`bad abort delay: ${A} (-A wants a whole number of seconds, 0 or more)`);
    sink.abortAfterDataSeconds = Number(A);
  }
  const b = last('b');
  if (b !== undefined) {
    if (!checkErrorReply(b, '4')) throw new FatalError(`bad soft error reply: ${b} (-b wants a 4xx reply such as "450 4.3.0 try later")`);
    sink.softReply = b;
  }
  const B = last('B');
  if (B !== undefined) {
    if (!checkErrorReply(B, '5')) throw new FatalError(`bad hard error reply: ${B} (-B wants a 5xx reply such as "550 5.7.1 no")`);
    sink.hardReply = B;
  }
  sink.dumpTemplate = last('d');
  sink.sharedDumpTemplate = last('D');
  if (sink.dumpTemplate !== undefined && sink.sharedDumpTemplate !== undefined) {
    throw new FatalError('use only one of -d or -D, but not both');
  }
  if (sink.dumpTemplate === '' || sink.sharedDumpTemplate === '') throw new FatalError('empty dump template (-d/-D want a path template)');
  const S = last('S');
  if (S !== undefined) sink.dumpPrefix = unescapeC(S);

  const h = last('h');
  if (h !== undefined) {
    if (h === '' || /[\s\x00-\x1f]/.test(h)) throw new FatalError(`bad hostname: ${JSON.stringify(h)} (-h wants a name without spaces)`);
    sink.hostname = h;
  }
  const H = last('H');
  if (H !== undefined) sink.dataReadDelaySeconds = wholeNumber(H, 'H', 'bad data read delay', 1);
  const m = last('m');
  if (m !== undefined) sink.maxClients = wholeNumber(m, 'm', 'bad concurrency limit', 1);
  const M = last('M');
  if (M !== undefined) sink.maxMessages = wholeNumber(M, 'M', 'bad message count', 1);
  const n = last('n');
  if (n !== undefined) sink.maxSessions = wholeNumber(n, 'n', 'bad count', 1);
  const t = last('t');
  if (t !== undefined) sink.timeoutSeconds = wholeNumber(t, 't', 'bad timeout', 1);
  const deadline = f.values['request-deadline'];
  if (deadline !== undefined) sink.requestDeadline = Array.isArray(deadline) ? Boolean(deadline[deadline.length - 1]) : Boolean(deadline);
  const rate = last('min-data-rate');
  if (rate !== undefined) sink.minDataRate = wholeNumber(rate, '-min-data-rate', 'bad minimum data rate', 1);
  const T = last('T');
  const window = T === undefined ? undefined : wholeNumber(T, 'T', 'bad TCP window size', 1);

  sink.hardReject = commands('f', list('f'));
  sink.softReject = commands('r', list('r'));
  sink.disconnect = commands('q', list('q'));
  sink.close = commands('Q', list('Q'));
  sink.log = commands('s', list('s'));

  const delays: CommandDelay[] = [];
  const w = last('w');
  if (w !== undefined) delays.push({ command: 'data', seconds: wholeNumber(w, 'w', 'bad DATA delay', 1) });
  for (const spec of list('W')) {
    try {
      delays.push(parseCommandDelay(spec));
    } catch (err) {
      if (err instanceof CommandListError) throw new FatalError(`${err.message} (in -W)`);
      throw err;
    }
  }
  sink.delays = delays;
  sink.verbose = f.count('v');
  sink.root = last('R');

  parseTlsAndAuth(f, sink);

  const json = last('json');
  if (json === '') throw new FatalError('--json wants a file name or "-" for stdout');
  const si = last('stats-interval');
  const statsInterval = si === undefined ? undefined : wholeNumber(si, 'stats-interval', 'bad stats interval', 1);
  const metricsListen = last('metrics-port');
  if (metricsListen !== undefined) parseMetricsListen(metricsListen);
  const user = last('u');
  if (user === '') throw new FatalError('-u wants a user name');
  return { sink, endpoint, counter: flag('c'), user, window, json, statsInterval, metricsListen, help: false };
}

/** --starttls --tls --require-tls --tls-cert --tls-key --auth-mechanisms --users --require-auth. */
function parseTlsAndAuth({ last, flag }: ParsedFlags<keyof typeof FLAGS>, sink: SinkOptionsInput): void {
  const starttls = flag('starttls');
  const implicit = flag('tls');
  const requireTls = flag('require-tls');
  if (starttls && implicit) throw new FatalError('use only one of --starttls or --tls');
  if (implicit) sink.tls = 'implicit';
  else if (starttls || requireTls) sink.tls = 'starttls';
  sink.requireTls = requireTls;
  const cert = last('tls-cert');
  const key = last('tls-key');
  if (cert !== undefined || key !== undefined) {
    if (cert === undefined) throw new FatalError('--tls-key needs --tls-cert');
    if (key === undefined) throw new FatalError('--tls-cert needs --tls-key');
    if (sink.tls === undefined) throw new FatalError('--tls-cert and --tls-key need --starttls, --tls or --require-tls');
    sink.tlsCert = readPem(cert, '--tls-cert');
    sink.tlsKey = readPem(key, '--tls-key');
  }

  const mechanisms = last('auth-mechanisms');
  const users = last('users');
  const requireAuth = flag('require-auth');
  sink.requireAuth = requireAuth;
  if (mechanisms !== undefined || users !== undefined || requireAuth) {
    let list = [...DEFAULT_AUTH_MECHANISMS];
    if (mechanisms !== undefined) {
      try {
        list = parseMechanisms(mechanisms);
      } catch (err) {
        if (err instanceof AuthConfigError) throw new FatalError(`bad --auth-mechanisms: ${err.message}`);
        throw err;
      }
    }
    if (users === '') throw new FatalError('--users wants a file of user:password lines');
    sink.auth = { mechanisms: list, users: users === undefined ? undefined : readUsersFile(users) };
  }
}

export function helpText(program = 'smtp-sink'): string {
  const lines = [`${program} - a drop-in for Postfix's smtp-sink: speaks SMTP/LMTP and discards every message`, '', USAGE, ''];
  for (const [name, spec] of Object.entries(FLAGS)) {
    const short = name.length === 1 ? `-${name}` : '';
    const long = name.length > 1 ? `--${name}` : 'alias' in spec ? `--${spec.alias}` : '';
    const arg = spec.type === 'string' ? ' <value>' : '';
    lines.push(`  ${[short, long].filter(Boolean).join(', ')}${arg}`.padEnd(40) + spec.desc);
  }
  return lines.join('\n') + '\n' + HELP_NOTES + '\n';
}
