// The shared command line: strict parsing of a flag table, one-line failures naming the flag as
// it is typed, and the accessors for flags given once, repeated or not at all.
import { describe, expect, it } from 'vitest';
import { parseFlags, type FlagTable } from '../src/index.js';

const FLAGS = {
  s: { type: 'string', alias: 'sessions', desc: 'Parallel sessions' },
  q: { type: 'boolean', alias: 'quiet', desc: 'Say less' },
  v: { type: 'count', alias: 'verbose', desc: 'Say more' },
  json: { type: 'string', desc: 'Write JSON to FILE' },
  sample: { type: 'string', optionalArg: '[interval]', desc: 'Sample every interval' },
  log: { type: 'string', array: true, desc: 'Log files' },
  pipelining: { type: 'boolean', desc: 'Pipeline' },
  D: { type: 'boolean', alias: 'no-dsn', desc: 'Do not announce DSN' },
} satisfies FlagTable;

class FatalError extends Error {}

const parse = (argv: string[]) => parseFlags(argv, FLAGS, { program: 'prog', error: (message) => new FatalError(message) });

/** The failure parsing argv throws (it must throw). */
function failure(argv: string[]): Error {
  try {
    parse(argv);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`${argv.join(' ')} was accepted`);
}

describe('parseFlags failures', () => {
  it('an unknown flag is refused in the tool\'s error type, with the help hint', () => {
    const err = failure(['-x', 'host']);
    expect(err).toBeInstanceOf(FatalError);
    expect(err.message).toBe('unknown flag: -x (see prog --help)');
    expect(failure(['--bogus']).message).toBe('unknown flag: --bogus (see prog --help)');
    expect(failure(['--bogus', '--frob']).message).toBe('unknown flags: --bogus, --frob (see prog --help)');
  });

  it('without an error factory a failure is a plain Error', () => {
    expect(() => parseFlags(['--bogus'], FLAGS, { program: 'prog' })).toThrow(new Error('unknown flag: --bogus (see prog --help)'));
  });

  it('a one-letter flag without its value: "-s wants a value"', () => {
    expect(failure(['-s']).message).toBe('-s wants a value (see prog --help)');
    expect(failure(['host', '-s']).message).toBe('-s wants a value (see prog --help)');
  });

  it('a long flag without its value: "--json wants a value", the long name of a one-letter flag too', () => {
    expect(failure(['--json']).message).toBe('--json wants a value (see prog --help)');
    expect(failure(['--sessions']).message).toBe('--sessions wants a value (see prog --help)');
    expect(failure(['--log']).message).toBe('--log wants a value (see prog --help)');
  });

  it('a flag given twice is refused by once(), named as it is typed', () => {
    const f = parse(['--json', 'a', '--json', 'b', '-s', '1', '--sessions', '2', '-s', '3']);
    expect(() => f.once('json')).toThrow(new FatalError('--json given 2 times; give it once'));
    expect(() => f.once('s')).toThrow(FatalError);
    expect(() => f.once('s')).toThrow('-s given 3 times; give it once');
    expect(f.last('json')).toBe('b');
    expect(f.last('s')).toBe('3');
    expect(f.list('s')).toEqual(['1', '2', '3']);
  });
});

describe('parseFlags values', () => {
  it('operands stay text, numbers too, and a flag given once reads the same with last() and once()', () => {
    const f = parse(['host:25', '-s', '010', '10']);
    expect(f.operands).toEqual(['host:25', '10']);
    expect(f.once('s')).toBe('010');
    expect(f.last('s')).toBe('010');
    expect(f.list('s')).toEqual(['010']);
    expect(f.given('s')).toBe(true);
    expect(f.values.sessions).toBeUndefined(); // aliases stripped: by the table's name only
  });

  it('a flag not given: undefined, [], false, 0', () => {
    const f = parse([]);
    expect(f.once('json')).toBeUndefined();
    expect(f.last('json')).toBeUndefined();
    expect(f.list('log')).toEqual([]);
    expect(f.given('json')).toBe(false);
    expect(f.flag('q')).toBe(false);
    expect(f.count('v')).toBe(0);
    expect(f.operands).toEqual([]);
  });

  it('an optional-argument flag: "" without a value, the value with one, and it never takes the help hint', () => {
    expect(parse(['--sample']).once('sample')).toBe('');
    expect(parse(['--sample', '500ms']).once('sample')).toBe('500ms');
    const bare = parse(['--sample', '--json', 'out.json']);
    expect(bare.once('sample')).toBe('');
    expect(bare.once('json')).toBe('out.json');
    // Without another operand the next word is its value; the tool decides what it was.
    expect(parse(['--sample', 'host:25']).once('sample')).toBe('host:25');
    expect(parse(['--sample', '--sample', '1s']).list('sample')).toEqual(['', '1s']);
  });

  it('boolean flags repeated are simply on, by either name; --no-NAME turns one off', () => {
    const f = parse(['-q', '--quiet', '-q', '--pipelining', '--pipelining']);
    expect(f.flag('q')).toBe(true);
    expect(f.flag('pipelining')).toBe(true);
    expect(() => f.once('q')).not.toThrow();
    expect(parse(['--pipelining', '--no-pipelining']).flag('pipelining')).toBe(false);
    expect(parse(['--no-pipelining']).given('pipelining')).toBe(true);
  });

  it('a flag named "no-..." is that flag, not a negation; other --no-X still negate, and -- ends the flags', () => {
    expect(parse(['--no-dsn']).flag('D')).toBe(true);
    expect(parse(['-D']).flag('D')).toBe(true);
    expect(parse([]).flag('D')).toBe(false);
    expect(parse(['--no-pipelining']).flag('pipelining')).toBe(false);
    expect(parse(['--', '--no-dsn']).operands).toEqual(['--no-dsn']);
  });

  it('a failure names the flag as typed: --no-frob, --x', () => {
    expect(failure(['--no-frob']).message).toBe('unknown flag: --no-frob (see prog --help)');
    expect(failure(['--x']).message).toBe('unknown flag: --x (see prog --help)');
    expect(failure(['--sessions']).message).toBe('--sessions wants a value (see prog --help)');
  });

  it('count flags add up: -vv -v --verbose', () => {
    expect(parse(['-vv', '-v', '--verbose']).count('v')).toBe(4);
  });

  it('an array flag takes every word up to the next flag, and repeats', () => {
    const f = parse(['--log', 'a', 'b', '-q', '--log', 'c']);
    expect(f.list('log')).toEqual(['a', 'b', 'c']);
    expect(f.last('log')).toBe('c');
    expect(f.operands).toEqual([]);
  });

  it('the accessors are plain functions: destructuring them is fine', () => {
    const { last, flag, once, list } = parse(['-s', '2', '-q', '--log', 'x']);
    expect([last('s'), flag('q'), once('s'), list('log')]).toEqual(['2', true, '2', ['x']]);
  });
});
