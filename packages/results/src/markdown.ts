// Judgements and comparisons as Markdown tables, for a CI job summary
// (`--markdown - >> "$GITHUB_STEP_SUMMARY"`) or a merge-request comment.
import type { Comparison } from './compare.js';
import { cell, changeCell } from './compare.js';
import type { Judgement } from './judge.js';
import { metricDef } from './metrics.js';
import { changeText, formatValue, percentText, type MetricUnit } from './units.js';

/** Text safe inside a table cell. */
const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
const code = (s: string): string => '`' + s.replace(/`/g, "'") + '`';
const mark = (pass: boolean): string => (pass ? '✅ pass' : '❌ FAIL');
const unitOf = (metric: string): MetricUnit => metricDef(metric)?.unit ?? 'count';

export function judgementMarkdown(j: Judgement, title = 'Performance gates'): string {
  const out: string[] = [`### ${title}: ${j.pass ? 'PASS' : 'FAIL'}`, ''];
  if (j.gates.length > 0) {
    out.push('| | gate | actual |', '|---|---|---|');
    for (const g of j.gates) {
      out.push(`| ${mark(g.pass)} | ${code(g.gate)} | ${esc(g.shown ?? g.detail)} |`);
    }
    out.push('');
  }
  if (j.baseline !== undefined) {
    const b = j.baseline;
    out.push(`Against the baseline ${code(b.baseline)}:`, '', '| | metric | baseline | this run | change | allowed |', '|---|---|---:|---:|---:|---:|');
    for (const r of b.rows) {
      const u = unitOf(r.metric);
      const v = (x: number | null): string => (x === null ? '-' : formatValue(u, x));
      const allowed = `${r.better === 'lower' ? '+' : '-'}${percentText(r.allowedPct)} %`;
      out.push(`| ${mark(r.pass)} | ${r.metric} | ${v(r.baseline)} | ${v(r.current)} | ${r.changePct === null ? '' : changeText(r.changePct)} | ${allowed} |`);
    }
    out.push('');
  }
  for (const w of j.warnings) out.push(`> warning: ${esc(w)}`, '');
  return out.join('\n');
}

export function comparisonMarkdown(c: Comparison): string {
  const out = [`| metric | ${esc(c.a)} | ${esc(c.b)} | change | |`, '|---|---:|---:|---:|---|'];
  for (const r of c.rows) {
    const dir = r.direction === 'better' ? 'better' : r.direction === 'worse' ? '**worse**' : r.direction === 'changed' ? 'changed' : '';
    out.push(`| ${r.metric} | ${esc(cell(r.unit, r.a))} | ${esc(cell(r.unit, r.b))} | ${changeCell(r)} | ${dir} |`);
  }
  return out.join('\n') + '\n';
}
