#!/usr/bin/env node
// Benchmark: our smtp-source (packages/smtp-source/dist/cli.js) against Postfix's C
// smtp-source, both sending to one Postfix C smtp-sink on 127.0.0.1.
//
// For each configuration one C smtp-sink is started (-m 1000, on a free port found by binding
// port 0 first) and both sources run against it interleaved, C, ours, C, ours ..., so both
// see the same slice of machine noise and the same sink. Each source is spawned under GNU time
// (/usr/bin/time -o FILE -f '%e %U %S %M'): time(1) fork()s and exec()s the source and
// reads its rusage from wait4(), so user+sys CPU and ru_maxrss are those of exactly that one
// process (all its threads), not of the harness or the sink. Wall time is taken by the harness
// from spawn to exit (msg/s = -m / wall); it includes process start-up (Node's ~50 ms for
// ours). Every run must exit 0; ours also writes --json and its messages.accepted must equal
// -m (and recipients.accepted -m × -r). The sink is stopped by PID at the end.
//
// Configuration 8 (not in the default set) is the open model's cost: the C source closed
// (-d -s 20) against ours closed (the same) and ours open (--rate R/s -d -s 20) at two rates,
// interleaved C, ours closed, ours open R1, ours open R2, ... on one sink. The rates are
// --rates, or 0.8× and 1.2× ours' closed msg/s from an untimed calibration run. For ours it
// also takes the generator record (event-loop delay, CPU) and the schedule (late starts,
// corrected p99) from --json.
//
//   node benchmarks/source-vs-c.mjs [--reps N] [--configs 1,2,5] [--quick] [--markdown]
//                                   [--no-warmup] [--warmup N] [--full-size] [--m N] [--out FILE]
//   node benchmarks/source-vs-c.mjs --configs 8 [--rates 8000,12000] [--markdown]
//
// Plain Node ESM, no dependencies. Build first: npx tsc -b packages/core packages/smtp-source
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import {
  root, setProgName, die, note, positiveInt, nonNegativeInt, eachFlag, childCpuSeconds, sleep, track, killChild, keepStderr,
  tempDirs, SinkProc, round, median, spread, fmtRate, fmtMiB, textTable, markdownTable, distHash, clkTck, machineMeta,
  finishMeta, writeResults,
} from './lib.mjs';

setProgName('source-vs-c');

// ---- command line -------------------------------------------------------------------------

const USAGE = `usage: node benchmarks/source-vs-c.mjs [options]
  --reps N          timed runs per source and configuration, interleaved C,ours,C,ours... (default 3; --quick: 1)
  --configs LIST    comma-separated configuration ids (default 1,2,3,4,5,6; 7 and 8 are extra); --list shows them
  --rates LIST      config 8 (open model): ours' --rate values in msg/s, e.g. 8000,12000 (default: 0.8× and
                    1.2× ours' closed -d -s 20 msg/s, from one untimed calibration run after the warm-up)
  --quick           smoke run: -m divided by 10, 1 rep, small warm-up
  --full-size       -m 50000 for configs 1 and 6 too (default 20000 there, to keep the run under 6 minutes)
  --m N             override -m for every configuration
  --warmup N        untimed messages each source sends to the sink before the timed runs (default 1000;
                    --quick: 200)
  --no-warmup       no warm-up run
  --markdown        print the summary as a Markdown table (default: a plain text table)
  --out FILE        JSON results file (default benchmarks/results/source-vs-c-<timestamp>.json)
  --c-sink PATH     C smtp-sink (default /usr/sbin/smtp-sink)
  --c-source PATH   C smtp-source (default /usr/sbin/smtp-source)
  --our-source PATH our source's cli.js (default packages/smtp-source/dist/cli.js)
  --time PATH       GNU time (default /usr/bin/time; without it, CPU comes from the harness's
                    cutime+cstime and peak RSS is not measured)
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
    cSource: '/usr/sbin/smtp-source',
    ourSource: join(root, 'packages/smtp-source/dist/cli.js'),
    time: '/usr/bin/time',
    timeout: 180,
    m: undefined,
    fullSize: false,
    list: false,
    rates: undefined,
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
      case '--out': a.out = resolve(value()); break;
      case '--c-sink': a.cSink = value(); break;
      case '--c-source': a.cSource = value(); break;
      case '--our-source': a.ourSource = resolve(value()); break;
      case '--time': a.time = value(); break;
      case '--timeout': a.timeout = positiveInt(flag, value()); break;
      case '--list': a.list = true; break;
      case '--rates': a.rates = value().split(/[,\s]+/).filter(Boolean).map((x) => positiveInt(flag, x.replace(/\/s$/, ''))); break;
      case '--help': case '-h': process.stdout.write(USAGE + '\n'); process.exit(0); break;
      default: die(`unknown option ${arg}\n${USAGE}`);
    }
  });
  a.reps ??= a.quick ? 1 : 3;
  a.warmup ??= a.quick ? 200 : 1000;
  return a;
}

// ---- configurations -----------------------------------------------------------------------
// c / ours: the sources' flags before -m; m: messages (fullM with --full-size); r: recipients
// per message; sinkArgs: extra flags for the C sink (always -m 1000); target: the ours/C msg/s
// ratio the issue asks for.

const BASE = ['-s', '20', '-l', '5120'];
const CONFIGS = [
  { id: '1', name: 'new conn/msg', c: BASE, ours: BASE, m: 20000, fullM: 50000, target: 1 },
  { id: '2', name: '-d -s 20', c: ['-d', ...BASE], ours: ['-d', ...BASE], m: 50000, fullM: 50000, target: 1 },
  { id: '3', name: '-d -s 200', c: ['-d', '-s', '200', '-l', '5120'], ours: ['-d', '-s', '200', '-l', '5120'], m: 50000, fullM: 50000, target: 1 },
  { id: '4', name: '-d -s 20 -r 10', c: ['-d', ...BASE, '-r', '10'], ours: ['-d', ...BASE, '-r', '10'], m: 20000, fullM: 20000, r: 10, target: 1 },
  { id: '5', name: '-d -s 20, ours --pipelining', c: ['-d', ...BASE], ours: ['--pipelining', '-d', ...BASE], m: 50000, fullM: 50000, target: 2 },
  { id: '6', name: 'new conn/msg, ours --pipelining', c: BASE, ours: ['--pipelining', ...BASE], m: 20000, fullM: 50000 },
  // Not in the default set: LMTP, against a sink started with -L.
  { id: '7', name: 'LMTP -L -d -s 20', sinkArgs: ['-L'], c: ['-L', '-d', ...BASE], ours: ['-L', '-d', ...BASE], m: 50000, fullM: 50000, target: 1, extra: true },
  // Not in the default set: the open model's cost. C and ours closed -d -s 20, and ours with
  // --rate R/s -d -s 20 at each of OPEN_FRACTIONS × ours' closed rate (or --rates).
  { id: '8', name: 'open model: ours --rate R -d -s 20', open: true, c: ['-d', ...BASE], ours: ['-d', ...BASE], m: 50000, fullM: 50000, extra: true },
];
const OPEN_FRACTIONS = [0.8, 1.2];

// ---- one smtp-source run ------------------------------------------------------------------

/** Parses GNU time's "%e %U %S %M" line (the last line: "Command exited with ..." may precede it). */
function readTime(file) {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const f = lines[lines.length - 1].trim().split(/\s+/).map(Number);
    if (f.length !== 4 || f.some((x) => !Number.isFinite(x))) return undefined;
    return { elapsedS: f[0], userS: f[1], sysS: f[2], maxRssKb: f[3] };
  } catch {
    return undefined;
  }
}

async function runSource(a, work, sink, side, cfg, m, oursArgs = cfg.ours, label = side) {
  const r = cfg.r ?? 1;
  const target = `127.0.0.1:${sink.port}`;
  const jsonFile = join(work, 'ours.json');
  const timeFile = join(work, `time-${side}`);
  rmSync(jsonFile, { force: true });
  rmSync(timeFile, { force: true });
  const argv =
    side === 'c'
      ? [a.cSource, ...cfg.c, '-m', String(m), target]
      : [process.execPath, a.ourSource, ...oursArgs, '-m', String(m), '--json', jsonFile, target];
  const [cmd, ...args] = a.haveTime ? [a.time, '-o', timeFile, '-f', '%e %U %S %M', ...argv] : argv;
  const sinkCpu0 = sink.cpu();
  const child0 = childCpuSeconds();
  const t0 = process.hrtime.bigint();
  // detached: its own process group, so a timeout kills time(1) and the source together.
  const child = track(spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true }), true);
  const stderrText = keepStderr(child, 20000);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killChild(child, 'SIGKILL');
  }, a.timeout * 1000);
  const { code, signal } = await new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  clearTimeout(timer);
  // Cross-check: CPU of the children reaped meanwhile (time(1) and the source; the sink is
  // reaped only at the end), at CLK_TCK resolution.
  const cutime = childCpuSeconds() - child0;
  // Let the sink finish the last disconnects before reading its CPU.
  await sleep(150);
  const sinkCpu = sink.exited ? NaN : sink.cpu() - sinkCpu0;
  const t = a.haveTime ? readTime(timeFile) : undefined;
  const cpu = t ? t.userS + t.sysS : a.haveTime ? NaN : cutime;
  const run = {
    source: side,
    ...(label !== side ? { variant: label } : {}),
    argv: argv.map((x) => (x === process.execPath ? 'node' : x === a.ourSource ? 'cli.js' : x)).join(' '),
    m,
    ok: code === 0 && !timedOut,
    exitCode: code,
    signal,
    timedOut,
    wallS: round(wall, 4),
    msgPerS: round(m / wall, 1),
    cpuUserS: t ? t.userS : undefined,
    cpuSysS: t ? t.sysS : undefined,
    cpuS: round(cpu, 2),
    cpuUsPerMsg: round((cpu / m) * 1e6, 1),
    cpuCutimeS: round(cutime, 2),
    maxRssKb: t ? t.maxRssKb : NaN,
    sinkCpuS: round(sinkCpu, 2),
    sinkCpuUsPerMsg: round((sinkCpu / m) * 1e6, 1),
    loadavg1: round(loadavg()[0], 2),
  };
  if (timedOut) run.error = `timed out after ${a.timeout} s`;
  else if (a.haveTime && !t) run.error = `no usable ${a.time} output`;
  if (side === 'ours' && run.ok) {
    // Our source counts what the sink accepted: it must be every message and recipient.
    try {
      const j = JSON.parse(readFileSync(jsonFile, 'utf8'));
      run.accepted = j.messages?.accepted;
      run.recipientsAccepted = j.recipients?.accepted;
      run.connections = j.connections?.opened;
      run.selfElapsedS = round(j.elapsedMs / 1000, 4);
      run.selfMsgPerS = round(j.throughput?.messagesPerSecond, 1);
      if (j.generator) {
        run.generator = {
          eventLoopDelayMs: j.generator.eventLoopDelayMs,
          cpuPercent: j.generator.cpuPercent,
          saturated: j.generator.saturated,
          reasons: j.generator.reasons,
        };
      }
      run.messageP99Ms = j.latency?.message?.p99;
      if (j.schedule) {
        const s = j.schedule;
        run.schedule = {
          kind: s.kind,
          scheduled: s.scheduled,
          started: s.started,
          notStarted: s.notStarted,
          lateStarts: s.lateStarts?.count,
          lateLagMs: s.lateStarts?.lagMs,
          sessionsPeak: s.sessions?.peak,
          offeredPerSecond: s.stages?.[0]?.throughput?.offeredPerSecond,
          acceptedPerSecond: s.stages?.[0]?.throughput?.acceptedPerSecond,
        };
        run.correctedP99Ms = j.correctedLatency?.message?.p99;
      }
      if (run.accepted !== m || run.recipientsAccepted !== m * r) {
        run.ok = false;
        run.error = `--json: ${run.accepted} messages / ${run.recipientsAccepted} recipients accepted, expected ${m} / ${m * r}`;
      }
    } catch (err) {
      run.ok = false;
      run.error = `--json ${jsonFile}: ${err.message}`;
    }
  }
  if (stderrText().trim() && (!run.ok || side === 'c')) run.stderr = stderrText().trim();
  return run;
}

// ---- statistics and formatting ------------------------------------------------------------

function summarize(runs) {
  const good = runs.filter((r) => r.ok);
  const rss = good.map((r) => r.maxRssKb).filter(Number.isFinite);
  return {
    runs: runs.length,
    ok: good.length,
    msgPerS: spread(good.map((r) => r.msgPerS)),
    wallS: round(median(good.map((r) => r.wallS)), 3),
    cpuS: round(median(good.map((r) => r.cpuS)), 2),
    cpuUsPerMsg: round(median(good.map((r) => r.cpuUsPerMsg)), 1),
    peakRssKb: rss.length ? Math.max(...rss) : NaN,
    sinkCpuUsPerMsg: round(median(good.map((r) => r.sinkCpuUsPerMsg)), 1),
  };
}

function verdict(r) {
  if (!r.target) return '–';
  if (r.ratio === null) return `≥${r.target.toFixed(1)}×: ?`;
  return `≥${r.target.toFixed(1)}×: ${r.ratio >= r.target ? 'met' : 'NOT met'}`;
}

function tableRows(results) {
  return results.map((r) => {
    const c = r.c.summary;
    const o = r.ours.summary;
    return [
      `${r.id}. ${r.name}`,
      String(r.m),
      fmtRate(c),
      fmtRate(o),
      r.ratio === null ? '–' : `${r.ratio.toFixed(2)}×`,
      `${c.cpuS ?? '?'} / ${o.cpuS ?? '?'}`,
      `${c.cpuUsPerMsg ?? '?'} / ${o.cpuUsPerMsg ?? '?'}`,
      `${fmtMiB(c.peakRssKb)} / ${fmtMiB(o.peakRssKb)}`,
      verdict(r),
    ];
  });
}
const HEAD = ['config', '-m', 'C msg/s median (range)', 'ours msg/s median (range)', 'ours/C', 'source CPU s C / ours', 'CPU µs/msg C / ours', 'peak RSS MiB C / ours', 'target'];

// ---- the open model's cost (configuration 8) -----------------------------------------------

/** Summary of one variant's runs, with ours' generator record and schedule figures (medians). */
function summarizeOpen(runs) {
  const s = summarize(runs);
  const good = runs.filter((r) => r.ok);
  const med = (f, d = 2) => {
    const v = good.map(f).filter(Number.isFinite);
    return v.length ? round(median(v), d) : null;
  };
  const max = (f, d = 2) => {
    const v = good.map(f).filter(Number.isFinite);
    return v.length ? round(Math.max(...v), d) : null;
  };
  return {
    ...s,
    selfMsgPerS: good.some((r) => Number.isFinite(r.selfMsgPerS)) ? spread(good.map((r) => r.selfMsgPerS)) : null,
    loopDelayP99Ms: med((r) => r.generator?.eventLoopDelayMs?.p99),
    loopDelayP99MaxMs: max((r) => r.generator?.eventLoopDelayMs?.p99),
    generatorCpuMeanPct: med((r) => r.generator?.cpuPercent?.mean, 0),
    generatorCpuMaxPct: max((r) => r.generator?.cpuPercent?.max, 0),
    generatorSaturated: good.filter((r) => r.generator?.saturated).length,
    lateStarts: med((r) => r.schedule?.lateStarts, 0),
    lateStartsRange: good.some((r) => r.schedule) ? spread(good.map((r) => r.schedule?.lateStarts), 0) : null,
    lateLagP99Ms: med((r) => r.schedule?.lateLagMs?.p99),
    notStarted: max((r) => r.schedule?.notStarted, 0),
    sessionsPeak: max((r) => r.schedule?.sessionsPeak, 0),
    messageP99Ms: med((r) => r.messageP99Ms),
    correctedP99Ms: med((r) => r.correctedP99Ms),
  };
}

async function runOpenConfig(a, cfg, m) {
  const sinkArgs = ['-m', '1000', ...(cfg.sinkArgs ?? [])];
  note(`config ${cfg.id} (${cfg.name}): C sink [${sinkArgs.join(' ')}], C source [${cfg.c.join(' ')} -m ${m}], ours closed [${cfg.ours.join(' ')} -m ${m}], ours open [--rate R/s ${cfg.ours.join(' ')} -m ${m}], ${a.reps} rep(s)`);
  const work = mkdtempSync(join(tmpdir(), `source-vs-c-${cfg.id}-`));
  tempDirs.add(work);
  const sink = new SinkProc('c', 'C smtp-sink');
  const result = { id: cfg.id, name: cfg.name, kind: 'open', m, recipientsPerMessage: 1, sinkArgs, cArgs: cfg.c, oursArgs: cfg.ours, failures: [] };
  try {
    await sink.start(a, sinkArgs);
    result.sink = { argv: sink.argv.join(' '), pid: sink.pid };
    result.oursBuild = distHash(a.ourSource);
    note(`  C smtp-sink: pid ${sink.pid}, port ${sink.port}`);
    if (a.warmup > 0) {
      for (const side of ['c', 'ours']) {
        const w = await runSource(a, work, sink, side, cfg, Math.min(a.warmup, m));
        if (!w.ok) result.failures.push({ ...w, warmup: true });
      }
    }
    let rates = a.rates;
    if (!rates) {
      const cal = await runSource(a, work, sink, 'ours', cfg, m);
      if (!cal.ok) throw new Error(`calibration run failed: ${cal.error ?? `exit ${cal.exitCode}`} ${cal.stderr ?? ''}`);
      rates = OPEN_FRACTIONS.map((f) => Math.max(1, Math.round((f * cal.msgPerS) / 100) * 100));
      result.calibration = { msgPerS: cal.msgPerS, selfMsgPerS: cal.selfMsgPerS, fractions: OPEN_FRACTIONS, run: cal };
      note(`  calibration (ours closed, untimed): ${Math.round(cal.msgPerS)} msg/s -> --rate ${rates.join(', ')}/s`);
    }
    result.rates = rates;
    const variants = [
      { key: 'c', side: 'c', label: 'C closed', args: cfg.c },
      { key: 'ours', side: 'ours', label: 'ours closed', args: cfg.ours },
      ...rates.map((rate) => ({ key: `open-${rate}`, side: 'ours', label: `ours --rate ${rate}/s`, rate, args: ['--rate', `${rate}/s`, ...cfg.ours] })),
    ];
    const runs = Object.fromEntries(variants.map((v) => [v.key, []]));
    for (let rep = 1; rep <= a.reps; rep++) {
      for (const v of variants) {
        const r = await runSource(a, work, sink, v.side, cfg, m, v.args, v.key);
        r.rep = rep;
        runs[v.key].push(r);
        if (!r.ok) result.failures.push(r);
        const g = r.generator;
        const sc = r.schedule;
        note(
          `  rep ${rep} ${v.label.padEnd(20)}: ${r.ok ? 'ok' : `FAILED (exit ${r.exitCode}${r.signal ? ` ${r.signal}` : ''}${r.timedOut ? ', timed out' : ''}): ${r.error ?? ''} ${r.stderr ?? ''}`} ` +
            `${r.wallS.toFixed(2)} s, ${Math.round(r.msgPerS)} msg/s${r.selfMsgPerS ? ` (own ${Math.round(r.selfMsgPerS)})` : ''}, CPU ${r.cpuS} s (${r.cpuUsPerMsg} µs/msg), ` +
            `max RSS ${fmtMiB(r.maxRssKb)} MiB` +
            (g ? `, loop p99 ${g.eventLoopDelayMs.p99} ms, CPU ${Math.round(g.cpuPercent.mean)} % (max ${Math.round(g.cpuPercent.max)} %)${g.saturated ? ' SATURATED' : ''}` : '') +
            (sc ? `, late ${sc.lateStarts} (lag p99 ${sc.lateLagMs?.p99} ms), not started ${sc.notStarted}, sessions ${sc.sessionsPeak}, corrected p99 ${r.correctedP99Ms} ms` : ''),
        );
      }
    }
    result.variants = variants.map((v) => ({ key: v.key, label: v.label, rate: v.rate ?? null, args: v.args, runs: runs[v.key], summary: summarizeOpen(runs[v.key]) }));
    if (sink.exited) result.failures.push({ error: `C sink exited during the runs: ${JSON.stringify(sink.exited)} ${sink.stderr.trim()}` });
  } finally {
    if (sink.child) {
      const ex = await sink.stop();
      if (result.sink) result.sink.exit = ex;
    }
    rmSync(work, { recursive: true, force: true });
    tempDirs.delete(work);
  }
  return result;
}

const OPEN_HEAD = [
  'run', 'offered msg/s', 'msg/s median (range)', 'own msg/s', 'CPU s', 'CPU µs/msg', '× C µs/msg', 'peak RSS MiB',
  'loop delay p99 ms', 'generator CPU % mean / max', 'late starts (lag p99 ms)', 'p99 / corrected p99 ms',
];
function openRows(r) {
  const c = r.variants.find((v) => v.key === 'c')?.summary;
  const f = (x, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
  return r.variants.map((v) => {
    const s = v.summary;
    return [
      v.label,
      v.rate ? String(v.rate) : '– (closed)',
      fmtRate(s),
      s.selfMsgPerS ? String(Math.round(s.selfMsgPerS.median)) : '–',
      f(s.cpuS, 2),
      f(s.cpuUsPerMsg),
      c && Number.isFinite(c.cpuUsPerMsg) && Number.isFinite(s.cpuUsPerMsg) ? `${(s.cpuUsPerMsg / c.cpuUsPerMsg).toFixed(2)}×` : '–',
      fmtMiB(s.peakRssKb),
      s.loopDelayP99Ms === null ? '–' : `${f(s.loopDelayP99Ms, 2)} (max ${f(s.loopDelayP99MaxMs, 2)})`,
      s.generatorCpuMeanPct === null ? '–' : `${s.generatorCpuMeanPct} / ${s.generatorCpuMaxPct}${s.generatorSaturated ? ` (saturated ${s.generatorSaturated}/${s.ok})` : ''}`,
      s.lateStarts === null ? '–' : `${s.lateStarts} (${f(s.lateLagP99Ms, 2)})${s.notStarted ? `, ${s.notStarted} not started` : ''}`,
      s.messageP99Ms === null ? '–' : `${f(s.messageP99Ms, 2)} / ${s.correctedP99Ms === null ? '–' : f(s.correctedP99Ms, 2)}`,
    ];
  });
}

// ---- main ---------------------------------------------------------------------------------

async function runConfig(a, cfg, m) {
  const sinkArgs = ['-m', '1000', ...(cfg.sinkArgs ?? [])];
  note(`config ${cfg.id} (${cfg.name}): C sink [${sinkArgs.join(' ')}], C source [${cfg.c.join(' ')} -m ${m}], ours [${cfg.ours.join(' ')} -m ${m}], ${a.reps} rep(s)`);
  const work = mkdtempSync(join(tmpdir(), `source-vs-c-${cfg.id}-`));
  tempDirs.add(work);
  const sink = new SinkProc('c', 'C smtp-sink');
  const result = { id: cfg.id, name: cfg.name, m, recipientsPerMessage: cfg.r ?? 1, sinkArgs, cArgs: cfg.c, oursArgs: cfg.ours, target: cfg.target, failures: [] };
  try {
    await sink.start(a, sinkArgs);
    result.sink = { argv: sink.argv.join(' '), pid: sink.pid };
    result.oursBuild = distHash(a.ourSource);
    note(`  C smtp-sink: pid ${sink.pid}, port ${sink.port}`);
    const runs = { c: [], ours: [] };
    if (a.warmup > 0) {
      for (const side of ['c', 'ours']) {
        const w = await runSource(a, work, sink, side, cfg, Math.min(a.warmup, m));
        if (!w.ok) result.failures.push({ ...w, warmup: true });
      }
    }
    for (let rep = 1; rep <= a.reps; rep++) {
      for (const side of ['c', 'ours']) {
        const r = await runSource(a, work, sink, side, cfg, m);
        r.rep = rep;
        runs[side].push(r);
        if (!r.ok) result.failures.push(r);
        note(
          `  rep ${rep} ${side.padEnd(4)}: ${r.ok ? 'ok' : `FAILED (exit ${r.exitCode}${r.signal ? ` ${r.signal}` : ''}${r.timedOut ? ', timed out' : ''}): ${r.error ?? ''} ${r.stderr ?? ''}`} ` +
            `${r.wallS.toFixed(2)} s, ${Math.round(r.msgPerS)} msg/s, source CPU ${r.cpuS} s (${r.cpuUsPerMsg} µs/msg), ` +
            `max RSS ${fmtMiB(r.maxRssKb)} MiB, sink CPU ${r.sinkCpuUsPerMsg} µs/msg` +
            (side === 'ours' ? `, accepted ${r.accepted}` : ''),
        );
      }
    }
    for (const side of ['c', 'ours']) result[side] = { runs: runs[side], summary: summarize(runs[side]) };
    const c = result.c.summary;
    const o = result.ours.summary;
    result.ratio = c.ok && o.ok ? round(o.msgPerS.median / c.msgPerS.median, 3) : null;
    // Ratios of each interleaved pair, to show whether the median ratio is steady.
    result.pairRatios = runs.c.map((rc, i) => (rc.ok && runs.ours[i]?.ok ? round(runs.ours[i].msgPerS / rc.msgPerS, 3) : null));
    if (result.target && result.ratio !== null) result.targetMet = result.ratio >= result.target;
    if (sink.exited) result.failures.push({ error: `C sink exited during the runs: ${JSON.stringify(sink.exited)} ${sink.stderr.trim()}` });
  } finally {
    if (sink.child) {
      const ex = await sink.stop();
      if (result.sink) result.sink.exit = ex;
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
      process.stdout.write(
        `${c.id}  ${c.name}: sink [-m 1000${c.sinkArgs ? ' ' + c.sinkArgs.join(' ') : ''}]  C [${c.c.join(' ')} -m ${c.m}]  ours [${c.ours.join(' ')} -m ${c.m}]` +
          ` (--full-size: -m ${c.fullM})${c.target ? `, target ours/C ≥ ${c.target}` : ''}` +
          `${c.open ? `; and ours --rate R/s ${c.ours.join(' ')}, R = --rates or ${OPEN_FRACTIONS.join('× and ')}× ours' closed msg/s` : ''}${c.extra ? ' (not in the default set)' : ''}\n`,
      );
    }
    return;
  }
  for (const p of [a.cSink, a.cSource]) if (!existsSync(p)) die(`${p} not found (apt-get install postfix)`);
  if (!existsSync(a.ourSource)) die(`${a.ourSource} not found: build first (npx tsc -b packages/core packages/smtp-source)`);
  a.haveTime = existsSync(a.time);
  if (!a.haveTime) note(`${a.time} not found (apt-get install time): source CPU from cutime+cstime, no peak RSS`);
  const chosen = a.configs ? a.configs.map((id) => CONFIGS.find((c) => c.id === id) ?? die(`unknown configuration ${id}; try --list`)) : CONFIGS.filter((c) => !c.extra);

  const started = new Date();
  const meta = {
    ...machineMeta(started),
    ourSourceBuild: distHash(a.ourSource),
    cpuMethod: a.haveTime ? `${a.time} -f '%e %U %S %M' (wait4 rusage of the source process)` : 'harness cutime+cstime delta',
    clkTck,
    reps: a.reps,
    quick: a.quick,
    warmupMessages: a.warmup,
    loadavgStart: loadavg().map((x) => round(x, 2)),
  };
  note(`${meta.cpus} CPU(s), node ${meta.node}, postfix ${meta.postfix ?? '?'}, load ${meta.loadavgStart.join(' ')}; ${a.reps} rep(s)${a.quick ? ', quick' : ''}`);

  const results = [];
  for (const cfg of chosen) {
    const base = a.fullSize ? cfg.fullM : cfg.m;
    const m = a.m ?? (a.quick ? Math.max(100, Math.round(base / 10)) : base);
    try {
      results.push(await (cfg.open ? runOpenConfig(a, cfg, m) : runConfig(a, cfg, m)));
    } catch (err) {
      note(`config ${cfg.id}: ${err.message}`);
      results.push({ id: cfg.id, name: cfg.name, m, error: err.message, failures: [{ error: err.message }] });
    }
  }
  finishMeta(meta, started);

  const complete = results.filter((r) => r.c && r.ours);
  const openResults = results.filter((r) => r.kind === 'open' && r.variants);
  const rows = tableRows(complete);
  process.stdout.write(
    `\nsmtp-source: C (Postfix ${meta.postfix ?? '?'}) vs ours (node ${meta.node}) into one C smtp-sink, ${meta.started}, ` +
      `${a.reps} rep(s) interleaved, ${meta.cpus} CPU(s)\n\n`,
  );
  if (rows.length) process.stdout.write(a.markdown ? markdownTable(HEAD, rows) : textTable(HEAD, rows));
  for (const r of openResults) {
    process.stdout.write(
      `\nconfig ${r.id} (${r.name}), -m ${r.m}, --rate ${r.rates.join(', ')}/s` +
        `${r.calibration ? ` (${r.calibration.fractions.join('× and ')}× ours' closed ${Math.round(r.calibration.msgPerS)} msg/s in the calibration run)` : ''}; ` +
        `CPU µs/msg includes each process's start-up; own msg/s is ours' --json throughput (start-up left out)\n\n`,
    );
    process.stdout.write(a.markdown ? markdownTable(OPEN_HEAD, openRows(r)) : textTable(OPEN_HEAD, openRows(r)));
  }
  if (a.reps > 1) {
    for (const r of complete) process.stdout.write(`config ${r.id}: ours/C per interleaved pair: ${r.pairRatios.map((x) => (x === null ? '–' : x.toFixed(2))).join(', ')}\n`);
  }
  const failures = results.flatMap((r) => r.failures.map((f) => ({ config: r.id, ...f })));
  for (const f of failures) {
    process.stdout.write(
      `FAILURE config ${f.config}${f.source ? ` ${f.source}` : ''}${f.warmup ? ' (warm-up)' : ''}: ` +
        `${f.error ?? ''}${f.exitCode !== undefined ? ` exit ${f.exitCode}` : ''}${f.signal ? ` signal ${f.signal}` : ''}${f.stderr ? `: ${f.stderr}` : ''}\n`,
    );
  }
  process.stdout.write(`elapsed ${meta.elapsedS} s, load ${meta.loadavgStart.join(' ')} -> ${meta.loadavgEnd.join(' ')}\n`);
  const out = writeResults('source-vs-c', started, a.out, { meta, results });
  process.stdout.write(`results: ${out}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`source-vs-c: ${err.stack ?? err}\n`);
  process.exit(1);
});
