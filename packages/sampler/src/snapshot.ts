// One reading of the raw counters. Every file is optional: containers lack diskstats, kernels
// without CONFIG_PSI (or booted with psi=0) lack /proc/pressure. What could not be read goes
// into `missing` instead of throwing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDiskstats, selectDevices, type DeviceSelector, type DiskCounters } from './diskstats.js';
import { parseLoadavg, type LoadAvg } from './loadavg.js';
import { parsePressure, type Pressure } from './pressure.js';
import { parseProcStat, type ProcStat } from './proc-stat.js';

/** A signal that was not available, and why ("ENOENT", "unparseable", "counter went backwards"). */
export interface MissingSignal {
  /** 'stat', 'cpu', 'cpu.iowait', 'procs_blocked', 'psi.io', 'psi.cpu', 'loadavg', 'diskstats', 'disk:vda', ... */
  signal: string;
  reason: string;
}

export interface SamplerClock {
  /** Monotonic milliseconds (only differences matter). */
  monoMs(): number;
  /** Wall-clock milliseconds since the epoch. */
  epochMs(): number;
}

export const systemSamplerClock: SamplerClock = {
  monoMs: () => performance.now(),
  epochMs: () => Date.now(),
};

export interface ProcSnapshot {
  epochMs: number;
  monoMs: number;
  stat: ProcStat | null;
  psiIo: Pressure | null;
  psiCpu: Pressure | null;
  loadavg: LoadAvg | null;
  /** The selected devices; null when /proc/diskstats could not be read. */
  disks: DiskCounters[] | null;
  missing: MissingSignal[];
}

export interface ReadOptions {
  procRoot?: string;
  devices?: DeviceSelector;
  clock?: SamplerClock;
}

type Read = { text: string } | { error: string };

// /proc files report size 0; readFileSync reads them to EOF regardless. They are a few KB and
// live in memory, so a synchronous read costs microseconds and keeps the files close in time.
function read(path: string): Read {
  try {
    return { text: readFileSync(path, 'utf8') };
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
}

/** Reads /proc/stat, pressure/io, pressure/cpu, loadavg and diskstats under procRoot now. */
export function readSnapshot(options: ReadOptions = {}): ProcSnapshot {
  const root = options.procRoot ?? '/proc';
  const clock = options.clock ?? systemSamplerClock;
  const missing: MissingSignal[] = [];
  const epochMs = clock.epochMs();
  const monoMs = clock.monoMs();

  // Reads one file and parses it; records why when either step fails.
  function take<T>(signal: string, file: string, parse: (text: string) => T | null): T | null {
    const r = read(join(root, file));
    if ('error' in r) {
      missing.push({ signal, reason: `${join(root, file)}: ${r.error}` });
      return null;
    }
    const value = parse(r.text);
    if (value === null) missing.push({ signal, reason: `${join(root, file)}: unparseable` });
    return value;
  }

  const stat = take('stat', 'stat', parseProcStat);
  if (stat) {
    if (!stat.cpu) missing.push({ signal: 'cpu', reason: 'no cpu line in stat' });
    if (stat.procsBlocked === null) missing.push({ signal: 'procs_blocked', reason: 'not in stat' });
  }
  const psiIo = take('psi.io', 'pressure/io', parsePressure);
  const psiCpu = take('psi.cpu', 'pressure/cpu', parsePressure);
  const loadavg = take('loadavg', 'loadavg', parseLoadavg);
  const all = take('diskstats', 'diskstats', parseDiskstats);
  let disks: DiskCounters[] | null = null;
  if (all) {
    disks = selectDevices(all, options.devices);
    // Name the devices that were asked for by name and are not there (typo, or not in a container).
    if (Array.isArray(options.devices)) {
      for (const name of options.devices as readonly string[]) {
        if (!disks.some((d) => d.name === name)) missing.push({ signal: `disk:${name}`, reason: 'not in diskstats' });
      }
    } else if (disks.length === 0) {
      missing.push({ signal: 'diskstats', reason: 'no selected device listed' });
    }
  }
  return { epochMs, monoMs, stat, psiIo, psiCpu, loadavg, disks, missing };
}
