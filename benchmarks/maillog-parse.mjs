#!/usr/bin/env node
// Benchmark: the reporter's Postfix log parser (packages/reporter/dist/maillog) on a ~1 GB log.
//
// Builds the log in a temporary directory by repeating the fixture logs
// (packages/reporter/test/fixtures/maillog/*.log: every envelope form and program the tests
// know, Dovecot lines included), then parses it once per mode, each in a fresh child process
// so that its peak RSS (VmHWM) is its own, and removes the file at the end (also on Ctrl-C).
// The file was just written, so it is read from the page cache: this measures the parser, not
// the disk. Each child checks its counts against the fixtures' times the number of copies.
//
// Modes:  iter     for await (const record of readMaillog(path))   - the main API
//         batches  for await (const batch of readMaillog(path).batches())
//         push     new MaillogParser(callback).push(chunk) over fs reads - the fast path
//
//   node benchmarks/maillog-parse.mjs [--size MB] [--modes iter,batches,push] [--reps N] [--dir DIR] [--out FILE]
//
// Plain Node ESM. Build first: npx tsc -b packages/reporter
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  die, finishMeta, machineMeta, note, positiveInt, root, round, setProgName, splitFlag, statusKb, textTable, writeResults,
} from './lib.mjs';

setProgName('maillog-parse');

const DIST = join(root, 'packages/reporter/dist/maillog/index.js');
const FIXTURES = join(root, 'packages/reporter/test/fixtures/maillog');
const MODES = ['iter', 'batches', 'push'];
const OPTIONS = { year: 2026, zone: 'UTC' };

const USAGE = `usage: node benchmarks/maillog-parse.mjs [options]
  --size MB      size of the log to build (default 1024)
  --modes LIST   comma-separated: ${MODES.join(', ')} (default: all)
  --reps N       runs per mode, each in a fresh process; the best is reported (default 1)
  --dir DIR      where to build the log (default: the system temp dir)
  --out FILE     also write the results as JSON to FILE
  --help`;

// ---- child: parse the file once, print one JSON line ----------------------------------------

async function child(mode, path) {
  const { readMaillog, MaillogParser } = await import(pathToFileURL(DIST).href);
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
  process.stdout.write(JSON.stringify({ mode, seconds, records, counters, peakRssKb: statusKb('self', 'VmHWM') }) + '\n');
}

// ---- parent -------------------------------------------------------------------------------

function parseArgs(argv) {
  const a = { sizeMb: 1024, modes: MODES, reps: 1, dir: tmpdir(), out: undefined };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = splitFlag(argv[i]);
    const value = () => inline ?? argv[++i] ?? die(`${flag} needs a value`);
    if (flag === '--size') a.sizeMb = positiveInt(flag, value());
    else if (flag === '--modes') a.modes = value().split(',');
    else if (flag === '--reps') a.reps = positiveInt(flag, value());
    else if (flag === '--dir') a.dir = value();
    else if (flag === '--out') a.out = value();
    else if (flag === '--help') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else die(`unknown argument ${argv[i]}\n${USAGE}`);
  }
  for (const m of a.modes) if (!MODES.includes(m)) die(`--modes: unknown mode ${m}`);
  return a;
}

/** The fixtures once, as one buffer ending in a newline. */
function fixtureCopy() {
  const names = readdirSync(FIXTURES).filter((n) => n.endsWith('.log')).sort();
  if (names.length === 0) die(`no fixture logs in ${FIXTURES}`);
  return { names, bytes: Buffer.concat(names.map((n) => readFileSync(join(FIXTURES, n)))) };
}

/** Writes `copies` copies of `bytes` to path. */
function build(path, bytes, copies) {
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < copies; i++) writeSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (!existsSync(DIST)) die(`${DIST} missing: build first (npx tsc -b packages/reporter)`);
  const started = new Date();
  const meta = machineMeta(started);

  const { names, bytes } = fixtureCopy();
  const copies = Math.max(1, Math.round((a.sizeMb * 1048576) / bytes.length));
  // What one copy holds, from the same parser (a consistency check on the big run, not a test).
  const { MaillogParser } = await import(pathToFileURL(DIST).href);
  const once = new MaillogParser(() => undefined, OPTIONS);
  once.push(bytes);
  once.end();

  const dir = mkdtempSync(join(a.dir, 'maillog-parse-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      cleanup();
      process.exit(130);
    });
  }
  const path = join(dir, 'maillog');
  const results = [];
  try {
    note(`building ${path}: ${copies} copies of ${names.length} fixture logs (${bytes.length} bytes, ${once.counters.lines} lines each)`);
    const t0 = Date.now();
    build(path, bytes, copies);
    const size = statSync(path).size;
    note(`built ${(size / 1048576).toFixed(0)} MiB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    for (const mode of a.modes) {
      for (let rep = 1; rep <= a.reps; rep++) {
        const run = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, path], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          maxBuffer: 1 << 20,
        });
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
        results.push({ ...r, rep, bytes: size });
        note(`${mode} #${rep}: ${r.seconds.toFixed(1)} s`);
      }
    }
  } finally {
    cleanup();
  }

  const best = a.modes.map((mode) => results.filter((r) => r.mode === mode).sort((p, q) => p.seconds - q.seconds)[0]);
  const rows = best.map((r) => [
    r.mode,
    r.seconds.toFixed(1),
    ((r.bytes / 1048576) / r.seconds).toFixed(1),
    Math.round(r.counters.lines / r.seconds).toLocaleString('en-US'),
    r.counters.lines.toLocaleString('en-US'),
    (r.peakRssKb / 1024).toFixed(0),
  ]);
  process.stdout.write(
    `\n${(best[0].bytes / 1048576).toFixed(0)} MiB, ${best[0].counters.lines.toLocaleString('en-US')} lines, Node ${process.version}, ` +
      `best of ${a.reps} per mode, file in the page cache\n\n`,
  );
  process.stdout.write(textTable(['mode', 'seconds', 'MiB/s', 'lines/s', 'lines', 'peak RSS MiB'], rows));
  finishMeta(meta, started);
  if (a.out) {
    const file = writeResults('maillog-parse', started, a.out, {
      meta,
      sizeBytes: best[0].bytes,
      copies,
      results: results.map((r) => ({
        mode: r.mode,
        rep: r.rep,
        seconds: round(r.seconds, 3),
        mibPerS: round(r.bytes / 1048576 / r.seconds, 1),
        linesPerS: Math.round(r.counters.lines / r.seconds),
        peakRssKb: r.peakRssKb,
        counters: r.counters,
      })),
    });
    note(`results in ${file}`);
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4]);
} else {
  await main();
}
