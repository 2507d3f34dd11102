#!/usr/bin/env node
// Soak benchmark: our smtp-source (packages/smtp-source/dist/cli.js) against our smtp-sink
// (packages/smtp-sink/dist/cli.js) on 127.0.0.1 for a long time at a steady rate, to see
// whether memory or event-loop delay creeps up (a leak) while the load stays the same.
//
// The source runs the open model (--rate R/s -d -s S --duration D --json FILE). Each second
// the harness samples both processes: VmRSS from /proc/PID/status, CPU from /proc/PID/stat,
// and each one's Prometheus endpoint (--metrics-port 127.0.0.1:0): prom-client's event-loop
// lag p99 (its histogram is reset on every scrape, so each scrape covers about the last
// second) and the accepted-message counters. At the end it takes the source's --json (the
// generator record: event-loop delay over the whole run, CPU per second; messages offered,
// sent, accepted; errors) and the sink's --json.
//
// Leak verdict, per process, on the samples after a warm-up (60 s by default):
//   slope  = least-squares slope of RSS over time, MiB/min;
//   growth = (median RSS of the last minute) / (median RSS of the first minute after warm-up) - 1.
//   flat   = slope < --max-slope (1 MiB/min) and growth <= --max-growth (10 %).
// Runs of 10 minutes or more are also judged on their second half alone (V8 may take minutes
// to size its heaps; what matters is whether memory still grows after that).
//
//   node benchmarks/soak.mjs [--rate 2000] [--duration 10m] [--sessions 50] [--warmup 60]
//                            [--out FILE] [--markdown]
//
// Not for CI: it runs for --duration (10 minutes by default). Build first: npx tsc -b packages/*
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import {
  root, setProgName, die, note, positiveInt, nonNegativeInt, eachFlag, sleep, spawnWithFiles, track, tempDirs, SinkProc,
  cpuSeconds, statusKb, round, median, textTable, markdownTable, distHash, machineMeta, finishMeta, writeResults,
  shebangNodeFlags, keepStderr,
} from './lib.mjs';

setProgName('soak');

const USAGE = `usage: node benchmarks/soak.mjs [options]
  --rate R          messages per second the source offers (open model, default 2000)
  --duration D      how long the source sends: 600, 600s, 10m (default 10m)
  --sessions S      the source's -s: most sessions at once (default 50)
  --size BYTES      the source's -l: message size (default: its default)
  --warmup S        seconds left out of the leak verdict at the start (default 60; shorter runs: a quarter of the run)
  --max-slope X     flat needs an RSS slope below X MiB/min (default 1)
  --max-growth P    flat needs the last minute's median RSS within P % of the first's (default 10)
  --markdown        print the per-minute table as Markdown
  --out FILE        JSON results file (default benchmarks/results/soak-<UTC timestamp>.json)
  --our-sink PATH   our sink's cli.js (default packages/smtp-sink/dist/cli.js)
  --our-source PATH our source's cli.js (default packages/smtp-source/dist/cli.js)
  --help`;

function parseDuration(flag, s) {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(s);
  if (!m) die(`${flag}: not a duration (600, 600s, 10m): ${s}`);
  const n = Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] ?? 's'];
  if (!(n >= 5)) die(`${flag}: at least 5 s`);
  return Math.round(n);
}

function parseArgs(argv) {
  const a = {
    rate: 2000,
    durationS: 600,
    sessions: 50,
    size: undefined,
    warmupS: undefined,
    maxSlope: 1,
    maxGrowth: 10,
    markdown: false,
    out: undefined,
    ourSink: join(root, 'packages/smtp-sink/dist/cli.js'),
    ourSource: join(root, 'packages/smtp-source/dist/cli.js'),
  };
  eachFlag(argv, (flag, value, arg) => {
    switch (flag) {
      case '--rate': a.rate = positiveInt(flag, value().replace(/\/s$/, '')); break;
      case '--duration': a.durationS = parseDuration(flag, value()); break;
      case '--sessions': a.sessions = positiveInt(flag, value()); break;
      case '--size': a.size = positiveInt(flag, value()); break;
      case '--warmup': a.warmupS = nonNegativeInt(flag, value()); break;
      case '--max-slope': a.maxSlope = Number(value()); break;
      case '--max-growth': a.maxGrowth = Number(value()); break;
      case '--markdown': a.markdown = true; break;
      case '--out': a.out = resolve(value()); break;
      case '--our-sink': a.ourSink = resolve(value()); break;
      case '--our-source': a.ourSource = resolve(value()); break;
      case '--help': case '-h': process.stdout.write(USAGE + '\n'); process.exit(0); break;
      default: die(`unknown option ${arg}\n${USAGE}`);
    }
  });
  // A short trial run still gets a verdict (marked as such): warm-up a quarter, windows up to a minute.
  a.warmupS ??= Math.min(60, Math.floor(a.durationS / 4));
  a.windowS = Math.max(1, Math.min(60, Math.floor((a.durationS - a.warmupS) / 2)));
  return a;
}

// ---- Prometheus text ----------------------------------------------------------------------

/** Sums of each metric name (labels dropped) from Prometheus's text format. */
function parseProm(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    out[m[1]] = (out[m[1]] ?? 0) + v;
  }
  return out;
}
async function scrape(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(900) });
    return parseProm(await res.text());
  } catch {
    return undefined;
  }
}
const METRIC_KEYS = {
  elP99: 'nodejs_eventloop_lag_p99_seconds',
  elMax: 'nodejs_eventloop_lag_max_seconds',
  heap: 'nodejs_heap_size_used_bytes',
};

// ---- the source process -------------------------------------------------------------------

class SourceProc {
  constructor(a, port, jsonFile) {
    this.exited = null;
    const args = ['--rate', `${a.rate}/s`, '-d', '-s', String(a.sessions), '--duration', `${a.durationS}s`, '--json', jsonFile, '--metrics-port', '127.0.0.1:0'];
    if (a.size !== undefined) args.push('-l', String(a.size));
    this.argv = [process.execPath, ...shebangNodeFlags(a.ourSource), a.ourSource, ...args, `127.0.0.1:${port}`];
    this.child = track(spawnWithFiles(this.argv[0], this.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] }));
    this.pid = this.child.pid;
    this.stderrText = keepStderr(this.child, 200000);
    this.exitedP = new Promise((r) => this.child.once('exit', (code, signal) => r((this.exited = { code, signal }))));
    this.build = distHash(a.ourSource);
  }

  get stderr() {
    return this.stderrText();
  }
}

async function waitFor(re, get, what, exited) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const m = re.exec(get());
    if (m) return m;
    if (exited()) throw new Error(`${what} exited before: ${get().trim()}`);
    if (Date.now() > deadline) throw new Error(`${what}: timed out waiting for ${re}: ${get().trim()}`);
    await sleep(20);
  }
}

// ---- statistics ---------------------------------------------------------------------------

/** Least-squares slope of ys over xs. */
function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  return sxx === 0 ? NaN : sxy / sxx;
}
const max = (xs) => {
  const v = xs.filter(Number.isFinite);
  return v.length ? Math.max(...v) : NaN;
};

function verdict(samples, who, a) {
  const end = a.durationS;
  const after = samples.filter((s) => s.t >= a.warmupS && s.t <= end && Number.isFinite(s[who].rssKb));
  const first = after.filter((s) => s.t < a.warmupS + a.windowS).map((s) => s[who].rssKb / 1024);
  const last = after.filter((s) => s.t >= end - a.windowS).map((s) => s[who].rssKb / 1024);
  const slopePerMin = slope(after.map((s) => s.t / 60), after.map((s) => s[who].rssKb / 1024));
  const firstMedian = median(first);
  const lastMedian = median(last);
  const growthPct = ((lastMedian - firstMedian) / firstMedian) * 100;
  const flat = slopePerMin < a.maxSlope && growthPct <= a.maxGrowth;
  return {
    samples: after.length,
    firstWindow: [a.warmupS, a.warmupS + a.windowS],
    lastWindow: [end - a.windowS, end],
    firstMedianMiB: round(firstMedian, 1),
    lastMedianMiB: round(lastMedian, 1),
    growthPct: round(growthPct, 1),
    slopeMiBPerMin: round(slopePerMin, 3),
    peakRssMiB: round(max(samples.map((s) => s[who].rssKb)) / 1024, 1),
    flat,
    verdict: flat ? 'flat' : 'GROWING',
  };
}

// ---- main ---------------------------------------------------------------------------------

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const started = new Date();
  const meta = machineMeta(started);
  meta.loadavgStart = loadavg().map((x) => round(x, 2));
  const tmp = mkdtempSync(join(tmpdir(), 'soak-'));
  tempDirs.add(tmp);
  const sinkJson = join(tmp, 'sink.json');
  const sourceJson = join(tmp, 'source.json');

  const sink = new SinkProc('ours', 'our sink');
  await sink.start({ ourSink: a.ourSink }, ['--metrics-port', '127.0.0.1:0'], tmp, sinkJson);
  const sinkUrl = (await waitFor(/metrics at (http:\/\/\S+)/, () => sink.stderr, 'our sink', () => sink.exited))[1];
  note(`sink PID ${sink.pid} on 127.0.0.1:${sink.port}, metrics ${sinkUrl}`);

  const source = new SourceProc(a, sink.port, sourceJson);
  const sourceUrl = (await waitFor(/metrics at (http:\/\/\S+)/, () => source.stderr, 'our source', () => source.exited))[1];
  const t0 = Date.now();
  note(`source PID ${source.pid}: ${a.rate}/s for ${a.durationS} s, -s ${a.sessions}, metrics ${sourceUrl}`);

  const samples = [];
  const procs = { source: { p: source, url: sourceUrl, acc: 'smtpsource_messages_accepted_total' }, sink: { p: sink, url: sinkUrl, acc: 'smtpsink_messages_accepted_total' } };
  const prevCpu = { source: cpuSeconds(source.pid), sink: cpuSeconds(sink.pid) };
  let prevT = 0;
  let tick = 1;
  while (!source.exited) {
    const wait = t0 + tick * 1000 - Date.now();
    if (wait > 0) await Promise.race([sleep(wait), source.exitedP]);
    if (source.exited) break;
    const t = (Date.now() - t0) / 1000;
    const sample = { t: round(t, 3) };
    const scrapes = await Promise.all(Object.values(procs).map((x) => scrape(x.url)));
    for (const [i, [who, x]] of Object.entries(procs).entries()) {
      let rssKb = NaN;
      let cpu = NaN;
      try {
        rssKb = statusKb(x.p.pid, 'VmRSS');
        cpu = cpuSeconds(x.p.pid);
      } catch {
        // Exited between the check and the read.
      }
      const m = scrapes[i];
      const cpuPct = ((cpu - prevCpu[who]) / (t - prevT)) * 100;
      prevCpu[who] = cpu;
      sample[who] = {
        rssKb,
        cpuPct: round(cpuPct, 1),
        elP99Ms: m ? round(m[METRIC_KEYS.elP99] * 1000, 2) : null,
        elMaxMs: m ? round(m[METRIC_KEYS.elMax] * 1000, 2) : null,
        heapMiB: m ? round(m[METRIC_KEYS.heap] / 1048576, 1) : null,
        accepted: m ? m[x.acc] : null,
      };
    }
    prevT = t;
    samples.push(sample);
    if (tick % 60 === 0) {
      const s = sample;
      if (Number.isFinite(s.source.rssKb)) note(`${Math.round(t)} s: source RSS ${(s.source.rssKb / 1024).toFixed(1)} MiB, sink RSS ${(s.sink.rssKb / 1024).toFixed(1)} MiB, accepted ${s.sink.accepted}`);
    }
    tick = Math.max(tick + 1, Math.floor((Date.now() - t0) / 1000) + 1);
  }
  const sourceExit = await source.exitedP;
  const sinkPeakKb = sink.hwmKb();
  const sinkExit = await sink.stop();

  let src;
  let snk;
  try {
    src = JSON.parse(readFileSync(sourceJson, 'utf8'));
  } catch (e) {
    note(`no source --json: ${e.message}; stderr: ${source.stderr.slice(-2000)}`);
  }
  try {
    snk = JSON.parse(readFileSync(sinkJson, 'utf8'));
  } catch (e) {
    note(`no sink --json: ${e.message}`);
  }
  rmSync(tmp, { recursive: true, force: true });
  tempDirs.delete(tmp);

  // Per-minute rows.
  const minutes = [];
  const nMin = Math.ceil(a.durationS / 60);
  let prevAcc = { source: 0, sink: 0 };
  let prevAccT = 0;
  for (let k = 0; k < nMin; k++) {
    const rows = samples.filter((s) => s.t > k * 60 && s.t <= (k + 1) * 60);
    if (rows.length === 0) continue;
    const lastRow = rows.at(-1);
    const row = { minute: k + 1, samples: rows.length };
    for (const who of ['source', 'sink']) {
      const acc = [...rows].reverse().find((r) => r[who].accepted != null)?.[who].accepted;
      row[who] = {
        rssMedianMiB: round(median(rows.map((r) => r[who].rssKb)) / 1024, 1),
        rssMaxMiB: round(max(rows.map((r) => r[who].rssKb)) / 1024, 1),
        heapMedianMiB: round(median(rows.map((r) => r[who].heapMiB ?? NaN)), 1),
        cpuMedianPct: round(median(rows.map((r) => r[who].cpuPct)), 1),
        elP99MedianMs: round(median(rows.map((r) => r[who].elP99Ms ?? NaN)), 2),
        elP99MaxMs: round(max(rows.map((r) => r[who].elP99Ms ?? NaN)), 2),
        acceptedPerS: acc == null ? null : round((acc - prevAcc[who]) / (lastRow.t - prevAccT), 1),
      };
      if (acc != null) prevAcc[who] = acc;
    }
    prevAccT = lastRow.t;
    minutes.push(row);
  }

  const leak = { rule: `flat = least-squares RSS slope after the ${a.warmupS} s warm-up < ${a.maxSlope} MiB/min and the median RSS of the last ${a.windowS} s within +${a.maxGrowth} % of the median of the first ${a.windowS} s after the warm-up`, source: verdict(samples, 'source', a), sink: verdict(samples, 'sink', a) };
  if (a.durationS < 300) leak.note = 'run shorter than 5 minutes: a trial, not a soak';
  // V8 may take minutes to size its heaps at a steady load: the second half of a long run says
  // whether memory keeps growing once it has settled, which the first minutes cannot.
  if (a.durationS >= 600) {
    const half = { ...a, warmupS: Math.floor(a.durationS / 2) };
    leak.secondHalf = { from: half.warmupS, source: verdict(samples, 'source', half), sink: verdict(samples, 'sink', half) };
  }

  const offered = a.rate * a.durationS;
  const summary = {
    offered,
    scheduled: src?.schedule?.scheduled,
    notStarted: src?.schedule?.notStarted,
    lateStarts: src?.schedule?.lateStarts?.count,
    lateLagP99Ms: src?.schedule?.lateStarts?.lagMs?.p99,
    sent: src?.messages?.sent,
    accepted: src?.messages?.accepted,
    rejected: src?.messages?.rejected,
    failed: src?.messages?.failed,
    sinkMessages: snk?.messages,
    sinkAccepted: snk?.messagesAccepted,
    acceptedPerSecond: src?.throughput?.messagesPerSecond,
    sourceErrors: src?.errors,
    sourceRejects: src?.rejects,
    sourceFatal: src?.fatal ?? null,
    sourceExit,
    sinkExit,
    sinkPeakRssMiB: round(sinkPeakKb / 1024, 1),
    latencyP99Ms: src?.latency?.p99 ?? src?.latency?.message?.p99,
    correctedLatencyP99Ms: src?.correctedLatency?.p99,
    generator: src?.generator && { eventLoopDelayMs: src.generator.eventLoopDelayMs, cpuPercent: src.generator.cpuPercent, saturated: src.generator.saturated, reasons: src.generator.reasons },
  };
  const sinkErrors = snk && Object.fromEntries(['timeouts', 'socketErrors', 'lostInData', 'faultDisconnects', 'dumpErrors', 'rejects'].filter((k) => snk[k] !== undefined).map((k) => [k, snk[k]]));
  summary.sinkErrors = sinkErrors;

  // Output.
  const head = ['min', 'source RSS MiB', 'sink RSS MiB', 'source EL p99 ms', 'sink EL p99 ms', 'source CPU %', 'sink CPU %', 'accepted/s (sink)'];
  const f = (x, d = 1) => (x == null || !Number.isFinite(x) ? '?' : x.toFixed(d));
  const rows = minutes.map((m) => [
    String(m.minute),
    f(m.source.rssMedianMiB),
    f(m.sink.rssMedianMiB),
    `${f(m.source.elP99MedianMs)} / ${f(m.source.elP99MaxMs)}`,
    `${f(m.sink.elP99MedianMs)} / ${f(m.sink.elP99MaxMs)}`,
    f(m.source.cpuMedianPct, 0),
    f(m.sink.cpuMedianPct, 0),
    f(m.sink.acceptedPerS, 0),
  ]);
  process.stdout.write(`\nSoak: our source at ${a.rate}/s (-d -s ${a.sessions}) against our sink for ${a.durationS} s\n`);
  process.stdout.write('RSS: median of the 1 s samples; EL p99: median / max of the 1 s prom-client scrapes; CPU: median of 1 s, % of one core\n\n');
  process.stdout.write(a.markdown ? markdownTable(head, rows) : textTable(head, rows));
  process.stdout.write('\n');
  for (const who of ['source', 'sink']) {
    const v = leak[who];
    process.stdout.write(`${who}: RSS ${v.firstMedianMiB} → ${v.lastMedianMiB} MiB (${v.growthPct >= 0 ? '+' : ''}${v.growthPct} %), slope ${v.slopeMiBPerMin} MiB/min, peak ${v.peakRssMiB} MiB: ${v.verdict}\n`);
  }
  process.stdout.write(`rule: ${leak.rule}${leak.note ? ` (${leak.note})` : ''}\n`);
  if (leak.secondHalf) {
    for (const who of ['source', 'sink']) {
      const v = leak.secondHalf[who];
      process.stdout.write(`${who}, second half (from ${leak.secondHalf.from} s): RSS ${v.firstMedianMiB} → ${v.lastMedianMiB} MiB (${v.growthPct >= 0 ? '+' : ''}${v.growthPct} %), slope ${v.slopeMiBPerMin} MiB/min: ${v.verdict}\n`);
    }
  }
  process.stdout.write(
    `messages: offered ${offered}, scheduled ${summary.scheduled}, not started ${summary.notStarted}, sent ${summary.sent}, accepted ${summary.accepted} (sink: ${summary.sinkAccepted}), ` +
      `rejected ${summary.rejected}, failed ${summary.failed}; late starts ${summary.lateStarts}\n`,
  );
  process.stdout.write(`source errors ${JSON.stringify(summary.sourceErrors)}, fatal ${JSON.stringify(summary.sourceFatal)}; sink ${JSON.stringify(sinkErrors)}\n`);
  if (summary.generator) process.stdout.write(`source generator (whole run): event-loop delay p50 ${summary.generator.eventLoopDelayMs.p50} ms, p99 ${summary.generator.eventLoopDelayMs.p99} ms, max ${summary.generator.eventLoopDelayMs.max} ms; CPU mean ${summary.generator.cpuPercent.mean} %, saturated ${summary.generator.saturated}\n`);

  finishMeta(meta, started);
  const file = writeResults('soak', started, a.out, {
    meta,
    options: { rate: a.rate, durationS: a.durationS, sessions: a.sessions, size: a.size, warmupS: a.warmupS, windowS: a.windowS, maxSlopeMiBPerMin: a.maxSlope, maxGrowthPct: a.maxGrowth },
    argv: { sink: sink.argv, source: source.argv },
    builds: { sink: sink.build, source: source.build },
    leak,
    summary,
    minutes,
    samples,
    sourceJson: src && { ...src, latency: undefined, correctedLatency: undefined, schedule: src.schedule && { ...src.schedule, lateStarts: src.schedule.lateStarts && { ...src.schedule.lateStarts, encoded: undefined }, stages: undefined } },
    sinkJson: snk,
  });
  note(`results: ${file}`);
  if (sourceExit.code !== 0) process.exitCode = 1;
}

main().catch((e) => {
  note(e.stack ?? String(e));
  process.exit(1);
});
