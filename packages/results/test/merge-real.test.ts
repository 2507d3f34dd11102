// A sharded run for real: three smtp-source processes at once against one of our sinks, merged.
// The merge must add up to what the sink counted, and its percentiles must be those of one
// histogram fed every message's latency, which each source's --journal gives line by line.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSink, type Sink } from '@smtpstone/smtp-sink';
import type { Histogram } from 'hdr-histogram-js';
import { classify, mergeResults, type SourceResultDoc } from '../src/index.js';
import { expectSameTally, sinkTally, waitFor } from '../../smtp-source/test/helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const RESULTS_CLI = join(here, '..', 'dist', 'cli.js');
const SOURCE_CLI = join(here, '..', '..', 'smtp-source', 'dist', 'cli.js');
const require = createRequire(import.meta.url);
const { default: Int32Histogram } = require('hdr-histogram-js/dist/Int32Histogram.js') as typeof import('hdr-histogram-js/dist/Int32Histogram.js');

const SHARDS = 3;
const PER_SHARD = 200;
const dir = mkdtempSync(join(tmpdir(), 'smtpstone-merge-'));
let sink: Sink;
let sinkMessages = 0;
const shards: SourceResultDoc[] = [];
const journals: { status: string; startMs: number; endMs: number }[][] = [];

function exec(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d));
    c.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), 20_000);
    c.on('error', reject);
    c.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  sink = await startSink({ listen: '127.0.0.1:0', writeLog: () => undefined });
  if (sink.address.kind !== 'inet') throw new Error('not an inet sink');
  const target = `127.0.0.1:${sink.address.port}`;
  const runs = await Promise.all(
    Array.from({ length: SHARDS }, (_, i) =>
      exec(process.execPath, [SOURCE_CLI, '-s', '2', '-m', String(PER_SHARD), '--json', join(dir, `shard-${i}.json`), '--journal', join(dir, `shard-${i}.jsonl`), target]),
    ),
  );
  for (const [i, r] of runs.entries()) {
    if (r.code !== 0) throw new Error(`shard ${i} exited ${r.code}: ${r.stderr}`);
    shards.push(JSON.parse(readFileSync(join(dir, `shard-${i}.json`), 'utf8')));
    journals.push(readFileSync(join(dir, `shard-${i}.jsonl`), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l)));
  }
  sinkMessages = sink.stats().messages;
});

afterAll(async () => {
  await sink?.close(0);
  rmSync(dir, { recursive: true, force: true });
});

describe('merge of three concurrent smtp-source shards against one sink', () => {
  it('the built command merges them: counts are the sums and the sink\'s count; the table is smtp-source\'s', async () => {
    const files = shards.map((_, i) => join(dir, `shard-${i}.json`));
    const out = join(dir, 'merged.json');
    const r = await exec(process.execPath, [RESULTS_CLI, 'merge', ...files, '--json', out]);
    expect(r.code).toBe(0);
    const merged = JSON.parse(readFileSync(out, 'utf8')) as SourceResultDoc;
    const sum = (pick: (s: SourceResultDoc) => number): number => shards.reduce((n, s) => n + pick(s), 0);

    expect(merged.messages.accepted).toBe(SHARDS * PER_SHARD);
    expect(merged.messages.accepted).toBe(sinkMessages);
    expect(merged.messages).toEqual({
      started: sum((s) => s.messages.started),
      sent: sum((s) => s.messages.sent),
      accepted: sum((s) => s.messages.accepted),
      rejected: sum((s) => s.messages.rejected),
      failed: sum((s) => s.messages.failed),
    });
    expect(merged.recipients.accepted).toBe(sum((s) => s.recipients.accepted));
    expect(merged.bytes).toBe(sum((s) => s.bytes));
    expect(merged.connections.opened).toBe(sum((s) => s.connections.opened));
    expect(merged.latency.message.count).toBe(sinkMessages);
    expect(merged.merged).toMatchObject({ shards: SHARDS, sources: files.map((file) => ({ file })) });

    expect(r.stdout).toMatch(new RegExp(`^target 127\\.0\\.0\\.1:\\d+: ${SHARDS * PER_SHARD} of ${SHARDS * PER_SHARD} messages accepted in [\\d.]+ s \\(3 shards merged\\)$`, 'm'));
    expect(r.stdout).toContain('  latency (ms)      count      p50      p90      p99    p99.9      max\n');
    expect(r.stdout).toMatch(new RegExp(`^  message +${SHARDS * PER_SHARD} `, 'm'));

    // Issue 7: the merged tally (the clients' side, from their --json) against the sink's own,
    // once the shards' sessions have ended there; and the shards' sum, the same.
    await waitFor('the shards\' sessions to end at the sink', () => sink.stats().active === 0, 5000, () => sink.stats());
    const sinkSide = sinkTally(sink.stats());
    expectSameTally({ messages: merged.messages.accepted, recipients: merged.recipients.accepted, bytes: merged.bytes }, sinkSide);
    expectSameTally({ messages: sum((s) => s.messages.accepted), recipients: sum((s) => s.recipients.accepted), bytes: sum((s) => s.bytes) }, sinkSide);
  });

  it('throughput is recomputed over the union of the shards\' spans', () => {
    const { result } = mergeResults(shards.map((s, i) => ({ name: `shard-${i}.json`, result: classify(s) })));
    const starts = shards.map((s) => Date.parse(s.startedAt));
    const spanMs = Math.max(...shards.map((s, i) => starts[i] + s.elapsedMs)) - Math.min(...starts);
    expect(result.startedAt).toBe(new Date(Math.min(...starts)).toISOString());
    expect(result.elapsedMs).toBeCloseTo(spanMs, 3);
    expect(result.throughput.messagesPerSecond).toBeCloseTo((SHARDS * PER_SHARD * 1000) / spanMs, 2);
    // They ran at once: the union is shorter than the runs end to end, and no shorter than the longest.
    expect(spanMs).toBeLessThan(shards.reduce((n, s) => n + s.elapsedMs, 0));
    expect(spanMs).toBeGreaterThanOrEqual(Math.max(...shards.map((s) => s.elapsedMs)) - 0.001);
  });

  it('the merged message percentiles are those of one histogram fed every journal line (to the histogram\'s 3 digits)', () => {
    const { result } = mergeResults(shards.map((s, i) => ({ name: `shard-${i}.json`, result: classify(s) })));
    const m = result.latency.message;
    // smtp-source records the message phase (MAIL sent to the last end-of-data reply, accepted
    // messages only) as Math.max(1, Math.round(ms * 1000)) µs; its journal has the same two
    // instants, each rounded to the µs on its own, so a line's endMs - startMs may be 1 µs off
    // the recorded value. Bracket it: one histogram of every line's value less 1 µs, one of
    // every value plus 1 µs.
    const lines = journals.flat().filter((l) => l.status === 'accepted');
    expect(lines).toHaveLength(SHARDS * PER_SHARD);
    const micros = lines.map((l) => Math.max(1, Math.round((l.endMs - l.startMs) * 1000)));
    const fed = (shift: number): Histogram => {
      const h = new Int32Histogram(1, 3_600_000_000, 3);
      for (const v of micros) h.recordValue(Math.max(1, v + shift));
      return h;
    };
    const exact = fed(0);
    const low = fed(-1);
    const high = fed(+1);
    expect(m.count).toBe(exact.totalCount);
    for (const [key, p] of [['p50', 50], ['p90', 90], ['p99', 99], ['p999', 99.9]] as const) {
      const merged = Math.round(m[key] * 1000);
      // The merged value is a bucket's top; the bracket's ends are bucket tops too.
      expect(merged, key).toBeGreaterThanOrEqual(low.getValueAtPercentile(p));
      expect(merged, key).toBeLessThanOrEqual(high.getValueAtPercentile(p));
      // ...and it is the single histogram's bucket, or its neighbour when a line's 1 µs of
      // rounding crossed a bucket edge.
      const single = exact.getValueAtPercentile(p);
      expect(Math.abs(merged - single), `${key}: merged ${merged} µs, one histogram ${single} µs`).toBeLessThanOrEqual(
        Math.max(exact.sizeOfEquivalentValueRange(single), exact.sizeOfEquivalentValueRange(merged)),
      );
    }
    // min and max are the shards' own, exact: within the journal's 1 µs of the lines'.
    expect(Math.abs(Math.round(m.max * 1000) - Math.max(...micros))).toBeLessThanOrEqual(1);
    expect(Math.abs(Math.round(m.min * 1000) - Math.min(...micros))).toBeLessThanOrEqual(1);
  });
});
