// Which disk holds a path (Postfix's queue_directory, a Maildir): sample that device rather
// than every disk. Climbs from the filesystem's device number to the whole disk via /sys.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Major and minor numbers of the device holding path (Linux dev_t encoding), or null. */
export function deviceNumbers(path: string): { major: number; minor: number } | null {
  try {
    const dev = statSync(path, { bigint: true }).dev;
    const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
    const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
    return { major: Number(major), minor: Number(minor) };
  } catch {
    return null;
  }
}

/**
 * The /proc/diskstats name of the whole disk holding path ('vda' for a file on vda1), or null
 * when it is not on a block device (tmpfs, overlayfs, NFS: major 0) or /sys is not there.
 * Device-mapper and md devices are returned as themselves (dm-0), not the disks beneath.
 */
export function diskOfPath(path: string, sysRoot = '/sys'): string | null {
  const nums = deviceNumbers(path);
  if (!nums || nums.major === 0) return null;
  try {
    // /sys/dev/block/254:1 -> .../block/vda/vda1; a partition's directory has a `partition` file.
    const dir = realpathSync(join(sysRoot, 'dev', 'block', `${nums.major}:${nums.minor}`));
    return existsSync(join(dir, 'partition')) ? basename(dirname(dir)) : basename(dir);
  } catch {
    return null;
  }
}
