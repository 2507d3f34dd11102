// The Sampler against a fake /proc written between ticks: deterministic deltas, files that come
// and go, and the timer that must not keep the process alive.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Sampler, sampleFor, type SystemSample } from '../src/index.js';
import { diskLine, FakeClock, FakeProc, psiText, statText } from './sampler-helpers.js';

let proc: FakeProc;
afterEach(() => proc?.cleanup());

/** Writes one "second" of a disk-heavy box: 1 CPU's worth of iowait on 2 CPUs, vda busy. */
function writeSecond(p: FakeProc, i: number): void {
  p.write('stat', statText({ user: 10 * i, system: 20 * i, idle: 70 * i, iowait: 100 * i }, { blocked: 1 }));
  p.write('pressure/io', psiText(900_000 * i, 800_000 * i, 90));
  p.write('pressure/cpu', psiText(10_000 * i, 0));
  p.write('loadavg', `${(0.5 * i).toFixed(2)} 0.10 0.05 2/100 1234\n`);
  p.write(
    'diskstats',
    diskLine('vda', { writes: 1000 * i, sectorsWritten: 2048 * 1000 * i, msWriting: 1500 * i, ioTicks: 950 * i, timeInQueue: 1800 * i, inFlight: 1 }, 254, 0) +
      diskLine('vda1', { writes: 1000 * i, ioTicks: 950 * i }, 254, 1) +
      diskLine('loop0', {}, 7, 0),
  );
}

describe('Sampler on a fake /proc', () => {
  it('turns each pair of readings into rates and percentages', () => {
    proc = new FakeProc();
    const clock = new FakeClock();
    const sampler = new Sampler({ procRoot: proc.root, clock });
    writeSecond(proc, 0);
    expect(sampler.tick()).toBeNull(); // the baseline
    for (let i = 1; i <= 3; i++) {
      clock.advance(1000);
      writeSecond(proc, i);
      sampler.tick();
    }
    expect(sampler.samples).toHaveLength(3);
    for (const s of sampler.samples) {
      expect(s.intervalMs).toBe(1000);
      // 200 ticks per second over 2 CPUs: 10 user, 20 system, 70 idle, 100 iowait.
      expect(s.cpu).toMatchObject({ user: 5, system: 10, idle: 35, iowait: 50, steal: 0, busy: 15 });
      expect(s.iowaitCpus).toBe(1);
      expect(s.procsBlocked).toBe(1);
      expect(s.psiIo).toEqual({ somePct: 90, fullPct: 80, someAvg10: 90, fullAvg10: 90 });
      expect(s.psiCpu?.somePct).toBe(1);
      // The partition and the loop device are left out by default.
      expect(s.disks).toEqual([
        {
          name: 'vda', utilPct: 95, rPerSec: 0, wPerSec: 1000, rkBPerSec: 0, wkBPerSec: 1024 * 1000,
          awaitMs: 1.5, rAwaitMs: null, wAwaitMs: 1.5, fAwaitMs: null, aquSz: 1.8, inFlight: 1,
        },
      ]);
      expect(s.missing).toEqual([]);
    }
    expect(sampler.samples.map((s) => s.load1)).toEqual([0.5, 1, 1.5]);
    expect(sampler.samples.map((s) => s.monoMs)).toEqual([1_001_000, 1_002_000, 1_003_000]);
    expect(sampler.samples[0].epochMs).toBe(1_700_000_000_000 + 1_001_000);
  });

  it('samples only the devices asked for, and names those not there', () => {
    proc = new FakeProc();
    const clock = new FakeClock();
    const sampler = new Sampler({ procRoot: proc.root, clock, devices: ['vda1', 'sdz'] });
    writeSecond(proc, 0);
    sampler.tick();
    clock.advance(1000);
    writeSecond(proc, 1);
    const s = sampler.tick()!;
    expect(s.disks!.map((d) => d.name)).toEqual(['vda1']);
    expect(s.missing).toEqual([{ signal: 'disk:sdz', reason: 'not in diskstats' }]);
  });

  it('degrades when files are missing or vanish, and recovers when they return', () => {
    proc = new FakeProc();
    const clock = new FakeClock();
    const sampler = new Sampler({ procRoot: proc.root, clock, keepReadings: true });
    writeSecond(proc, 0);
    proc.remove('pressure');
    sampler.tick();
    clock.advance(1000);
    writeSecond(proc, 1);
    proc.remove('pressure').remove('diskstats');
    const noPsi = sampler.tick()!;
    expect(noPsi.psiIo).toBeNull();
    expect(noPsi.psiCpu).toBeNull();
    expect(noPsi.disks).toBeNull();
    expect(noPsi.cpu?.iowait).toBe(50); // the rest still works
    expect(noPsi.missing.map((m) => m.signal).sort()).toEqual(['diskstats', 'psi.cpu', 'psi.io']);
    expect(noPsi.missing.find((m) => m.signal === 'psi.io')!.reason).toBe(`${join(proc.root, 'pressure/io')}: ENOENT`);

    clock.advance(1000);
    writeSecond(proc, 2);
    const back = sampler.tick()!;
    // No delta yet: the previous reading lacked them.
    expect(back.psiIo).toBeNull();
    expect(back.missing.map((m) => m.reason)).toEqual(Array(3).fill('not in the previous reading'));

    clock.advance(1000);
    writeSecond(proc, 3);
    const whole = sampler.tick()!;
    expect(whole.psiIo?.somePct).toBe(90);
    expect(whole.disks).toHaveLength(1);
    expect(whole.missing).toEqual([]);
    expect(sampler.readings).toHaveLength(4);
  });

  it('survives an unreadable or garbled /proc', () => {
    proc = new FakeProc();
    const clock = new FakeClock();
    proc.write('stat', 'garbage\n').write('pressure/io', 'also garbage').write('loadavg', '').write('diskstats', 'x\n');
    proc.write('pressure/cpu', ''); // EOPNOTSUPP on psi=0 kernels reads as an error; empty as unparseable
    const sampler = new Sampler({ procRoot: proc.root, clock });
    sampler.tick();
    clock.advance(1000);
    const s = sampler.tick()!;
    expect(s).toMatchObject({ cpu: null, cpuCount: null, iowaitCpus: null, procsBlocked: null, psiIo: null, load1: null, disks: [] });
    expect(s.missing.map((m) => m.signal).sort()).toEqual(['cpu', 'diskstats', 'loadavg', 'procs_blocked', 'psi.cpu', 'psi.io']);

    const nowhere = new Sampler({ procRoot: join(proc.root, 'no-such-dir'), clock });
    nowhere.tick();
    clock.advance(1000);
    const n = nowhere.tick()!;
    expect(n.cpu).toBeNull();
    expect(n.missing.map((m) => m.signal).sort()).toEqual(['diskstats', 'loadavg', 'psi.cpu', 'psi.io', 'stat']);
  });

  it('handles a kernel without steal and without PSI', () => {
    proc = new FakeProc();
    const clock = new FakeClock();
    const old = (i: number): string => `cpu  ${10 * i} 0 ${10 * i} ${80 * i} ${100 * i} 0 0\ncpu0 0 0 0 0 0 0 0\ncpu1 0 0 0 0 0 0 0\nprocs_blocked 2\n`;
    proc.write('stat', old(0));
    const sampler = new Sampler({ procRoot: proc.root, clock });
    sampler.tick();
    clock.advance(1000);
    proc.write('stat', old(1));
    const s = sampler.tick()!;
    expect(s.cpu).toMatchObject({ user: 5, system: 5, idle: 40, iowait: 50, steal: null, busy: 10 });
    expect(s.iowaitCpus).toBe(1);
    expect(s.missing.map((m) => m.signal)).toEqual(expect.arrayContaining(['cpu.steal', 'psi.io', 'diskstats']));
  });
});

describe('Sampler timing', () => {
  it('reads on its timer, which does not hold the process open, until stopped', async () => {
    proc = new FakeProc();
    writeSecond(proc, 1);
    const seen: SystemSample[] = [];
    const sampler = new Sampler({ procRoot: proc.root, intervalMs: 25, onSample: (s) => seen.push(s) }).start();
    expect(sampler.running).toBe(true);
    expect((sampler as unknown as { timer: NodeJS.Timeout }).timer.hasRef()).toBe(false);
    // Two readings, however late the timer runs on a busy box.
    const until = Date.now() + 5000;
    while (seen.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    const samples = sampler.stop();
    expect(sampler.running).toBe(false);
    expect(samples.length).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual(samples);
    for (const s of samples) expect(s.intervalMs).toBeGreaterThan(10);
    const count = samples.length;
    await new Promise((r) => setTimeout(r, 60));
    expect(sampler.samples).toHaveLength(count);
  });

  it('rejects a non-positive interval', () => {
    expect(() => new Sampler({ intervalMs: 0 })).toThrow(RangeError);
  });

  it('sampleFor returns the series of its duration, ending with a last reading', async () => {
    proc = new FakeProc();
    writeSecond(proc, 1);
    const t0 = performance.now();
    const series = await sampleFor(280, { procRoot: proc.root, intervalMs: 100 });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(275);
    // Readings at 0, 100, 200 and a last one at 280 if that is more than half an interval
    // after the previous: the series covers the duration but for less than half an interval,
    // however late the timer runs (a tick late to 240 leaves no room for the last reading).
    expect(series.length).toBeGreaterThanOrEqual(2);
    expect(series.length).toBeLessThanOrEqual(3);
    const covered = series.reduce((sum, s) => sum + s.intervalMs, 0);
    expect(covered).toBeGreaterThanOrEqual(280 - 100 / 2);
  });

  it('sampleFor stops early on abort', async () => {
    proc = new FakeProc();
    writeSecond(proc, 1);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 80);
    const t0 = performance.now();
    await sampleFor(10_000, { procRoot: proc.root, intervalMs: 50, signal: ac.signal });
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
