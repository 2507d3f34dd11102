// The report command's work, apart from its flags: read the journal, the log(s) and the samples,
// correlate, build the model, write each requested output. The CLI is a thin shell over this.
import { readFileSync } from 'node:fs';
import { writeOutput } from '@smtpstone/core';
import { judgementMarkdown, type Judgement } from '@smtpstone/results';
import { systemRecordOf, type SystemRecord } from '@smtpstone/sampler';
import { correlate, readJournal, type Correlation } from './correlate/index.js';
import { readMaillog, type MaillogReader } from './maillog/index.js';
import { mergeByTime } from './maillog/merge.js';
import { buildReportModel } from './report/build.js';
import { renderHtml } from './report/html.js';
import { renderMarkdown } from './report/markdown.js';
import type { ReportModel } from './report/model.js';
import { formatReport } from './report/text.js';

export interface ReportInputs {
  journal: string;
  logs: string[];
  samples?: string;
  title?: string;
  year?: number;
  zone?: string;
  /** Ctrl-C: stop reading and report what was read. */
  signal?: AbortSignal;
}

export interface ReportOutputs {
  json?: string;
  markdown?: string;
  html?: string;
}

/** Reads a samples file: smtpstone-sample --json, or a result that carries one as `system`. */
export function readSystemRecord(path: string): SystemRecord {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`--samples ${path}: ${err instanceof SyntaxError ? 'not JSON' : (err as Error).message}`);
  }
  return systemRecordOf(doc, `--samples ${path}`);
}

/** After the fact: the whole journal against the whole log(s). */
export async function buildReport(i: ReportInputs): Promise<{ model: ReportModel; correlation: Correlation }> {
  const system = i.samples !== undefined ? readSystemRecord(i.samples) : undefined;
  const skipped = { entries: 0, truncated: 0, invalid: 0 };
  const journal = await readJournal(i.journal, skipped);
  const readers: MaillogReader[] = i.logs.map((l) => readMaillog(l, { year: i.year, zone: i.zone }));
  const correlation = await correlate(journal, mergeByTime(readers), { signal: i.signal });
  const unknown = readers.reduce((n, r) => n + r.counters.kinds.unknown + r.counters.garbled, 0);
  const model = buildReportModel(correlation, {
    title: i.title,
    journal: i.journal,
    logs: i.logs,
    samples: i.samples,
    system,
    journalSkipped: skipped,
    unknownLogLines: unknown,
  });
  if (i.signal?.aborted) model.warnings.unshift('interrupted: the report covers only the part of the log read before Ctrl-C');
  return { model, correlation };
}

/**
 * Writes the requested outputs. With --json - or --markdown - on stdout, the caller prints the
 * terminal text on stderr instead. With a judgement (--gate, --baseline), --json gains `gates`
 * and the Markdown a table of the gates.
 */
export function writeOutputs(model: ReportModel, correlation: Correlation, o: ReportOutputs, judgement?: Judgement): void {
  const gates =
    judgement !== undefined ? { gates: { pass: judgement.pass, results: judgement.gates, baseline: judgement.baseline, warnings: judgement.warnings } } : {};
  if (o.json !== undefined) writeOutput(o.json, JSON.stringify({ ...model, ...gates, messages: correlation.messages }, null, 2) + '\n', '--json');
  if (o.markdown !== undefined) writeOutput(o.markdown, renderMarkdown(model) + (judgement !== undefined ? '\n' + judgementMarkdown(judgement) : ''), '--markdown');
  if (o.html !== undefined) writeOutput(o.html, renderHtml(model), '--html');
}

export { formatReport };
