// Test helpers for the sampler: a fake /proc directory, a hand-driven clock, /proc text
// builders and a synthetic-sample builder for the verdict.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SamplerClock, CpuPercent, DiskRates, SystemSample } from '../src/index.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'proc');

/** Capture times of the fixture directories (ms), from captures.json. */
export const CAPTURED: Record<string, number> = JSON.parse(readFileSync(join(FIXTURES, 'captures.json'), 'utf8'));

/** A clock that only moves when told. */
export class FakeClock implements SamplerClock {
  constructor(public now = 1_000_000) {}
  monoMs(): number {
    return this.now;
  }
  epochMs(): number {
    return 1_700_000_000_000 + this.now;
  }
  advance(ms: number): void {
    this.now += ms;
  }
}

/** A clock that returns the capture time of whichever fixture is read next. */
export function fixtureClock(...dirs: string[]): SamplerClock {
  const times = dirs.map((d) => CAPTURED[d]);
  let mono = 0;
  let epoch = 0;
  return {
    monoMs: () => times[mono++],
    epochMs: () => times[epoch++],
  };
}

export interface CpuTicks {
  user?: number;
  nice?: number;
  system?: number;
  idle?: number;
  iowait?: number;
  irq?: number;
  softirq?: number;
  steal?: number;
}

export function statText(t: CpuTicks, extra: { cpus?: number; running?: number; blocked?: number } = {}): string {
  const f = [t.user, t.nice, t.system, t.idle, t.iowait, t.irq, t.softirq, t.steal].map((x) => x ?? 0);
  const lines = [`cpu  ${f.join(' ')} 0 0`];
  for (let i = 0; i < (extra.cpus ?? 2); i++) lines.push(`cpu${i} 0 0 0 0 0 0 0 0 0 0`);
  lines.push('ctxt 1000', `procs_running ${extra.running ?? 1}`, `procs_blocked ${extra.blocked ?? 0}`);
  return lines.join('\n') + '\n';
}

export function psiText(someTotalUs: number, fullTotalUs: number | null, avg10 = 0): string {
  const line = (kind: string, total: number): string =>
    `${kind} avg10=${avg10.toFixed(2)} avg60=0.00 avg300=0.00 total=${total}\n`;
  return line('some', someTotalUs) + (fullTotalUs === null ? '' : line('full', fullTotalUs));
}

export interface DiskTicks {
  reads?: number;
  sectorsRead?: number;
  msReading?: number;
  writes?: number;
  sectorsWritten?: number;
  msWriting?: number;
  inFlight?: number;
  ioTicks?: number;
  timeInQueue?: number;
  discards?: number;
  msDiscarding?: number;
  flushes?: number;
  msFlushing?: number;
}

export function diskLine(name: string, d: DiskTicks, major = 8, minor = 0): string {
  const c = [
    d.reads, 0, d.sectorsRead, d.msReading, d.writes, 0, d.sectorsWritten, d.msWriting,
    d.inFlight, d.ioTicks, d.timeInQueue, d.discards, 0, 0, d.msDiscarding, d.flushes, d.msFlushing,
  ].map((x) => x ?? 0);
  return `${String(major).padStart(4)} ${String(minor).padStart(7)} ${name} ${c.join(' ')}\n`;
}

/** A temporary directory laid out like /proc, written file by file. */
export class FakeProc {
  readonly root = mkdtempSync(join(tmpdir(), 'smtpstone-fakeproc-'));
  write(file: string, text: string): this {
    const path = join(this.root, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return this;
  }
  remove(file: string): this {
    rmSync(join(this.root, file), { recursive: true, force: true });
    return this;
  }
  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** An idle-ish synthetic sample; override what a test is about. */
export function sample(over: {
  cpu?: Partial<CpuPercent> | null;
  cpuCount?: number | null;
  psiIo?: { some: number | null; full: number | null } | null;
  psiCpu?: number | null;
  disks?: Partial<DiskRates>[] | null;
  procsBlocked?: number | null;
  missing?: SystemSample['missing'];
} = {}): SystemSample {
  const cpuCount = over.cpuCount === undefined ? 2 : over.cpuCount;
  let cpu: CpuPercent | null = null;
  if (over.cpu !== null) {
    const base = { user: 1, nice: 0, system: 1, idle: 98, iowait: 0, irq: 0, softirq: 0, steal: 0, ...over.cpu };
    const busy = base.busy ?? 100 - (base.idle ?? 0) - (base.iowait ?? 0);
    cpu = { ...base, busy } as CpuPercent;
  }
  const psiIo = over.psiIo === undefined ? { some: 0, full: 0 } : over.psiIo;
  const psiCpu = over.psiCpu === undefined ? 0 : over.psiCpu;
  return {
    epochMs: 1_700_000_000_000,
    monoMs: 1000,
    intervalMs: 1000,
    cpu,
    cpuCount,
    iowaitCpus: cpu?.iowait != null && cpuCount !== null ? (cpu.iowait * cpuCount) / 100 : null,
    procsRunning: 1,
    procsBlocked: over.procsBlocked === undefined ? 0 : over.procsBlocked,
    psiIo: psiIo && { somePct: psiIo.some, fullPct: psiIo.full, someAvg10: null, fullAvg10: null },
    psiCpu: psiCpu === null ? null : { somePct: psiCpu, fullPct: 0, someAvg10: null, fullAvg10: null },
    load1: 0.5,
    disks:
      over.disks === null
        ? null
        : (over.disks ?? [{}]).map((d) => ({
            name: 'vda', utilPct: 0, rPerSec: 0, wPerSec: 0, rkBPerSec: 0, wkBPerSec: 0,
            awaitMs: null, rAwaitMs: null, wAwaitMs: null, fAwaitMs: null, aquSz: 0, inFlight: 0, ...d,
          })),
    missing: over.missing ?? [],
  };
}

/** n copies of a sample. */
export const times = (n: number, s: SystemSample): SystemSample[] => Array.from({ length: n }, () => s);
