// Named metrics read from a smtp-source result or a smtpstone-report report: what gates,
// baselines and comparisons talk about.
//
// smtp-source result (`smtp-source --json`, or a merge of several):
//   p50 p90 p99 p999 max mean min     the `message` phase (MAIL sent to the last end-of-data reply), ms
//   <phase>_<stat>                    any phase and statistic, ms: connect_p99, banner_p50, helo_max,
//                                     mail_, rcpt_, data_, dot_, rset_, quit_, message_ (= the bare ones)
//   throughput                        accepted messages per second over the run
//   rcpt_throughput                   accepted recipients per second
//   errors                            (rejected + failed) / started, a share
//   started sent accepted rejected failed         messages, counts
//   timeouts lost_connections connect_failures server_closed   counts
//   elapsed                           the run's length, ms
//   verdict                           the box's verdict, with --sample (disk-bound, cpu-bound, not-saturated, unknown)
//   corrected_p50 ... corrected_min   open-model runs (--rate, --ramp, --stages): the message latency
//                                     from each message's due time (coordinated omission corrected), ms
//
// smtpstone-report report (`smtpstone-report --json`):
//   delivery_p50 delivery_p90 delivery_p99 delivery_p999 delivery_max delivery_mean delivery_min
//                                     end-of-data reply to the last `status=sent`, ms
//   throughput                        delivered messages per second (the timeline's delivery rate)
//   injection_rate                    injected messages per second
//   errors                            (refused by the server + bounced + lost) / journal lines, a share
//   started accepted                  journal lines; messages the server accepted (injected)
//   delivered                         delivered, after a deferral or not
//   bounced deferred pending lost removed          messages by fate (deferred: still deferred at the log's end)
//   peak_backlog                      the highest backlog of the timeline, messages
//   verdict                           the box's verdict, with --samples
import { KIND_NAME, SOURCE_PHASES, type ReportDoc, type ResultDoc, type ResultKind, type SourceResultDoc } from './documents.js';
import type { MetricUnit } from './units.js';

export interface MetricDef {
  name: string;
  unit: MetricUnit;
  /** Which way is an improvement; undefined when neither (elapsed, verdict). */
  better: 'higher' | 'lower' | undefined;
  kinds: readonly ResultKind[];
  describe: string;
}

/** A metric's value in one result, or why it has none. */
export type MetricValue = { value: number | string; missing?: undefined } | { value?: undefined; missing: string };

export const PHASE_STATS = ['p50', 'p90', 'p99', 'p999', 'max', 'mean', 'min'] as const;
type PhaseStat = (typeof PHASE_STATS)[number];

export const VERDICT_KINDS = ['disk-bound', 'cpu-bound', 'not-saturated', 'unknown'] as const;

type Getter<D> = (doc: D) => MetricValue;

interface Entry {
  def: MetricDef;
  source?: Getter<SourceResultDoc>;
  report?: Getter<ReportDoc>;
}

const has = (value: number | string): MetricValue => ({ value });
const none = (missing: string): MetricValue => ({ missing });

function phaseStat(phase: (typeof SOURCE_PHASES)[number], stat: PhaseStat): Getter<SourceResultDoc> {
  return (d) => {
    const p = d.latency[phase];
    if (p === undefined) return none(`the result has no ${phase} phase`);
    if (!(p.count > 0)) {
      return none(phase === 'message' ? 'no message was accepted, so no message latency was recorded' : `the ${phase} phase was never timed in this run`);
    }
    return has(p[stat]);
  };
}

function verdictOf(doc: { system?: { verdict?: { kind?: unknown } } | null }, how: string): MetricValue {
  const kind = doc.system?.verdict?.kind;
  return typeof kind === 'string' ? has(kind) : none(`no samples in this result; ${how}`);
}

const entries: Entry[] = [];
const add = (def: Omit<MetricDef, 'kinds'>, source?: Getter<SourceResultDoc>, report?: Getter<ReportDoc>): void => {
  const kinds: ResultKind[] = [];
  if (source) kinds.push('source');
  if (report) kinds.push('report');
  entries.push({ def: { ...def, kinds }, source, report });
};

// smtp-source: the message phase by its bare statistic names first, then every phase.
for (const stat of PHASE_STATS) {
  add({ name: stat, unit: 'ms', better: 'lower', describe: `${stat} of the message phase (MAIL sent to the last end-of-data reply)` }, phaseStat('message', stat));
}
for (const phase of SOURCE_PHASES) {
  for (const stat of PHASE_STATS) add({ name: `${phase}_${stat}`, unit: 'ms', better: 'lower', describe: `${stat} of the ${phase} phase` }, phaseStat(phase, stat));
}

for (const stat of PHASE_STATS) {
  add({ name: `corrected_${stat}`, unit: 'ms', better: 'lower', describe: `${stat} of the message latency from each message's due time (open model)` }, (d) => {
    const p = d.correctedLatency?.message;
    if (p === undefined) return none('only open-model runs (--rate, --ramp, --stages) have a corrected latency');
    return p.count > 0 ? has(p[stat]) : none('no message was accepted, so no message latency was recorded');
  });
}

add(
  { name: 'throughput', unit: 'rate', better: 'higher', describe: 'source: accepted messages per second; report: delivered messages per second' },
  (d) => has(d.throughput.messagesPerSecond),
  (d) => {
    const r = d.timeline?.deliveryRate;
    return typeof r === 'number' ? has(r) : none('fewer than two messages were delivered, so there is no delivery rate');
  },
);
add({ name: 'rcpt_throughput', unit: 'rate', better: 'higher', describe: 'accepted recipients per second' }, (d) => has(d.throughput.recipientsPerSecond));
add({ name: 'injection_rate', unit: 'rate', better: 'higher', describe: 'injected messages per second (report timeline)' }, undefined, (d) => {
  const r = d.timeline?.injectionRate;
  return typeof r === 'number' ? has(r) : none('fewer than two messages were injected, so there is no injection rate');
});
add(
  { name: 'errors', unit: 'ratio', better: 'lower', describe: 'source: (rejected + failed) / started; report: (refused + bounced + lost) / journal lines' },
  (d) => (d.messages.started > 0 ? has((d.messages.rejected + d.messages.failed) / d.messages.started) : none('no message was started')),
  (d) => {
    const s = d.summary;
    return s.journalEntries > 0 ? has((s.notAccepted + s.bounced + s.lost) / s.journalEntries) : none('the journal has no message');
  },
);
add(
  { name: 'started', unit: 'count', better: undefined, describe: 'source: messages started; report: journal lines' },
  (d) => has(d.messages.started),
  (d) => has(d.summary.journalEntries),
);
add({ name: 'sent', unit: 'count', better: undefined, describe: 'messages whose content was sent' }, (d) => has(d.messages.sent));
add(
  { name: 'accepted', unit: 'count', better: 'higher', describe: 'messages the server accepted (report: injected)' },
  (d) => has(d.messages.accepted),
  (d) => has(d.summary.injected),
);
add({ name: 'rejected', unit: 'count', better: 'lower', describe: 'messages refused by an unexpected reply' }, (d) => has(d.messages.rejected));
add({ name: 'failed', unit: 'count', better: 'lower', describe: 'messages lost to a broken connection or a timeout' }, (d) => has(d.messages.failed));
add({ name: 'timeouts', unit: 'count', better: 'lower', describe: 'replies that never came' }, (d) => has(d.errors.timeouts));
add({ name: 'lost_connections', unit: 'count', better: 'lower', describe: 'connections the server broke' }, (d) => has(d.errors.lostConnections));
add({ name: 'connect_failures', unit: 'count', better: 'lower', describe: 'connects refused or failed' }, (d) => has(d.errors.connectFailures));
add({ name: 'server_closed', unit: 'count', better: 'lower', describe: '421/521 replies' }, (d) => has(d.errors.serverClosed));
add({ name: 'elapsed', unit: 'ms', better: undefined, describe: 'the run from start to end' }, (d) => has(d.elapsedMs));

for (const stat of PHASE_STATS) {
  add({ name: `delivery_${stat}`, unit: 'ms', better: 'lower', describe: `${stat} of the delivery latency (end-of-data reply to the last status=sent)` }, undefined, (d) =>
    d.latency ? has(d.latency[stat]) : none('no message was delivered, so there is no delivery latency'),
  );
}
add(
  { name: 'delivered', unit: 'count', better: 'higher', describe: 'messages delivered (after a deferral or not)' },
  undefined,
  (d) => has(d.summary.delivered + d.summary.deferredThenDelivered),
);
add({ name: 'bounced', unit: 'count', better: 'lower', describe: 'messages bounced or expired' }, undefined, (d) => has(d.summary.bounced));
add({ name: 'deferred', unit: 'count', better: 'lower', describe: 'messages still deferred when the log ends' }, undefined, (d) => has(d.summary.deferred));
add({ name: 'pending', unit: 'count', better: 'lower', describe: 'messages in the log with no last word yet' }, undefined, (d) => has(d.summary.pending));
add({ name: 'lost', unit: 'count', better: 'lower', describe: 'messages accepted but never in the log' }, undefined, (d) => has(d.summary.lost));
add({ name: 'removed', unit: 'count', better: undefined, describe: 'messages removed (postsuper -d, discard)' }, undefined, (d) => has(d.summary.removed));
add({ name: 'peak_backlog', unit: 'count', better: 'lower', describe: 'the highest backlog (injected, not yet delivered or bounced)' }, undefined, (d) =>
  d.timeline ? has(d.timeline.peakBacklog) : none('the report has no timeline'),
);
add(
  { name: 'verdict', unit: 'kind', better: undefined, describe: `the box's verdict: ${VERDICT_KINDS.join(', ')}` },
  (d) => verdictOf(d, 'run smtp-source with --sample'),
  (d) => verdictOf(d, 'run smtpstone-report with --samples'),
);

const byName = new Map(entries.map((e) => [e.def.name, e]));

/** Every metric, in the order listed above. */
export const METRICS: readonly MetricDef[] = entries.map((e) => e.def);

export function metricDef(name: string): MetricDef | undefined {
  return byName.get(name)?.def;
}

/** A hint when a metric is asked of the other kind ("; a report has delivery_p50, ..."). */
export function otherKindHint(name: string, kind: ResultKind): string {
  if (kind === 'report' && /^(p\d+|max|mean|min|\w+_(p\d+|max|mean|min))$/.test(name) && !name.startsWith('delivery_')) {
    return '; a report has delivery_p50, delivery_p99, ...';
  }
  if (kind === 'source' && name.startsWith('delivery_')) return '; delivery latency is in smtpstone-report --json';
  return '';
}

/** The value of a metric in a result, or why there is none. Unknown names throw. */
export function metricValue(r: ResultDoc, name: string): MetricValue {
  const e = byName.get(name);
  if (e === undefined) throw new Error(`unknown metric: ${name}`);
  const get = r.kind === 'source' ? e.source : e.report;
  if (get === undefined) return none(`${KIND_NAME[r.kind]} does not have it${otherKindHint(name, r.kind)}`);
  return r.kind === 'source' ? (get as Getter<SourceResultDoc>)(r.doc) : (get as Getter<ReportDoc>)(r.doc);
}

/** Every metric a result of this kind can have, with its value or why it has none. */
export function allMetrics(r: ResultDoc): { def: MetricDef; value: MetricValue }[] {
  return METRICS.filter((d) => d.kinds.includes(r.kind)).map((def) => ({ def, value: metricValue(r, def.name) }));
}

/** The metric names for an error message: the short ones, and the phase pattern. */
export function metricNamesHint(): string {
  const shown = METRICS.filter((d) => !/^(connect|banner|helo|mail|rcpt|data|dot|rset|quit|message|delivery|corrected)_(p\d+|max|mean|min)$/.test(d.name)).map((d) => d.name);
  return `${shown.join(', ')}, <phase>_<stat> (e.g. connect_p99), delivery_<stat>, corrected_<stat>; smtpstone-results metrics lists them`;
}

/** --metric values: repeatable and comma-separated, any case. */
export function metricList(values: readonly string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((m) => m.trim().toLowerCase()).filter((m) => m !== '');
}

/** Metrics a baseline compares when none are named. */
export const DEFAULT_BASELINE_METRICS: Record<ResultKind, readonly string[]> = {
  source: ['throughput', 'p50', 'p99', 'errors'],
  report: ['throughput', 'delivery_p50', 'delivery_p99', 'errors'],
};

/** Metrics `compare` shows when none are named (plus, for a source, each timed phase's p99). */
export const DEFAULT_COMPARE_METRICS: Record<ResultKind, readonly string[]> = {
  source: ['throughput', 'rcpt_throughput', 'started', 'accepted', 'errors', 'p50', 'p90', 'p99', 'p999', 'max', 'elapsed', 'verdict'],
  report: [
    'throughput', 'injection_rate', 'started', 'accepted', 'delivered', 'bounced', 'deferred', 'lost', 'errors',
    'delivery_p50', 'delivery_p90', 'delivery_p99', 'delivery_p999', 'delivery_max', 'peak_backlog', 'verdict',
  ],
};
