// Real peers for the interop tests: a private Postfix and a private Dovecot LMTP server, each
// in a fresh temporary directory, listening on 127.0.0.1 at a port the system picked, with no
// change under /etc and nothing leaving the box. The recipes and their traps are in
// ../shared/spec/reporter-notes.md section 1 and ../shared/fixtures/maillog/README.md.
//
// Traps met while writing these (beyond the notes):
// - Postfix waits for a configuration file that was modified in the last second or so to
//   settle (it re-reads main.cf every 300 ms until its mtime is old enough): a freshly written
//   main.cf made `postfix start` take 2.5-3 s instead of 0.4 s. We back-date the files.
// - The private directory must be traversable by postfix (and by nobody for Dovecot's
//   Maildirs): mkdtemp makes it 0700, so chmod 0755, and its parent must be world-searchable.
// - Daemonised masters are re-parented to pid 1, which here (a Firecracker VM whose init is
//   not a shell) reaps them late: after a stop the pid lingers as a zombie for a while, so
//   "kill -0 succeeds" does not mean "still running"; we read /proc/PID/stat instead.
// - Without `alias_maps =` Postfix's smtpd logs `open database /etc/aliases.db` and NIS
//   warnings on every start (the default maps point at the system's files).
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { peer } from '../../smtp-sink/test/helpers.js';

export const LOOPBACK = '127.0.0.1';

// ---- environment --------------------------------------------------------------------------

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Whether the private-Postfix tests can run here. They need the postfix and postconf programs,
 * Postfix's master.cf template and root (queue directories belong to postfix). Outside CI a
 * missing piece skips them (returns false); with CI set it is an error, as .ci/run installs
 * everything and runs as root.
 */
export function postfixAvailable(): boolean {
  const postfix = program('postfix');
  const postconf = program('postconf');
  return postfix !== undefined && postconf !== undefined && need('postfix', existsSync(MASTER_CF_DIST), `${MASTER_CF_DIST} is missing`) && need('postfix', isRoot(), 'the tests must run as root');
}

/** Whether the private-Dovecot tests can run here (the dovecot program, root); as postfixAvailable(). */
export function dovecotAvailable(): boolean {
  return program('dovecot') !== undefined && need('dovecot', isRoot(), 'the tests must run as root');
}

const programs = new Map<string, string | undefined>();

/** A peer's full path (PATH, or /usr/sbin when PATH lacks it), looked up once; see peer(). */
function program(name: string): string | undefined {
  if (!programs.has(name)) programs.set(name, peer(name));
  return programs.get(name);
}

/** The full path of a program the servers need, or the bare name (then exec reports ENOENT). */
function bin(name: string): string {
  return program(name) ?? name;
}

function need(what: string, ok: boolean, why: string): boolean {
  if (ok) return true;
  if (process.env.CI) throw new Error(`${what}: ${why}`);
  return false;
}

// ---- small tools --------------------------------------------------------------------------

/** A port that was free a moment ago: bind 127.0.0.1:0, read the port back, close. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, resolve);
  });
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
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

async function execOk(cmd: string, args: string[], timeoutMs?: number): Promise<ExecResult> {
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

/** Resolves once a connection to host:port is accepted and the server says something. */
export async function waitForBanner(port: number, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const banner = await new Promise<string | undefined>((resolve) => {
      const s = connect(port, LOOPBACK);
      const t = setTimeout(() => done(undefined), 1000);
      function done(v: string | undefined): void {
        clearTimeout(t);
        s.destroy();
        resolve(v);
      }
      s.once('data', (d) => done(d.toString('latin1')));
      s.once('error', () => done(undefined));
      s.once('close', () => done(undefined));
    });
    if (banner !== undefined) return banner;
    if (Date.now() > deadline) throw new Error(`nothing answers on ${LOOPBACK}:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function ids(user: string): { uid: number; gid: number } {
  const uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || spawnSync('id', [user]).status !== 0) throw new Error(`no user ${user}`);
  return { uid, gid };
}

/**
 * A fresh private directory, mode 0755, under a parent every user can search (the daemons run
 * as postfix, dovecot and nobody). os.tmpdir() unless some ancestor of it is not world-
 * searchable (TMPDIR=/root/tmp, say), then /tmp. Kept short: Postfix puts unix sockets in it.
 */
export function privateDir(prefix: string): string {
  let base = tmpdir();
  const searchable = (p: string): boolean => {
    for (let d = p; ; d = dirname(d)) {
      if ((statSync(d).mode & 0o001) === 0) return false;
      if (dirname(d) === d) return true;
    }
  };
  if (base.length > 40 || !searchable(base)) base = '/tmp';
  const dir = mkdtempSync(join(base, prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/** Sets a file's times a minute back, so that daemons take it as settled. */
function backdate(path: string): void {
  const t = new Date(Date.now() - 60_000);
  utimesSync(path, t, t);
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
function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // ESRCH: gone already.
  }
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

// ---- Postfix ------------------------------------------------------------------------------

const MASTER_CF_DIST = '/usr/share/postfix/master.cf.dist';

export interface PostfixSetup {
  /** main.cf settings added to (or replacing) the defaults below. */
  main?: Record<string, string>;
  /**
   * More smtpd listeners on their own ephemeral ports: name -> `-o` overrides (e.g.
   * `{ smtpd_discard_ehlo_keywords: 'pipelining' }`). Their ports are in `ports[name]`.
   */
  listeners?: Record<string, Record<string, string>>;
}

export interface PrivatePostfix {
  /** The private directory: etc/, queue/, data/, log/. */
  dir: string;
  /** What goes after `postfix -c` / `postconf -c`. */
  configDir: string;
  /** The plain smtpd's port on 127.0.0.1. */
  port: number;
  /** Ports of the extra listeners, by name. */
  ports: Record<string, number>;
  /** Path of the maillog_file. */
  maillog: string;
  /** The maillog so far ('' before postlogd has written anything). */
  log(): string;
  /** The maillog parsed. */
  records(): MaillogRecord[];
  /** Waits until cond(records) holds; fails with the log's tail after timeoutMs. */
  waitForLog(what: string, cond: (records: MaillogRecord[]) => boolean, timeoutMs?: number): Promise<MaillogRecord[]>;
  /** `postfix -c DIR stop`, waits for the master to go, removes the directory. */
  stop(): Promise<void>;
}

/**
 * A private Postfix: `inet_interfaces = loopback-only`, smtpd on 127.0.0.1:<ephemeral>, no
 * port 25, logging to its own maillog_file through postlogd, long queue ids, and every
 * message delivered by `discard:benchmark` (override default_transport to relay instead).
 * Takes about 0.4 s to start.
 */
export async function startPrivatePostfix(setup: PostfixSetup = {}): Promise<PrivatePostfix> {
  const dir = privateDir('pfx-');
  const etc = join(dir, 'etc');
  const maillog = join(dir, 'log', 'maillog');
  let started = false;
  const stop = async (): Promise<void> => {
    try {
      if (started) {
        const pid = readPid(join(dir, 'queue', 'pid', 'master.pid'));
        await exec(bin('postfix'), ['-c', etc, 'stop'], 10000);
        if (pid !== undefined) {
          await waitUntil('the Postfix master to exit', () => !alive(pid), 5000).catch(() => kill(pid, 'SIGKILL'));
        }
        started = false;
      }
    } finally {
      removeDir(dir);
    }
  };
  try {
    for (const d of ['etc', 'queue', 'data', 'log']) mkdirSync(join(dir, d));
    const postfixUser = ids('postfix');
    chownSync(join(dir, 'data'), postfixUser.uid, postfixUser.gid); // else master.lock: Permission denied
    copyFileSync(MASTER_CF_DIST, join(etc, 'master.cf'));
    const main: Record<string, string> = {
      compatibility_level: '3.6',
      queue_directory: join(dir, 'queue'),
      data_directory: join(dir, 'data'),
      mail_owner: 'postfix',
      setgid_group: 'postdrop',
      myhostname: 'mx.example.test',
      mydomain: 'example.test',
      inet_interfaces: 'loopback-only',
      inet_protocols: 'ipv4',
      mynetworks: '127.0.0.0/8',
      mydestination: '',
      alias_maps: '',
      alias_database: '',
      smtpd_relay_restrictions: 'permit_mynetworks, reject',
      default_transport: 'discard:benchmark',
      enable_long_queue_ids: 'yes',
      smtp_tls_security_level: 'none',
      smtpd_tls_security_level: 'none',
      maillog_file: maillog,
      maillog_file_prefixes: dir,
      ...setup.main,
    };
    writeFileSync(join(etc, 'main.cf'), Object.entries(main).map(([k, v]) => `${k} = ${v}\n`).join(''));
    await execOk(bin('postconf'), ['-c', etc, '-F', '*/*/chroot = n']); // nothing to copy into a chroot
    await execOk(bin('postconf'), ['-c', etc, '-M#', 'smtp/inet']); // no listener on port 25
    const port = await freePort();
    const ports: Record<string, number> = {};
    const services = [`${LOOPBACK}:${port}/inet = ${LOOPBACK}:${port} inet n - n - - smtpd`];
    for (const [name, overrides] of Object.entries(setup.listeners ?? {})) {
      const p = (ports[name] = await freePort());
      const o = Object.entries(overrides).map(([k, v]) => (/\s/.test(v) ? ` -o { ${k} = ${v} }` : ` -o ${k}=${v}`));
      services.push(`${LOOPBACK}:${p}/inet = ${LOOPBACK}:${p} inet n - n - - smtpd -o syslog_name=postfix/${name}${o.join('')}`);
    }
    await execOk(bin('postconf'), ['-c', etc, '-Me', ...services]);
    backdate(join(etc, 'main.cf'));
    backdate(join(etc, 'master.cf'));
    started = true;
    const r = await exec(bin('postfix'), ['-c', etc, 'start'], 15000);
    if (r.code !== 0) throw new Error(`postfix -c ${etc} start exited ${r.code ?? r.signal}\n${r.stdout}${r.stderr}\nmaillog:\n${readText(maillog)}`);
    await waitForBanner(port);
    for (const p of Object.values(ports)) await waitForBanner(p);
    const pf: PrivatePostfix = {
      dir,
      configDir: etc,
      port,
      ports,
      maillog,
      log: () => readText(maillog),
      records: () => parseMaillog(readText(maillog)),
      async waitForLog(what, cond, timeoutMs = 15000) {
        let records: MaillogRecord[] = [];
        await waitUntil(
          what,
          () => cond((records = pf.records())),
          timeoutMs,
          () => `maillog tail:\n${pf.log().split('\n').slice(-40).join('\n')}`,
          100,
        );
        return records;
      },
      stop,
    };
    return pf;
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

// ---- the maillog --------------------------------------------------------------------------

export interface MaillogRecord {
  /** The program: the tag's part after the last '/' (smtpd, cleanup, qmgr, discard, ...). */
  program: string;
  /** The whole tag, e.g. postfix/nopipe/smtpd. */
  tag: string;
  pid: number;
  /** The queue id (or NOQUEUE) the text starts with, if any. */
  queueId?: string;
  /** The text after the tag (and after the queue id, when there is one). */
  text: string;
  line: string;
}

const RECORD = /^\S+ +\d+ \d\d:\d\d:\d\d \S+ (\S+)\[(\d+)\]: (.*)$/;
const NOT_IDS = new Set(['warning', 'error', 'fatal', 'panic', 'statistics']);

/** Parses a maillog_file (postlogd form: `Mmm dd hh:mm:ss host tag[pid]: text`). */
export function parseMaillog(text: string): MaillogRecord[] {
  const out: MaillogRecord[] = [];
  for (const line of text.split('\n')) {
    const m = RECORD.exec(line);
    if (!m) continue;
    const [, tag, pid, rest] = m;
    const id = /^([0-9A-Za-z]+): (.*)$/.exec(rest);
    const queueId = id && !NOT_IDS.has(id[1]) ? id[1] : undefined;
    out.push({ program: tag.slice(tag.lastIndexOf('/') + 1), tag, pid: Number(pid), queueId, text: queueId !== undefined ? id![2] : rest, line });
  }
  return out;
}

export interface Delivery {
  program: string;
  to: string;
  relay: string;
  dsn: string;
  status: string;
  /** The parenthesis after the status. */
  detail: string;
}

/** One queued message's life as the log tells it. */
export interface LoggedMessage {
  queueId: string;
  client?: string;
  messageId?: string;
  from?: string;
  size?: number;
  nrcpt?: number;
  deliveries: Delivery[];
  removed: boolean;
}

/** Groups the records by queue id (NOQUEUE left out). */
export function messagesByQueueId(records: MaillogRecord[]): Map<string, LoggedMessage> {
  const out = new Map<string, LoggedMessage>();
  for (const r of records) {
    if (r.queueId === undefined || r.queueId === 'NOQUEUE') continue;
    let m = out.get(r.queueId);
    if (m === undefined) out.set(r.queueId, (m = { queueId: r.queueId, deliveries: [], removed: false }));
    let x: RegExpExecArray | null;
    if (r.program === 'smtpd' && (x = /^client=(\S+)/.exec(r.text))) m.client = x[1];
    else if (r.program === 'cleanup' && (x = /^message-id=(.*)$/.exec(r.text))) m.messageId = x[1];
    else if (r.program === 'qmgr' && (x = /^from=<(.*?)>, size=(\d+), nrcpt=(\d+) /.exec(r.text))) {
      m.from = x[1];
      m.size = Number(x[2]);
      m.nrcpt = Number(x[3]);
    } else if (r.program === 'qmgr' && r.text === 'removed') m.removed = true;
    else if ((x = /^to=<(.*?)>, (?:orig_to=<.*?>, )?relay=([^,]+), .*?dsn=([\d.]+), status=(\S+) \((.*)\)$/.exec(r.text))) {
      m.deliveries.push({ program: r.program, to: x[1], relay: x[2], dsn: x[3], status: x[4], detail: x[5] });
    }
  }
  return out;
}

/**
 * Postfix's long queue id (enable_long_queue_ids = yes): base-52 seconds and microseconds,
 * 'z', the inode in base 51. The time digits may be 'z' too (4jbSBs3xnzzJ9YF), unlike what
 * reporter-notes.md section 2's pattern says; only the inode part excludes it.
 */
export const LONG_QUEUE_ID = /^[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]+$/;

// ---- Dovecot LMTP -------------------------------------------------------------------------

export interface PrivateDovecot {
  dir: string;
  /** The LMTP listener's port on 127.0.0.1. */
  port: number;
  /** Homes are `${mailRoot}/<local part>`, mail in `<home>/Maildir`. */
  mailRoot: string;
  logPath: string;
  /** Dovecot's own log so far. */
  log(): string;
  /** Files in each user's Maildir new/ and cur/, by local part. */
  maildirs(): Map<string, string[]>;
  /** Kills the master by the pid in base_dir/master.pid, waits for it, removes the directory. */
  stop(): Promise<void>;
}

/**
 * A private Dovecot speaking LMTP only, on 127.0.0.1:<ephemeral>: every user exists (static
 * userdb, allow_all_users) and gets a Maildir under the private directory, owned by nobody.
 */
export async function startPrivateDovecotLmtp(): Promise<PrivateDovecot> {
  const dir = privateDir('dvc-');
  const conf = join(dir, 'dovecot.conf');
  const mailRoot = join(dir, 'mail');
  const logPath = join(dir, 'log', 'dovecot.log');
  const pidFile = join(dir, 'run', 'master.pid');
  let started = false;
  const stop = async (): Promise<void> => {
    try {
      const pid = started ? readPid(pidFile) : undefined;
      if (pid !== undefined && alive(pid)) {
        kill(pid, 'SIGTERM');
        await waitUntil('the Dovecot master to exit', () => !alive(pid), 5000).catch(() => kill(pid, 'SIGKILL'));
      }
      started = false;
    } finally {
      removeDir(dir);
    }
  };
  try {
    for (const d of ['run', 'state', 'log', 'mail']) mkdirSync(join(dir, d));
    const nobody = ids('nobody');
    chownSync(mailRoot, nobody.uid, nobody.gid);
    const port = await freePort();
    writeFileSync(
      conf,
      `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${logPath}
protocols = lmtp
listen = ${LOOPBACK}
ssl = no
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:~/Maildir
# Required even for LMTP only: without a passdb the auth process dies and every RCPT
# gets "451 4.3.0 Temporary internal error".
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=${nobody.uid} gid=${nobody.gid} home=${mailRoot}/%n allow_all_users=yes
}
service lmtp {
  inet_listener lmtp {
    address = ${LOOPBACK}
    port = ${port}
  }
}
`,
    );
    backdate(conf);
    started = true;
    const r = await exec(bin('dovecot'), ['-c', conf], 15000);
    if (r.code !== 0) throw new Error(`dovecot -c ${conf} exited ${r.code ?? r.signal}\n${r.stdout}${r.stderr}\n${readText(logPath)}`);
    await waitForBanner(port);
    return {
      dir,
      port,
      mailRoot,
      logPath,
      log: () => readText(logPath),
      maildirs() {
        const out = new Map<string, string[]>();
        for (const user of existsSync(mailRoot) ? readdirSync(mailRoot) : []) {
          const files: string[] = [];
          for (const sub of ['new', 'cur']) {
            const d = join(mailRoot, user, 'Maildir', sub);
            if (existsSync(d)) for (const f of readdirSync(d)) files.push(join(d, f));
          }
          out.set(user, files);
        }
        return out;
      },
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

// ---- a wire recorder ----------------------------------------------------------------------

export interface WireRecorder {
  port: number;
  /** What each client wrote, one entry per chunk read, per connection. */
  chunks: string[][];
  close(): Promise<void>;
}

/**
 * A TCP relay on 127.0.0.1:<ephemeral> to `targetPort` that records the client's bytes as
 * they arrive: one write of a pipelined batch shows up as one chunk on loopback.
 */
export async function wireRecorder(targetPort: number): Promise<WireRecorder> {
  const chunks: string[][] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const mine: string[] = [];
    chunks.push(mine);
    const upstream = connect(targetPort, LOOPBACK);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d) => {
      mine.push(d.toString('latin1'));
      upstream.write(d);
    });
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return {
    port: (server.address() as { port: number }).port,
    chunks,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
