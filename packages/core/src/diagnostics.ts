// Diagnostics in Postfix's msg(3) shape, "<argv0>: warning: text", so scripts written for
// the C tools keep matching. Control characters in the text are shown as '?'.
import { readFileSync } from 'node:fs';
import { printableString } from './printable.js';

export type Level = 'info' | 'warning' | 'error' | 'fatal';

export class Diagnostics {
  constructor(
    readonly program: string,
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
  ) {}

  line(level: Level, text: string): string {
    const body = printableString(text);
    return level === 'info' ? `${this.program}: ${body}\n` : `${this.program}: ${level}: ${body}\n`;
  }

  info(text: string): void {
    this.write(this.line('info', text));
  }
  warning(text: string): void {
    this.write(this.line('warning', text));
  }
  error(text: string): void {
    this.write(this.line('error', text));
  }
}

/** Thrown for a fatal condition; the CLI prints "<argv0>: fatal: <message>" and exits 1. */
export class FatalError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** A system error as the C tools word it (strerror), for their "bind ...: Address already in use" lines. */
export function strerror(err: NodeJS.ErrnoException): string {
  return (err.code !== undefined ? STRERROR[err.code] : undefined) ?? err.message;
}

const STRERROR: Record<string, string> = {
  EADDRINUSE: 'Address already in use',
  EACCES: 'Permission denied',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ENOENT: 'No such file or directory',
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EPIPE: 'Broken pipe',
  EMFILE: 'Too many open files',
  ENFILE: 'Too many open files in system',
};

/**
 * The soft limit on open file descriptors (ulimit -n), from /proc; undefined where /proc does
 * not say or there is no limit.
 */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'latin1'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}
