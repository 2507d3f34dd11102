// Shared pieces of the end-to-end tests that run a private Postfix between our smtp-source and
// our smtp-sink (or Postfix's discard transport), then correlate the journal with the maillog.
import { startSink, type Sink } from '../../smtp-sink/src/index.js';
import { messagesByQueueId, type LoggedMessage, type PrivatePostfix } from '@smtpstone/testbed';
import { readMaillog, type LogRecord } from '../src/maillog/index.js';
import type { JournalEntry } from '../src/correlate/index.js';

/** Set SMTPSTONE_E2E_LOG=1 to see the maillog lines the e2e tests looked at. */
export const SHOW_LOG = process.env.SMTPSTONE_E2E_LOG === '1';

export interface TestSink extends Sink {
  port: number;
  logs: string[];
}

/** Our sink on 127.0.0.1:`port` (0: the system picks), diagnostics collected, not printed. */
export async function sinkOn(port = 0): Promise<TestSink> {
  const logs: string[] = [];
  const sink = await startSink({ listen: `127.0.0.1:${port}`, hostname: 'relay-sink.example.test', writeLog: (l) => logs.push(l) });
  if (sink.address.kind !== 'inet') throw new Error('not an inet sink');
  return Object.assign(sink, { port: sink.address.port, logs });
}

/** Every record readMaillog() makes of the file, in order. */
export async function allRecords(path: string): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const r of readMaillog(path)) out.push(r);
  return out;
}

/** The journal's queue ids of accepted messages. */
export function journalQueueIds(journal: JournalEntry[]): string[] {
  return journal.filter((e) => e.status === 'accepted').map((e) => e.queueId ?? '(none)');
}

/** The test's own reading of the log (the testbed's parser, not the reporter's), by queue id. */
export function logged(pf: PrivatePostfix): Map<string, LoggedMessage> {
  return messagesByQueueId(pf.records());
}

/** The maillog lines that name one of these queue ids. */
export function linesOf(pf: PrivatePostfix, queueIds: Iterable<string>): string[] {
  const ids = new Set(queueIds);
  return pf.records().filter((r) => r.queueId !== undefined && ids.has(r.queueId)).map((r) => r.line);
}

/** Sleeps. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
