// Median, mean and max of a series' numbers, and the busiest device's figures: the metrics the
// verdict prints as evidence.
import type { DiskRates, SystemSample } from './rates.js';

export interface SeriesSummary {
  median: number;
  mean: number;
  max: number;
  /** How many samples had the value. */
  n: number;
}

export interface DiskSummary {
  name: string;
  utilPct: SeriesSummary | null;
  aquSz: SeriesSummary | null;
  awaitMs: SeriesSummary | null;
  wAwaitMs: SeriesSummary | null;
  fAwaitMs: SeriesSummary | null;
  wPerSec: SeriesSummary | null;
  wkBPerSec: SeriesSummary | null;
}

export function summarizeSeries(values: readonly (number | null | undefined)[]): SeriesSummary | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  const median = xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return { median, mean, max: xs[xs.length - 1], n: xs.length };
}

/** The device with the highest %util in one sample. */
export function busiestDevice(disks: readonly DiskRates[] | null): DiskRates | null {
  if (!disks || disks.length === 0) return null;
  return disks.reduce((a, b) => (b.utilPct > a.utilPct ? b : a));
}

/** The device with the highest median %util over the series. */
export function summarizeDisk(series: readonly SystemSample[]): DiskSummary | null {
  const names = new Set(series.flatMap((s) => (s.disks ?? []).map((d) => d.name)));
  let best: DiskSummary | null = null;
  for (const name of names) {
    const rows = series.map((s) => s.disks?.find((d) => d.name === name) ?? null);
    const pick = (f: (d: DiskRates) => number | null): SeriesSummary | null => summarizeSeries(rows.map((d) => (d ? f(d) : null)));
    const summary: DiskSummary = {
      name,
      utilPct: pick((d) => d.utilPct),
      aquSz: pick((d) => d.aquSz),
      awaitMs: pick((d) => d.awaitMs),
      wAwaitMs: pick((d) => d.wAwaitMs),
      fAwaitMs: pick((d) => d.fAwaitMs),
      wPerSec: pick((d) => d.wPerSec),
      wkBPerSec: pick((d) => d.wkBPerSec),
    };
    if (!best || (summary.utilPct?.median ?? 0) > (best.utilPct?.median ?? 0)) best = summary;
  }
  return best;
}
