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
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem, loadavg, release, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

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
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) die(`${flag} needs a value`);
      return argv[++i];
    };
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
  }
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

function positiveInt(flag, s) {
  const n = Number(s);
  if (!Number.isInteger(n) || n <= 0) die(`${flag}: not a positive integer: ${s}`);
  return n;
}
function nonNegativeInt(flag, s) {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) die(`${flag}: not a non-negative integer: ${s}`);
  return n;
}
function die(msg) {
  process.stderr.write(`sink-vs-c: ${msg}\n`);
  process.exit(2);
}
function note(msg) {
  process.stderr.write(`sink-vs-c: ${msg}\n`);
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

// ---- /proc helpers ------------------------------------------------------------------------

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // getconf missing: Linux's USER_HZ is 100 everywhere we care about.
}

/** Fields of /proc/<pid>/stat after the "(comm)", 1-based as in proc(5). */
function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state).
  return (n) => Number(rest[n - 3]);
}
/** utime+stime of a process (all its threads), in seconds. */
function cpuSeconds(pid) {
  const f = statFields(pid);
  return (f(14) + f(15)) / clkTck;
}
/** cutime+cstime of this process: CPU of the children we have waited for, in seconds. */
function childCpuSeconds() {
  const f = statFields('self');
  return (f(16) + f(17)) / clkTck;
}
function statusKb(pid, key) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) : NaN;
}

/** Is something listening on 127.0.0.1:port (per /proc/net/tcp)? */
function listening(port) {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === want && f[3] === '0A') return true;
  }
  return false;
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- sinks --------------------------------------------------------------------------------

const asRoot = process.geteuid?.() === 0;
const userArgs = asRoot ? ['-u', 'root'] : [];
// Both programs need ~1000 descriptors for config 6; raise the soft limit if we may.
const RAISE_NOFILE = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true; exec "$0" "$@"';

function spawnWithFiles(cmd, args, opts) {
  return spawn('/bin/sh', ['-c', RAISE_NOFILE, cmd, ...args], opts);
}

/** Every child we started and have not seen exit, plus temp dirs: cleaned up on SIGINT/SIGTERM. */
const live = new Set();
const tempDirs = new Set();
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // Gone.
      }
    }
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    process.stderr.write(`sink-vs-c: ${sig}: stopped ${live.size} child process(es), removed temp dirs\n`);
    process.exit(130);
  });
}
function track(child) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

class SinkProc {
  constructor(kind, label) {
    this.kind = kind;
    this.label = label;
    this.stderr = '';
    this.exited = null;
  }

  async start(a, extraArgs, dumpDir, jsonFile) {
    const args = extraArgs.map((s) => (s === '{dump}' ? join(dumpDir, '%Y%m%d%H/%M.') : s));
    if (this.kind === 'c') {
      this.port = await freePort();
      this.argv = [a.cSink, ...userArgs, ...args, `127.0.0.1:${this.port}`, '1000'];
    } else {
      this.argv = [process.execPath, a.ourSink, ...userArgs, ...args, '--json', jsonFile, '127.0.0.1:0', '1000'];
    }
    this.child = track(spawnWithFiles(this.argv[0], this.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] }));
    this.pid = this.child.pid; // sh execs the sink, so the PID is the sink's
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d) => {
      if (this.stderr.length < 100000) this.stderr += d;
    });
    this.exitedP = new Promise((r) => this.child.once('exit', (code, signal) => r((this.exited = { code, signal }))));
    const deadline = Date.now() + 10000;
    for (;;) {
      if (this.exited) throw new Error(`${this.label} exited at start (${JSON.stringify(this.exited)}): ${this.stderr.trim()}`);
      if (this.kind === 'c' && listening(this.port)) break;
      if (this.kind === 'ours') {
        const m = this.stderr.match(/listening on 127\.0\.0\.1:(\d+)/);
        if (m) {
          this.port = Number(m[1]);
          break;
        }
      }
      if (Date.now() > deadline) throw new Error(`${this.label} did not start listening: ${this.stderr.trim()}`);
      await sleep(20);
    }
    // The PID must be the sink itself, not the shell (exec happened before it listened).
    const comm = readFileSync(`/proc/${this.pid}/comm`, 'utf8').trim();
    if (comm === 'sh') throw new Error(`${this.label}: PID ${this.pid} is still the shell`);
    this.idleRssKb = statusKb(this.pid, 'VmRSS');
    // Others may rebuild dist/ while we run: note which build each of our sinks loaded.
    if (this.kind === 'ours') this.build = distHash(a.ourSink);
    return this;
  }

  cpu() {
    return cpuSeconds(this.pid);
  }
  hwmKb() {
    return statusKb(this.pid, 'VmHWM');
  }

  async stop() {
    if (this.exited) return this.exited;
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    const t = setTimeout(() => {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // Gone.
      }
    }, 5000);
    const r = await this.exitedP;
    clearTimeout(t);
    return r;
  }
}

// ---- one smtp-source run ------------------------------------------------------------------

async function runSource(a, sink, sourceArgs, m) {
  const args = [...sourceArgs, '-m', String(m), `127.0.0.1:${sink.port}`];
  const cpu0 = sink.cpu();
  const child0 = childCpuSeconds();
  const t0 = process.hrtime.bigint();
  const child = track(spawnWithFiles(a.source, args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    if (stderr.length < 20000) stderr += d;
  });
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
    stderr: stderr.trim() || undefined,
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

function round(x, digits) {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((p, q) => p - q);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
function summarize(runs) {
  const good = runs.filter((r) => r.ok);
  const rates = good.map((r) => r.msgPerS);
  return {
    runs: runs.length,
    ok: good.length,
    msgPerS: { median: round(median(rates), 1), min: round(Math.min(...rates), 1), max: round(Math.max(...rates), 1) },
    sinkCpuS: round(median(good.map((r) => r.sinkCpuS)), 2),
    sinkCpuUsPerMsg: round(median(good.map((r) => r.sinkCpuUsPerMsg)), 1),
    sourceCpuS: round(median(good.map((r) => r.sourceCpuS)), 2),
  };
}
const fmtRate = (s) => (s.ok === 0 ? 'FAILED' : `${Math.round(s.msgPerS.median)} (${Math.round(s.msgPerS.min)}–${Math.round(s.msgPerS.max)})`);
const fmtMiB = (kb) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(1)}` : '?');

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

function textTable(rows) {
  const all = [HEAD, ...rows];
  const w = HEAD.map((_, i) => Math.max(...all.map((r) => [...r[i]].length)));
  const line = (r) => r.map((c, i) => c + ' '.repeat(w[i] - [...c].length)).join('  ');
  return [line(HEAD), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n') + '\n';
}
function markdownTable(rows) {
  const esc = (s) => s.replace(/\|/g, '\\|');
  return [`| ${HEAD.join(' | ')} |`, `|${HEAD.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n') + '\n';
}

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

/** The commit and whether packages/ has uncommitted changes: results belong to a build. */
function gitInfo() {
  try {
    const commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'packages'], { encoding: 'utf8' }).trim();
    return { commit, packagesDirty: dirty !== '' };
  } catch {
    return undefined;
  }
}
/** A short hash of the compiled JavaScript of our sink and core, to tell builds apart. */
function distHash(cli) {
  const h = createHash('sha256');
  for (const dir of [dirname(cli), join(root, 'packages/core/dist')]) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.js')).sort()) h.update(f).update(readFileSync(join(dir, f)));
  }
  return h.digest('hex').slice(0, 12);
}

function pick(o, keys) {
  const r = {};
  for (const k of keys) if (o[k] !== undefined) r[k] = o[k];
  return r;
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
    started: started.toISOString(),
    host: hostname(),
    kernel: release(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memTotalMiB: Math.round(totalmem() / 1048576),
    node: process.version,
    postfix: (() => {
      try {
        return execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'postfix'], { encoding: 'utf8' });
      } catch {
        return undefined;
      }
    })(),
    git: gitInfo(),
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
  meta.finished = new Date().toISOString();
  meta.elapsedS = round((Date.now() - started.getTime()) / 1000, 1);
  meta.loadavgEnd = loadavg().map((x) => round(x, 2));

  const complete = results.filter((r) => r.c && r.ours);
  const rows = tableRows(complete);
  process.stdout.write(`\nsmtp-sink: C (Postfix ${meta.postfix ?? '?'}) vs ours (node ${meta.node}), ${meta.started}, ${a.reps} rep(s) interleaved, ${meta.cpus} CPU(s)\n\n`);
  process.stdout.write(a.markdown ? markdownTable(rows) : textTable(rows));
  for (const r of complete) {
    if (r.dumpCheck) {
      process.stdout.write(`config ${r.id}: dump files per run: C ${r.dumpCheck.c.join(', ')}; ours ${r.dumpCheck.ours.join(', ')} (expected ${r.m} each): ${r.dumpCheck.ok ? 'ours OK' : 'ours MISMATCH'}\n`);
    }
  }
  const failures = results.flatMap((r) => r.failures.map((f) => ({ config: r.id, ...f })));
  for (const f of failures) process.stdout.write(`FAILURE config ${f.config}${f.sink ? ` ${f.sink}` : ''}${f.warmup ? ' (warm-up)' : ''}: ${f.error ?? `smtp-source exit ${f.exitCode}${f.signal ? ` signal ${f.signal}` : ''}: ${f.stderr ?? ''}`}\n`);
  process.stdout.write(`elapsed ${meta.elapsedS} s, load ${meta.loadavgStart.join(' ')} -> ${meta.loadavgEnd.join(' ')}\n`);

  const stamp = started.toISOString().replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z');
  const out = a.out ?? join(here, 'results', `sink-vs-c-${stamp}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ meta, results }, null, 2) + '\n');
  process.stdout.write(`results: ${out}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`sink-vs-c: ${err.stack ?? err}\n`);
  process.exit(1);
});
