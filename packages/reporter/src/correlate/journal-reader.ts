// Reads smtp-source's --journal: one JSON object a line, written as each message ends. A run
// killed mid-write leaves a partial last line; that line is counted, not thrown on.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { JournalEntry } from '@smtpstone/core';

export type { JournalEntry };

/** What readJournal skipped (filled in when passed). */
export interface JournalReadStats {
  /** Lines that were JSON journal entries. */
  entries: number;
  /** A last line without its newline that did not parse: the run was killed mid-write. */
  truncated: number;
  /** Other lines that did not parse as an entry (blank lines are not counted). */
  invalid: number;
}

function isEntry(v: unknown): v is JournalEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return typeof e.seq === 'number' && typeof e.end === 'string' && Array.isArray(e.recipients) && typeof e.status === 'string';
}

/**
 * Parses journal text. A last line with no newline that is not a whole entry counts as
 * truncated; any other bad line as invalid. Never throws.
 */
export function parseJournal(text: string, stats?: JournalReadStats): JournalEntry[] {
  const out: JournalEntry[] = [];
  const s = stats ?? { entries: 0, truncated: 0, invalid: 0 };
  const lines = text.split('\n');
  // The text after the last '\n' is a line without its newline ('' when the text ends in one).
  for (let i = 0; i < lines.length; i++) addLine(lines[i], i === lines.length - 1, out, s);
  return out;
}

function addLine(raw: string, unterminated: boolean, out: JournalEntry[], s: JournalReadStats): void {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (line.trim() === '') return;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    v = undefined;
  }
  if (isEntry(v)) {
    out.push(v);
    s.entries++;
  } else if (unterminated) {
    s.truncated++;
  } else {
    s.invalid++;
  }
}

/**
 * Reads a journal file line by line (a long run's journal can be bigger than one string).
 * Pass `stats` to learn how many lines were truncated or invalid.
 */
export async function readJournal(path: string, stats?: JournalReadStats): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  const s = stats ?? { entries: 0, truncated: 0, invalid: 0 };
  // readline drops the newline, so hold each line back until the next one proves it ended.
  let held: string | undefined;
  let endsWithNewline = true;
  const stream = createReadStream(path, { encoding: 'utf8' });
  stream.on('data', (chunk) => {
    if (chunk.length > 0) endsWithNewline = (chunk as string).endsWith('\n');
  });
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  for await (const line of rl) {
    if (held !== undefined) addLine(held, false, out, s);
    held = line;
  }
  if (held !== undefined) addLine(held, !endsWithNewline, out, s);
  return out;
}
