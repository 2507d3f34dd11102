// Part of the testbed: real peers on loopback for the tests, the demo and benchmarks. This file
// starts a private Postfix in a fresh temporary directory (its own main.cf, master.cf, queue
// and maillog_file), listening on 127.0.0.1 at ports the system picked, with no change under
// /etc and nothing leaving the box. The recipes and their traps are in
// ../shared/spec/reporter-notes.md section 1 and ../shared/fixtures/maillog/README.md; the
// ones met beyond those are in files.ts and process.ts, plus: without `alias_maps =` Postfix's
// smtpd logs `open database /etc/aliases.db` and NIS warnings on every start (the default maps
// point at the system's files).
import { chownSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backdate, privateDir, readText, removeDir } from './files.js';
import { parseMaillog, type MaillogRecord } from './maillog-lite.js';
import { freePort, LOOPBACK, waitForBanner } from './net.js';
import { alive, bin, exec, execOk, ids, isRoot, kill, need, program, readPid, waitUntil } from './process.js';

const MASTER_CF_DIST = '/usr/share/postfix/master.cf.dist';

/**
 * Why a private Postfix cannot start here, or undefined when it can. It needs the postfix and
 * postconf programs, Postfix's master.cf template and root (queue directories belong to
 * postfix).
 */
export function postfixMissing(): string | undefined {
  if (program('postfix') === undefined) return 'the postfix program is not installed';
  if (program('postconf') === undefined) return 'the postconf program is not installed';
  if (!existsSync(MASTER_CF_DIST)) return `${MASTER_CF_DIST} is missing`;
  if (!isRoot()) return 'not running as root';
  return undefined;
}

/**
 * Whether a private Postfix can start here (see postfixMissing). Outside CI a missing piece
 * returns false (the tests that need it are skipped); with CI set it is an error, as .ci/run
 * installs everything and runs as root.
 */
export function postfixAvailable(): boolean {
  const why = postfixMissing();
  return need('postfix', why === undefined, why ?? '');
}

/**
 * main.cf settings for a private Postfix that relays: its smtp client gives up in seconds, not
 * Postfix's default minutes, and a deferred message is retried within a second or two. Tests,
 * the demo and benchmarks stay bounded even when the far end misbehaves or is gone.
 */
export const QUICK_RELAY_SETTINGS: Readonly<Record<string, string>> = Object.freeze({
  queue_run_delay: '1s',
  minimal_backoff_time: '1s',
  maximal_backoff_time: '2s',
  smtp_connect_timeout: '2s',
  smtp_helo_timeout: '5s',
  smtp_mail_timeout: '5s',
  smtp_rcpt_timeout: '5s',
  smtp_data_init_timeout: '5s',
  smtp_data_xfer_timeout: '5s',
  smtp_data_done_timeout: '5s',
  smtp_quit_timeout: '2s',
  smtp_rset_timeout: '2s',
});

export interface PostfixSetup {
  /** main.cf settings added to (or replacing) the defaults below. */
  main?: Record<string, string>;
  /**
   * More smtpd listeners on their own ephemeral ports: name -> `-o` overrides (e.g.
   * `{ smtpd_discard_ehlo_keywords: 'pipelining' }`). Their ports are in `ports[name]`.
   */
  listeners?: Record<string, Record<string, string>>;
  /**
   * main.cf settings that need the ports picked at start (e.g. a content_filter pointing at
   * one of the extra listeners): called once every port is known, applied with `postconf -e`
   * after `main`, so it wins over both the defaults and `main`.
   */
  mainWithPorts?: (ports: { port: number; ports: Record<string, number> }) => Record<string, string>;
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
    const late = setup.mainWithPorts?.({ port, ports }) ?? {};
    if (Object.keys(late).length > 0) await execOk(bin('postconf'), ['-c', etc, '-e', ...Object.entries(late).map(([k, v]) => `${k} = ${v}`)]);
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
