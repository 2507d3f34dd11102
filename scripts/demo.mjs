#!/usr/bin/env node
// The main job on loopback: start smtp-sink, drive it with smtp-source, and report both
// sides of the run, checked against each other.
import { startSink } from '@smtpstone/smtp-sink';
import { formatResult, runSource } from '@smtpstone/smtp-source';

const MESSAGES = Number(process.env.DEMO_MESSAGES ?? 20000);

const sink = await startSink({ listen: '127.0.0.1:0', writeLog: (l) => process.stderr.write(l) });
const target = `127.0.0.1:${sink.address.port}`;
console.log(`smtp-sink listening on ${target}`);

const runs = [
  { title: 'lock-step, as Postfix smtp-source: -s 20 -l 5120 -d', options: { sessions: 20, length: 5120, reuseConnection: true } },
  { title: 'with --pipelining: -s 20 -l 5120 -d --pipelining', options: { sessions: 20, length: 5120, reuseConnection: true, pipelining: true } },
];
let ok = true;
for (const run of runs) {
  const before = sink.stats();
  console.log(`\nsmtp-source ${run.title} -m ${MESSAGES} ${target}`);
  const result = await runSource({ target, messages: MESSAGES, ...run.options });
  const after = sink.stats();
  process.stdout.write(formatResult(result));
  const received = after.messages - before.messages;
  const match = received === result.messages.accepted && after.recipients - before.recipients === result.recipients.accepted;
  console.log(`  smtp-sink saw ${received} messages and ${after.recipients - before.recipients} recipients: ${match ? 'both sides agree' : 'MISMATCH'}`);
  ok &&= match && result.fatal === undefined;
}
const s = await sink.close(1000);
console.log(`\nsmtp-sink in all: ${s.sessions} sessions, ${s.messages} messages, ${s.bytes} bytes, ${Object.values(s.rejects).reduce((a, b) => a + b, 0)} rejects`);
process.exit(ok ? 0 : 1);
