// The dump's byte transform (drop every CR and each line-leading dot) must equal the C sink's
// byte-at-a-time state machine, however the message is split into chunks.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DumpWriter } from '../src/dump.js';
import { tempDir } from './helpers.js';

/** The C sink's data_read() writing rule, one byte at a time. */
function reference(data: Buffer): Buffer {
  const out: number[] = [];
  let state = 2;
  for (const b of data) {
    if (b === 0x0d) {
      state = state === 3 ? 4 : 1;
      continue;
    }
    if (b === 0x0a) state = state === 1 || state === 4 ? 2 : 0;
    else if (b === 0x2e && state === 2) {
      state = 3;
      continue;
    } else state = 0;
    out.push(b);
  }
  return Buffer.from(out);
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

describe('dump transform', () => {
  it('matches the C state machine for random messages split at random points', () => {
    const dir = tempDir();
    try {
      const rnd = seeded(42);
      const alphabet = [0x0d, 0x0a, 0x2e, 0x41, 0x00, 0xff, 0x20];
      for (let round = 0; round < 300; round++) {
        const len = Math.floor(rnd() * 200);
        const body = Buffer.from(Array.from({ length: len }, () => alphabet[Math.floor(rnd() * alphabet.length)]));
        const data = Buffer.concat([body, Buffer.from('\r\n.\r\n')]);
        const sub = join(dir.path, String(round));
        const w = new DumpWriter({ template: sub + '/m.', hostname: 'h' }, (m) => {
          throw new Error(m);
        });
        w.begin({ clientAddr: '127.0.0.1', proto: 'SMTP', mailArgs: '', rcptArgs: [], startedAt: 0 });
        let pos = 0;
        while (pos < data.length) {
          const n = 1 + Math.floor(rnd() * 20);
          w.write(data, pos, Math.min(data.length, pos + n));
          pos += n;
        }
        w.finish(0);
        const file = readFileSync(join(sub, readdirSync(sub)[0]));
        // The header block ends with the Received: date line, after "id <hex>;\n\t".
        const headerEnd = file.indexOf('\n', file.indexOf(';\n\t') + 3) + 1;
        expect(file.subarray(headerEnd)).toEqual(reference(data));
      }
    } finally {
      dir.remove();
    }
  });
});
