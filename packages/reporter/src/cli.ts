#!/usr/bin/env node
// smtpstone-report: joins smtp-source's --journal to the MTA's log and says what happened to
// every message. A thin shell over readJournal(), readMaillog() and correlate().
import { writeFileSync } from 'node:fs';
import yargs from 'yargs';
import { Diagnostics } from '@smtpstone/core';
import { correlate, readJournal } from './correlate/index.js';
import { readMaillog } from './maillog/index.js';
import { formatSummary } from './report-text.js';

const log = new Diagnostics('smtpstone-report');

async function main(): Promise<number> {
  let failure: string | undefined;
  const a = yargs(process.argv.slice(2))
    .scriptName('smtpstone-report')
    .usage('usage: smtpstone-report --journal run.jsonl --log maillog [--json FILE|-] [--year N] [--zone Z]')
    .option('journal', { type: 'string', requiresArg: true, describe: 'smtp-source --journal file' })
    .option('log', { type: 'string', requiresArg: true, describe: 'the MTA log (Postfix maillog or syslog; .gz is fine)' })
    .option('json', { type: 'string', requiresArg: true, describe: 'write messages and summary as JSON to FILE ("-" for stdout)' })
    .option('year', { type: 'string', requiresArg: true, describe: 'year of year-less log stamps (default: from the log file date)' })
    .option('zone', { type: 'string', requiresArg: true, describe: 'zone of the log stamps: UTC, +hh:mm or an IANA name (default: this machine\'s)' })
    .version(false)
    .strictOptions()
    .fail((msg) => {
      failure = msg;
    })
    .parseSync();
  if (failure !== undefined) throw new Error(`${failure.replace(/\n/g, ' ')} (see smtpstone-report --help)`);
  if (a.journal === undefined) throw new Error('--journal is required (smtp-source --journal FILE)');
  if (a.log === undefined) throw new Error('--log is required (the MTA log file)');
  let year: number | undefined;
  if (a.year !== undefined) {
    if (!/^\d{4}$/.test(a.year)) throw new Error(`bad year: ${a.year} (--year wants four digits)`);
    year = Number(a.year);
  }
  const stats = { entries: 0, truncated: 0, invalid: 0 };
  const journal = await readJournal(a.journal, stats);
  if (stats.truncated + stats.invalid > 0) log.warning(`${a.journal}: ${stats.truncated} truncated and ${stats.invalid} unreadable lines skipped`);
  const { messages, summary } = await correlate(journal, readMaillog(a.log, { year, zone: a.zone }));
  if (a.json !== undefined) {
    const text = JSON.stringify({ summary, messages }, null, 2) + '\n';
    if (a.json === '-') process.stdout.write(text);
    else writeFileSync(a.json, text);
  }
  (a.json === '-' ? process.stderr : process.stdout).write(formatSummary(summary));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(log.line('fatal', err instanceof Error ? err.message : String(err)));
    process.exit(1);
  },
);
