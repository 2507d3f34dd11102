// One line to one record: the envelope, then the severity and queue id every Postfix text
// may start with, then the grammar of the program named in the tag.
import { LogClock, type ClockOptions } from './clock.js';
import { parseEnvelope } from './envelope.js';
import { agent } from './grammar/agents.js';
import { bounce } from './grammar/bounce.js';
import { cleanup } from './grammar/cleanup.js';
import { master, postfixScript } from './grammar/lifecycle.js';
import { pickup } from './grammar/pickup.js';
import { postsuper } from './grammar/postsuper.js';
import { qmgr } from './grammar/qmgr.js';
import { smtpd } from './grammar/smtpd.js';
import { Names } from './names.js';
import { queueIdEnd } from './queue-id.js';
import { makeRecord } from './make-record.js';
import type { ForeignRecord, LogRecord, OtherRecord, RecordBase, Severity, UnknownRecord } from './records.js';

type Grammar = (b: RecordBase) => LogRecord | undefined;

/** Grammar by program (the tag after its last '/'). */
const GRAMMARS = new Map<string, Grammar>([
  ['smtpd', smtpd],
  ['cleanup', cleanup],
  ['qmgr', qmgr],
  ['pickup', pickup],
  ['bounce', bounce],
  ['postsuper', postsuper],
  ['master', master],
  ['postfix-script', postfixScript],
  ['smtp', agent],
  ['lmtp', agent],
  ['local', agent],
  ['virtual', agent],
  ['pipe', agent],
  ['discard', agent],
  ['error', agent],
]);

export interface ParseOptions extends ClockOptions {
  /**
   * Postfix instances to read (the tag before its first '/': `postfix`, `postfix-out`);
   * lines of other instances become 'foreign'. Default: all.
   */
  instances?: readonly string[];
}

/** What parseLine needs to remember between lines of one input: the clock and the line count. */
export class ParseContext {
  readonly clock: LogClock;
  readonly instances: ReadonlySet<string> | undefined;
  readonly names = new Names();
  /** The current line's number, set by the reader (records copy it). */
  line = 0;

  constructor(options: ParseOptions = {}) {
    this.clock = new LogClock(options);
    this.instances = options.instances ? new Set(options.instances) : undefined;
  }
}

const SEVERITIES: readonly Severity[] = ['warning', 'error', 'fatal', 'panic'];

function severityOf(text: string): Severity {
  const c = text.charCodeAt(0);
  // Only w, e, f, p can start a severity word: skip the loop for the usual info line.
  if (c !== 0x77 && c !== 0x65 && c !== 0x66 && c !== 0x70) return 'info';
  for (const s of SEVERITIES) {
    if (text.startsWith(s) && text.charCodeAt(s.length) === 0x3a && text.charCodeAt(s.length + 1) === 0x20) return s;
  }
  return 'info';
}

/**
 * Parses one log line (without its line ending). Returns undefined for a garbled line (no
 * timestamp in any known form); every other line gives a record, 'unknown' when no grammar
 * understood it. Never throws on any input.
 */
export function parseLine(line: string, context: ParseContext): LogRecord | undefined {
  if (line.charCodeAt(line.length - 1) === 0x0d) line = line.slice(0, -1);
  const env = parseEnvelope(line, context.clock, context.names);
  if (!env) return undefined;
  let text = env.text;
  const severity = severityOf(text);
  if (severity !== 'info') text = text.slice(severity.length + 2);
  let queueId: string | undefined;
  if (text.startsWith('NOQUEUE: ')) {
    text = text.slice(9);
  } else {
    const end = queueIdEnd(text, 0);
    if (end > 0 && text.charCodeAt(end) === 0x3a && (end + 1 === text.length || text.charCodeAt(end + 1) === 0x20)) {
      queueId = text.slice(0, end);
      text = text.slice(end + 2);
    }
  }
  const tag = env.tag;
  const base: RecordBase = {
    time: env.time,
    timePrecision: env.timePrecision,
    line: context.line,
    host: env.host,
    tag: tag.tag,
    instance: tag.instance,
    service: tag.service,
    program: tag.program,
    pid: env.pid,
    severity,
    queueId,
    text,
  };
  if (!env.tagged) return makeRecord<UnknownRecord>(base, { kind: 'unknown' });
  if (!tag.postfix || (context.instances && !context.instances.has(base.instance))) {
    return makeRecord<ForeignRecord>(base, { kind: 'foreign' });
  }
  const grammar = GRAMMARS.get(base.program);
  const record = grammar?.(base);
  if (record) return record;
  if (severity !== 'info') return makeRecord<OtherRecord>(base, { kind: 'other', what: 'diagnostic' });
  if (text.startsWith('statistics: ')) return makeRecord<OtherRecord>(base, { kind: 'other', what: 'statistics' });
  if (grammar) return makeRecord<UnknownRecord>(base, { kind: 'unknown' });
  if (queueId !== undefined && text.startsWith('to=<')) {
    // A delivery agent under a name of its own (a master.cf service with its own syslog_name,
    // "postfix/amavis"): its to= lines are delivery lines all the same.
    const delivery = agent(base);
    if (delivery) return delivery;
  }
  return makeRecord<OtherRecord>(base, { kind: 'other', what: 'unmodelled' });
}
