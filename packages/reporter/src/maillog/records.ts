// What one Postfix log line says, as a discriminated union on `kind`. Field names follow the
// log's own words (from=, to=, relay=, dsn=, status=) so a record reads like its line.

/** The record's severity: Postfix writes info bare and the others as "warning: " etc. */
export type Severity = 'info' | 'warning' | 'error' | 'fatal' | 'panic';

/**
 * How precise `time` is. 's': whole seconds (maillog_file, classic syslog), 'ms'/'us': an
 * RFC 3339 fraction; 'none': the line had no time (RFC 5424 "-") and `time` is the previous
 * line's, so ordering by (time, line) still works.
 */
export type TimePrecision = 's' | 'ms' | 'us' | 'none';

/** Fields every record has: the envelope and the text after it. */
export interface RecordBase {
  /** Epoch milliseconds; fractional when the log carried microseconds. */
  time: number;
  timePrecision: TimePrecision;
  /** 1-based line number in the input (0 when parseLine was called without a reader). */
  line: number;
  /** Syslog hostname; '' when the form has none. */
  host: string;
  /** The tag as written: `postfix/submission/smtpd`; '' when the line has none. */
  tag: string;
  /** Part of the tag before the first '/': syslog_name's first part (`postfix`, `postfix-out`). */
  instance: string;
  /** Between the first and the last '/': `submission` in `postfix/submission/smtpd`, else ''. */
  service: string;
  /** After the last '/': smtpd, qmgr, smtp, ... */
  program: string;
  pid: number | undefined;
  severity: Severity;
  /** The queue id the text starts with; undefined for NOQUEUE and lines without one. */
  queueId: string | undefined;
  /** The text after the tag, the severity and the queue id (or NOQUEUE). */
  text: string;
}

/** NAME[ADDR] or NAME[ADDR]:PORT, as smtpd writes a client. */
export interface Peer {
  name: string;
  addr: string;
  port: number | undefined;
}

/** One command's count on a disconnect line: `rcpt=13/15` is ok 13 of 15; `rcpt=2` is 2 of 2. */
export interface CommandCount {
  ok: number;
  total: number;
}

/** smtpd: `connect from NAME[ADDR]`. */
export interface ConnectRecord extends RecordBase {
  kind: 'connect';
  client: Peer;
}

/** smtpd: `disconnect from NAME[ADDR] ehlo=1 mail=1 rcpt=13/15 data=1 quit=1 commands=17/19`. */
export interface DisconnectRecord extends RecordBase {
  kind: 'disconnect';
  client: Peer;
  /** Per command, in line order, without the `commands=` total. */
  counts: Record<string, CommandCount>;
  /** The `commands=` total, when written. */
  commands: CommandCount | undefined;
}

/** smtpd: `lost connection after DATA from H`, `timeout after ...`, `too many errors after ...`. */
export interface SessionAbortRecord extends RecordBase {
  kind: 'session-abort';
  /** `lost connection`, `timeout`, `too many errors`, `improper command pipelining`. */
  reason: string;
  /** The command or state after which it happened (`DATA`, `END-OF-MESSAGE`, `CONNECT`). */
  after: string;
  client: Peer;
}

/** smtpd: `QID: client=NAME[ADDR]` (the queue file exists), with optional `, key=value` extras. */
export interface ClientRecord extends RecordBase {
  kind: 'client';
  queueId: string;
  client: Peer;
  /** sasl_method, sasl_username, orig_queue_id, orig_client, ... */
  attributes: Record<string, string>;
}

/** pickup: `QID: uid=0 from=<root@example.test>` (mail from sendmail/postdrop). */
export interface PickupRecord extends RecordBase {
  kind: 'pickup';
  queueId: string;
  uid: number;
  /** The sender, without the angle brackets. */
  from: string;
}

/**
 * A policy or content-check action logged by smtpd or cleanup: `reject:`, `reject_warning:`,
 * `hold:`, `discard:`, `milter-reject:`, cleanup's `warning:`... Not every one refused mail:
 * `action` says what happened.
 */
export interface RejectRecord extends RecordBase {
  kind: 'reject';
  /** Undefined when smtpd wrote NOQUEUE. */
  queueId: string | undefined;
  action: string;
  /** smtpd: CONNECT, HELO, MAIL, RCPT, DATA, END-OF-MESSAGE...; cleanup: header, body, ... */
  stage: string;
  /** cleanup's checked content (`Subject: ...`); '' for smtpd. */
  content: string;
  client: Peer | undefined;
  /** The SMTP reply code, when the text starts with one. */
  code: number | undefined;
  /** The enhanced status code, when present. */
  dsn: string | undefined;
  /** The reply text after code and dsn (smtpd), or the text after the fields (cleanup). */
  reason: string;
  from: string | undefined;
  to: string | undefined;
  proto: string | undefined;
  helo: string | undefined;
}

/** cleanup: `QID: message-id=<...>` or `QID: resent-message-id=<...>`. */
export interface MessageIdRecord extends RecordBase {
  kind: 'message-id';
  queueId: string;
  /** As written, with the angle brackets when it had them; may be ''. */
  messageId: string;
  resent: boolean;
}

/** qmgr: `QID: from=<S>, size=N, nrcpt=K (queue active)`; repeats at every retry. */
export interface ActiveRecord extends RecordBase {
  kind: 'active';
  queueId: string;
  from: string;
  size: number;
  nrcpt: number;
}

/** qmgr: `QID: from=<S>, status=expired, returned to sender`. */
export interface ExpiredRecord extends RecordBase {
  kind: 'expired';
  queueId: string;
  from: string;
  /** What follows `status=expired, `: `returned to sender`. */
  detail: string;
}

/** qmgr or postsuper: `QID: removed`, the end of a message's life. */
export interface RemovedRecord extends RecordBase {
  kind: 'removed';
  queueId: string;
}

export type DeliveryStatus =
  | 'sent'
  | 'deferred'
  | 'bounced'
  | 'expired'
  | 'SOFTBOUNCE'
  | 'deliverable'
  | 'undeliverable';

/**
 * delays=a/b/c/d in seconds (log_adhoc.c): a = before the queue manager (arrival to the
 * active queue, includes time in the deferred queue), b = in the queue manager, c = connection
 * setup, d = transmission.
 */
export interface Delays {
  beforeQmgr: number;
  inQmgr: number;
  connSetup: number;
  transmission: number;
}

/** A delivery agent's (or qmgr's) `QID: to=<...>, relay=..., delay=..., dsn=..., status=... (...)`. */
export interface DeliveryRecord extends RecordBase {
  kind: 'delivery';
  queueId: string;
  to: string;
  /** Only written when it differs from `to` (alias and virtual expansion). */
  origTo: string | undefined;
  /** As written: `127.0.0.1[127.0.0.1]:2525`, `local`, `none`, `mx[private/dovecot-lmtp]`. */
  relay: string;
  /** Uses of a cached connection, from 2; undefined on a fresh one. */
  connUse: number | undefined;
  /** Seconds from arrival to the end of this attempt. */
  delay: number;
  delays: Delays | undefined;
  dsn: string;
  status: DeliveryStatus;
  /** The parenthesised text: the remote reply or the agent's words. */
  reply: string;
  /** `queued as X` (a remote or second Postfix) or `forwarded as X` (local): the next message. */
  queuedAs: string | undefined;
  /** Fields this parser does not name (e.g. Postfix 3.11 `tls=`), as written. */
  extra: Record<string, string> | undefined;
}

/** Any agent: `QID: status=deferred (bounce failed)`, a status without a recipient. */
export interface MessageStatusRecord extends RecordBase {
  kind: 'message-status';
  queueId: string;
  status: DeliveryStatus;
  reply: string;
}

/** bounce: `QID: sender non-delivery notification: NEWQID`: a new message about QID. */
export interface NotificationRecord extends RecordBase {
  kind: 'notification';
  queueId: string;
  /** `sender non-delivery`, `sender delay`, `postmaster non-delivery`, `sender delivery status`. */
  notice: string;
  /** The notice's own queue id. */
  notificationId: string;
}

/** postsuper: `QID: placed on hold`, `QID: released from hold`, `QID: requeued`. */
export interface PostsuperRecord extends RecordBase {
  kind: 'postsuper';
  queueId: string;
  action: 'hold' | 'release' | 'requeue';
}

/** postsuper totals: `Deleted: 1 message`, `Placed on hold: 2 messages`, ... */
export interface PostsuperSummaryRecord extends RecordBase {
  kind: 'postsuper-summary';
  action: 'delete' | 'hold' | 'release' | 'requeue';
  count: number;
}

export type LifecycleEvent =
  | 'daemon-started'
  | 'reload'
  | 'terminating'
  | 'starting'
  | 'refreshing'
  | 'stopping'
  | 'startup-failed';

/** master and postfix-script: the mail system starting, reloading, stopping. */
export interface LifecycleRecord extends RecordBase {
  kind: 'lifecycle';
  event: LifecycleEvent;
  /** `3.7.11` from `-- version 3.7.11, configuration /etc/postfix`. */
  version: string | undefined;
  configDirectory: string | undefined;
}

/**
 * A Postfix line understood well enough to know it does not matter here:
 * 'diagnostic': a warning/error/fatal/panic record no grammar claimed;
 * 'statistics': scache/anvil `statistics: ...`;
 * 'connection': per-attempt network chatter (`connect to H: Connection refused`, TLS setup, `host H said`);
 * 'queue': qmgr's `skipped, still being delivered` and the like;
 * 'unmodelled': a Postfix program this parser has no grammar for (postscreen, tlsmgr, ...).
 */
export interface OtherRecord extends RecordBase {
  kind: 'other';
  what: 'diagnostic' | 'statistics' | 'connection' | 'queue' | 'unmodelled';
}

/** A line with a time whose text no grammar understood (or with no tag at all). */
export interface UnknownRecord extends RecordBase {
  kind: 'unknown';
}

/** A line from a program that is not Postfix (dovecot, sshd, ...) or from an unselected instance. */
export interface ForeignRecord extends RecordBase {
  kind: 'foreign';
}

export type LogRecord =
  | ConnectRecord
  | DisconnectRecord
  | SessionAbortRecord
  | ClientRecord
  | PickupRecord
  | RejectRecord
  | MessageIdRecord
  | ActiveRecord
  | ExpiredRecord
  | RemovedRecord
  | DeliveryRecord
  | MessageStatusRecord
  | NotificationRecord
  | PostsuperRecord
  | PostsuperSummaryRecord
  | LifecycleRecord
  | OtherRecord
  | UnknownRecord
  | ForeignRecord;

export type RecordKind = LogRecord['kind'];

/** Every kind, in a stable order (for counters and reports). */
export const RECORD_KINDS: readonly RecordKind[] = [
  'connect',
  'disconnect',
  'session-abort',
  'client',
  'pickup',
  'reject',
  'message-id',
  'active',
  'expired',
  'removed',
  'delivery',
  'message-status',
  'notification',
  'postsuper',
  'postsuper-summary',
  'lifecycle',
  'other',
  'unknown',
  'foreign',
];
