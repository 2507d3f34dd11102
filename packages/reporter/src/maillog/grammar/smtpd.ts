// smtpd: the sessions (connect/disconnect, paired by pid: one process serves many sessions in
// turn), the queue file's birth (`QID: client=`) and policy rejects.
import { parseAttributes, parseCommandCount, parsePeer } from '../fields.js';
import { makeRecord } from '../make-record.js';
import type {
  ClientRecord, CommandCount, ConnectRecord, DisconnectRecord, LogRecord, OtherRecord, RecordBase, SessionAbortRecord,
} from '../records.js';
import { parsePolicy } from './policy.js';

// `lost connection after DATA from NAME[ADDR]` and its kin: REASON after COMMAND from PEER.
const ABORT =
  /^(lost connection|timeout|too many errors|improper command pipelining) after (\S+) from ([^\s[]*\[[^\]]*\](?::\d+)?)/;

function disconnect(b: RecordBase): LogRecord | undefined {
  const words = b.text.slice(16).split(' ');
  const client = parsePeer(words[0]);
  if (!client) return undefined;
  const counts: Record<string, CommandCount> = {};
  let commands: CommandCount | undefined;
  for (let k = 1; k < words.length; k++) {
    const eq = words[k].indexOf('=');
    const name = words[k].slice(0, eq);
    const count = eq > 0 && /^[a-z]+$/.test(name) ? parseCommandCount(words[k].slice(eq + 1)) : undefined;
    if (!count) return undefined;
    if (name === 'commands') commands = count;
    else counts[name] = count;
  }
  return makeRecord<DisconnectRecord>(b, { kind: 'disconnect', client, counts, commands });
}

export function smtpd(b: RecordBase): LogRecord | undefined {
  const t = b.text;
  if (b.queueId !== undefined && t.startsWith('client=')) {
    const comma = t.indexOf(', ');
    const client = parsePeer(t.slice(7, comma < 0 ? t.length : comma));
    const attributes = comma < 0 ? {} : parseAttributes(t, comma);
    if (!client || !attributes) return undefined;
    return makeRecord<ClientRecord>(b, { kind: 'client', queueId: b.queueId, client, attributes });
  }
  if (t.startsWith('connect from ')) {
    const client = parsePeer(t.slice(13));
    return client && makeRecord<ConnectRecord>(b, { kind: 'connect', client });
  }
  if (t.startsWith('disconnect from ')) return disconnect(b);
  const policy = parsePolicy(b);
  if (policy) return policy;
  const abort = ABORT.exec(t);
  if (abort) {
    const client = parsePeer(abort[3]);
    return client && makeRecord<SessionAbortRecord>(b, { kind: 'session-abort', reason: abort[1], after: abort[2], client });
  }
  if (/TLS connection established from |^SSL_accept error from |^setting up TLS connection from /.test(t)) {
    return makeRecord<OtherRecord>(b, { kind: 'other', what: 'connection' });
  }
  return undefined;
}
