// smtpstone-report --gate / --baseline / --max-regression: the report judged as it is made, for CI.
// Exit 0 when everything passes, 3 when a gate fails or a metric regressed, 1 for a bad flag.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'dist', 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'smtpstone-report-gates-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry = (seq: number, queueId: string): string =>
  JSON.stringify({
    seq, session: 1, messageId: `<run.${seq}@client.example>`, start: '2026-11-24T21:12:33.900Z', startMs: 0,
    end: '2026-11-24T21:12:34.100Z', endMs: 200, recipients: ['user@remote.example'], status: 'accepted',
    code: 250, reply: `2.0.0 Ok: queued as ${queueId}`, queueId,
  });
const life = (queueId: string, seq: number, sentAt: string, delay: number): string[] => [
  `Nov 24 21:12:34 mx postfix/smtpd[4488]: ${queueId}: client=localhost[127.0.0.1]`,
  `Nov 24 21:12:34 mx postfix/cleanup[4490]: ${queueId}: message-id=<run.${seq}@client.example>`,
  `Nov 24 21:12:34 mx postfix/qmgr[4470]: ${queueId}: from=<sender@example.com>, size=1234, nrcpt=1 (queue active)`,
  `Nov 24 ${sentAt} mx postfix/smtp[4483]: ${queueId}: to=<user@remote.example>, relay=127.0.0.1[127.0.0.1]:25510, delay=${delay}, delays=0.1/0.2/0.3/${delay - 0.6}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4XYZ${seq})`,
  `Nov 24 ${sentAt} mx postfix/qmgr[4470]: ${queueId}: removed`,
];

// Two messages, delivered 1.9 s and 3.9 s after their injection: delivery_p99 3.90 s, 0.5 msg/s.
const journal = join(dir, 'run.jsonl');
writeFileSync(journal, [entry(1, 'DC94620C112'), entry(2, 'AB12345C001')].join('\n') + '\n');
const maillog = join(dir, 'maillog');
writeFileSync(maillog, [...life('DC94620C112', 1, '21:12:36', 2), ...life('AB12345C001', 2, '21:12:38', 4)].join('\n') + '\n');
const base = ['--journal', journal, '--log', maillog, '--year', '2026', '--zone', 'UTC'];

const report = (args: string[]) => spawnSync(process.execPath, [CLI, ...base, ...args], { encoding: 'utf8', timeout: 10_000 });

describe('smtpstone-report --gate', () => {
  it('every gate passes: exit 0, a PASS line for each after the report', () => {
    const r = report(['--gate', 'delivery_p99<5s', '--gate', 'lost=0', '--gate', 'errors<0.1%', '--gate', 'throughput>=0.4/s']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('fate: 2 delivered');
    expect(r.stdout.endsWith(
      [
        'PASS  gate delivery_p99<5s: delivery_p99 was 3.90 s',
        'PASS  gate lost=0: lost was 0',
        'PASS  gate errors<0.1%: errors was 0 %',
        'PASS  gate throughput>=0.4/s: throughput was 0.5 msg/s',
        'PASS: 4 gates passed',
        '',
      ].join('\n'),
    )).toBe(true);
    expect(r.stderr).toBe('');
  });

  it('a gate fails: exit 3 with its line; a metric the report lacks fails too', () => {
    const r = report(['--gate', 'delivery_p99<2s', '--gate', 'lost=0', '--gate', 'not disk-bound']);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('FAIL  gate delivery_p99<2s: delivery_p99 was 3.90 s\n');
    expect(r.stdout).toContain('PASS  gate lost=0: lost was 0\n');
    expect(r.stdout).toContain('FAIL  gate not disk-bound: verdict is missing (no samples in this result; run smtpstone-report with --samples)\n');
    expect(r.stdout).toContain('FAIL: 2 of 3 gates failed\n');
    // The report itself is still written in full.
    expect(r.stdout.indexOf('delivery latency')).toBeLessThan(r.stdout.indexOf('FAIL  gate'));
  });

  it('--json gets the gates; with --json - the report and the gate lines go to stderr', () => {
    const r = report(['--gate', 'delivery_p99<2s', '--json', '-']);
    expect(r.status).toBe(3);
    const doc = JSON.parse(r.stdout);
    expect(doc.gates).toMatchObject({
      pass: false,
      results: [{ gate: 'delivery_p99<2s', metric: 'delivery_p99', op: '<', limit: 2000, actual: doc.latency.p99, pass: false, reason: 'gate delivery_p99<2s failed: delivery_p99 was 3.90 s' }],
    });
    expect(doc.messages).toHaveLength(2);
    expect(r.stderr).toContain('fate: 2 delivered');
    expect(r.stderr).toContain('FAIL  gate delivery_p99<2s: delivery_p99 was 3.90 s');
  });

  it('--markdown gets a table of the gates after the report', () => {
    const md = join(dir, 'report.md');
    const r = report(['--gate', 'delivery_p99<5s', '--markdown', md]);
    expect(r.status).toBe(0);
    const text = readFileSync(md, 'utf8');
    expect(text).toContain('### Performance gates: PASS');
    expect(text).toContain('| ✅ pass | `delivery_p99<5s` | 3.90 s |');
    expect(text.indexOf('## Delivery latency')).toBeLessThan(text.indexOf('### Performance gates'));
  });

  it('without --gate nothing changes: no gate lines, no gates in --json', () => {
    const r = report(['--json', '-']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).gates).toBeUndefined();
    expect(r.stderr).not.toContain('PASS');
  });
});

describe('smtpstone-report --baseline', () => {
  const previous = join(dir, 'previous.json');
  const faster = join(dir, 'faster.json');

  it('against an earlier report of the same run: every metric within 10 %, exit 0', () => {
    expect(report(['--json', previous]).status).toBe(0);
    const r = report(['--baseline', previous]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('PASS  baseline throughput: 0.5 msg/s -> 0.5 msg/s (0 %; allowed -10 %)\n');
    expect(r.stdout).toContain('PASS  baseline delivery_p99: 3.90 s -> 3.90 s (0 %; allowed +10 %)\n');
    expect(r.stdout).toContain(`PASS: no regression in 4 metrics against ${previous}\n`);
  });

  it('against a baseline that delivered twice as fast: exit 3 naming the regression; a wider tolerance for it passes', () => {
    const doc = JSON.parse(readFileSync(previous, 'utf8'));
    doc.latency.p99 /= 2;
    doc.latency.p50 /= 2;
    writeFileSync(faster, JSON.stringify(doc));
    const r = report(['--baseline', faster, '--max-regression', '10%']);
    expect(r.status).toBe(3);
    expect(r.stdout).toMatch(/FAIL {2}baseline regression in delivery_p99: 1\.95 s -> 3\.90 s \(\+100 %; allowed \+10 %\)\n/);
    expect(r.stdout).toContain(`FAIL: 2 of 4 metrics regressed against ${faster}\n`);
    expect(report(['--baseline', faster, '--max-regression', 'delivery_p50=150%', '--max-regression', 'delivery_p99=150%']).status).toBe(0);
  });

  it('bad flags are one line and exit 1, before any report is made', () => {
    const sourceResult = join(here, '..', '..', 'results', 'test', 'fixtures', 'source-ok.json');
    for (const [args, text] of [
      [['--gate', 'delivery_p99<<5s'], 'bad gate: delivery_p99<<5s (--gate: one operator, then the value)'],
      [['--gate', 'p99<200ms'], 'bad gate: p99<200ms (--gate: p99 is never in a smtpstone-report report; a report has delivery_p50, delivery_p99, ...)'],
      [['--baseline', sourceResult], `${sourceResult} is a smtp-source result, but this run makes a smtpstone-report report; a baseline must be of the same kind (--baseline)`],
      [['--baseline', join(dir, 'absent.json')], `${join(dir, 'absent.json')}: no such file (--baseline)`],
      [['--max-regression', '10%'], '--max-regression needs --baseline'],
      [['--baseline', previous, '--max-regression', 'ten'], 'bad regression tolerance: ten'],
    ] as [string[], string][]) {
      const r = report(args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toContain(`smtpstone-report: fatal: ${text}`);
      expect(r.stdout).toBe('');
    }
  });
});
