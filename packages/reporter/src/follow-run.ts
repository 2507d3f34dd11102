// The report, live: follows the journal and the log as a run writes them, and reports when
// every message has had its last word, when nothing new came for a while, or on Ctrl-C.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Correlator, parseJournal, type Correlation, type JournalEntry } from './correlate/index.js';
import { emptyFollowStats, followMaillog, type FollowStats } from './maillog/index.js';
import { buildReportModel } from './report/build.js';
import type { ReportModel } from './report/model.js';
import { readSystemRecord, type ReportInputs } from './run.js';

export interface FollowReportOptions extends ReportInputs {
  /** Stop after this long with nothing new in the journal or the log. */
  idleMs: number;
  /** Once every message has its last word, stop after this long with nothing new. */
  settleMs: number;
  /** Gets a one-line progress report every statusMs. */
  status?: (line: string) => void;
  statusMs?: number;
  /** How often the journal is polled for new lines (default 250 ms). */
  pollMs?: number;
}

/**
 * Reads the journal's complete new lines since the last call. smtp-source appends whole lines,
 * so a line without its newline is only half-written yet: it waits for the next call.
 */
export class JournalTail {
  private offset = 0;
  private partial = Buffer.alloc(0);
  readonly stats = { entries: 0, truncated: 0, invalid: 0 };

  constructor(private readonly path: string) {}

  read(): JournalEntry[] {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []; // not written yet
      throw err;
    }
    try {
      const size = fstatSync(fd).size;
      if (size <= this.offset) return [];
      const buf = Buffer.allocUnsafe(size - this.offset);
      const n = readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += n;
      const data = Buffer.concat([this.partial, buf.subarray(0, n)]);
      const end = data.lastIndexOf(0x0a);
      this.partial = Buffer.from(data.subarray(end + 1));
      return end < 0 ? [] : parseJournal(data.subarray(0, end + 1).toString('utf8'), this.stats);
    } finally {
      closeSync(fd);
    }
  }

  /** At the end: a last line never finished counts as truncated. */
  finish(): void {
    if (this.partial.length > 0) parseJournal(this.partial.toString('utf8'), this.stats);
    this.partial = Buffer.alloc(0);
  }
}

const SETTLED = new Set(['delivered', 'deferred-then-delivered', 'bounced', 'removed', 'not-accepted']);

function statusLine(c: Correlation): string {
  const s = c.summary;
  const open = s.injected - s.delivered - s.deferredThenDelivered - s.bounced - s.removed;
  return `following: ${s.journalEntries} in the journal, ${s.delivered + s.deferredThenDelivered} delivered, ${s.bounced} bounced, ${s.deferred} deferred, ${open} not yet delivered`;
}

export async function followReport(o: FollowReportOptions): Promise<{ model: ReportModel; correlation: Correlation; stats: FollowStats }> {
  const system = o.samples !== undefined ? readSystemRecord(o.samples) : undefined;
  const journal = new JournalTail(o.journal);
  // A generous hold: the journal line of a message comes after its first log lines.
  const correlator = new Correlator([], { holdRecords: 200_000, live: true });
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  let lastNews = Date.now();
  let lastStatus = Date.now();
  let lastMatched = 0;
  const poll = (): void => {
    const entries = journal.read();
    for (const e of entries) correlator.addEntry(e);
    const matched = correlator.matchedRecords;
    if (entries.length > 0 || matched !== lastMatched) lastNews = Date.now();
    lastMatched = matched;
    const now = Date.now();
    const quiet = now - lastNews;
    if (quiet >= o.idleMs) return stop.abort();
    const everyOne = quiet >= o.settleMs || (o.status !== undefined && now - lastStatus >= (o.statusMs ?? 5000));
    if (!everyOne) return;
    const c = correlator.result();
    if (o.status && now - lastStatus >= (o.statusMs ?? 5000)) {
      lastStatus = now;
      o.status(statusLine(c));
    }
    if (quiet >= o.settleMs && c.messages.length > 0 && c.messages.every((m) => SETTLED.has(m.fate))) stop.abort();
  };
  const timer = setInterval(poll, o.pollMs ?? 250);
  const stats: FollowStats = emptyFollowStats();
  try {
    poll();
    for await (const r of followMaillog(o.logs[0], { year: o.year, zone: o.zone, signal: stop.signal, stats })) correlator.add(r);
  } finally {
    clearInterval(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }
  for (const e of journal.read()) correlator.addEntry(e);
  journal.finish();
  const correlation = correlator.result();
  const model = buildReportModel(correlation, {
    title: o.title,
    journal: o.journal,
    logs: o.logs,
    samples: o.samples,
    system,
    journalSkipped: journal.stats,
  });
  return { model, correlation, stats };
}
