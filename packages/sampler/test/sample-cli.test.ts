// The smtpstone-sample command, run as built (node dist/cli.js) on this machine's real /proc:
// a bounded run writes a SystemRecord and prints vmstat-like lines and the verdict; Ctrl-C and
// SIGTERM end it early with the same output; each bad flag is one line naming it; a busy child
// with a low CPU threshold gives cpu-bound; missing /proc files show as "-", not a crash.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultDevices, parseDiskstats, type SystemRecord } from '../src/index.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');

const readable = (path: string): boolean => {
  try {
    accessSync(path);
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
};
const LINUX = process.platform === 'linux' && readable('/proc/stat');
const WHOLE_DISKS = readable('/proc/diskstats') ? defaultDevices(parseDiskstats(readFileSync('/proc/diskstats', 'utf8'))).map((d) => d.name) : [];

/** A sample line: the time, then the columns, any of which may be "-". */
const SAMPLE_LINE = /^\d\d:\d\d:\d\d(\.\d)? /;
const HEADER = /^time +us +sy +id +wa +wa-cpus +b +io-some +io-full +load1 +disk +util +await$/;
const VERDICT = /^verdict: (disk-bound|cpu-bound|not-saturated|unknown) \(\d+ samples? of /m;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Everything this file started, each in its own process group, killed by the group's id. */
const children: ChildProcess[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  const running = children.splice(0).filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of running) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      c.kill('SIGKILL');
    }
  }
  await Promise.all(running.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : null)));
  for (const f of cleanups.splice(0)) f();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'smtpstone-sample-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts the command; `result` resolves when it exits (SIGKILLed after timeoutMs). */
function start(args: string[], timeoutMs = 10_000): { child: ChildProcess; out: () => string; result: Promise<Run> } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const result = once(child, 'close').then(([code, signal]) => {
    clearTimeout(timer);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, stdout, stderr };
  });
  return { child, out: () => stdout, result };
}

const sampleCli = (args: string[], timeoutMs?: number): Promise<Run> => start(args, timeoutMs).result;
const readRecord = (path: string): SystemRecord => JSON.parse(readFileSync(path, 'utf8')) as SystemRecord;
const sampleLines = (text: string): string[] => text.split('\n').filter((l) => SAMPLE_LINE.test(l));

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build with npx tsc -b packages/sampler`);
});

describe.skipIf(!LINUX)('smtpstone-sample on the real /proc', { timeout: 20_000 }, () => {
  it('--interval 200ms --duration 1s --json FILE: a SystemRecord of 4-5 samples, one line per sample, the verdict', async () => {
    const file = join(tempDir(), 'samples.json');
    const started = Date.now();
    const r = await sampleCli(['--interval', '200ms', '--duration', '1s', '--json', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(8000);

    const rec = readRecord(file);
    expect(rec).toMatchObject({ type: 'smtpstone-samples', version: 1, intervalMs: 200 });
    expect(typeof rec.host).toBe('string');
    expect(rec.samples.length).toBeGreaterThanOrEqual(4);
    expect(rec.samples.length).toBeLessThanOrEqual(5);
    expect(rec.startedAt).toBe(rec.samples[0].epochMs);
    const span = rec.samples.reduce((sum, s) => sum + s.intervalMs, 0);
    expect(span).toBeGreaterThan(800);
    expect(span).toBeLessThan(1300);
    for (const s of rec.samples) expect(s.cpu?.busy).toBeTypeOf('number');
    expect(rec.thresholds.cpuBusyPct).toBe(80);
    expect(['disk-bound', 'cpu-bound', 'not-saturated', 'unknown']).toContain(rec.verdict.kind);
    expect(rec.verdict.reasons.length).toBeGreaterThan(0);

    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(HEADER);
    expect(sampleLines(r.stdout)).toHaveLength(rec.samples.length);
    // The text's verdict is the file's, with every reason.
    expect(r.stdout).toContain(`verdict: ${rec.verdict.kind} (${rec.samples.length} samples of 200ms`);
    for (const reason of rec.verdict.reasons) expect(r.stdout).toContain(`  - ${reason}\n`);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('%s before --duration ends: still prints the verdict and writes the JSON, exit 0', async (signal) => {
    const file = join(tempDir(), 'samples.json');
    const { child, out, result } = start(['--interval', '200ms', '--duration', '60s', '--json', file]);
    // Two sample lines, then the signal.
    const until = Date.now() + 8000;
    while (sampleLines(out()).length < 2 && Date.now() < until) await new Promise((res) => setTimeout(res, 20));
    expect(sampleLines(out()).length).toBeGreaterThanOrEqual(2);
    const sentAt = Date.now();
    child.kill(signal);
    const r = await result;
    expect(Date.now() - sentAt).toBeLessThan(3000);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const rec = readRecord(file);
    expect(rec.samples.length).toBeGreaterThanOrEqual(2);
    expect(rec.samples.length).toBeLessThan(20);
    expect(r.stdout).toMatch(VERDICT);
    expect(r.stdout).toContain(`verdict: ${rec.verdict.kind} (`);
  });

  it('--json - puts the record on stdout and the text on stderr; --quiet leaves only the verdict', async () => {
    const r = await sampleCli(['--interval', '100ms', '--duration', '300ms', '--json', '-', '--quiet']);
    expect(r.code).toBe(0);
    const rec = JSON.parse(r.stdout) as SystemRecord;
    expect(rec.type).toBe('smtpstone-samples');
    expect(rec.samples.length).toBeGreaterThanOrEqual(2);
    expect(sampleLines(r.stderr)).toEqual([]);
    expect(r.stderr).toMatch(/^verdict: /);
    expect(r.stderr).toContain(`verdict: ${rec.verdict.kind} (`);
  });

  it('--threshold cpuBusyPct=1 while a busy loop runs: cpu-bound', async () => {
    const loop = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore', detached: true });
    children.push(loop);
    await new Promise((res) => setTimeout(res, 200));
    const file = join(tempDir(), 'samples.json');
    const r = await sampleCli(['--interval', '200ms', '--duration', '1s', '--threshold', 'cpuBusyPct=1', '--json', file]);
    expect(r.code).toBe(0);
    const rec = readRecord(file);
    expect(rec.thresholds.cpuBusyPct).toBe(1);
    expect(rec.thresholds.psiIoSomePct).toBe(40);
    expect(rec.verdict.kind).toBe('cpu-bound');
    expect(rec.verdict.reasons[0]).toMatch(/^CPU saturated \(busy >= 1 %/);
    expect(r.stdout).toContain('verdict: cpu-bound (');
  });

  it.skipIf(WHOLE_DISKS.length === 0)('--device NAME: only that device is sampled and shown', async () => {
    const dev = WHOLE_DISKS[0];
    const file = join(tempDir(), 'samples.json');
    const r = await sampleCli(['--interval', '100ms', '--duration', '300ms', '--device', dev, '--json', file]);
    expect(r.code).toBe(0);
    const rec = readRecord(file);
    for (const s of rec.samples) expect(s.disks?.map((d) => d.name)).toEqual([dev]);
    for (const line of sampleLines(r.stdout)) expect(line).toContain(` ${dev} `);
  });

  it('a /proc without pressure/ and diskstats: "-" in those columns, the verdict names them, no crash', async () => {
    const root = tempDir();
    symlinkSync('/proc/stat', join(root, 'stat'));
    symlinkSync('/proc/loadavg', join(root, 'loadavg'));
    const file = join(root, 'samples.json');
    const r = await sampleCli(['--interval', '100ms', '--duration', '300ms', '--proc-root', root, '--json', file]);
    expect(r.code).toBe(0);
    const lines = sampleLines(r.stdout);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    // The last six columns: io-some, io-full, load1 (there), disk, util, await.
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      expect(cols.slice(-6)).toEqual(['-', '-', expect.stringMatching(/^\d+\.\d\d$/), '-', '-', '-']);
      expect(cols[1]).toMatch(/^\d+\.\d$/); // us: the CPU columns are there
    }
    const rec = readRecord(file);
    expect(rec.samples[0].missing.map((m) => m.signal)).toEqual(expect.arrayContaining(['psi.io', 'psi.cpu', 'diskstats']));
    expect(r.stdout).toMatch(/  - missing psi\.io in \d+ of \d+ samples/);
  });
});

describe('smtpstone-sample flag validation', { timeout: 20_000 }, () => {
  it.each([
    [['--interval', '0'], '--interval'],
    [['--interval', '5ms'], '--interval'],
    [['--interval', 'soon'], '--interval'],
    [['--interval'], '--interval'],
    [['--duration', 'abc'], '--duration'],
    [['--duration', '0'], '--duration'],
    [['--duration', '100ms'], '--duration'],
    [['--threshold', 'nosuch=1'], '--threshold'],
    [['--threshold', 'cpuBusyPct=abc'], '--threshold'],
    [['--threshold', 'cpuBusyPct'], '--threshold'],
    [['--threshold', 'cpuBusyPct=-5'], '--threshold'],
    [['--threshold', 'cpuBusyPct=150'], '--threshold'],
    [['--threshold', 'minShare=2'], '--threshold'],
    [['--threshold', 'minSamples=1.5'], '--threshold'],
    [['--device', ''], '--device'],
    // Names are checked against /proc/diskstats when it can be read.
    ...(WHOLE_DISKS.length > 0 ? [[['--device', 'no-such-disk-xyz'], '--device']] : []),
    [['--json', ''], '--json'],
    [['--json', '/nonexistent-dir/x.json'], '--json'],
    [['--bogus'], 'unknown flag: --bogus'],
    [['1', '5'], 'unexpected operand: 1'],
  ])('%j: one line naming the flag, exit 1', async (args, text) => {
    const r = await sampleCli(args as string[]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^smtpstone-sample: fatal: /);
    expect(r.stderr).toContain(text);
  });

  it('--help lists every flag and explains the columns', async () => {
    const r = await sampleCli(['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--interval', '--duration', '--json', '--device', '--threshold', '--quiet']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('io-some');
    expect(r.stdout).toContain('cpuBusyPct=80');
  });
});
