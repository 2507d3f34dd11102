#!/usr/bin/env node
// smtpstone-sample: samples this box like vmstat/iostat while a load test runs elsewhere (or
// while Postfix works), then says whether it was disk-bound, CPU-bound or not saturated.
// A thin shell over Sampler, makeSystemRecord() and the verdict.
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseFlags } from '@smtpstone/cli-flags';
import { Diagnostics, FatalError, parseDuration } from '@smtpstone/core';
import { defaultDevices, parseDiskstats } from './diskstats.js';
import { makeSystemRecord, type SystemRecord } from './record.js';
import type { SystemSample } from './rates.js';
import { Sampler } from './sampler.js';
import { busiestDevice } from './series-summary.js';
import { defaultVerdictThresholds, type VerdictThresholds } from './verdict.js';

const PROGRAM = 'smtpstone-sample';
const log = new Diagnostics(PROGRAM);

/** /proc/stat counts CPU time in 10 ms ticks (USER_HZ 100): shorter intervals are mostly noise. */
const MIN_INTERVAL_MS = 10;
/** A header line before every this many sample lines, as vmstat repeats its own. */
const HEADER_EVERY = 20;

interface Settings {
  intervalMs: number;
  durationMs: number | undefined;
  json: string | undefined;
  devices: string[] | undefined;
  thresholds: Partial<VerdictThresholds>;
  quiet: boolean;
  procRoot: string;
}

function duration(text: string, flag: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    throw new FatalError(`bad ${flag.slice(2)}: ${text} (${flag} wants e.g. 1s, 500ms, 2m)`);
  }
  if (!(ms > 0)) throw new FatalError(`bad ${flag.slice(2)}: ${text} (${flag} must be longer than 0)`);
  return ms;
}

function threshold(text: string): [keyof VerdictThresholds, number] {
  const names = Object.keys(defaultVerdictThresholds) as (keyof VerdictThresholds)[];
  const eq = text.indexOf('=');
  if (eq <= 0) throw new FatalError(`bad threshold: ${text} (--threshold wants name=value, e.g. cpuBusyPct=90)`);
  const name = text.slice(0, eq).trim();
  const value = text.slice(eq + 1).trim();
  if (!(names as string[]).includes(name)) {
    throw new FatalError(`unknown threshold: ${name} (--threshold names: ${names.join(', ')})`);
  }
  const key = name as keyof VerdictThresholds;
  const n = /^[+]?(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) throw new FatalError(`bad threshold value: ${text} (--threshold wants a number >= 0)`);
  if (key === 'minShare' && !(n > 0 && n <= 1)) throw new FatalError(`bad threshold value: ${text} (--threshold minShare is a share: more than 0, at most 1)`);
  if (key === 'minSamples' && !(Number.isInteger(n) && n >= 1)) throw new FatalError(`bad threshold value: ${text} (--threshold minSamples wants a whole number >= 1)`);
  if (key.endsWith('Pct') && n > 100) throw new FatalError(`bad threshold value: ${text} (--threshold ${key} is a percentage: 0 to 100)`);
  return [key, n];
}

/** Checks --device names against diskstats when it can be read (when not, the samples say so). */
function checkDevices(names: string[], procRoot: string): void {
  let text: string;
  try {
    text = readFileSync(join(procRoot, 'diskstats'), 'utf8');
  } catch {
    return;
  }
  const all = parseDiskstats(text);
  for (const name of names) {
    if (all.some((d) => d.name === name)) continue;
    const disks = defaultDevices(all).map((d) => d.name);
    throw new FatalError(
      `unknown device: ${name} (--device: not in ${join(procRoot, 'diskstats')}; whole disks here: ${disks.join(', ') || 'none'})`,
    );
  }
}

const EPILOG = [
  'Each line covers one interval (an iostat-like view of this host; "-" where the kernel lacks the signal):',
  '  time      end of the interval, local time',
  '  us sy id wa  CPU user, system, idle and iowait, % of all CPUs (us includes nice; sy includes irq, softirq)',
  '  wa-cpus   iowait counted in CPUs (iowait % x CPUs / 100): not diluted on many-CPU boxes',
  '  b         processes blocked on I/O (procs_blocked)',
  '  io-some   PSI io "some": % of the interval in which some task stalled on I/O',
  '  io-full   PSI io "full": % in which every non-idle task stalled on I/O',
  '  load1     1-minute load average',
  '  disk      the device with the highest %util in that interval, with its',
  '  util      % of the interval with I/O in flight (iostat %util) and',
  '  await     mean ms per completed I/O, queueing included (iostat await)',
  'At the end (--duration over, or Ctrl-C / SIGTERM) it prints the verdict - disk-bound, cpu-bound,',
  'not-saturated or unknown - with its reasons, and writes the samples and verdict to --json.',
  `Thresholds (--threshold name=value): ${Object.entries(defaultVerdictThresholds)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')}.`,
].join('\n');

const FLAGS = {
  interval: { type: 'string', desc: 'time between samples: 1s, 500ms, 2m (default 1s)' },
  duration: { type: 'string', desc: 'stop after this long (default: run until Ctrl-C or SIGTERM)' },
  json: { type: 'string', desc: 'write the samples and the verdict as JSON to FILE ("-": stdout; the text then goes to stderr)' },
  device: { type: 'string', desc: 'block device to watch, as named in /proc/diskstats (repeatable or comma-separated; default: all whole disks)' },
  threshold: { type: 'string', desc: 'change a verdict threshold, e.g. cpuBusyPct=90 (repeatable; names below)' },
  quiet: { type: 'boolean', desc: 'no per-sample lines: only the verdict at the end' },
  'proc-root': { type: 'string', desc: 'read stat, pressure/, loadavg and diskstats under this directory (default /proc)' },
} as const;

const USAGE =
  `usage: ${PROGRAM} [--interval 1s] [--duration D] [--json FILE|-] [--device NAME]... [--threshold name=value]... [--quiet]\n\n` +
  'Samples /proc (CPU, iowait, PSI, load, per-disk util and await) every interval and says whether the box was disk-bound, CPU-bound or neither.';

function parseArgs(argv: string[]): Settings {
  const { operands, last, list, flag, given } = parseFlags(argv, FLAGS, { program: PROGRAM, error: (m) => new FatalError(m), usage: USAGE, epilog: EPILOG, wrap: null });
  if (operands.length > 0) {
    throw new FatalError(`unexpected operand: ${operands[0]} (${PROGRAM} takes flags only: --interval, --duration; see --help)`);
  }

  const intervalText = last('interval');
  const intervalMs = intervalText === undefined ? 1000 : duration(intervalText, '--interval');
  if (intervalMs < MIN_INTERVAL_MS) {
    throw new FatalError(`bad interval: ${intervalText} (--interval must be at least ${MIN_INTERVAL_MS}ms: /proc/stat counts in 10 ms ticks)`);
  }
  const durationText = last('duration');
  const durationMs = durationText === undefined ? undefined : duration(durationText, '--duration');
  if (durationMs !== undefined && durationMs < intervalMs) {
    throw new FatalError(`bad duration: ${durationText} (--duration must be at least one --interval, ${intervalText ?? '1s'})`);
  }
  const json = last('json');
  if (json === '') throw new FatalError('--json wants a file name or "-" for stdout');
  const procRoot = last('proc-root') ?? '/proc';
  if (procRoot === '') throw new FatalError('--proc-root wants a directory');

  let devices: string[] | undefined;
  if (given('device')) {
    devices = [];
    for (const v of list('device')) {
      for (const name of v.split(',').map((x) => x.trim())) {
        if (!/^[^\s/]+$/.test(name)) throw new FatalError(`bad device name: "${name}" (--device wants a name from /proc/diskstats, e.g. vda, nvme0n1)`);
        if (!devices.includes(name)) devices.push(name);
      }
    }
    checkDevices(devices, procRoot);
  }
  const thresholds: Partial<VerdictThresholds> = {};
  for (const t of list('threshold')) {
    const [key, value] = threshold(t);
    thresholds[key] = value;
  }
  const quiet = flag('quiet');
  return { intervalMs, durationMs, json, devices, thresholds, quiet, procRoot };
}

// ---- the text ------------------------------------------------------------------------------

const pad2 = (n: number): string => String(n).padStart(2, '0');

function clock(epochMs: number, tenths: boolean): string {
  const d = new Date(epochMs);
  const base = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  return tenths ? `${base}.${Math.floor(d.getMilliseconds() / 100)}` : base;
}

/** A number right-aligned in `width`, or "-" when the signal is missing. */
function num(x: number | null | undefined, width: number, digits: number): string {
  return (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits)).padStart(width);
}

/** "200ms", "1s", "1.5s", "2m" */
function showMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000 || ms % 60_000 !== 0) return `${Number((ms / 1000).toFixed(2))}s`;
  return `${ms / 60_000}m`;
}

class SampleLines {
  private readonly tenths: boolean;
  private readonly diskWidth: number;
  private printed = 0;

  constructor(intervalMs: number, devices: readonly string[] | undefined) {
    this.tenths = intervalMs < 1000;
    this.diskWidth = Math.max(6, ...(devices ?? []).map((d) => d.length));
  }

  header(): string {
    const t = this.tenths ? 10 : 8;
    return (
      'time'.padEnd(t) +
      ['us', 'sy', 'id', 'wa'].map((h) => h.padStart(6)).join('') +
      'wa-cpus'.padStart(8) +
      'b'.padStart(4) +
      'io-some'.padStart(8) +
      'io-full'.padStart(8) +
      'load1'.padStart(7) +
      '  ' +
      'disk'.padEnd(this.diskWidth) +
      'util'.padStart(6) +
      'await'.padStart(8)
    );
  }

  line(s: SystemSample): string {
    const c = s.cpu;
    // us/sy as vmstat shows them: nice in user; irq, softirq in system (steal left out, it is in the verdict).
    const user = c ? (c.user ?? 0) + (c.nice ?? 0) : null;
    const sys = c ? (c.system ?? 0) + (c.irq ?? 0) + (c.softirq ?? 0) : null;
    const disk = busiestDevice(s.disks);
    return (
      clock(s.epochMs, this.tenths) +
      [user, sys, c?.idle, c?.iowait].map((x) => num(x, 6, 1)).join('') +
      num(s.iowaitCpus, 8, 2) +
      num(s.procsBlocked, 4, 0) +
      num(s.psiIo?.somePct, 8, 1) +
      num(s.psiIo?.fullPct, 8, 1) +
      num(s.load1, 7, 2) +
      '  ' +
      (disk?.name ?? '-').padEnd(this.diskWidth) +
      num(disk?.utilPct, 6, 1) +
      num(disk?.awaitMs, 8, 2)
    );
  }

  /** The next lines to print for a sample: a header first, and again every HEADER_EVERY lines. */
  next(s: SystemSample): string {
    const head = this.printed % HEADER_EVERY === 0 ? this.header() + '\n' : '';
    this.printed++;
    return head + this.line(s) + '\n';
  }
}

function verdictText(r: SystemRecord): string {
  const v = r.verdict;
  const n = r.samples.length;
  const span = n > 0 ? r.samples.reduce((sum, s) => sum + s.intervalMs, 0) : 0;
  const lines = [`verdict: ${v.kind} (${n} sample${n === 1 ? '' : 's'} of ${showMs(r.intervalMs)} over ${showMs(span)} on ${r.host})`];
  for (const reason of v.reasons) lines.push(`  - ${reason}`);
  return lines.join('\n') + '\n';
}

// ---- the run -------------------------------------------------------------------------------

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  // Opened now so that a bad path fails at once, not after an hour of sampling.
  let jsonFd: number | undefined;
  if (o.json !== undefined && o.json !== '-') {
    try {
      jsonFd = openSync(o.json, 'w');
    } catch (err) {
      throw new FatalError(`cannot write --json file ${o.json}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  const textOut = o.json === '-' ? process.stderr : process.stdout;
  let textBroken = false;
  const write = (text: string): void => {
    if (!textBroken) textOut.write(text);
  };
  const lines = new SampleLines(o.intervalMs, o.devices);
  const sampler = new Sampler({
    intervalMs: o.intervalMs,
    devices: o.devices,
    procRoot: o.procRoot,
    onSample: o.quiet ? undefined : (s) => write(lines.next(s)),
  });

  await new Promise<void>((resolve) => {
    // The sampler's timer does not keep the process alive; this one does, until the end.
    const keepAlive =
      o.durationMs !== undefined ? setTimeout(() => end(), o.durationMs) : setInterval(() => undefined, 1 << 30);
    const end = (): void => {
      clearTimeout(keepAlive);
      clearInterval(keepAlive);
      process.off('SIGINT', end);
      process.off('SIGTERM', end);
      // A later signal (while the record is written) is ignored rather than killing the process.
      process.on('SIGINT', () => undefined);
      process.on('SIGTERM', () => undefined);
      resolve();
    };
    process.on('SIGINT', end);
    process.on('SIGTERM', end);
    // `... | head`: stop printing and end as on Ctrl-C, still writing --json FILE.
    textOut.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      textBroken = true;
      end();
    });
    sampler.start();
  });

  sampler.stop();
  // The last, shorter interval counts when more than half of it has passed.
  if (performance.now() - (sampler.lastReadingMonoMs ?? 0) > o.intervalMs / 2) sampler.tick();
  const record = makeSystemRecord(sampler.samples, o.intervalMs, o.thresholds);
  const json = JSON.stringify(record, null, 2) + '\n';
  if (jsonFd !== undefined) {
    writeFileSync(jsonFd, json);
    closeSync(jsonFd);
  } else if (o.json === '-') {
    process.stdout.write(json);
  }
  write((o.quiet || sampler.samples.length === 0 ? '' : '\n') + verdictText(record));
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    const message = err instanceof FatalError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(log.line('fatal', message));
    process.exit(1);
  },
);
