#!/usr/bin/env node
// Benchmark: what the new extensions cost, our smtp-source against our smtp-sink (both CLIs,
// packages/*/dist/cli.js) on 127.0.0.1.
//
//   (a) BDAT vs DATA: -d -s 10, -l 5120 and -l 1048576, against a sink with --chunking.
//   (b) TLS: plaintext vs STARTTLS on every connection vs STARTTLS with --tls-session-reuse,
//       -s 10 and a new connection per message (no -d), against a sink with --starttls and
//       its self-signed certificate (the source runs with --tls-insecure).
//
// Every variant of a group gets its own sink process, started once; the variants of a group
// then run interleaved, A B A B ..., so they see the same slice of machine noise. Each run is
// smtp-source --duration (a few seconds). Per run: msg/s from the source's --json (accepted
// / elapsed), the source's CPU (the harness's cutime+cstime delta), the sink's CPU (utime+stime
// delta from /proc/PID/stat), and µs of CPU (source + sink) per message. Each sink first gets
// an untimed warm-up run.
//
//   node benchmarks/tls-bdat.mjs [--reps N] [--seconds S] [--groups a,b] [--no-warmup] [--out FILE]
//
// Plain Node ESM, no dependencies. Build the workspace first: npx tsc -b packages/*
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  root, setProgName, die, note, positiveInt, eachFlag, childCpuSeconds, track, tempDirs, SinkProc, round,
  textTable, markdownTable, distHash, machineMeta, finishMeta, writeResults, shebangNodeFlags, keepStderr, summarizeRuns, tlsTotals,
} from './lib.mjs';

setProgName('tls-bdat');

const USAGE = `usage: node benchmarks/tls-bdat.mjs [options]
  --reps N        timed runs per variant, interleaved (default 3)
  --seconds S     length of each run, smtp-source --duration (default 3)
  --groups LIST   comma-separated groups: a5k, a1m, b (default all)
  --no-warmup     no untimed warm-up run per sink
  --out FILE      JSON results file (default benchmarks/results/tls-bdat-<timestamp>.json)
  --help`;

function parseArgs(argv) {
  const a = {
    reps: 3,
    seconds: 3,
    groups: ['a5k', 'a1m', 'b'],
    warmup: true,
    out: undefined,
    ourSink: join(root, 'packages/smtp-sink/dist/cli.js'),
    ourSource: join(root, 'packages/smtp-source/dist/cli.js'),
  };
  eachFlag(argv, (flag, value, arg) => {
    switch (flag) {
      case '--reps': a.reps = positiveInt(flag, value()); break;
      case '--seconds': a.seconds = positiveInt(flag, value()); break;
      case '--groups': a.groups = value().split(/[,\s]+/).filter(Boolean); break;
      case '--no-warmup': a.warmup = false; break;
      case '--out': a.out = value(); break;
      case '--help': process.stdout.write(USAGE + '\n'); process.exit(0);
      default: die(`unknown argument: ${arg}\n${USAGE}`);
    }
  });
  for (const g of a.groups) if (!GROUPS[g]) die(`unknown group: ${g} (a5k, a1m, b)`);
  return a;
}

const bdatGroup = (id, length) => ({
  id,
  title: `BDAT vs DATA, -l ${length} -d -s 10`,
  variants: [
    { id: 'data', name: 'DATA', sinkArgs: ['--chunking'], sourceArgs: ['-d', '-s', '10', '-l', String(length)] },
    { id: 'bdat', name: 'BDAT (one chunk)', sinkArgs: ['--chunking'], sourceArgs: ['-d', '-s', '10', '-l', String(length), '--bdat'] },
  ],
  ratios: [['bdat', 'data']],
});

const GROUPS = {
  a5k: bdatGroup('a5k', 5120),
  a1m: bdatGroup('a1m', 1048576),
  b: {
    id: 'b',
    title: 'plaintext vs STARTTLS, a connection per message, -s 10',
    variants: [
      { id: 'plain', name: 'plaintext', sinkArgs: ['--starttls'], sourceArgs: ['-s', '10'] },
      { id: 'starttls', name: 'STARTTLS', sinkArgs: ['--starttls'], sourceArgs: ['-s', '10', '--starttls', '--tls-insecure'] },
      { id: 'reuse', name: 'STARTTLS + session reuse', sinkArgs: ['--starttls'], sourceArgs: ['-s', '10', '--starttls', '--tls-insecure', '--tls-session-reuse'] },
    ],
    ratios: [['starttls', 'plain'], ['reuse', 'plain'], ['reuse', 'starttls']],
  },
};

/** One smtp-source run against sink; its --json result and the CPU both sides used. */
async function runSource(a, sink, variant, seconds, work) {
  const jsonFile = join(work, 'source.json');
  rmSync(jsonFile, { force: true });
  const args = [...shebangNodeFlags(a.ourSource), a.ourSource, ...variant.sourceArgs, '--duration', `${seconds}s`, '-m', '100000000', '--json', jsonFile, `127.0.0.1:${sink.port}`];
  const sinkCpu0 = sink.cpu();
  const childCpu0 = childCpuSeconds();
  const child = track(spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  const stderrText = keepStderr(child, 20000);
  const kill = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
  const exit = await new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  clearTimeout(kill);
  // A moment for the sink to see the last QUITs and closes.
  await new Promise((r) => setTimeout(r, 200));
  const sourceCpuS = childCpuSeconds() - childCpu0;
  const sinkCpuS = sink.cpu() - sinkCpu0;
  let result;
  try {
    result = JSON.parse(readFileSync(jsonFile, 'utf8'));
  } catch {
    return { ok: false, exit, stderr: stderrText().trim().slice(-2000) };
  }
  const accepted = result.messages.accepted;
  const problems = result.messages.rejected + result.messages.failed + Object.values(result.errors).reduce((x, y) => x + y, 0);
  const ok = exit.code === 0 && accepted > 0 && problems === 0 && result.fatal === undefined;
  return {
    ok,
    exit,
    ...(ok ? {} : { stderr: stderrText().trim().slice(-2000) }),
    accepted,
    problems,
    elapsedS: round(result.elapsedMs / 1000, 3),
    msgPerS: round(accepted / (result.elapsedMs / 1000), 1),
    bytes: result.bytes,
    sourceCpuS: round(sourceCpuS, 2),
    sinkCpuS: round(sinkCpuS, 2),
    usPerMsg: round(((sourceCpuS + sinkCpuS) / accepted) * 1e6, 1),
    sourceUsPerMsg: round((sourceCpuS / accepted) * 1e6, 1),
    sinkUsPerMsg: round((sinkCpuS / accepted) * 1e6, 1),
    ...(result.tls ? { tls: { handshakes: result.tls.handshakes, resumed: result.tls.resumed, protocols: result.tls.protocols } } : {}),
    ...(result.extensions ? { extensions: result.extensions } : {}),
  };
}

function summarize(runs) {
  const { summary, good } = summarizeRuns(runs, { sourceCpuS: 2, sinkCpuS: 2, usPerMsg: 1, sourceUsPerMsg: 1, sinkUsPerMsg: 1 });
  return { ...summary, ...tlsTotals(good) };
}

async function runGroup(a, g) {
  note(`group ${g.id}: ${g.title}; ${a.reps} rep(s) of ${a.seconds}s per variant, interleaved`);
  const work = mkdtempSync(join(tmpdir(), `tls-bdat-${g.id}-`));
  tempDirs.add(work);
  const sinks = new Map();
  const out = { id: g.id, title: g.title, variants: [], ratios: [] };
  try {
    for (const v of g.variants) {
      const s = new SinkProc('ours', `our smtp-sink (${v.id})`);
      await s.start(a, v.sinkArgs, work, join(work, `sink-${v.id}.json`));
      sinks.set(v.id, s);
      note(`  ${v.id}: sink pid ${s.pid}, port ${s.port}`);
    }
    const runs = Object.fromEntries(g.variants.map((v) => [v.id, []]));
    if (a.warmup) for (const v of g.variants) await runSource(a, sinks.get(v.id), v, 1, work);
    for (let rep = 0; rep < a.reps; rep++) {
      // Rotate the order each rep so no variant always goes first.
      const order = g.variants.map((_, i) => g.variants[(i + rep) % g.variants.length]);
      for (const v of order) {
        const r = await runSource(a, sinks.get(v.id), v, a.seconds, work);
        runs[v.id].push(r);
        note(`  rep ${rep + 1} ${v.id}: ${r.ok ? `${r.msgPerS} msg/s, ${r.usPerMsg} µs/msg${r.tls ? `, resumed ${r.tls.resumed}/${r.tls.handshakes}` : ''}` : `FAILED ${JSON.stringify(r.exit)} ${r.stderr ?? ''}`}`);
      }
    }
    for (const v of g.variants) {
      out.variants.push({ id: v.id, name: v.name, sinkArgs: v.sinkArgs, sourceArgs: v.sourceArgs, runs: runs[v.id], summary: summarize(runs[v.id]) });
    }
    const by = Object.fromEntries(out.variants.map((v) => [v.id, v.summary]));
    for (const [x, y] of g.ratios) {
      out.ratios.push({
        of: x,
        to: y,
        msgPerS: round(by[x].msgPerS.median / by[y].msgPerS.median, 2),
        usPerMsg: round(by[x].usPerMsg / by[y].usPerMsg, 2),
      });
    }
  } finally {
    for (const s of sinks.values()) await s.stop();
    rmSync(work, { recursive: true, force: true });
    tempDirs.delete(work);
  }
  return out;
}

function rows(groups) {
  const r = [];
  for (const g of groups) {
    for (const v of g.variants) {
      const s = v.summary;
      r.push([
        `${g.id}: ${v.name}`,
        s.ok === 0 ? 'FAILED' : `${Math.round(s.msgPerS.median)} (${Math.round(s.msgPerS.min)}–${Math.round(s.msgPerS.max)})`,
        `${s.sourceCpuS ?? '?'} / ${s.sinkCpuS ?? '?'}`,
        `${s.usPerMsg ?? '?'} (${s.sourceUsPerMsg ?? '?'} + ${s.sinkUsPerMsg ?? '?'})`,
        s.handshakes === undefined ? '–' : `${s.resumed}/${s.handshakes}`,
      ]);
    }
  }
  return r;
}
const HEAD = ['variant', 'msg/s median (range)', 'CPU s/run source / sink', 'CPU µs/msg total (source + sink)', 'TLS resumed/handshakes'];

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const started = new Date();
  const meta = { ...machineMeta(started), reps: a.reps, seconds: a.seconds, build: { sink: distHash(a.ourSink), source: distHash(a.ourSource) } };
  const groups = [];
  for (const id of a.groups) groups.push(await runGroup(a, GROUPS[id]));
  finishMeta(meta, started);
  const file = writeResults('tls-bdat', started, a.out, { meta, groups });
  process.stdout.write('\n' + textTable(HEAD, rows(groups)));
  process.stdout.write('\nratios (median msg/s, median CPU µs/msg):\n');
  for (const g of groups) for (const q of g.ratios) process.stdout.write(`  ${g.id}: ${q.of}/${q.to}: msg/s ${q.msgPerS}×, µs/msg ${q.usPerMsg}×\n`);
  process.stdout.write('\n' + markdownTable(HEAD, rows(groups)));
  process.stdout.write(`\nresults: ${file}\n`);
}

main().catch((e) => die(e.stack ?? String(e)));
