// Judging: each step against the bounds, and the knee from the judged steps. Pure functions of
// the measured figures, so that every path (the generator saturated, no step passing, every
// step passing, a noisy curve) can be tested on made-up numbers.
import { formatRate } from '@smtpstone/smtp-source';
import type { SweepBounds } from './options.js';
import type { StepFigures, StepResult } from './step.js';

export type BoundName = 'run' | 'accepted' | 'p99' | 'delivery' | 'delivery_p99' | 'generator';

/** The bounds in the order tables show them. */
export const BOUND_NAMES: readonly BoundName[] = ['run', 'accepted', 'p99', 'delivery', 'delivery_p99', 'generator'];

export const BOUND_TITLES: Record<BoundName, string> = {
  run: 'run',
  accepted: 'accepted',
  p99: 'p99',
  delivery: 'delivery',
  delivery_p99: 'delivery p99',
  generator: 'generator',
};

/** Table headings of the bounds: the letters of the user guide's list. */
export const BOUND_HEADINGS: Record<BoundName, string> = {
  run: 'run',
  accepted: '(a) accepted',
  p99: '(b) p99',
  delivery: '(c) delivery',
  delivery_p99: '(c) delivery p99',
  generator: '(d) generator',
};

export interface BoundResult {
  bound: BoundName;
  pass: boolean;
  /** The figure judged and its limit (ms, a share 0..1, or a count), when there is one. */
  actual: number | null;
  limit: number | null;
  /** One sentence: the figure, and the limit it was held to. */
  text: string;
}

/**
 * pass: every bound held. fail: some bound broke. untrusted: some bound broke while smtp-source
 * itself was saturated, so the failure may be the generator's. incomplete: interrupted (Ctrl-C),
 * not judged.
 */
export type StepVerdict = 'pass' | 'fail' | 'untrusted' | 'incomplete';

const pct = (share: number): string => `${Number((share * 100).toPrecision(3))} %`;
const ms = (v: number): string => (v >= 1000 ? `${Number((v / 1000).toPrecision(3))} s` : `${Number(v.toPrecision(3))} ms`);
export const rateText = (perSecond: number): string => formatRate(perSecond);

/** The step's figures against the bounds: one result per bound that applies, and the verdict. */
export function judgeStep(f: StepFigures, b: SweepBounds): { bounds: BoundResult[]; verdict: StepVerdict } {
  const out: BoundResult[] = [];
  if (f.fatal !== undefined) {
    out.push({ bound: 'run', pass: false, actual: null, limit: null, text: `the step ended early: ${f.fatal}` });
  }
  // (a) The server carried the offered rate, and took (nearly) every message due.
  {
    const share = f.offeredPerSecond > 0 ? f.acceptedPerSecond / f.offeredPerSecond : 0;
    const done = f.messages.scheduled > 0 ? f.messages.accepted / f.messages.scheduled : 0;
    const pass = share >= b.minAcceptedShare && done >= b.minAcceptedShare;
    const worst = Math.min(share, done);
    const text =
      `accepted ${rateText(f.acceptedPerSecond)} of ${rateText(f.offeredPerSecond)} offered (${pct(share)}), ` +
      `${f.messages.accepted} of ${f.messages.scheduled} due messages (${pct(done)}); want >= ${pct(b.minAcceptedShare)}`;
    out.push({ bound: 'accepted', pass, actual: round4(worst), limit: b.minAcceptedShare, text });
  }
  // (b) Latency from each message's due time: what a client arriving on schedule waited.
  if (f.latency.count === 0) {
    out.push({ bound: 'p99', pass: false, actual: null, limit: b.maxP99Ms, text: `p99: no message accepted; want <= ${ms(b.maxP99Ms)}` });
  } else {
    const pass = f.latency.p99 <= b.maxP99Ms;
    out.push({ bound: 'p99', pass, actual: f.latency.p99, limit: b.maxP99Ms, text: `corrected p99 ${ms(f.latency.p99)}; want <= ${ms(b.maxP99Ms)}` });
  }
  // (c) With the MTA's log: delivery kept up, and the queue drained.
  const d = f.delivery;
  if (d !== undefined) {
    const drained = d.unsettled === 0;
    const keptUp = d.deliveryShare === null || d.deliveryShare >= b.minDeliveryShare;
    const parts: string[] = [];
    if (d.deliveryShare !== null) {
      parts.push(`delivered ${rateText(d.deliveryPerSecond ?? 0)} of ${rateText(d.injectionPerSecond ?? 0)} injected (${pct(d.deliveryShare)}; want >= ${pct(b.minDeliveryShare)})`);
    } else {
      parts.push(`delivery rate not measurable (${d.delivered} delivered within too short a span)`);
    }
    parts.push(`peak backlog ${d.peakBacklog}`);
    if (!drained) {
      const waited = d.drainTimedOut ? ' when the sweep stopped waiting' : '';
      parts.push(`${d.unsettled} of ${d.injected} accepted messages not delivered${waited}${d.lost > 0 ? ` (${d.lost} never in the log)` : ''}`);
    }
    out.push({ bound: 'delivery', pass: drained && keptUp, actual: d.deliveryShare, limit: b.minDeliveryShare, text: parts.join('; ') });
    if (b.maxDeliveryP99Ms !== undefined) {
      const p99 = d.latency?.p99;
      out.push(
        p99 === undefined
          ? { bound: 'delivery_p99', pass: false, actual: null, limit: b.maxDeliveryP99Ms, text: `delivery p99: nothing delivered; want <= ${ms(b.maxDeliveryP99Ms)}` }
          : { bound: 'delivery_p99', pass: p99 <= b.maxDeliveryP99Ms, actual: p99, limit: b.maxDeliveryP99Ms, text: `delivery p99 ${ms(p99)}; want <= ${ms(b.maxDeliveryP99Ms)}` },
      );
    }
  }
  // (d) smtp-source kept its schedule and its replies were read on time.
  const g = f.generator;
  if (g !== undefined) {
    out.push({
      bound: 'generator',
      pass: !g.saturated,
      actual: g.eventLoopDelayP99Ms,
      limit: null,
      text: g.saturated ? `smtp-source itself was saturated: ${g.reasons.join('; ')}` : `smtp-source kept up (event-loop delay p99 ${ms(g.eventLoopDelayP99Ms)}, CPU ${Math.round(g.cpuPercentMean)} %)`,
    });
  }
  if (f.interrupted) return { bounds: out, verdict: 'incomplete' };
  const serverBroke = out.some((r) => !r.pass && r.bound !== 'generator');
  // A step that passed while the generator was saturated still passed: the server did at least
  // that well. A failure then may be the generator's own.
  const verdict: StepVerdict = !serverBroke ? 'pass' : g?.saturated ? 'untrusted' : 'fail';
  return { bounds: out, verdict };
}

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

// ---- the knee -------------------------------------------------------------------------------

/**
 * found: a step failed and one below it passed. not-reached: every step passed (the knee is
 * above the range). below-range: the lowest step failed. untrusted: the deciding step failed
 * while smtp-source was saturated. none: no step was completed.
 */
export type KneeStatus = 'found' | 'not-reached' | 'below-range' | 'untrusted' | 'none';

export interface KneeRecord {
  status: KneeStatus;
  /** The highest passing rate below the first step that did not pass (found, not-reached). */
  kneePerSecond: number | null;
  /** The highest passing rate below the deciding step, whatever the status: what the box surely took. */
  lowerBoundPerSecond: number | null;
  /** The first step (by rate) that did not pass, and the bounds it broke. */
  firstFailing: { index: number; ratePerSecond: number; verdict: StepVerdict; broken: BoundName[]; reasons: string[] } | null;
  /** knee x (1 - headroom); a floor when the knee was not reached. */
  recommendedPerSecond: number | null;
  headroom: number;
  trustworthy: boolean;
  /** --require: the floor, and whether the lower bound reached it. */
  require?: { floorPerSecond: number; pass: boolean; line: string };
  /** The knee and recommendation as sentences: what the terminal, Markdown and HTML print. */
  lines: string[];
  /** Things the reader must know: a noisy curve, -s reached, few messages per step. */
  notes: string[];
}

/** The steps in rate order; steps run at the same rate keep their run order. */
export function byRate<T extends { ratePerSecond: number; index: number }>(steps: readonly T[]): T[] {
  return [...steps].sort((a, b) => a.ratePerSecond - b.ratePerSecond || a.index - b.index);
}

export function findKnee(steps: readonly StepResult[], headroom: number, requirePerSecond?: number): KneeRecord {
  const judged = byRate(steps.filter((s) => s.verdict !== 'incomplete'));
  let lastPass: StepResult | undefined;
  let deciding: StepResult | undefined;
  const laterPasses: StepResult[] = [];
  for (const s of judged) {
    if (deciding === undefined) {
      // A second run at a rate already failed counts as failed: the lower verdict holds.
      if (s.verdict === 'pass') lastPass = s;
      else deciding = s;
    } else if (s.verdict === 'pass' && s.ratePerSecond > deciding.ratePerSecond) {
      laterPasses.push(s);
    }
  }
  if (lastPass !== undefined && deciding !== undefined && lastPass.ratePerSecond === deciding.ratePerSecond) {
    // Same rate, passed once and failed once: the rate is not good.
    lastPass = judged.filter((s) => s.verdict === 'pass' && s.ratePerSecond < deciding!.ratePerSecond).pop();
  }
  const notes: string[] = [];
  const lines: string[] = [];
  let status: KneeStatus;
  if (judged.length === 0) status = 'none';
  else if (deciding === undefined) status = 'not-reached';
  else if (deciding.verdict === 'untrusted') status = 'untrusted';
  else status = lastPass === undefined ? 'below-range' : 'found';

  const lowerBound = lastPass?.ratePerSecond ?? null;
  const knee = status === 'found' || status === 'not-reached' ? lowerBound : null;
  const recommended = knee === null ? null : roundRate(knee * (1 - headroom));
  const broken = deciding?.bounds.filter((b) => !b.pass && b.bound !== 'generator') ?? [];
  const firstFailing =
    deciding === undefined
      ? null
      : {
          index: deciding.index,
          ratePerSecond: deciding.ratePerSecond,
          verdict: deciding.verdict,
          broken: broken.map((b) => b.bound),
          reasons: (deciding.verdict === 'untrusted' ? deciding.bounds.filter((b) => !b.pass) : broken).map((b) => b.text),
        };
  const headroomText = `${Number((headroom * 100).toPrecision(3))} %`;
  const why = firstFailing === null ? '' : firstFailing.reasons.join('; ');
  switch (status) {
    case 'none':
      lines.push('knee: none: no step was completed');
      break;
    case 'found':
      lines.push(`knee: ${rateText(knee!)} (the highest rate that held every bound)`);
      lines.push(`first failing step: ${rateText(deciding!.ratePerSecond)}: ${why}`);
      lines.push(`recommended capacity: ${rateText(recommended!)} (the knee less ${headroomText} headroom)`);
      break;
    case 'not-reached':
      lines.push(`knee: not reached: every step held every bound, up to ${rateText(knee!)}; the box takes at least that (raise --to)`);
      lines.push(`recommended capacity: at least ${rateText(recommended!)} (${rateText(knee!)} less ${headroomText} headroom)`);
      break;
    case 'below-range':
      lines.push(`knee: below the range: the lowest step, ${rateText(deciding!.ratePerSecond)}, already failed (lower --from)`);
      lines.push(`first failing step: ${rateText(deciding!.ratePerSecond)}: ${why}`);
      lines.push('recommended capacity: none (no step passed)');
      break;
    case 'untrusted':
      lines.push(
        `knee: not trustworthy: smtp-source itself was saturated at ${rateText(deciding!.ratePerSecond)}, where the step failed, ` +
          `so the failure may be the load generator's` + (lowerBound !== null ? `; the box took at least ${rateText(lowerBound)}` : ''),
      );
      lines.push(`first failing step: ${rateText(deciding!.ratePerSecond)}: ${why}`);
      lines.push('recommended capacity: none: run the load from more cores or machines (smtp-source --shard) and sweep again');
      break;
  }

  if (laterPasses.length > 0) {
    notes.push(
      `noisy curve: ${laterPasses.map((s) => rateText(s.ratePerSecond)).join(', ')} passed above the failing ${rateText(deciding!.ratePerSecond)}; ` +
        'the knee is taken below the first failure (longer steps or a quieter box give a cleaner curve)',
    );
  }
  if (deciding !== undefined && deciding.sessions.peak >= deciding.sessions.limit && deciding.lateStarts.count > 0) {
    notes.push(
      `all ${deciding.sessions.limit} sessions (-s) were busy at ${rateText(deciding.ratePerSecond)} and messages started late: ` +
        'if the server takes more connections at once, a higher -s may carry more',
    );
  }
  const saturatedPasses = judged.filter((s) => s.verdict === 'pass' && s.generator?.saturated);
  if (saturatedPasses.length > 0) {
    notes.push(`smtp-source was saturated at ${saturatedPasses.map((s) => rateText(s.ratePerSecond)).join(', ')} but the step passed anyway`);
  }
  const few = judged.filter((s) => s.messages.scheduled < 100);
  if (few.length > 0) {
    notes.push(
      `${few.length === judged.length ? 'every step' : `${few.length} step(s)`} had fewer than 100 messages: a p99 of so few is their maximum (longer steps measure better)`,
    );
  }

  let require: KneeRecord['require'];
  if (requirePerSecond !== undefined) {
    const pass = lowerBound !== null && lowerBound >= requirePerSecond;
    const what =
      lowerBound === null
        ? 'no step passed'
        : status === 'untrusted'
          ? `the box took at least ${rateText(lowerBound)} (the knee itself is not trustworthy)`
          : status === 'not-reached'
            ? `the knee is above ${rateText(lowerBound)}`
            : `the knee is ${rateText(lowerBound)}`;
    require = { floorPerSecond: requirePerSecond, pass, line: `${pass ? 'PASS' : 'FAIL'}  require ${rateText(requirePerSecond)}: ${what}` };
  }
  return {
    status,
    kneePerSecond: knee,
    lowerBoundPerSecond: lowerBound,
    firstFailing,
    recommendedPerSecond: recommended,
    headroom,
    trustworthy: status !== 'untrusted' && status !== 'none',
    require,
    lines,
    notes,
  };
}

/** A rate to 3 significant digits (whole numbers from 100). */
function roundRate(x: number): number {
  return Math.abs(x) >= 100 ? Math.round(x) : Number(x.toPrecision(3));
}
