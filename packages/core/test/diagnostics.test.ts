import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { Diagnostics, FatalError, openFileLimit, strerror } from '../src/diagnostics.js';

describe('Diagnostics', () => {
  it('formats lines the way Postfix msg(3) does', () => {
    const d = new Diagnostics('smtp-sink', () => {});
    expect(d.line('info', 'listening on 127.0.0.1:25')).toBe('smtp-sink: listening on 127.0.0.1:25\n');
    expect(d.line('warning', 'slow client')).toBe('smtp-sink: warning: slow client\n');
    expect(d.line('error', 'oops')).toBe('smtp-sink: error: oops\n');
    expect(d.line('fatal', 'bad option')).toBe('smtp-sink: fatal: bad option\n');
  });

  it('shows control characters in the text as "?"', () => {
    const d = new Diagnostics('smtp-source', () => {});
    expect(d.line('warning', 'unexpected reply: 250 ok\r\n\x1b[2J')).toBe('smtp-source: warning: unexpected reply: 250 ok???[2J\n');
  });

  it('info(), warning() and error() write one line each', () => {
    const lines: string[] = [];
    const d = new Diagnostics('prog', (line) => lines.push(line));
    d.info('a');
    d.warning('b');
    d.error('c\n');
    expect(lines).toEqual(['prog: a\n', 'prog: warning: b\n', 'prog: error: c?\n']);
    expect(d.program).toBe('prog');
  });
});

describe('FatalError', () => {
  it('is an Error with exit code 1 by default', () => {
    const e = new FatalError('no such file');
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(FatalError);
    expect(e.message).toBe('no such file');
    expect(e.exitCode).toBe(1);
  });

  it('carries a given exit code', () => {
    expect(new FatalError('usage', 2).exitCode).toBe(2);
  });
});

describe('strerror', () => {
  it('words system errors as the C tools print them, and keeps any other message', () => {
    const err = (code: string, message = 'x'): NodeJS.ErrnoException => Object.assign(new Error(message), { code });
    expect(strerror(err('EADDRINUSE'))).toBe('Address already in use');
    expect(strerror(err('EACCES'))).toBe('Permission denied');
    expect(strerror(err('EADDRNOTAVAIL'))).toBe('Cannot assign requested address');
    expect(strerror(err('ENOENT'))).toBe('No such file or directory');
    expect(strerror(err('ECONNREFUSED'))).toBe('Connection refused');
    expect(strerror(err('EMFILE'))).toBe('Too many open files');
    expect(strerror(err('EWHATEVER', 'something odd'))).toBe('something odd');
    expect(strerror(new Error('no code'))).toBe('no code');
  });
});

describe('openFileLimit', () => {
  it('reads the soft ulimit -n: the one a child started under `ulimit -n 77` sees', () => {
    const out = execFileSync('bash', ['-c', `ulimit -n 77; exec "$0" --input-type=module -e "$1"`, process.execPath, `import { openFileLimit } from ${JSON.stringify(new URL('../dist/diagnostics.js', import.meta.url).href)}; console.log(openFileLimit())`], { encoding: 'utf8' });
    expect(out.trim()).toBe('77');
    expect(openFileLimit()).toBeGreaterThan(77);
  });
});
