// The `--json FILE|-` convention every smtpstone command follows: "-" is stdout, anything else
// a file, and a file that cannot be written is one line naming the flag.
import { writeFileSync } from 'node:fs';
import { FatalError } from './diagnostics.js';

export function writeOutput(file: string, text: string, flag: string): void {
  if (file === '-') {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileSync(file, text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a directory' : (err as Error).message;
    throw new FatalError(`${file}: ${why} (${flag})`);
  }
}
