// The step table every renderer lays out (terminal, Markdown, HTML): one row per step in rate
// order, the columns that apply to this sweep (the box's verdict with --sample, the delivery
// figures with --log), and the bounds as PASS/FAIL cells.
import { svg } from '@smtpstone/reporter';
import { BOUND_NAMES, BOUND_TITLES, byRate, type BoundName } from '../judge.js';
import type { StepResult } from '../step.js';
import type { SweepResult } from '../sweep.js';

export interface Column {
  key: string;
  title: string;
  /** Numbers right-aligned. */
  num: boolean;
}

export interface Row {
  step: StepResult;
  cells: Record<string, string>;
  /** PASS/FAIL (or '' where the bound did not apply), by bound. */
  bounds: Partial<Record<BoundName, boolean>>;
}

export interface StepTable {
  columns: Column[];
  /** The bounds that apply to some step, in table order. */
  bounds: BoundName[];
  rows: Row[];
}

export const rate = (perSecond: number | null | undefined): string => (perSecond === null || perSecond === undefined ? '–' : `${svg.formatNumber(perSecond)}/s`);
export const duration = (ms: number | null | undefined): string => (ms === null || ms === undefined ? '–' : svg.formatDuration(ms));
export const percent = (share: number | null | undefined): string => (share === null || share === undefined ? '–' : svg.formatPercent(share * 100));

export const VERDICT_TEXT: Record<StepResult['verdict'], string> = { pass: 'PASS', fail: 'FAIL', untrusted: 'UNTRUSTED', incomplete: 'INCOMPLETE' };

export function stepTable(r: SweepResult): StepTable {
  const steps = byRate(r.steps);
  const sampled = steps.some((s) => s.system !== undefined);
  const logged = steps.some((s) => s.delivery !== undefined);
  const columns: Column[] = [
    { key: 'step', title: 'step', num: true },
    { key: 'offered', title: 'offered', num: true },
    { key: 'accepted', title: 'accepted', num: true },
    { key: 'p50', title: 'p50', num: true },
    { key: 'p99', title: 'p99', num: true },
    { key: 'late', title: 'late', num: true },
    { key: 'errors', title: 'errors', num: true },
  ];
  if (sampled) columns.push({ key: 'box', title: 'box', num: false });
  if (logged) {
    columns.push({ key: 'delivered', title: 'delivered', num: true }, { key: 'backlog', title: 'backlog', num: true }, { key: 'dp99', title: 'deliv p99', num: true });
  }
  columns.push({ key: 'verdict', title: 'verdict', num: false });
  const used = new Set<BoundName>();
  const rows: Row[] = steps.map((s) => {
    const bounds: Row['bounds'] = {};
    for (const b of s.bounds) {
      bounds[b.bound] = b.pass;
      used.add(b.bound);
    }
    const broken = s.bounds.filter((b) => !b.pass).map((b) => BOUND_TITLES[b.bound]);
    const cells: Record<string, string> = {
      step: `${s.index}${s.kind === 'refine' ? 'r' : ''}`,
      offered: rate(s.offeredPerSecond),
      accepted: rate(s.acceptedPerSecond),
      p50: s.latency.count > 0 ? duration(s.latency.p50) : '–',
      p99: s.latency.count > 0 ? duration(s.latency.p99) : '–',
      late: percent(s.lateStarts.share),
      errors: String(s.errors),
      box: s.system?.kind ?? '–',
      delivered: rate(s.delivery?.deliveryPerSecond),
      backlog: s.delivery !== undefined ? String(s.delivery.peakBacklog) : '–',
      dp99: duration(s.delivery?.latency?.p99),
      verdict: VERDICT_TEXT[s.verdict] + (broken.length > 0 ? ` (${broken.join(', ')})` : ''),
    };
    return { step: s, cells, bounds };
  });
  return { columns, bounds: BOUND_NAMES.filter((b) => used.has(b)), rows };
}

/** One line on what was swept: the target, the steps, the settings that shape the load. */
export function sweepLine(r: SweepResult): string {
  const s = r.settings;
  const src = s.source as { sessions?: number; reuseConnection?: boolean; length?: number; recipients?: number; pipelining?: boolean; lmtp?: boolean };
  const flags = [`-s ${src.sessions}`];
  if (src.reuseConnection) flags.push('-d');
  if (src.length) flags.push(`-l ${src.length}`);
  if (src.recipients && src.recipients > 1) flags.push(`-r ${src.recipients}`);
  if (src.pipelining) flags.push('--pipelining');
  if (src.lmtp) flags.push('-L');
  const refine = r.steps.filter((x) => x.kind === 'refine').length;
  const planned = r.steps.length - refine;
  return (
    `${r.target}: ${planned} of ${s.rates.length} planned step(s)${refine > 0 ? ` and ${refine} refining` : ''} of ${duration(s.stepDurationMs)}, ` +
    `${rate(s.rates[0])} to ${rate(s.rates[s.rates.length - 1])}; ${flags.join(' ')}` +
    (s.sample ? '; box sampled' : '') +
    (s.log !== undefined ? `; log ${s.log}` : '')
  );
}

/** The bounds each step was held to, in words. */
export function boundsLine(r: SweepResult): string {
  const b = r.settings.bounds;
  const parts = [`accepted >= ${percent(b.minAcceptedShare)} of offered`, `corrected p99 <= ${duration(b.maxP99Ms)}`];
  if (r.settings.log !== undefined) {
    parts.push(`delivery >= ${percent(b.minDeliveryShare)} of injection, queue drained`);
    if (b.maxDeliveryP99Ms !== undefined) parts.push(`delivery p99 <= ${duration(b.maxDeliveryP99Ms)}`);
  }
  parts.push('smtp-source not saturated');
  return `bounds: ${parts.join(', ')}`;
}
