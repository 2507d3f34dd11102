// smtp-source --sample: this host's /proc is sampled from the first connect to the end of the
// run (real /proc, our sink in-process on a loopback port), the --json result carries it as
// `system` (a SystemRecord with its verdict) and the summary gains a short section. Without
// --sample neither appears. The interval is validated like every other flag.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SystemRecord, SystemSample } from '@smtpstone/sampler';
import { startSource, type SourceResult } from '../src/index.js';
import { expectSameTally, ourCli, portOf, resources, settled, sinkTally, sourceTally, SOURCE_CLI, type TestSink } from './helpers.js';

const r = resources();

const readable = (path: string): boolean => {
  try {
    accessSync(path);
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
};
const LINUX = process.platform === 'linux' && readable('/proc/stat');

const ADDR_ARGS = ['-f', 'sender@example.com', '-t', 'rcpt@example.com', '-M', 'client.example'];
const KINDS = ['disk-bound', 'cpu-bound', 'not-saturated', 'unknown'];
const inet = (sink: TestSink): string => `127.0.0.1:${portOf(sink)}`;

/** Issue 7: the run's tally (its result or --json) against our sink's, once the sink has seen every connection end. */
async function expectTallied(sink: TestSink, result: SourceResult): Promise<void> {
  expectSameTally(sourceTally(result), sinkTally(await settled(sink, result.connections.opened)));
}

/** The summary's --sample section: its header, the medians and one line per reason. */
function expectSection(stderr: string, rec: SystemRecord): void {
  const n = rec.samples.length;
  const interval = rec.intervalMs < 1000 ? `${rec.intervalMs}ms` : `${rec.intervalMs / 1000}s`;
  const what = n === 0 ? 'no samples: the run was too short to sample' : `${n} sample${n === 1 ? '' : 's'} of ${interval}`;
  expect(stderr).toContain(`\n  system ${rec.host}: ${rec.verdict.kind} (${what})\n`);
  expect(stderr).toMatch(/\n {4}medians: CPU busy (\d+\.\d %|n\/a), iowait (\d+\.\d % \(\d+\.\d\d CPUs\)|n\/a), PSI io some (\d+\.\d %|n\/a), busiest disk (\S+ util \d+\.\d %|n\/a)\n/);
  for (const reason of rec.verdict.reasons) expect(stderr).toContain(`\n    - ${reason}\n`);
}

/** Samples lie within the run: from its start to its end (wall clock, a little slack). */
function expectWithinRun(samples: SystemSample[], result: SourceResult): void {
  const start = Date.parse(result.startedAt);
  const end = start + result.elapsedMs;
  for (const s of samples) {
    expect(s.epochMs).toBeGreaterThan(start);
    expect(s.epochMs).toBeLessThanOrEqual(end + 50);
  }
}

describe.skipIf(!LINUX)('smtp-source --sample against our sink', { timeout: 15_000 }, () => {
  it('--sample 200ms --json - --duration 1s: `system` holds the samples of the run and a verdict; the summary shows it', async () => {
    const sink = await r.sink();
    const out = await ourCli([...ADDR_ARGS, '--sample', '200ms', '--json', '-', '--duration', '1s', '-s', '2', '-d', inet(sink)]);
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout) as SourceResult;
    expect(result.fatal).toBeUndefined();
    expect(result.messages.accepted).toBeGreaterThan(0);
    const rec = result.system!;
    expect(rec).toMatchObject({ type: 'smtpstone-samples', version: 1, intervalMs: 200 });
    // About 1 s of 200 ms intervals, the last one possibly shorter.
    expect(rec.samples.length).toBeGreaterThanOrEqual(3);
    expect(rec.samples.length).toBeLessThanOrEqual(6);
    for (const s of rec.samples) expect(s.cpu?.busy).toBeTypeOf('number');
    expectWithinRun(rec.samples, result);
    expect(rec.startedAt).toBe(rec.samples[0].epochMs);
    expect(KINDS).toContain(rec.verdict.kind);
    expect(rec.verdict.reasons.length).toBeGreaterThan(0);
    expect(rec.verdict.metrics.samples).toBe(rec.samples.length);
    expect(rec.thresholds.cpuBusyPct).toBe(80);
    expectSection(out.stderr, rec);
    // The section comes last, after the latency table.
    expect(out.stderr.indexOf('  system ')).toBeGreaterThan(out.stderr.indexOf('latency (ms)'));
    await expectTallied(sink, result);
  });

  it('without --sample: no `system` field in --json and no section in the summary', async () => {
    const sink = await r.sink();
    const out = await ourCli([...ADDR_ARGS, '--json', '-', '-m', '20', '-s', '2', inet(sink)]);
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout) as Record<string, unknown>;
    expect(result.messages).toMatchObject({ accepted: 20 });
    expect('system' in result).toBe(false);
    expect(out.stdout).not.toContain('smtpstone-samples');
    expect(out.stderr).not.toContain('  system ');
    expect(out.stderr).not.toContain('medians:');
    await expectTallied(sink, result as unknown as SourceResult);
  });

  it('a bare --sample before the target: the target stays the target, the interval is 1s', async () => {
    const sink = await r.sink();
    const out = await ourCli([...ADDR_ARGS, '--json', '-', '--duration', '1200ms', '-d', '--sample', inet(sink)]);
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout) as SourceResult;
    expect(result.target).toBe(inet(sink));
    expect(result.messages.accepted).toBeGreaterThan(0);
    expect(result.system?.intervalMs).toBe(1000);
    expect(result.system!.samples.length).toBeGreaterThanOrEqual(1);
    expect(result.system!.samples.length).toBeLessThanOrEqual(2);
    expectSection(out.stderr, result.system!);
    await expectTallied(sink, result);
  });

  it('Ctrl-C during a --sample run: the interrupted result still carries the samples and the verdict', async () => {
    const sink = await r.sink();
    const child = spawn(process.execPath, [SOURCE_CLI, ...ADDR_ARGS, '--sample', '200ms', '--json', '-', '--duration', '30s', '-d', inet(sink)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    // Sampling starts at the first connect: wait for messages at the sink (Node's start-up on a
    // loaded box can take most of a second), then for three more intervals.
    const until = Date.now() + 8000;
    while (sink.stats().messages === 0 && Date.now() < until) await new Promise((res) => setTimeout(res, 20));
    await new Promise((res) => setTimeout(res, 700));
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    clearTimeout(killer);
    expect(code).toBe(0);
    const result = JSON.parse(out) as SourceResult;
    expect(result.interrupted).toBe(true);
    expect(result.system!.samples.length).toBeGreaterThanOrEqual(2);
    expect(result.system!.samples.length).toBeLessThan(20);
    expect(KINDS).toContain(result.system!.verdict.kind);
    expect(err).toContain('(interrupted)');
    expectSection(err, result.system!);
    await expectTallied(sink, result);
  });

  it('API: sample: { intervalMs, thresholds } samples from the first connect, emits each sample, judges with the thresholds', async () => {
    const sink = await r.sink();
    const { run, done } = await startSource({
      target: inet(sink),
      durationMs: 600,
      reuseConnection: true,
      writeLog: () => undefined,
      sample: { intervalMs: 100, thresholds: { cpuBusyPct: 1, minShare: 0.25 } },
    });
    const emitted: SystemSample[] = [];
    run.on('sample', (s: SystemSample) => emitted.push(s));
    const result = await done;
    const rec = result.system!;
    expect(rec.intervalMs).toBe(100);
    expect(rec.thresholds).toMatchObject({ cpuBusyPct: 1, minShare: 0.25, psiIoSomePct: 40 });
    expect(rec.samples.length).toBeGreaterThanOrEqual(3);
    expect(rec.samples.length).toBeLessThanOrEqual(8);
    expect(emitted).toEqual(rec.samples);
    expectWithinRun(rec.samples, result);
    // A source and a sink in one busy process are well above 1 % CPU.
    expect(rec.verdict.kind).toBe('cpu-bound');
    // result() after the end gives the same record.
    expect(run.result().system).toBe(rec);
    await expectTallied(sink, result);
  });

  it('API: without `sample` the result has no `system` key at all', async () => {
    const sink = await r.sink();
    const { done } = await startSource({ target: inet(sink), messages: 5, writeLog: () => undefined });
    const result = await done;
    expect(result.messages.accepted).toBe(5);
    expect(Object.keys(result)).not.toContain('system');
    await expectTallied(sink, result);
  });

  it('a run refused at once: `system` is still there, with at most one (short) sample', async () => {
    const out = await ourCli([...ADDR_ARGS, '--sample', '200ms', '--json', '-', '127.0.0.1:1']);
    expect(out.code).toBe(1);
    const result = JSON.parse(out.stdout) as SourceResult;
    expect(result.fatal).toMatch(/^connect: /);
    const rec = result.system!;
    expect(rec.type).toBe('smtpstone-samples');
    // Under 50 ms from the first connect to the end: no sample (a slower refusal gets one).
    expect(rec.samples.length).toBeLessThanOrEqual(1);
    if (rec.samples.length === 0) expect(rec.verdict).toMatchObject({ kind: 'unknown', reasons: ['no samples'] });
    expectSection(out.stderr, rec);
  });
});

describe('smtp-source --sample validation', { timeout: 15_000 }, () => {
  it.each([
    [['--sample', 'soon', '127.0.0.1:1'], 'bad sample interval: soon (--sample'],
    [['--sample', '0', '127.0.0.1:1'], 'bad sample interval: 0 (--sample'],
    [['--sample', '5ms', '127.0.0.1:1'], 'bad sample interval: 5ms (--sample'],
  ])('%j: one line naming --sample, exit 1', async (args, text) => {
    const out = await ourCli(args as string[]);
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(out.stderr).toMatch(/^smtp-source: fatal: /);
    expect(out.stderr).toContain(text);
  });

  it('--help shows --sample [interval]', async () => {
    const out = await ourCli(['--help']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/\n {2}--sample \[interval\] +Sample this host's /);
  });
});
