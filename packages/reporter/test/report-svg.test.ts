// The chart primitives (formatting, nice ticks, the nines axis, paths) and the HTML page built
// from them, as strings: charts present and well formed, every model text escaped, missing
// parts explained. report-html-chromium.test.ts renders the same pages in a browser.
import { describe, expect, it } from 'vitest';
import { makeSystemRecord } from '../../sampler/src/index.js';
import { renderHtml } from '../src/report/html.js';
import { headline, missingText } from '../src/report/markdown.js';
import {
  areaPath,
  bandPath,
  downsample,
  durationAxis,
  elapsedAxis,
  escapeXml,
  formatClock,
  formatCount,
  formatDuration,
  formatNumber,
  formatSeconds,
  legend,
  linearScale,
  linePath,
  niceStep,
  niceTicks,
  ninesAxis,
  ninesLabel,
  ninesOf,
  stackLayers,
  svgChart,
  trimFixed,
} from '../src/report/svg.js';
import { diskBoundModel, emptyModel, healthyModel, HOSTILE } from './report-model-fixture.js';

describe('formatting', () => {
  it('escapes the five characters that matter in HTML text and attributes', () => {
    expect(escapeXml(`<a href="x" title='y'>&amp;</a>`)).toBe('&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;amp;&#60;/a&#62;');
  });

  it('trims fixed-point numbers and shows about three significant digits, never exponents', () => {
    expect(trimFixed(4.2, 2)).toBe('4.2');
    expect(trimFixed(3, 2)).toBe('3');
    expect(trimFixed(-0.0001, 2)).toBe('0');
    expect(['0.0421', '4.21', '42.1', '421', '42100', '0', '-0.5', '–'])
      .toEqual([0.04214, 4.214, 42.14, 421.4, 42100, 0, -0.5, NaN].map(formatNumber));
    expect(formatNumber(0.0000001)).toBe('0');
    expect(formatCount(1234567)).toBe('1\u2009234\u2009567');
  });

  it('picks the unit that reads best, moving up when rounding reaches the next one', () => {
    expect([0, 0.42, 4.25, 850, 999.7, 4200, 42_500, 59_990, 125_000, 12_600_000, 3 * 86_400_000].map(formatDuration)).toEqual([
      '0 s', '0.42 ms', '4.25 ms', '850 ms', '1 s', '4.2 s', '42.5 s', '1 min', '2.08 min', '3.5 h', '3 d',
    ]);
    expect(formatSeconds(0.35)).toBe('350 ms');
    expect(formatDuration(Infinity)).toBe('–');
  });

  it('shows elapsed time as a clock', () => {
    expect([0, 5000, 750_000, 3_723_000].map((ms) => formatClock(ms))).toEqual(['0:00', '0:05', '12:30', '1:02:03']);
    expect(formatClock(65_000, true)).toBe('0:01:05');
  });
});

describe('nice ticks', () => {
  it('steps are 1, 2 or 5 times a power of ten, never below the rough step (float noise aside)', () => {
    expect([0.84, 9.4, 1.5, 3, 0.03, 2, 7, 2000.01, 2000.0000001].map(niceStep)).toEqual([1, 10, 2, 5, 0.05, 2, 10, 5000, 2000]);
    expect(niceStep(0)).toBe(1);
    expect(niceStep(NaN)).toBe(1);
  });

  it('cover the range with round numbers and widen it to whole steps', () => {
    expect(niceTicks(0, 47)).toEqual({ min: 0, max: 50, step: 10, values: [0, 10, 20, 30, 40, 50] });
    expect(niceTicks(0, 4.2).values).toEqual([0, 1, 2, 3, 4, 5]);
    expect(niceTicks(0, 7264, 2).values).toEqual([0, 5000, 10000]);
    expect(niceTicks(-3, 7).values).toEqual([-4, -2, 0, 2, 4, 6, 8]);
    expect(niceTicks(7, -3).values).toEqual([-4, -2, 0, 2, 4, 6, 8]);
  });

  it('print decimal steps without float noise', () => {
    expect(niceTicks(0, 0.3, 3).values).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(0, 0.7, 7).values).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
    expect(niceTicks(0.1, 0.35, 5).values).toEqual([0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
  });

  it('widen a flat or empty range to include zero', () => {
    expect(niceTicks(0, 0).values).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(5, 5)).toMatchObject({ min: 0, max: 5 });
    expect(niceTicks(-5, -5)).toMatchObject({ min: -5, max: 0 });
    expect(niceTicks(NaN, 3).values).toEqual([0, 1]);
  });

  it('hold for any range: covering, at most `count` intervals, evenly spaced', () => {
    for (let i = 1; i < 2000; i++) {
      const max = (i * 7.31) ** 1.7 / 1000;
      const t = niceTicks(0, max, 5);
      expect(t.min).toBe(0);
      expect(t.max).toBeGreaterThanOrEqual(max - 1e-12);
      expect(t.values.length - 1).toBeLessThanOrEqual(5);
      expect(t.values.length - 1).toBeGreaterThanOrEqual(2);
      expect(t.values[t.values.length - 1]).toBe(t.max);
      const mantissa = t.step / 10 ** Math.floor(Math.log10(t.step) + 1e-9);
      expect([1, 2, 5]).toContain(Number(mantissa.toFixed(6)));
    }
  });

  it('duration axes use one unit throughout, chosen by the largest value', () => {
    const ms = durationAxis(850);
    expect(ms.unit).toBe('ms');
    expect(ms.ticks.map((t) => t.label)).toEqual(['0', '200 ms', '400 ms', '600 ms', '800 ms', '1000 ms']);
    const s = durationAxis(44_900);
    expect(s).toMatchObject({ unit: 's', max: 50_000 });
    expect(s.ticks.map((t) => t.value)).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000]);
    expect(durationAxis(1500).ticks.map((t) => t.label)).toEqual(['0', '0.5 s', '1 s', '1.5 s']);
    expect(durationAxis(300_000).unit).toBe('min');
    expect(durationAxis(3 * 3_600_000).unit).toBe('h');
  });

  it('time axes step in round clock units and end at the data', () => {
    expect(elapsedAxis(141_000).ticks.map((t) => t.label)).toEqual(['0:00', '0:30', '1:00', '1:30', '2:00']);
    expect(elapsedAxis(141_000).max).toBe(141_000);
    expect(elapsedAxis(51_000).ticks.map((t) => t.label)).toEqual(['0:00', '0:10', '0:20', '0:30', '0:40', '0:50']);
    expect(elapsedAxis(500).ticks.map((t) => t.label)).toEqual(['0 s', '0.1 s', '0.2 s', '0.3 s', '0.4 s', '0.5 s']);
    expect(elapsedAxis(2 * 3_600_000).ticks.map((t) => t.label)).toEqual(['0:00:00', '0:30:00', '1:00:00', '1:30:00', '2:00:00']);
    expect(elapsedAxis(0).max).toBe(1000);
  });
});

describe('the nines axis', () => {
  it('puts each extra nine one unit further: 90 at 1, 99 at 2, 99.9 at 3', () => {
    expect(ninesOf(0)).toBe(0);
    expect(ninesOf(-1)).toBe(0);
    expect(ninesOf(50)).toBeCloseTo(Math.log10(2), 12);
    for (const [p, n] of [[90, 1], [99, 2], [99.9, 3], [99.99, 4], [99.999, 5]]) expect(ninesOf(p)).toBeCloseTo(n, 9);
    expect(ninesOf(100)).toBe(Infinity);
  });

  it('labels whole nines as percentiles', () => {
    expect([0, 1, 2, 3, 4, 5].map(ninesLabel)).toEqual(['0', '90', '99', '99.9', '99.99', '99.999']);
  });

  it('reaches the first whole nine at or past the curve, from 99 up to 99.9999', () => {
    const labels = (p: number): string[] => ninesAxis(p).ticks.map((t) => t.label);
    expect(labels(50)).toEqual(['0', '90', '99']);
    expect(labels(99.5)).toEqual(['0', '90', '99', '99.9']);
    // 100 - 99.9 is 0.0999...94 in floating point: still exactly three nines.
    expect(ninesAxis(99.9).max).toBe(3);
    expect(ninesAxis(99.995).max).toBe(5);
    expect(ninesAxis(99.99999999).max).toBe(6);
  });
});

describe('paths', () => {
  it('a linear scale maps the domain onto the range, a flat domain onto its start', () => {
    const y = linearScale([0, 100], [250, 50]);
    expect([y(0), y(50), y(100)]).toEqual([250, 150, 50]);
    expect(linearScale([3, 3], [10, 20])(3)).toBe(10);
  });

  it('a line breaks at nulls and draws an isolated point as a dot', () => {
    expect(linePath([[0, 0], [10, 5.5]])).toBe('M0 0L10 5.5');
    expect(linePath([[0, 0], null, [5, 5], null, [7, 7], [8.04, 8.96]])).toBe('M0 0h0M5 5h0M7 7L8 9');
    expect(linePath([[0, NaN], [1, 1]])).toBe('M1 1h0');
    expect(linePath([])).toBe('');
  });

  it('bands close upper and lower edges per run of known points', () => {
    expect(bandPath([0, 1, 2], [10, 10, 10], [5, 4, null])).toBe('M0 5L1 4L1 10L0 10Z');
    expect(bandPath([0, 1, 2, 3, 4], [9, 9, 9, 9, 9], [1, 2, null, 3, 4])).toBe('M0 1L1 2L1 9L0 9ZM3 3L4 4L4 9L3 9Z');
    expect(bandPath([0, 1], [9, 9], [null, 1])).toBe('');
    expect(areaPath([0, 1], [2, 3], 10)).toBe('M0 2L1 3L1 10L0 10Z');
  });

  it('stacks layers bottom-up; a missing sample breaks the stack, a missing field adds nothing', () => {
    const [a, b] = stackLayers([
      [1, 2, null],
      [3, null, null],
    ]);
    expect(a).toEqual({ lower: [0, 0, null], upper: [1, 2, null] });
    expect(b).toEqual({ lower: [1, 2, null], upper: [4, 2, null] });
    expect(stackLayers([])).toEqual([]);
  });

  it('downsamples into equal groups but the last', () => {
    const groups = downsample([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4, (g) => g.length);
    expect(groups).toEqual([3, 3, 3, 1]);
    expect(downsample([1, 2], 10, (g) => g[0])).toEqual([1, 2]);
  });

  it('legends and chart frames escape their texts and carry accessible names', () => {
    const l = legend([{ label: 'a<b', cls: 'line c-inj', kind: 'line' }, { label: 'c', cls: 'c-a', kind: 'box' }], 10, 20);
    expect(l.svg).toContain('a&#60;b');
    expect(l.svg).toContain('<rect class="c-a"');
    expect(l.width).toBeGreaterThan(40);
    const svg = svgChart({ id: 'c1', width: 100, height: 50, title: 'T<1>', desc: 'D&', body: '<g/>' });
    expect(svg).toMatch(/^<svg class="chart" id="c1" viewBox="0 0 100 50" role="img" aria-labelledby="c1-t c1-d"/);
    expect(svg).toContain('<title id="c1-t">T&#60;1&#62;</title><desc id="c1-d">D&#38;</desc>');
    expect(svg).not.toContain('xmlns');
  });
});

/** The `d` of every <path> in a page. */
const pathData = (html: string): string[] => [...html.matchAll(/<path [^>]*?d="([^"]*)"/g)].map((m) => m[1]);

/** What no page may contain: raw markup from the model, URLs, numbers gone wrong. */
function expectClean(html: string): void {
  expect(html).not.toMatch(/<script/i);
  expect(html).not.toMatch(/https?:/i);
  expect(html).not.toMatch(/\b(NaN|undefined|Infinity|null)\b/);
  expect(html).not.toContain('[object Object]');
}

describe('renderHtml', () => {
  it('the disk-bound run: four charts, each labelled, with non-empty paths', () => {
    const model = diskBoundModel();
    const html = renderHtml(model);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    for (const id of ['chart-throughput', 'chart-latency', 'chart-delays', 'chart-system']) {
      expect(html).toMatch(new RegExp(`<svg class="chart" id="${id}" [^>]*role="img" aria-labelledby="${id}-t ${id}-d"`));
      expect(html).toContain(`<title id="${id}-t">`);
    }
    const d = pathData(html);
    expect(d.length).toBeGreaterThan(20);
    for (const x of d) expect(x).toMatch(/^M[-\d.]+ [-\d.]+/);
    expect(html).toContain(`<p class="headline">${escapeXml(headline(model))}</p>`);
    expect(html).toContain('deferral lines'); // there were deferrals: they get a line
    expect(html).toContain('Verdict: <span class="verdict v-disk-bound">disk-bound</span>');
    expectClean(html);
  });

  it('escapes every text from the model: title, warnings, input paths', () => {
    const html = renderHtml(diskBoundModel());
    expect(html).toContain('<title>Disk-bound run &#60;b&#62;#2&#60;/b&#62; | nightly</title>');
    expect(html).toContain('<h1>Disk-bound run &#60;b&#62;#2&#60;/b&#62; | nightly</h1>');
    expect(html).toContain(escapeXml(HOSTILE));
    expect(html).toContain('/tmp/a|b/&#60;mail&#62;.log');
    expect(html).not.toContain('<b>#2');
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });

  it('the healthy run: no deferral line when there were none, not-saturated', () => {
    const html = renderHtml(healthyModel());
    expect(html).not.toContain('deferral lines</text>');
    expect(html).toContain('v-not-saturated');
    expect(html.match(/<svg /g)).toHaveLength(4);
    expectClean(html);
  });

  it('the empty run: no chart, a sentence per missing part saying how to get it', () => {
    const model = emptyModel();
    const html = renderHtml(model);
    expect(html).not.toContain('<svg');
    for (const text of [missingText.timeline, missingText.latency(model), missingText.delays, missingText.system]) {
      expect(html).toContain(`<p class="missing">${escapeXml(text)}</p>`);
    }
    expect(html).toContain('run smtp-source with --sample, or pass --samples FILE');
    expect(html).toContain('<div class="card alarm"><b>2</b><span>lost</span></div>');
    expectClean(html);
  });

  it('a system record without samples shows its verdict and says there is nothing to chart', () => {
    const model = { ...healthyModel(), system: { ...makeSystemRecord([], 1000), host: 'mx1.example' } };
    const html = renderHtml(model);
    expect(html).toContain('v-unknown');
    expect(html).toContain('<li>no samples</li>');
    expect(html).toContain(escapeXml(missingText.noSamples));
    expect(html).not.toContain('id="chart-system"');
    expect(html).toContain('id="chart-throughput"');
  });

  it('without a histogram, the latency curve comes from the summary; nothing delivered shows no curve', () => {
    const model = { ...healthyModel(), latency: undefined };
    const html = renderHtml(model);
    expect(html).toContain('id="chart-latency"');
    expect(html).toContain(`p99 ${formatDuration(model.summary.latencyMs!.p99)}`);
    const none = { ...model, summary: { ...model.summary, latencyMs: undefined } };
    expect(renderHtml(none)).not.toContain('id="chart-latency"');
  });

  it('draws the maximum at the end of the nines axis', () => {
    const model = diskBoundModel();
    const html = renderHtml(model);
    const latency = html.slice(html.indexOf('id="chart-latency"'), html.indexOf('</svg>', html.indexOf('id="chart-latency"')));
    // The plot spans x 64..736; the last curve point (percentile 100) sits at its right edge.
    const curve = pathData(latency).find((x) => x.split('L').length > 10)!;
    expect(curve.split('L').pop()).toMatch(/^736 /);
    expect(latency).toContain(`max ${formatDuration(model.latency!.max)}`);
  });

  it('a timeline longer than the chart has pixels is drawn with at most 380 points', () => {
    const model = healthyModel();
    const t = model.timeline!;
    const buckets = Array.from({ length: 5000 }, (_, i) => ({ ...t.buckets[i % t.buckets.length], start: t.start + i * 1000 }));
    const html = renderHtml({ ...model, timeline: { ...t, buckets } });
    const throughput = html.slice(html.indexOf('id="chart-throughput"'), html.indexOf('</svg>', html.indexOf('id="chart-throughput"')));
    // Lines only: a closed area has each point twice (its top and its bottom edge).
    const lines = pathData(throughput).filter((x) => !x.endsWith('Z'));
    const longest = Math.max(...lines.map((x) => x.split(/[ML]/).length - 1));
    expect(longest).toBeLessThanOrEqual(380);
    expect(longest).toBeGreaterThan(300);
  });
});
