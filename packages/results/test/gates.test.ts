// Gates: how they are written, what they mean, and how they judge real results (a smtp-source run
// against our sink with --sample, one whose every RCPT was refused, and a report on a Postfix log).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { classify, evaluateGate, judge, metricValue, parseGate, prepareJudge, type ResultDoc } from '../src/index.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const load = (name: string): ResultDoc => classify(JSON.parse(readFileSync(join(fixtures, name), 'utf8')), name);
const ok = load('source-ok.json'); // 200 of 200 accepted, message p99 5.847 ms, 545.542 msg/s, cpu-bound
const refused = load('source-rejected.json'); // 20 started, every RCPT refused with 500
const report = load('report.json'); // 2 delivered (1.9 s and 3.9 s), none lost, no samples

describe('gate syntax', () => {
  it.each([
    ['p99<200ms', { metric: 'p99', op: '<', limit: 200, show: 'ms' }],
    ['p99 <= 1.5s', { metric: 'p99', op: '<=', limit: 1500, show: 's' }],
    ['connect_p99<2.5ms', { metric: 'connect_p99', op: '<', limit: 2.5 }],
    ['delivery_p99<5s', { metric: 'delivery_p99', op: '<', limit: 5000 }],
    ['delivery_max<2m', { metric: 'delivery_max', op: '<', limit: 120_000, show: 'm' }],
    ['throughput>=3000/s', { metric: 'throughput', op: '>=', limit: 3000, show: '/s' }],
    ['throughput >= 3000 msg/s', { metric: 'throughput', op: '>=', limit: 3000 }],
    ['throughput>180000/m', { metric: 'throughput', op: '>', limit: 3000, show: '/m' }],
    ['throughput>500', { metric: 'throughput', op: '>', limit: 500 }],
    ['errors<0.1%', { metric: 'errors', op: '<', limit: 0.001, show: '%' }],
    ['errors=0', { metric: 'errors', op: '=', limit: 0 }],
    ['lost=0', { metric: 'lost', op: '=', limit: 0 }],
    ['accepted==200', { metric: 'accepted', op: '=', limit: 200 }],
    ['deferred!=3', { metric: 'deferred', op: '!=', limit: 3 }],
    ['P99<200ms', { metric: 'p99', op: '<', limit: 200 }],
    ['not disk-bound', { metric: 'verdict', op: '!=', limit: 'disk-bound' }],
    ['NOT CPU-bound', { metric: 'verdict', op: '!=', limit: 'cpu-bound' }],
    ['verdict=not-saturated', { metric: 'verdict', op: '=', limit: 'not-saturated' }],
    ['elapsed<1.1s', { metric: 'elapsed', op: '<', limit: 1100 }],
  ])('%s', (text, expected) => {
    expect(parseGate(text)).toMatchObject({ text: text.trim(), ...expected });
  });

  it.each([
    ['', "bad gate: '' (--gate: empty"],
    ['p99', 'bad gate: p99 (--gate: want METRIC OP VALUE with OP one of < <= > >= = !='],
    ['p99<<200ms', 'bad gate: p99<<200ms (--gate: one operator, then the value)'],
    ['p99=>200ms', 'bad gate: p99=>200ms (--gate: one operator, then the value)'],
    ['p99<', 'bad gate: p99< (--gate: no value after <)'],
    ['p98<200ms', 'bad gate: p98<200ms (--gate: unknown metric p98; metrics: p50, p90'],
    ['p99<200', 'bad gate: p99<200 (--gate: p99 is a duration; give ms, s, m or h'],
    ['p99<200/s', 'bad gate: p99<200/s (--gate: p99 is a duration'],
    ['p99<-5ms', 'bad gate: p99<-5ms (--gate: p99 is a duration'],
    ['throughput>=fast', 'bad gate: throughput>=fast (--gate: throughput is a rate; give messages per second'],
    ['errors<0.1', 'bad gate: errors<0.1 (--gate: errors is a share; give a percentage, e.g. 0.1%)'],
    ['lost<1%', 'bad gate: lost<1% (--gate: lost is a count; give a number'],
    ['not slow', 'bad gate: not slow (--gate: "not" takes a verdict: disk-bound, cpu-bound, not-saturated, unknown)'],
    ['verdict<cpu-bound', 'bad gate: verdict<cpu-bound (--gate: verdict is a word: use = or !=)'],
    ['verdict=sleepy', 'bad gate: verdict=sleepy (--gate: verdict is one of disk-bound'],
  ])('%j is refused in one line naming --gate', (text, message) => {
    let error: Error | undefined;
    try {
      parseGate(text);
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).toContain(message);
    expect(error?.message).not.toContain('\n');
  });
});

describe('gate evaluation on real results', () => {
  it.each([
    [ok, 'p99<200ms', true, 'gate p99<200ms passed: p99 was 5.85 ms'],
    [ok, 'p99<5ms', false, 'gate p99<5ms failed: p99 was 5.85 ms'],
    [ok, 'p99<=5.847ms', true, 'gate p99<=5.847ms passed: p99 was 5.85 ms'],
    [ok, 'p99<0.1s', true, 'gate p99<0.1s passed: p99 was 0.01 s'],
    [ok, 'throughput>=3000/s', false, 'gate throughput>=3000/s failed: throughput was 545.5 msg/s'],
    [ok, 'throughput>=500/s', true, 'gate throughput>=500/s passed: throughput was 545.5 msg/s'],
    [ok, 'throughput>=30000/m', true, 'gate throughput>=30000/m passed: throughput was 32732.5 msg/min'],
    [ok, 'errors<0.1%', true, 'gate errors<0.1% passed: errors was 0 %'],
    [ok, 'accepted=200', true, 'gate accepted=200 passed: accepted was 200'],
    [ok, 'not disk-bound', true, 'gate not disk-bound passed: the verdict was cpu-bound'],
    [ok, 'not cpu-bound', false, 'gate not cpu-bound failed: the verdict was cpu-bound'],
    [refused, 'errors<0.1%', false, 'gate errors<0.1% failed: errors was 100 %'],
    [refused, 'rejected=0', false, 'gate rejected=0 failed: rejected was 20'],
    [report, 'delivery_p99<5s', true, 'gate delivery_p99<5s passed: delivery_p99 was 3.90 s'],
    [report, 'delivery_p50<1s', false, 'gate delivery_p50<1s failed: delivery_p50 was 1.90 s'],
    [report, 'lost=0', true, 'gate lost=0 passed: lost was 0'],
    [report, 'errors<0.1%', true, 'gate errors<0.1% passed: errors was 0 %'],
    [report, 'throughput>=0.4/s', true, 'gate throughput>=0.4/s passed: throughput was 0.5 msg/s'],
  ])('%#: %s', (result, text, pass, reason) => {
    const g = evaluateGate(result as ResultDoc, parseGate(text as string));
    expect(g.pass).toBe(pass);
    expect(g.reason).toBe(reason);
  });

  it.each([
    [ok, 'delivery_p99<5s', 'gate delivery_p99<5s failed: delivery_p99 is missing (a smtp-source result does not have it; delivery latency is in smtpstone-report --json)'],
    [report, 'p99<200ms', 'gate p99<200ms failed: p99 is missing (a smtpstone-report report does not have it; a report has delivery_p50, delivery_p99, ...)'],
    [report, 'not disk-bound', 'gate not disk-bound failed: verdict is missing (no samples in this result; run smtpstone-report with --samples)'],
    [report, 'injection_rate>1/s', 'gate injection_rate>1/s failed: injection_rate is missing (fewer than two messages were injected, so there is no injection rate)'],
    [refused, 'p99<200ms', 'gate p99<200ms failed: p99 is missing (no message was accepted, so no message latency was recorded)'],
    [refused, 'not disk-bound', 'gate not disk-bound failed: verdict is missing (no samples in this result; run smtp-source with --sample)'],
    [ok, 'corrected_p99<10ms', 'gate corrected_p99<10ms failed: corrected_p99 is missing (only open-model runs (--rate, --ramp, --stages) have a corrected latency)'],
  ])('a metric the result lacks fails its gate, saying why: %#', (result, text, reason) => {
    const g = evaluateGate(result as ResultDoc, parseGate(text as string));
    expect(g).toMatchObject({ pass: false, actual: null, reason });
  });

  it('an unknown verdict fails "not disk-bound": it is not evidence of anything', () => {
    const doc = JSON.parse(readFileSync(join(fixtures, 'source-ok.json'), 'utf8'));
    doc.system.verdict.kind = 'unknown';
    const unknown = classify(doc);
    expect(evaluateGate(unknown, parseGate('not disk-bound'))).toMatchObject({ pass: false, reason: expect.stringContaining('the verdict was unknown') });
    expect(evaluateGate(unknown, parseGate('verdict=unknown')).pass).toBe(true);
  });

  it('errors counts rejected and failed messages against those started', () => {
    expect(metricValue(refused, 'errors')).toEqual({ value: 1 });
    expect(metricValue(ok, 'errors')).toEqual({ value: 0 });
  });
});

describe('judge()', () => {
  it('passes with exit code 0 when every gate passes, one PASS line each and a summary', () => {
    const j = judge(ok.doc, { gates: ['p99<200ms', 'throughput>=500/s', 'errors<0.1%', 'not disk-bound'] });
    expect(j).toMatchObject({ pass: true, exitCode: 0 });
    expect(j.lines).toEqual([
      'PASS  gate p99<200ms: p99 was 5.85 ms',
      'PASS  gate throughput>=500/s: throughput was 545.5 msg/s',
      'PASS  gate errors<0.1%: errors was 0 %',
      'PASS  gate not disk-bound: the verdict was cpu-bound',
      'PASS: 4 gates passed',
    ]);
  });

  it('fails with exit code 3, naming each failed gate', () => {
    const j = judge(ok.doc, { gates: ['p99<200ms', 'throughput>=3000/s', 'delivery_p99<5s'] });
    expect(j).toMatchObject({ pass: false, exitCode: 3 });
    expect(j.gates.filter((g) => !g.pass).map((g) => g.reason)).toEqual([
      'gate throughput>=3000/s failed: throughput was 545.5 msg/s',
      expect.stringMatching(/^gate delivery_p99<5s failed: delivery_p99 is missing/),
    ]);
    expect(j.lines.at(-1)).toBe('FAIL: 2 of 3 gates failed');
  });

  it('prepareJudge() with the kind a tool makes refuses gates that kind never has, before any run', () => {
    expect(() => prepareJudge({ gates: ['delivery_p99<5s'] }, 'source')).toThrow(
      'bad gate: delivery_p99<5s (--gate: delivery_p99 is never in a smtp-source result; delivery latency is in smtpstone-report --json)',
    );
    expect(() => prepareJudge({ gates: ['p99<1s'] }, 'report')).toThrow('p99 is never in a smtpstone-report report; a report has delivery_p50');
    expect(() => prepareJudge({ maxRegression: ['10%'] })).toThrow('--max-regression needs --baseline');
    expect(prepareJudge({ gates: ['p99<1s', 'not disk-bound'] }, 'source').gates).toHaveLength(2);
  });
});
