// --journal: one JSON line per message, written as each message ends, so a run killed at
// any moment leaves whole lines behind. The reporter joins these to the MTA's log.
import { createWriteStream, type WriteStream } from 'node:fs';

export interface JournalEntry {
  /** Message number in this run, from 1. */
  seq: number;
  /** Session number, from 1. */
  session: number;
  messageId?: string;
  /** X-Smtpstone-Id header value. */
  trackingId?: string;
  /** When MAIL was sent: wall clock (ISO 8601, ms) and ms since the run started. */
  start: string;
  startMs: number;
  /** When the final end-of-data reply arrived (or the message was given up). */
  end: string;
  endMs: number;
  recipients: string[];
  /** accepted: every end-of-data reply 2xx; rejected: some reply said no; failed: the connection broke. */
  status: 'accepted' | 'rejected' | 'failed';
  code: number;
  reply: string;
  queueId?: string;
  /** LMTP: one entry per accepted recipient. */
  lmtp?: { code: number; reply: string; queueId?: string }[];
}

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
