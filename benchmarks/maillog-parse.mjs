#!/usr/bin/env node
// Benchmark: the reporter's Postfix log parser (packages/reporter/dist/maillog) on a ~1 GB log,
// the whole report over it (journal x log correlation, report model, HTML), and pflogsumm, the
// standard Postfix log summariser, on the same file.
//
// Builds the log in a temporary directory by repeating the fixture logs
// (packages/reporter/test/fixtures/maillog/*.log: every envelope form and program the tests
// know, Dovecot lines included), then runs each mode once per rep, each in a fresh child process
// so that its peak RSS is its own, and removes the file at the end (also on Ctrl-C). Each copy
// gets queue ids of its own (see idPlan: the inode digits are rewritten, the length and the
// form stay), so a message's queue id occurs in one copy only, as in a real log. The file was
// just written, so it is read from the page cache: this measures the programs, not the disk.
// Each child checks its counts against the fixtures' times the number of copies.
//
// Modes:  iter       for await (const record of readMaillog(path))   - the main API
//         batches    for await (const batch of readMaillog(path).batches())
//         push       new MaillogParser(callback).push(chunk) over fs reads - the fast path
//         report     correlate(journal, readMaillog(path)), buildReportModel(), renderHtml(): the
//                    report of a journal of about 20,000 messages (those smtpd received in the
//                    first copies, plus 1% the log never shows) against the whole log; checked
//                    against the same journal's correlation of one copy (see reportChild)
//         pflogsumm  Debian's pflogsumm on the same file, under GNU time (peak RSS = ru_maxrss);
//                    its exit status and Grand Totals are recorded next to our parser's counts
//
//   node benchmarks/maillog-parse.mjs [--size MB] [--modes iter,batches,push,report,pflogsumm] [--reps N] [--hold-records N]
//                                     [--dir DIR] [--out FILE]
//
// Plain Node ESM. Build first: npx tsc -b packages/*. pflogsumm: apt-get install pflogsumm time
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  die, finishMeta, machineMeta, nonNegativeInt, note, positiveInt, root, round, setProgName, eachFlag, statusKb, textTable, writeResults,
} from './lib.mjs';

setProgName('maillog-parse');

const DIST = join(root, 'packages/reporter/dist/maillog/index.js');
const REPORTER = join(root, 'packages/reporter/dist/index.js');
const HTML = join(root, 'packages/reporter/dist/report/html.js');
const FIXTURES = join(root, 'packages/reporter/test/fixtures/maillog');
const PFLOGSUMM = '/usr/sbin/pflogsumm';
const GNU_TIME = '/usr/bin/time';
const MODES = ['iter', 'batches', 'push', 'report', 'pflogsumm'];
const OPTIONS = { year: 2026, zone: 'UTC' };
/** The report mode's journal: about this many messages, whole copies' worth. */
const JOURNAL_TARGET = 20000;
/** Every this many journal entries, one more that the log never shows (accepted, then lost). */
const LOST_EVERY = 100;

const USAGE = `usage: node benchmarks/maillog-parse.mjs [options]
  --size MB      size of the log to build (default 1024)
  --modes LIST   comma-separated: ${MODES.join(', ')} (default: iter, batches, push, report, and
                 pflogsumm when ${PFLOGSUMM} exists)
  --reps N       runs per mode, each in a fresh process; the best is reported (default 1)
  --hold-records N
                 report: correlate()'s holdRecords (default: the library's, 10000; 0: no hold)
  --dir DIR      where to build the log (default: the system temp dir)
  --out FILE     also write the results as JSON to FILE
  --help`;

// ---- the log: fixture copies with queue ids of their own ---------------------------------

/** The fixtures once: each file's bytes, and all of them as one buffer. */
function fixtureCopy() {
  const names = readdirSync(FIXTURES).filter((n) => n.endsWith('.log')).sort();
  if (names.length === 0) die(`no fixture logs in ${FIXTURES}`);
  const files = names.map((n) => readFileSync(join(FIXTURES, n)));
  return { names, files, bytes: Buffer.concat(files) };
}

/** Postfix's base-51 inode digits of long queue ids (base 52 without 'z', the separator). */
const BASE51 = '0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxy';
const isWordChar = (c) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * Where the queue ids sit in one copy of the fixtures, so that every copy can be given ids of
 * its own. A key is a queue id of one fixture file (relay-sent.log and its ISO twin share ids:
 * two keys). Only the inode digits are rewritten (short ids: the hex after the 5 digits of
 * microseconds; long ids: the base-51 digits after the last 'z'), to the key's number within
 * its form plus copy x (keys of that form), at the same width: the length, the form and a long
 * id's creation time stay. Every occurrence of the id as a word in its file is rewritten,
 * including `queued as`, notification ids and cleanup's generated Message-Ids. Also gathers
 * what the report mode's journal needs: whether smtpd received it, when, its Message-Id and its
 * recipients.
 */
function idPlan(files, MaillogParser) {
  const keys = [];
  const spots = []; // pairs: byte offset of the inode digits in the copy, key index
  const formCount = { short: 0, long: 0 };
  let base = 0;
  for (const [file, buf] of files.entries()) {
    const byId = new Map();
    const keyOf = (id) => {
      let k = byId.get(id);
      if (k === undefined) {
        const form = /^[0-9A-F]+$/.test(id) ? 'short' : 'long';
        const inodeAt = form === 'short' ? 5 : id.lastIndexOf('z') + 1;
        k = {
          index: keys.length, file, id, form, inodeAt, inodeLen: id.length - inodeAt, formIndex: formCount[form]++,
          received: false, time: undefined, messageId: undefined, recipients: [],
        };
        byId.set(id, k);
        keys.push(k);
      }
      return k;
    };
    const parser = new MaillogParser((r) => {
      if (r.queueId !== undefined) {
        const k = keyOf(r.queueId);
        k.time ??= r.time;
        if (r.kind === 'client') k.received = true;
        else if (r.kind === 'message-id' && !r.resent) k.messageId ??= r.messageId;
        else if (r.kind === 'delivery' && !k.recipients.includes(r.origTo ?? r.to)) k.recipients.push(r.origTo ?? r.to);
      }
      if (r.kind === 'delivery' && r.queuedAs !== undefined && /^[0-9A-F]{6,}$/.test(r.queuedAs)) keyOf(r.queuedAs);
      if (r.kind === 'notification') keyOf(r.notificationId);
    }, OPTIONS);
    parser.push(buf);
    parser.end();
    const text = buf.toString('latin1');
    for (const k of byId.values()) {
      for (let at = text.indexOf(k.id); at >= 0; at = text.indexOf(k.id, at + 1)) {
        if (isWordChar(text.charCodeAt(at - 1)) || isWordChar(text.charCodeAt(at + k.id.length))) continue;
        spots.push(base + at + k.inodeAt, k.index);
      }
    }
    base += buf.length;
  }
  return { keys, spots, formCount };
}

/** The largest number of copies whose ids stay distinct at the fixtures' widths. */
function maxCopies(plan) {
  let max = Infinity;
  for (const k of plan.keys) max = Math.min(max, Math.floor((k.form === 'short' ? 16 : 51) ** k.inodeLen / plan.formCount[k.form]));
  return max;
}

/** Copy k's inode digits for each key. */
function inodesOfCopy(plan, k) {
  return plan.keys.map((key) => {
    let n = k * plan.formCount[key.form] + key.formIndex;
    if (key.form === 'short') return n.toString(16).toUpperCase().padStart(key.inodeLen, '0');
    let s = '';
    for (let i = 0; i < key.inodeLen; i++, n = Math.floor(n / 51)) s = BASE51[n % 51] + s;
    return s;
  });
}

/** Copy k's id of a key. */
const idInCopy = (key, inodes) => key.id.slice(0, key.inodeAt) + inodes[key.index];

/** Turns buf (a copy of the fixtures) into copy k, in place. */
function rewriteCopy(buf, plan, k) {
  const inodes = inodesOfCopy(plan, k);
  const { spots } = plan;
  for (let i = 0; i < spots.length; i += 2) buf.write(inodes[spots[i + 1]], spots[i], 'latin1');
  return buf;
}

/** Writes `copies` copies of the fixtures, each with its own queue ids, to path. */
function build(path, bytes, plan, copies) {
  const buf = Buffer.from(bytes);
  const fd = openSync(path, 'w');
  try {
    for (let k = 0; k < copies; k++) writeSync(fd, rewriteCopy(buf, plan, k));
  } finally {
    closeSync(fd);
  }
}

// ---- children: run one mode once, print one JSON line --------------------------------------

/** User + system CPU seconds of this process since `from` (a process.cpuUsage()). */
function cpuSince(from) {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

async function child(mode, path, copies, holdRecords) {
  if (mode === 'report') return reportChild(path, copies, holdRecords);
  const { readMaillog, MaillogParser } = await import(pathToFileURL(DIST).href);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  let records = 0;
  let counters;
  if (mode === 'iter') {
    const reader = readMaillog(path, OPTIONS);
    for await (const _ of reader) records++;
    counters = reader.counters;
  } else if (mode === 'batches') {
    const reader = readMaillog(path, OPTIONS);
    for await (const batch of reader.batches()) records += batch.length;
    counters = reader.counters;
  } else {
    const parser = new MaillogParser(() => records++, OPTIONS);
    const fd = openSync(path, 'r');
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) parser.push(buf, 0, n);
    closeSync(fd);
    parser.end();
    counters = parser.counters;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(JSON.stringify({ mode, seconds, cpuS: cpuSince(cpu), records, counters, peakRssKb: statusKb('self', 'VmHWM') }) + '\n');
}

/**
 * The journal smtp-source would have written for the messages smtpd received in copies
 * 0..journalCopies-1 (in log order), with one more entry every LOST_EVERY whose queue id (12 hex
 * digits: no id in the log has that many) and Message-Id the log never shows. Taken from the
 * start of the log because the fixtures' own Message-Ids repeat in every copy: a journal from
 * later copies would be joined to earlier copies' cleanup lines by Message-Id.
 */
function buildJournal(plan, journalCopies, withLost) {
  const received = plan.keys.filter((k) => k.received);
  const t0 = Math.min(...received.map((k) => k.time));
  const entries = [];
  let lost = 0;
  let time = t0;
  const push = (e) => entries.push({ seq: entries.length + 1, session: (entries.length % 10) + 1, ...e });
  for (let c = 0; c < journalCopies; c++) {
    const inodes = inodesOfCopy(plan, c);
    for (const k of received) {
      const queueId = idInCopy(k, inodes);
      time = k.time;
      const at = new Date(time).toISOString();
      push({
        messageId: k.messageId?.split(k.id).join(queueId),
        start: at, startMs: time - t0, end: at, endMs: time - t0,
        recipients: [...k.recipients],
        status: 'accepted', code: 250, reply: `2.0.0 Ok: queued as ${queueId}`, queueId,
      });
      if (withLost && entries.length % LOST_EVERY === LOST_EVERY - 1) {
        const queueId = (0xb00000000000 + ++lost).toString(16).toUpperCase();
        push({
          messageId: `<lost.${lost}@bench.smtpstone.test>`,
          start: at, startMs: time - t0, end: at, endMs: time - t0,
          recipients: ['user@remote.example'],
          status: 'accepted', code: 250, reply: `2.0.0 Ok: queued as ${queueId}`, queueId,
        });
      }
    }
  }
  return { entries, lost };
}

/**
 * The report of a ~20,000-message journal against the whole log, timed from reading the first
 * byte to the HTML string. Checks, all able to fail: every journal message whose queue id is
 * in the log (by construction) is found, by that queue id; the lost ones are lost; and the
 * fates, recipients and matched-record count are exactly journalCopies times those of the same
 * journal's copy-0 messages correlated with copy 0 alone (so the other copies' records, held
 * or not, change nothing).
 */
async function reportChild(path, copies, holdRecords) {
  const { correlate, buildReportModel, readMaillog, MaillogParser } = await import(pathToFileURL(REPORTER).href);
  const { renderHtml } = await import(pathToFileURL(HTML).href);
  const { files, bytes } = fixtureCopy();
  const plan = idPlan(files, MaillogParser);
  const received = plan.keys.filter((k) => k.received).length;
  const journalCopies = Math.min(copies, Math.ceil(JOURNAL_TARGET / received));
  const { entries, lost } = buildJournal(plan, journalCopies, true);

  // The expectation: copy 0 alone, with copy 0's journal (no lost entries).
  const copy0 = [];
  const p = new MaillogParser((r) => copy0.push(r), OPTIONS);
  p.push(rewriteCopy(Buffer.from(bytes), plan, 0));
  p.end();
  const one = (await correlate(buildJournal(plan, 1, false).entries, copy0)).summary;
  copy0.length = 0;

  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const reader = readMaillog(path, OPTIONS);
  const correlation = await correlate(entries, reader, holdRecords === undefined ? {} : { holdRecords });
  const correlated = process.hrtime.bigint();
  const model = buildReportModel(correlation, {
    journal: '(built in memory)',
    logs: [path],
    unknownLogLines: reader.counters.kinds.unknown + reader.counters.garbled,
  });
  const html = renderHtml(model);
  const ended = process.hrtime.bigint();

  const s = correlation.summary;
  const times = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v * journalCopies]));
  const expected = {
    found: entries.length - lost,
    joinedByQueueId: entries.length - lost,
    joinedByMessageId: 0,
    matchedRecords: one.matchedRecords * journalCopies,
    fates: { ...times(one.fates), lost: one.fates.lost * journalCopies + lost },
    recipients: times(one.recipients),
  };
  const got = {
    found: s.found,
    joinedByQueueId: s.joinedByQueueId,
    joinedByMessageId: s.joinedByMessageId,
    matchedRecords: s.matchedRecords,
    fates: s.fates,
    recipients: s.recipients,
  };
  const sameEntries = (x, y) => JSON.stringify(Object.entries(x).sort()) === JSON.stringify(Object.entries(y).sort());
  const problems = [];
  for (const k of Object.keys(expected)) {
    const ok = typeof expected[k] === 'object' ? sameEntries(got[k], expected[k]) : got[k] === expected[k];
    if (!ok) problems.push(`${k}: got ${JSON.stringify(got[k])}, want ${JSON.stringify(expected[k])}`);
  }
  const wrongIds = correlation.messages.filter((m) => m.queueId !== undefined && m.queueId !== m.journalQueueId).length;
  if (wrongIds > 0) problems.push(`${wrongIds} message(s) joined to a queue id other than the journal's`);
  if (!html.includes('</html>')) problems.push('the HTML has no </html>');

  process.stdout.write(
    JSON.stringify({
      mode: 'report',
      seconds: Number(ended - started) / 1e9,
      cpuS: cpuSince(cpu),
      correlateSeconds: Number(correlated - started) / 1e9,
      renderSeconds: Number(ended - correlated) / 1e9,
      records: s.records,
      counters: reader.counters,
      peakRssKb: statusKb('self', 'VmHWM'),
      report: {
        holdRecords: holdRecords ?? 'default',
        journalEntries: s.journalEntries,
        journalCopies,
        lost,
        idsInLog: entries.length - lost,
        ...got,
        expected,
        htmlBytes: Buffer.byteLength(html),
        deferralTimes: correlation.deferralTimes.length,
        warnings: model.warnings,
        problems,
      },
    }) + '\n',
  );
}

// ---- pflogsumm -----------------------------------------------------------------------------

/** pflogsumm prints counts above 512k in units of 1024 ("1571k"). */
function pflogsummCount(text, label) {
  const m = new RegExp(`^\\s*(\\d+)([km ])\\s+${label}\\b`, 'm').exec(text);
  if (!m) return undefined;
  return { printed: `${m[1]}${m[2].trim()}`, atLeast: Number(m[1]) * { ' ': 1, k: 1024, m: 1048576 }[m[2]] };
}

/** The same units for our exact count, to set next to pflogsumm's. */
const inPflogsummUnits = (n) => (n > 536870912 ? `${Math.floor(n / 1048576)}m` : n > 524288 ? `${Math.floor(n / 1024)}k` : `${n}`);

/** pflogsumm on the file under GNU time: wall time here, CPU and peak RSS (ru_maxrss) from time. */
function runPflogsumm(path, dir) {
  const timeFile = join(dir, 'pflogsumm.time');
  const t0 = process.hrtime.bigint();
  const run = spawnSync(GNU_TIME, ['-o', timeFile, '-f', '%e %U %S %M', PFLOGSUMM, path], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 256 << 20,
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (run.error) die(`pflogsumm: ${run.error.message}`);
  // GNU time puts "Command exited with non-zero status N" before the numbers when it did.
  const [, user, sys, maxRssKb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  const out = run.stdout ?? '';
  const totals = {};
  for (const label of ['received', 'delivered', 'forwarded', 'deferred', 'bounced', 'rejected', 'held', 'discarded']) {
    totals[label] = pflogsummCount(out, label);
  }
  const deferrals = /deferred\s+\((\d+)([km ]) deferrals\)/.exec(out);
  totals.deferrals = deferrals
    ? { printed: deferrals[1] + deferrals[2].trim(), atLeast: Number(deferrals[1]) * { ' ': 1, k: 1024, m: 1048576 }[deferrals[2]] }
    : undefined;
  return {
    mode: 'pflogsumm',
    seconds: wall,
    wallSeconds: wall,
    cpuS: user + sys,
    cpuUserS: user,
    cpuSysS: sys,
    peakRssKb: maxRssKb,
    exitStatus: run.status,
    signal: run.signal,
    outputBytes: Buffer.byteLength(out),
    stderrHead: (run.stderr ?? '').split('\n').slice(0, 5).join('\n'),
    totals,
  };
}

/** What our parser counts in one copy that pflogsumm's Grand Totals also count. */
function ourTotals() {
  const t = { received: 0, delivered: 0, deferrals: 0, bounced: 0, rejected: 0 };
  return {
    t,
    add(r) {
      if (r.kind === 'client' || r.kind === 'pickup') t.received++;
      else if (r.kind === 'delivery' && r.status === 'sent') t.delivered++;
      else if (r.kind === 'delivery' && r.status === 'deferred') t.deferrals++;
      else if (r.kind === 'delivery' && r.status === 'bounced') t.bounced++;
      else if (r.kind === 'reject' && r.action === 'reject') t.rejected++;
    },
  };
}

// ---- parent -------------------------------------------------------------------------------

function parseArgs(argv) {
  const a = { sizeMb: 1024, modes: undefined, reps: 1, holdRecords: undefined, dir: tmpdir(), out: undefined };
  eachFlag(argv, (flag, value, arg) => {
    if (flag === '--size') a.sizeMb = positiveInt(flag, value());
    else if (flag === '--modes') a.modes = value().split(',');
    else if (flag === '--reps') a.reps = positiveInt(flag, value());
    else if (flag === '--hold-records') a.holdRecords = nonNegativeInt(flag, value());
    else if (flag === '--dir') a.dir = value();
    else if (flag === '--out') a.out = value();
    else if (flag === '--help') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else die(`unknown argument ${arg}\n${USAGE}`);
  });
  a.modes ??= MODES.filter((m) => m !== 'pflogsumm' || existsSync(PFLOGSUMM));
  for (const m of a.modes) if (!MODES.includes(m)) die(`--modes: unknown mode ${m}`);
  if (a.modes.includes('pflogsumm')) {
    for (const f of [PFLOGSUMM, GNU_TIME]) if (!existsSync(f)) die(`${f} missing: apt-get install pflogsumm time`);
  }
  return a;
}

function pflogsummVersion() {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'pflogsumm'], { encoding: 'utf8' });
  } catch {
    return undefined;
  }
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (!existsSync(REPORTER)) die(`${REPORTER} missing: build first (npx tsc -b packages/*)`);
  const started = new Date();
  const meta = machineMeta(started);
  if (a.modes.includes('pflogsumm')) meta.pflogsumm = pflogsummVersion();

  const { names, files, bytes } = fixtureCopy();
  const copies = Math.max(1, Math.round((a.sizeMb * 1048576) / bytes.length));
  const { MaillogParser } = await import(pathToFileURL(DIST).href);
  const plan = idPlan(files, MaillogParser);
  if (copies > maxCopies(plan)) die(`--size: at most ${maxCopies(plan)} copies keep the queue ids distinct`);
  // What one copy holds, from the same parser (a consistency check on the big run, not a test),
  // and that copies 0 and 1 have ids of their own.
  const ours = ourTotals();
  const idsSeen = new Set();
  const once = new MaillogParser((r) => {
    ours.add(r);
    if (r.queueId !== undefined) idsSeen.add(r.queueId);
  }, OPTIONS);
  once.push(rewriteCopy(Buffer.from(bytes), plan, 0));
  once.end();
  const perCopy = idsSeen.size;
  const again = new MaillogParser((r) => r.queueId !== undefined && idsSeen.add(r.queueId), OPTIONS);
  again.push(rewriteCopy(Buffer.from(bytes), plan, 1));
  again.end();
  if (idsSeen.size !== 2 * perCopy) die(`copies 0 and 1 share queue ids (${idsSeen.size} distinct, want ${2 * perCopy})`);

  const dir = mkdtempSync(join(a.dir, 'maillog-parse-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  // die() exits from inside the try below, past its finally: remove the log on exit too.
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
  const path = join(dir, 'maillog');
  const results = [];
  try {
    note(
      `building ${path}: ${copies} copies of ${names.length} fixture logs (${bytes.length} bytes, ${once.counters.lines} lines, ` +
        `${perCopy} queue ids each, rewritten per copy)`,
    );
    const t0 = Date.now();
    build(path, bytes, plan, copies);
    const size = statSync(path).size;
    note(`built ${(size / 1048576).toFixed(0)} MiB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    for (const mode of a.modes) {
      for (let rep = 1; rep <= a.reps; rep++) {
        if (mode === 'pflogsumm') {
          const r = runPflogsumm(path, dir);
          r.lines = once.counters.lines * copies;
          r.ours = Object.fromEntries(Object.entries(ours.t).map(([k, v]) => [k, v * copies]));
          results.push({ ...r, rep, bytes: size });
          note(
            `pflogsumm #${rep}: ${r.seconds.toFixed(1)} s, exit ${r.exitStatus ?? r.signal}, ` +
              `delivered ${r.totals.delivered?.printed ?? '?'} (ours ${inPflogsummUnits(r.ours.delivered)})`,
          );
          continue;
        }
        const t = process.hrtime.bigint();
        const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, path, String(copies), String(a.holdRecords ?? '')], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          maxBuffer: 1 << 20,
        });
        const wallSeconds = Number(process.hrtime.bigint() - t) / 1e9;
        if (run.status !== 0) die(`${mode}: child exited with ${run.status ?? run.signal}`);
        const r = JSON.parse(run.stdout.trim().split('\n').pop());
        // Every line of every copy must come out the same as in the single copy.
        const want = once.counters;
        const ok =
          r.counters.lines === want.lines * copies &&
          r.counters.garbled === want.garbled * copies &&
          Object.keys(want.kinds).every((k) => r.counters.kinds[k] === want.kinds[k] * copies) &&
          r.records === want.lines * copies - (want.garbled + want.blank) * copies;
        if (!ok) die(`${mode}: counts differ from ${copies} x one copy: ${JSON.stringify(r.counters)}`);
        if (r.report?.problems.length) die(`report: the correlation is off:\n  ${r.report.problems.join('\n  ')}`);
        results.push({ ...r, lines: r.counters.lines, wallSeconds, rep, bytes: size });
        note(
          `${mode} #${rep}: ${r.seconds.toFixed(1)} s` +
            (r.report ? ` (correlate ${r.correlateSeconds.toFixed(1)} s, model + HTML ${r.renderSeconds.toFixed(2)} s), ` +
              `${r.report.found} of ${r.report.journalEntries} journal messages found, as expected` : ''),
        );
      }
    }
  } finally {
    cleanup();
  }

  const best = a.modes.map((mode) => results.filter((r) => r.mode === mode).sort((p, q) => p.seconds - q.seconds)[0]);
  const rows = best.map((r) => [
    r.mode,
    r.seconds.toFixed(1),
    r.wallSeconds.toFixed(1),
    r.cpuS.toFixed(1),
    ((r.bytes / 1048576) / r.seconds).toFixed(1),
    Math.round(r.lines / r.seconds).toLocaleString('en-US'),
    r.lines.toLocaleString('en-US'),
    (r.peakRssKb / 1024).toFixed(0),
  ]);
  process.stdout.write(
    `\n${(best[0].bytes / 1048576).toFixed(0)} MiB, ${best[0].lines.toLocaleString('en-US')} lines, Node ${process.version}, ` +
      `best of ${a.reps} per mode, file in the page cache\n\n`,
  );
  process.stdout.write(textTable(['mode', 'seconds', 'wall s', 'CPU s', 'MiB/s', 'lines/s', 'lines', 'peak RSS MiB'], rows));
  process.stdout.write(
    '\nseconds: the work in the child (node: from the first read to the last record, or to the HTML string for report;\n' +
      'pflogsumm: spawn to exit); wall s: spawn to exit (node start-up and, for report, building its journal included);\n' +
      'CPU s: user + sys over seconds (pflogsumm: the whole process, from GNU time); MiB/s and lines/s from seconds.\n',
  );
  const report = best.find((r) => r.mode === 'report');
  const pfl = best.find((r) => r.mode === 'pflogsumm');
  let comparison;
  if (report) {
    const j = report.report;
    process.stdout.write(
      `\nreport: ${j.journalEntries.toLocaleString('en-US')} journal messages (${j.journalCopies} copies' smtpd-received messages + ${j.lost} lost), ` +
        `${j.found.toLocaleString('en-US')} found, fates ${JSON.stringify(Object.fromEntries(Object.entries(j.fates).filter(([, v]) => v > 0)))}, ` +
        `HTML ${(j.htmlBytes / 1024).toFixed(0)} KiB; correlate ${report.correlateSeconds.toFixed(1)} s, model + HTML ${report.renderSeconds.toFixed(2)} s\n`,
    );
  }
  if (pfl) {
    const rows2 = ['received', 'delivered', 'deferrals', 'bounced', 'rejected'].map((k) => [
      k, pfl.totals[k]?.printed ?? '-', inPflogsummUnits(pfl.ours[k]), pfl.ours[k].toLocaleString('en-US'),
    ]);
    process.stdout.write(
      `\npflogsumm ${meta.pflogsumm ?? ''}: exit ${pfl.exitStatus ?? pfl.signal}, CPU ${pfl.cpuUserS} s user + ${pfl.cpuSysS} s sys` +
        (pfl.stderrHead ? `, stderr: ${pfl.stderrHead.split('\n')[0]}` : '') + '\n' +
        textTable(['Grand Totals', 'pflogsumm', 'our parser (same units)', 'our parser'], rows2),
    );
  }
  if (report && pfl) {
    const mibs = (r, s) => r.bytes / 1048576 / s;
    comparison = {
      reportOverPflogsumm: round(mibs(report, report.seconds) / mibs(pfl, pfl.seconds), 2),
      reportOverPflogsummWall: round(mibs(report, report.wallSeconds) / mibs(pfl, pfl.wallSeconds), 2),
      reportOverPflogsummCpu: round(mibs(report, report.cpuS) / mibs(pfl, pfl.cpuS), 2),
      rssReportOverPflogsumm: round(report.peakRssKb / pfl.peakRssKb, 2),
    };
    process.stdout.write(
      `\nours (report) / pflogsumm, MiB/s: ${comparison.reportOverPflogsumm}x (wall, spawn to exit: ${comparison.reportOverPflogsummWall}x; ` +
        `per CPU second: ${comparison.reportOverPflogsummCpu}x); peak RSS ${comparison.rssReportOverPflogsumm}x\n`,
    );
  }
  finishMeta(meta, started);
  if (a.out) {
    const file = writeResults('maillog-parse', started, a.out, {
      meta,
      sizeBytes: best[0].bytes,
      copies,
      queueIdsPerCopy: perCopy,
      comparison,
      results: results.map((r) => ({
        mode: r.mode,
        rep: r.rep,
        seconds: round(r.seconds, 3),
        wallSeconds: round(r.wallSeconds, 3),
        cpuS: round(r.cpuS, 2),
        mibPerS: round(r.bytes / 1048576 / r.seconds, 1),
        linesPerS: Math.round(r.lines / r.seconds),
        peakRssKb: r.peakRssKb,
        ...(r.counters ? { counters: r.counters } : {}),
        ...(r.report ? { correlateSeconds: round(r.correlateSeconds, 3), renderSeconds: round(r.renderSeconds, 3), report: r.report } : {}),
        ...(r.mode === 'pflogsumm'
          ? { lines: r.lines, exitStatus: r.exitStatus, signal: r.signal, cpuUserS: r.cpuUserS, cpuSysS: r.cpuSysS, outputBytes: r.outputBytes, stderrHead: r.stderrHead, totals: r.totals, ours: r.ours }
          : {}),
      })),
    });
    note(`results in ${file}`);
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], Number(process.argv[5]), process.argv[6] ? Number(process.argv[6]) : undefined);
} else {
  await main();
}
