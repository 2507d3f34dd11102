// Baselines: a real run compared with itself and with copies made worse or better by known
// amounts, so each regression's size is known exactly.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { classify, compareWithBaseline, judge, parseMaxRegression, prepareJudge, type ResultDoc, type SourceResultDoc } from '../src/index.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const raw = (name: string) => JSON.parse(readFileSync(join(fixtures, name), 'utf8'));
const ok = classify(raw('source-ok.json')); // 545.542 msg/s, message p50 1.412 ms, p99 5.847 ms, no errors
const report = classify(raw('report.json'));

/** The real run with some numbers scaled. */
function altered(change: (r: SourceResultDoc) => void): ResultDoc {
  const doc = raw('source-ok.json') as SourceResultDoc;
  change(doc);
  return classify(doc);
}

describe('baseline comparison', () => {
  it('a run against itself: every default metric compared, no change, pass', () => {
    const c = compareWithBaseline(ok, ok, { name: 'prev.json' });
    expect(c.pass).toBe(true);
    expect(c.rows.map((r) => [r.metric, r.better, r.changePct, r.pass])).toEqual([
      ['throughput', 'higher', 0, true],
      ['p50', 'lower', 0, true],
      ['p99', 'lower', 0, true],
      ['errors', 'lower', 0, true],
    ]);
    expect(c.warnings).toEqual([]);
  });

  it('throughput down 15 % fails at 10 %, passes at 20 %; up 15 % is never a regression', () => {
    const slower = altered((r) => (r.throughput.messagesPerSecond *= 0.85));
    const c = compareWithBaseline(slower, ok, { name: 'prev.json', maxRegression: parseMaxRegression(['10%']) });
    const row = c.rows.find((r) => r.metric === 'throughput')!;
    expect(row).toMatchObject({ pass: false, baseline: 545.542, allowedPct: 10 });
    expect(row.changePct).toBeCloseTo(-15, 9);
    expect(row.reason).toBe('regression in throughput: 545.5 msg/s -> 463.7 msg/s (-15.0 %; allowed -10 %)');
    expect(c.pass).toBe(false);
    expect(compareWithBaseline(slower, ok, { maxRegression: parseMaxRegression(['20%']) }).pass).toBe(true);
    expect(compareWithBaseline(ok, slower, { maxRegression: parseMaxRegression(['1%']) }).pass).toBe(true);
  });

  it('p99 up 25 % fails at 10 %, passes with a per-metric override p99=30 %; p50 down is an improvement', () => {
    const tail = altered((r) => {
      r.latency.message.p99 *= 1.25;
      r.latency.message.p50 *= 0.5;
    });
    const strict = compareWithBaseline(tail, ok, { maxRegression: parseMaxRegression(['10%']) });
    expect(strict.rows.filter((r) => !r.pass).map((r) => r.metric)).toEqual(['p99']);
    expect(strict.rows.find((r) => r.metric === 'p99')!.reason).toBe('regression in p99: 5.85 ms -> 7.31 ms (+25.0 %; allowed +10 %)');
    const lenient = compareWithBaseline(tail, ok, { maxRegression: parseMaxRegression(['10%', 'p99=30%']) });
    expect(lenient.pass).toBe(true);
    expect(lenient.rows.find((r) => r.metric === 'p99')!.allowedPct).toBe(30);
  });

  it('errors from none to some is an infinite regression; from some to none an improvement', () => {
    const failing = altered((r) => {
      r.messages.failed = 1;
      r.messages.accepted -= 1;
    });
    const up = compareWithBaseline(failing, ok).rows.find((r) => r.metric === 'errors')!;
    expect(up).toMatchObject({ pass: false, changePct: Infinity, reason: 'regression in errors: 0 % -> 0.5 % (+inf %; allowed +10 %)' });
    expect(compareWithBaseline(ok, failing).rows.find((r) => r.metric === 'errors')!).toMatchObject({ pass: true, changePct: -100 });
  });

  it('--metric chooses the metrics; a tolerance for a metric adds it', () => {
    const c = compareWithBaseline(ok, ok, { metrics: ['connect_p99', 'accepted'], maxRegression: parseMaxRegression(['p999=5%']) });
    expect(c.rows.map((r) => r.metric)).toEqual(['connect_p99', 'accepted', 'p999']);
  });

  it('a metric the run lacks fails; one only the baseline lacks is not compared', () => {
    const refused = classify(raw('source-rejected.json')); // no message accepted: no message latency
    const lacking = compareWithBaseline(refused, ok, { metrics: ['p99'] });
    expect(lacking.rows[0]).toMatchObject({ pass: false, current: null, reason: 'p99 is missing from the result (no message was accepted, so no message latency was recorded)' });
    const baselineLacks = compareWithBaseline(ok, refused, { metrics: ['p99'] });
    expect(baselineLacks.rows[0]).toMatchObject({ pass: true, baseline: null, reason: expect.stringMatching(/^p99 not compared: the baseline has none/) });
  });

  it('a report compares its own metrics (delivery latency, delivery rate)', () => {
    expect(compareWithBaseline(report, report).rows.map((r) => r.metric)).toEqual(['throughput', 'delivery_p50', 'delivery_p99', 'errors']);
  });

  it('a baseline of the other kind is a clear error', () => {
    expect(() => compareWithBaseline(ok, report, { name: 'nightly.json' })).toThrow(
      'nightly.json is a smtpstone-report report, but the result is a smtp-source result; a baseline must be of the same kind',
    );
    expect(() => prepareJudge({ baseline: join(fixtures, 'report.json') }, 'source')).toThrow(/report\.json is a smtpstone-report report, but this run makes a smtp-source result.*\(--baseline\)$/);
  });

  it('runs with other settings or targets are compared, with a warning', () => {
    const other = altered((r) => {
      r.options.length = 10240;
      r.target = '10.0.0.1:25';
    });
    expect(compareWithBaseline(other, ok, { name: 'prev.json' }).warnings).toEqual([
      'prev.json ran with other settings: length 0 -> 10240',
      'prev.json ran against ' + (ok.doc as SourceResultDoc).target + ', this run against 10.0.0.1:25',
    ]);
  });

  it('tolerances and metrics are checked, one line naming the flag', () => {
    expect(() => parseMaxRegression(['ten'])).toThrow('bad regression tolerance: ten (--max-regression want a percentage, e.g. 10%, or METRIC=N% such as p99=20%)');
    expect(() => parseMaxRegression(['10%', '20%'])).toThrow('--max-regression gives the tolerance for every metric twice');
    expect(() => parseMaxRegression(['p98=10%'])).toThrow('unknown metric: p98 (--max-regression');
    expect(() => parseMaxRegression(['verdict=10%'])).toThrow("verdict has no better or worse, so it cannot regress (--max-regression); use a gate such as --gate 'not disk-bound'");
    expect(parseMaxRegression(['5%,p99=20%', 'throughput=2.5%'])).toEqual({ defaultPct: 5, perMetric: { p99: 20, throughput: 2.5 } });
  });

  it('judge() puts gates and baseline together: a regression alone fails with exit code 3', () => {
    const slower = altered((r) => (r.throughput.messagesPerSecond *= 0.5));
    const j = judge(slower, { gates: ['p99<200ms'], baseline: ok, baselineName: 'prev.json', maxRegression: '10%' });
    expect(j).toMatchObject({ pass: false, exitCode: 3 });
    expect(j.lines).toEqual([
      'PASS  gate p99<200ms: p99 was 5.85 ms',
      'FAIL  baseline regression in throughput: 545.5 msg/s -> 272.8 msg/s (-50.0 %; allowed -10 %)',
      'PASS  baseline p50: 1.41 ms -> 1.41 ms (0 %; allowed +10 %)',
      'PASS  baseline p99: 5.85 ms -> 5.85 ms (0 %; allowed +10 %)',
      'PASS  baseline errors: 0 % -> 0 % (0 %; allowed +10 %)',
      'FAIL: 1 gate passed; 1 of 4 metrics regressed against prev.json',
    ]);
  });
});
