#!/usr/bin/env node
// Benchmark: our smtp-sink (packages/smtp-sink/dist/cli.js) against Postfix's C smtp-sink,
// both driven by Postfix's C smtp-source on 127.0.0.1.
//
// For each configuration a fresh pair of sinks is started (VmHWM is a per-process
// high-water mark), then smtp-source runs against them interleaved, A B A B ..., so both
// sinks see the same slice of machine noise. Per run we record the source's wall time
// (msg/s = -m / wall), the source's CPU (the harness's cutime+cstime delta), and the sink's
// CPU (utime+stime delta from /proc/PID/stat). Peak RSS is the sink's VmHWM after its runs.
// Each sink first gets an untimed warm-up run (JIT, page cache). Dump configurations write
// to a fresh directory per sink (on /dev/shm by default); after each run the files are
// counted (ours must equal -m), removed and the file system synced, outside the timing.
//
//   node benchmarks/sink-vs-c.mjs [--reps N] [--configs 1,3,6] [--quick] [--markdown]
//                                 [--no-warmup] [--warmup N] [--out FILE] [--dump-root DIR]
//
// Plain Node ESM, no dependencies. Build the workspace first: npx tsc -b packages/*
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import {
  root, setProgName, die, note, positiveInt, nonNegativeInt, eachFlag, childCpuSeconds, sleep, spawnWithFiles, track, keepStderr,
  tempDirs, SinkProc, round, median, spread, fmtRate, fmtMiB, textTable, markdownTable, distHash, pick, clkTck, machineMeta,
  finishMeta, writeResults,
} from './lib.mjs';

setProgName('sink-vs-c');

// ---- command line -------------------------------------------------------------------------

const USAGE = `usage: node benchmarks/sink-vs-c.mjs [options]
  --reps N          timed runs per sink and configuration, interleaved C,ours,C,ours... (default 3; --quick: 1)
  --configs LIST    comma-separated configuration ids (default 1,2,3,4,5,6; 7 is extra); --list shows them
  --quick           smoke run: -m divided by 10, 1 rep, small warm-up
  --full-size       -m 50000 for configs 3, 4, 6 and 7 too (default 20000 there, to keep the run near 5 minutes)
  --m N             override -m for every configuration (e.g. for a longer or shorter run)
  --warmup N        untimed messages sent to each sink before its timed runs (default 2000; --quick: 200)
  --no-warmup       no warm-up run
  --dump-root DIR   where the per-sink dump directories are made (default /dev/shm if writable, else the system
                    temp dir); --dump-root /tmp measures dumps on the disk file system
  --markdown        print the summary as a Markdown table (default: a plain text table)
  --out FILE        JSON results file (default benchmarks/results/sink-vs-c-<timestamp>.json)
  --c-sink PATH     C smtp-sink (default /usr/sbin/smtp-sink)
  --source PATH     C smtp-source (default /usr/sbin/smtp-source)
  --our-sink PATH   our sink's cli.js (default packages/smtp-sink/dist/cli.js)
  --timeout S       kill an smtp-source run after S seconds (default 180)
  --list            list the configurations and exit
  --help`;

function parseArgs(argv) {
  const a = {
    reps: undefined,
    configs: undefined,
    quick: false,
    warmup: undefined,
    markdown: false,
    out: undefined,
    cSink: '/usr/sbin/smtp-sink',
    source: '/usr/sbin/smtp-source',
    ourSink: join(root, 'packages/smtp-sink/dist/cli.js'),
    timeout: 180,
    m: undefined,
    fullSize: false,
    list: false,
    dumpRoot: defaultDumpRoot(),
  };
  eachFlag(argv, (flag, value, arg) => {
    switch (flag) {
      case '--reps': a.reps = positiveInt(flag, value()); break;
      case '--configs': a.configs = value().split(/[,\s]+/).filter(Boolean); break;
      case '--quick': a.quick = true; break;
      case '--full-size': a.fullSize = true; break;
      case '--m': a.m = positiveInt(flag, value()); break;
      case '--warmup': a.warmup = nonNegativeInt(flag, value()); break;
      case '--no-warmup': a.warmup = 0; break;
      case '--markdown': a.markdown = true; break;
      case '--dump-root': a.dumpRoot = resolve(value()); break;
      case '--out': a.out = resolve(value()); break;
      case '--c-sink': a.cSink = value(); break;
      case '--source': a.source = value(); break;
      case '--our-sink': a.ourSink = resolve(value()); break;
      case '--timeout': a.timeout = positiveInt(flag, value()); break;
      case '--list': a.list = true; break;
      case '--help': case '-h': process.stdout.write(USAGE + '\n'); process.exit(0); break;
      default: die(`unknown option ${arg}\n${USAGE}`);
    }
  });
  a.reps ??= a.quick ? 1 : 3;
  a.warmup ??= a.quick ? 200 : 2000;
  return a;
}

/**
 * Dumps go to tmpfs (/dev/shm) when there is one: on a disk file system the per-file
 * create/write/unlink cost in the kernel (and other tenants' I/O) swamps both sinks, so the
 * comparison would measure the file system. --dump-root /tmp measures that case.
 */
function defaultDumpRoot() {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

// ---- configurations -----------------------------------------------------------------------
// sinkArgs: extra flags for both sinks; "{dump}" is replaced with a fresh per-sink dump
// template (<tmpdir>/%Y%m%d%H/%M.). sourceArgs: smtp-source flags before -m; m: messages.

const CONFIGS = [
  { id: '1', name: 'new conn/msg', sinkArgs: [], sourceArgs: ['-s', '20', '-l', '5120'], m: 20000, fullM: 20000 },
  { id: '2', name: '-d -s 20', sinkArgs: [], sourceArgs: ['-d', '-s', '20', '-l', '5120'], m: 50000, fullM: 50000 },
  { id: '3', name: '-d -s 20, sink -d dump', sinkArgs: ['-d', '{dump}'], sourceArgs: ['-d', '-s', '20', '-l', '5120'], m: 20000, fullM: 50000, dump: true },
  { id: '4', name: '-d -s 200, sink -m 1000 -d dump', sinkArgs: ['-m', '1000', '-d', '{dump}'], sourceArgs: ['-d', '-s', '200', '-l', '5120'], m: 20000, fullM: 50000, dump: true },
  { id: '5', name: 'LMTP -L -d -s 20', sinkArgs: ['-L'], sourceArgs: ['-L', '-d', '-s', '20', '-l', '5120'], m: 50000, fullM: 50000 },
  { id: '6', name: 'memory: -d -s 1000, sink -m 1000', sinkArgs: ['-m', '1000'], sourceArgs: ['-d', '-s', '1000', '-l', '5120'], m: 20000, fullM: 50000, memory: true },
  // Not in the default set: 1000 sessions with dumps on (per-session dump buffers).
  { id: '7', name: 'memory + dump: -d -s 1000, sink -m 1000 -d dump', sinkArgs: ['-m', '1000', '-d', '{dump}'], sourceArgs: ['-d', '-s', '1000', '-l', '5120'], m: 20000, fullM: 50000, memory: true, dump: true, extra: true },
];

// ---- one smtp-source run ------------------------------------------------------------------

async function runSource(a, sink, sourceArgs, m) {
  const args = [...sourceArgs, '-m', String(m), `127.0.0.1:${sink.port}`];
  const cpu0 = sink.cpu();
  const child0 = childCpuSeconds();
  const t0 = process.hrtime.bigint();
  const child = track(spawnWithFiles(a.source, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  const stderrText = keepStderr(child, 20000);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, a.timeout * 1000);
  const { code, signal } = await new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  clearTimeout(timer);
  // Let the sink finish the last disconnects before reading its CPU.
  await sleep(150);
  const sinkCpu = sink.exited ? NaN : sink.cpu() - cpu0;
  const sourceCpu = childCpuSeconds() - child0;
  const ok = code === 0 && !timedOut;
  return {
    sink: sink.kind,
    argv: ['smtp-source', ...args].join(' '),
    m,
    ok,
    exitCode: code,
    signal,
    timedOut,
    stderr: stderrText().trim() || undefined,
    wallS: round(wall, 4),
    msgPerS: round(m / wall, 1),
    sinkCpuS: round(sinkCpu, 2),
    sinkCpuUsPerMsg: round((sinkCpu / m) * 1e6, 1),
    sourceCpuS: round(sourceCpu, 2),
    loadavg1: round(loadavg()[0], 2),
  };
}

// ---- dump files ---------------------------------------------------------------------------

function countFiles(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += countFiles(join(dir, e.name));
    else if (e.isFile()) n++;
  }
  return n;
}
/** Counts the dump files, then removes them (keeping the directory) so each run starts empty. */
function takeDumps(dir) {
  const n = countFiles(dir);
  for (const e of readdirSync(dir)) rmSync(join(dir, e), { recursive: true, force: true });
  return n;
}

/** After removing dumps: flush the file system so the next run does not pay for this one. */
function settle() {
  try {
    execFileSync('sync');
  } catch {
    // No sync(1): carry on.
  }
}

// ---- statistics and formatting ------------------------------------------------------------

function summarize(runs) {
  const good = runs.filter((r) => r.ok);
  return {
    runs: runs.length,
    ok: good.length,
    msgPerS: spread(good.map((r) => r.msgPerS)),
    sinkCpuS: round(median(good.map((r) => r.sinkCpuS)), 2),
    sinkCpuUsPerMsg: round(median(good.map((r) => r.sinkCpuUsPerMsg)), 1),
    sourceCpuS: round(median(good.map((r) => r.sourceCpuS)), 2),
  };
}
function tableRows(results) {
  return results.map((r) => {
    const c = r.c.summary;
    const o = r.ours.summary;
    const ratio = c.ok && o.ok ? (o.msgPerS.median / c.msgPerS.median).toFixed(2) + '×' : '–';
    let cfg = `${r.id}. ${r.name}`;
    if (r.dumpCheck) cfg += r.dumpCheck.ok ? ' (dumps ok)' : ' (DUMP COUNT MISMATCH)';
    return [
      cfg,
      String(r.m),
      fmtRate(c),
      fmtRate(o),
      ratio,
      `${c.sinkCpuS ?? '?'} / ${o.sinkCpuS ?? '?'}`,
      `${c.sinkCpuUsPerMsg ?? '?'} / ${o.sinkCpuUsPerMsg ?? '?'}`,
      `${fmtMiB(r.c.peakRssKb)} / ${fmtMiB(r.ours.peakRssKb)}`,
    ];
  });
}
const HEAD = ['config', '-m', 'C msg/s median (range)', 'ours msg/s median (range)', 'ours/C', 'sink CPU s/run C / ours', 'sink CPU µs/msg C / ours', 'peak RSS MiB C / ours'];

// ---- main ---------------------------------------------------------------------------------

async function runConfig(a, cfg, m) {
  note(`config ${cfg.id} (${cfg.name}): sinks [${cfg.sinkArgs.join(' ')}], source [${cfg.sourceArgs.join(' ')} -m ${m}], ${a.reps} rep(s)`);
  const work = mkdtempSync(join(a.dumpRoot, `sink-vs-c-${cfg.id}-`));
  tempDirs.add(work);
  const sinks = [new SinkProc('c', 'C smtp-sink'), new SinkProc('ours', 'our smtp-sink')];
  const dumpDirs = {};
  const result = { id: cfg.id, name: cfg.name, m, sinkArgs: cfg.sinkArgs, sourceArgs: cfg.sourceArgs, failures: [] };
  try {
    for (const s of sinks) {
      dumpDirs[s.kind] = join(work, `dump-${s.kind}`);
      mkdirSync(dumpDirs[s.kind]);
      await s.start(a, cfg.sinkArgs, dumpDirs[s.kind], join(work, 'ours-stats.json'));
      note(`  ${s.label}: pid ${s.pid}, port ${s.port}, idle RSS ${fmtMiB(s.idleRssKb)} MiB`);
    }
    const runs = { c: [], ours: [] };
    const dumps = { c: [], ours: [] };
    if (a.warmup > 0) {
      for (const s of sinks) {
        const w = await runSource(a, s, cfg.sourceArgs, Math.min(a.warmup, m));
        if (!w.ok) result.failures.push({ ...w, warmup: true });
        if (cfg.dump) takeDumps(dumpDirs[s.kind]);
      }
      if (cfg.dump) settle();
    }
    for (let rep = 1; rep <= a.reps; rep++) {
      for (const s of sinks) {
        const r = await runSource(a, s, cfg.sourceArgs, m);
        r.rep = rep;
        if (cfg.dump) {
          r.dumpFiles = takeDumps(dumpDirs[s.kind]);
          dumps[s.kind].push(r.dumpFiles);
          settle();
        }
        runs[s.kind].push(r);
        if (!r.ok) result.failures.push(r);
        note(
          `  rep ${rep} ${s.kind.padEnd(4)}: ${r.ok ? 'ok' : `FAILED (exit ${r.exitCode}${r.signal ? ` ${r.signal}` : ''}${r.timedOut ? ', timed out' : ''}): ${r.stderr ?? ''}`} ` +
            `${r.wallS.toFixed(2)} s, ${Math.round(r.msgPerS)} msg/s, sink CPU ${r.sinkCpuS} s (${r.sinkCpuUsPerMsg} µs/msg), source CPU ${r.sourceCpuS} s` +
            (cfg.dump ? `, ${r.dumpFiles} dump files` : ''),
        );
      }
    }
    for (const s of sinks) {
      result[s.kind] = {
        argv: s.argv.map((x) => (x === process.execPath ? 'node' : x)).join(' '),
        pid: s.pid,
        idleRssKb: s.idleRssKb,
        build: s.build,
        peakRssKb: s.exited ? NaN : s.hwmKb(),
        runs: runs[s.kind],
        summary: summarize(runs[s.kind]),
      };
      if (s.exited) result.failures.push({ sink: s.kind, error: `sink exited during the runs: ${JSON.stringify(s.exited)} ${s.stderr.trim()}` });
    }
    if (cfg.dump) {
      // Each run's dump count must equal its -m (for ours: required; for C: reported).
      const okFor = (k) => runs[k].every((r) => !r.ok || r.dumpFiles === m);
      result.dumpCheck = { expectedPerRun: m, c: dumps.c, ours: dumps.ours, cOk: okFor('c'), ok: okFor('ours') };
      if (!result.dumpCheck.ok) result.failures.push({ sink: 'ours', error: `dump files per run ${dumps.ours.join(',')} != ${m}` });
    }
  } finally {
    for (const s of sinks) {
      if (s.child) {
        const ex = await s.stop();
        if (s.kind === 'ours' && existsSync(join(work, 'ours-stats.json')) && result.ours) {
          try {
            const st = JSON.parse(readFileSync(join(work, 'ours-stats.json'), 'utf8'));
            result.ours.finalCounters = pick(st, ['sessions', 'messages', 'recipients', 'bytes', 'dumps', 'dumpErrors', 'socketErrors', 'timeouts', 'lostInData', 'peakWaiting']);
          } catch {
            // Not written: nothing to add.
          }
        }
        if (result[s.kind]) result[s.kind].exit = ex;
      }
    }
    rmSync(work, { recursive: true, force: true });
    tempDirs.delete(work);
  }
  return result;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.list) {
    for (const c of CONFIGS) {
      process.stdout.write(`${c.id}  ${c.name}: sink [${c.sinkArgs.join(' ')}]  source [${c.sourceArgs.join(' ')} -m ${c.m}] (--full-size: -m ${c.fullM})${c.extra ? ' (not in the default set)' : ''}\n`);
    }
    return;
  }
  for (const p of [a.cSink, a.source]) if (!existsSync(p)) die(`${p} not found (apt-get install postfix)`);
  if (!existsSync(a.ourSink)) die(`${a.ourSink} not found: build first (npx tsc -b packages/*)`);
  const chosen = a.configs ? a.configs.map((id) => CONFIGS.find((c) => c.id === id) ?? die(`unknown configuration ${id}; try --list`)) : CONFIGS.filter((c) => !c.extra);

  const started = new Date();
  const meta = {
    ...machineMeta(started),
    ourSinkBuild: distHash(a.ourSink),
    clkTck,
    reps: a.reps,
    quick: a.quick,
    warmupMessages: a.warmup,
    dumpRoot: a.dumpRoot,
    loadavgStart: loadavg().map((x) => round(x, 2)),
  };
  note(`${meta.cpus} CPU(s), node ${meta.node}, postfix ${meta.postfix ?? '?'}, load ${meta.loadavgStart.join(' ')}; ${a.reps} rep(s)${a.quick ? ', quick' : ''}`);

  const results = [];
  for (const cfg of chosen) {
    const base = a.fullSize ? cfg.fullM : cfg.m;
    const m = a.m ?? (a.quick ? Math.max(100, Math.round(base / 10)) : base);
    try {
      results.push(await runConfig(a, cfg, m));
    } catch (err) {
      note(`config ${cfg.id}: ${err.message}`);
      results.push({ id: cfg.id, name: cfg.name, m, error: err.message, failures: [{ error: err.message }] });
    }
  }
  finishMeta(meta, started);

  const complete = results.filter((r) => r.c && r.ours);
  const rows = tableRows(complete);
  process.stdout.write(`\nsmtp-sink: C (Postfix ${meta.postfix ?? '?'}) vs ours (node ${meta.node}), ${meta.started}, ${a.reps} rep(s) interleaved, ${meta.cpus} CPU(s)\n\n`);
  process.stdout.write(a.markdown ? markdownTable(HEAD, rows) : textTable(HEAD, rows));
  for (const r of complete) {
    if (r.dumpCheck) {
      process.stdout.write(`config ${r.id}: dump files per run: C ${r.dumpCheck.c.join(', ')}; ours ${r.dumpCheck.ours.join(', ')} (expected ${r.m} each): ${r.dumpCheck.ok ? 'ours OK' : 'ours MISMATCH'}\n`);
    }
  }
  const failures = results.flatMap((r) => r.failures.map((f) => ({ config: r.id, ...f })));
  for (const f of failures) process.stdout.write(`FAILURE config ${f.config}${f.sink ? ` ${f.sink}` : ''}${f.warmup ? ' (warm-up)' : ''}: ${f.error ?? `smtp-source exit ${f.exitCode}${f.signal ? ` signal ${f.signal}` : ''}: ${f.stderr ?? ''}`}\n`);
  process.stdout.write(`elapsed ${meta.elapsedS} s, load ${meta.loadavgStart.join(' ')} -> ${meta.loadavgEnd.join(' ')}\n`);

  const out = writeResults('sink-vs-c', started, a.out, { meta, results });
  process.stdout.write(`results: ${out}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`sink-vs-c: ${err.stack ?? err}\n`);
  process.exit(1);
});
