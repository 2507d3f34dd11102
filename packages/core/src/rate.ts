// Small helpers for the counters both tools report.

/** Events per second over an interval in milliseconds, 0 when the interval is empty. */
export function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : 0;
}

/** Parses a duration such as "30s", "2m", "500ms", "1h" or a bare number of seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new RangeError(`bad duration "${text}" (want e.g. 500ms, 30s, 2m, 1h)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60000 : 3600000);
}
