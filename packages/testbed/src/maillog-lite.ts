// Part of the testbed: real peers on loopback for the tests, the demo and benchmarks. This file
// is a deliberately small reading of a private Postfix's maillog_file, for tests to check the
// reporter against: it is not the reporter's parser (@smtpstone/reporter's maillog), so that a
// bug there cannot hide in both.

export interface MaillogRecord {
  /** The program: the tag's part after the last '/' (smtpd, cleanup, qmgr, discard, ...). */
  program: string;
  /** The whole tag, e.g. postfix/nopipe/smtpd. */
  tag: string;
  pid: number;
  /** The queue id (or NOQUEUE) the text starts with, if any. */
  queueId?: string;
  /** The text after the tag (and after the queue id, when there is one). */
  text: string;
  line: string;
}

const RECORD = /^\S+ +\d+ \d\d:\d\d:\d\d \S+ (\S+)\[(\d+)\]: (.*)$/;
const NOT_IDS = new Set(['warning', 'error', 'fatal', 'panic', 'statistics']);

/** Parses a maillog_file (postlogd form: `Mmm dd hh:mm:ss host tag[pid]: text`). */
export function parseMaillog(text: string): MaillogRecord[] {
  const out: MaillogRecord[] = [];
  for (const line of text.split('\n')) {
    const m = RECORD.exec(line);
    if (!m) continue;
    const [, tag, pid, rest] = m;
    const id = /^([0-9A-Za-z]+): (.*)$/.exec(rest);
    const queueId = id && !NOT_IDS.has(id[1]) ? id[1] : undefined;
    out.push({ program: tag.slice(tag.lastIndexOf('/') + 1), tag, pid: Number(pid), queueId, text: queueId !== undefined ? id![2] : rest, line });
  }
  return out;
}

export interface Delivery {
  program: string;
  to: string;
  relay: string;
  dsn: string;
  status: string;
  /** The parenthesis after the status. */
  detail: string;
}

/** One queued message's life as the log tells it. */
export interface LoggedMessage {
  queueId: string;
  client?: string;
  messageId?: string;
  from?: string;
  size?: number;
  nrcpt?: number;
  deliveries: Delivery[];
  removed: boolean;
}

/** Groups the records by queue id (NOQUEUE left out). */
export function messagesByQueueId(records: MaillogRecord[]): Map<string, LoggedMessage> {
  const out = new Map<string, LoggedMessage>();
  for (const r of records) {
    if (r.queueId === undefined || r.queueId === 'NOQUEUE') continue;
    let m = out.get(r.queueId);
    if (m === undefined) out.set(r.queueId, (m = { queueId: r.queueId, deliveries: [], removed: false }));
    let x: RegExpExecArray | null;
    if (r.program === 'smtpd' && (x = /^client=(\S+)/.exec(r.text))) m.client = x[1];
    else if (r.program === 'cleanup' && (x = /^message-id=(.*)$/.exec(r.text))) m.messageId = x[1];
    else if (r.program === 'qmgr' && (x = /^from=<(.*?)>, size=(\d+), nrcpt=(\d+) /.exec(r.text))) {
      m.from = x[1];
      m.size = Number(x[2]);
      m.nrcpt = Number(x[3]);
    } else if (r.program === 'qmgr' && r.text === 'removed') m.removed = true;
    else if ((x = /^to=<(.*?)>, (?:orig_to=<.*?>, )?relay=([^,]+), .*?dsn=([\d.]+), status=(\S+) \((.*)\)$/.exec(r.text))) {
      m.deliveries.push({ program: r.program, to: x[1], relay: x[2], dsn: x[3], status: x[4], detail: x[5] });
    }
  }
  return out;
}

/**
 * Postfix's long queue id (enable_long_queue_ids = yes): base-52 seconds and microseconds,
 * 'z', the inode in base 51. The time digits may be 'z' too (4jbSBs3xnzzJ9YF), unlike what
 * reporter-notes.md section 2's pattern says; only the inode part excludes it.
 */
export const LONG_QUEUE_ID = /^[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]+$/;
