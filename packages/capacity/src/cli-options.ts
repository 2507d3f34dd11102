// smtpstone-sweep's command line: the steps, the load every step shares, the bounds, the box and
// the log, the outputs. Each bad value is one line naming its flag.
import { parseFlags } from '@smtpstone/cli-flags';
import { EndpointError, parseConnectEndpoint, parseDuration } from '@smtpstone/core';
import { parseLimit } from '@smtpstone/results';
import { formatRate, parseRate } from '@smtpstone/smtp-source';
import { DEFAULT_BOUNDS, DEFAULT_SESSIONS, DEFAULT_TIMEOUT_SECONDS, stepRates, type SweepOptionsInput, type SweepSourceOptions } from './options.js';

export const PROGRAM = 'smtpstone-sweep';

export const USAGE =
  `usage: ${PROGRAM} [inet:]host[:port] | unix:pathname (--from RATE --to RATE [--steps N] [--scale linear|geometric] | --rates R1,R2,...) ` +
  '[--step-duration 20s] [--refine N] [-s sessions] [-d] [-l length] [-r recipients] [--max-p99 1s] [--min-accepted 95%] [--headroom 20%] ' +
  '[--require RATE] [--sample] [--log maillog [--journal-dir DIR]] [--json FILE|-] [--html FILE] [--markdown FILE|-]';

/** Most steps a sweep plans (each is a run of its own). */
export const MAX_STEPS = 100;
const MIN_SAMPLE_INTERVAL_MS = 10;

type Spec = { type: 'string' | 'boolean'; alias?: string; desc: string; group: string; optionalArg?: string };

const FLAGS = {
  from: { type: 'string', desc: 'Rate of the first step (10/s, 600/m)', group: 'Steps' },
  to: { type: 'string', desc: 'Rate of the last step', group: 'Steps' },
  steps: { type: 'string', desc: 'Steps from --from to --to, both included (8)', group: 'Steps' },
  scale: { type: 'string', desc: 'linear: equal differences (default); geometric: equal ratios', group: 'Steps' },
  rates: { type: 'string', desc: 'The steps instead: a list, e.g. 10,20,50,100/s', group: 'Steps' },
  'step-duration': { type: 'string', desc: 'How long each step offers its rate (20s)', group: 'Steps' },
  pause: { type: 'string', desc: 'Pause between steps, for the box to settle (2s; with --log, after the queue drained)', group: 'Steps' },
  refine: { type: 'string', desc: 'Bisection steps between the last pass and the first failure (0)', group: 'Steps' },
  'keep-going': { type: 'boolean', desc: 'Run every step even after one failed (default: stop at the first failure)', group: 'Steps' },
  s: { type: 'string', alias: 'sessions', desc: `Sessions open at most at once (${DEFAULT_SESSIONS}); they are opened as the schedule needs them`, group: 'Load' },
  d: { type: 'boolean', alias: 'reuse', desc: 'Keep each connection for the next message', group: 'Load' },
  l: { type: 'string', alias: 'length', desc: 'Body length in bytes (default: four "La de da" lines)', group: 'Load' },
  r: { type: 'string', alias: 'recipients', desc: 'Recipients per message (1)', group: 'Load' },
  f: { type: 'string', alias: 'from-address', desc: 'Sender (foo@myhostname)', group: 'Load' },
  t: { type: 'string', alias: 'to-address', desc: 'Recipient (foo@myhostname)', group: 'Load' },
  M: { type: 'string', alias: 'myhostname', desc: 'Name for HELO/LHLO and Message-Id (this host)', group: 'Load' },
  L: { type: 'boolean', alias: 'lmtp', desc: 'Speak LMTP', group: 'Load' },
  pipelining: { type: 'boolean', desc: 'Use EHLO and PIPELINING where offered', group: 'Load' },
  timeout: { type: 'string', desc: `How long to wait for each reply (${DEFAULT_TIMEOUT_SECONDS}s)`, group: 'Load' },
  'min-accepted': { type: 'string', desc: 'Accepted throughput, and due messages accepted, at least this share of offered (95%)', group: 'Bounds' },
  'max-p99': { type: 'string', desc: 'Message latency p99 from the due time at most this (1s)', group: 'Bounds' },
  'min-delivery': { type: 'string', desc: 'With --log: delivery rate at least this share of injection (95%)', group: 'Bounds' },
  'max-delivery-p99': { type: 'string', desc: 'With --log: delivery latency p99 at most this (no bound)', group: 'Bounds' },
  headroom: { type: 'string', desc: 'Recommended capacity = knee less this (20%)', group: 'Bounds' },
  require: { type: 'string', desc: 'Exit 3 unless the knee is at least this rate', group: 'Bounds' },
  sample: { type: 'string', optionalArg: '[interval]', desc: "Sample this host's CPU, PSI and disks every interval (1s) during each step: the verdict per step", group: 'Box and log' },
  log: { type: 'string', desc: "The MTA's log, followed during each step: delivery rate, backlog and delivery p99 per step", group: 'Box and log' },
  'journal-dir': { type: 'string', desc: "With --log: keep each step's journal here (default: a temporary directory, removed)", group: 'Box and log' },
  'drain-timeout': { type: 'string', desc: "With --log: how long to wait after a step for its messages' last word (60s)", group: 'Box and log' },
  zone: { type: 'string', desc: "With --log: the log stamps' zone (the machine's)", group: 'Box and log' },
  year: { type: 'string', desc: 'With --log: the year of year-less stamps (this year)', group: 'Box and log' },
  json: { type: 'string', desc: 'Write every step and the knee as JSON to FILE ("-": stdout)', group: 'Output' },
  html: { type: 'string', desc: 'Write a self-contained HTML page with the charts to FILE', group: 'Output' },
  markdown: { type: 'string', desc: 'Write Markdown to FILE ("-": stdout), e.g. $GITHUB_STEP_SUMMARY', group: 'Output' },
  title: { type: 'string', desc: 'Title of the HTML page', group: 'Output' },
  quiet: { type: 'boolean', desc: 'No progress lines on stderr', group: 'Output' },
  help: { type: 'boolean', desc: 'Show this help', group: 'Output' },
} satisfies Record<string, Spec>;

export interface SweepCli {
  help: boolean;
  sweep: SweepOptionsInput;
  json?: string;
  html?: string;
  markdown?: string;
  title?: string;
  quiet: boolean;
}

/** A bad flag: one line naming it. */
export class FlagError extends Error {}

function duration(text: string, flag: string, min = 0): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    throw new FlagError(`bad duration: ${text} (--${flag} wants e.g. 500ms, 20s, 2m)`);
  }
  if (!(ms > min)) throw new FlagError(`bad duration: ${text} (--${flag} must be longer than ${min === 0 ? '0' : `${min} ms`})`);
  return ms;
}

function rate(text: string, flag: string): number {
  const r = parseRate(text);
  if (r === undefined) throw new FlagError(`bad rate: ${text} (--${flag} wants messages per second, minute or hour, more than 0, e.g. 10/s, 600/m)`);
  return r;
}

/** "95%" as 0.95; bounds are shares above 0 and at most 100 %. */
function share(text: string, flag: string, zeroOk = false): number {
  let v: number;
  try {
    v = parseLimit('ratio', text, `--${flag}`).value;
  } catch {
    throw new FlagError(`bad share: ${text} (--${flag} wants a percentage, e.g. 95%)`);
  }
  if (!(v <= 1 && (zeroOk ? v >= 0 : v > 0)) || (zeroOk && v >= 1)) {
    throw new FlagError(`bad share: ${text} (--${flag} wants ${zeroOk ? 'from 0 % to less than 100 %' : 'more than 0 % and at most 100 %'})`);
  }
  return v;
}

function whole(text: string, flag: string, min: number, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < min) throw new FlagError(`bad ${what}: ${text} (${flag} wants a whole number, ${min} or more)`);
  return Number(text);
}

/**
 * "10,20,50,100/s": each item a rate; items without a unit take the list's last unit
 * (so "10,20,50/m" is all per minute), or per second.
 */
function rateList(text: string): number[] {
  const items = text.split(',').map((x) => x.trim());
  const unit = /\/(s|m|h)$/.exec(items[items.length - 1] ?? '')?.[0] ?? '/s';
  const out: number[] = [];
  for (const it of items) {
    const r = parseRate(/\//.test(it) ? it : `${it}${unit}`);
    if (it === '' || r === undefined) throw new FlagError(`bad rates: ${text} (--rates wants rates above 0, comma-separated, e.g. 10,20,50,100/s)`);
    out.push(r);
  }
  if (out.length > MAX_STEPS) throw new FlagError(`bad rates: ${text} (--rates takes at most ${MAX_STEPS} steps)`);
  return [...new Set(out)].sort((a, b) => a - b);
}

export function parseSweepArgs(argv: string[]): SweepCli {
  const f = parseFlags(argv, FLAGS, { program: PROGRAM, error: (message) => new FlagError(message) });
  const { once, flag, given } = f;
  if (flag('help')) return { help: true } as SweepCli;

  // --sample takes an optional value: "--sample host:port" reads the target as its value.
  const operands = f.operands;
  let sample = once('sample');
  if (sample !== undefined && sample !== '' && operands.length === 0) {
    let isDuration = true;
    try {
      parseDuration(sample);
    } catch {
      isDuration = false;
    }
    if (!isDuration) {
      operands.push(sample);
      sample = '';
    }
  }
  if (operands.length === 0) throw new FlagError(`no target (${USAGE})`);
  if (operands.length > 1) throw new FlagError(`one target, not ${operands.length}: ${operands.join(' ')}`);
  const target = operands[0];
  try {
    parseConnectEndpoint(target);
  } catch (err) {
    if (err instanceof EndpointError) throw new FlagError(`bad target: ${err.message}`);
    throw err;
  }

  // The steps.
  const list = once('rates');
  const from = once('from');
  const to = once('to');
  const stepsText = once('steps');
  const scaleText = once('scale');
  let rates: number[];
  if (list !== undefined) {
    const clash = (['from', 'to', 'steps', 'scale'] as const).filter(given);
    if (clash.length > 0) throw new FlagError(`--rates cannot be used with ${clash.map((c) => `--${c}`).join(', ')}`);
    rates = rateList(list);
  } else {
    if (from === undefined && to === undefined) throw new FlagError('no steps: give --from RATE --to RATE [--steps N], or --rates R1,R2,...');
    if (from === undefined) throw new FlagError('--to needs --from (the rate of the first step)');
    if (to === undefined) throw new FlagError('--from needs --to (the rate of the last step)');
    const lo = rate(from, 'from');
    const hi = rate(to, 'to');
    if (hi < lo) throw new FlagError(`bad rates: --to ${to} is below --from ${from}`);
    const n = stepsText === undefined ? 8 : whole(stepsText, '--steps', 1, 'step count');
    if (n > MAX_STEPS) throw new FlagError(`bad step count: ${stepsText} (--steps takes at most ${MAX_STEPS})`);
    if (scaleText !== undefined && scaleText !== 'linear' && scaleText !== 'geometric') throw new FlagError(`bad scale: ${scaleText} (--scale wants linear or geometric)`);
    rates = stepRates(lo, hi, n, (scaleText as 'linear' | 'geometric' | undefined) ?? 'linear');
  }

  const sweep: SweepOptionsInput = { target, rates };
  const stepDuration = once('step-duration');
  if (stepDuration !== undefined) sweep.stepDurationMs = duration(stepDuration, 'step-duration');
  const stepMs = sweep.stepDurationMs ?? 20_000;
  if ((rates[0] * stepMs) / 1000 < 1) {
    throw new FlagError(`the first step (${formatRate(rates[0])} for ${stepDuration ?? '20s'}) holds no message: raise the rate or --step-duration`);
  }
  const pause = once('pause');
  if (pause !== undefined) {
    try {
      sweep.pauseMs = parseDuration(pause);
    } catch {
      throw new FlagError(`bad duration: ${pause} (--pause wants e.g. 0, 2s, 30s)`);
    }
  }
  const refine = once('refine');
  if (refine !== undefined) sweep.refine = whole(refine, '--refine', 0, 'refine count');
  sweep.keepGoing = flag('keep-going');

  // The load.
  const source: SweepSourceOptions = {};
  const s = once('s');
  if (s !== undefined) source.sessions = whole(s, '-s', 1, 'session count');
  source.reuseConnection = flag('d');
  const l = once('l');
  if (l !== undefined) source.length = whole(l, '-l', 1, 'message length');
  const r = once('r');
  if (r !== undefined) source.recipients = whole(r, '-r', 1, 'recipient count');
  for (const [key, opt] of [['f', 'sender'], ['t', 'recipient'], ['M', 'myHostname']] as const) {
    const v = once(key);
    if (v === undefined) continue;
    if (v === '' || /[\s<>]/.test(v)) throw new FlagError(`bad -${key}: ${JSON.stringify(v)} (no spaces, angle brackets or empty values)`);
    source[opt] = v;
  }
  source.lmtp = flag('L');
  source.pipelining = flag('pipelining');
  const timeout = once('timeout');
  if (timeout !== undefined) {
    const ms = duration(timeout, 'timeout');
    if (ms < 1000) throw new FlagError(`bad duration: ${timeout} (--timeout must be at least 1s)`);
    source.timeoutSeconds = Math.ceil(ms / 1000);
  }
  sweep.source = source;

  // The bounds.
  const bounds: NonNullable<SweepOptionsInput['bounds']> = {};
  const minAccepted = once('min-accepted');
  if (minAccepted !== undefined) bounds.minAcceptedShare = share(minAccepted, 'min-accepted');
  const maxP99 = once('max-p99');
  if (maxP99 !== undefined) bounds.maxP99Ms = duration(maxP99, 'max-p99');
  const minDelivery = once('min-delivery');
  if (minDelivery !== undefined) bounds.minDeliveryShare = share(minDelivery, 'min-delivery');
  const maxDeliveryP99 = once('max-delivery-p99');
  if (maxDeliveryP99 !== undefined) bounds.maxDeliveryP99Ms = duration(maxDeliveryP99, 'max-delivery-p99');
  sweep.bounds = { ...DEFAULT_BOUNDS, ...bounds };
  const headroom = once('headroom');
  if (headroom !== undefined) sweep.headroom = share(headroom, 'headroom', true);
  const require = once('require');
  if (require !== undefined) sweep.requirePerSecond = rate(require, 'require');

  // The box and the log.
  if (sample !== undefined) {
    let intervalMs = 1000;
    if (sample !== '') {
      intervalMs = duration(sample, 'sample');
      if (intervalMs < MIN_SAMPLE_INTERVAL_MS) throw new FlagError(`bad sample interval: ${sample} (--sample must be at least ${MIN_SAMPLE_INTERVAL_MS}ms)`);
    }
    sweep.sample = { intervalMs };
  }
  const log = once('log');
  const logOnly = (['journal-dir', 'drain-timeout', 'zone', 'year', 'min-delivery', 'max-delivery-p99'] as const).filter(given);
  if (log === undefined && logOnly.length > 0) throw new FlagError(`${logOnly.map((l) => `--${l}`).join(', ')} need${logOnly.length === 1 ? 's' : ''} --log (the MTA's log)`);
  if (log !== undefined) {
    if (log === '') throw new FlagError('--log wants a file name');
    const journalDir = once('journal-dir');
    if (journalDir === '') throw new FlagError('--journal-dir wants a directory');
    const drain = once('drain-timeout');
    const year = once('year');
    if (year !== undefined && !/^\d{4}$/.test(year)) throw new FlagError(`bad year: ${year} (--year wants four digits)`);
    sweep.log = {
      path: log,
      journalDir,
      drainTimeoutMs: drain === undefined ? 60_000 : duration(drain, 'drain-timeout'),
      zone: once('zone'),
      year: year === undefined ? undefined : Number(year),
    };
  }

  // The outputs.
  const json = once('json');
  const markdown = once('markdown');
  const html = once('html');
  for (const [name, v] of [['json', json], ['markdown', markdown], ['html', html]] as const) {
    if (v === '') throw new FlagError(`--${name} wants a file name${name === 'html' ? '' : ' or "-" for stdout'}`);
  }
  if (html === '-') throw new FlagError('--html wants a file name (not stdout)');
  if (json === '-' && markdown === '-') throw new FlagError('--json - and --markdown - cannot both take stdout');
  return { help: false, sweep, json, html, markdown, title: once('title'), quiet: flag('quiet') };
}

export function helpText(): string {
  const lines = [`${PROGRAM} - capacity planning: smtp-source's open model at rising rates, the knee and a recommendation`, '', USAGE];
  let group = '';
  for (const [name, spec] of Object.entries(FLAGS) as [string, Spec][]) {
    if (spec.group !== group) {
      group = spec.group;
      lines.push('', `${group}:`);
    }
    const short = name.length === 1 ? `-${name}` : '';
    const long = name.length > 1 ? `--${name}` : spec.alias !== undefined ? `--${spec.alias}` : '';
    const arg = spec.optionalArg !== undefined ? ` ${spec.optionalArg}` : spec.type === 'string' ? ' <value>' : '';
    lines.push(`  ${[short, long].filter(Boolean).join(', ')}${arg}`.padEnd(34) + spec.desc);
  }
  lines.push(
    '',
    'Each step runs smtp-source at one rate (--rate) for --step-duration and is judged: accepted throughput',
    'and due messages accepted >= --min-accepted of offered, corrected p99 <= --max-p99, with --log the delivery',
    'keeping up and the queue drained, and smtp-source itself not saturated. The knee is the highest rate below',
    'the first step that failed; recommended capacity = knee less --headroom.',
    '',
    'Exit status: 0 done; 3 the knee is below --require; 1 a bad flag or a target that cannot be reached.',
  );
  return lines.join('\n') + '\n';
}
