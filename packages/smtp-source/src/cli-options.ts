// smtp-source's command line: the flags of Postfix's smtp-source with their meanings and
// defaults, and long options for what it lacks. Each bad value: one line naming the flag.
import { readFileSync } from 'node:fs';
import { parseFlags } from '@smtpstone/cli-flags';
import { EndpointError, FatalError, parseConnectEndpoint, parseDuration } from '@smtpstone/core';
import { prepareJudge, type JudgeOptions } from '@smtpstone/results';
import { parseMetricsListen } from './metrics.js';
import { AUTH_MECHANISMS, type AuthMechanism, type SourceAuthOptions, type SourceOptionsInput, type SourceTlsOptions } from './options.js';
import { applyShard, parseShard } from './shard.js';
import { checkStages, MAX_STAGES, parseRate, parseStage, parseStages, type RateStage } from './schedule.js';

export const USAGE =
  'usage: smtp-source [-46AcdLNov] [-C count] [-f from] [-F file] [-l length] [-m count] [-M myhostname] ' +
  '[-r count] [-R interval] [-s sessions] [-S subject] [-t to] [-T window] [-w interval] [inet:]host[:port] | unix:pathname';

const FLAGS = {
  '4': { type: 'boolean', desc: 'Connect over IPv4 only' },
  '6': { type: 'boolean', desc: 'Connect over IPv6 only' },
  A: { type: 'boolean', alias: 'allow-reject', desc: 'Go on after unexpected replies and broken connections (warnings, counted)' },
  c: { type: 'boolean', alias: 'count', desc: 'Print the count of messages sent on stdout ("N\\r")' },
  C: { type: 'string', alias: 'connect-attempts', desc: 'Connect failures each session may have before the run gives up (1)' },
  d: { type: 'boolean', alias: 'reuse', desc: 'Keep the connection for the next message (no new HELO)' },
  f: { type: 'string', alias: 'from', desc: 'Sender (foo@myhostname)' },
  F: { type: 'string', alias: 'file', desc: 'Send this file as the message (no generated headers)' },
  l: { type: 'string', alias: 'length', desc: 'Body length in bytes (default: four "La de da" lines)' },
  L: { type: 'boolean', alias: 'lmtp', desc: 'Speak LMTP (LHLO; one reply per recipient after ".")' },
  m: { type: 'string', alias: 'messages', desc: 'Messages to send in all (1)' },
  M: { type: 'string', alias: 'myhostname', desc: 'Name for HELO/LHLO, default addresses and Message-Id (this host)' },
  N: { type: 'boolean', alias: 'number-recipients', desc: 'Prefix every recipient with a run-wide counter from 1' },
  o: { type: 'boolean', alias: 'old-mode', desc: 'No HELO/LHLO and no generated headers' },
  r: { type: 'string', alias: 'recipients', desc: 'Recipients per message (1)' },
  R: { type: 'string', alias: 'random-wait', desc: 'Wait a random 0..N whole seconds after each message' },
  s: { type: 'string', alias: 'sessions', desc: 'Parallel sessions (1)' },
  S: { type: 'string', alias: 'subject', desc: 'Add a Subject: header' },
  t: { type: 'string', alias: 'to', desc: 'Recipient (foo@myhostname)' },
  T: { type: 'string', alias: 'window', desc: 'TCP window size (accepted, not applied: Node cannot set it)' },
  v: { type: 'count', alias: 'verbose', desc: 'Log commands and replies on stderr' },
  w: { type: 'string', alias: 'wait', desc: 'Wait N seconds after each message' },
  pipelining: { type: 'boolean', desc: 'Use EHLO and, where PIPELINING is offered, send MAIL/RCPT/DATA in one write' },
  duration: { type: 'string', desc: 'Send for this long (30s, 2m) instead of -m messages' },
  rate: { type: 'string', desc: 'Open model: start messages on a schedule at this rate (200/s, 30/m, 1000/h); -s caps the sessions' },
  ramp: { type: 'string', desc: 'Open model, rate changing linearly: FROM..TO:DURATION (10/s..500/s:60s); ends the run' },
  stages: { type: 'string', desc: 'Open model by stages: RATE:DURATION or FROM..TO:DURATION, comma-separated (50/s:30s,100/s:30s)' },
  timeout: { type: 'string', desc: 'Seconds to wait for each reply (300)' },
  json: { type: 'string', desc: 'Write the full result as JSON to FILE ("-" for stdout)' },
  journal: { type: 'string', desc: 'Write one JSON line per message to FILE' },
  sample: {
    type: 'string',
    optionalArg: '[interval]',
    desc: 'Sample this host\'s CPU, PSI and disks every interval (1s) during the run: verdict in the summary, "system" in --json',
  },
  shard: { type: 'string', desc: 'This copy is shard INDEX/COUNT (from 0, as JOB_COMPLETION_INDEX) of one test: its share of -m and --rate, its own message numbers' },
  'start-at': { type: 'string', desc: 'Wait until this time to start (ISO 8601, or epoch seconds), so that shards start together' },
  gate: { type: 'string', desc: "Fail (exit 3) unless the run meets this: p99<200ms, throughput>=3000/s, errors<0.1%, 'not cpu-bound' (repeatable)" },
  baseline: { type: 'string', desc: 'An earlier run\'s --json to compare with: throughput, p50, p99, errors (exit 3 on a regression)' },
  'max-regression': { type: 'string', desc: 'With --baseline: how much worse a metric may get, 10% (default) or METRIC=N% (repeatable)' },
  'metrics-port': { type: 'string', desc: 'Serve Prometheus metrics at http://[host:]port/metrics during the run (host 127.0.0.1 unless given; port 0 picks one)' },
  progress: { type: 'boolean', desc: 'Progress bar on stderr (default: when stderr is a terminal and not -c)' },
  starttls: {
    type: 'string',
    optionalArg: '[required|opportunistic]',
    desc: 'STARTTLS after EHLO, then EHLO again; required (default): a server without STARTTLS is an error; opportunistic: go on in plaintext',
  },
  tls: { type: 'boolean', desc: 'Implicit TLS (port 465 style): TLS from the first byte' },
  'tls-ca': { type: 'string', desc: 'Trust the CA certificates in this PEM file instead of the system\'s' },
  'tls-servername': { type: 'string', desc: 'SNI and the name the certificate must carry (default: the target host when it is a name)' },
  'tls-insecure': { type: 'boolean', desc: 'Do not verify the server\'s certificate' },
  'tls-min-version': { type: 'string', desc: 'Lowest TLS version to offer: TLSv1.2 or TLSv1.3' },
  'tls-session-reuse': { type: 'boolean', desc: 'Resume TLS sessions across connections (session tickets); the summary gives the resumption rate' },
  auth: { type: 'string', desc: 'SMTP AUTH after EHLO (after TLS): PLAIN, LOGIN, CRAM-MD5 or XOAUTH2 (the password is the token)' },
  user: { type: 'string', desc: 'User name for --auth' },
  password: { type: 'string', desc: 'Password (or XOAUTH2 token) for --auth; --password-file keeps it off the command line' },
  'password-file': { type: 'string', desc: 'Read the --auth password (or token) from the first line of this file' },
  credentials: { type: 'string', desc: 'File of user:password lines for --auth, spread round-robin over the sessions' },
  bdat: {
    type: 'string',
    optionalArg: '[chunk-size]',
    desc: 'Send messages with BDAT (CHUNKING, EHLO implied) in chunks of chunk-size bytes (default: one BDAT LAST); DATA when not offered',
  },
  smtputf8: { type: 'boolean', desc: 'Allow UTF-8 in -f/-t and add SMTPUTF8 to MAIL (EHLO implied; a server not offering it fails the message)' },
  size: { type: 'boolean', desc: 'Add SIZE=<bytes sent> to MAIL when the server offers SIZE (EHLO implied)' },
  dsn: { type: 'boolean', desc: 'Add RET=HDRS ENVID= to MAIL and NOTIFY=SUCCESS,FAILURE ORCPT= to RCPT when the server offers DSN (EHLO implied)' },
  '8bitmime': { type: 'boolean', desc: 'Add BODY=8BITMIME to MAIL when the server offers 8BITMIME, for -F files with 8-bit text (EHLO implied)' },
  'original-headers': { type: 'boolean', desc: 'Headers exactly as the original: no X-Smtpstone-Id, Message-Id <pid.session.left@host>' },
  help: { type: 'boolean', desc: 'Show this help' },
} as const;

export interface SourceCli {
  source: SourceOptionsInput;
  counter: boolean;
  json?: string;
  journal?: string;
  progress?: boolean;
  window?: number;
  /** --start-at: epoch ms to wait for before starting. */
  startAt?: number;
  /** --gate, --baseline, --max-regression, checked (and the baseline read) before the run. */
  judging?: JudgeOptions;
  /** --metrics-port */
  metricsListen?: string;
  help: boolean;
}

/** /proc/stat counts CPU time in 10 ms ticks: shorter sample intervals would be mostly rounding. */
const MIN_SAMPLE_INTERVAL_MS = 10;

function isDuration(text: string): boolean {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}

function positive(value: string, flag: string, what: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new FatalError(`${what}: ${value} (-${flag} wants a whole number greater than 0)`);
  return Number(value);
}

export function parseSourceArgs(argv: string[], program = 'smtp-source'): SourceCli {
  const f = parseFlags(argv, FLAGS, { program, error: (message) => new FatalError(message) });
  const { last, flag, list } = f;
  if (flag('help')) return { help: true } as SourceCli;

  const operands = f.operands;
  // --sample takes an optional value, so a bare "--sample host:port" reads the target as one:
  // a value that is no duration is the target when no other operand is there.
  let sample = last('sample');
  if (sample !== undefined && sample !== '' && operands.length === 0 && !isDuration(sample)) {
    operands.push(sample);
    sample = '';
  }
  // The same for --starttls: a bare "--starttls host:port".
  let starttls = last('starttls');
  if (starttls !== undefined && starttls !== '' && operands.length === 0 && !STARTTLS_MODES.includes(starttls)) {
    operands.push(starttls);
    starttls = '';
  }
  // And for --bdat: a bare "--bdat host:port".
  let bdat = last('bdat');
  if (bdat !== undefined && bdat !== '' && operands.length === 0 && !/^\d+$/.test(bdat)) {
    operands.push(bdat);
    bdat = '';
  }
  if (operands.length !== 1) throw new FatalError(USAGE);
  const target = operands[0];
  try {
    parseConnectEndpoint(target);
  } catch (err) {
    if (err instanceof EndpointError) throw new FatalError(err.message);
    throw err;
  }
  const source: SourceOptionsInput = { target, program };
  if (flag('4') && !flag('6')) source.family = 'ipv4';
  if (flag('6') && !flag('4')) source.family = 'ipv6';
  source.allowReject = flag('A');
  source.reuseConnection = flag('d');
  source.lmtp = flag('L');
  source.numberRecipients = flag('N');
  source.oldMode = flag('o');
  source.verbose = f.count('v');
  source.pipelining = flag('pipelining');
  source.trackingHeaders = !flag('original-headers');

  const C = last('C');
  if (C !== undefined) source.connectAttempts = positive(C, 'C', 'bad connection count');
  const l = last('l');
  if (l !== undefined) source.length = positive(l, 'l', 'bad message length');
  const F = last('F');
  if (F !== undefined) {
    if (l !== undefined) throw new FatalError('-l option cannot be used with -F');
    source.messageFile = F;
  }
  const m = last('m');
  if (m !== undefined) source.messages = positive(m, 'm', 'bad message count');
  const r = last('r');
  if (r !== undefined) source.recipients = positive(r, 'r', 'bad recipient count');
  const s = last('s');
  if (s !== undefined) source.sessions = positive(s, 's', 'bad session count');
  const w = last('w');
  if (w !== undefined) source.waitSeconds = positive(w, 'w', 'bad fixed delay');
  const R = last('R');
  if (R !== undefined) source.randomWaitSeconds = positive(R, 'R', 'bad random delay');
  if (w !== undefined && R !== undefined) throw new FatalError('do not use -w and -R options at the same time');
  const T = last('T');
  const window = T === undefined ? undefined : positive(T, 'T', 'bad TCP window size');
  const M = last('M');
  if (M !== undefined) {
    const literal = /^\[[0-9a-fA-F.:]+\]$/.test(M);
    const name = /^(?=.{1,255}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.?$/.test(M);
    if (!literal && !name) throw new FatalError(`${M.startsWith('[') ? 'bad address literal' : 'bad hostname'}: ${M} (-M wants a host name or [address])`);
    source.myHostname = M;
  }
  const smtputf8 = flag('smtputf8');
  for (const [key, opt] of [['f', 'sender'], ['t', 'recipient'], ['S', 'subject']] as const) {
    const v = last(key);
    if (v === undefined) continue;
    if (/[\r\n]/.test(v)) throw new FatalError(`-${key} must not contain a line break`);
    if (key !== 'S' && !smtputf8 && /[^\x00-\x7f]/.test(v)) throw new FatalError(`-${key} ${v} is not ASCII (UTF-8 addresses need --smtputf8)`);
    (source as Record<string, unknown>)[opt] = v;
  }
  const duration = last('duration');
  if (duration !== undefined) {
    try {
      source.durationMs = parseDuration(duration);
    } catch {
      throw new FatalError(`bad duration: ${duration} (--duration wants e.g. 30s, 2m, 500ms)`);
    }
    if (source.durationMs <= 0) throw new FatalError(`bad duration: ${duration} (--duration must be longer than 0)`);
  }
  openModel(source, last('rate'), last('ramp'), last('stages'), w !== undefined, R !== undefined);
  const timeout = last('timeout');
  if (timeout !== undefined) source.timeoutSeconds = positive(timeout, '-timeout', 'bad timeout');
  const json = last('json');
  if (json === '') throw new FatalError('--json wants a file name or "-" for stdout');
  const journal = last('journal');
  if (journal === '') throw new FatalError('--journal wants a file name');
  if (sample !== undefined) {
    let intervalMs = 1000;
    if (sample !== '') {
      if (!isDuration(sample)) throw new FatalError(`bad sample interval: ${sample} (--sample wants e.g. 1s, 500ms, or nothing for 1s)`);
      intervalMs = parseDuration(sample);
      if (intervalMs < MIN_SAMPLE_INTERVAL_MS) {
        throw new FatalError(`bad sample interval: ${sample} (--sample must be at least ${MIN_SAMPLE_INTERVAL_MS}ms: /proc/stat counts in 10 ms ticks)`);
      }
    }
    source.sample = { intervalMs };
  }
  const tls = tlsOptions(starttls, flag('tls'), last('tls-ca'), last('tls-servername'), flag('tls-insecure'), last('tls-min-version'), flag('tls-session-reuse'));
  if (tls !== undefined) {
    if (tls.mode === 'starttls' && source.oldMode) throw new FatalError('--starttls cannot be used with -o (old mode sends no EHLO)');
    source.tls = tls;
  }
  const auth = authOptions(last('auth'), last('user'), last('password'), last('password-file'), last('credentials'));
  if (auth !== undefined) {
    if (source.oldMode) throw new FatalError('--auth cannot be used with -o (old mode sends no EHLO)');
    source.auth = auth;
  }
  if (bdat !== undefined) {
    if (source.oldMode) throw new FatalError('--bdat cannot be used with -o (old mode sends no EHLO)');
    if (bdat === '') source.bdat = {};
    else if (/^\d+$/.test(bdat) && Number(bdat) > 0 && Number.isSafeInteger(Number(bdat))) source.bdat = { chunkSize: Number(bdat) };
    else throw new FatalError(`bad chunk size: ${bdat} (--bdat wants a whole number of bytes greater than 0, or nothing for one chunk)`);
  }
  for (const [name, on] of [['--smtputf8', smtputf8], ['--size', flag('size')], ['--dsn', flag('dsn')], ['--8bitmime', flag('8bitmime')]] as const) {
    if (!on) continue;
    if (source.oldMode) throw new FatalError(`${name} cannot be used with -o (old mode sends no EHLO)`);
    if (name === '--smtputf8') source.smtputf8 = true;
    else if (name === '--size') source.size = true;
    else if (name === '--dsn') source.dsn = true;
    else source.eightBitMime = true;
  }
  const progress = f.given('progress') ? flag('progress') : undefined;
  const shard = last('shard');
  let sharded = source;
  if (shard !== undefined) {
    try {
      sharded = applyShard(source, parseShard(shard));
    } catch (err) {
      throw new FatalError(`bad shard: ${shard} (--shard ${(err as Error).message})`);
    }
  }
  const startAtText = last('start-at');
  const startAt = startAtText === undefined ? undefined : parseStartAt(startAtText);
  const metricsListen = last('metrics-port');
  if (metricsListen !== undefined) parseMetricsListen(metricsListen);
  const gates = list('gate');
  const baseline = last('baseline');
  const maxRegression = list('max-regression');
  let judging: JudgeOptions | undefined;
  if (gates.length > 0 || baseline !== undefined || maxRegression.length > 0) {
    try {
      // Checked now, so that a typo in a gate is not found after a long run.
      judging = prepareJudge({ gates, baseline, maxRegression }, 'source');
    } catch (err) {
      throw new FatalError((err as Error).message);
    }
  }
  return { source: sharded, counter: flag('c'), json, journal, progress, window, startAt, judging, metricsListen, help: false };
}

const STARTTLS_MODES = ['required', 'opportunistic'];

/** --starttls, --tls and --tls-*: each bad value and each clash one line naming the flag. */
function tlsOptions(
  starttls: string | undefined,
  implicit: boolean,
  caFile: string | undefined,
  servername: string | undefined,
  insecure: boolean,
  minVersion: string | undefined,
  sessionReuse: boolean,
): SourceTlsOptions | undefined {
  if (starttls !== undefined && implicit) throw new FatalError('--tls cannot be used with --starttls (--tls is TLS from the first byte, --starttls upgrades after EHLO)');
  if (starttls === undefined && !implicit) {
    const stray = (
      [
        ['--tls-ca', caFile !== undefined],
        ['--tls-servername', servername !== undefined],
        ['--tls-insecure', insecure],
        ['--tls-min-version', minVersion !== undefined],
        ['--tls-session-reuse', sessionReuse],
      ] as const
    ).find(([, given]) => given);
    if (stray !== undefined) throw new FatalError(`${stray[0]} needs --starttls or --tls`);
    return undefined;
  }
  if (starttls !== undefined && starttls !== '' && !STARTTLS_MODES.includes(starttls)) {
    throw new FatalError(`bad STARTTLS mode: ${starttls} (--starttls wants required, opportunistic or nothing for required)`);
  }
  const tls: SourceTlsOptions = { mode: implicit ? 'implicit' : 'starttls' };
  if (starttls !== undefined) tls.required = starttls !== 'opportunistic';
  if (caFile !== undefined) {
    let pem: string;
    try {
      pem = readFileSync(caFile, 'utf8');
    } catch (err) {
      throw new FatalError(`cannot read ${caFile}: ${(err as Error).message.replace(/^[A-Z]+: /, '')} (--tls-ca wants a PEM file of CA certificates)`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new FatalError(`no PEM certificate in ${caFile} (--tls-ca wants a PEM file of CA certificates)`);
    tls.ca = pem;
  }
  if (servername !== undefined) {
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(servername) || servername.length > 253) throw new FatalError(`bad server name: ${servername} (--tls-servername wants a host name)`);
    tls.servername = servername;
  }
  if (insecure) tls.insecure = true;
  if (minVersion !== undefined) {
    if (minVersion !== 'TLSv1.2' && minVersion !== 'TLSv1.3') throw new FatalError(`bad TLS version: ${minVersion} (--tls-min-version wants TLSv1.2 or TLSv1.3)`);
    tls.minVersion = minVersion;
  }
  if (sessionReuse) tls.sessionReuse = true;
  return tls;
}

/** A file's text for a secret, or one line naming the flag (never the content). */
function readSecretFile(path: string, flag: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new FatalError(`cannot read ${path}: ${(err as Error).message.replace(/^[A-Z]+: /, '')} (${flag} wants ${what})`);
  }
}

/** --auth, --user, --password, --password-file, --credentials: one line naming the flag; secrets never shown. */
function authOptions(
  mechanismText: string | undefined,
  user: string | undefined,
  password: string | undefined,
  passwordFile: string | undefined,
  credentialsFile: string | undefined,
): SourceAuthOptions | undefined {
  if (mechanismText === undefined) {
    const stray = (
      [
        ['--user', user],
        ['--password', password],
        ['--password-file', passwordFile],
        ['--credentials', credentialsFile],
      ] as const
    ).find(([, v]) => v !== undefined);
    if (stray !== undefined) throw new FatalError(`${stray[0]} needs --auth`);
    return undefined;
  }
  const mechanism = mechanismText.toUpperCase() as AuthMechanism;
  if (!AUTH_MECHANISMS.includes(mechanism)) throw new FatalError(`bad AUTH mechanism: ${mechanismText} (--auth wants ${AUTH_MECHANISMS.join(', ')})`);
  if (credentialsFile !== undefined) {
    const clash = user !== undefined ? '--user' : password !== undefined ? '--password' : passwordFile !== undefined ? '--password-file' : undefined;
    if (clash !== undefined) throw new FatalError(`--credentials cannot be used with ${clash} (the file gives users and passwords)`);
    const credentials: SourceAuthOptions['credentials'] = [];
    const lines = readSecretFile(credentialsFile, '--credentials', 'user:password lines').split(/\r?\n/);
    lines.forEach((line, i) => {
      if (line.trim() === '' || line.startsWith('#')) return;
      const colon = line.indexOf(':');
      // The line holds a password: say which one is wrong, never what it says.
      if (colon <= 0) throw new FatalError(`bad credentials line ${i + 1} in ${credentialsFile} (--credentials wants user:password)`);
      credentials.push({ user: line.slice(0, colon), password: line.slice(colon + 1) });
    });
    if (credentials.length === 0) throw new FatalError(`no credentials in ${credentialsFile} (--credentials wants user:password lines)`);
    return { mechanism, credentials };
  }
  if (user === undefined || user === '') throw new FatalError(`--auth ${mechanism} needs --user or --credentials`);
  if (/[\r\n\0]/.test(user)) throw new FatalError('--user must not contain a line break or NUL');
  if (password !== undefined && passwordFile !== undefined) throw new FatalError('--password cannot be used with --password-file');
  let secret = password;
  if (passwordFile !== undefined) secret = readSecretFile(passwordFile, '--password-file', 'the password on its first line').split(/\r?\n/)[0];
  if (secret === undefined) throw new FatalError(`--auth ${mechanism} needs --password or --password-file`);
  return { mechanism, credentials: [{ user, password: secret }] };
}

/** --start-at: ISO 8601 (2026-11-27T12:00:00Z) or epoch seconds; one line naming the flag. */
function parseStartAt(text: string): number {
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text);
  if (!Number.isFinite(ms)) throw new FatalError(`bad start time: ${text} (--start-at wants ISO 8601 such as 2026-11-27T12:00:00Z, or epoch seconds)`);
  return ms;
}

/** --rate, --ramp, --stages: each bad value and each clash one line naming the flags. */
function openModel(source: SourceOptionsInput, rate: string | undefined, ramp: string | undefined, stages: string | undefined, w: boolean, R: boolean): void {
  const given = (
    [
      ['--rate', rate],
      ['--ramp', ramp],
      ['--stages', stages],
    ] as const
  ).filter(([, v]) => v !== undefined);
  if (given.length === 0) return;
  if (given.length > 1) throw new FatalError(`${given.map(([f]) => f).join(' and ')} cannot be used together`);
  const flag = given[0][0];
  if (w || R) throw new FatalError(`${flag} cannot be used with ${w ? '-w' : '-R'} (the schedule decides when messages start)`);
  if (rate !== undefined) {
    const perSecond = parseRate(rate);
    if (perSecond === undefined) {
      if (parseRate(rate, true) === 0) throw new FatalError(`bad rate: ${rate} (--rate must be more than 0)`);
      throw new FatalError(`bad rate: ${rate} (--rate wants messages per second, minute or hour, e.g. 200/s, 30/m, 1000/h)`);
    }
    source.rate = { perSecond };
    return;
  }
  let list: RateStage[] | undefined;
  let what: string;
  if (ramp !== undefined) {
    const one = parseStage(ramp, false);
    list = one && [one];
    what = `bad ramp: ${ramp} (--ramp`;
    if (list === undefined) throw new FatalError(`${what} wants FROM..TO:DURATION, e.g. 10/s..500/s:60s)`);
  } else {
    list = parseStages(stages!);
    what = `bad stages: ${stages} (--stages`;
    if (list === undefined) throw new FatalError(`${what} wants RATE:DURATION or FROM..TO:DURATION, comma-separated, e.g. 50/s:30s,100/s:30s)`);
    if (list.length > MAX_STAGES) throw new FatalError(`${what} takes at most ${MAX_STAGES} stages)`);
  }
  try {
    checkStages(list);
  } catch {
    throw new FatalError(`${what} starts no message: every rate is 0)`);
  }
  if (source.durationMs !== undefined) throw new FatalError(`--duration cannot be used with ${flag} (the stages say how long the run lasts)`);
  source.stages = list;
}

export function helpText(program = 'smtp-source'): string {
  const lines = [`${program} - a drop-in for Postfix's smtp-source that measures what it sends`, '', USAGE, ''];
  for (const [name, spec] of Object.entries(FLAGS)) {
    const short = name.length === 1 ? `-${name}` : '';
    const long = name.length > 1 ? `--${name}` : 'alias' in spec ? `--${spec.alias}` : '';
    const arg = 'optionalArg' in spec ? ` ${spec.optionalArg}` : spec.type === 'string' ? ' <value>' : '';
    lines.push(`  ${[short, long].filter(Boolean).join(', ')}${arg}`.padEnd(40) + spec.desc);
  }
  lines.push('', 'Target: [inet:]host[:port] (port 25 by default; IPv6 as [addr]:port) or unix:pathname.');
  lines.push('Differences from Postfix smtp-source: see docs/user-guide.md.');
  return lines.join('\n') + '\n';
}
