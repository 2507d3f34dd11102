// The flags that make smtp-source one part of a bigger test: --shard (a copy's share and its
// own message numbers), --start-at (copies start together), --gate/--baseline (CI exit codes,
// judged by @smtpstone/results) and --metrics-port (Prometheus during the run). Our sink runs
// in-process on a loopback port; the CLI is the built one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyShard, parseShard, type SourceOptionsInput, type SourceResult } from '../src/index.js';
import { expectSameTally, ourCli, portOf, resources, settled, sinkTally, sourceTally, type Tally, type TestSink } from './helpers.js';

/** Issue 7: the runs' tallies (from their --json) added up against our sink's, once it has seen every connection end. */
async function expectTallied(sink: TestSink, results: SourceResult[]): Promise<void> {
  const sum = results.map(sourceTally).reduce((a: Tally, b) => ({ messages: a.messages + b.messages, recipients: a.recipients + b.recipients, bytes: a.bytes + b.bytes }), { messages: 0, recipients: 0, bytes: 0 });
  const s = await settled(sink, results.reduce((n, x) => n + x.connections.opened, 0));
  expectSameTally(sum, sinkTally(s));
}

const json = (path: string): SourceResult => JSON.parse(readFileSync(path, 'utf8')) as SourceResult;

const r = resources();
const ADDR = ['-f', 'sender@example.com', '-t', 'rcpt@example.com', '-M', 'client.example'];

describe('--shard', () => {
  it('splits -m as evenly as whole messages allow, numbers each copy on from the ones before, and divides the rate', () => {
    const base: SourceOptionsInput = { target: 'x', messages: 10, rate: { perSecond: 90 } };
    const parts = [0, 1, 2].map((i) => applyShard(base, { index: i, count: 3 }));
    expect(parts.map((p) => p.messages)).toEqual([4, 3, 3]);
    expect(parts.map((p) => p.shard!.firstSeq)).toEqual([1, 5, 8]);
    expect(parts.map((p) => p.rate!.perSecond)).toEqual([30, 30, 30]);
    expect(parseShard('3/4')).toEqual({ index: 3, count: 4 });
    for (const bad of ['4/4', '1', '-1/2', '0/0', 'a/b']) expect(() => parseShard(bad)).toThrow(RangeError);
  });

  it('three copies against one sink: every message once, journal numbers 1..N without overlap', async () => {
    const sink = await r.sink();
    const dir = r.dir();
    const runs = await Promise.all(
      [0, 1, 2].map((i) =>
        ourCli([...ADDR, '-d', '-s', '2', '-m', '50', '--shard', `${i}/3`, '--json', join(dir, `r${i}.json`), '--journal', join(dir, `j${i}.jsonl`), `127.0.0.1:${portOf(sink)}`]),
      ),
    );
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const results = [0, 1, 2].map((i) => JSON.parse(readFileSync(join(dir, `r${i}.json`), 'utf8')));
    expect(results.map((x) => x.messages.accepted)).toEqual([17, 17, 16]);
    expect(results.map((x) => x.options.shard)).toEqual([
      { index: 0, count: 3, firstSeq: 1 },
      { index: 1, count: 3, firstSeq: 18 },
      { index: 2, count: 3, firstSeq: 35 },
    ]);
    const seqs = [0, 1, 2]
      .flatMap((i) => readFileSync(join(dir, `j${i}.jsonl`), 'utf8').trim().split('\n'))
      .map((l) => JSON.parse(l).seq as number)
      .sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, k) => k + 1));
    expect(sink.stats().messages).toBe(50);
    await expectTallied(sink, results);
  });

  it('a bad --shard or --start-at is one line naming the flag', async () => {
    for (const [args, text] of [
      [['--shard', '3/3'], '--shard'],
      [['--shard', 'x'], '--shard'],
      [['--start-at', 'soon'], '--start-at'],
    ] as [string[], string][]) {
      const run = await ourCli([...args, '127.0.0.1:9']);
      expect(run.code).toBe(1);
      expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(run.stderr).toContain(text);
    }
  });
});

describe('--start-at', () => {
  it('waits for the given time before the first connect', async () => {
    const sink = await r.sink();
    const at = Date.now() + 1500;
    const run = await ourCli([...ADDR, '-m', '1', '--start-at', new Date(at).toISOString(), '--json', '-', `127.0.0.1:${portOf(sink)}`]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(Date.parse(result.startedAt)).toBeGreaterThanOrEqual(at - 20);
    await expectTallied(sink, [result]);
  });

  it('starts at once, with a warning, when the time is long past', async () => {
    const sink = await r.sink();
    const out = join(r.dir(), 'r.json');
    const run = await ourCli([...ADDR, '-m', '1', '--start-at', String(Math.floor(Date.now() / 1000) - 60), '--json', out, `127.0.0.1:${portOf(sink)}`]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/warning: --start-at \S+ was 6\d\.\d s ago: starting now/);
    await expectTallied(sink, [json(out)]);
  });
});

describe('--gate and --baseline', () => {
  it('exit 0 when every gate passes, 3 with a reason line when one fails', async () => {
    const sink = await r.sink();
    const target = `127.0.0.1:${portOf(sink)}`;
    const dir = r.dir();
    const pass = await ourCli([...ADDR, '-d', '-m', '20', '--gate', 'errors<1%', '--gate', 'accepted>=20', '--json', join(dir, 'pass.json'), target]);
    expect(pass.code, pass.stderr).toBe(0);
    expect(pass.stderr).toMatch(/PASS.*errors<1%/);
    const fail = await ourCli([...ADDR, '-d', '-m', '20', '--gate', 'throughput>=10000000/s', '--json', join(dir, 'fail.json'), target]);
    expect(fail.code).toBe(3);
    expect(fail.stderr).toMatch(/FAIL.*throughput>=10000000\/s/);
    await expectTallied(sink, [json(join(dir, 'pass.json')), json(join(dir, 'fail.json'))]);
  });

  it('a regression against a baseline fails with exit 3; a bad gate is refused before the run', async () => {
    const sink = await r.sink();
    const target = `127.0.0.1:${portOf(sink)}`;
    const dir = r.dir();
    const baseline = join(dir, 'baseline.json');
    expect((await ourCli([...ADDR, '-d', '-m', '20', '--json', baseline, target])).code).toBe(0);
    // Every RCPT refused now: errors go from 0 to all.
    const refusing = await r.sink({ hardReject: ['rcpt'] });
    const worse = await ourCli([...ADDR, '-A', '-d', '-m', '20', '--baseline', baseline, '--json', join(dir, 'worse.json'), `127.0.0.1:${portOf(refusing)}`]);
    expect(worse.code).toBe(3);
    expect(worse.stderr).toMatch(/FAIL.*errors/);
    const bad = await ourCli([...ADDR, '--gate', 'p99<<1ms', target]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('--gate');
    expect(sink.stats().messages).toBe(20);
    await expectTallied(sink, [json(baseline)]);
    await expectTallied(refusing, [json(join(dir, 'worse.json'))]);
  });
});

describe('--metrics-port', () => {
  it('serves the run\'s counters while it runs and says where for port 0', async () => {
    // A DATA delay far longer than the scrape can take: the first message is still the only one.
    const sink = await r.sink({ delays: [{ command: 'data', seconds: 5 }] });
    const { spawn } = await import('node:child_process');
    const { SOURCE_CLI } = await import('./helpers.js');
    const child = spawn(process.execPath, [SOURCE_CLI, ...ADDR, '-m', '3', '--metrics-port', '127.0.0.1:0', `127.0.0.1:${portOf(sink)}`]);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const deadline = Date.now() + 5000;
      while (!/metrics at (http:\S+)/.test(err) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      const url = /metrics at (http:\S+)/.exec(err)?.[1];
      expect(url, err).toBeDefined();
      const text = await (await fetch(url!)).text();
      expect(text).toMatch(/^smtpsource_messages_started_total 1$/m);
      expect(text).toMatch(/^smtpsource_sessions_active 1$/m);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
