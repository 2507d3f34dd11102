// -u: drop root privileges after the socket is bound, as the C sink does (setgid,
// initgroups, setuid). Node has no getpwnam(), so the user is looked up in /etc/passwd.
import { readFileSync } from 'node:fs';
import { FatalError } from '@smtpstone/core';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

export function lookupUser(name: string, passwd = '/etc/passwd'): PasswdEntry | undefined {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return { name, uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

export function dropPrivileges(user: string): PasswdEntry {
  const entry = lookupUser(user);
  if (entry === undefined) throw new FatalError(`unknown user: ${user}`);
  try {
    // initgroups() is in Node but missing from @types/node.
    const posix = process as NodeJS.Process & { initgroups?: (user: string, group: number) => void };
    posix.setgid?.(entry.gid);
    posix.initgroups?.(entry.name, entry.gid);
    posix.setuid?.(entry.uid);
  } catch (err) {
    throw new FatalError(`cannot become user ${user}: ${(err as Error).message}`);
  }
  return entry;
}
