// Joins smtp-source's journal to a Postfix log: what happened to each injected message after
// its "250 queued as". The join is on the queue id (the journal's, from the end-of-data reply,
// against each record's); a message whose queue id never turns up is joined by its Message-Id
// instead (cleanup's `message-id=` line names the queue id). Records are streamed: only the
// journal's messages hold state, so memory does not grow with the log.
import { decodeQueueId } from '../maillog/queue-id.js';
import type { DeliveryRecord, DeliveryStatus, LogRecord, TimePrecision } from '../maillog/records.js';
import type { JournalEntry } from './journal-reader.js';
import { distribution, type Distribution } from './stats.js';

/** Where a message ended up. */
export type MessageFate =
  /** Every recipient sent, none deferred first. */
  | 'delivered'
  /** Every recipient sent, at least one after a deferral. */
  | 'deferred-then-delivered'
  /** Some recipient bounced or expired (the rest may have been sent). */
  | 'bounced'
  /** Some recipient's last word is a deferral: still in the queue when the log ends. */
  | 'deferred'
  /** Seen in the log, but not every recipient has a final status and none is deferred. */
  | 'pending'
  /** Removed from the queue without a final status for every recipient (postsuper -d, discard action). */
  | 'removed'
  /** Accepted by the MTA (journal) but never seen in the log. */
  | 'lost'
  /** Not accepted (journal status rejected or failed) and not seen in the log. */
  | 'not-accepted';

export const MESSAGE_FATES: readonly MessageFate[] = [
  'delivered',
  'deferred-then-delivered',
  'bounced',
  'deferred',
  'pending',
  'removed',
  'lost',
  'not-accepted',
];

/** Statuses that end a recipient's life (anything but deferred and SOFTBOUNCE). */
const FINAL: ReadonlySet<DeliveryStatus> = new Set<DeliveryStatus>(['sent', 'bounced', 'expired', 'deliverable', 'undeliverable']);

/** A delivery line, reduced to what the report needs. Times are epoch ms. */
export interface DeliveryAttempt {
  /** The queue id of the line (the hop it belongs to). */
  queueId: string;
  time: number;
  timePrecision: TimePrecision;
  program: string;
  status: DeliveryStatus;
  relay: string;
  /** Seconds from arrival to the end of this attempt. */
  delay: number;
  /** delays=a/b/c/d in seconds, when logged. */
  delays: { beforeQmgr: number; inQmgr: number; connSetup: number; transmission: number } | undefined;
  dsn: string;
  reply: string;
  /** The next queue id when the message was handed on (`queued as`, `forwarded as`). */
  queuedAs: string | undefined;
}

/** One recipient's story: its deferrals and its final delivery line. */
export interface RecipientLife {
  /** The address as the journal (or, for a recipient the journal did not list, the log) has it. */
  address: string;
  /** Deferral lines (status=deferred or SOFTBOUNCE) before the final one. */
  deferrals: number;
  firstDeferral: DeliveryAttempt | undefined;
  lastDeferral: DeliveryAttempt | undefined;
  /**
   * The last word: of the last hop that this log shows. When the message was handed to a
   * content filter or a second Postfix that logs here too, the hand-off lines are in `handoffs`.
   */
  final: DeliveryAttempt | undefined;
  /** Earlier hops' `sent ... queued as NEXT` lines, in order. */
  handoffs: DeliveryAttempt[];
}

/** One journal message and what the log says about it. Times are epoch ms. */
export interface MessageLife {
  seq: number;
  session: number;
  messageId: string | undefined;
  /** The journal's queue id (from the end-of-data reply). */
  journalQueueId: string | undefined;
  journalStatus: JournalEntry['status'];
  /** When the end-of-data reply arrived: the injection's end (the journal's `end`). */
  injectedAt: number;
  /** The queue id the log uses for it, once seen. */
  queueId: string | undefined;
  /**
   * The queue ids of the message's hops through this log, in order: the one smtpd gave, then
   * each one it was re-queued as (an after-queue content filter, a second Postfix instance).
   */
  hops: string[];
  /** How the log's queue id was found. */
  joinedBy: 'queue-id' | 'message-id' | undefined;
  fate: MessageFate;
  /** smtpd's `client=` line. */
  client: { time: number; peer: string } | undefined;
  /** cleanup's `message-id=` line. */
  cleanup: { time: number; messageId: string } | undefined;
  /** qmgr's first `from=, size=, nrcpt= (queue active)` line; `activations` counts them all. */
  qmgr: { time: number; from: string; size: number; nrcpt: number } | undefined;
  activations: number;
  /** In journal order, then any the log named that the journal did not. */
  recipients: RecipientLife[];
  /** qmgr's `removed`. */
  removedAt: number | undefined;
  /** qmgr's `status=expired, returned to sender`. */
  expiredAt: number | undefined;
  /** A queue-id'd reject/hold/discard action (cleanup header checks, milters), as `action: reason`. */
  actions: string[];
  /** Bounce/delay notifications Postfix generated about it (their queue ids). */
  notifications: string[];
  /**
   * Injection end to the last recipient's final `sent` line, in ms, clamped at 0; only when
   * every recipient was sent. See `latencyPrecision`.
   */
  latencyMs: number | undefined;
  /**
   * Precision of the log time behind latencyMs: 's' for classic syslog and maillog_file
   * (truncated to the second, so the latency may read up to 1 s short; negatives become 0).
   */
  latencyPrecision: TimePrecision | undefined;
}

export interface CorrelationSummary {
  /** Journal lines. */
  journalEntries: number;
  /** Journal lines with status accepted: the messages injected into the MTA. */
  injected: number;
  /** Journal lines rejected or failed. */
  notAccepted: number;
  /** Messages (of any journal status) found in the log. */
  found: number;
  joinedByQueueId: number;
  joinedByMessageId: number;
  /** Accepted but never in the log. */
  lost: number;
  delivered: number;
  deferredThenDelivered: number;
  bounced: number;
  /** Still deferred when the log ends. */
  deferred: number;
  pending: number;
  removed: number;
  /** Messages per fate. */
  fates: Record<MessageFate, number>;
  /**
   * Recipients of found messages by final status, plus `deferred` (last word a deferral) and
   * `none` (no delivery line).
   */
  recipients: Record<string, number>;
  /** Recipients that were deferred at least once (whatever came next). */
  recipientsDeferredOnce: number;
  /** End-to-end delivery latency in ms (injection end to last `sent`), of fully sent messages. */
  latencyMs: Distribution | undefined;
  /** Coarsest precision of the log times behind latencyMs. */
  latencyPrecision: TimePrecision | undefined;
  /** delay= of final delivery lines, seconds. */
  delay: Distribution | undefined;
  /** delays=a/b/c/d of final delivery lines, seconds. */
  delays: {
    beforeQmgr: Distribution | undefined;
    inQmgr: Distribution | undefined;
    connSetup: Distribution | undefined;
    transmission: Distribution | undefined;
  };
  /** Log records read; records that touched a journal message. */
  records: number;
  matchedRecords: number;
}

export interface Correlation {
  /** One per journal entry, in journal order. */
  messages: MessageLife[];
  summary: CorrelationSummary;
  /** Times (epoch ms) of every deferral line of a journal message, in log order: for the timeline. */
  deferralTimes: number[];
}

export interface CorrelateOptions {
  /**
   * For the Message-Id fallback: how many `client=` lines of not-yet-known queue ids to hold
   * until their cleanup line says whose they are (default 10000). Only used when some journal
   * message has no queue id match yet.
   */
  pendingClients?: number;
  /**
   * How many log records of queue ids not (yet) known to keep: for a content filter's next hop,
   * whose first lines come before the hand-off line naming it, and when following live, for a
   * journal line written after its message's first log lines (default 10000; 0: off).
   */
  holdRecords?: number;
  /** Stops reading the records (Ctrl-C): the result covers what was read. */
  signal?: AbortSignal;
  /**
   * Following a live run: journal lines come after their messages' first log lines, so records
   * of unknown queue ids are held all the time, not only while a message of ours is in the
   * queue (which is all a content filter's hand-off needs).
   */
  live?: boolean;
}

const PRECISION_RANK: Record<TimePrecision, number> = { us: 0, ms: 1, s: 2, none: 3 };

function coarser(a: TimePrecision | undefined, b: TimePrecision): TimePrecision {
  return a === undefined || PRECISION_RANK[b] > PRECISION_RANK[a] ? b : a;
}

function peerText(p: { name: string; addr: string; port: number | undefined }): string {
  return `${p.name}[${p.addr}]${p.port !== undefined ? `:${p.port}` : ''}`;
}

function attempt(r: DeliveryRecord): DeliveryAttempt {
  return {
    queueId: r.queueId,
    time: r.time,
    timePrecision: r.timePrecision,
    program: r.program,
    status: r.status,
    relay: r.relay,
    delay: r.delay,
    delays: r.delays ? { ...r.delays } : undefined,
    dsn: r.dsn,
    reply: r.reply,
    queuedAs: r.queuedAs,
  };
}

function newRecipient(address: string): RecipientLife {
  return { address, deferrals: 0, firstDeferral: undefined, lastDeferral: undefined, final: undefined, handoffs: [] };
}

/**
 * When a delivery attempt ended, as exactly as the log allows. Classic and maillog_file stamps
 * are whole seconds, but a long queue id carries its queue file's creation time to the
 * microsecond and delay= counts from then, to 10 ms below a second and 100 ms below ten: their
 * sum, kept within the stamp's second, is the end to about that much.
 */
export function whenDone(a: DeliveryAttempt): { time: number; precision: TimePrecision } {
  if (a.timePrecision !== 's' || a.delay >= 10) return { time: a.time, precision: a.timePrecision };
  const q = decodeQueueId(a.queueId);
  if (q?.form !== 'long') return { time: a.time, precision: a.timePrecision };
  const t = q.time + a.delay * 1000;
  return { time: Math.min(a.time + 999, Math.max(a.time, t)), precision: 'ms' };
}

/** Addresses compare without case (the domain is case-free; local parts nearly always are in practice). */
function addressKey(a: string): string {
  return a.toLowerCase();
}

/**
 * How long, in multiples of the hold's size, a content filter may take to hand a message on:
 * 10 x 10,000 records is some 10,000 other messages going by on a busy server.
 */
const HOLD_SPAN = 10;
/**
 * A removed queue id still takes delivery lines this long after its `removed` (log time), and
 * at most this many ids are kept so: with whole-second stamps, several logs merged in time
 * order put one second's lines of different logs in log order, not in the order written.
 */
const REMOVED_GRACE_MS = 1000;
const REMOVED_KEPT = 4096;

class Tracker {
  readonly messages: MessageLife[] = [];
  /** Log queue id -> message, while the queue file lives. */
  private readonly byQueueId = new Map<string, MessageLife>();
  /** Queue ids just removed, with when: a delivery line may still come (REMOVED_GRACE_MS). */
  private readonly recentlyRemoved = new Map<string, { life: MessageLife; time: number }>();
  /** Message-Id -> messages not yet seen in the log (fallback join). */
  private readonly byMessageId = new Map<string, MessageLife[]>();
  /** How many messages are not yet seen: the fallback's work list. */
  private unseen = 0;
  /** client= records of queue ids not (yet) known, for the fallback. */
  private readonly pendingClients = new Map<string, { time: number; peer: string }>();
  private readonly recipientIndex = new WeakMap<MessageLife, Map<string, RecipientLife>>();
  /** `queued as` ids of journal messages' hand-offs, until that id turns up in the log (if ever). */
  private readonly handedTo = new Map<string, MessageLife>();
  readonly deferralTimes: number[] = [];
  private readonly held = new Map<string, LogRecord[]>();
  /** Messages of ours whose current queue file is not removed yet: a hand-off may still come. */
  private readonly inFlight = new Set<MessageLife>();
  /** Records since the last one about a message of ours. */
  private sinceOurs = 0;
  private heldCount = 0;
  records = 0;
  matched = 0;

  constructor(
    entries: Iterable<JournalEntry>,
    private readonly pendingCap: number,
    private readonly holdCap: number,
    private readonly holdAlways: boolean,
  ) {
    for (const e of entries) this.addEntry(e);
  }

  /** Adds a journal message; when following live, log records for it may have come first. */
  addEntry(e: JournalEntry): void {
    {
      const life: MessageLife = {
        seq: e.seq,
        session: e.session,
        messageId: e.messageId,
        journalQueueId: e.queueId,
        journalStatus: e.status,
        injectedAt: Date.parse(e.end),
        queueId: undefined,
        hops: [],
        joinedBy: undefined,
        fate: 'lost',
        client: undefined,
        cleanup: undefined,
        qmgr: undefined,
        activations: 0,
        recipients: [],
        removedAt: undefined,
        expiredAt: undefined,
        actions: [],
        notifications: [],
        latencyMs: undefined,
        latencyPrecision: undefined,
      };
      const index = new Map<string, RecipientLife>();
      for (const a of e.recipients) {
        const k = addressKey(a);
        if (index.has(k)) continue;
        const r: RecipientLife = newRecipient(a);
        index.set(k, r);
        life.recipients.push(r);
      }
      this.recipientIndex.set(life, index);
      this.messages.push(life);
      // A later journal line with the same queue id (it should not happen) does not steal the first's.
      if (e.queueId !== undefined && !this.byQueueId.has(e.queueId)) this.byQueueId.set(e.queueId, life);
      if (e.messageId !== undefined && e.messageId !== '') {
        const list = this.byMessageId.get(e.messageId);
        if (list) list.push(life);
        else this.byMessageId.set(e.messageId, [life]);
      }
      this.unseen++;
      if (e.queueId !== undefined) this.replayHeld(e.queueId);
    }
  }

  /** Feeds the records held for a queue id that now turned out to be one of ours. */
  private replayHeld(queueId: string): void {
    const early = this.held.get(queueId);
    if (early === undefined) return;
    this.held.delete(queueId);
    this.heldCount -= early.length;
    for (const r of early) this.add(r, false);
  }

  /**
   * The message's next hop in this log: from now on its records are the message's, and the
   * recipients' hand-off lines stop being their last word.
   */
  private bindHop(life: MessageLife, queueId: string): void {
    this.handedTo.delete(queueId);
    life.hops.push(queueId);
    life.removedAt = undefined;
    this.inFlight.add(life);
    this.byQueueId.set(queueId, life);
    for (const r of life.recipients) {
      if (r.final?.queuedAs === queueId) {
        r.handoffs.push(r.final);
        r.final = undefined;
      }
    }
  }

  /**
   * Records of queue ids not (yet) known wait here, the oldest ids going first beyond the cap:
   * a message's next hop (a content filter's re-injection) logs its first lines before the
   * hand-off line that names it, and when following live, smtpd and cleanup log a message
   * before smtp-source hears its 250 and writes the journal line.
   */
  private hold(r: LogRecord & { queueId: string }): void {
    if (this.holdCap <= 0) return;
    const list = this.held.get(r.queueId);
    if (list) list.push(r);
    else this.held.set(r.queueId, [r]);
    this.heldCount++;
    while (this.heldCount > this.holdCap) {
      const oldest = this.held.keys().next().value;
      if (oldest === undefined) break;
      this.heldCount -= this.held.get(oldest)!.length;
      this.held.delete(oldest);
    }
  }

  private markSeen(life: MessageLife, queueId: string, how: 'queue-id' | 'message-id'): void {
    if (life.queueId !== undefined) return;
    life.queueId = queueId;
    life.hops.push(queueId);
    this.inFlight.add(life);
    life.joinedBy = how;
    this.unseen--;
    if (life.messageId !== undefined) {
      const list = this.byMessageId.get(life.messageId);
      if (list) {
        const i = list.indexOf(life);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.byMessageId.delete(life.messageId);
      }
    }
  }

  /** The message a record's queue id belongs to, binding by Message-Id on cleanup's line. */
  private lifeOf(r: LogRecord): MessageLife | undefined {
    const q = r.queueId;
    if (q === undefined) return undefined;
    const known = this.byQueueId.get(q);
    if (known !== undefined) {
      // The journal's queue id, first seen: bound by queue id.
      if (known.queueId === undefined) this.markSeen(known, q, 'queue-id');
      return known.hops.includes(q) ? known : undefined;
    }
    if (this.recentlyRemoved.size > 0) {
      const gone = this.recentlyRemoved.get(q);
      if (gone !== undefined) {
        // Within the grace, a line is the removed message's, merged after its removal, unless it
        // starts a queue file the message already had: then a new message reuses the id.
        const life = gone.life;
        const reuse =
          r.kind === 'pickup' || (r.kind === 'client' && life.client !== undefined) || (r.kind === 'message-id' && life.cleanup !== undefined);
        if (!reuse && r.time - gone.time <= REMOVED_GRACE_MS) return life;
        this.recentlyRemoved.delete(q);
      }
    }
    if (this.handedTo.size > 0 && (r.kind === 'client' || r.kind === 'message-id')) {
      // A hand-off's next queue id starting its own life in this log (smtpd or cleanup is
      // where a queue file begins, so a stray later reuse of a remote id is not mistaken).
      const prev = this.handedTo.get(q);
      if (prev !== undefined) {
        this.bindHop(prev, q);
        return prev;
      }
    }
    if (this.byMessageId.size === 0) return undefined;
    if (r.kind === 'client') {
      // Whose it is shows on the cleanup line that follows; hold it until then.
      this.pendingClients.set(q, { time: r.time, peer: peerText(r.client) });
      if (this.pendingClients.size > this.pendingCap) {
        const oldest = this.pendingClients.keys().next().value;
        if (oldest !== undefined) this.pendingClients.delete(oldest);
      }
      return undefined;
    }
    if (r.kind === 'message-id' && !r.resent) {
      const client = this.pendingClients.get(q);
      this.pendingClients.delete(q);
      const list = this.byMessageId.get(r.messageId);
      const life = list?.[0];
      if (life === undefined) return undefined;
      this.markSeen(life, q, 'message-id');
      this.byQueueId.set(q, life);
      if (client !== undefined && life.client === undefined) life.client = client;
      return life;
    }
    return undefined;
  }

  add(r: LogRecord, count = true): void {
    if (count) this.records++;
    const life = this.lifeOf(r);
    if (life === undefined) {
      // Held when following live, or while a hand-off can still come: some message of ours has a
      // queue file, and was heard of within the last HOLD_SPAN x holdCap records (a message
      // still deferred when the log ends would otherwise keep the hold on for the whole log).
      this.sinceOurs++;
      if (r.queueId !== undefined && this.holdCap > 0 && (this.holdAlways || (this.inFlight.size > 0 && this.sinceOurs < this.holdCap * HOLD_SPAN))) {
        this.hold(r as LogRecord & { queueId: string });
      }
      return;
    }
    this.matched++;
    this.sinceOurs = 0;
    switch (r.kind) {
      case 'client':
        if (life.client === undefined) life.client = { time: r.time, peer: peerText(r.client) };
        break;
      case 'message-id':
        if (!r.resent && life.cleanup === undefined) life.cleanup = { time: r.time, messageId: r.messageId };
        break;
      case 'active':
        life.activations++;
        if (life.qmgr === undefined) life.qmgr = { time: r.time, from: r.from, size: r.size, nrcpt: r.nrcpt };
        break;
      case 'delivery':
        this.delivery(life, r);
        break;
      case 'expired':
        if (life.expiredAt === undefined) life.expiredAt = r.time;
        break;
      case 'reject':
        life.actions.push(`${r.action}: ${r.reason}`);
        break;
      case 'notification':
        life.notifications.push(r.notificationId);
        break;
      case 'removed':
        // An earlier hop's queue file going away says nothing about the message's end.
        if (r.queueId === life.hops[life.hops.length - 1]) {
          life.removedAt = r.time;
          this.inFlight.delete(life);
        }
        // The id may be reused by a later message (short ids are): let go of it, keeping it
        // a moment for lines merged after the removal.
        this.byQueueId.delete(r.queueId);
        this.recentlyRemoved.delete(r.queueId);
        this.recentlyRemoved.set(r.queueId, { life, time: r.time });
        if (this.recentlyRemoved.size > REMOVED_KEPT) this.recentlyRemoved.delete(this.recentlyRemoved.keys().next().value!);
        break;
      default:
        break;
    }
  }

  private delivery(life: MessageLife, r: DeliveryRecord): void {
    const index = this.recipientIndex.get(life)!;
    // to= is after alias expansion; orig_to= (when written) is what was sent in RCPT TO.
    let rcpt = (r.origTo !== undefined ? index.get(addressKey(r.origTo)) : undefined) ?? index.get(addressKey(r.to));
    if (rcpt === undefined) {
      rcpt = newRecipient(r.origTo ?? r.to);
      index.set(addressKey(rcpt.address), rcpt);
      life.recipients.push(rcpt);
    }
    if (rcpt.final !== undefined) return;
    const a = attempt(r);
    if (FINAL.has(r.status)) {
      rcpt.final = a;
      if (r.status === 'sent' && r.queuedAs !== undefined && !life.hops.includes(r.queuedAs)) this.handOff(life, r.queuedAs);
    } else {
      this.deferralTimes.push(r.time);
      rcpt.deferrals++;
      rcpt.firstDeferral ??= a;
      rcpt.lastDeferral = a;
    }
  }

  /**
   * A recipient was sent on `queued as next`. If that id already logged here (its smtpd and
   * cleanup lines usually come before this line), it is the next hop now; if it turns up later,
   * it becomes one then; a remote server's id never turns up and the hand-off stays final.
   */
  private handOff(life: MessageLife, next: string): void {
    if (this.held.has(next)) {
      this.bindHop(life, next);
      this.replayHeld(next);
    } else {
      this.handedTo.set(next, life);
    }
  }

  /** Settles each message's fate and latency. */
  finish(): void {
    for (const life of this.messages) {
      // Called again and again while following: each call starts from the facts, not the last call.
      life.latencyMs = undefined;
      life.latencyPrecision = undefined;
      if (life.queueId === undefined) {
        life.fate = life.journalStatus === 'accepted' ? 'lost' : 'not-accepted';
        continue;
      }
      const rs = life.recipients;
      const finals = rs.filter((r) => r.final !== undefined);
      const bounced = finals.some((r) => r.final!.status !== 'sent' && r.final!.status !== 'deliverable');
      const deferred = rs.some((r) => r.final === undefined && r.deferrals > 0);
      // Postfix may have queued fewer recipients than the journal lists (-A rejects): nrcpt says.
      const expected = life.qmgr?.nrcpt;
      const unfinished = rs.filter((r) => r.final === undefined);
      const allFinal =
        rs.length > 0 &&
        (unfinished.length === 0 ||
          // The journal's recipients Postfix never took (rejected at RCPT) have no line at all.
          (expected !== undefined && finals.length >= expected && unfinished.every((r) => r.deferrals === 0)));
      if (bounced || life.expiredAt !== undefined) life.fate = 'bounced';
      else if (deferred) life.fate = 'deferred';
      else if (allFinal && finals.length > 0) life.fate = finals.some((r) => r.deferrals > 0) ? 'deferred-then-delivered' : 'delivered';
      else if (life.removedAt !== undefined) life.fate = 'removed';
      else life.fate = 'pending';
      if ((life.fate === 'delivered' || life.fate === 'deferred-then-delivered') && Number.isFinite(life.injectedAt)) {
        let end = whenDone(finals[0].final!);
        for (const r of finals) {
          const e = whenDone(r.final!);
          if (e.time > end.time) end = e;
        }
        life.latencyMs = Math.max(0, end.time - life.injectedAt);
        life.latencyPrecision = end.precision;
      }
    }
  }

  summary(): CorrelationSummary {
    const fates = Object.fromEntries(MESSAGE_FATES.map((f) => [f, 0])) as Record<MessageFate, number>;
    const recipients: Record<string, number> = {};
    const latencies: number[] = [];
    const delay: number[] = [];
    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    const d: number[] = [];
    let precision: TimePrecision | undefined;
    let injected = 0;
    let found = 0;
    let byQ = 0;
    let byM = 0;
    let deferredOnce = 0;
    for (const life of this.messages) {
      fates[life.fate]++;
      if (life.journalStatus === 'accepted') injected++;
      if (life.queueId === undefined) continue;
      found++;
      if (life.joinedBy === 'queue-id') byQ++;
      else byM++;
      if (life.latencyMs !== undefined) {
        latencies.push(life.latencyMs);
        precision = coarser(precision, life.latencyPrecision!);
      }
      for (const r of life.recipients) {
        if (r.deferrals > 0) deferredOnce++;
        const key = r.final ? r.final.status : r.deferrals > 0 ? 'deferred' : 'none';
        recipients[key] = (recipients[key] ?? 0) + 1;
        if (r.final) {
          delay.push(r.final.delay);
          if (r.final.delays) {
            a.push(r.final.delays.beforeQmgr);
            b.push(r.final.delays.inQmgr);
            c.push(r.final.delays.connSetup);
            d.push(r.final.delays.transmission);
          }
        }
      }
    }
    return {
      journalEntries: this.messages.length,
      injected,
      notAccepted: this.messages.length - injected,
      found,
      joinedByQueueId: byQ,
      joinedByMessageId: byM,
      lost: fates.lost,
      delivered: fates.delivered,
      deferredThenDelivered: fates['deferred-then-delivered'],
      bounced: fates.bounced,
      deferred: fates.deferred,
      pending: fates.pending,
      removed: fates.removed,
      fates,
      recipients,
      recipientsDeferredOnce: deferredOnce,
      latencyMs: distribution(latencies),
      latencyPrecision: precision,
      delay: distribution(delay),
      delays: { beforeQmgr: distribution(a), inQmgr: distribution(b), connSetup: distribution(c), transmission: distribution(d) },
      records: this.records,
      matchedRecords: this.matched,
    };
  }
}

/**
 * Follows each journal message through the log records (a readMaillog() result, or any
 * iterable of records in log order). Holds state only for the journal's messages.
 */
export async function correlate(
  entries: Iterable<JournalEntry>,
  records: AsyncIterable<LogRecord> | Iterable<LogRecord>,
  options: CorrelateOptions = {},
): Promise<Correlation> {
  const c = new Correlator(entries, options);
  const { signal } = options;
  for await (const r of records) {
    c.add(r);
    if (signal?.aborted) break;
  }
  return c.result();
}

/**
 * The same join, fed one journal entry and one record at a time: for following a live run,
 * where both the journal and the log grow. `result()` may be called at any time.
 */
export class Correlator {
  private readonly tracker: Tracker;

  constructor(entries: Iterable<JournalEntry> = [], options: CorrelateOptions = {}) {
    this.tracker = new Tracker(entries, options.pendingClients ?? 10_000, options.holdRecords ?? 10_000, options.live ?? false);
  }

  addEntry(e: JournalEntry): void {
    this.tracker.addEntry(e);
  }

  add(r: LogRecord): void {
    this.tracker.add(r);
  }

  get entries(): number {
    return this.tracker.messages.length;
  }

  /** Log records that belonged to a journal message so far. */
  get matchedRecords(): number {
    return this.tracker.matched;
  }

  /** Fates and the summary as of now (recomputed each call). */
  result(): Correlation {
    const t = this.tracker;
    t.finish();
    return { messages: t.messages, summary: t.summary(), deferralTimes: t.deferralTimes };
  }
}
