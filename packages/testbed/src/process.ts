// Part of the testbed: real peers on loopback for the tests, the demo and benchmarks. This file
// holds the process plumbing every peer needs: finding the peer's programs, running them to
// their exit, polling for a condition, and telling a live daemon from a dead one.
//
// A trap met here: daemonised masters are re-parented to pid 1, which on some machines (a
// Firecracker VM whose init is not a shell) reaps them late. After a stop the pid lingers as a
// zombie for a while, so "kill -0 succeeds" does not mean "still running"; alive() reads
// /proc/PID/stat instead.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * The full path of a peer program, or undefined. PATH is searched, then /usr/sbin and
 * /usr/local/sbin (daemons live there and a user's PATH often lacks them). Our own bins
 * (node_modules/.bin, which pnpm puts first on PATH) never count as a peer: they hold an
 * smtp-sink and an smtp-source of ours.
 */
function findProgram(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':').filter((d) => d !== '' && !d.includes('node_modules'));
  for (const dir of [...dirs, '/usr/sbin', '/usr/local/sbin']) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  return undefined;
}

const programs = new Map<string, string | undefined>();

/** A peer's full path, looked up once (see findProgram). */
export function program(name: string): string | undefined {
  if (!programs.has(name)) programs.set(name, findProgram(name));
  return programs.get(name);
}

/** The full path of a program the servers need, or the bare name (then exec reports ENOENT). */
export function bin(name: string): string {
  return program(name) ?? name;
}

/**
 * Whether a peer's requirement holds. Outside CI a missing piece makes the peer unavailable
 * (its tests are skipped); with CI set it is an error, as .ci/run installs everything and runs
 * as root.
 */
export function need(what: string, ok: boolean, why: string): boolean {
  if (ok) return true;
  if (process.env.CI) throw new Error(`${what}: ${why}`);
  return false;
}

/** A user's uid and gid (the daemons' own users: postfix, dovecot, nobody). */
export function ids(user: string): { uid: number; gid: number } {
  const uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || spawnSync('id', [user]).status !== 0) throw new Error(`no user ${user}`);
  return { uid, gid };
}

export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to its exit. Resolves on 'exit', not 'close': a daemon it starts may keep
 * our stdout/stderr pipes open for its whole life.
 */
export async function exec(cmd: string, args: string[], timeoutMs = 15000): Promise<ExecResult> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, s) => resolve([c, s]));
  });
  clearTimeout(timer);
  // Let buffered output arrive, then stop listening: a daemon may hold the pipes.
  await new Promise((r) => setTimeout(r, 10));
  child.stdout.destroy();
  child.stderr.destroy();
  return { code, signal, stdout, stderr };
}

/** exec(), failing unless the program exits 0. */
export async function execOk(cmd: string, args: string[], timeoutMs?: number): Promise<ExecResult> {
  const r = await exec(cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code ?? r.signal}\n${r.stdout}${r.stderr}`);
  return r;
}

/** Polls cond() every `everyMs` until it holds; throws with detail() after timeoutMs. */
export async function waitUntil(what: string, cond: () => boolean, timeoutMs = 5000, detail?: () => string, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** True while `pid` is a live process (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Signals a process we started; one that is already gone is fine. */
export function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: gone already.
  }
}

/** The pid in a daemon's pid file (first word), or undefined. */
export function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}
