// End to end: smtp-source with a journal into a private Postfix (discard delivery), then the
// journal correlated with Postfix's own maillog through readMaillog.
import { readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSource } from '../../smtp-source/src/index.js';
import { postfixAvailable, privateDir, startPrivatePostfix, waitUntil, type PrivatePostfix } from '@smtpstone/testbed';
import { correlate, readJournal, type JournalReadStats } from '../src/correlate/index.js';
import { readMaillog } from '../src/maillog/index.js';
import { expectSameTally, sourceTally } from '../../smtp-source/test/helpers.js';
import { postfixTally } from '../../smtp-source/test/postfix-tally.js';

const available = postfixAvailable();

describe.skipIf(!available)('correlate: smtp-source journal against a real Postfix maillog', () => {
  let pf: PrivatePostfix;
  let tmp: string;

  beforeAll(async () => {
    tmp = privateDir('correlate-');
    pf = await startPrivatePostfix();
  });

  afterAll(async () => {
    await pf?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('-m 20 -s 2: all 20 found in the log by queue id, all delivered, latencies >= 0, none lost', async () => {
    const started = Date.now();
    const journalPath = join(tmp, 'run.jsonl');
    const before = pf.records().length;
    const result = await runSource(
      { target: `127.0.0.1:${pf.port}`, myHostname: 'client.example', sender: 'sender@example.com', recipient: 'rcpt@example.net', sessions: 2, messages: 20, timeoutSeconds: 10, writeLog: () => undefined },
      { journalPath },
    );
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBe(20);
    await waitUntil('20 removed lines in the maillog', () => (readFileSync(pf.maillog, 'utf8').match(/: removed$/gm) ?? []).length >= 20, 20_000);

    const stats: JournalReadStats = { entries: 0, truncated: 0, invalid: 0 };
    const journal = await readJournal(journalPath, stats);
    expect(stats).toEqual({ entries: 20, truncated: 0, invalid: 0 });
    const { messages, summary } = await correlate(journal, readMaillog(pf.maillog));

    expect(summary).toMatchObject({ journalEntries: 20, injected: 20, found: 20, joinedByQueueId: 20, lost: 0, delivered: 20, bounced: 0, deferred: 0, pending: 0, recipients: { sent: 20 } });
    expect(summary.latencyMs?.count).toBe(20);
    // Whole-second maillog_file stamps, refined by the long queue id's microseconds plus delay=.
    expect(summary.latencyPrecision).toBe('ms');
    for (const m of messages) {
      expect(m.fate).toBe('delivered');
      expect(m.queueId).toBe(m.journalQueueId);
      expect(m.client?.peer).toBe('localhost[127.0.0.1]');
      expect(m.cleanup?.messageId).toBe(m.messageId);
      expect(m.qmgr).toMatchObject({ from: 'sender@example.com', nrcpt: 1 });
      expect(m.recipients[0].final).toMatchObject({ program: 'discard', relay: 'none', status: 'sent', dsn: '2.0.0' });
      expect(m.removedAt).toBeDefined();
      expect(m.latencyMs).toBeGreaterThanOrEqual(0);
      // The refined end lies within the delivery line's stamped second.
      const stamp = m.recipients[0].final!.time;
      expect(m.injectedAt + m.latencyMs!).toBeLessThanOrEqual(Math.max(m.injectedAt, stamp + 999));
      if (m.latencyMs! > 0) expect(m.injectedAt + m.latencyMs!).toBeGreaterThanOrEqual(stamp);
      // No delivery can have taken longer than this whole test (whole-second log stamps: +1 s).
      expect(m.latencyMs).toBeLessThanOrEqual(Date.now() - started + 1000);
    }

    // The command over the same two files says the same.
    const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');
    const r = spawnSync(process.execPath, [cli, '--journal', journalPath, '--log', pf.maillog], { encoding: 'utf8', timeout: 10000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('log: 20 found (20 by queue id, 0 by Message-Id), 0 LOST');
    expect(r.stdout).toContain('fate: 20 delivered');

    // Issue 7: the source's tally (its result) against Postfix's own, from the maillog.
    expectSameTally(sourceTally(result), await postfixTally(pf, before, 20, { proto: 'SMTP' }));
  });
});
