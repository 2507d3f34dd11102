// /proc/pressure/{io,cpu} (PSI, kernel >= 4.20 with CONFIG_PSI; see the kernel's psi.rst).

export interface PressureLine {
  /** Running averages in percent of wall time; recomputed every 2 s, so they lag a short run. */
  avg10: number;
  avg60: number;
  avg300: number;
  /** Cumulative stall time in microseconds: the delta over an interval is the exact share. */
  total: number;
}

export interface Pressure {
  /** Time at least one task was stalled on the resource. */
  some: PressureLine | null;
  /** Time all non-idle tasks were stalled at once (for cpu: absent before 5.13, 0 system-wide). */
  full: PressureLine | null;
}

function parseLine(fields: string[]): PressureLine | null {
  const kv = new Map<string, string>();
  for (const f of fields) {
    const eq = f.indexOf('=');
    if (eq > 0) kv.set(f.slice(0, eq), f.slice(eq + 1));
  }
  const num = (key: string, pattern: RegExp): number | null => {
    const v = kv.get(key);
    return v !== undefined && pattern.test(v) ? Number(v) : null;
  };
  const decimal = /^\d+(?:\.\d+)?$/;
  const avg10 = num('avg10', decimal);
  const avg60 = num('avg60', decimal);
  const avg300 = num('avg300', decimal);
  const total = num('total', /^\d+$/);
  if (avg10 === null || avg60 === null || avg300 === null || total === null) return null;
  return { avg10, avg60, avg300, total };
}

/** Parses a /proc/pressure file; null when neither a `some` nor a `full` line can be read. */
export function parsePressure(text: string): Pressure | null {
  const out: Pressure = { some: null, full: null };
  for (const line of text.split('\n')) {
    const [kind, ...rest] = line.trim().split(/\s+/);
    if (kind === 'some') out.some = parseLine(rest);
    else if (kind === 'full') out.full = parseLine(rest);
  }
  return out.some || out.full ? out : null;
}
