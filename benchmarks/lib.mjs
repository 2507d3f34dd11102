// Helpers shared by the benchmark harnesses (sink-vs-c.mjs, source-vs-c.mjs).
// Plain Node ESM, no dependencies. Linux only: reads /proc.
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, loadavg, release, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const root = resolve(benchDir, '..');

// ---- messages and command-line helpers ----------------------------------------------------

let progName = 'bench';
/** The prefix of die() and note() messages (the script's name). */
export function setProgName(name) {
  progName = name;
}
export function die(msg) {
  process.stderr.write(`${progName}: ${msg}\n`);
  process.exit(2);
}
export function note(msg) {
  process.stderr.write(`${progName}: ${msg}\n`);
}
export function positiveInt(flag, s) {
  const n = Number(s);
  if (!Number.isInteger(n) || n <= 0) die(`${flag}: not a positive integer: ${s}`);
  return n;
}
export function nonNegativeInt(flag, s) {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) die(`${flag}: not a non-negative integer: ${s}`);
  return n;
}
/** Splits "--flag=value" into [flag, value]; other arguments into [arg, undefined]. */
export function splitFlag(arg) {
  return arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
}

/**
 * Walks argv: handle(flag, value, arg) for each word, where value() takes the flag's argument
 * (inline "--x=v" or the next word) and dies naming the flag when there is none.
 */
export function eachFlag(argv, handle) {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = splitFlag(arg);
    const value = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length) die(`${flag} needs a value`);
      return argv[++i];
    };
    handle(flag, value, arg);
  }
}

// ---- /proc helpers ------------------------------------------------------------------------

export let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // getconf missing: Linux's USER_HZ is 100 everywhere we care about.
}

/** Fields of /proc/<pid>/stat after the "(comm)", 1-based as in proc(5). */
export function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state).
  return (n) => Number(rest[n - 3]);
}
/** utime+stime of a process (all its threads), in seconds. */
export function cpuSeconds(pid) {
  const f = statFields(pid);
  return (f(14) + f(15)) / clkTck;
}
/** cutime+cstime of this process: CPU of the children we have waited for, in seconds. */
export function childCpuSeconds() {
  const f = statFields('self');
  return (f(16) + f(17)) / clkTck;
}
export function statusKb(pid, key) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) : NaN;
}

/** Is something listening on 127.0.0.1:port (per /proc/net/tcp)? */
export function listening(port) {
  const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === want && f[3] === '0A') return true;
  }
  return false;
}

/** A free TCP port on 127.0.0.1: bind port 0, note what the kernel gave, close. */
export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- child processes ----------------------------------------------------------------------

export const asRoot = process.geteuid?.() === 0;
export const userArgs = asRoot ? ['-u', 'root'] : [];
// Both programs need ~1000 descriptors for 1000 sessions; raise the soft limit if we may.
const RAISE_NOFILE = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true; exec "$0" "$@"';

/** Spawns cmd through sh (to raise RLIMIT_NOFILE), which execs it: the child's PID is cmd's. */
export function spawnWithFiles(cmd, args, opts) {
  return spawn('/bin/sh', ['-c', RAISE_NOFILE, cmd, ...args], opts);
}

/** Every child we started and have not seen exit, plus temp dirs: cleaned up on SIGINT/SIGTERM. */
const live = new Set();
export const tempDirs = new Set();
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    for (const child of live) killChild(child, 'SIGKILL');
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    process.stderr.write(`${progName}: ${sig}: stopped ${live.size} child process(es), removed temp dirs\n`);
    process.exit(130);
  });
}
/**
 * Remembers a child until it exits. A child spawned with detached: true leads its own
 * process group; pass group = true and killChild() signals the whole group (e.g. a
 * /usr/bin/time wrapper and the program under it).
 */
export function track(child, group = false) {
  child.killGroup = group;
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}
export function killChild(child, sig) {
  try {
    if (child.killGroup) process.kill(-child.pid, sig);
    else child.kill(sig);
  } catch {
    // Gone.
  }
}

/**
 * A sink process: kind 'c' runs a.cSink on a free port it picks; kind 'ours' runs our sink's
 * cli.js (a.ourSink) on port 0 and reads the port it prints.
 */
/**
 * The node flags a bin's shebang asks for ("#!/usr/bin/env -S node --flag"), so that a script
 * run as `node script` gets what `smtp-sink` on PATH (npm's link, pnpm's shim) gets.
 */
export function shebangNodeFlags(script) {
  const first = readFileSync(script, 'utf8').split('\n', 1)[0];
  const m = /^#!.*\bnode\b(.*)$/.exec(first);
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}

/**
 * Keeps what a child writes to stderr, up to `limit` characters (a failing run's reason without
 * unbounded memory); returns a function that gives the text so far.
 */
export function keepStderr(child, limit) {
  let text = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    if (text.length < limit) text += d;
  });
  return () => text;
}

export class SinkProc {
  constructor(kind, label) {
    this.kind = kind;
    this.label = label;
    this.stderrText = () => '';
    this.exited = null;
  }

  get stderr() {
    return this.stderrText();
  }

  async start(a, extraArgs, dumpDir, jsonFile) {
    const args = extraArgs.map((s) => (s === '{dump}' ? join(dumpDir, '%Y%m%d%H/%M.') : s));
    if (this.kind === 'c') {
      this.port = await freePort();
      this.argv = [a.cSink, ...userArgs, ...args, `127.0.0.1:${this.port}`, '1000'];
    } else {
      this.argv = [process.execPath, ...shebangNodeFlags(a.ourSink), a.ourSink, ...userArgs, ...args, '--json', jsonFile, '127.0.0.1:0', '1000'];
    }
    this.child = track(spawnWithFiles(this.argv[0], this.argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] }));
    this.pid = this.child.pid; // sh execs the sink, so the PID is the sink's
    this.stderrText = keepStderr(this.child, 100000);
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

  /** SIGTERM by PID, SIGKILL after 5 s. */
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

// ---- statistics and formatting ------------------------------------------------------------

export function round(x, digits) {
  if (!Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
export function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((p, q) => p - q);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
/** { median, min, max } of the finite values, rounded. */
export function spread(xs, digits = 1) {
  const v = xs.filter((x) => Number.isFinite(x));
  return { median: round(median(v), digits), min: round(Math.min(...v), digits), max: round(Math.max(...v), digits) };
}
/** "median (min–max)" of a rate summary, or FAILED when no run succeeded. */
/**
 * A summary of interleaved runs: how many, how many succeeded, their msg/s spread and, for each
 * field of `medians`, its median over the good runs rounded to that many digits. Returns the
 * good runs too, for totals of the caller's own.
 */
export function summarizeRuns(runs, medians) {
  const good = runs.filter((r) => r.ok);
  const summary = { runs: runs.length, ok: good.length, msgPerS: spread(good.map((r) => r.msgPerS)) };
  for (const [field, digits] of Object.entries(medians)) summary[field] = round(median(good.map((r) => r[field])), digits);
  return { summary, good };
}

/** TLS handshakes and resumptions added up over runs (undefined when none used TLS). */
export function tlsTotals(good) {
  if (!good.some((r) => r.tls)) return undefined;
  return { handshakes: good.reduce((n, r) => n + (r.tls?.handshakes ?? 0), 0), resumed: good.reduce((n, r) => n + (r.tls?.resumed ?? 0), 0) };
}

export const fmtRate = (s) => (s.ok === 0 ? 'FAILED' : `${Math.round(s.msgPerS.median)} (${Math.round(s.msgPerS.min)}–${Math.round(s.msgPerS.max)})`);
export const fmtMiB = (kb) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(1)}` : '?');

export function textTable(head, rows) {
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => [...r[i]].length)));
  const line = (r) => r.map((c, i) => c + ' '.repeat(w[i] - [...c].length)).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n') + '\n';
}
export function markdownTable(head, rows) {
  const esc = (s) => s.replace(/\|/g, '\\|');
  return [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n') + '\n';
}

// ---- provenance ---------------------------------------------------------------------------

/** The commit and whether packages/ has uncommitted changes: results belong to a build. */
export function gitInfo() {
  try {
    const commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--', 'packages'], { encoding: 'utf8' }).trim();
    return { commit, packagesDirty: dirty !== '' };
  } catch {
    return undefined;
  }
}
/** A short hash of the compiled JavaScript next to cli (its package's dist/) and of core, to tell builds apart. */
export function distHash(cli) {
  const h = createHash('sha256');
  for (const dir of [dirname(cli), join(root, 'packages/core/dist')]) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.js')).sort()) h.update(f).update(readFileSync(join(dir, f)));
  }
  return h.digest('hex').slice(0, 12);
}

export function pick(o, keys) {
  const r = {};
  for (const k of keys) if (o[k] !== undefined) r[k] = o[k];
  return r;
}

/** The machine, the software versions, the commit and the load average at the start. */
export function machineMeta(started) {
  return {
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
  };
}

/** Stamps the end of the run into meta. */
export function finishMeta(meta, started) {
  meta.finished = new Date().toISOString();
  meta.elapsedS = round((Date.now() - started.getTime()) / 1000, 1);
  meta.loadavgEnd = loadavg().map((x) => round(x, 2));
}

/** Writes { meta, results } to out, or to results/<name>-<timestamp>.json; returns the path. */
export function writeResults(name, started, out, data) {
  const stamp = started.toISOString().replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z');
  const file = out ?? join(benchDir, 'results', `${name}-${stamp}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}
