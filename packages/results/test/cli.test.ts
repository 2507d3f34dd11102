// smtpstone-results as a CI job runs it: the built command, its output and its exit status
// (0 pass, 3 a failed gate or a regression, 1 an error).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'dist', 'cli.js');
const fixtures = join(here, 'fixtures');
const ok = join(fixtures, 'source-ok.json');
const refused = join(fixtures, 'source-rejected.json');
const report = join(fixtures, 'report.json');
const dir = mkdtempSync(join(tmpdir(), 'smtpstone-results-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const results = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 10_000 });

/** The real run with its throughput halved and its message p99 doubled. */
const worse = join(dir, 'worse.json');
{
  const doc = JSON.parse(readFileSync(ok, 'utf8'));
  doc.throughput.messagesPerSecond /= 2;
  doc.latency.message.p99 *= 2;
  writeFileSync(worse, JSON.stringify(doc));
}

describe('smtpstone-results check', () => {
  it('exit 0 when every gate passes, a PASS line for each', () => {
    const r = results(['check', ok, '--gate', 'p99<200ms', '--gate', 'throughput>=500/s', '--gate', 'errors<0.1%', '--gate', 'not disk-bound']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        'PASS  gate p99<200ms: p99 was 5.85 ms',
        'PASS  gate throughput>=500/s: throughput was 545.5 msg/s',
        'PASS  gate errors<0.1%: errors was 0 %',
        'PASS  gate not disk-bound: the verdict was cpu-bound',
        'PASS: 4 gates passed',
        '',
      ].join('\n'),
    );
    expect(r.stderr).toBe('');
  });

  it('exit 3 when a gate fails; --quiet keeps only the failures', () => {
    const r = results(['check', refused, '--gate', 'errors<0.1%', '--gate', 'connect_p99<1s', '--quiet']);
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('FAIL  gate errors<0.1%: errors was 100 %\n');
  });

  it('exit 3 when a metric the result lacks is gated', () => {
    const r = results(['check', ok, '--gate', 'delivery_p99<5s']);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('FAIL  gate delivery_p99<5s: delivery_p99 is missing (a smtp-source result does not have it;');
  });

  it('exit 3 on a regression against --baseline, 0 within a per-metric tolerance', () => {
    const failing = results(['check', worse, '--baseline', ok, '--max-regression', '10%']);
    expect(failing.status).toBe(3);
    expect(failing.stdout).toContain('FAIL  baseline regression in throughput: 545.5 msg/s -> 272.8 msg/s (-50.0 %; allowed -10 %)\n');
    expect(failing.stdout).toContain('FAIL  baseline regression in p99: 5.85 ms -> 11.7 ms (+100 %; allowed +10 %)\n');
    expect(failing.stdout).toContain(`FAIL: 2 of 4 metrics regressed against ${ok}\n`);
    const tolerated = results(['check', worse, '--baseline', ok, '--max-regression', 'throughput=60%', '--max-regression', 'p99=150%']);
    expect(tolerated.status).toBe(0);
  });

  it('--json and --markdown write the outcome; the lines then go to stderr when stdout is taken', () => {
    const md = results(['check', worse, '--gate', 'p99<10ms', '--baseline', ok, '--markdown', '-']);
    expect(md.status).toBe(3);
    expect(md.stdout).toContain('### Performance gates: FAIL');
    expect(md.stdout).toContain('| ❌ FAIL | `p99<10ms` | 11.7 ms |');
    expect(md.stdout).toMatch(/\| ❌ FAIL \| throughput \| 545\.5 msg\/s \| 272\.8 msg\/s \| -50\.0 % \| -10 % \|/);
    expect(md.stderr).toContain('FAIL  gate p99<10ms: p99 was 11.7 ms');
    const out = join(dir, 'judgement.json');
    const js = results(['check', ok, '--gate', 'p99<200ms', '--json', out]);
    expect(js.status).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ kind: 'source', pass: true, exitCode: 0, gates: [{ gate: 'p99<200ms', metric: 'p99', actual: 5.847, limit: 200, pass: true }] });
  });

  it('exit 1, one line naming the problem: bad gates, files, kinds and flags', () => {
    for (const [args, text] of [
      [['check', ok, '--gate', 'p99<<200ms'], 'smtpstone-results: fatal: bad gate: p99<<200ms (--gate: one operator, then the value)'],
      [['check', ok, '--gate', 'p99<200'], 'smtpstone-results: fatal: bad gate: p99<200 (--gate: p99 is a duration; give ms, s, m or h'],
      [['check', ok], 'check needs --gate or --baseline'],
      [['check', join(dir, 'absent.json'), '--gate', 'p99<1s'], 'absent.json: no such file'],
      [['check', join(fixtures, 'report.jsonl'), '--gate', 'p99<1s'], 'report.jsonl: not JSON'],
      [['check', ok, '--baseline', report], 'report.json is a smtpstone-report report, but the result is a smtp-source result; a baseline must be of the same kind'],
      [['check', ok, '--baseline', ok, '--max-regression', 'lots'], 'bad regression tolerance: lots'],
      [['check', ok, '--gate', 'p99<1s', '--max-regression', '5%'], '--max-regression needs --baseline'],
      [['check', ok, '--gate', 'p99<1s', '--bogus'], 'unknown flag: --bogus'],
      [['check', ok, '--gate'], '--gate wants a value'],
      [['merge', ok, report], 'report.json is a smtpstone-report report; merge takes smtp-source --json results only'],
      [['compare', ok, report], 'compare takes two of the same kind'],
      [['frobnicate'], 'unknown command: frobnicate'],
    ] as [string[], string][]) {
      const r = results(args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr.trimEnd().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toContain(text);
      expect(r.stdout).toBe('');
    }
  });

  it('--help documents the exit codes, exit 0', () => {
    const r = results(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Exit status: 0 everything passed; 3 a gate failed or a metric regressed; 1 a bad flag');
  });
});

describe('smtpstone-results compare and metrics', () => {
  it('compare: both values, the change and which way it went', () => {
    const r = results(['compare', ok, worse]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^throughput +545\.5 msg\/s +272\.8 msg\/s +-50\.0 % +worse$/m);
    expect(r.stdout).toMatch(/^p99 +5\.85 ms +11\.7 ms +\+100 % +worse$/m);
    expect(r.stdout).toMatch(/^p50 +1\.41 ms +1\.41 ms +0 %$/m);
    expect(r.stdout).toMatch(/^verdict +cpu-bound +cpu-bound$/m);
    const md = results(['compare', ok, worse, '--metric', 'throughput,p99', '--markdown', '-']);
    expect(md.stdout).toContain('| throughput | 545.5 msg/s | 272.8 msg/s | -50.0 % | **worse** |');
    expect(md.stdout.trimEnd().split('\n')).toHaveLength(4);
  });

  it('metrics: the names, and with a file each value or why there is none', () => {
    const all = results(['metrics']);
    expect(all.stdout).toMatch(/^delivery_p99 +ms +report +/m);
    expect(all.stdout).toMatch(/^throughput +rate +source\+report +/m);
    const some = results(['metrics', report]);
    expect(some.stdout).toMatch(/^delivery_p99 +3\.90 s$/m);
    expect(some.stdout).toMatch(/^verdict +- \(no samples in this result; run smtpstone-report with --samples\)$/m);
  });
});
