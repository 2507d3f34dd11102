// Judging on made-up steps: each bound, the knee in every case (found, above and below the
// range, a noisy curve), the generator saturated where it decides and where it does not, the
// --require floor, and the carried-rate estimate the accepted bound rests on.
import { describe, expect, it } from 'vitest';
import { carriedRate, DEFAULT_BOUNDS, findKnee, judgeStep, stepRates } from '../src/index.js';
import { figures, step, sweepOf } from './fixtures.js';

const ladder = (rates: number[], capacity: number, extra: (r: number) => object = () => ({})) => rates.map((rate) => ({ rate, capacity, ...extra(rate) }));

describe('a step against the bounds', () => {
  it('under capacity every bound holds', () => {
    const j = judgeStep(figures({ rate: 200, capacity: 260 }), DEFAULT_BOUNDS);
    expect(j.verdict).toBe('pass');
    expect(j.bounds.map((b) => [b.bound, b.pass])).toEqual([
      ['accepted', true],
      ['p99', true],
      ['generator', true],
    ]);
  });

  it('past capacity the accepted bound and the p99 break, each saying by how much', () => {
    const j = judgeStep(figures({ rate: 300, capacity: 260 }), DEFAULT_BOUNDS);
    expect(j.verdict).toBe('fail');
    const accepted = j.bounds.find((b) => b.bound === 'accepted')!;
    expect(accepted.pass).toBe(false);
    expect(accepted.text).toBe('accepted 260/s of 300/s offered (86.7 %), 5200 of 6000 due messages (86.7 %); want >= 95 %');
    const p99 = j.bounds.find((b) => b.bound === 'p99')!;
    expect(p99).toMatchObject({ pass: false, limit: 1000 });
    expect(p99.text).toMatch(/^corrected p99 3\.\d+ s; want <= 1 s$/);
  });

  it('a p99 over the bound alone fails the step', () => {
    const f = figures({ rate: 100 });
    f.latency.p99 = 1200;
    const j = judgeStep(f, DEFAULT_BOUNDS);
    expect(j.verdict).toBe('fail');
    expect(j.bounds.filter((b) => !b.pass).map((b) => b.bound)).toEqual(['p99']);
  });

  it('a step that ended early fails on "run", naming the reason', () => {
    const f = figures({ rate: 100 });
    f.fatal = 'connect: Connection refused';
    const j = judgeStep(f, DEFAULT_BOUNDS);
    expect(j.verdict).toBe('fail');
    expect(j.bounds[0]).toMatchObject({ bound: 'run', pass: false, text: 'the step ended early: connect: Connection refused' });
  });

  it('with a log: delivery falling behind, or a queue not drained, breaks the delivery bound', () => {
    const base = { injected: 2000, delivered: 2000, bounced: 0, unsettled: 0, lost: 0, injectionPerSecond: 100, deliveryPerSecond: 99, deliveryShare: 0.99, peakBacklog: 40, latency: { count: 2000, p50: 300, p90: 500, p99: 700, max: 900 }, drainMs: 800, drainTimedOut: false, precision: 'ms' as const, records: 12000, matchedRecords: 12000, warnings: [] };
    const ok = judgeStep(figures({ rate: 100, delivery: base }), { ...DEFAULT_BOUNDS, maxDeliveryP99Ms: 1000 });
    expect(ok.verdict).toBe('pass');
    expect(ok.bounds.map((b) => b.bound)).toEqual(['accepted', 'p99', 'delivery', 'delivery_p99', 'generator']);
    const behind = judgeStep(figures({ rate: 100, delivery: { ...base, deliveryPerSecond: 70, deliveryShare: 0.7, peakBacklog: 600 } }), DEFAULT_BOUNDS);
    expect(behind.verdict).toBe('fail');
    expect(behind.bounds.find((b) => b.bound === 'delivery')!.text).toBe('delivered 70/s of 100/s injected (70 %; want >= 95 %); peak backlog 600');
    const stuck = judgeStep(figures({ rate: 100, delivery: { ...base, delivered: 1990, unsettled: 10, lost: 2, drainTimedOut: true } }), DEFAULT_BOUNDS);
    expect(stuck.verdict).toBe('fail');
    expect(stuck.bounds.find((b) => b.bound === 'delivery')!.text).toContain('10 of 2000 accepted messages not delivered when the sweep stopped waiting (2 never in the log)');
    // Too short a span to measure a rate (whole-second stamps), but every message delivered: no failure.
    const unmeasured = judgeStep(figures({ rate: 100, delivery: { ...base, deliveryPerSecond: null, deliveryShare: null } }), DEFAULT_BOUNDS);
    expect(unmeasured.verdict).toBe('pass');
    const slow = judgeStep(figures({ rate: 100, delivery: base }), { ...DEFAULT_BOUNDS, maxDeliveryP99Ms: 500 });
    expect(slow.bounds.filter((b) => !b.pass).map((b) => b.bound)).toEqual(['delivery_p99']);
  });
});

describe('the knee', () => {
  const rates = [50, 100, 150, 200, 250, 300, 350, 400];

  it('is the highest passing rate below the first failure; recommended = knee less headroom', () => {
    const r = sweepOf(ladder(rates.slice(0, 6), 260));
    expect(r.knee).toMatchObject({ status: 'found', kneePerSecond: 250, lowerBoundPerSecond: 250, recommendedPerSecond: 200, trustworthy: true });
    expect(r.knee.firstFailing).toMatchObject({ index: 6, ratePerSecond: 300, verdict: 'fail', broken: ['accepted', 'p99'] });
    expect(r.knee.lines[0]).toBe('knee: 250/s (the highest rate that held every bound)');
    expect(r.knee.lines[1]).toMatch(/^first failing step: 300\/s: accepted 260\/s of 300\/s offered/);
    expect(r.knee.lines[2]).toBe('recommended capacity: 200/s (the knee less 20 % headroom)');
  });

  it('the generator saturated where the step failed: no knee, "not trustworthy", and what the box surely took', () => {
    const r = sweepOf(ladder(rates.slice(0, 6), 260, (rate) => ({ saturated: rate === 300 })), { require: 200 });
    expect(r.steps[5].verdict).toBe('untrusted');
    expect(r.knee).toMatchObject({ status: 'untrusted', kneePerSecond: null, lowerBoundPerSecond: 250, recommendedPerSecond: null, trustworthy: false });
    expect(r.knee.lines[0]).toBe(
      "knee: not trustworthy: smtp-source itself was saturated at 300/s, where the step failed, so the failure may be the load generator's; the box took at least 250/s",
    );
    expect(r.knee.lines[1]).toContain('smtp-source itself was saturated: event-loop delay p99 80 ms > 50 ms');
    expect(r.knee.lines[2]).toMatch(/^recommended capacity: none: run the load from more cores or machines/);
    // The floor is judged on what the box surely took.
    expect(r.knee.require).toMatchObject({ floorPerSecond: 200, pass: true });
    expect(sweepOf(ladder(rates.slice(0, 6), 260, (rate) => ({ saturated: rate === 300 })), { require: 280 }).knee.require!.pass).toBe(false);
  });

  it('the generator saturated on a step that passed: the pass stands, with a note', () => {
    const r = sweepOf(ladder(rates.slice(0, 6), 260, (rate) => ({ saturated: rate === 250 })));
    expect(r.steps[4].verdict).toBe('pass');
    expect(r.knee).toMatchObject({ status: 'found', kneePerSecond: 250 });
    expect(r.knee.notes).toContain('smtp-source was saturated at 250/s but the step passed anyway');
  });

  it('every step passing: not reached, the top rate as a floor', () => {
    const r = sweepOf(ladder(rates, 1000));
    expect(r.knee).toMatchObject({ status: 'not-reached', kneePerSecond: 400, recommendedPerSecond: 320, firstFailing: null });
    expect(r.knee.lines[0]).toBe('knee: not reached: every step held every bound, up to 400/s; the box takes at least that (raise --to)');
    expect(r.knee.lines[1]).toBe('recommended capacity: at least 320/s (400/s less 20 % headroom)');
  });

  it('the lowest step failing: below the range, nothing recommended, --require fails', () => {
    const r = sweepOf(ladder([50, 100], 20), { require: 10 });
    expect(r.knee).toMatchObject({ status: 'below-range', kneePerSecond: null, recommendedPerSecond: null, lowerBoundPerSecond: null });
    expect(r.knee.lines[0]).toBe('knee: below the range: the lowest step, 50/s, already failed (lower --from)');
    expect(r.knee.require).toEqual({ floorPerSecond: 10, pass: false, line: 'FAIL  require 10/s: no step passed' });
  });

  it('a noisy curve: the knee stays below the first failure, and the later pass is noted', () => {
    const steps = ladder([100, 150, 200, 250], 1000);
    steps[1].capacity = 120; // 150/s failed once
    const r = sweepOf(steps);
    expect(r.knee).toMatchObject({ status: 'found', kneePerSecond: 100 });
    expect(r.knee.notes[0]).toMatch(/^noisy curve: 200\/s, 250\/s passed above the failing 150\/s/);
  });

  it('refining steps take their place by rate; a rate that passed once and failed once is not good', () => {
    const r = sweepOf([
      { rate: 100, capacity: 230 },
      { rate: 200, capacity: 230 },
      { rate: 300, capacity: 230 },
      { rate: 250, capacity: 230, kind: 'refine' },
      { rate: 225, capacity: 230, kind: 'refine' },
    ]);
    expect(r.knee).toMatchObject({ status: 'found', kneePerSecond: 225, recommendedPerSecond: 180 });
    expect(r.knee.firstFailing!.ratePerSecond).toBe(250);
    const twice = sweepOf([
      { rate: 100, capacity: 1000 },
      { rate: 200, capacity: 1000 },
      { rate: 200, capacity: 150 },
    ]);
    expect(twice.knee).toMatchObject({ status: 'found', kneePerSecond: 100 });
  });

  it('--require passes at or above the floor, with a PASS line', () => {
    const r = sweepOf(ladder(rates.slice(0, 6), 260), { require: 250 });
    expect(r.knee.require).toEqual({ floorPerSecond: 250, pass: true, line: 'PASS  require 250/s: the knee is 250/s' });
    expect(sweepOf(ladder(rates.slice(0, 6), 260), { require: 251 }).knee.require!.pass).toBe(false);
  });

  it('no step at all: none', () => {
    expect(findKnee([], 0.2)).toMatchObject({ status: 'none', kneePerSecond: null, trustworthy: false });
  });

  it('an interrupted step is not judged', () => {
    const s = step({ rate: 300, capacity: 100 });
    const f = { ...s, interrupted: true, verdict: 'incomplete' as const };
    expect(findKnee([step({ rate: 100 }), f], 0.2)).toMatchObject({ status: 'not-reached', kneePerSecond: 100 });
  });
});

describe('the carried rate', () => {
  const steady = (rate: number, latencyMs: number, T: number): number[] => {
    const out: number[] = [];
    for (let t = 0; t < T; t += 1000 / rate) out.push(t + latencyMs);
    return out;
  };

  it('is the offered rate under capacity, whatever the latency and the step length: never less, at most one reply more', () => {
    for (const [rate, lat, T] of [
      [10, 100, 2000],
      [40, 100, 2500],
      [37, 250, 3000],
      [500, 5, 20_000],
    ]) {
      const replies = steady(rate, lat, T).filter((t) => t <= T);
      const r = carriedRate(replies, T)!;
      expect(r).toBeGreaterThanOrEqual(rate - 1e-9);
      expect(r).toBeLessThanOrEqual((rate * replies.length) / (replies.length - 1));
    }
  });

  it('is what the server carried above capacity, replies past the window left out', () => {
    // 40/s carried, one reply every 25 ms through the 3 s window, then the backlog after it.
    const replies = [...Array.from({ length: 116 }, (_, i) => 101 + i * 25), 3010, 3020, 3030];
    expect(carriedRate(replies, 3000)).toBeCloseTo(40, 0);
    // Four sessions answering together every 100 ms: high by at most the one burst.
    const bursts = Array.from({ length: 29 }, (_, k) => [0, 1, 2, 3].map(() => 101 + k * 100)).flat();
    const r = carriedRate(bursts, 3000)!;
    expect(r).toBeGreaterThanOrEqual(40);
    expect(r).toBeLessThanOrEqual(40 * (1 + 4 / bursts.length) + 0.1);
  });

  it('a server that stops answering before the end reads low', () => {
    const replies = steady(100, 10, 1000); // one second of 100/s, then nothing for two
    expect(carriedRate(replies, 3000)!).toBeLessThan(40);
  });

  it('needs two replies', () => {
    expect(carriedRate([5], 1000)).toBeNull();
    expect(carriedRate([], 1000)).toBeNull();
  });
});

describe('stepRates', () => {
  it('linear and geometric, both ends included, 3 significant digits', () => {
    expect(stepRates(10, 80, 8, 'linear')).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
    expect(stepRates(10, 500, 8, 'linear')).toEqual([10, 80, 150, 220, 290, 360, 430, 500]);
    expect(stepRates(10, 1000, 5, 'geometric')).toEqual([10, 31.6, 100, 316, 1000]);
    expect(stepRates(5, 5, 4, 'linear')).toEqual([5]);
    expect(() => stepRates(10, 5, 3, 'linear')).toThrow(RangeError);
  });
});
