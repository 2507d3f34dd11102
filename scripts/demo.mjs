#!/usr/bin/env node
// The main job on loopback: start smtp-sink, drive it with smtp-source, and report both
// sides of the run, checked against each other. Then, where Postfix is installed, the same
// through a real MTA: smtp-source -> a private Postfix -> smtp-sink, with the reporter's
// account of every message (journal against Postfix's log) checked against the sink's count.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildReport, formatReport, writeOutputs } from '@smtpstone/reporter';
import { startSink } from '@smtpstone/smtp-sink';
import { formatResult, runSource } from '@smtpstone/smtp-source';
import { postfixMissing, QUICK_RELAY_SETTINGS, startPrivatePostfix, waitUntil } from '@smtpstone/testbed';

const MESSAGES = Number(process.env.DEMO_MESSAGES ?? 20000);
const POSTFIX_MESSAGES = Number(process.env.DEMO_POSTFIX_MESSAGES ?? 2000);
/** How long Postfix gets to hand every accepted message on to the sink. */
const DRAIN_TIMEOUT_MS = 60_000;

// ---- part 1 and 2: our smtp-source against our smtp-sink -----------------------------------

const sink = await startSink({ listen: '127.0.0.1:0', writeLog: (l) => process.stderr.write(l) });
const target = `127.0.0.1:${sink.address.port}`;
console.log(`smtp-sink listening on ${target}`);

const runs = [
  { title: 'lock-step, as Postfix smtp-source: -s 20 -l 5120 -d', options: { sessions: 20, length: 5120, reuseConnection: true } },
  { title: 'with --pipelining: -s 20 -l 5120 -d --pipelining', options: { sessions: 20, length: 5120, reuseConnection: true, pipelining: true } },
];
let ok = true;
try {
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
} finally {
  const s = await sink.close(1000);
  console.log(`\nsmtp-sink in all: ${s.sessions} sessions, ${s.messages} messages, ${s.bytes} bytes, ${Object.values(s.rejects).reduce((a, b) => a + b, 0)} rejects`);
}

// ---- part 3: through a real Postfix --------------------------------------------------------

const missing = postfixMissing();
if (process.env.DEMO_SKIP_POSTFIX) {
  console.log('\nthrough a real Postfix: skipped (DEMO_SKIP_POSTFIX is set)');
} else if (missing !== undefined) {
  console.log(`\nthrough a real Postfix: skipped (${missing}); to see it, install Postfix (apt-get install postfix) and run the demo as root`);
} else {
  try {
    ok = (await throughPostfix()) && ok;
  } catch (err) {
    console.log(`\nthrough a real Postfix: FAILED: ${err instanceof Error ? err.message : String(err)}`);
    ok = false;
  }
}
process.exit(ok ? 0 : 1);

/**
 * smtp-source (with a journal and /proc samples) into a private Postfix's smtpd; Postfix
 * relays everything to a fresh smtp-sink; the reporter correlates the journal with Postfix's
 * maillog. True when every injected message was delivered and the sink got exactly those.
 */
async function throughPostfix() {
  console.log(`\nthrough a real Postfix: smtp-source -> a private Postfix -> smtp-sink, then the report`);
  const tmp = mkdtempSync(join(tmpdir(), 'smtpstone-demo-'));
  let relaySink;
  let pf;
  // Ctrl-C skips the finally below: stop the private Postfix (a daemon, it would outlive us) first.
  const onSignal = async () => {
    console.log('interrupted: stopping the private Postfix');
    await pf?.stop().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    relaySink = await startSink({ listen: '127.0.0.1:0', hostname: 'relay-sink.example.test', writeLog: (l) => process.stderr.write(l) });
    const sinkPort = relaySink.address.port;
    pf = await startPrivatePostfix({
      main: {
        default_transport: 'smtp',
        // Bounded waits should the sink misbehave (Postfix's defaults are minutes).
        ...QUICK_RELAY_SETTINGS,
      },
      // The relay destination is the sink's port, known only now; applied last, so it wins.
      mainWithPorts: () => ({ relayhost: `[127.0.0.1]:${sinkPort}` }),
    });
    console.log(`  smtp-sink (relay destination) on 127.0.0.1:${sinkPort}; Postfix smtpd on 127.0.0.1:${pf.port}, maillog ${pf.maillog}`);

    const journal = join(tmp, 'journal.jsonl');
    const samples = join(tmp, 'result.json');
    const pfTarget = `127.0.0.1:${pf.port}`;
    console.log(`\nsmtp-source -s 10 -m ${POSTFIX_MESSAGES} --journal --sample ${pfTarget}`);
    const started = Date.now();
    const result = await runSource(
      {
        target: pfTarget,
        messages: POSTFIX_MESSAGES,
        sessions: 10,
        myHostname: 'client.example',
        sender: 'sender@example.com',
        recipient: 'rcpt@example.net',
        timeoutSeconds: 30,
        sample: { intervalMs: 500 },
        writeLog: (l) => process.stderr.write(l),
      },
      { journalPath: journal },
    );
    process.stdout.write(formatResult(result));
    // The result carries the samples as `system`; the reporter reads them from a file.
    writeFileSync(samples, JSON.stringify(result) + '\n');
    const accepted = result.messages.accepted;

    // Postfix queues first and relays after: wait until the sink has them all and the log says so.
    const sentLines = () => (pf.log().match(/ status=sent /g) ?? []).length;
    await waitUntil(
      `Postfix to relay ${accepted} messages to the sink`,
      () => relaySink.stats().messagesAccepted >= accepted && sentLines() >= accepted,
      DRAIN_TIMEOUT_MS,
      () => `the sink has ${relaySink.stats().messagesAccepted}, the log shows ${sentLines()} sent`,
      200,
    ).catch((err) => console.log(`  ${err.message}`));
    console.log(`  Postfix accepted ${accepted} and relayed ${relaySink.stats().messagesAccepted} to the sink in ${((Date.now() - started) / 1000).toFixed(1)} s in all`);

    const { model, correlation } = await buildReport({ journal, logs: [pf.maillog], samples, title: 'smtpstone demo: smtp-source -> Postfix -> smtp-sink' });
    const dir = resolve(process.env.DEMO_REPORT_DIR ?? '.');
    const html = join(dir, 'smtpstone-demo-report.html');
    writeOutputs(model, correlation, { html });
    console.log(`\nthe report (smtpstone-report --journal ... --log ${pf.maillog} --samples ...):`);
    process.stdout.write(formatReport(model));
    console.log(`HTML report: ${html}`);

    const s = model.summary;
    const delivered = s.delivered + s.deferredThenDelivered;
    const sinkGot = relaySink.stats().messagesAccepted;
    const agree = result.fatal === undefined && accepted === POSTFIX_MESSAGES && s.injected === accepted && s.lost === 0 && delivered === s.injected && sinkGot === delivered;
    console.log(
      `  injected ${s.injected}, delivered ${delivered} (report), lost ${s.lost}; smtp-sink got ${sinkGot}: ${agree ? 'both sides agree' : 'MISMATCH'}`,
    );
    return agree;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    try {
      await pf?.stop();
    } finally {
      try {
        await relaySink?.close(1000);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
  }
}
