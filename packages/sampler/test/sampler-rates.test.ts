// From two readings to a sample: the captured pairs checked against hand-computed sysstat
// formulas, then the awkward cases (counters going backwards, fields appearing, zero interval).
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { computeSample, readSnapshot, type ProcSnapshot } from '../src/index.js';
import { diskLine, FakeClock, FakeProc, FIXTURES, fixtureClock, psiText, statText } from './sampler-helpers.js';

function capturedPair(a: string, b: string): ReturnType<typeof computeSample> {
  const clock = fixtureClock(a, b);
  const first = readSnapshot({ procRoot: join(FIXTURES, a), clock });
  const second = readSnapshot({ procRoot: join(FIXTURES, b), clock });
  return computeSample(first, second);
}

describe('computeSample on captured pairs', () => {
  it('dd writing with O_DIRECT: iowait, PSI io, util, await as iostat computes them', () => {
    const s = capturedPair('dd-a', 'dd-b');
    // cpu deltas: user 1, system 26, idle 103, iowait 45, softirq 13, steal 33 = 221 ticks.
    expect(s.intervalMs).toBeCloseTo(1022.286, 2);
    expect(s.cpu!.iowait).toBeCloseTo((45 / 221) * 100, 6);
    expect(s.cpu!.idle).toBeCloseTo((103 / 221) * 100, 6);
    expect(s.cpu!.steal).toBeCloseTo((33 / 221) * 100, 6);
    expect(s.cpu!.busy).toBeCloseTo((73 / 221) * 100, 6);
    expect(s.cpuCount).toBe(2);
    expect(s.iowaitCpus).toBeCloseTo((45 / 221) * 2, 6);
    // PSI totals: some 413022 us, full 409418 us over the interval.
    expect(s.psiIo!.somePct).toBeCloseTo(413022 / (1022.286 * 10), 2);
    expect(s.psiIo!.fullPct).toBeCloseTo(409418 / (1022.286 * 10), 2);
    expect(s.psiIo!.someAvg10).toBe(0);
    expect(s.disks!.map((d) => d.name)).toEqual(['vda']);
    const vda = s.disks![0];
    expect(vda.utilPct).toBeCloseTo((792 / 1022.286) * 100, 2);
    expect(vda.wPerSec).toBeCloseTo(1103 / 1.022286, 1);
    expect(vda.rPerSec).toBeCloseTo(9 / 1.022286, 2);
    expect(vda.wkBPerSec).toBeCloseTo(2258944 / 2 / 1.022286, 0);
    // (2 ms reading + 788 ms writing + 0 discarding) / (9 + 1103 + 0)
    expect(vda.awaitMs).toBeCloseTo(790 / 1112, 6);
    expect(vda.wAwaitMs).toBeCloseTo(788 / 1103, 6);
    expect(vda.rAwaitMs).toBeCloseTo(2 / 9, 6);
    expect(vda.fAwaitMs).toBeNull();
    expect(vda.aquSz).toBeCloseTo(790 / 1022.286, 3);
    expect(vda.inFlight).toBe(1);
    expect(s.missing).toEqual([]);
    expect(s.epochMs).toBe(1795772841875.742);
  });

  it('idle: nearly all idle, no stall', () => {
    const s = capturedPair('idle-a', 'idle-b');
    expect(s.cpu!.idle).toBeCloseTo((201 / 206) * 100, 6);
    expect(s.cpu!.busy).toBeCloseTo((5 / 206) * 100, 6);
    expect(s.psiIo!.somePct).toBeLessThan(0.1);
    expect(s.disks![0].utilPct).toBe(0);
    expect(s.disks![0].awaitMs).toBeCloseTo(1 / 2, 6);
  });

  it('two busy loops: the CPUs are busy, the disk is not', () => {
    const s = capturedPair('cpu-a', 'cpu-b');
    expect(s.cpu!.busy).toBeCloseTo(100, 6);
    expect(s.cpu!.user).toBeCloseTo((206 / 208) * 100, 6);
    expect(s.psiIo!.somePct).toBeLessThan(0.1);
    expect(s.psiCpu!.somePct).toBeLessThan(50);
    expect(s.psiCpu!.fullPct).toBe(0);
  });
});

describe('computeSample edge cases', () => {
  let proc: FakeProc;
  afterEach(() => proc?.cleanup());

  function reading(clock: FakeClock, files: Record<string, string | null>): ProcSnapshot {
    for (const [file, text] of Object.entries(files)) {
      if (text === null) proc.remove(file);
      else proc.write(file, text);
    }
    return readSnapshot({ procRoot: proc.root, clock });
  }

  it('drops a CPU field whose counter went backwards and says so', () => {
    proc = new FakeProc();
    const clock = new FakeClock();
    const a = reading(clock, { stat: statText({ user: 100, idle: 1000, iowait: 50 }) });
    clock.advance(1000);
    const b = reading(clock, { stat: statText({ user: 150, idle: 1150, iowait: 40 }) });
    const s = computeSample(a, b);
    expect(s.cpu!.iowait).toBeNull();
    expect(s.iowaitCpus).toBeNull();
    expect(s.cpu!.user).toBeCloseTo((50 / 200) * 100, 6);
    expect(s.cpu!.idle).toBeCloseTo((150 / 200) * 100, 6);
    expect(s.missing).toContainEqual({ signal: 'cpu.iowait', reason: 'counter went backwards' });
  });

  it('drops a device whose counters went backwards (replaced or wrapped) and keeps the others', () => {
    proc = new FakeProc();
    const clock = new FakeClock();
    const a = reading(clock, {
      stat: statText({ idle: 100 }),
      diskstats: diskLine('sda', { writes: 500, ioTicks: 900 }) + diskLine('sdb', { writes: 10, ioTicks: 10 }, 8, 16),
    });
    clock.advance(1000);
    const b = reading(clock, {
      stat: statText({ idle: 300 }),
      diskstats: diskLine('sda', { writes: 5, ioTicks: 3 }) + diskLine('sdb', { writes: 20, ioTicks: 510 }, 8, 16),
    });
    const s = computeSample(a, b);
    expect(s.disks!.map((d) => d.name)).toEqual(['sdb']);
    expect(s.disks![0]).toMatchObject({ utilPct: 50, wPerSec: 10 });
    expect(s.missing).toContainEqual({ signal: 'disk:sda', reason: 'counters went backwards' });
  });

  it('says a signal has no delta yet when it appears between readings', () => {
    proc = new FakeProc();
    const clock = new FakeClock();
    const a = reading(clock, { stat: statText({ idle: 100 }) });
    clock.advance(1000);
    const b = reading(clock, {
      stat: statText({ idle: 300 }),
      'pressure/io': psiText(1000, 500),
      diskstats: diskLine('sda', {}),
    });
    const s = computeSample(a, b);
    expect(s.psiIo).toBeNull();
    expect(s.disks).toBeNull();
    expect(s.missing).toContainEqual({ signal: 'psi.io', reason: 'not in the previous reading' });
    expect(s.missing).toContainEqual({ signal: 'diskstats', reason: 'not in the previous reading' });
    // The other absent files are named with the error.
    expect(s.missing.find((m) => m.signal === 'psi.cpu')?.reason).toMatch(/pressure\/cpu: ENOENT$/);
  });

  it('clamps PSI and util to 100 % when reading skew overshoots', () => {
    proc = new FakeProc();
    const clock = new FakeClock();
    const a = reading(clock, { stat: statText({ idle: 100 }), 'pressure/io': psiText(0, 0), diskstats: diskLine('sda', {}) });
    clock.advance(1000);
    const b = reading(clock, {
      stat: statText({ idle: 300 }),
      'pressure/io': psiText(1_020_000, 990_000),
      diskstats: diskLine('sda', { ioTicks: 1010, timeInQueue: 2500, writes: 100, msWriting: 2500 }),
    });
    const s = computeSample(a, b);
    expect(s.psiIo).toMatchObject({ somePct: 100, fullPct: 99 });
    expect(s.disks![0]).toMatchObject({ utilPct: 100, aquSz: 2.5, awaitMs: 25, wAwaitMs: 25 });
  });

  it('counts discards in await and flushes in f_await, as iostat does', () => {
    proc = new FakeProc();
    const clock = new FakeClock();
    const a = reading(clock, { stat: statText({ idle: 100 }), diskstats: diskLine('nvme0n1', {}) });
    clock.advance(500);
    const b = reading(clock, {
      stat: statText({ idle: 200 }),
      diskstats: diskLine('nvme0n1', { writes: 10, msWriting: 10, discards: 2, msDiscarding: 50, flushes: 4, msFlushing: 2 }),
    });
    const d = computeSample(a, b).disks![0];
    expect(d.awaitMs).toBeCloseTo(60 / 12, 6);
    expect(d.fAwaitMs).toBeCloseTo(0.5, 6);
    expect(d.wPerSec).toBe(20);
  });

  it('gives no rates, without throwing, for readings at the same instant', () => {
    proc = new FakeProc();
    const clock = new FakeClock();
    const files = { stat: statText({ idle: 100 }), 'pressure/io': psiText(0, 0), diskstats: diskLine('sda', {}) };
    const a = reading(clock, files);
    const b = reading(clock, files);
    const s = computeSample(a, b);
    expect(s.intervalMs).toBe(0);
    expect(s.cpu).toBeNull();
    expect(s.psiIo).toBeNull();
    expect(s.disks).toBeNull();
    expect(s.missing.map((m) => m.signal)).toEqual(expect.arrayContaining(['interval', 'cpu']));
  });
});
