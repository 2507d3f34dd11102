// The --journal line format: written by smtp-source as each message ends, read by the
// reporter to join each message to its life in the MTA's log. One definition for both.

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
  /** Open model (--rate, --ramp, --stages): when the schedule had the message due, ms since the start. */
  scheduledMs?: number;
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
  /** Sent with BDAT (--bdat, the server offering CHUNKING); absent when sent with DATA. */
  bdat?: true;
}
