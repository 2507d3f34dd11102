// The delivery agents (smtp, lmtp, local, virtual, pipe, discard, error): their to= lines,
// and for smtp/lmtp the per-attempt network chatter, which is counted but not correlated.
import { makeRecord } from '../make-record.js';
import type { LogRecord, OtherRecord, RecordBase } from '../records.js';
import { parseDelivery, parseMessageStatus } from './delivery.js';

const CHATTER = new RegExp(
  '^(?:' +
    [
      'connect to ',
      'host \\S+ (?:said|refused)',
      'lost connection with ',
      'conversation with ',
      'SSL_connect error',
      '(?:Anonymous|Trusted|Untrusted|Verified) TLS connection established',
      'enabling PIX workarounds',
      'Cannot start TLS',
      '(?:server )?certificate verification failed',
      'Server certificate not trusted',
    ].join('|') +
    ')',
);

export function agent(b: RecordBase): LogRecord | undefined {
  const r = parseDelivery(b) ?? parseMessageStatus(b);
  if (r) return r;
  if ((b.program === 'smtp' || b.program === 'lmtp') && CHATTER.test(b.text)) {
    return makeRecord<OtherRecord>(b, { kind: 'other', what: 'connection' });
  }
  return undefined;
}
