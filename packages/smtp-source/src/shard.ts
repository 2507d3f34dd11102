// --shard i/N: one of N copies of smtp-source running one test together (a Kubernetes Indexed
// Job, a CI matrix, processes on one box), merged afterwards with `smtpstone-results merge`.
// Each copy takes its share of the messages and of the rate, and its own range of message
// numbers, so journals and Message-Ids of the copies never collide.
import type { RateStage } from './schedule.js';
import type { SourceOptionsInput } from './options.js';

export interface Shard {
  /** From 0, as Kubernetes' JOB_COMPLETION_INDEX counts. */
  index: number;
  count: number;
}

/** Parses "i/N" (0 <= i < N); throws a RangeError saying what is wrong. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) throw new RangeError('wants INDEX/COUNT, e.g. 0/4 (INDEX counts from 0, as JOB_COMPLETION_INDEX does)');
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new RangeError('COUNT must be at least 1');
  if (index >= count) throw new RangeError(`INDEX must be below COUNT (0 to ${count - 1})`);
  return { index, count };
}

/**
 * This copy's part of a run: -m split as evenly as whole messages allow (the first copies take
 * one more), rates and stage rates divided by N, message numbers from where the copies before
 * it end. Sessions (-s) stay per copy: each copy is a generator of its own. --duration and the
 * stages' lengths are the same for every copy.
 */
export function applyShard(input: SourceOptionsInput, shard: Shard): SourceOptionsInput {
  const { index, count } = shard;
  const out: SourceOptionsInput = { ...input };
  const total = input.messages;
  let firstSeq = 1;
  if (total !== undefined && Number.isFinite(total) && input.durationMs === undefined) {
    const base = Math.floor(total / count);
    const extra = total % count;
    out.messages = base + (index < extra ? 1 : 0);
    firstSeq = index * base + Math.min(index, extra) + 1;
  } else {
    // Time ends the run: no share to count, so ranges a billion apart keep numbers apart.
    firstSeq = index * 1_000_000_000 + 1;
  }
  if (input.rate !== undefined) out.rate = { perSecond: input.rate.perSecond / count };
  if (input.stages !== undefined) {
    out.stages = input.stages.map((s: RateStage) => ({ ...s, fromPerSecond: s.fromPerSecond / count, toPerSecond: s.toPerSecond / count }));
  }
  out.shard = { index, count, firstSeq };
  return out;
}
