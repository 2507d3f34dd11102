// Which disk holds a path: the real machine's temp directory, and a fake /sys for partitions.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deviceNumbers, diskOfPath, parseDiskstats } from '../src/index.js';

let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

describe('diskOfPath', () => {
  it("names the temp directory's disk as /proc/diskstats lists it (or null off a block device)", () => {
    const disk = diskOfPath(tmpdir());
    const nums = deviceNumbers(tmpdir());
    expect(nums).not.toBeNull();
    if (nums!.major === 0) {
      expect(disk).toBeNull(); // tmpfs or overlayfs
    } else if (existsSync('/proc/diskstats') && existsSync('/sys/dev/block')) {
      const names = parseDiskstats(readFileSync('/proc/diskstats', 'utf8')).map((d) => d.name);
      expect(names).toContain(disk);
    }
  });

  it('is null for virtual filesystems and missing paths', () => {
    expect(diskOfPath('/proc')).toBeNull();
    expect(diskOfPath('/no/such/path')).toBeNull();
    expect(deviceNumbers('/no/such/path')).toBeNull();
  });

  it('climbs from a partition to its disk, through a fake /sys', () => {
    dir = mkdtempSync(join(tmpdir(), 'smtpstone-fakesys-'));
    const nums = deviceNumbers(dir)!;
    if (nums.major === 0) return; // temp dir not on a block device: nothing to map
    const part = join(dir, 'devices', 'virtual', 'block', 'fakedisk', 'fakedisk3');
    mkdirSync(part, { recursive: true });
    writeFileSync(join(part, 'partition'), '3\n');
    mkdirSync(join(dir, 'dev', 'block'), { recursive: true });
    const link = join(dir, 'dev', 'block', `${nums.major}:${nums.minor}`);
    symlinkSync(part, link);
    expect(diskOfPath(dir, dir)).toBe('fakedisk');
    rmSync(join(part, 'partition'));
    expect(diskOfPath(dir, dir)).toBe('fakedisk3');
    rmSync(link);
    expect(diskOfPath(dir, dir)).toBeNull();
  });
});
