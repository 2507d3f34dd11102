// From two readings to one sample: deltas turned into percentages and rates with the formulas
// sysstat documents (iostat(1), sar(1)), so the numbers can be checked against those tools.
import type { DiskCounters } from './diskstats.js';
import type { Pressure } from './pressure.js';
import { CPU_TOTAL_FIELDS, type CpuField, type CpuTimes } from './proc-stat.js';
import type { MissingSignal, ProcSnapshot } from './snapshot.js';

/** Shares of all CPUs' time over the interval, 0-100. Null: the kernel lacks it, or it went backwards. */
export type CpuPercent = Record<CpuField, number | null> & {
  /** user + nice + system + irq + softirq + steal: everything but idle and iowait. */
  busy: number;
};

export interface PressureRates {
  /** Stall time over the interval as a percentage of it, from the `total` counters (exact). */
  somePct: number | null;
  fullPct: number | null;
  /** The kernel's own 10-second averages at the end of the interval (they lag). */
  someAvg10: number | null;
  fullAvg10: number | null;
}

export interface DiskRates {
  name: string;
  /** Share of the interval with at least one I/O in flight (iostat %util). */
  utilPct: number;
  rPerSec: number;
  wPerSec: number;
  rkBPerSec: number;
  wkBPerSec: number;
  /** Mean time per completed I/O, queueing included: (Δms r+w+d) / Δ(r+w+d). Null with no I/O. */
  awaitMs: number | null;
  rAwaitMs: number | null;
  wAwaitMs: number | null;
  /** Mean time per flush (cache flush request): where fsync-heavy loads wait. */
  fAwaitMs: number | null;
  /** Mean number of I/Os in flight (iostat aqu-sz). */
  aquSz: number;
  /** I/Os in flight at the end of the interval. */
  inFlight: number;
}

export interface SystemSample {
  /** End of the interval, wall clock. */
  epochMs: number;
  /** End of the interval, monotonic (differences between samples are exact). */
  monoMs: number;
  intervalMs: number;
  cpu: CpuPercent | null;
  cpuCount: number | null;
  /** iowait expressed in CPUs (iowait% × CPUs / 100): not diluted by the number of CPUs. */
  iowaitCpus: number | null;
  procsRunning: number | null;
  procsBlocked: number | null;
  psiIo: PressureRates | null;
  psiCpu: PressureRates | null;
  load1: number | null;
  disks: DiskRates[] | null;
  /** Signals absent from this sample and why. */
  missing: MissingSignal[];
}

const clampPct = (x: number): number => Math.min(100, Math.max(0, x));

function cpuPercent(a: CpuTimes, b: CpuTimes, missing: MissingSignal[]): CpuPercent | null {
  const deltas = {} as Record<CpuField, number | null>;
  let total = 0;
  for (const f of CPU_TOTAL_FIELDS) {
    const x = a[f];
    const y = b[f];
    if (x === null || y === null) {
      deltas[f] = null;
      missing.push({ signal: `cpu.${f}`, reason: 'not reported by this kernel' });
    } else if (y < x) {
      // iowait is known to go backwards on some kernels: drop it rather than report nonsense.
      deltas[f] = null;
      missing.push({ signal: `cpu.${f}`, reason: 'counter went backwards' });
    } else {
      deltas[f] = y - x;
      total += y - x;
    }
  }
  if (total <= 0) {
    missing.push({ signal: 'cpu', reason: 'no CPU time elapsed between readings' });
    return null;
  }
  const pct = {} as CpuPercent;
  let busy = 0;
  for (const f of CPU_TOTAL_FIELDS) {
    const d = deltas[f];
    pct[f] = d === null ? null : (d / total) * 100;
    if (d !== null && f !== 'idle' && f !== 'iowait') busy += (d / total) * 100;
  }
  pct.busy = busy;
  return pct;
}

function pressureRates(
  signal: string,
  a: Pressure | null,
  b: Pressure | null,
  intervalMs: number,
  missing: MissingSignal[],
): PressureRates | null {
  if (!a || !b) return null; // the reading that lacked it already said why
  const pct = (kind: 'some' | 'full'): number | null => {
    const x = a[kind];
    const y = b[kind];
    if (!x || !y) return null;
    if (y.total < x.total) {
      missing.push({ signal: `${signal}.${kind}`, reason: 'counter went backwards' });
      return null;
    }
    // total is in microseconds; the interval in milliseconds. Reading skew can push a fully
    // stalled interval a little past 100 %.
    return clampPct((y.total - x.total) / (intervalMs * 10));
  };
  return {
    somePct: pct('some'),
    fullPct: pct('full'),
    someAvg10: b.some?.avg10 ?? null,
    fullAvg10: b.full?.avg10 ?? null,
  };
}

// Counters that must only grow; a decrease means the device was replaced or the counter wrapped.
const MONOTONIC: readonly (keyof DiskCounters)[] = [
  'readsCompleted', 'sectorsRead', 'msReading', 'writesCompleted', 'sectorsWritten', 'msWriting', 'ioTicks', 'timeInQueue',
];

function diskRates(a: DiskCounters, b: DiskCounters, intervalMs: number): DiskRates | null {
  for (const k of MONOTONIC) if ((b[k] as number) < (a[k] as number)) return null;
  const d = (k: keyof DiskCounters): number => (b[k] as number) - (a[k] as number);
  const dOpt = (k: 'discardsCompleted' | 'msDiscarding' | 'flushesCompleted' | 'msFlushing'): number => {
    const x = a[k];
    const y = b[k];
    return x === null || y === null || y < x ? 0 : y - x;
  };
  const perSec = (n: number): number => (n * 1000) / intervalMs;
  const ratio = (ms: number, n: number): number | null => (n > 0 ? ms / n : null);
  const reads = d('readsCompleted');
  const writes = d('writesCompleted');
  const discards = dOpt('discardsCompleted');
  const flushes = dOpt('flushesCompleted');
  return {
    name: b.name,
    utilPct: clampPct((d('ioTicks') / intervalMs) * 100),
    rPerSec: perSec(reads),
    wPerSec: perSec(writes),
    // 512-byte sectors: half a kB each.
    rkBPerSec: perSec(d('sectorsRead') / 2),
    wkBPerSec: perSec(d('sectorsWritten') / 2),
    awaitMs: ratio(d('msReading') + d('msWriting') + dOpt('msDiscarding'), reads + writes + discards),
    rAwaitMs: ratio(d('msReading'), reads),
    wAwaitMs: ratio(d('msWriting'), writes),
    fAwaitMs: ratio(dOpt('msFlushing'), flushes),
    aquSz: d('timeInQueue') / intervalMs,
    inFlight: b.inFlight,
  };
}

function addMissing(list: MissingSignal[], signal: string, reason: string): void {
  if (!list.some((m) => m.signal === signal)) list.push({ signal, reason });
}

/** The sample for the interval between two readings of the same machine (prev before cur). */
export function computeSample(prev: ProcSnapshot, cur: ProcSnapshot): SystemSample {
  const missing: MissingSignal[] = [...cur.missing];
  const intervalMs = cur.monoMs - prev.monoMs;
  const timed = intervalMs > 0;
  if (!timed) missing.push({ signal: 'interval', reason: `readings ${intervalMs} ms apart` });

  // A signal present now but not in the previous reading has no delta yet.
  const lacking = (signal: string, before: unknown, now: unknown): void => {
    if (now && !before) addMissing(missing, signal, 'not in the previous reading');
  };
  lacking('cpu', prev.stat?.cpu, cur.stat?.cpu);
  lacking('psi.io', prev.psiIo, cur.psiIo);
  lacking('psi.cpu', prev.psiCpu, cur.psiCpu);
  lacking('diskstats', prev.disks, cur.disks);

  const cpu = prev.stat?.cpu && cur.stat?.cpu ? cpuPercent(prev.stat.cpu, cur.stat.cpu, missing) : null;
  const cpuCount = cur.stat?.cpuCount ?? null;
  const iowaitCpus = cpu?.iowait != null && cpuCount !== null ? (cpu.iowait * cpuCount) / 100 : null;

  let disks: DiskRates[] | null = null;
  if (timed && prev.disks && cur.disks) {
    disks = [];
    for (const b of cur.disks) {
      const a = prev.disks.find((x) => x.name === b.name);
      const rates = a ? diskRates(a, b, intervalMs) : null;
      if (rates) disks.push(rates);
      else addMissing(missing, `disk:${b.name}`, a ? 'counters went backwards' : 'not in the previous reading');
    }
  }

  return {
    epochMs: cur.epochMs,
    monoMs: cur.monoMs,
    intervalMs,
    cpu,
    cpuCount,
    iowaitCpus,
    procsRunning: cur.stat?.procsRunning ?? null,
    procsBlocked: cur.stat?.procsBlocked ?? null,
    psiIo: timed ? pressureRates('psi.io', prev.psiIo, cur.psiIo, intervalMs, missing) : null,
    psiCpu: timed ? pressureRates('psi.cpu', prev.psiCpu, cur.psiCpu, intervalMs, missing) : null,
    load1: cur.loadavg?.load1 ?? null,
    disks,
    missing,
  };
}
