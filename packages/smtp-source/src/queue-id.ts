// The queue id in an end-of-data reply, so the journal can be joined to the MTA's log.
// Forms seen in the wild:
//   Postfix   250 2.0.0 Ok: queued as 4Fq3Zs0Lq9z2xQ   (short ids are hex, long ids base 52)
//   Exim      250 OK id=1tEZ0c-0004Sl-2V
//   Sendmail  250 2.0.0 4AQ8e1xT012345 Message accepted for delivery
//   Dovecot   250 2.0.0 <rcpt@example> 5nqVLpQkR2cfAQAAn4TQvw Saved   (LMTP session id;
//             the second and later recipients get ":R2", ":R3"... as in Dovecot's own log)
//   MS Exch.  250 2.6.0 <id@host> [InternalId=123] Queued mail for delivery
const PATTERNS: RegExp[] = [
  /\bqueued as ([A-Za-z0-9]+)/,
  /\bid=([A-Za-z0-9-]+)/,
  /^2\.\d\.\d+ ([A-Za-z0-9]+) Message accepted for delivery/,
  /^2\.\d\.\d+ <[^>]*> ([A-Za-z0-9+/=]+(?::R\d+)?) Saved/,
  /\[InternalId=(\d+)/,
];

/** The queue id in a reply's text (without the code), or undefined. */
export function parseQueueId(text: string): string | undefined {
  for (const p of PATTERNS) {
    const m = p.exec(text);
    if (m) return m[1];
  }
  return undefined;
}
