// --journal: one JSON line per message, written as each message ends, so a run killed at
// any moment leaves whole lines behind. The reporter joins these to the MTA's log.
import { createWriteStream, type WriteStream } from 'node:fs';
import type { JournalEntry } from '@smtpstone/core';

export type { JournalEntry };

export class Journal {
  private readonly out: WriteStream;

  constructor(path: string) {
    this.out = createWriteStream(path, { flags: 'w' });
    this.out.on('error', () => undefined);
  }

  write(entry: JournalEntry): void {
    this.out.write(JSON.stringify(entry) + '\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(resolve));
  }
}
