// The command line the smtpstone tools share: a table of flags parsed strictly by yargs (an
// unknown flag or a flag without its value is a failure, numbers stay text), each failure one
// line naming the flag as it is typed, and the accessors that read a flag given once, repeated
// or not at all. Each tool keeps its own error type (the `error` factory), its own checks of the
// values and its own help text. core knows nothing of this: the protocol has no command line.
import yargs from 'yargs';

export interface FlagSpec {
  /** 'string' wants a value (unless optionalArg); 'count' is -v, -vv, ...; 'boolean' also reads --no-NAME. */
  type: 'string' | 'boolean' | 'count';
  /** Another name for the flag (a one-letter flag's long name); values come back under the table's name only. */
  alias?: string;
  /** One line for --help. */
  desc: string;
  /** A string flag whose value may be left out (it reads as ""): how help shows it, e.g. "[interval]". */
  optionalArg?: string;
  /** A string flag that takes every word up to the next flag: --log a b. */
  array?: boolean;
}

/** The flags by name: one letter is -x, longer is --name. */
export type FlagTable = Readonly<Record<string, FlagSpec>>;

export interface ParseFlagsOptions {
  /** The program as the user types it: each failure ends "(see PROGRAM --help)". */
  program: string;
  /** The tool's own error for a one-line failure (default: Error). */
  error?: (message: string) => Error;
  /**
   * Leave --help to yargs: it prints this usage, then each flag's desc, and exits 0. Without it
   * --help is unknown unless the table lists `help`, and the tool prints its own text.
   */
  usage?: string;
  /** With usage: text after the flags in --help. */
  epilog?: string;
  /** With usage: the help's width (null: no wrapping, for tables in the epilog). */
  wrap?: number | null;
}

export interface ParsedFlags<K extends string> {
  // The accessors are plain functions (no `this`): `const { last, flag } = parseFlags(...)` is fine.
  /** What yargs parsed, by the table's names (aliases stripped); a repeated flag is an array. */
  readonly values: Readonly<Record<string, unknown>>;
  /** The words that are not flags, in order. */
  readonly operands: string[];
  /** Whether the flag was given at all (--no-NAME too; a count flag always reads as given, 0 or more). */
  readonly given: (name: K) => boolean;
  /** The flag's value; given more than once, the last. */
  readonly last: (name: K) => string | undefined;
  /** The flag's value; given more than once, a failure: "--name given N times; give it once". */
  readonly once: (name: K) => string | undefined;
  /** Every value of a repeatable flag, in order ([] when not given). */
  readonly list: (name: K) => string[];
  /** A boolean flag: true when given (at least once) and not negated. */
  readonly flag: (name: K) => boolean;
  /** A count flag: how many times it was given (-vvv is 3). */
  readonly count: (name: K) => number;
}

/** A flag's name as it is typed: -s, --sessions. */
function dashed(name: string): string {
  return `${name.length === 1 ? '-' : '--'}${name}`;
}

/** The words before a "--" that ends the flags. */
function flagWords(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf('--');
  return end < 0 ? argv : argv.slice(0, end);
}

/**
 * yargs names a flag without its dashes, and "--no-frob" as "frob": the spelling the user
 * typed, found in argv (alone or with "=value"), else the usual one.
 */
function typed(name: string, argv: readonly string[]): string {
  const words = flagWords(argv);
  const spellings = [`--${name}`, `-${name}`, `--no-${name}`];
  return spellings.find((f) => words.some((w) => w === f || w.startsWith(`${f}=`))) ?? dashed(name);
}

/**
 * yargs' complaint on one line, the flag named as typed: "Not enough arguments following: s"
 * becomes "-s wants a value", "Unknown arguments: x, frob" becomes "unknown flags: -x, --frob".
 */
function failureText(message: string, argv: readonly string[]): string {
  const text = message.replace(/\n/g, ' ');
  const missing = /^Not enough arguments following: (\S+)$/.exec(text);
  if (missing !== null) return `${typed(missing[1], argv)} wants a value`;
  const unknown = /^Unknown arguments?: (.+)$/.exec(text);
  if (unknown !== null) {
    const names = unknown[1].split(', ');
    return `unknown flag${names.length > 1 ? 's' : ''}: ${names.map((n) => typed(n, argv)).join(', ')}`;
  }
  return text;
}

/**
 * A flag whose own name or alias starts with "no-" (smtp-sink's --no-pipelining for -p) would
 * be read by yargs as the negation of "pipelining", an unknown flag: such words are given to
 * yargs under the table's name instead. Other --no-X still negate the boolean X.
 */
function withNoNamesResolved(argv: readonly string[], flags: FlagTable): string[] {
  const byNoName = new Map<string, string>();
  for (const [name, spec] of Object.entries(flags)) {
    for (const n of [name, spec.alias]) if (n !== undefined && n.startsWith('no-')) byNoName.set(`--${n}`, dashed(name));
  }
  if (byNoName.size === 0) return [...argv];
  const end = argv.indexOf('--');
  return argv.map((w, i) => {
    if (end >= 0 && i >= end) return w;
    const eq = w.indexOf('=');
    const flag = byNoName.get(eq < 0 ? w : w.slice(0, eq));
    return flag === undefined ? w : flag + (eq < 0 ? '' : w.slice(eq));
  });
}

/**
 * Parses argv (without node and script) against the table. A failure (an unknown flag, a flag
 * without its value) is thrown as options.error(`${what} (see ${program} --help)`).
 */
export function parseFlags<T extends FlagTable>(argv: readonly string[], flags: T, options: ParseFlagsOptions): ParsedFlags<keyof T & string> {
  const { program, usage } = options;
  const error = options.error ?? ((message: string) => new Error(message));
  let failure: string | undefined;
  const y = yargs(withNoNamesResolved(argv, flags))
    .scriptName(program)
    .parserConfiguration({
      'camel-case-expansion': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      // A repeated flag comes back as an array: last() takes its end, once() refuses it.
      'duplicate-arguments-array': true,
      'strip-aliased': true,
    })
    .version(false)
    .strictOptions()
    .fail((msg: string | null, err: Error | undefined) => {
      failure = msg ?? err?.message ?? 'bad command line';
    });
  if (usage === undefined) y.help(false);
  else {
    y.usage(usage);
    if (options.epilog !== undefined) y.epilog(options.epilog);
    if (options.wrap !== undefined) y.wrap(options.wrap);
  }
  for (const [name, spec] of Object.entries(flags)) {
    y.option(name, {
      type: spec.type,
      describe: spec.desc,
      requiresArg: spec.type === 'string' && spec.optionalArg === undefined,
      ...(spec.alias !== undefined && { alias: spec.alias }),
      ...(spec.array === true && { array: true }),
    });
  }
  const values = y.parseSync() as Record<string, unknown>;
  if (failure !== undefined) throw error(`${failureText(failure, argv)} (see ${program} --help)`);

  const list = (name: string): string[] => {
    const v = values[name];
    return v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
  };
  return {
    values,
    operands: list('_'),
    given: (name) => values[name] !== undefined,
    last: (name) => list(name).at(-1),
    once: (name) => {
      const all = list(name);
      if (all.length > 1) throw error(`${dashed(name)} given ${all.length} times; give it once`);
      return all[0];
    },
    list,
    flag: (name) => {
      const v = values[name];
      return Array.isArray(v) ? v.some(Boolean) : Boolean(v);
    },
    count: (name) => {
      const v = values[name];
      return typeof v === 'number' ? v : 0;
    },
  };
}
