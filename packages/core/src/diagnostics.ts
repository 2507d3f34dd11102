// Diagnostics in Postfix's msg(3) shape, "<argv0>: warning: text", so scripts written for
// the C tools keep matching. Control characters in the text are shown as '?'.
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
  switch (err.code) {
    case 'EADDRINUSE':
      return 'Address already in use';
    case 'EACCES':
      return 'Permission denied';
    case 'EADDRNOTAVAIL':
      return 'Cannot assign requested address';
    case 'ENOENT':
      return 'No such file or directory';
    default:
      return err.message;
  }
}
