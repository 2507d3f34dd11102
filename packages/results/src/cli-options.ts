// smtpstone-results' command line: a subcommand, its files and flags. Each bad value is one line
// naming the flag.
import { parseFlags, type FlagTable, type ParsedFlags } from '@smtpstone/cli-flags';
import { GATE_EXAMPLES } from './gates.js';

export const PROGRAM = 'smtpstone-results';

export const USAGE = [
  `usage: ${PROGRAM} check RESULT.json [--gate G]... [--baseline PREV.json [--max-regression 10%|METRIC=N%]... [--metric M]...] [--markdown FILE|-] [--json FILE|-]`,
  `       ${PROGRAM} merge A.json B.json ... [--json FILE|-] [--quiet]`,
  `       ${PROGRAM} compare A.json B.json [--metric M]... [--markdown FILE|-] [--json FILE|-]`,
  `       ${PROGRAM} metrics [RESULT.json]`,
].join('\n');

export const HELP = `${USAGE}

Reads smtp-source --json results (one run, or a merge of shards) and smtpstone-report --json
reports, and judges them.

  check     evaluates gates and/or compares with a baseline; a PASS or FAIL line for each
  merge     shards of one run (smtp-source on several machines) as one result: counts summed,
            latency histograms added, percentiles and throughput recomputed
  compare   two results side by side with the change in percent
  metrics   the metric names (with a result: their values in it)

Gates (--gate, repeatable): METRIC OP VALUE, OP one of < <= > >= = !=, e.g.
  ${GATE_EXAMPLES}
  durations take ms, s, m or h; rates /s, /m or /h; shares %; counts bare numbers;
  'not disk-bound' is verdict!=disk-bound (an unknown verdict fails it).

Baseline: --baseline PREV.json compares throughput, p50, p99 and errors (a report: throughput,
delivery_p50, delivery_p99, errors) with an earlier run of the same kind, or the metrics named
by --metric; --max-regression (default 10%) is how much worse each may get, METRIC=N% for one.

Exit status: 0 everything passed; 3 a gate failed or a metric regressed; 1 a bad flag or an
unreadable or unfit file. (2 is not used.)
`;

export interface CheckCli {
  command: 'check';
  file: string;
  gates: string[];
  baseline: string | undefined;
  maxRegression: string[];
  metrics: string[];
  markdown: string | undefined;
  json: string | undefined;
  quiet: boolean;
}

export interface MergeCli {
  command: 'merge';
  files: string[];
  json: string | undefined;
  quiet: boolean;
}

export interface CompareCli {
  command: 'compare';
  files: [string, string];
  metrics: string[];
  markdown: string | undefined;
  json: string | undefined;
}

export interface MetricsCli {
  command: 'metrics';
  file: string | undefined;
}

export type ResultsCli = CheckCli | MergeCli | CompareCli | MetricsCli | { command: 'help' };

const FLAGS = {
  gate: { type: 'string', desc: `a gate, e.g. ${GATE_EXAMPLES} (repeatable)` },
  baseline: { type: 'string', desc: 'an earlier result or report of the same kind to compare with' },
  'max-regression': { type: 'string', desc: 'how much worse than the baseline a metric may get: 10% (default), or METRIC=N% (repeatable)' },
  metric: { type: 'string', desc: 'a metric to compare (repeatable or comma-separated)' },
  markdown: { type: 'string', desc: 'write the outcome as Markdown to FILE ("-": stdout), e.g. for $GITHUB_STEP_SUMMARY' },
  json: { type: 'string', desc: 'write the outcome as JSON to FILE ("-": stdout)' },
  quiet: { type: 'boolean', desc: 'no PASS lines or summary: only failures and errors' },
} satisfies FlagTable;

type Flag = keyof typeof FLAGS;

/** The flags one command takes, parsed; a failure names the command: "(see smtpstone-results check --help)". */
function parseCommandFlags(command: string, argv: string[], allowed: Flag[]): ParsedFlags<Flag> {
  const table = Object.fromEntries(allowed.map((name) => [name, FLAGS[name]]));
  return parseFlags(argv, table, { program: `${PROGRAM} ${command}` });
}

function outputs({ once }: ParsedFlags<Flag>): { json: string | undefined; markdown: string | undefined } {
  const json = once('json');
  const markdown = once('markdown');
  if (json === '-' && markdown === '-') throw new Error('--json - and --markdown - cannot both take stdout');
  return { json, markdown };
}

export function parseResultsArgs(argv: string[]): ResultsCli {
  const [command, ...rest] = argv;
  if (command === undefined) throw new Error(`no command (check, merge, compare or metrics; see ${PROGRAM} --help)`);
  if (command === '--help' || command === '-h' || command === 'help') return { command: 'help' };
  if (rest.includes('--help') || rest.includes('-h')) return { command: 'help' };
  switch (command) {
    case 'check': {
      const f = parseCommandFlags(command, rest, ['gate', 'baseline', 'max-regression', 'metric', 'markdown', 'json', 'quiet']);
      const { operands } = f;
      if (operands.length !== 1) throw new Error(`check takes one result file, not ${operands.length} (${PROGRAM} check RESULT.json --gate ...)`);
      const gates = f.list('gate');
      const baseline = f.once('baseline');
      if (gates.length === 0 && baseline === undefined) throw new Error('check needs --gate or --baseline (or both)');
      return { command, file: operands[0], gates, baseline, maxRegression: f.list('max-regression'), metrics: f.list('metric'), ...outputs(f), quiet: f.flag('quiet') };
    }
    case 'merge': {
      const f = parseCommandFlags(command, rest, ['json', 'quiet']);
      const { operands } = f;
      if (operands.length === 0) throw new Error(`merge takes the result files to merge (${PROGRAM} merge A.json B.json ...)`);
      return { command, files: operands, json: f.once('json'), quiet: f.flag('quiet') };
    }
    case 'compare': {
      const f = parseCommandFlags(command, rest, ['metric', 'markdown', 'json']);
      const { operands } = f;
      if (operands.length !== 2) throw new Error(`compare takes two result files, not ${operands.length} (${PROGRAM} compare A.json B.json)`);
      return { command, files: [operands[0], operands[1]], metrics: f.list('metric'), ...outputs(f) };
    }
    case 'metrics': {
      const { operands } = parseCommandFlags(command, rest, []);
      if (operands.length > 1) throw new Error(`metrics takes at most one result file, not ${operands.length}`);
      return { command, file: operands[0] };
    }
    default:
      throw new Error(`unknown command: ${command} (check, merge, compare or metrics; see ${PROGRAM} --help)`);
  }
}
