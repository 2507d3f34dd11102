// /proc/stat: cumulative CPU time in USER_HZ ticks and the task counters (proc_stat(5)).
import { counter } from './counter.js';

/**
 * The aggregate `cpu` line. Fields a kernel does not report are null: iowait arrived in 2.5.41,
 * irq and softirq in 2.6.0, steal in 2.6.11, guest in 2.6.24, guest_nice in 2.6.33.
 */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number | null;
  irq: number | null;
  softirq: number | null;
  steal: number | null;
  /** Already counted in user (and guestNice in nice): never add them to a total. */
  guest: number | null;
  guestNice: number | null;
}

export interface ProcStat {
  cpu: CpuTimes | null;
  /** How many `cpuN` lines (online CPUs): turns an iowait percentage into a number of CPUs. */
  cpuCount: number | null;
  /** Runnable tasks now (instantaneous). */
  procsRunning: number | null;
  /** Tasks in uninterruptible I/O sleep now (instantaneous: misses short waits). */
  procsBlocked: number | null;
  /** Context switches since boot. */
  ctxt: number | null;
}

/** The eight fields that make up the total; guest time is inside user and nice already. */
export const CPU_TOTAL_FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
export type CpuField = (typeof CPU_TOTAL_FIELDS)[number];

function parseCpuLine(fields: string[]): CpuTimes | null {
  const values: number[] = [];
  // Take the leading counters; stop at the first field that is not one.
  for (const f of fields) {
    const n = counter(f);
    if (n === null) break;
    values.push(n);
  }
  if (values.length < 4) return null;
  const opt = (i: number): number | null => values[i] ?? null;
  return {
    user: values[0],
    nice: values[1],
    system: values[2],
    idle: values[3],
    iowait: opt(4),
    irq: opt(5),
    softirq: opt(6),
    steal: opt(7),
    guest: opt(8),
    guestNice: opt(9),
  };
}

/** Parses the text of /proc/stat. Lines it does not know are ignored; absent values are null. */
export function parseProcStat(text: string): ProcStat {
  const out: ProcStat = { cpu: null, cpuCount: null, procsRunning: null, procsBlocked: null, ctxt: null };
  let cpus = 0;
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const key = fields[0];
    if (key === 'cpu') out.cpu = parseCpuLine(fields.slice(1));
    else if (/^cpu\d+$/.test(key)) cpus++;
    else if (key === 'procs_running') out.procsRunning = counter(fields[1]);
    else if (key === 'procs_blocked') out.procsBlocked = counter(fields[1]);
    else if (key === 'ctxt') out.ctxt = counter(fields[1]);
  }
  if (cpus > 0) out.cpuCount = cpus;
  return out;
}
