// The sweep for a terminal: what was swept, the step table, the knee and the recommendation,
// then what the reader must know.
import type { SweepResult } from '../sweep.js';
import { boundsLine, stepTable, sweepLine } from './table.js';

/** The step table alone, columns padded (also what the CLI prints as steps finish). */
export function formatTable(r: SweepResult): string {
  const t = stepTable(r);
  const widths = t.columns.map((c) => Math.max(c.title.length, ...t.rows.map((row) => (row.cells[c.key] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((v, i) => {
        const c = t.columns[i];
        // The last column is not padded: no trailing blanks.
        if (i === cells.length - 1) return v;
        return c.num ? v.padStart(widths[i]) : v.padEnd(widths[i]);
      })
      .join('  ')
      .trimEnd();
  const out = [line(t.columns.map((c) => c.title))];
  for (const row of t.rows) out.push(line(t.columns.map((c) => row.cells[c.key] ?? '')));
  return out.join('\n') + '\n';
}

export function formatSweep(r: SweepResult): string {
  const out: string[] = [sweepLine(r), boundsLine(r), ''];
  out.push(formatTable(r).trimEnd(), '');
  out.push(...r.knee.lines);
  if (r.knee.require !== undefined) out.push(r.knee.require.line);
  for (const n of r.knee.notes) out.push(`note: ${n}`);
  if (r.interrupted) out.push('note: interrupted: the sweep stopped before its plan was done; the knee is of the steps that ran');
  return out.join('\n') + '\n';
}
