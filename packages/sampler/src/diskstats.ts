// /proc/diskstats: per block device, `major minor name` then cumulative counters
// (Documentation/admin-guide/iostats.rst). 11 counters since 2.6.25, 15 since 4.18 (discards),
// 17 since 5.5 (flushes). Sectors are always 512 bytes, whatever the device's block size.
import { counter } from './counter.js';

export interface DiskCounters {
  major: number;
  minor: number;
  name: string;
  readsCompleted: number;
  readsMerged: number;
  sectorsRead: number;
  msReading: number;
  writesCompleted: number;
  writesMerged: number;
  sectorsWritten: number;
  msWriting: number;
  /** I/Os in flight now (instantaneous). */
  inFlight: number;
  /** Milliseconds with at least one I/O in flight: the basis of %util. */
  ioTicks: number;
  /** Weighted milliseconds doing I/O (each in-flight I/O counts): the basis of aqu-sz. */
  timeInQueue: number;
  discardsCompleted: number | null;
  discardsMerged: number | null;
  sectorsDiscarded: number | null;
  msDiscarding: number | null;
  flushesCompleted: number | null;
  msFlushing: number | null;
}

/** Which devices to keep: a list of exact names, or a predicate on the name. */
export type DeviceSelector = readonly string[] | ((name: string) => boolean);

function parseLine(line: string): DiskCounters | null {
  const f = line.trim().split(/\s+/);
  // Lines with fewer than 11 counters are the 4-counter partition lines of kernels before 2.6.25.
  if (f.length < 14) return null;
  const major = counter(f[0]);
  const minor = counter(f[1]);
  const name = f[2];
  const c: number[] = [];
  for (const x of f.slice(3, 20)) {
    const n = counter(x);
    if (n === null) break;
    c.push(n);
  }
  if (major === null || minor === null || c.length < 11) return null;
  const opt = (i: number): number | null => c[i] ?? null;
  return {
    major,
    minor,
    name,
    readsCompleted: c[0],
    readsMerged: c[1],
    sectorsRead: c[2],
    msReading: c[3],
    writesCompleted: c[4],
    writesMerged: c[5],
    sectorsWritten: c[6],
    msWriting: c[7],
    inFlight: c[8],
    ioTicks: c[9],
    timeInQueue: c[10],
    discardsCompleted: opt(11),
    discardsMerged: opt(12),
    sectorsDiscarded: opt(13),
    msDiscarding: opt(14),
    flushesCompleted: opt(15),
    msFlushing: opt(16),
  };
}

/** Parses every well-formed line of /proc/diskstats, in file order, without filtering. */
export function parseDiskstats(text: string): DiskCounters[] {
  const out: DiskCounters[] = [];
  for (const line of text.split('\n')) {
    const d = parseLine(line);
    if (d) out.push(d);
  }
  return out;
}

/** Devices that are RAM, not a disk: loop files, ramdisks, compressed-RAM swap. */
const VIRTUAL = /^(?:loop|ram|zram)\d+$/;

/**
 * True for a partition of another listed device: `sda1` of `sda`, `nvme0n1p2` of `nvme0n1`,
 * `mmcblk0p1` of `mmcblk0`. Decided from the names alone (no /sys), so a fake /proc works.
 */
export function isPartition(name: string, allNames: ReadonlySet<string>): boolean {
  // sda1 of sda, sdp1 of sdp: the disk's name ends in a letter, digits follow directly.
  const plain = /^(.*\D)\d+$/.exec(name);
  if (plain && allNames.has(plain[1])) return true;
  // nvme0n1p2 of nvme0n1: a disk name ending in a digit numbers its partitions after a 'p'.
  const withP = /^(.*\d)p\d+$/.exec(name);
  return withP !== null && allNames.has(withP[1]);
}

/**
 * The default choice: whole disks only, so a partition's I/O is not counted twice and idle
 * loop/ram devices do not dilute anything. Device-mapper and md devices are kept (both layers).
 */
export function defaultDevices(disks: readonly DiskCounters[]): DiskCounters[] {
  const names = new Set(disks.map((d) => d.name));
  return disks.filter((d) => !VIRTUAL.test(d.name) && !isPartition(d.name, names));
}

export function selectDevices(disks: readonly DiskCounters[], selector?: DeviceSelector): DiskCounters[] {
  if (selector === undefined) return defaultDevices(disks);
  if (typeof selector === 'function') return disks.filter((d) => selector(d.name));
  return disks.filter((d) => selector.includes(d.name));
}
