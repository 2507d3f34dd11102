// Several logs read as one, in time order: rotated files (maillog.1, maillog) or the logs of
// several instances (a content filter's second Postfix logging elsewhere). Each log is already
// in time order, so a k-way merge with one record of look-ahead per log is enough.
import type { LogRecord } from './records.js';

export async function* mergeByTime(logs: readonly AsyncIterable<LogRecord>[]): AsyncGenerator<LogRecord> {
  if (logs.length === 1) {
    yield* logs[0];
    return;
  }
  const its = logs.map((l) => l[Symbol.asyncIterator]());
  const heads: (LogRecord | undefined)[] = await Promise.all(its.map(async (it) => (await it.next()).value as LogRecord | undefined));
  try {
    for (;;) {
      // Few logs: a scan beats a heap. Ties go to the earlier log, keeping its order.
      let k = -1;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h !== undefined && (k < 0 || h.time < heads[k]!.time)) k = i;
      }
      if (k < 0) return;
      yield heads[k]!;
      const n = await its[k].next();
      heads[k] = n.done ? undefined : n.value;
    }
  } finally {
    await Promise.all(its.map((it) => it.return?.()));
  }
}
