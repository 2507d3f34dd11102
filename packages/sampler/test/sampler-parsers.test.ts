// The /proc parsers on captured readings and on hand-made lines from older kernels.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  defaultDevices,
  isPartition,
  parseDiskstats,
  parseLoadavg,
  parsePressure,
  parseProcStat,
  selectDevices,
} from '../src/index.js';

const PROC = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'proc');
const fixture = (dir: string, file: string): string => readFileSync(join(PROC, dir, file), 'utf8');

describe('parseProcStat', () => {
  it('reads the cpu line, the CPU count and the task counters of a captured file', () => {
    const s = parseProcStat(fixture('idle-a', 'stat'));
    expect(s.cpu).toEqual({
      user: 300892,
      nice: 0,
      system: 282441,
      idle: 400277,
      iowait: 1409,
      irq: 0,
      softirq: 51250,
      steal: 19271,
      guest: 0,
      guestNice: 0,
    });
    expect(s.cpuCount).toBe(2);
    expect(s.procsRunning).toBeGreaterThanOrEqual(1);
    expect(s.procsBlocked).toBe(0);
    expect(s.ctxt).toBeGreaterThan(0);
  });

  it('leaves what a 2.6.10 kernel does not report null (no steal, guest)', () => {
    const s = parseProcStat('cpu  10 1 20 300 4 5 6\ncpu0 10 1 20 300 4 5 6\nctxt 99\nprocs_running 2\nprocs_blocked 1\n');
    expect(s.cpu).toEqual({
      user: 10, nice: 1, system: 20, idle: 300, iowait: 4, irq: 5, softirq: 6,
      steal: null, guest: null, guestNice: null,
    });
    expect(s.cpuCount).toBe(1);
    expect(s.procsBlocked).toBe(1);
  });

  it('reads a 2.4 cpu line (four fields, no iowait) and no procs_blocked', () => {
    const s = parseProcStat('cpu  1 2 3 4\ncpu0 1 2 3 4\ncpu1 0 0 0 0\n');
    expect(s.cpu).toMatchObject({ user: 1, nice: 2, system: 3, idle: 4, iowait: null, steal: null });
    expect(s.cpuCount).toBe(2);
    expect(s.procsBlocked).toBeNull();
    expect(s.ctxt).toBeNull();
  });

  it('gives nulls, not a throw, for empty, truncated or odd text', () => {
    expect(parseProcStat('')).toEqual({ cpu: null, cpuCount: null, procsRunning: null, procsBlocked: null, ctxt: null });
    expect(parseProcStat('cpu 1 2 x 4 5').cpu).toBeNull();
    expect(parseProcStat('cpu 1 2 3 4 x 6').cpu).toMatchObject({ idle: 4, iowait: null });
    expect(parseProcStat('procs_blocked -1\nprocs_running').procsBlocked).toBeNull();
    expect(parseProcStat('cpu  1 2 3 4 5 6 7 8 9 10 11\n').cpu?.guestNice).toBe(10);
  });
});

describe('parsePressure', () => {
  it('reads both lines of a captured io file', () => {
    expect(parsePressure(fixture('dd-b', 'pressure/io'))).toEqual({
      some: { avg10: 0, avg60: 0.07, avg300: 0.07, total: 20152584 },
      full: { avg10: 0, avg60: 0.06, avg300: 0.06, total: 9645398 },
    });
  });

  it('reads a captured cpu file (its system-wide full line is all zero)', () => {
    const p = parsePressure(fixture('cpu-a', 'pressure/cpu'));
    expect(p?.some?.total).toBeGreaterThan(0);
    expect(p?.full).toEqual({ avg10: 0, avg60: 0, avg300: 0, total: 0 });
  });

  it('takes a cpu file without a full line (kernels before 5.13)', () => {
    expect(parsePressure('some avg10=1.50 avg60=0.20 avg300=0.05 total=12345\n')).toEqual({
      some: { avg10: 1.5, avg60: 0.2, avg300: 0.05, total: 12345 },
      full: null,
    });
  });

  it('is null for empty or malformed text', () => {
    expect(parsePressure('')).toBeNull();
    expect(parsePressure('some avg10=x avg60=0 avg300=0 total=1')).toBeNull();
    expect(parsePressure('some avg10=0.00 avg60=0.00 avg300=0.00')).toBeNull();
    expect(parsePressure('nonsense')).toBeNull();
  });
});

describe('parseLoadavg', () => {
  it('reads a captured file', () => {
    const l = parseLoadavg(fixture('idle-a', 'loadavg'));
    expect(l).not.toBeNull();
    expect(l!.load1).toBeGreaterThanOrEqual(0);
    expect(l!.total).toBeGreaterThan(0);
    expect(l!.lastPid).toBeGreaterThan(0);
  });

  it('reads the documented example and rejects garbage', () => {
    expect(parseLoadavg('0.13 0.03 0.14 1/124 7436\n')).toEqual({
      load1: 0.13, load5: 0.03, load15: 0.14, running: 1, total: 124, lastPid: 7436,
    });
    expect(parseLoadavg('0.13 0.03 0.14')).toMatchObject({ load15: 0.14, running: null, lastPid: null });
    expect(parseLoadavg('')).toBeNull();
    expect(parseLoadavg('a b c')).toBeNull();
  });
});

describe('parseDiskstats', () => {
  it('reads every line of a captured file, 17 counters each (kernel >= 5.5)', () => {
    const all = parseDiskstats(fixture('dd-b', 'diskstats'));
    expect(all.map((d) => d.name)).toEqual(['loop0', 'loop1', 'loop2', 'loop3', 'loop4', 'loop5', 'loop6', 'loop7', 'vda', 'zram0']);
    expect(all.find((d) => d.name === 'vda')).toEqual({
      major: 254, minor: 0, name: 'vda',
      readsCompleted: 107874, readsMerged: 15940, sectorsRead: 3792562, msReading: 180580,
      writesCompleted: 68885, writesMerged: 107076, sectorsWritten: 10456088, msWriting: 38297,
      inFlight: 1, ioTicks: 42692, timeInQueue: 235663,
      discardsCompleted: 84668, discardsMerged: 390, sectorsDiscarded: 1909280, msDiscarding: 14868,
      flushesCompleted: 11518, msFlushing: 1916,
    });
  });

  it('takes 11- and 15-counter lines, with what is absent null', () => {
    const [eleven, fifteen] = parseDiskstats(
      '   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\n' + ' 259 0 nvme0n1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n',
    );
    expect(eleven).toMatchObject({ name: 'sda', ioTicks: 10, timeInQueue: 11, discardsCompleted: null, msFlushing: null });
    expect(fifteen).toMatchObject({ name: 'nvme0n1', msDiscarding: 15, flushesCompleted: null });
  });

  it('skips the 4-counter partition lines of 2.6 kernels and broken lines', () => {
    const all = parseDiskstats(
      '   8    0 sda 1 2 3 4 5 6 7 8 9 10 11\n   8    1 sda1 10 20 30 40\n\nx y z 1 2 3 4 5 6 7 8 9 10 11\n 8 2 sdb 1 2 3\n',
    );
    expect(all.map((d) => d.name)).toEqual(['sda']);
  });
});

describe('device selection', () => {
  const names = (text: string): string[] => parseDiskstats(text).map((d) => d.name);
  const line = (name: string): string => `1 0 ${name} 0 0 0 0 0 0 0 0 0 0 0\n`;
  const text = ['loop0', 'ram0', 'zram0', 'sda', 'sda1', 'sda12', 'sdp', 'sdp1', 'nvme0n1', 'nvme0n1p1', 'mmcblk0', 'mmcblk0p2', 'md0', 'dm-0', 'vda']
    .map(line)
    .join('');

  it('keeps whole disks, dm and md by default; drops partitions, loop, ram, zram', () => {
    expect(defaultDevices(parseDiskstats(text)).map((d) => d.name)).toEqual(['sda', 'sdp', 'nvme0n1', 'mmcblk0', 'md0', 'dm-0', 'vda']);
    expect(defaultDevices(parseDiskstats(fixture('idle-a', 'diskstats'))).map((d) => d.name)).toEqual(['vda']);
  });

  it('tells partitions by the names listed beside them', () => {
    const all = new Set(names(text));
    expect(isPartition('sda1', all)).toBe(true);
    expect(isPartition('sdp1', all)).toBe(true);
    expect(isPartition('nvme0n1p1', all)).toBe(true);
    expect(isPartition('nvme0n1', all)).toBe(false);
    expect(isPartition('md0', all)).toBe(false);
    expect(isPartition('dm-0', all)).toBe(false);
    // Without its disk listed, a name is not called a partition.
    expect(isPartition('sdz1', all)).toBe(false);
  });

  it('takes an explicit list (partitions allowed) or a predicate', () => {
    const all = parseDiskstats(text);
    expect(selectDevices(all, ['sda1', 'vda', 'nope']).map((d) => d.name)).toEqual(['sda1', 'vda']);
    expect(selectDevices(all, (n) => n.startsWith('loop')).map((d) => d.name)).toEqual(['loop0']);
    expect(selectDevices(all).map((d) => d.name)).toContain('sda');
  });
});
