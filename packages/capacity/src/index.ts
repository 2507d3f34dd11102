// @smtpstone/capacity: capacity planning sweeps. smtp-source's open model at rising rates, one
// bounded run per step; each step judged (accepted throughput, corrected p99, with the MTA's log
// the delivery backlog, and whether smtp-source itself kept up); the knee, the first failing
// step and the bound it broke, and a recommended capacity with headroom.
//
// ```ts
// const r = await runSweep({ target: 'mx.example:25', rates: stepRates(10, 500, 8, 'linear'), stepDurationMs: 20_000, source: { sessions: 100 } });
// console.log(r.knee.lines.join('\n'));   // knee: 250/s ..., recommended capacity: 200/s ...
// ```
export { runSweep, SweepError, type SweepResult } from './sweep.js';
export { resolveSweepOptions, stepRates, DEFAULT_BOUNDS, DEFAULT_SESSIONS, DEFAULT_TIMEOUT_SECONDS, type SweepBounds, type SweepLogOptions, type SweepOptions, type SweepOptionsInput, type SweepSourceOptions } from './options.js';
export { runStep, stepFigures, carriedRate, type StepFigures, type StepResult } from './step.js';
export { judgeStep, findKnee, byRate, BOUND_NAMES, BOUND_TITLES, BOUND_HEADINGS, type BoundName, type BoundResult, type KneeRecord, type KneeStatus, type StepVerdict } from './judge.js';
export { deliveryRecord, StepDelivery, type DeliveryRecord } from './delivery.js';
export { formatSweep, formatTable } from './render/text.js';
export { renderMarkdown } from './render/markdown.js';
export { renderHtml, throughputChart, latencyChart } from './render/html.js';
