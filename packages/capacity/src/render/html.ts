// The sweep as one self-contained HTML page: inline CSS and SVG drawn with the reporter's chart
// primitives, no script, nothing fetched (a Content-Security-Policy forbids both), so it opens
// offline, attached to a CI run, and prints. Two charts against the offered rate: what the
// server carried (with the y = x line of a server that carries everything) and the latency on a
// log scale; the knee and the recommendation are marked on both; a table gives every step.
import { AXIS_CSS, CARD_CSS, PAGE_CSS, PRINT_CSS, svg } from '@smtpstone/reporter';
import { BOUND_HEADINGS, BOUND_TITLES, byRate } from '../judge.js';
import type { StepResult } from '../step.js';
import type { SweepResult } from '../sweep.js';
import { headlineOf } from './markdown.js';
import { boundsLine, duration, percent, rate, stepTable, sweepLine } from './table.js';

const esc = svg.escapeXml;

const W = 760;
const H = 400;
const LEFT = 84;
const RIGHT = 24;
const TOP = 40;
const BOTTOM = 56;
const PLOT = { x0: LEFT, x1: W - RIGHT, y0: TOP, y1: H - BOTTOM };

const path = (cls: string, d: string): string => (d ? `<path class="${cls}" d="${d}"/>` : '');
const f1 = (v: number): string => v.toFixed(1);

/** The knee and recommendation as vertical lines with their labels at the top of the plot. */
function markers(r: SweepResult, x: (v: number) => number): string {
  const out: string[] = [];
  const k = r.knee;
  const mark = (value: number, cls: string, label: string, anchorEnd: boolean): void => {
    const px = x(value);
    out.push(`<path class="${cls}" d="M${f1(px)} ${PLOT.y0}V${PLOT.y1}"/>`);
    const tx = anchorEnd ? px - 5 : px + 5;
    out.push(`<text class="label" x="${f1(tx)}" y="${PLOT.y0 + 14}" text-anchor="${anchorEnd ? 'end' : 'start'}">${esc(label)}</text>`);
  };
  if (k.recommendedPerSecond !== null && k.recommendedPerSecond > 0) {
    mark(k.recommendedPerSecond, 'marker-rec', `recommended ${rate(k.recommendedPerSecond)}`, true);
  }
  if (k.kneePerSecond !== null) mark(k.kneePerSecond, 'marker-knee', `${k.status === 'not-reached' ? 'no knee up to' : 'knee'} ${rate(k.kneePerSecond)}`, false);
  else if (k.lowerBoundPerSecond !== null) mark(k.lowerBoundPerSecond, 'marker-knee', `took at least ${rate(k.lowerBoundPerSecond)}`, false);
  return out.join('');
}

function dot(s: StepResult, px: number, py: number, what: string): string {
  return `<circle class="dot v-${s.verdict}" cx="${f1(px)}" cy="${f1(py)}" r="5"><title>${esc(`step ${s.index}${s.kind === 'refine' ? ' (refining)' : ''} at ${rate(s.ratePerSecond)}: ${what}; ${s.verdict.toUpperCase()}`)}</title></circle>`;
}

function legendRow(items: svg.LegendItem[]): string {
  return svg.legend(items, LEFT, 14).svg;
}

/** Accepted (and delivered) against offered, with y = x and the min-accepted line. */
export function throughputChart(r: SweepResult): string {
  const steps = byRate(r.steps);
  const values = steps.flatMap((s) => [s.offeredPerSecond, s.ratePerSecond, s.acceptedPerSecond, s.delivery?.deliveryPerSecond ?? 0]);
  const axis = svg.countAxis(Math.max(1, ...values), 5);
  const ticks = axis.ticks.map((t) => ({ value: t.value, label: svg.formatNumber(t.value) }));
  const x = svg.linearScale([0, axis.max], [PLOT.x0, PLOT.x1]);
  const y = svg.linearScale([0, axis.max], [PLOT.y1, PLOT.y0]);
  const share = r.settings.bounds.minAcceptedShare;
  const logged = steps.some((s) => s.delivery?.deliveryPerSecond != null);
  const parts: string[] = [];
  const items: svg.LegendItem[] = [
    { label: 'accepted/s', cls: 'line c-acc', kind: 'line' },
    ...(logged ? [{ label: 'delivered/s', cls: 'line c-del', kind: 'line' as const }] : []),
    { label: 'y = x (all carried)', cls: 'line thin dash c-ref', kind: 'line' },
    { label: `${percent(share)} of offered`, cls: 'line thin dot-dash c-bound', kind: 'line' },
  ];
  parts.push(legendRow(items));
  parts.push(svg.axisLeft({ scale: y, ticks, at: PLOT.x0, gridTo: PLOT.x1, title: 'carried (messages/s)', titleAt: 16 }));
  parts.push(svg.axisBottom({ scale: x, ticks, at: PLOT.y1, gridTo: PLOT.y0, title: 'offered (messages/s)' }));
  parts.push(path('line thin dash c-ref', svg.linePath([[x(0), y(0)], [x(axis.max), y(axis.max)]])));
  parts.push(path('line thin dot-dash c-bound', svg.linePath([[x(0), y(0)], [x(axis.max), y(axis.max * share)]])));
  parts.push(markers(r, x));
  if (logged) {
    const del = steps.filter((s) => s.delivery?.deliveryPerSecond != null);
    parts.push(path('line c-del', svg.linePath(del.map((s) => [x(s.offeredPerSecond), y(s.delivery!.deliveryPerSecond!)]))));
  }
  parts.push(path('line c-acc', svg.linePath(steps.map((s) => [x(s.offeredPerSecond), y(s.acceptedPerSecond)]))));
  for (const s of steps) parts.push(dot(s, x(s.offeredPerSecond), y(s.acceptedPerSecond), `offered ${rate(s.offeredPerSecond)}, accepted ${rate(s.acceptedPerSecond)}`));
  parts.push(`<path class="baseline" d="M${PLOT.x0} ${PLOT.y1}H${PLOT.x1}"/>`);
  const desc =
    `Accepted messages per second against the offered rate for ${steps.length} steps: ` +
    steps.map((s) => `${rate(s.offeredPerSecond)} offered, ${rate(s.acceptedPerSecond)} accepted (${s.verdict})`).join('; ') +
    `. ${headlineOf(r)}.`;
  return svg.svgChart({ id: 'chart-throughput', width: W, height: H, title: 'Throughput against offered load', desc, body: parts.join('') });
}

/** Decades (and 2, 5 between them on a short axis) from lo to hi ms. */
function logTicks(loMs: number, hiMs: number): { lo: number; hi: number; ticks: svg.Tick[] } {
  let lo = 10 ** Math.floor(Math.log10(Math.max(loMs, 0.01)));
  let hi = 10 ** Math.ceil(Math.log10(Math.max(hiMs, lo * 10)));
  if (hi / lo < 10) hi = lo * 10;
  const decades = Math.round(Math.log10(hi / lo));
  const ticks: svg.Tick[] = [];
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    for (const m of decades <= 2 ? [1, 2, 5] : [1]) {
      const v = d * m;
      if (v <= hi * 1.0001) ticks.push({ value: v, label: svg.formatDuration(v) });
    }
  }
  lo = ticks[0].value;
  return { lo, hi, ticks };
}

/** p50 and p99 (corrected) against the offered rate, log scale, with the p99 bound. */
export function latencyChart(r: SweepResult): string {
  const steps = byRate(r.steps).filter((s) => s.latency.count > 0);
  const bound = r.settings.bounds.maxP99Ms;
  const dBound = r.settings.bounds.maxDeliveryP99Ms;
  const logged = steps.some((s) => s.delivery?.latency != null);
  const values = steps.flatMap((s) => [s.latency.p50, s.latency.p99, s.delivery?.latency?.p99 ?? s.latency.p50]).filter((v) => v > 0);
  const lt = logTicks(Math.min(bound, ...values), Math.max(bound, dBound ?? 0, ...values));
  const xAxis = svg.countAxis(Math.max(1, ...byRate(r.steps).flatMap((s) => [s.offeredPerSecond, s.ratePerSecond])), 5);
  const xTicks = xAxis.ticks.map((t) => ({ value: t.value, label: svg.formatNumber(t.value) }));
  const x = svg.linearScale([0, xAxis.max], [PLOT.x0, PLOT.x1]);
  const ly = svg.linearScale([Math.log10(lt.lo), Math.log10(lt.hi)], [PLOT.y1, PLOT.y0]);
  const y = (ms: number): number => ly(Math.log10(Math.min(lt.hi, Math.max(lt.lo, ms))));
  const parts: string[] = [];
  const items: svg.LegendItem[] = [
    { label: 'p50', cls: 'line c-p50', kind: 'line' },
    { label: 'p99', cls: 'line c-p99', kind: 'line' },
    ...(logged ? [{ label: 'delivery p99', cls: 'line c-del', kind: 'line' as const }] : []),
    { label: `p99 bound ${duration(bound)}`, cls: 'line thin dot-dash c-bound', kind: 'line' },
  ];
  parts.push(legendRow(items));
  parts.push(svg.axisLeft({ scale: y, ticks: lt.ticks, at: PLOT.x0, gridTo: PLOT.x1, title: 'latency (log scale)', titleAt: 16 }));
  parts.push(svg.axisBottom({ scale: x, ticks: xTicks, at: PLOT.y1, gridTo: PLOT.y0, title: 'offered (messages/s)' }));
  parts.push(path('line thin dot-dash c-bound', `M${PLOT.x0} ${f1(y(bound))}H${PLOT.x1}`));
  if (dBound !== undefined && logged) parts.push(path('line thin dot-dash c-del', `M${PLOT.x0} ${f1(y(dBound))}H${PLOT.x1}`));
  parts.push(markers(r, x));
  if (logged) {
    const del = steps.filter((s) => s.delivery?.latency != null);
    parts.push(path('line c-del', svg.linePath(del.map((s) => [x(s.offeredPerSecond), y(s.delivery!.latency!.p99)]))));
  }
  parts.push(path('line c-p50', svg.linePath(steps.map((s) => [x(s.offeredPerSecond), y(s.latency.p50)]))));
  parts.push(path('line c-p99', svg.linePath(steps.map((s) => [x(s.offeredPerSecond), y(s.latency.p99)]))));
  for (const s of steps) parts.push(dot(s, x(s.offeredPerSecond), y(s.latency.p99), `p50 ${duration(s.latency.p50)}, p99 ${duration(s.latency.p99)}`));
  parts.push(`<path class="baseline" d="M${PLOT.x0} ${PLOT.y1}H${PLOT.x1}"/>`);
  const desc =
    `Message latency from each message's due time (p50 and p99) against the offered rate, on a log scale; the p99 bound is ${duration(bound)}: ` +
    steps.map((s) => `${rate(s.offeredPerSecond)}: p50 ${duration(s.latency.p50)}, p99 ${duration(s.latency.p99)}`).join('; ') +
    '.';
  return svg.svgChart({ id: 'chart-latency', width: W, height: H, title: 'Latency against offered load', desc, body: parts.join('') });
}

function cards(r: SweepResult): string {
  const k = r.knee;
  const card = (value: string, label: string, cls = ''): string => `<div class="card${cls ? ' ' + cls : ''}"><b>${esc(value)}</b><span>${esc(label)}</span></div>`;
  const out: string[] = [];
  if (k.status === 'found') out.push(card(rate(k.kneePerSecond), 'knee'));
  else if (k.status === 'not-reached') out.push(card(`≥ ${rate(k.kneePerSecond)}`, 'knee not reached', 'warn'));
  else if (k.status === 'untrusted') out.push(card('untrusted', k.lowerBoundPerSecond !== null ? `took at least ${rate(k.lowerBoundPerSecond)}` : 'generator saturated', 'alarm'));
  else if (k.status === 'below-range') out.push(card(`< ${rate(k.firstFailing?.ratePerSecond)}`, 'knee below the range', 'alarm'));
  else out.push(card('–', 'no step completed', 'alarm'));
  out.push(card(k.recommendedPerSecond !== null ? `${k.status === 'not-reached' ? '≥ ' : ''}${rate(k.recommendedPerSecond)}` : '–', `recommended (${percent(k.headroom)} headroom)`));
  if (k.firstFailing !== null) out.push(card(rate(k.firstFailing.ratePerSecond), `first failing: ${k.firstFailing.broken.map((b) => BOUND_TITLES[b]).join(', ') || 'generator'}`, 'warn'));
  if (k.require !== undefined) out.push(card(k.require.pass ? 'PASS' : 'FAIL', `require ${rate(k.require.floorPerSecond)}`, k.require.pass ? 'ok' : 'alarm'));
  out.push(card(String(r.steps.length), 'steps'));
  return `<div class="cards">${out.join('')}</div>`;
}

function tableHtml(r: SweepResult): string {
  const t = stepTable(r);
  const cols = t.columns.filter((c) => c.key !== 'verdict');
  const head = [
    ...cols.map((c) => `<th${c.num ? ' class="num"' : ''} scope="col">${esc(c.title)}</th>`),
    ...t.bounds.map((b) => `<th scope="col" class="b">${esc(BOUND_HEADINGS[b])}</th>`),
    '<th scope="col">verdict</th>',
  ];
  const rows = t.rows.map((row) => {
    const s = row.step;
    const cells = cols.map((c) => `<td${c.num ? ' class="num"' : ''}>${esc(row.cells[c.key] ?? '')}</td>`);
    const bounds = t.bounds.map((b) => {
      const v = row.bounds[b];
      const text = s.bounds.find((x) => x.bound === b)?.text ?? '';
      return v === undefined ? '<td class="b"></td>' : `<td class="b ${v ? 'ok' : 'bad'}" title="${esc(text)}">${v ? 'PASS' : 'FAIL'}</td>`;
    });
    const verdict = `<td><span class="pill v-${s.verdict}">${esc(s.verdict.toUpperCase())}</span></td>`;
    return `<tr>${[...cells, ...bounds, verdict].join('')}</tr>`;
  });
  return (
    `<div class="scroll"><table><caption>Steps, by rate</caption><thead><tr>${head.join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>` +
    `<p class="note">Latency is from each message's due time (coordinated omission corrected). “r”: a refining step. Hover a PASS/FAIL for its figures.</p>`
  );
}

function details(r: SweepResult): string {
  const failing = byRate(r.steps).filter((s) => s.verdict !== 'pass');
  if (failing.length === 0) return '';
  const items = failing.map((s) => {
    const broken = s.bounds.filter((b) => !b.pass).map((b) => `<li>${esc(b.text)}</li>`);
    const box = s.system !== undefined ? `<li>box: ${esc(s.system.kind)}${s.system.reasons.length > 0 ? ` (${esc(s.system.reasons[0])})` : ''}</li>` : '';
    return `<li><b>${esc(rate(s.ratePerSecond))}</b> (step ${s.index}${s.kind === 'refine' ? 'r' : ''}, ${esc(s.verdict.toUpperCase())})<ul>${broken.join('')}${box}</ul></li>`;
  });
  return `<section><h2>Steps that did not pass</h2><ul class="reasons">${items.join('')}</ul></section>`;
}

const CSS = `
${PAGE_CSS}
.headline{font-size:1.08rem;font-weight:600;margin:.3rem 0 .6rem}
.sub{color:var(--muted);margin:.1rem 0;overflow-wrap:anywhere}
.knee{margin:.8rem 0 1rem;padding-left:1.2rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:10px;margin-top:1rem}
${CARD_CSS}
.card.ok{border-color:#1a7f37;background:#dafbe1}
.notes{border-left:4px solid #d4a72c;background:#fff8c5;padding:2px 16px 6px;margin-top:1.2rem;border-radius:4px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:24px}
figure{margin:0}
.scroll{overflow-x:auto}
svg.chart{display:block;width:100%;min-width:480px;height:auto;font-size:13px;font-family:inherit}
figcaption{color:var(--muted);font-size:.85rem;margin-top:.3rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:0 0 .35rem}
th,td{padding:4px 6px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top;white-space:nowrap}
thead th{background:var(--soft)}
.num{text-align:right}
.b{text-align:center;font-size:.8rem}
td.ok{color:#116329}
td.bad{color:#a40e26;font-weight:600;background:#ffebe9}
.pill{display:inline-block;padding:0 8px;border-radius:999px;font-weight:600;font-size:.82rem}
.note{color:var(--muted);font-size:.82rem;margin:.35rem 0 0}
.reasons{font-size:.92rem}
.reasons li{overflow-wrap:anywhere}
${AXIS_CSS}
.line{fill:none;stroke-width:2.2;stroke-linejoin:round;stroke-linecap:round}
.line.thin{stroke-width:1.4}
.dash{stroke-dasharray:6 4}
.dot-dash{stroke-dasharray:2 4 8 4}
.c-acc{stroke:#0072b2}
.c-del{stroke:#009e73}
.c-p50{stroke:#56b4e9}
.c-p99{stroke:#0072b2}
.c-ref{stroke:#8c959f}
.c-bound{stroke:#d55e00}
.marker-knee{stroke:#1f2328;stroke-width:2;fill:none}
.marker-rec{stroke:#1a7f37;stroke-width:2;stroke-dasharray:5 4;fill:none}
.dot{stroke:#fff;stroke-width:1.5}
circle.v-pass{fill:#1a7f37}
circle.v-fail{fill:#cf222e}
circle.v-untrusted{fill:#d4a72c}
circle.v-incomplete{fill:#8c959f}
.pill.v-pass{background:#dafbe1;color:#116329}
.pill.v-fail{background:#ffd8d3;color:#a40e26}
.pill.v-untrusted{background:#fff8c5;color:#7d4e00}
.pill.v-incomplete{background:#eaeef2;color:#424a53}
${PRINT_CSS}
`;

/** The sweep as one HTML page, with no outside resource. */
export function renderHtml(r: SweepResult, title = 'smtpstone capacity sweep'): string {
  const k = r.knee;
  const notes = [...k.notes, ...(r.interrupted ? ['interrupted: the sweep stopped before its plan was done; the knee is of the steps that ran'] : [])];
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<header><h1>${esc(title)}</h1><p class="headline">${esc(headlineOf(r))}</p>`,
    `<p class="sub">${esc(sweepLine(r))}</p><p class="sub">${esc(boundsLine(r))}</p>`,
    cards(r),
    `<ul class="knee">${k.lines.map((l) => `<li>${esc(l)}</li>`).join('')}${k.require !== undefined ? `<li>${esc(k.require.line)}</li>` : ''}</ul>`,
    '</header>',
    notes.length > 0 ? `<div class="notes"><ul>${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></div>` : '',
    '<section><h2>Load against capacity</h2><div class="charts">',
    `<figure><div class="scroll">${throughputChart(r)}</div><figcaption>What the server carried at each offered rate. On the dashed y = x line it carried everything; below the dotted line it fell short of the accepted bound. Dots: green passed, red failed, amber not trustworthy.</figcaption></figure>`,
    `<figure><div class="scroll">${latencyChart(r)}</div><figcaption>Latency from each message's due time, so the wait of messages that could not start on time counts. A p99 rising steeply is a queue building up.</figcaption></figure>`,
    '</div></section>',
    `<section><h2>Steps</h2>${tableHtml(r)}</section>`,
    details(r),
    `<footer>smtpstone-sweep, started ${esc(r.startedAt)}, ${esc(duration(r.elapsedMs))} in all. Each step is a separate smtp-source run in the open model (--rate for the step's length).</footer>`,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
