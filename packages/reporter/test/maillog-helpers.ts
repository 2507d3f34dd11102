// Test helpers for the maillog parser: fixture paths and whole-text parsing.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  MaillogParser,
  ParseContext,
  parseLine,
  type LogRecord,
  type MaillogCounters,
  type MaillogParserOptions,
  type RecordKind,
} from '../src/maillog/index.js';

export const MAILLOG_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'maillog');

export function fixturePath(name: string): string {
  return join(MAILLOG_FIXTURES, name);
}

export function fixtureText(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

/** The fixtures' lines are from 2026-11-24, UTC. */
export const FIXTURE_OPTIONS: MaillogParserOptions = { year: 2026, zone: 'UTC' };

export interface Parsed {
  records: LogRecord[];
  counters: MaillogCounters;
  unparsed: string[];
}

/** Parses bytes (or text) in one push, as a reader would. */
export function parseAll(input: Buffer | string, options: MaillogParserOptions = FIXTURE_OPTIONS): Parsed {
  const records: LogRecord[] = [];
  const unparsed: string[] = [];
  const parser = new MaillogParser((r) => records.push(r), {
    ...options,
    onUnparsed: (line, n, why) => unparsed.push(`${why} ${n}: ${line}`),
  });
  parser.push(typeof input === 'string' ? Buffer.from(input, 'utf8') : input);
  parser.end();
  return { records, counters: parser.counters, unparsed };
}

export function parseFixture(name: string, options: MaillogParserOptions = FIXTURE_OPTIONS): Parsed {
  return parseAll(readFileSync(fixturePath(name)), options);
}

/** One line through parseLine with a fresh context (year 2026, UTC unless told). */
export function one(line: string, options: MaillogParserOptions = FIXTURE_OPTIONS): LogRecord | undefined {
  return parseLine(line, new ParseContext(options));
}

/** One line that must parse as `kind`; returns it narrowed. */
export function oneOf<K extends RecordKind>(kind: K, line: string, options?: MaillogParserOptions): Extract<LogRecord, { kind: K }> {
  const r = one(line, options);
  if (!r || r.kind !== kind) throw new Error(`expected ${kind}, got ${r ? r.kind : 'garbled'}: ${line}`);
  return r as Extract<LogRecord, { kind: K }>;
}

/** Records of one kind. */
export function ofKind<K extends RecordKind>(records: LogRecord[], kind: K): Extract<LogRecord, { kind: K }>[] {
  return records.filter((r): r is Extract<LogRecord, { kind: K }> => r.kind === kind);
}

/** The fixture's line whose text contains `needle` (exactly one). */
export function lineWith(name: string, needle: string): string {
  const hits = fixtureText(name).split('\n').filter((l) => l.includes(needle));
  if (hits.length !== 1) throw new Error(`${hits.length} lines of ${name} contain ${needle}`);
  return hits[0];
}

/** epoch ms of a UTC time. */
export const utc = (iso: string): number => Date.parse(iso.endsWith('Z') ? iso : `${iso}Z`);
