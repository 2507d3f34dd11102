// Was the box disk-bound, CPU-bound or neither during a run? Judged per 1-second sample, then
// by the share of samples each rule held in, following the proposal and the measurements in
// shared/spec/reporter-notes.md §5.3-5.4. Pass only the samples taken while the load ran.
import type { SystemSample } from './rates.js';
import { busiestDevice, summarizeDisk, summarizeSeries, type DiskSummary, type SeriesSummary } from './series-summary.js';

export type VerdictKind = 'disk-bound' | 'cpu-bound' | 'not-saturated' | 'unknown';

/**
 * All percentages are of wall time (PSI, util) or of all CPUs' time (CPU busy). The defaults come
 * from the measurements in the notes (§5.3) and in this package's tests, on a 2-vCPU VM with one
 * virtio disk:
 * - CPU busy = user+nice+system+irq+softirq+steal = 100 - idle - iowait. Two busy loops: 100 %;
 *   real Postfix at full speed: 80-99 %; one `dd oflag=direct` writer: 19-25 %.
 * - PSI io: one `dd bs=1M oflag=direct` writer: some 40-91 %, full 40-89 %; 4 kB O_DSYNC
 *   writes: some 49-71 %, full 40-67 %; real Postfix (CPU-bound): some 16-30 %, full 0.4-6.5 %
 *   (15 % in its last second); idle: 0.
 * - Without PSI, iowait counted in CPUs (iowait % x CPUs / 100) is not diluted by the CPU count.
 *   On otherwise idle CPUs it is about PSI io some / 100: one writer gave 0.37-0.88, Postfix
 *   0.02-0.27. A percentage rule would be halved on two CPUs and vanish on 64.
 */
export interface VerdictThresholds {
  /** A rule decides when it holds in at least this share of the samples (0-1). */
  minShare: number;
  /** Fewer samples with CPU data than this gives 'unknown'. */
  minSamples: number;
  /** CPU busy at or above this is saturated (and below it, disk stalls are not a CPU side effect). */
  cpuBusyPct: number;
  /** PSI cpu `some` at or above this is saturated too: runnable tasks waited for a CPU. */
  psiCpuSomePct: number;
  /** PSI io `some` (a task stalled on I/O) at or above this marks a disk-stalled sample... */
  psiIoSomePct: number;
  /** ...and so does PSI io `full` (every non-idle task stalled on I/O) at or above this. */
  psiIoFullPct: number;
  /** Without PSI: iowait, in CPUs, at or above this marks a disk-stalled sample... */
  iowaitCpus: number;
  /** ...and so does a device at this %util or more with at least `diskAquSz` I/Os queued. */
  diskUtilPct: number;
  diskAquSz: number;
  /** PSI io `some` median at or above this is reported as "I/O present but not limiting". */
  ioPresentPsiSomePct: number;
  /** Mean steal at or above this is reported: the hypervisor took the vCPUs. */
  stealPct: number;
}

export const defaultVerdictThresholds: Readonly<VerdictThresholds> = Object.freeze({
  minShare: 0.5,
  minSamples: 1,
  // Notes §5.4 and node-mixin's NodeCPUHighUsage use 80-90 %; Postfix runs measured 80-99 %.
  cpuBusyPct: 80,
  // Three busy loops on two vCPUs measured 51 %, two loops 1 %.
  psiCpuSomePct: 50,
  // Between the CPU-bound Postfix runs (some <= 30, full <= 6.5 steady) and the writers
  // (some >= 40, full >= 40). `full` has the wider margin; `some` catches stalls that leave
  // other tasks running.
  psiIoSomePct: 40,
  psiIoFullPct: 10,
  // Matches psiIoSomePct: a task stalled 40 % of the time on an idle CPU (notes proposed 0.5,
  // which today's faster disk put single writers at the edge of: 0.37-0.6).
  iowaitCpus: 0.4,
  // iostat's %util near 100 only means saturation together with a queue (USE method).
  diskUtilPct: 80,
  diskAquSz: 1,
  ioPresentPsiSomePct: 10,
  stealPct: 5,
});

export interface VerdictMetrics {
  samples: number;
  /** Samples with CPU data: the ones judged. */
  usableSamples: number;
  cpuCount: number | null;
  diskBoundSamples: number;
  cpuBoundSamples: number;
  /** Samples where some disk signal (PSI io, iowait or a device) was available. */
  diskSignalSamples: number;
  /** Which disk rule was used: PSI, the iowait/util fallback, both (PSI in some samples only), none. */
  diskRule: 'psi' | 'fallback' | 'mixed' | 'none';
  cpuBusyPct: SeriesSummary | null;
  userPct: SeriesSummary | null;
  systemPct: SeriesSummary | null;
  iowaitPct: SeriesSummary | null;
  idlePct: SeriesSummary | null;
  stealPct: SeriesSummary | null;
  iowaitCpus: SeriesSummary | null;
  procsBlocked: SeriesSummary | null;
  load1: SeriesSummary | null;
  psiIoSomePct: SeriesSummary | null;
  psiIoFullPct: SeriesSummary | null;
  psiCpuSomePct: SeriesSummary | null;
  /** The device with the highest median %util. */
  disk: DiskSummary | null;
  /** Signals absent from at least one sample, with how many. */
  missing: { signal: string; reason: string; samples: number }[];
}

export interface Verdict {
  kind: VerdictKind;
  reasons: string[];
  metrics: VerdictMetrics;
}

/** Rounds for a sentence: 0.88, 4.6, 91. */
function fmt(x: number): string {
  const digits = Math.abs(x) < 1 ? 2 : Math.abs(x) < 10 ? 1 : 0;
  return String(Number(x.toFixed(digits)));
}

type DiskState = { stalled: boolean; rule: 'psi' | 'fallback' } | null;

function diskState(s: SystemSample, t: VerdictThresholds): DiskState {
  const some = s.psiIo?.somePct ?? null;
  const full = s.psiIo?.fullPct ?? null;
  // PSI counts real stalls, is not diluted by the CPU count and not hidden by busy CPUs: when
  // present it decides alone; iowait and %util are then only evidence.
  if (some !== null || full !== null) {
    return { stalled: (some ?? 0) >= t.psiIoSomePct || (full ?? 0) >= t.psiIoFullPct, rule: 'psi' };
  }
  const dev = busiestDevice(s.disks);
  if (s.iowaitCpus === null && !dev) return null;
  const iowait = s.iowaitCpus !== null && s.iowaitCpus >= t.iowaitCpus;
  const queued = dev !== null && dev.utilPct >= t.diskUtilPct && dev.aquSz >= t.diskAquSz;
  return { stalled: iowait || queued, rule: 'fallback' };
}

function missingSignals(series: readonly SystemSample[]): VerdictMetrics['missing'] {
  const bySignal = new Map<string, { signal: string; reason: string; samples: number }>();
  for (const s of series) {
    for (const m of s.missing) {
      const entry = bySignal.get(m.signal);
      if (entry) entry.samples++;
      else bySignal.set(m.signal, { signal: m.signal, reason: m.reason, samples: 1 });
    }
  }
  return [...bySignal.values()];
}

/** Judges a series of samples. Thresholds not given take the defaults above. */
export function verdict(series: readonly SystemSample[], thresholds: Partial<VerdictThresholds> = {}): Verdict {
  const t: VerdictThresholds = { ...defaultVerdictThresholds, ...thresholds };
  const usable = series.filter((s) => s.cpu !== null);
  const n = usable.length;
  const states = usable.map((s) => diskState(s, t));
  const busy = (s: SystemSample): number => s.cpu?.busy ?? 0;
  const cpuSaturated = (s: SystemSample): boolean =>
    busy(s) >= t.cpuBusyPct || (s.psiCpu?.somePct ?? 0) >= t.psiCpuSomePct;
  const diskBound = usable.filter((s, i) => states[i]?.stalled === true && busy(s) < t.cpuBusyPct).length;
  const cpuBound = usable.filter(cpuSaturated).length;
  const withDisk = states.filter((x) => x !== null);
  const psiRule = withDisk.filter((x) => x.rule === 'psi').length;

  const metrics: VerdictMetrics = {
    samples: series.length,
    usableSamples: n,
    cpuCount: usable.find((s) => s.cpuCount !== null)?.cpuCount ?? null,
    diskBoundSamples: diskBound,
    cpuBoundSamples: cpuBound,
    diskSignalSamples: withDisk.length,
    diskRule:
      withDisk.length === 0 ? 'none' : psiRule === withDisk.length ? 'psi' : psiRule === 0 ? 'fallback' : 'mixed',
    cpuBusyPct: summarizeSeries(usable.map((s) => s.cpu?.busy)),
    userPct: summarizeSeries(usable.map((s) => s.cpu?.user)),
    systemPct: summarizeSeries(usable.map((s) => s.cpu?.system)),
    iowaitPct: summarizeSeries(usable.map((s) => s.cpu?.iowait)),
    idlePct: summarizeSeries(usable.map((s) => s.cpu?.idle)),
    stealPct: summarizeSeries(usable.map((s) => s.cpu?.steal)),
    iowaitCpus: summarizeSeries(usable.map((s) => s.iowaitCpus)),
    procsBlocked: summarizeSeries(series.map((s) => s.procsBlocked)),
    load1: summarizeSeries(series.map((s) => s.load1)),
    psiIoSomePct: summarizeSeries(series.map((s) => s.psiIo?.somePct)),
    psiIoFullPct: summarizeSeries(series.map((s) => s.psiIo?.fullPct)),
    psiCpuSomePct: summarizeSeries(series.map((s) => s.psiCpu?.somePct)),
    disk: summarizeDisk(series),
    missing: missingSignals(series),
  };

  const reasons: string[] = [];
  const kind = decide(t, metrics, reasons);
  // Context that holds whatever the verdict.
  const steal = metrics.stealPct;
  if (steal && steal.mean >= t.stealPct) {
    reasons.push(`steal ${fmt(steal.mean)} % on average: the hypervisor took the vCPUs; these are the guest's numbers`);
  }
  for (const m of metrics.missing) {
    reasons.push(`missing ${m.signal} in ${m.samples} of ${series.length} samples (${m.reason})`);
  }
  return { kind, reasons, metrics };
}

function decide(t: VerdictThresholds, m: VerdictMetrics, reasons: string[]): VerdictKind {
  const n = m.usableSamples;
  if (n === 0) {
    reasons.push(m.samples === 0 ? 'no samples' : `no CPU data in any of ${m.samples} samples`);
    return 'unknown';
  }
  if (n < t.minSamples) {
    reasons.push(`only ${n} samples with CPU data (at least ${t.minSamples} wanted)`);
    return 'unknown';
  }
  const of = (k: number): string => `${k} of ${n} samples`;
  const med = (s: SeriesSummary | null, unit = ' %'): string => (s ? `${fmt(s.median)}${unit}` : 'n/a');
  const diskShare = m.diskBoundSamples / n;
  const cpuShare = m.cpuBoundSamples / n;
  const psiSome = m.psiIoSomePct?.median ?? null;
  const evidence = (): string | null => {
    const d = m.disk;
    if (!d) return null;
    const parts = [`util ${med(d.utilPct)}`, `aqu-sz ${med(d.aquSz, '')}`, `await ${med(d.awaitMs, ' ms')}`];
    if (d.fAwaitMs) parts.push(`f_await ${med(d.fAwaitMs, ' ms')}`);
    parts.push(`${med(d.wPerSec, '')} w/s`, `${d.wkBPerSec ? fmt(d.wkBPerSec.median / 1024) : 'n/a'} MB/s written`);
    return `busiest device ${d.name} (medians): ${parts.join(', ')}`;
  };
  const cpuLine = (): string =>
    `CPU busy median ${med(m.cpuBusyPct)} (user ${med(m.userPct)}, system ${med(m.systemPct)}, ` +
    `iowait ${med(m.iowaitPct)} = ${m.iowaitCpus ? fmt(m.iowaitCpus.median) : 'n/a'} CPUs, idle ${med(m.idlePct)})`;

  if (diskShare >= t.minShare && diskShare >= cpuShare) {
    if (m.diskRule === 'psi' || m.diskRule === 'mixed') {
      reasons.push(
        `I/O stalls (PSI io some >= ${t.psiIoSomePct} % or full >= ${t.psiIoFullPct} %) with CPU busy < ${t.cpuBusyPct} % in ${of(m.diskBoundSamples)}`,
        `PSI io medians: some ${med(m.psiIoSomePct)}, full ${med(m.psiIoFullPct)}`,
      );
    }
    if (m.diskRule === 'fallback' || m.diskRule === 'mixed') {
      reasons.push(
        `PSI unavailable${m.diskRule === 'mixed' ? ' in some samples' : ''}, lower confidence: iowait >= ${t.iowaitCpus} CPUs ` +
          `or a device at util >= ${t.diskUtilPct} % with aqu-sz >= ${t.diskAquSz}, with CPU busy < ${t.cpuBusyPct} %, in ${of(m.diskBoundSamples)}`,
      );
    }
    reasons.push(cpuLine());
    const ev = evidence();
    if (ev) reasons.push(ev);
    return 'disk-bound';
  }

  if (cpuShare >= t.minShare) {
    reasons.push(
      `CPU saturated (busy >= ${t.cpuBusyPct} % or PSI cpu some >= ${t.psiCpuSomePct} %) in ${of(m.cpuBoundSamples)}`,
      cpuLine() + (m.psiCpuSomePct ? `; PSI cpu some median ${med(m.psiCpuSomePct)}` : ''),
    );
    if (psiSome !== null && psiSome >= t.psiIoSomePct) {
      reasons.push(`CPU-bound with heavy I/O wait: PSI io some median ${fmt(psiSome)} %`);
    } else if (psiSome !== null && psiSome >= t.ioPresentPsiSomePct) {
      reasons.push(`I/O present but not limiting: some task waited for I/O ${fmt(psiSome)} % of the time`);
    }
    return 'cpu-bound';
  }

  if (m.diskSignalSamples / n < t.minShare) {
    reasons.push(
      `CPU not saturated (${cpuLine()}), but no disk signal (PSI io, iowait or diskstats) in ${of(n - m.diskSignalSamples)}`,
    );
    return 'unknown';
  }
  reasons.push(
    `neither CPU nor disk saturated: CPU saturated in ${of(m.cpuBoundSamples)}, disk stalled in ${of(m.diskBoundSamples)}`,
    cpuLine(),
  );
  if (psiSome !== null) {
    const note = psiSome >= t.ioPresentPsiSomePct ? 'I/O present but not limiting: ' : '';
    reasons.push(`${note}PSI io some median ${fmt(psiSome)} %, full ${med(m.psiIoFullPct)}`);
  } else {
    reasons.push(`PSI unavailable, lower confidence: iowait median ${m.iowaitCpus ? fmt(m.iowaitCpus.median) : 'n/a'} CPUs`);
  }
  const ev = evidence();
  if (ev) reasons.push(ev);
  // Peer- or network-bound runs land here: /proc cannot tell them from a rate-limited run.
  reasons.push(
    "if throughput fell short, the limit is outside this host's CPUs and disks: the peer or next hop, " +
      "concurrency limits, the network or the generator's own rate (compare Postfix delays= b and c+d)",
  );
  return 'not-saturated';
}
