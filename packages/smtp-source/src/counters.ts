// What a run counts, and the result it reports.
import type { SourceResultDoc } from '@smtpstone/results';
import type { SystemRecord } from '@smtpstone/sampler';
import type { GeneratorRecord } from './generator.js';
import type { ScheduleRecord } from './open-model.js';

/** Protocol stages as the errors name them. */
export type Stage = 'banner' | 'helo' | 'mail' | 'rcpt' | 'data' | 'dot' | 'rset' | 'quit' | 'starttls' | 'auth';

/** --starttls / --tls: what the handshakes gave. */
export interface TlsRecord {
  /** Handshakes completed. */
  handshakes: number;
  /** Of those, how many resumed an earlier session (--tls-session-reuse). */
  resumed: number;
  /** resumed / handshakes (0 with no handshake). */
  resumptionRate: number;
  /** Handshakes that failed, and sessions refused TLS (STARTTLS not offered or rejected, when required). */
  failures: number;
  /** Sessions that went on in plaintext (--starttls opportunistic, server without STARTTLS). */
  plaintext: number;
  /** Negotiated protocol -> handshakes. */
  protocols: Record<string, number>;
  /** Negotiated cipher (OpenSSL/IANA name) -> handshakes. */
  ciphers: Record<string, number>;
  /** Bytes on the wire of the connections (TLS records and handshakes included), counted as each closes. */
  bytes: { sent: number; received: number };
}

/** --auth: how the AUTH exchanges went. */
export interface AuthRecord {
  mechanism: string;
  attempts: number;
  succeeded: number;
  /** 535 and other refusals, and servers not offering the mechanism. */
  failed: number;
}

export class TlsCounters {
  handshakes = 0;
  resumed = 0;
  failures = 0;
  plaintext = 0;
  readonly protocols = new Map<string, number>();
  readonly ciphers = new Map<string, number>();
  wireSent = 0;
  wireReceived = 0;

  record(): TlsRecord {
    const obj = (m: Map<string, number>): Record<string, number> => Object.fromEntries([...m].sort((a, b) => a[0].localeCompare(b[0])));
    return {
      handshakes: this.handshakes,
      resumed: this.resumed,
      resumptionRate: this.handshakes > 0 ? Math.round((this.resumed / this.handshakes) * 1000) / 1000 : 0,
      failures: this.failures,
      plaintext: this.plaintext,
      protocols: obj(this.protocols),
      ciphers: obj(this.ciphers),
      bytes: { sent: this.wireSent, received: this.wireReceived },
    };
  }
}

export class SourceCounters {
  messagesStarted = 0;
  messagesSent = 0;
  messagesAccepted = 0;
  messagesRejected = 0;
  messagesFailed = 0;
  recipientsSent = 0;
  recipientsAccepted = 0;
  recipientsRejected = 0;
  /** Bytes of message content sent in DATA (headers and body, dot-stuffed, without the final "."). */
  bytesSent = 0;
  connectionsOpened = 0;
  connectFailures = 0;
  timeouts = 0;
  lostConnections = 0;
  /** 421 or 521 replies: the server closing the session. */
  serverClosed = 0;
  /** Unexpected replies by stage and code. */
  readonly rejects = new Map<Stage, Map<number, number>>();

  reject(stage: Stage, code: number): void {
    let byCode = this.rejects.get(stage);
    if (byCode === undefined) this.rejects.set(stage, (byCode = new Map()));
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
  }

  rejectsObject(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [stage, byCode] of this.rejects) {
      out[stage] = {};
      for (const [code, n] of [...byCode].sort((a, b) => a[0] - b[0])) out[stage][String(code)] = n;
    }
    return out;
  }
}

/**
 * The result of a run, --json. Its common part is @smtpstone/results' SourceResultDoc (what
 * gates, merges and comparisons read); the rest is what only a live run knows.
 */
export interface SourceResult extends Omit<SourceResultDoc, 'system' | 'merged'> {
  /** Open model only: late starts, messages never started, sessions used, per-stage figures. */
  schedule?: ScheduleRecord;
  /** smtp-source's own event-loop delay and CPU, and whether it was the bottleneck. */
  generator?: GeneratorRecord;
  /** Only with TLS (options.tls): handshakes, resumptions, failures, protocols and ciphers. */
  tls?: TlsRecord;
  /** Only with AUTH (options.auth). */
  auth?: AuthRecord;
  /**
   * Only with --bdat, --smtputf8, --size or --dsn: messages sent by BDAT, those that went by
   * DATA because CHUNKING was not offered, those failed because SMTPUTF8 was not offered, and
   * the MAILs that carried SIZE= / RET=.
   */
  extensions?: ExtensionRecord;
  /**
   * With --sample (options.sample): this host's /proc samples from the first connect to the end
   * of the run, and the verdict on them (disk-bound, cpu-bound, not-saturated, unknown).
   */
  system?: SystemRecord;
}

export interface ExtensionRecord {
  bdatMessages: number;
  bdatFallbacks: number;
  smtputf8NotOffered: number;
  sizeSent: number;
  dsnSent: number;
  /** MAILs with BODY=8BITMIME, and messages sent without it because 8BITMIME was not offered. */
  eightBitMimeSent: number;
  eightBitMimeNotOffered: number;
}
