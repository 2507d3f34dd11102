// Part of the testbed: real peers on loopback for the tests, the demo and benchmarks. This file
// holds the private directories the peers live in (config, queue, logs, mail) and the file
// chores around them.
//
// Traps met here:
// - The private directory must be traversable by postfix (and by nobody for Dovecot's
//   Maildirs): mkdtemp makes it 0700, so chmod 0755, and its parent must be world-searchable.
// - Postfix waits for a configuration file that was modified in the last second or so to
//   settle (it re-reads main.cf every 300 ms until its mtime is old enough): a freshly written
//   main.cf made `postfix start` take 2.5-3 s instead of 0.4 s. backdate() the files.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

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
export function backdate(path: string): void {
  const t = new Date(Date.now() - 60_000);
  utimesSync(path, t, t);
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}

/** A file's text, or '' when it is not there (yet). */
export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
