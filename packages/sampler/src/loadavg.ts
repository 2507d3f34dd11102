// /proc/loadavg: "0.13 0.03 0.14 1/124 7436". Runnable plus uninterruptible (D state) tasks,
// exponentially averaged and updated every 5 s: only meaningful for runs of minutes.

export interface LoadAvg {
  load1: number;
  load5: number;
  load15: number;
  /** Runnable scheduling entities now, and all of them (null if the field is malformed). */
  running: number | null;
  total: number | null;
  lastPid: number | null;
}

export function parseLoadavg(text: string): LoadAvg | null {
  const f = text.trim().split(/\s+/);
  const decimal = /^\d+(?:\.\d+)?$/;
  if (f.length < 3 || !f.slice(0, 3).every((x) => decimal.test(x))) return null;
  const tasks = /^(\d+)\/(\d+)$/.exec(f[3] ?? '');
  const lastPid = /^\d+$/.test(f[4] ?? '') ? Number(f[4]) : null;
  return {
    load1: Number(f[0]),
    load5: Number(f[1]),
    load15: Number(f[2]),
    running: tasks ? Number(tasks[1]) : null,
    total: tasks ? Number(tasks[2]) : null,
    lastPid,
  };
}
