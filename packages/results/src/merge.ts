// Shards of one load test (smtp-source on several machines or processes) as one result: counts
// summed, each phase's HDR histograms added so its percentiles are those of all the samples, and
// the rates taken over the union of the shards' spans.
import { perSecond } from '@smtpstone/core';
import { KIND_NAME, SOURCE_PHASES, type MergedFrom, type PhaseSummaryDoc, type ResultDoc, type SourcePhase, type SourceResultDoc } from './documents.js';
import { addHistograms, decodeHistogram, phaseSummary } from './histogram.js';

export interface MergeInput {
  /** How the shard is named in warnings and in `merged.sources` (its file). */
  name: string;
  result: ResultDoc;
}

export interface MergeOutcome {
  result: SourceResultDoc;
  /** Things that do not stop the merge but that the reader should know (other targets, settings). */
  warnings: string[];
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** Settings that should agree between shards of one test; a difference is warned about. */
const SHARD_SETTINGS = ['recipients', 'length', 'messageFile', 'lmtp', 'pipelining', 'reuseConnection', 'oldMode', 'allowReject'];

function sumCounts<T extends Record<string, number>>(parts: readonly T[]): T {
  const out = {} as Record<string, number>;
  for (const p of parts) for (const [k, v] of Object.entries(p)) out[k] = (out[k] ?? 0) + v;
  return out as T;
}

function startMs(r: SourceResultDoc, name: string): number {
  const t = Date.parse(r.startedAt);
  if (!Number.isFinite(t)) throw new Error(`${name}: startedAt is not a time: ${JSON.stringify(r.startedAt)}`);
  return t;
}

/** Top-level fields of a result that a merge knows how to combine. */
const KNOWN_FIELDS = new Set([
  'target', 'options', 'startedAt', 'elapsedMs', 'messages', 'recipients', 'bytes', 'connections', 'errors', 'rejects',
  'throughput', 'latency', 'correctedLatency', 'fatal', 'interrupted', 'system', 'merged',
]);

/**
 * A histogram knows its min and max only to its precision (the edge of their buckets); the
 * shards' own min and max are exact, and so are the smallest and largest of them.
 */
function exactEnds(merged: PhaseSummaryDoc, parts: readonly PhaseSummaryDoc[]): PhaseSummaryDoc {
  const timed = parts.filter((p) => p.count > 0);
  if (timed.length === 0) return merged;
  return { ...merged, min: Math.min(...timed.map((p) => p.min)), max: Math.max(...timed.map((p) => p.max)) };
}

/** Fields that describe one process (smtp-source's own load) and have no merged meaning. */
const PER_PROCESS = new Set(['generator']);

function decode(name: string, phase: string, encoded: string) {
  try {
    return decodeHistogram(encoded);
  } catch (err) {
    throw new Error(`${name}: the ${phase} phase's histogram cannot be decoded (${(err as Error).message})`);
  }
}

/**
 * Merges smtp-source results (or earlier merges of them). Refuses anything else, and results whose
 * histograms cannot be decoded; shards against different targets or with different message
 * settings are merged with a warning.
 */
export function mergeResults(inputs: readonly MergeInput[]): MergeOutcome {
  if (inputs.length === 0) throw new Error('nothing to merge');
  const shards: { name: string; r: SourceResultDoc }[] = inputs.map(({ name, result }) => {
    if (result.kind !== 'source') throw new Error(`${name} is ${KIND_NAME[result.kind]}; merge takes smtp-source --json results only`);
    return { name, r: result.doc };
  });
  const warnings: string[] = [];
  const first = shards[0];

  const targets = [...new Set(shards.map((s) => s.r.target))];
  if (targets.length > 1) warnings.push(`the shards ran against different targets: ${targets.join(', ')}`);
  for (const key of SHARD_SETTINGS) {
    const seen = new Map<string, string[]>();
    for (const s of shards) {
      const v = JSON.stringify(s.r.options?.[key]) ?? 'unset';
      seen.set(v, [...(seen.get(v) ?? []), s.name]);
    }
    if (seen.size > 1) warnings.push(`the shards differ in ${key}: ${[...seen].map(([v, names]) => `${v} in ${names.join(', ')}`).join('; ')}`);
  }

  // The union span: earliest start to latest end, on the shards' wall clocks.
  const starts = shards.map((s) => startMs(s.r, s.name));
  const ends = shards.map((s, i) => starts[i] + s.r.elapsedMs);
  const begin = Math.min(...starts);
  const elapsedMs = round3(Math.max(...ends) - begin);

  const latency = {} as Record<SourcePhase, PhaseSummaryDoc>;
  for (const phase of SOURCE_PHASES) {
    // A phase no shard has (tls and auth in results older than them) is left out.
    if (shards.every((s) => s.r.latency[phase] === undefined)) continue;
    const parts = shards.map((s) => {
      const p = s.r.latency[phase];
      if (p === undefined || typeof p.encoded !== 'string') throw new Error(`${s.name}: the ${phase} phase has no encoded histogram; cannot merge`);
      return decode(s.name, phase, p.encoded);
    });
    latency[phase] = exactEnds(phaseSummary(addHistograms(parts)), shards.map((s) => s.r.latency[phase]));
  }

  // Open-model runs: the corrected message latency, when every shard has it.
  const corrected = shards.filter((s) => s.r.correctedLatency?.message?.encoded !== undefined);
  if (corrected.length > 0 && corrected.length < shards.length) {
    warnings.push(`only ${corrected.length} of ${shards.length} shards have a corrected latency (open model); it is left out`);
  }
  const correctedParts = corrected.length === shards.length ? shards.map((s) => s.r.correctedLatency!.message) : undefined;
  const correctedLatency =
    correctedParts !== undefined
      ? { message: exactEnds(phaseSummary(addHistograms(correctedParts.map((p, i) => decode(shards[i].name, 'corrected message', p.encoded)))), correctedParts) }
      : undefined;
  // Fields a merge cannot combine stay with their shard in merged.sources; only those that are
  // not per process by nature are worth a warning.
  const unmerged = [...new Set(shards.flatMap((s) => Object.keys(s.r).filter((k) => !KNOWN_FIELDS.has(k) && !PER_PROCESS.has(k))))];
  if (unmerged.length > 0) warnings.push(`not merged, kept per shard in merged.sources: ${unmerged.join(', ')}`);

  const rejects: Record<string, Record<string, number>> = {};
  for (const s of shards) {
    for (const [stage, byCode] of Object.entries(s.r.rejects ?? {})) {
      const into = (rejects[stage] ??= {});
      for (const [code, n] of Object.entries(byCode)) into[code] = (into[code] ?? 0) + n;
    }
  }
  for (const stage of Object.keys(rejects)) {
    rejects[stage] = Object.fromEntries(Object.entries(rejects[stage]).sort((a, b) => Number(a[0]) - Number(b[0])));
  }

  const messages = sumCounts(shards.map((s) => s.r.messages));
  const recipients = sumCounts(shards.map((s) => s.r.recipients));
  const bytes = shards.reduce((n, s) => n + s.r.bytes, 0);
  const rate = (n: number): number => round3(perSecond(n, elapsedMs));

  const sources: MergedFrom['sources'] = shards.flatMap((s) => {
    if (s.r.merged !== undefined) return s.r.merged.sources;
    const other = Object.fromEntries(Object.entries(s.r).filter(([k]) => !KNOWN_FIELDS.has(k)));
    const runId = typeof s.r.options?.runId === 'string' ? s.r.options.runId : undefined;
    return [{ file: s.name, target: s.r.target, startedAt: s.r.startedAt, elapsedMs: s.r.elapsedMs, runId, ...(Object.keys(other).length > 0 ? { other } : {}) }];
  });
  const fatal = shards.filter((s) => s.r.fatal !== undefined).map((s) => `${s.name}: ${s.r.fatal}`);
  const systems = shards.filter((s) => s.r.system !== undefined);
  if (systems.length > 1) warnings.push(`${systems.length} shards carry samples (${systems.map((s) => s.name).join(', ')}); samples are per box and are not merged`);
  const sum = (pick: (r: SourceResultDoc) => unknown): number | undefined => {
    const values = shards.map((s) => pick(s.r));
    return values.every((v) => typeof v === 'number') ? (values as number[]).reduce((a, b) => a + b, 0) : undefined;
  };

  const result: SourceResultDoc = {
    target: targets.join(', '),
    options: {
      ...first.r.options,
      // What all shards together did.
      sessions: sum((r) => r.options?.sessions),
      messages: sum((r) => r.options?.messages),
      runId: undefined,
    },
    startedAt: new Date(begin).toISOString(),
    elapsedMs,
    messages,
    recipients,
    bytes,
    connections: sumCounts(shards.map((s) => s.r.connections)),
    errors: sumCounts(shards.map((s) => s.r.errors)),
    rejects,
    // One shard keeps its own rates, which smtp-source took over its unrounded elapsed time.
    throughput:
      shards.length === 1
        ? { ...first.r.throughput }
        : { messagesPerSecond: rate(messages.accepted), recipientsPerSecond: rate(recipients.accepted), bytesPerSecond: rate(bytes) },
    latency,
    ...(correctedLatency !== undefined ? { correctedLatency } : {}),
    ...(fatal.length > 0 ? { fatal: fatal.join('; ') } : {}),
    interrupted: shards.some((s) => s.r.interrupted),
    ...(systems.length === 1 ? { system: systems[0].r.system } : {}),
    merged: { shards: sources.length, sources },
  };
  return { result, warnings };
}
