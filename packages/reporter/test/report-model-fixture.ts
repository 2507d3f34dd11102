// Report models for the renderers' tests, built the way a run produces them: a small queue
// simulation gives each message its injection and delivery times, and the summary, timeline and
// latency curve are computed from those (so the numbers agree with each other). The system
// samples start from the /proc readings captured in the sampler's fixtures, varied second by
// second, and get the sampler's real verdict.
import { join } from 'node:path';
import { distribution, percentile, MESSAGE_FATES, type CorrelationSummary, type MessageFate } from '../src/correlate/index.js';
import type { LatencyHistogram, LatencyPoint, ReportModel, Timeline, TimelineBucket } from '../src/report/model.js';
import { computeSample, makeSystemRecord, readSnapshot, type SystemRecord, type SystemSample } from '../../sampler/src/index.js';
import { FIXTURES, fixtureClock } from '../../sampler/test/sampler-helpers.js';

/** A log text no renderer may pass through raw. */
export const HOSTILE = 'host mx.remote.example said: 550 <script>alert("x")</script> | rejected & "done"';

const START = Date.UTC(2026, 10, 24, 21, 12, 0);
const GENERATED = '2026-11-24T21:30:00.000Z';

/** mulberry32: small, deterministic, good enough for test data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SimMessage {
  injectedAt: number;
  fate: MessageFate;
  deliveredAt?: number;
  deferralAt?: number;
  /** delays=a/b/c/d of the final line, seconds. */
  delays?: [number, number, number, number];
}

interface SimOptions {
  n: number;
  /** Messages per second the generator injects, and the MTA delivers at most. */
  injectRate: number;
  serviceRate: number;
  /** Fixed part of every delivery, ms (cleanup, qmgr pickup, the SMTP conversation). */
  baseMs: number;
  /** Time the MTA spends writing the queue file, ms (delays= a). */
  writeMs: number;
  deferred: number;
  deferredThenDelivered: number;
  lost: number;
  retryMs: number;
  seed: number;
}

/**
 * One queue served in order at `serviceRate`: when injection outruns it, the backlog and the
 * latency grow the way a disk-bound MTA's do.
 */
function simulate(o: SimOptions): SimMessage[] {
  const rand = rng(o.seed);
  const out: SimMessage[] = [];
  let free = START;
  const every = (k: number): number => (k > 0 ? Math.floor(o.n / k) : Infinity);
  for (let i = 0; i < o.n; i++) {
    const injectedAt = START + (i * 1000) / o.injectRate + rand() * 2;
    const special = (k: number, offset: number): boolean => k > 0 && i % every(k) === offset && Math.floor(i / every(k)) < k;
    if (special(o.lost, 3)) {
      out.push({ injectedAt, fate: 'lost' });
      continue;
    }
    if (special(o.deferred, 5)) {
      out.push({ injectedAt, fate: 'deferred', deferralAt: injectedAt + 1500 });
      continue;
    }
    const a = (o.writeMs * (0.6 + rand() * 0.8)) / 1000;
    const c = 0.001 + rand() * 0.004;
    const d = (o.baseMs * (0.5 + rand())) / 1000;
    const ready = injectedAt + a * 1000;
    free = Math.max(free, ready) + (1000 / o.serviceRate) * (0.6 + rand() * 0.8);
    const b = (free - ready) / 1000;
    if (special(o.deferredThenDelivered, 7)) {
      const retry = o.retryMs * (0.9 + rand() * 0.2);
      out.push({
        injectedAt, fate: 'deferred-then-delivered', deferralAt: injectedAt + 1200,
        deliveredAt: injectedAt + retry + (c + d) * 1000, delays: [retry / 1000, 0.002, c, d],
      });
      continue;
    }
    out.push({ injectedAt, fate: 'delivered', deliveredAt: free + (c + d) * 1000, delays: [a, b, c, d] });
  }
  return out;
}

/** Percentiles the way HdrHistogram iterates them: halving the distance to 100 in five steps. */
function latencyHistogram(latencies: number[]): LatencyHistogram | undefined {
  if (latencies.length === 0) return undefined;
  const sorted = [...latencies].sort((x, y) => x - y);
  const d = distribution(sorted)!;
  const curve: LatencyPoint[] = [];
  for (let k = 0; ; k++) {
    const p = 100 * (1 - 0.5 ** (k / 5));
    if (p > 100 * (1 - 1 / sorted.length)) break;
    curve.push({ percentile: p, ms: percentile(sorted, Math.max(p, 1e-9)) });
  }
  curve.push({ percentile: 100, ms: d.max });
  return {
    count: d.count, min: d.min, mean: d.mean, max: d.max, p50: d.p50, p90: d.p90, p99: d.p99,
    p999: percentile(sorted, 99.9), curve, encoded: '',
  };
}

function timelineOf(msgs: readonly SimMessage[], bucketMs = 1000): Timeline {
  const idx = (t: number): number => Math.floor((t - START) / bucketMs);
  const ends = msgs.flatMap((m) => [m.injectedAt, m.deliveredAt ?? m.injectedAt, m.deferralAt ?? m.injectedAt]);
  const n = idx(Math.max(...ends)) + 1;
  const buckets: TimelineBucket[] = Array.from({ length: n }, (_, i) => ({
    start: START + i * bucketMs, injected: 0, delivered: 0, bounced: 0, deferrals: 0, backlog: 0,
  }));
  for (const m of msgs) {
    buckets[idx(m.injectedAt)].injected++;
    if (m.deliveredAt !== undefined) buckets[idx(m.deliveredAt)].delivered++;
    if (m.deferralAt !== undefined) buckets[idx(m.deferralAt)].deferrals++;
  }
  let backlog = 0;
  let peak = 0;
  let peakAt: number | null = null;
  for (const b of buckets) {
    backlog += b.injected - b.delivered - b.bounced;
    b.backlog = backlog;
    if (backlog > peak) [peak, peakAt] = [backlog, b.start + bucketMs];
  }
  const span = (ts: number[]): number => (Math.max(...ts) - Math.min(...ts)) / 1000;
  const injected = msgs.map((m) => m.injectedAt);
  const delivered = msgs.flatMap((m) => (m.deliveredAt === undefined ? [] : [m.deliveredAt]));
  return {
    bucketMs, start: START, buckets, peakBacklog: peak, peakBacklogAt: peakAt,
    injectionRate: injected.length > 1 ? injected.length / span(injected) : null,
    deliveryRate: delivered.length > 1 ? delivered.length / span(delivered) : null,
  };
}

function summaryOf(msgs: readonly SimMessage[], notAccepted: number): CorrelationSummary {
  const fates = Object.fromEntries(MESSAGE_FATES.map((f) => [f, 0])) as Record<MessageFate, number>;
  for (const m of msgs) fates[m.fate]++;
  fates['not-accepted'] = notAccepted;
  const sent = msgs.filter((m) => m.deliveredAt !== undefined);
  const part = (k: number) => distribution(sent.map((m) => m.delays![k]));
  const found = msgs.length - fates.lost;
  const byMessageId = Math.min(found, 3);
  const recipients: Record<string, number> = {};
  if (sent.length) recipients.sent = sent.length;
  if (fates.deferred) recipients.deferred = fates.deferred;
  return {
    journalEntries: msgs.length + notAccepted, injected: msgs.length, notAccepted, found,
    joinedByQueueId: found - byMessageId, joinedByMessageId: byMessageId, lost: fates.lost,
    delivered: fates.delivered, deferredThenDelivered: fates['deferred-then-delivered'], bounced: fates.bounced,
    deferred: fates.deferred, pending: fates.pending, removed: fates.removed, fates, recipients,
    recipientsDeferredOnce: fates.deferred + fates['deferred-then-delivered'],
    latencyMs: distribution(sent.map((m) => m.deliveredAt! - m.injectedAt)),
    latencyPrecision: found > 0 ? 'us' : undefined,
    delay: distribution(sent.map((m) => m.delays!.reduce((x, y) => x + y, 0))),
    delays: { beforeQmgr: part(0), inQmgr: part(1), connSetup: part(2), transmission: part(3) },
    records: found * 5 + 120, matchedRecords: found * 5,
  };
}

// ---------------------------------------------------------------------------------------------
// System samples

/** The sample between two captured /proc readings (see the sampler's fixtures README). */
export function capturedSample(a: string, b: string): SystemSample {
  const clock = fixtureClock(a, b);
  const first = readSnapshot({ procRoot: join(FIXTURES, a), clock });
  return computeSample(first, readSnapshot({ procRoot: join(FIXTURES, b), clock }));
}

/** `base` moved to second `i` of the run, its rates scaled by about `level` (±15 %). */
function varied(base: SystemSample, i: number, level: number, rand: () => number): SystemSample {
  const f = level * (0.85 + rand() * 0.3);
  const cpu = base.cpu && { ...base.cpu };
  if (cpu) {
    for (const k of ['user', 'system', 'iowait', 'softirq'] as const) if (cpu[k] !== null) cpu[k] = Math.min(100, cpu[k]! * f);
    const used = (cpu.user ?? 0) + (cpu.nice ?? 0) + (cpu.system ?? 0) + (cpu.irq ?? 0) + (cpu.softirq ?? 0) + (cpu.steal ?? 0);
    cpu.idle = Math.max(0, 100 - used - (cpu.iowait ?? 0));
    cpu.busy = used;
  }
  const pct = (x: number | null): number | null => (x === null ? null : Math.min(100, x * f));
  return {
    ...base,
    epochMs: START + (i + 1) * 1000, monoMs: 5_000_000 + (i + 1) * 1000, intervalMs: 1000,
    cpu,
    iowaitCpus: cpu?.iowait != null && base.cpuCount !== null ? (cpu.iowait * base.cpuCount) / 100 : null,
    psiIo: base.psiIo && { ...base.psiIo, somePct: pct(base.psiIo.somePct), fullPct: pct(base.psiIo.fullPct) },
    disks: base.disks && base.disks.map((d) => ({ ...d, utilPct: Math.min(100, d.utilPct * f), wPerSec: d.wPerSec * f, wkBPerSec: d.wkBPerSec * f, aquSz: d.aquSz * f })),
  };
}

function record(samples: SystemSample[]): SystemRecord {
  return { ...makeSystemRecord(samples, 1000), host: 'mx1.example' };
}

/** Postfix writing queue files on a slow disk: the captured dd second, after a quiet start. */
function diskBoundRecord(seconds: number): SystemRecord {
  const rand = rng(7);
  const dd = capturedSample('dd-a', 'dd-b');
  const idle = capturedSample('idle-a', 'idle-b');
  return record(Array.from({ length: seconds }, (_, i) => (i < 3 ? varied(idle, i, 1, rand) : varied(dd, i, 1, rand))));
}

/** A comfortable box: a third of its CPU, some I/O, no stalls worth the name. */
function healthyRecord(seconds: number): SystemRecord {
  const rand = rng(11);
  const idle = capturedSample('idle-a', 'idle-b');
  const base: SystemSample = {
    ...idle,
    cpu: { user: 22, nice: 0, system: 10, idle: 64, iowait: 1.5, irq: 0, softirq: 2.5, steal: 0, busy: 34.5 },
    psiIo: { somePct: 4, fullPct: 0.6, someAvg10: 3.8, fullAvg10: 0.5 },
    disks: idle.disks!.map((d) => ({ ...d, utilPct: 14, wPerSec: 900, wkBPerSec: 7200, aquSz: 0.12, awaitMs: 0.3, wAwaitMs: 0.3 })),
  };
  return record(Array.from({ length: seconds }, (_, i) => varied(base, i, 1, rand)));
}

// ---------------------------------------------------------------------------------------------
// The models

function model(title: string, msgs: SimMessage[], notAccepted: number, system: SystemRecord | undefined, warnings: string[]): ReportModel {
  const summary = summaryOf(msgs, notAccepted);
  return {
    title,
    generatedAt: GENERATED,
    inputs: { journal: '/var/tmp/run/journal.jsonl', logs: ['/var/log/mail.log'], samples: system ? '/var/tmp/run/samples.json' : undefined },
    summary,
    timeline: msgs.length ? timelineOf(msgs) : undefined,
    latency: latencyHistogram(msgs.flatMap((m) => (m.deliveredAt === undefined ? [] : [m.deliveredAt - m.injectedAt]))),
    system,
    warnings,
  };
}

/** 20000 messages at 400/s into an MTA that keeps up: everything delivered within a second or so. */
export function healthyModel(): ReportModel {
  const msgs = simulate({
    n: 20000, injectRate: 400, serviceRate: 700, baseMs: 60, writeMs: 8,
    deferred: 0, deferredThenDelivered: 0, lost: 0, retryMs: 0, seed: 1,
  });
  return model('smtpstone report: relay to sink, 20000 messages', msgs, 0, healthyRecord(52), []);
}

/**
 * 20000 messages at 250/s into an MTA whose disk lets it deliver about 160/s: the backlog climbs
 * to thousands, latency to tens of seconds; some deferrals, a few lost. Titles, paths and
 * warnings carry markup and pipes, as log texts may.
 */
export function diskBoundModel(): ReportModel {
  const msgs = simulate({
    n: 20000, injectRate: 250, serviceRate: 160, baseMs: 40, writeMs: 350,
    deferred: 10, deferredThenDelivered: 40, lost: 2, retryMs: 60_000, seed: 2,
  });
  const m = model('Disk-bound run <b>#2</b> | nightly', msgs, 4, diskBoundRecord(130), [
    '2 accepted messages never appeared in the log (lost): seq 4, 10004',
    `1 log line not understood: Nov 24 21:12:41 mx postfix/smtp[4483]: 4F2A1C0: ${HOSTILE}`,
    '/var/tmp/run/journal.jsonl: 1 truncated and 0 unreadable lines skipped',
  ]);
  m.inputs.logs = ['/var/log/mail.log', '/tmp/a|b/<mail>.log'];
  return m;
}

/** A run where nothing reached the log and nobody sampled the box. */
export function emptyModel(): ReportModel {
  const summary = summaryOf(
    [
      { injectedAt: START, fate: 'lost' },
      { injectedAt: START + 10, fate: 'lost' },
    ],
    1,
  );
  return {
    title: 'smtpstone report: nothing delivered',
    generatedAt: GENERATED,
    inputs: { journal: 'journal.jsonl', logs: ['mail.log'], samples: undefined },
    summary,
    timeline: undefined,
    latency: undefined,
    system: undefined,
    warnings: ['2 accepted messages never appeared in the log (lost): check --log, --zone and --year'],
  };
}

export const FIXTURE_MODELS = { healthy: healthyModel, 'disk-bound': diskBoundModel, empty: emptyModel } as const;
