// master and postfix-script: the mail system starting, reloading and stopping. A reload can
// change settings mid-log, so the reporter may want to mark it.
import { makeRecord } from '../make-record.js';
import type { LifecycleEvent, LifecycleRecord, LogRecord, RecordBase } from '../records.js';

const VERSIONED = /^(daemon started|reload) -- version ([^,\s]+), configuration (.+)$/;
const SCRIPT: Record<string, LifecycleEvent> = {
  'starting the Postfix mail system': 'starting',
  'refreshing the Postfix mail system': 'refreshing',
  'stopping the Postfix mail system': 'stopping',
  'mail system startup failed': 'startup-failed',
};

function event(b: RecordBase, e: LifecycleEvent, version?: string, configDirectory?: string): LogRecord {
  return makeRecord<LifecycleRecord>(b, { kind: 'lifecycle', event: e, version, configDirectory });
}

export function master(b: RecordBase): LogRecord | undefined {
  const m = VERSIONED.exec(b.text);
  if (m) return event(b, m[1] === 'reload' ? 'reload' : 'daemon-started', m[2], m[3]);
  if (/^terminating on signal \d+$/.test(b.text)) return event(b, 'terminating');
  return undefined;
}

export function postfixScript(b: RecordBase): LogRecord | undefined {
  return Object.hasOwn(SCRIPT, b.text) ? event(b, SCRIPT[b.text]) : undefined;
}
