// Part of the testbed: real peers on loopback for the tests, the demo and benchmarks. This file
// starts a private Dovecot that speaks LMTP only, in a fresh temporary directory, on 127.0.0.1
// at a port the system picked, with no change under /etc; or one that runs its auth service only,
// on a unix socket, for Postfix's smtpd SASL (smtpd_sasl_type = dovecot).
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backdate, privateDir, readText, removeDir } from './files.js';
import { freePort, LOOPBACK, waitForBanner } from './net.js';
import { alive, bin, exec, ids, isRoot, kill, need, program, readPid, waitUntil } from './process.js';

/** Whether a private Dovecot can start here (the dovecot program, root); as postfixAvailable(). */
export function dovecotAvailable(): boolean {
  return need('dovecot', program('dovecot') !== undefined, 'the dovecot program is not installed') && need('dovecot', isRoot(), 'not running as root');
}

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
 * A private Dovecot master run from `conf` in `dir`: start() runs `dovecot -c conf`; stop()
 * ends the master by its pid file (SIGTERM, SIGKILL after 5 s) and removes the directory.
 */
function dovecotMaster(dir: string, conf: string, logPath: string): { start(): Promise<void>; stop(): Promise<void> } {
  const pidFile = join(dir, 'run', 'master.pid');
  let started = false;
  return {
    async start() {
      backdate(conf);
      started = true;
      const r = await exec(bin('dovecot'), ['-c', conf], 15000);
      if (r.code !== 0) throw new Error(`dovecot -c ${conf} exited ${r.code ?? r.signal}\n${r.stdout}${r.stderr}\n${readText(logPath)}`);
    },
    async stop() {
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
    },
  };
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
  const { start, stop } = dovecotMaster(dir, conf, logPath);
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
    await start();
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

export interface PrivateDovecotAuth {
  dir: string;
  /** The auth socket for Postfix (smtpd_sasl_type = dovecot, smtpd_sasl_path = this), mode 0666. */
  socketPath: string;
  logPath: string;
  /** Dovecot's own log so far. */
  log(): string;
  /** Kills the master by the pid in base_dir/master.pid, waits for it, removes the directory. */
  stop(): Promise<void>;
}

/**
 * A private Dovecot running its auth service only (no protocols, no listener on any port): the
 * given users with plaintext passwords (passwd-file, scheme PLAIN, so CRAM-MD5 works too),
 * mechanisms PLAIN, LOGIN and CRAM-MD5, on a unix socket Postfix's smtpd can use for SASL.
 * Failed logins are answered at once (auth_failure_delay = 0, no auth penalty), not after
 * Dovecot's usual 2 s and more for an address that failed before.
 * Passwords must not hold a colon.
 */
export async function startPrivateDovecotAuth(setup: { users: Record<string, string> }): Promise<PrivateDovecotAuth> {
  const dir = privateDir('dva-');
  const conf = join(dir, 'dovecot.conf');
  const passwd = join(dir, 'passwd');
  const logPath = join(dir, 'log', 'dovecot.log');
  const socketPath = join(dir, 'sasl', 'auth');
  const { start, stop } = dovecotMaster(dir, conf, logPath);
  try {
    for (const d of ['run', 'state', 'log', 'sasl']) mkdirSync(join(dir, d), { mode: 0o755 });
    for (const [user, password] of Object.entries(setup.users)) {
      if (/[:\n]/.test(user) || /[:\n]/.test(password)) throw new Error(`startPrivateDovecotAuth: no colon or newline in users or passwords (${user})`);
    }
    writeFileSync(passwd, Object.entries(setup.users).map(([u, p]) => `${u}:${p}\n`).join(''), { mode: 0o600 });
    const dovecotUser = ids('dovecot');
    chownSync(passwd, dovecotUser.uid, dovecotUser.gid); // the auth process runs as dovecot
    writeFileSync(
      conf,
      `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${logPath}
protocols =
ssl = no
default_internal_user = dovecot
default_login_user = dovenull
auth_mechanisms = plain login cram-md5
disable_plaintext_auth = no
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${passwd}
}
service auth {
  unix_listener ${socketPath} {
    mode = 0666
  }
}
# No auth penalty: without anvil's penalty socket (mode 0 = no listener) the auth process
# does not delay logins from an address that failed before (2 s, then 4, 8, up to 15 s).
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`,
    );
    await start();
    await waitUntil('the Dovecot auth socket', () => existsSync(socketPath), 10000, () => readText(logPath));
    return { dir, socketPath, logPath, log: () => readText(logPath), stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
