// A load tester must not lie when it dies: smtp-source killed with SIGKILL mid-run leaves a
// journal whose every line is a whole JSON entry (each line goes out in one write), so the
// reporter can still account for what was sent.
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { portOf, resources, settled, SOURCE_CLI } from './helpers.js';

const r = resources();

/** The whole lines in the file so far: its newlines (a last line without one is not whole). */
function wholeLines(path: string): number {
  try {
    return readFileSync(path, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
}

describe('smtp-source killed with SIGKILL', () => {
  it('leaves a journal of whole JSON lines, one per message ended so far', async () => {
    const sink = await r.sink();
    const journal = join(r.dir(), 'run.jsonl');
    const child = spawn(process.execPath, [SOURCE_CLI, '-d', '-s', '8', '-m', '1000000', '-f', 's@example.com', '-t', 'r@example.com', '--journal', journal, `127.0.0.1:${portOf(sink)}`], {
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 50));
        if (wholeLines(journal) > 500) break;
      }
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const text = readFileSync(journal, 'utf8');
    expect(statSync(journal).size).toBeGreaterThan(0);
    expect(text.endsWith('\n')).toBe(true);
    const entries = text.trimEnd().split('\n').map((l) => JSON.parse(l) as { seq: number; status: string; recipients: string[] });
    expect(entries.length).toBeGreaterThan(500);
    for (const e of entries) expect(e.status).toBe('accepted');
    // Every message the journal calls accepted reached the sink (the sink may have more: ended
    // after the last write that made it to the file).
    expect(sink.stats().messages).toBeGreaterThanOrEqual(entries.length);
    expect(new Set(entries.map((e) => e.seq)).size).toBe(entries.length);
    // Issue 7's accounting once the sink has seen the 8 connections close: what the journal
    // calls accepted the sink accepted. The sink may have more: messages in flight when the
    // source died (their 250 sent), and lines still in the journal's write queue, which a
    // SIGKILL takes with the process (a CI run lost 9 so). Bytes are not compared: the
    // journal has no sizes, and a message cut off in DATA has part of its bytes at the sink.
    const s = await settled(sink, 8);
    expect(s.active).toBe(0);
    const journalled = { messages: entries.length, recipients: entries.reduce((n, e) => n + e.recipients.length, 0) };
    expect(s.messagesAccepted).toBeGreaterThanOrEqual(journalled.messages);
    expect(s.recipients).toBeGreaterThanOrEqual(journalled.recipients);
    expect(s.messagesAccepted).toBe(s.messages);
  }, 20_000);
});
