// smtpstone-report: the journal joined to a log, as the command prints and writes it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../smtp-source/test/helpers.js';

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
    expect(r.stdout).toMatch(/delivery latency +1 +1\.90 +1\.90 +1\.90 +1\.90 +1\.90 +s \(log stamps in whole seconds\)/);
    expect(r.stdout).toMatch(/transmission \(d\) +1 +1\.40 /);
    expect(r.stdout).toContain('warning: journal: 1 truncated and 0 unreadable line(s) skipped');
    expect(r.stdout).toContain('warning: 1 accepted message(s) never appear in the log');
    expect(r.stderr).toBe('');
  });

  it('--json - writes the summary and every message on stdout, the table on stderr', () => {
    const r = report(['--journal', journal, '--log', maillog, '--year', '2026', '--zone', 'UTC', '--json', '-']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.summary).toMatchObject({ journalEntries: 2, found: 1, lost: 1, delivered: 1 });
    expect(out.latency).toMatchObject({ count: 1, p50: 1900 });
    expect(out.timeline.buckets.reduce((n: number, b: { injected: number }) => n + b.injected, 0)).toBe(2);
    expect(out.messages.map((m: { fate: string }) => m.fate)).toEqual(['delivered', 'lost']);
    expect(r.stderr).toContain('1 LOST');
  });

  it('a missing or bad flag is one line naming it, exit 1', () => {
    for (const [args, text] of [
      [['--log', maillog], '--journal is required'],
      [['--journal', journal], '--log is required'],
      [['--journal', journal, '--log', maillog, '--year', '26'], '--year'],
      [['--journal', journal, '--log', maillog, '--bogus'], 'unknown flag: --bogus'],
      [['--journal', journal, '--log', maillog, '--json'], '--json wants a value (see smtpstone-report --help)'],
      [['--journal', journal, '--journal', journal, '--log', maillog], '--journal given 2 times; give it once'],
      [['--journal', join(dir, 'absent'), '--log', maillog], '(--journal)'],
      [['--journal', journal, '--log', maillog, '--log', join(dir, 'absent')], '(--log)'],
      [['--journal', journal, '--log', maillog, '--zone', 'Mars/Base'], '--zone'],
      [['--journal', journal, '--log', maillog, '--idle', '5s'], '--idle only applies with --follow'],
      [['--journal', journal, '--log', maillog, '--log', maillog, '--follow'], '--follow follows one --log'],
      [['--journal', journal, '--log', maillog, '--follow', '--idle', 'soon'], '--idle'],
      [['--journal', journal, '--log', maillog, '--samples', journal], '--samples'],
      [['--journal', journal, '--log', maillog, '--json', '-', '--markdown', '-'], 'cannot both take stdout'],
    ] as [string[], string][]) {
      const r = report(args);
      expect(r.status).toBe(1);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(text);
    }
    // Sixteen Node start-ups in a row: on a loaded box that alone can pass the default 30 s.
  }, 90_000);
});

describe('smtpstone-report outputs and inputs', () => {
  it('writes Markdown and a self-contained HTML page beside the terminal report', () => {
    const md = join(dir, 'report.md');
    const html = join(dir, 'report.html');
    const r = report(['--journal', journal, '--log', maillog, '--year', '2026', '--zone', 'UTC', '--markdown', md, '--html', html, '--title', 'nightly <run>']);
    expect(r.status).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/nightly &(lt|#60);run&(gt|#62);/);
    expect(page).not.toContain('nightly <run>');
    expect(page).toContain('<svg');
    expect(page).not.toMatch(/(src|href)="https?:/);
    expect(readFileSync(md, 'utf8')).toContain('nightly');
  });

  it('reads several logs as one, in time order (a rotated log and the current one)', () => {
    const lines = readFileSync(maillog, 'utf8').trimEnd().split('\n');
    const older = join(dir, 'maillog.1');
    const current = join(dir, 'maillog.0');
    writeFileSync(older, lines.slice(0, 2).join('\n') + '\n');
    writeFileSync(current, lines.slice(2).join('\n') + '\n');
    const r = report(['--journal', journal, '--log', current, '--log', older, '--year', '2026', '--zone', 'UTC', '--json', '-']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.messages[0]).toMatchObject({ fate: 'delivered', client: { peer: 'localhost[127.0.0.1]' }, latencyMs: 1900 });
  });
});

describe('smtpstone-report --follow', () => {
  const lines = readFileSync(maillog, 'utf8').trimEnd().split('\n');

  it('follows a journal and a log being written and reports once every message has its last word', async () => {
    const j = join(dir, 'live.jsonl');
    const l = join(dir, 'live.log');
    writeFileSync(l, lines.slice(0, 2).join('\n') + '\n'); // smtpd and cleanup log before the journal line exists
    const child = spawn(process.execPath, [CLI, '--journal', j, '--log', l, '--follow', '--settle', '300ms', '--idle', '20s', '--year', '2026', '--zone', 'UTC', '--json', '-']);
    const out = collect(child);
    await sleep(400);
    writeFileSync(j, entry(1, 'DC94620C112') + '\n');
    await sleep(300);
    appendFileSync(l, lines.slice(2).join('\n') + '\n');
    const code = await exited(child, 10_000);
    expect(code).toBe(0);
    const result = JSON.parse(out.stdout());
    expect(result.summary).toMatchObject({ journalEntries: 1, delivered: 1, lost: 0 });
    expect(result.messages[0].client.peer).toBe('localhost[127.0.0.1]');
  });

  it('prints the report so far on Ctrl-C', async () => {
    const j = join(dir, 'cut.jsonl');
    const l = join(dir, 'cut.log');
    writeFileSync(j, entry(1, 'DC94620C112') + '\n' + entry(2, 'AB12345C001') + '\n');
    writeFileSync(l, lines.join('\n') + '\n');
    const child = spawn(process.execPath, [CLI, '--journal', j, '--log', l, '--follow', '--year', '2026', '--zone', 'UTC']);
    const out = collect(child);
    // The handlers are set before the log is opened: wait for the open (Node's start-up on a
    // loaded box can take a second), then give it the time to read the short log.
    await waitFor(`${l} open in the child`, () => hasOpen(child.pid!, l), 10_000);
    await sleep(500);
    child.kill('SIGINT');
    expect(await exited(child, 5000)).toBe(0);
    expect(out.stdout()).toContain('fate: 1 delivered');
    expect(out.stdout()).toContain('1 LOST');
  });
});

function collect(child: ChildProcess): { stdout: () => string; stderr: () => string } {
  let o = '';
  let e = '';
  child.stdout!.on('data', (d: Buffer) => (o += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (e += d.toString()));
  return { stdout: () => o, stderr: () => e };
}

/** Whether process pid has file open (one of its /proc fd links points at it). */
function hasOpen(pid: number, file: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

function exited(child: ChildProcess, ms: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running after ${ms} ms`));
    }, ms);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}
