// Real pressure on this machine, sampled from the real /proc: a disk writer must show up as
// I/O stalls and a disk-bound verdict, two busy loops as a CPU-bound one. The machine is a
// shared 2-vCPU VM, so each load is compared with a baseline taken in the same test and the
// margins are wide (measured values are in verdict.ts). When other work saturates the CPUs
// during the disk test, the disk cannot be the limit and the test accepts a CPU-bound verdict.
// The tests run one after the other (CPU first: deleting the written file causes discards that
// disturb the next seconds).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { diskOfPath, parseProcStat, sampleFor, summarizeSeries, verdict, type SystemSample } from '../src/index.js';

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
const HAS_PSI = readable('/proc/pressure/io');
const HAS_DISKSTATS = readable('/proc/diskstats');
const HAS_IOWAIT = LINUX && parseProcStat(readFileSync('/proc/stat', 'utf8')).cpu?.iowait != null;
const HAS_DD = spawnSync('dd', ['--version'], { stdio: 'ignore' }).status === 0;

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const med = (series: SystemSample[], f: (s: SystemSample) => number | null | undefined): number =>
  summarizeSeries(series.map(f))?.median ?? Number.NaN;

/** Children this file started, each in its own process group, killed by that group's id. */
const children: ChildProcess[] = [];
async function killAll(): Promise<void> {
  const running = children.splice(0).filter((c) => c.exitCode === null && c.signalCode === null);
  for (const c of running) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      c.kill('SIGKILL');
    }
  }
  await Promise.all(running.map((c) => (c.exitCode === null && c.signalCode === null ? once(c, 'exit') : null)));
}
function start(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: 'ignore', detached: true });
  children.push(c);
  return c;
}

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await killAll();
  for (const f of cleanups.splice(0)) f();
});

/** A temporary directory on a block device if possible: O_DIRECT needs one, and so does %util. */
function scratchDir(): { dir: string; device: string | null } {
  const make = (parent: string): { dir: string; device: string | null } => {
    const dir = mkdtempSync(join(parent, '.smtpstone-pressure-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return { dir, device: diskOfPath(dir) };
  };
  const tmp = make(tmpdir());
  if (tmp.device) return tmp;
  // The temp directory is on tmpfs: beside this file is the project's disk.
  const here = make(dirname(fileURLToPath(import.meta.url)));
  return here.device ? here : tmp;
}

function line(label: string, series: SystemSample[]): string {
  const f = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '-');
  return (
    `${label}: ${series.length} samples, CPU busy ${f(med(series, (s) => s.cpu?.busy))} %, ` +
    `iowait ${f(med(series, (s) => s.cpu?.iowait))} % (${f(med(series, (s) => s.iowaitCpus))} CPUs), ` +
    `steal ${f(med(series, (s) => s.cpu?.steal))} %, PSI io some/full ${f(med(series, (s) => s.psiIo?.somePct))}/` +
    `${f(med(series, (s) => s.psiIo?.fullPct))} %, PSI cpu some ${f(med(series, (s) => s.psiCpu?.somePct))} %, ` +
    `util ${f(med(series, (s) => s.disks?.[0]?.utilPct))} %, aqu-sz ${f(med(series, (s) => s.disks?.[0]?.aquSz))}, ` +
    `await ${f(med(series, (s) => s.disks?.[0]?.awaitMs))} ms, procs_blocked max ${summarizeSeries(series.map((s) => s.procsBlocked))?.max ?? '-'}`
  );
}

describe.skipIf(!LINUX)('real pressure on this machine', () => {
  it('two busy loops: CPU busy rises to saturation and the verdict is cpu-bound', async () => {
    const baseline = await sampleFor(2000);
    // Each loop also stops by itself after 15 s, should this process die before killing it.
    for (let i = 0; i < 2; i++) start(process.execPath, ['-e', 'const end = Date.now() + 15000; while (Date.now() < end) {}']);
    await delay(500);
    const load = await sampleFor(3000);
    await killAll();

    console.info(`${line('cpu baseline', baseline)}\n${line('2 busy loops', load)}`);
    const before = med(baseline, (s) => s.cpu?.busy);
    const during = med(load, (s) => s.cpu?.busy);
    expect(during).toBeGreaterThanOrEqual(80);
    // Other work may already keep the shared VM busy; the rise is only checkable from below.
    if (before < 70) expect(during).toBeGreaterThanOrEqual(before + 20);
    else console.info(`CPUs already ${before.toFixed(0)} % busy before the loops started`);
    const v = verdict(load);
    expect(v.kind, v.reasons.join('\n')).toBe('cpu-bound');
    expect(med(load, (s) => s.psiIo?.somePct ?? 0)).toBeLessThan(40);
  }, 15_000);

  // Skipped only when none of the three disk signals exists (no PSI, no iowait, no diskstats).
  it.skipIf(!HAS_PSI && !HAS_IOWAIT && !HAS_DISKSTATS)(
    'an O_DIRECT writer: PSI io (or iowait, or util) rises and the verdict is disk-bound',
    async () => {
      const { dir, device } = scratchDir();
      const devices = device ? [device] : undefined;
      const baseline = await sampleFor(2000, { devices });
      const file = join(dir, 'pressure.dat');
      // Rewrite the same 256 MB so the disk never fills; O_DIRECT bypasses the page cache so every
      // write waits for the device. Falls back to O_DSYNC where O_DIRECT is refused (tmpfs), and
      // to a Node fsync loop without dd. Stops by itself after 20 s.
      if (HAS_DD) {
        const script =
          'end=$(($(date +%s) + 20)); while [ "$(date +%s)" -lt "$end" ]; do ' +
          'dd if=/dev/zero of="$1" bs=1M count=256 oflag=direct conv=notrunc status=none 2>/dev/null || ' +
          'dd if=/dev/zero of="$1" bs=64k count=256 oflag=dsync conv=notrunc status=none || exit 1; done';
        start('sh', ['-c', script, 'sh', file]);
      } else {
        const writer =
          "const fs = require('fs'); const fd = fs.openSync(process.argv[1], 'w'); const b = Buffer.alloc(65536, 1);" +
          'const end = Date.now() + 20000; let i = 0; while (Date.now() < end) { fs.writeSync(fd, b, 0, b.length, (i++ % 2048) * 65536); fs.fdatasyncSync(fd); }';
        start(process.execPath, ['-e', writer, file]);
      }
      await delay(800);
      const load = await sampleFor(4000, { devices });
      await killAll();
      rmSync(file, { force: true });

      console.info(`${line(`disk baseline (${device ?? 'no device'})`, baseline)}\n${line('O_DIRECT writer', load)}`);
      const rise = (f: (s: SystemSample) => number | null | undefined): number => med(load, f) - med(baseline, f);
      const rose: string[] = [];
      if (rise((s) => s.psiIo?.somePct) >= 10) rose.push('psi');
      if (rise((s) => s.iowaitCpus) >= 0.2) rose.push('iowait');
      if (device && rise((s) => s.disks?.[0]?.utilPct) >= 25) rose.push('util');
      expect(rose.length, 'no disk signal rose').toBeGreaterThan(0);

      const v = verdict(load);
      const { cpuBoundSamples, usableSamples } = v.metrics;
      if (cpuBoundSamples * 2 < usableSamples) {
        // The CPUs were free in most samples: the writer's stalls must show and decide. PSI is
        // the dependable signal (busy CPUs hide iowait); without it iowait sits near its threshold.
        // A rise is only checkable from below: another writer on the box (a second test run,
        // a neighbour) can already hold the device busy in the baseline (util 65 % seen, against
        // the writer's own 68 %).
        const utilBefore = med(baseline, (s) => s.disks?.[0]?.utilPct);
        if (HAS_PSI && med(baseline, (s) => s.psiIo?.somePct) < 50) expect(rose).toContain('psi');
        if (device && utilBefore < 40) expect(rose).toContain('util');
        else if (device) console.info(`device already ${utilBefore.toFixed(0)} % busy before the writer started`);
        const expected = HAS_PSI ? ['disk-bound'] : ['disk-bound', 'not-saturated'];
        expect(expected, v.reasons.join('\n')).toContain(v.kind);
      } else {
        // Other work on the shared VM saturated the CPUs in most samples. The writer then waits
        // for a CPU more than for the disk, so PSI io falls (measured: some 6 %, with util still
        // 74 %) and the disk is not the limit: CPU-bound is the honest answer.
        console.info(`CPUs saturated by other work in ${cpuBoundSamples} of ${usableSamples} samples: verdict ${v.kind}`);
        expect(['cpu-bound', 'disk-bound'], v.reasons.join('\n')).toContain(v.kind);
      }
    },
    15_000,
  );
});

// Say why the disk test would be skipped, rather than skipping silently.
if (LINUX && !HAS_PSI && !HAS_IOWAIT && !HAS_DISKSTATS) {
  console.info('no /proc/pressure/io, no iowait field and no /proc/diskstats: the disk pressure test cannot see I/O');
}
