// Is smtp-source itself the bottleneck? Its event-loop delay (a 10 ms timer that notices when
// it fires late) and its CPU time, per second, over every run. A load generator that cannot
// keep up makes the server look slower (every reply waits for the loop) or the schedule slip,
// and nothing else in the result would say so.
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';

/** When the generator counts as saturated. */
export interface GeneratorThresholds {
  /** Event-loop delay p99 above this, ms. */
  eventLoopDelayP99Ms: number;
  /** A second counts as busy at this CPU use or more, percent of one core. */
  cpuPercent: number;
  /** Saturated when more than this share of the seconds were busy. */
  busyShare: number;
  /** Runs shorter than this are not judged (start-up and JIT dominate them), ms. */
  minRunMs: number;
}

export const GENERATOR_THRESHOLDS: GeneratorThresholds = { eventLoopDelayP99Ms: 50, cpuPercent: 90, busyShare: 0.5, minRunMs: 1000 };

export interface GeneratorRecord {
  /** How late the loop ran its timers (the 10 ms sampling interval taken off), ms. */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** CPU time of this process (user + system) as a share of one core: over the run, and the busiest second. */
  cpuPercent: { mean: number; max: number };
  /** CPU per second of the run (the last, shorter interval when it lasted at least half a second). */
  cpuPercentPerSecond: number[];
  saturated: boolean;
  /** Why it counts as saturated (empty when it does not). */
  reasons: string[];
  thresholds: GeneratorThresholds;
}

/** A late event loop in a process using less CPU than this was kept waiting by others. */
const OTHERS_BELOW_CPU_PERCENT = 50;

/** Loop-delay samples every this many ms; the histogram holds the whole interval, this included. */
const RESOLUTION_MS = 10;

const ms1 = (v: number): number => Math.round(v * 10) / 10;

/** The verdict on a run's figures (pure, so that it can be tested on made-up numbers). */
export function judgeGenerator(
  eventLoopDelayP99Ms: number,
  cpuPerSecond: readonly number[],
  runMs: number,
  t: GeneratorThresholds = GENERATOR_THRESHOLDS,
  cpuMeanPercent?: number,
): { saturated: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (runMs < t.minRunMs) return { saturated: false, reasons };
  if (eventLoopDelayP99Ms > t.eventLoopDelayP99Ms) {
    // A late loop with an idle process: something else had the CPUs (other processes, a VM's
    // neighbours). The numbers are as skewed; the cure is elsewhere.
    const elsewhere = cpuMeanPercent !== undefined && cpuMeanPercent < OTHERS_BELOW_CPU_PERCENT;
    reasons.push(
      `event-loop delay p99 ${ms1(eventLoopDelayP99Ms)} ms > ${t.eventLoopDelayP99Ms} ms` +
        (elsewhere ? ` while using ${Math.round(cpuMeanPercent)} % CPU (other processes kept it waiting)` : ''),
    );
  }
  const busy = cpuPerSecond.filter((p) => p >= t.cpuPercent).length;
  if (cpuPerSecond.length >= 2 && busy > cpuPerSecond.length * t.busyShare) {
    reasons.push(`CPU >= ${t.cpuPercent} % of one core in ${busy} of ${cpuPerSecond.length} s`);
  }
  return { saturated: reasons.length > 0, reasons };
}

export class GeneratorMonitor {
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private readonly cpuAtStart = process.cpuUsage();
  private readonly startedMs = performance.now();
  private lastCpu = this.cpuAtStart;
  private lastMs = this.startedMs;
  private readonly perSecond: number[] = [];
  private readonly timer: NodeJS.Timeout;
  private stopped = false;
  /** Once stopped: when, and the CPU time used since the start. */
  private endedMs = 0;
  private cpuTotal = { user: 0, system: 0 };

  constructor() {
    this.loop.enable();
    this.timer = setInterval(() => this.tick(), 1000);
    this.timer.unref();
  }

  private tick(): void {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const used = cpu.user - this.lastCpu.user + (cpu.system - this.lastCpu.system);
    this.perSecond.push(ms1(used / 10 / (now - this.lastMs)));
    this.lastCpu = cpu;
    this.lastMs = now;
  }

  /** Stops sampling and judges. */
  stop(thresholds: GeneratorThresholds = GENERATOR_THRESHOLDS): GeneratorRecord {
    if (!this.stopped) {
      this.stopped = true;
      clearInterval(this.timer);
      this.loop.disable();
      if (performance.now() - this.lastMs >= 500) this.tick();
      this.endedMs = performance.now();
      this.cpuTotal = process.cpuUsage(this.cpuAtStart);
    }
    return this.peek(thresholds);
  }

  /** The figures so far (final once stopped). */
  peek(thresholds: GeneratorThresholds = GENERATOR_THRESHOLDS): GeneratorRecord {
    const runMs = (this.stopped ? this.endedMs : performance.now()) - this.startedMs;
    const cpu = this.stopped ? this.cpuTotal : process.cpuUsage(this.cpuAtStart);
    const mean = runMs > 0 ? ms1((cpu.user + cpu.system) / 10 / runMs) : 0;
    const delay = (ns: number): number => (this.loop.count > 0 ? Math.round(Math.max(0, ns / 1e6 - RESOLUTION_MS) * 1000) / 1000 : 0);
    const eventLoopDelayMs = { p50: delay(this.loop.percentile(50)), p99: delay(this.loop.percentile(99)), max: delay(this.loop.max) };
    const { saturated, reasons } = judgeGenerator(eventLoopDelayMs.p99, this.perSecond, runMs, thresholds, mean);
    return {
      eventLoopDelayMs,
      cpuPercent: { mean, max: this.perSecond.length > 0 ? Math.max(...this.perSecond) : mean },
      cpuPercentPerSecond: [...this.perSecond],
      saturated,
      reasons,
      thresholds,
    };
  }
}
