// The verdict on synthetic series shaped like the loads measured in the notes (§5.3), on the
// captured fixture pairs, and with signals missing.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeSample, defaultVerdictThresholds, readSnapshot, summarizeSeries, verdict, type SystemSample } from '../src/index.js';
import { FIXTURES, fixtureClock, sample, times } from './sampler-helpers.js';

const NO_PSI = [
  { signal: 'psi.io', reason: '/proc/pressure/io: ENOENT' },
  { signal: 'psi.cpu', reason: '/proc/pressure/cpu: ENOENT' },
];

// One dd bs=1M oflag=direct on 2 vCPUs (notes §5.3).
const ddSecond = sample({
  cpu: { user: 0, system: 5, softirq: 1, idle: 50, iowait: 44 },
  psiIo: { some: 90, full: 88 },
  disks: [{ utilPct: 95, aquSz: 1.8, awaitMs: 1.4, wAwaitMs: 1.4, wPerSec: 1300, wkBPerSec: 680_000 }],
  procsBlocked: 1,
});
// Postfix smtp-source -> local delivery: CPU-bound, with I/O present.
const postfixSecond = sample({
  cpu: { user: 25, system: 64, softirq: 4, steal: 4, idle: 2, iowait: 1 },
  psiIo: { some: 20, full: 3 },
  disks: [{ utilPct: 30, aquSz: 0.8, awaitMs: 0.1, wPerSec: 5600 }],
});
const idleSecond = sample();

describe('verdict: the measured loads', () => {
  it('one sequential O_DIRECT writer is disk-bound, with PSI and the device as evidence', () => {
    const v = verdict(times(4, ddSecond));
    expect(v.kind).toBe('disk-bound');
    expect(v.metrics).toMatchObject({ samples: 4, usableSamples: 4, diskBoundSamples: 4, cpuBoundSamples: 0, diskRule: 'psi' });
    expect(v.reasons[0]).toBe('I/O stalls (PSI io some >= 40 % or full >= 10 %) with CPU busy < 80 % in 4 of 4 samples');
    expect(v.reasons).toContain('PSI io medians: some 90 %, full 88 %');
    expect(v.reasons.join('\n')).toMatch(/busiest device vda \(medians\): util 95 %, aqu-sz 1.8, await 1.4 ms, 1300 w\/s, 664 MB\/s written/);
    expect(v.reasons.join('\n')).toMatch(/iowait 44 % = 0.88 CPUs/);
  });

  it('small synchronous writes are disk-bound on PSI full even with some below 40 %', () => {
    const dsync = sample({ cpu: { system: 14, softirq: 6, idle: 50, iowait: 30 }, psiIo: { some: 35, full: 30 } });
    expect(verdict(times(3, dsync)).kind).toBe('disk-bound');
  });

  it('real Postfix on 2 vCPUs is CPU-bound, with I/O present but not limiting', () => {
    const v = verdict(times(5, postfixSecond));
    expect(v.kind).toBe('cpu-bound');
    expect(v.reasons[0]).toBe('CPU saturated (busy >= 80 % or PSI cpu some >= 50 %) in 5 of 5 samples');
    expect(v.reasons).toContain('I/O present but not limiting: some task waited for I/O 20 % of the time');
    // iowait (1 %) would have said "no I/O"; PSI says otherwise, and it is what is reported.
    expect(v.metrics.iowaitPct?.median).toBe(1);
  });

  it('CPU-bound with heavy I/O wait when PSI io some is high too', () => {
    const s = sample({ cpu: { user: 40, system: 45, idle: 5, iowait: 10 }, psiIo: { some: 60, full: 20 } });
    const v = verdict(times(3, s));
    expect(v.kind).toBe('cpu-bound');
    expect(v.reasons).toContain('CPU-bound with heavy I/O wait: PSI io some median 60 %');
  });

  it('two busy loops are CPU-bound', () => {
    const v = verdict(times(3, sample({ cpu: { user: 99, system: 1, idle: 0, iowait: 0 } })));
    expect(v.kind).toBe('cpu-bound');
    expect(v.metrics.cpuBusyPct).toEqual({ median: 100, mean: 100, max: 100, n: 3 });
  });

  it('PSI cpu says CPU-bound when tasks queue for CPUs the busy share does not show as full', () => {
    const pinned = sample({ cpu: { user: 55, idle: 45, iowait: 0 }, psiCpu: 70 });
    expect(verdict(times(3, pinned)).kind).toBe('cpu-bound');
    expect(verdict(times(3, pinned), { psiCpuSomePct: 80 }).kind).toBe('not-saturated');
  });

  it('an idle box is not saturated, and the reasons point past the host', () => {
    const v = verdict(times(3, idleSecond));
    expect(v.kind).toBe('not-saturated');
    expect(v.reasons[0]).toBe('neither CPU nor disk saturated: CPU saturated in 0 of 3 samples, disk stalled in 0 of 3 samples');
    expect(v.reasons.at(-1)).toMatch(/peer or next hop.*delays= b and c\+d/);
  });

  it('a rate-limited run with some I/O is not saturated, I/O noted', () => {
    const s = sample({ cpu: { user: 10, system: 20, idle: 68, iowait: 2 }, psiIo: { some: 15, full: 2 } });
    const v = verdict(times(4, s));
    expect(v.kind).toBe('not-saturated');
    expect(v.reasons).toContain('I/O present but not limiting: PSI io some median 15 %, full 2 %');
  });
});

describe('verdict: shares and thresholds', () => {
  it('needs the rule to hold in at least half the samples (minShare)', () => {
    const two = [ddSecond, ddSecond, idleSecond, idleSecond, idleSecond];
    const three = [ddSecond, ddSecond, ddSecond, idleSecond, idleSecond];
    expect(verdict(two).kind).toBe('not-saturated');
    expect(verdict(two).metrics.diskBoundSamples).toBe(2);
    expect(verdict(three).kind).toBe('disk-bound');
    expect(verdict(two, { minShare: 0.4 }).kind).toBe('disk-bound');
  });

  it('takes every threshold from the caller when given', () => {
    expect(verdict(times(3, ddSecond), { psiIoSomePct: 95, psiIoFullPct: 95 }).kind).toBe('not-saturated');
    expect(verdict(times(3, postfixSecond), { cpuBusyPct: 99 }).kind).toBe('not-saturated');
    expect(verdict(times(3, postfixSecond), { psiIoSomePct: 15, cpuBusyPct: 99 }).kind).toBe('disk-bound');
    expect(verdict([ddSecond], { minSamples: 2 })).toMatchObject({ kind: 'unknown', reasons: ['only 1 samples with CPU data (at least 2 wanted)'] });
  });

  it('does not call disk stalls disk-bound when the CPUs are saturated in the same samples', () => {
    const both = sample({ cpu: { user: 50, system: 40, idle: 5, iowait: 5 }, psiIo: { some: 90, full: 50 } });
    expect(verdict(times(3, both)).kind).toBe('cpu-bound');
  });

  it('the defaults are the documented ones and frozen', () => {
    expect(defaultVerdictThresholds).toEqual({
      minShare: 0.5, minSamples: 1, cpuBusyPct: 80, psiCpuSomePct: 50, psiIoSomePct: 40, psiIoFullPct: 10,
      iowaitCpus: 0.4, diskUtilPct: 80, diskAquSz: 1, ioPresentPsiSomePct: 10, stealPct: 5,
    });
    expect(Object.isFrozen(defaultVerdictThresholds)).toBe(true);
  });

  it('warns about steal', () => {
    const stolen = sample({ cpu: { user: 10, steal: 12, idle: 78, iowait: 0 } });
    expect(verdict(times(2, stolen)).reasons).toContain("steal 12 % on average: the hypervisor took the vCPUs; these are the guest's numbers");
  });
});

describe('verdict: missing signals', () => {
  it('without PSI, falls back to iowait counted in CPUs, with lower confidence', () => {
    const dd = { ...ddSecond, psiIo: null, psiCpu: null, missing: NO_PSI };
    const v = verdict(times(3, dd));
    expect(v.kind).toBe('disk-bound');
    expect(v.metrics.diskRule).toBe('fallback');
    expect(v.reasons[0]).toMatch(/^PSI unavailable, lower confidence: iowait >= 0.4 CPUs or a device at util >= 80 % with aqu-sz >= 1/);
    expect(v.reasons).toContain('missing psi.io in 3 of 3 samples (/proc/pressure/io: ENOENT)');
  });

  it('without PSI, the same iowait percentage counts more on more CPUs', () => {
    // 22 % iowait on 2 CPUs is 0.44 CPUs waiting; on 1 CPU it is 0.22.
    const s = (cpus: number): SystemSample => ({
      ...sample({ cpu: { system: 5, idle: 73, iowait: 22 }, cpuCount: cpus, psiIo: null, psiCpu: null }),
      missing: NO_PSI,
    });
    expect(verdict(times(3, s(2))).kind).toBe('disk-bound');
    expect(verdict(times(3, s(1))).kind).toBe('not-saturated');
  });

  it('without PSI, a saturated device with a queue is disk-bound even with little iowait', () => {
    const s = sample({ cpu: { user: 30, system: 10, idle: 55, iowait: 5 }, psiIo: null, disks: [{ utilPct: 93, aquSz: 1.8 }] });
    expect(verdict(times(3, s)).kind).toBe('disk-bound');
    const noQueue = sample({ cpu: { user: 30, system: 10, idle: 55, iowait: 5 }, psiIo: null, disks: [{ utilPct: 93, aquSz: 0.6 }] });
    expect(verdict(times(3, noQueue)).kind).toBe('not-saturated');
  });

  it('says unknown when there is no disk signal at all and the CPU is not saturated', () => {
    // A container on an old kernel: no PSI, no iowait field, no diskstats.
    const s = sample({ cpu: { user: 20, system: 10, idle: 70, iowait: null }, psiIo: null, psiCpu: null, disks: null });
    const v = verdict(times(3, s));
    expect(v.kind).toBe('unknown');
    expect(v.metrics.diskRule).toBe('none');
    expect(v.reasons[0]).toMatch(/^CPU not saturated \(.*\), but no disk signal \(PSI io, iowait or diskstats\) in 3 of 3 samples$/);
  });

  it('can still say CPU-bound without any disk signal', () => {
    const s = sample({ cpu: { user: 95, system: 5, idle: 0, iowait: null }, psiIo: null, psiCpu: null, disks: null });
    expect(verdict(times(3, s)).kind).toBe('cpu-bound');
  });

  it('is unknown without samples or without CPU data', () => {
    expect(verdict([])).toMatchObject({ kind: 'unknown', reasons: ['no samples'] });
    const noCpu = sample({ cpu: null, missing: [{ signal: 'stat', reason: '/proc/stat: EACCES' }] });
    const v = verdict(times(2, noCpu));
    expect(v.kind).toBe('unknown');
    expect(v.reasons).toEqual(['no CPU data in any of 2 samples', 'missing stat in 2 of 2 samples (/proc/stat: EACCES)']);
  });

  it('reports a mixed rule when PSI is there in only some samples', () => {
    const noPsi = { ...ddSecond, psiIo: null };
    const v = verdict([ddSecond, noPsi, noPsi]);
    expect(v.kind).toBe('disk-bound');
    expect(v.metrics.diskRule).toBe('mixed');
    expect(v.reasons.some((r) => r.startsWith('PSI unavailable in some samples'))).toBe(true);
  });
});

describe('verdict metrics', () => {
  it('summarizes with median, mean and max over the samples that have the value', () => {
    expect(summarizeSeries([3, null, 1, 2, undefined, 10])).toEqual({ median: 2.5, mean: 4, max: 10, n: 4 });
    expect(summarizeSeries([null])).toBeNull();
  });

  it('describes the busiest device', () => {
    const s = sample({ disks: [{ name: 'sda', utilPct: 10 }, { name: 'nvme0n1', utilPct: 70, aquSz: 3 }] });
    const v = verdict([s, s]);
    expect(v.metrics.disk?.name).toBe('nvme0n1');
    expect(v.metrics.disk?.aquSz?.median).toBe(3);
  });
});

describe('verdict on captured readings', () => {
  const pair = (a: string, b: string): SystemSample => {
    const clock = fixtureClock(a, b);
    return computeSample(readSnapshot({ procRoot: join(FIXTURES, a), clock }), readSnapshot({ procRoot: join(FIXTURES, b), clock }));
  };

  it('dd: disk-bound', () => expect(verdict([pair('dd-a', 'dd-b')]).kind).toBe('disk-bound'));
  it('busy loops: cpu-bound', () => expect(verdict([pair('cpu-a', 'cpu-b')]).kind).toBe('cpu-bound'));
  it('idle: not saturated', () => expect(verdict([pair('idle-a', 'idle-b')]).kind).toBe('not-saturated'));
});
