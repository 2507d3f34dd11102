// The renderings of a made-up sweep: the terminal table and lines, Markdown for a CI summary,
// and the HTML page (self-contained, both charts, the knee marked, every text escaped).
import { describe, expect, it } from 'vitest';
import { formatSweep, latencyChart, renderHtml, renderMarkdown, throughputChart } from '../src/index.js';
import { sweepOf } from './fixtures.js';

const rates = [50, 100, 150, 200, 250, 300];
const found = () => sweepOf(rates.map((rate) => ({ rate, capacity: 260, system: { kind: rate > 250 ? ('disk-bound' as const) : ('not-saturated' as const), reasons: [], samples: 20 } })), { require: 200 });

describe('the terminal', () => {
  it('a row per step by rate, the knee, the recommendation and the floor', () => {
    const text = formatSweep(found());
    expect(text).toBe(
      [
        '192.0.2.25:25: 6 of 6 planned step(s) of 20 s, 50/s to 300/s; -s 100 -d; box sampled',
        'bounds: accepted >= 95 % of offered, corrected p99 <= 1 s, smtp-source not saturated',
        '',
        'step  offered  accepted     p50     p99  late  errors  box            verdict',
        '   1     50/s      50/s  100 ms  100 ms   0 %       0  not-saturated  PASS',
        '   2    100/s     100/s  100 ms  100 ms   0 %       0  not-saturated  PASS',
        '   3    150/s     150/s  100 ms  100 ms   0 %       0  not-saturated  PASS',
        '   4    200/s     200/s  100 ms  100 ms   0 %       0  not-saturated  PASS',
        '   5    250/s     250/s  100 ms  100 ms   0 %       0  not-saturated  PASS',
        '   6    300/s     260/s  1.64 s  3.15 s  90 %       0  disk-bound     FAIL (accepted, p99)',
        '',
        'knee: 250/s (the highest rate that held every bound)',
        'first failing step: 300/s: accepted 260/s of 300/s offered (86.7 %), 5200 of 6000 due messages (86.7 %); want >= 95 %; corrected p99 3.15 s; want <= 1 s',
        'recommended capacity: 200/s (the knee less 20 % headroom)',
        'PASS  require 200/s: the knee is 250/s',
        'note: all 100 sessions (-s) were busy at 300/s and messages started late: if the server takes more connections at once, a higher -s may carry more',
        '',
      ].join('\n'),
    );
  });

  it('delivery columns appear with a log', () => {
    const delivery = { injected: 1000, delivered: 1000, bounced: 0, unsettled: 0, lost: 0, injectionPerSecond: 50, deliveryPerSecond: 49.8, deliveryShare: 0.996, peakBacklog: 12, latency: { count: 1000, p50: 210, p90: 400, p99: 650, max: 800 }, drainMs: 700, drainTimedOut: false, precision: 'us' as const, records: 6000, matchedRecords: 6000, warnings: [] };
    const text = formatSweep(sweepOf([{ rate: 50, delivery }], { log: '/var/log/mail.log' }));
    expect(text).toContain('step  offered  accepted     p50     p99  late  errors  delivered  backlog  deliv p99  verdict');
    expect(text).toContain('   1     50/s      50/s  100 ms  100 ms   0 %       0     49.8/s       12     650 ms  PASS');
    expect(text).toContain('delivery >= 95 % of injection, queue drained');
  });
});

describe('Markdown', () => {
  it('the headline, the lines, and a tick or a cross per bound', () => {
    const md = renderMarkdown(found());
    expect(md.startsWith('### Capacity sweep: ✅ knee 250/s, recommended 200/s\n')).toBe(true);
    expect(md).toContain('- knee: 250/s (the highest rate that held every bound)\n');
    expect(md).toContain('- ✅ require 200/s: the knee is 250/s\n');
    expect(md).toContain('| step | offered | accepted | p50 | p99 | late | errors | box | (a) accepted | (b) p99 | (d) generator | verdict |');
    expect(md).toContain('| 6 | 300/s | 260/s | 1.64 s | 3.15 s | 90 % | 0 | disk-bound | ❌ | ❌ | ✅ | **FAIL** |');
  });
});

describe('HTML', () => {
  it('one self-contained page: both charts, the knee marked, the recommendation, a verdict per step', () => {
    const html = renderHtml(found(), 'Capacity of mx1');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(html).not.toMatch(/<script|<link|src=|href=/i);
    expect(html).toContain('<title>Capacity of mx1</title>');
    expect(html.match(/<svg class="chart"/g)).toHaveLength(2);
    expect(html).toContain('id="chart-throughput"');
    expect(html).toContain('id="chart-latency"');
    // The knee and the recommendation, marked on both charts.
    expect(html.match(/class="marker-knee"/g)).toHaveLength(2);
    expect(html.match(/>knee 250\/s</g)).toHaveLength(2);
    expect(html.match(/>recommended 200\/s</g)).toHaveLength(2);
    expect(html).toContain('<li>recommended capacity: 200/s (the knee less 20 % headroom)</li>');
    expect(html).toContain('y = x (all carried)');
    // A verdict per step, in the charts' dots and in the table.
    expect(html.match(/<circle class="dot v-pass"/g)).toHaveLength(10);
    expect(html.match(/<circle class="dot v-fail"/g)).toHaveLength(2);
    expect(html.match(/<span class="pill v-pass">PASS<\/span>/g)).toHaveLength(5);
    expect(html).toContain('<span class="pill v-fail">FAIL</span>');
    expect(html).toContain('<h2>Steps that did not pass</h2>');
  });

  it('escapes what came from the wire', () => {
    const r = found();
    const last = r.steps[5];
    last.fatal = 'recipient rejected: 550 5.1.1 <x@y>: "no" & gone';
    last.bounds.unshift({ bound: 'run', pass: false, actual: null, limit: null, text: `the step ended early: ${last.fatal}` });
    const html = renderHtml(r, '<b>title</b>');
    expect(html).toContain('&#60;x@y&#62;: &#34;no&#34; &#38; gone');
    expect(html).not.toContain('<x@y>');
    expect(html).toContain('<title>&#60;b&#62;title&#60;/b&#62;</title>');
  });

  it('the charts say in words what they show', () => {
    const t = throughputChart(found());
    expect(t).toContain('<title id="chart-throughput-t">Throughput against offered load</title>');
    expect(t).toMatch(/<desc id="chart-throughput-d">Accepted messages per second against the offered rate for 6 steps: 50\/s offered, 50\/s accepted \(pass\);/);
    const l = latencyChart(found());
    expect(l).toContain('latency (log scale)');
    expect(l).toContain('p99 bound 1 s');
  });

  it('an untrusted sweep says so instead of a knee', () => {
    const r = sweepOf(rates.map((rate) => ({ rate, capacity: 260, saturated: rate === 300 })));
    const html = renderHtml(r);
    expect(html).toContain('<p class="headline">not trustworthy: the load generator was saturated</p>');
    expect(html).toContain('>took at least 250/s<');
    expect(html).not.toContain('class="marker-rec"');
    expect(html).toContain('<circle class="dot v-untrusted"');
  });
});
