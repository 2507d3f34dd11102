// Periodic /proc readings turned into a series of samples, one per interval.
import type { DeviceSelector } from './diskstats.js';
import { computeSample, type SystemSample } from './rates.js';
import { readSnapshot, systemSamplerClock, type SamplerClock, type ProcSnapshot } from './snapshot.js';

export interface SamplerOptions {
  /** Time between readings; 1000 ms matches iostat/sar/vmstat's usual 1-second view. */
  intervalMs?: number;
  /** Where to read stat, pressure/, loadavg and diskstats (a fake directory in tests). */
  procRoot?: string;
  /** Block devices to report: exact names or a predicate; default whole disks (no partitions, loop, ram, zram). */
  devices?: DeviceSelector;
  /** Keep every raw reading in `readings`, to store counters and recompute rates later. */
  keepReadings?: boolean;
  /** Called with each new sample, from the timer. Exceptions it throws are not caught. */
  onSample?: (sample: SystemSample) => void;
  clock?: SamplerClock;
}

export class Sampler {
  readonly intervalMs: number;
  readonly samples: SystemSample[] = [];
  /** Raw readings, when `keepReadings` is set (the first one has no sample). */
  readonly readings: ProcSnapshot[] = [];
  private last: ProcSnapshot | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: SamplerOptions = {}) {
    this.intervalMs = options.intervalMs ?? 1000;
    if (!(this.intervalMs > 0)) throw new RangeError(`intervalMs must be positive, not ${this.intervalMs}`);
  }

  get running(): boolean {
    return this.timer !== null;
  }

  /** Takes the baseline reading now, then one per interval. The timer does not keep the process alive. */
  start(): this {
    if (this.timer) return this;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Stops the timer; the samples stay. Returns them. */
  stop(): SystemSample[] {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.samples;
  }

  /** Reads now. Returns the sample for the interval since the previous reading (null for the first). */
  tick(): SystemSample | null {
    const { procRoot, devices, clock } = this.options;
    const reading = readSnapshot({ procRoot, devices, clock });
    if (this.options.keepReadings) this.readings.push(reading);
    const prev = this.last;
    this.last = reading;
    if (!prev) return null;
    const sample = computeSample(prev, reading);
    this.samples.push(sample);
    this.options.onSample?.(sample);
    return sample;
  }

  /** Monotonic time of the latest reading, or null before start(). */
  get lastReadingMonoMs(): number | null {
    return this.last?.monoMs ?? null;
  }
}

export interface SampleForOptions extends SamplerOptions {
  /** Ends the sampling early; the samples taken so far are returned. */
  signal?: AbortSignal;
}

/**
 * Samples for durationMs and resolves with the series. A last, shorter interval is read at the
 * end when more than half an interval has passed since the previous reading.
 */
export async function sampleFor(durationMs: number, options: SampleForOptions = {}): Promise<SystemSample[]> {
  const sampler = new Sampler(options).start();
  // This wait is what the caller awaits, so unlike the sampler's own timer it keeps the process alive.
  await new Promise<void>((resolve) => {
    const { signal } = options;
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, durationMs));
    signal?.addEventListener('abort', done, { once: true });
  });
  sampler.stop();
  const clock = options.clock ?? systemSamplerClock;
  if (clock.monoMs() - (sampler.lastReadingMonoMs ?? 0) > sampler.intervalMs / 2) sampler.tick();
  return sampler.samples;
}
