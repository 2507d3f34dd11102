// smtpstone-report: the journal joined to a log, as the command prints and writes it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'smtpstone-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry = (seq: number, queueId: string): string =>
  JSON.stringify({
    seq, session: 1, messageId: `<run.${seq}@client.example>`, start: '2026-11-24T21:12:33.900Z', startMs: 0,
    end: '2026-11-24T21:12:34.100Z', endMs: 200, recipients: ['user@remote.example'], status: 'accepted',
    code: 250, reply: `2.0.0 Ok: queued as ${queueId}`, queueId,
  });

const journal = join(dir, 'run.jsonl');
writeFileSync(journal, [entry(1, 'DC94620C112'), entry(2, 'AB12345C001')].join('\n') + '\n' + '{"seq":3,"sess');
const maillog = join(dir, 'maillog');
writeFileSync(
  maillog,
  [
    'Nov 24 21:12:34 mx postfix/smtpd[4488]: DC94620C112: client=localhost[127.0.0.1]',
    'Nov 24 21:12:34 mx postfix/cleanup[4490]: DC94620C112: message-id=<run.1@client.example>',
    'Nov 24 21:12:34 mx postfix/qmgr[4470]: DC94620C112: from=<sender@example.com>, size=1234, nrcpt=1 (queue active)',
    'Nov 24 21:12:36 mx postfix/smtp[4483]: DC94620C112: to=<user@remote.example>, relay=127.0.0.1[127.0.0.1]:25510, delay=2, delays=0.1/0.2/0.3/1.4, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4XYZ)',
    'Nov 24 21:12:36 mx postfix/qmgr[4470]: DC94620C112: removed',
  ].join('\n') + '\n',
);

const report = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 10000 });

describe('smtpstone-report', () => {
  it('prints what happened: one delivered with its latency and delays, one lost; a cut last journal line is reported', () => {
    const r = report(['--journal', journal, '--log', maillog, '--year', '2026', '--zone', 'UTC']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('journal: 2 messages (2 injected, 0 refused by the server)');
    expect(r.stdout).toContain('log: 1 found (1 by queue id, 0 by Message-Id), 1 LOST');
    expect(r.stdout).toMatch(/delivery latency +1 +1\.90 +1\.90 +1\.90 +1\.90 +s \(log stamps in whole seconds\)/);
    expect(r.stdout).toMatch(/transmission \(d\) +1 +1\.40 /);
    expect(r.stderr).toBe('smtpstone-report: warning: ' + journal + ': 1 truncated and 0 unreadable lines skipped\n');
  });

  it('--json - writes the summary and every message on stdout, the table on stderr', () => {
    const r = report(['--journal', journal, '--log', maillog, '--year', '2026', '--zone', 'UTC', '--json', '-']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toMatchObject({ journalEntries: 2, found: 1, lost: 1, delivered: 1 });
    expect(out.messages.map((m: { fate: string }) => m.fate)).toEqual(['delivered', 'lost']);
    expect(r.stderr).toContain('1 LOST');
  });

  it('a missing or bad flag is one line naming it, exit 1', () => {
    for (const [args, text] of [
      [['--log', maillog], '--journal is required'],
      [['--journal', journal], '--log is required'],
      [['--journal', journal, '--log', maillog, '--year', '26'], '--year'],
      [['--journal', journal, '--log', maillog, '--bogus'], 'Unknown argument: bogus'],
    ] as [string[], string][]) {
      const r = report(args);
      expect(r.status).toBe(1);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(text);
    }
  });
});
