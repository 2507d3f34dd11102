import { describe, expect, it } from 'vitest';
import { SourceRun } from '../src/engine.js';
import { resolveSourceOptions } from '../src/options.js';

function run(options: Record<string, unknown>): SourceRun {
  return new SourceRun(resolveSourceOptions({ target: '127.0.0.1:25', recipient: 'you@y', myHostname: 'vm', ...options }));
}

describe('recipient numbering, as Postfix 3.7 smtp-source', () => {
  it('-r 3 without -N: 3you, 2you, then the plain address', () => {
    expect(run({ recipients: 3 }).recipientsFor()).toEqual(['3you@y', '2you@y', 'you@y']);
  });

  it('-r 1: the plain address', () => {
    expect(run({}).recipientsFor()).toEqual(['you@y']);
  });

  it('-N: one counter from 1 across messages', () => {
    const r = run({ recipients: 2, numberRecipients: true });
    expect([...r.recipientsFor(), ...r.recipientsFor()]).toEqual(['1you@y', '2you@y', '3you@y', '4you@y']);
  });

  it('messages are claimed from one pool until -m is used up', () => {
    const r = run({ messages: 3 });
    expect([r.claim(), r.claim(), r.claim(), r.claim()]).toEqual([1, 2, 3, 0]);
  });

  it('defaults: sender and recipient foo@myhostname', () => {
    const r = new SourceRun(resolveSourceOptions({ target: '127.0.0.1:25', myHostname: 'host.example' }));
    expect(r.sender).toBe('foo@host.example');
    expect(r.recipientsFor()).toEqual(['foo@host.example']);
  });
});
