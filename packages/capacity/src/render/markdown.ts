// The sweep as Markdown, for a CI job summary (`--markdown "$GITHUB_STEP_SUMMARY"`): the knee and
// the recommendation first, then a row per step with each bound as a tick or a cross.
import { BOUND_HEADINGS } from '../judge.js';
import type { SweepResult } from '../sweep.js';
import { boundsLine, rate, stepTable, sweepLine } from './table.js';

/** Table cells may hold anything a log or a server said: pipes and line ends would break the row. */
const cell = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');

export function headlineOf(r: SweepResult): string {
  const k = r.knee;
  switch (k.status) {
    case 'found':
      return `knee ${rate(k.kneePerSecond)}, recommended ${rate(k.recommendedPerSecond)}`;
    case 'not-reached':
      return `no knee up to ${rate(k.kneePerSecond)}, recommended at least ${rate(k.recommendedPerSecond)}`;
    case 'below-range':
      return `knee below ${rate(k.firstFailing?.ratePerSecond)}`;
    case 'untrusted':
      return 'not trustworthy: the load generator was saturated';
    case 'none':
      return 'no step completed';
  }
}

export function renderMarkdown(r: SweepResult): string {
  const t = stepTable(r);
  const k = r.knee;
  const out: string[] = [];
  const mark = k.require === undefined ? '' : k.require.pass ? '✅ ' : '❌ ';
  out.push(`### Capacity sweep: ${mark}${headlineOf(r)}`, '');
  out.push(`${cell(sweepLine(r))}  `, `${cell(boundsLine(r))}`, '');
  for (const l of k.lines) out.push(`- ${cell(l)}`);
  if (k.require !== undefined) out.push(`- ${k.require.pass ? '✅' : '❌'} ${cell(k.require.line.replace(/^(PASS|FAIL)\s+/, ''))}`);
  out.push('');
  const cols = t.columns.filter((c) => c.key !== 'verdict');
  const head = [...cols.map((c) => c.title), ...t.bounds.map((b) => BOUND_HEADINGS[b]), 'verdict'];
  const align = [...cols.map((c) => (c.num ? '---:' : '---')), ...t.bounds.map(() => ':---:'), '---'];
  out.push(`| ${head.join(' | ')} |`, `| ${align.join(' | ')} |`);
  for (const row of t.rows) {
    const bounds = t.bounds.map((b) => (row.bounds[b] === undefined ? '' : row.bounds[b] ? '✅' : '❌'));
    const verdict = row.step.verdict === 'pass' ? '**PASS**' : row.step.verdict === 'fail' ? '**FAIL**' : `**${row.step.verdict.toUpperCase()}**`;
    out.push(`| ${[...cols.map((c) => cell(row.cells[c.key] ?? '')), ...bounds, verdict].join(' | ')} |`);
  }
  const refined = r.steps.some((s) => s.kind === 'refine') ? '`r`: a refining step (bisection between the last pass and the first failure). ' : '';
  out.push('', `${refined}Latency is from each message's due time (coordinated omission corrected).`);
  const notes = [...k.notes, ...(r.interrupted ? ['interrupted: the sweep stopped before its plan was done'] : [])];
  if (notes.length > 0) {
    out.push('');
    for (const n of notes) out.push(`> ${cell(n)}`);
  }
  return out.join('\n') + '\n';
}
