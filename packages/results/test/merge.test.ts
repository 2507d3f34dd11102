// Merging real results: what is summed, what is refused, what is only warned about.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { classify, mergeResults, SOURCE_PHASES, type SourceResultDoc } from '../src/index.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const raw = (name: string) => JSON.parse(readFileSync(join(fixtures, name), 'utf8'));
const input = (name: string, doc: unknown = raw(name)) => ({ name, result: classify(doc, name) });

describe('mergeResults', () => {
  it('one result merged alone keeps its numbers and its histograms byte for byte', () => {
    const doc = raw('source-ok.json') as SourceResultDoc;
    const { result, warnings } = mergeResults([input('source-ok.json', doc)]);
    expect(warnings).toEqual([]);
    for (const phase of SOURCE_PHASES) {
      // The fixture predates the tls and auth phases: absent in, absent out.
      if (doc.latency[phase] === undefined) {
        expect(result.latency[phase], phase).toBeUndefined();
        continue;
      }
      const { encoded, ...numbers } = doc.latency[phase];
      expect(result.latency[phase], phase).toEqual({ ...numbers, encoded });
    }
    expect(result.throughput).toEqual(doc.throughput);
    expect(result.elapsedMs).toBe(doc.elapsedMs);
    expect(result.system).toEqual(doc.system);
  });

  it('shards against other targets are merged with a warning; unexpected replies are summed by stage and code', () => {
    const { result, warnings } = mergeResults([input('source-ok.json'), input('source-rejected.json'), input('again.json', raw('source-rejected.json'))]);
    expect(warnings[0]).toMatch(/^the shards ran against different targets: 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+$/);
    expect(warnings).toContain('the shards differ in allowReject: false in source-ok.json; true in source-rejected.json, again.json');
    expect(result.rejects).toEqual({ rcpt: { '500': 40 } });
    expect(result.messages).toEqual({ started: 240, sent: 200, accepted: 200, rejected: 40, failed: 0 });
    expect(result.latency.rcpt.count).toBe(240);
    expect(result.latency.rset.count).toBe(40);
    // Only one shard sampled its box: its record is kept.
    expect(result.system?.verdict.kind).toBe('cpu-bound');
  });

  it('merging merges is the same as merging the shards at once', () => {
    const a = input('a.json', raw('source-ok.json'));
    const b = input('b.json', raw('source-rejected.json'));
    const c = input('c.json', raw('source-ok.json'));
    const flat = mergeResults([a, b, c]).result;
    const ab = mergeResults([a, b]).result;
    const nested = mergeResults([input('ab.json', ab), c]).result;
    expect(nested.latency).toEqual(flat.latency);
    expect(nested.messages).toEqual(flat.messages);
    expect(nested.merged?.sources.map((s) => s.file)).toEqual(['a.json', 'b.json', 'c.json']);
  });

  it('refuses a report, and a histogram it cannot decode', () => {
    expect(() => mergeResults([input('source-ok.json'), input('report.json')])).toThrow('report.json is a smtpstone-report report; merge takes smtp-source --json results only');
    const broken = raw('source-ok.json');
    broken.latency.dot.encoded = 'bm90IGEgaGlzdG9ncmFt';
    expect(() => mergeResults([input('source-ok.json'), input('broken.json', broken)])).toThrow(/^broken\.json: the dot phase's histogram cannot be decoded/);
  });
});
