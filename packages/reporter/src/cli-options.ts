// smtpstone-report's command line. Each bad value: one line naming the flag.
import { accessSync, constants } from 'node:fs';
import { parseFlags, type FlagTable } from '@smtpstone/cli-flags';
import { parseDuration } from '@smtpstone/core';
import { prepareJudge, type JudgeOptions } from '@smtpstone/results';
import { LogClock } from './maillog/clock.js';

export const USAGE =
  'usage: smtpstone-report --journal run.jsonl --log maillog [--log maillog.2 ...] [--samples FILE] ' +
  '[--json FILE|-] [--markdown FILE|-] [--html FILE] [--follow [--idle 5m]] [--year N] [--zone Z] ' +
  '[--gate G]... [--baseline PREV.json [--max-regression 10%|METRIC=N%]...]';

export interface ReportCli {
  journal: string;
  logs: string[];
  samples: string | undefined;
  json: string | undefined;
  markdown: string | undefined;
  html: string | undefined;
  title: string | undefined;
  follow: boolean;
  /** Following: stop after this long with nothing new in the journal or the log. */
  idleMs: number;
  /** Following: once every message has its last word, stop after this long with nothing new. */
  settleMs: number;
  year: number | undefined;
  zone: string | undefined;
  /** --gate, --baseline, --max-regression, checked (and the baseline read); undefined without them. */
  judging: JudgeOptions | undefined;
}

function duration(value: string, flag: string): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    throw new Error(`bad duration: ${value} (--${flag} wants e.g. 30s, 5m, 1h)`);
  }
  if (!(ms > 0)) throw new Error(`bad duration: ${value} (--${flag} must be more than 0)`);
  return ms;
}

/** A file the flag names must be readable now (following waits for journal and log to appear). */
function readable(path: string, flag: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code} (--${flag})`);
  }
}

const FLAGS = {
  journal: { type: 'string', desc: 'smtp-source --journal file' },
  log: { type: 'string', array: true, desc: 'the MTA log (Postfix maillog, syslog, maillog_file; .gz is fine); repeat for rotated files or other instances: read as one, in time order' },
  samples: { type: 'string', desc: 'the box\'s samples and verdict: smtpstone-sample --json or smtp-source --sample --json output' },
  json: { type: 'string', desc: 'write the report and every message\'s life as JSON to FILE ("-" for stdout)' },
  markdown: { type: 'string', desc: 'write the report as Markdown to FILE ("-" for stdout), e.g. $GITHUB_STEP_SUMMARY' },
  html: { type: 'string', desc: 'write a self-contained HTML page with charts to FILE' },
  title: { type: 'string', desc: 'title of the Markdown and HTML report' },
  follow: { type: 'boolean', desc: 'follow the log (and the journal) as they grow, like tail -F, surviving rotation; report when every message has its last word, after --idle without news, or on Ctrl-C' },
  idle: { type: 'string', desc: 'with --follow: stop after this long with nothing new (default 5m)' },
  settle: { type: 'string', desc: 'with --follow: once every message has its last word, stop after this long with nothing new (default 3s)' },
  year: { type: 'string', desc: 'year of year-less log stamps (default: from the log file date)' },
  zone: { type: 'string', desc: 'zone of the log stamps: UTC, +hh:mm or an IANA name (default: this machine\'s)' },
  gate: { type: 'string', array: true, desc: "a gate on the report, e.g. delivery_p99<5s, lost=0, errors<0.1%, throughput>=500/s, 'not disk-bound' (repeatable; exit 3 when one fails)" },
  baseline: { type: 'string', desc: 'an earlier report (--json) to compare with: throughput, delivery_p50, delivery_p99, errors (exit 3 on a regression)' },
  'max-regression': { type: 'string', array: true, desc: 'with --baseline: how much worse a metric may get, 10% (default) or METRIC=N% (repeatable)' },
} satisfies FlagTable;

export function parseReportArgs(argv: string[]): ReportCli {
  // --help is yargs' own: USAGE and the flags above, then exit 0.
  const { once, list, flag } = parseFlags(argv, FLAGS, { program: 'smtpstone-report', usage: USAGE });
  const journal = once('journal');
  if (journal === undefined) throw new Error('--journal is required (smtp-source --journal FILE)');
  const logs = list('log');
  if (logs.length === 0) throw new Error('--log is required (the MTA log file)');
  const follow = flag('follow');
  if (follow && logs.length !== 1) throw new Error(`--follow follows one --log, not ${logs.length}`);
  const idle = once('idle');
  const settle = once('settle');
  if (!follow && idle !== undefined) throw new Error('--idle only applies with --follow');
  if (!follow && settle !== undefined) throw new Error('--settle only applies with --follow');
  const yearText = once('year');
  if (yearText !== undefined && !/^\d{4}$/.test(yearText)) throw new Error(`bad year: ${yearText} (--year wants four digits)`);
  const zone = once('zone');
  if (zone !== undefined) {
    try {
      new LogClock({ zone });
    } catch {
      throw new Error(`bad zone: ${zone} (--zone wants UTC, local, +hh:mm or an IANA name such as Europe/Berlin)`);
    }
  }
  const samples = once('samples');
  if (samples !== undefined) readable(samples, 'samples');
  if (!follow) {
    readable(journal, 'journal');
    for (const l of logs) readable(l, 'log');
  }
  const gates = list('gate');
  const baseline = once('baseline');
  const maxRegression = list('max-regression');
  // Checked now, so that a typo in a gate is not found after a long report.
  const judging =
    gates.length > 0 || baseline !== undefined || maxRegression.length > 0 ? prepareJudge({ gates, baseline, maxRegression }, 'report') : undefined;
  const json = once('json');
  const markdown = once('markdown');
  if (json === '-' && markdown === '-') throw new Error('--json - and --markdown - cannot both take stdout');
  return {
    journal,
    logs,
    samples,
    json,
    markdown,
    html: once('html'),
    title: once('title'),
    follow,
    idleMs: idle === undefined ? 300_000 : duration(idle, 'idle'),
    settleMs: settle === undefined ? 3000 : duration(settle, 'settle'),
    year: yearText === undefined ? undefined : Number(yearText),
    zone,
    judging,
  };
}
