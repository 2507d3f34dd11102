// The smtp-source command: flags checked one line each, exit codes, -c, --json, --journal, Ctrl-C.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startSink, type Sink } from '@smtpstone/smtp-sink';
import { run, tempDir } from '../../smtp-sink/test/helpers.js';
import { waitFor } from './helpers.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');
let sink: Sink | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

async function target(options = {}): Promise<string> {
  sink = await startSink({ listen: '127.0.0.1:0', writeLog: () => undefined, ...options });
  return `127.0.0.1:${(sink.address as { port: number }).port}`;
}

const source = (args: string[]) => run(process.execPath, [CLI, ...args], { timeoutMs: 20000 });

describe('smtp-source flag validation', () => {
  it.each([
    [['-s', '0'], 'bad session count: 0 (-s'],
    [['-m', 'x'], 'bad message count: x (-m'],
    [['-l', '-5'], '-l'],
    [['-r', '0'], 'bad recipient count'],
    [['-C', 'abc'], 'bad connection count'],
    [['-w', '0'], 'bad fixed delay'],
    [['-R', 'z'], '-R'],
    [['-w', '1', '-R', '1'], 'do not use -w and -R options at the same time'],
    [['-l', '10', '-F', '/etc/hostname'], '-l option cannot be used with -F'],
    [['-M', 'bad_host!'], 'bad hostname: bad_host!'],
    [['-M', '[1.2.3'], 'bad address literal'],
    [['-T', '0'], 'bad TCP window size'],
    [['--duration', 'soon'], '--duration'],
    [['--timeout', '0'], '--timeout'],
    [['-f', 'a\nb'], '-f'],
    [['--json', ''], '--json'],
    [['-x'], 'unknown flag: -x'],
  ])('%j: one line naming the flag, exit 1', async (args, text) => {
    const r = await source([...(args as string[]), '127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^smtp-source: fatal: /);
    expect(r.stderr).toContain(text);
  });

  it('a missing -F file, an unknown host and a refused connection are one-line fatal errors', async () => {
    const missing = await source(['-F', '/nonexistent/file', '127.0.0.1:1']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^smtp-source: fatal: .*nonexistent\/file/);
    const host = await source(['nosuchhost.invalid:25']);
    expect(host.stderr).toBe('smtp-source: fatal: nosuchhost.invalid:25: Name or service not known\n');
    const refused = await source(['127.0.0.1:1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.split('\n')[0]).toBe('smtp-source: fatal: connect: Connection refused');
  });

  it('more sessions than ulimit -n allows: a warning at the start, then one fatal line naming the limit; what was sent is reported and at the sink', async () => {
    const t = await target();
    const dir = tempDir('src-fd-');
    try {
      const json = join(dir.path, 'r.json');
      const r = await run('bash', ['-c', 'ulimit -n 64; exec "$0" "$@"', process.execPath, CLI, '-A', '-s', '200', '-m', '400', '--json', json, t], { timeoutMs: 20000 });
      expect(r.code).toBe(1);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('smtp-source: '));
      expect(lines).toEqual([
        'smtp-source: warning: -s 200 sessions, but ulimit -n is 64: connects past the limit fail (raise ulimit -n)',
        'smtp-source: fatal: connect: Too many open files (ulimit -n 64 is too low for -s 200: raise it, or lower -s)',
      ]);
      const result = JSON.parse(readFileSync(json, 'utf8')) as { messages: { accepted: number }; recipients: { accepted: number }; bytes: number };
      const s = await sink!.close();
      // Messages whose end of data was out when the run stopped had their replies waited for,
      // so each side counts the same messages. Transactions cut before their end of data may
      // have had a RCPT accepted whose reply the source never read, and their content cut off
      // by the reset (which can drop what the sink had not read yet).
      expect(result.messages.accepted).toBe(s.messagesAccepted);
      expect(result.recipients.accepted).toBeLessThanOrEqual(s.recipients);
      expect(result.bytes).toBeGreaterThanOrEqual(s.bytes);
      sink = undefined;
    } finally {
      dir.remove();
    }
  });

  it('no target or two targets: usage', async () => {
    for (const args of [[], ['a', 'b']]) {
      const r = await source(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^smtp-source: fatal: usage: smtp-source /);
    }
  });
});

describe('smtp-source output', () => {
  it('-c prints the running count like the original, and a summary table goes to stderr', async () => {
    const r = await source(['-c', '-s', '3', '-m', '7', await target()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('1\r2\r3\r4\r5\r6\r7\r\n');
    expect(r.stderr).toMatch(/7 of 7 messages accepted/);
    expect(r.stderr).toMatch(/\n {2}message +7 /);
  });

  it('--json - writes the whole result; --journal one line per message', async () => {
    const dir = tempDir();
    try {
      const journal = join(dir.path, 'run.jsonl');
      const r = await source(['--json', '-', '--journal', journal, '-s', '2', '-m', '5', '-r', '2', await target()]);
      expect(r.code).toBe(0);
      const result = JSON.parse(r.stdout);
      expect(result.messages).toMatchObject({ started: 5, sent: 5, accepted: 5 });
      expect(result.recipients).toMatchObject({ sent: 10, accepted: 10 });
      expect(result.latency.message.count).toBe(5);
      expect(typeof result.latency.dot.encoded).toBe('string');
      const lines = readFileSync(journal, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
      expect(lines.map((l) => l.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
      expect(lines.every((l) => l.status === 'accepted' && l.code === 250 && l.recipients.length === 2)).toBe(true);
      expect(new Set(lines.map((l) => l.messageId)).size).toBe(5);
    } finally {
      dir.remove();
    }
  });

  it('Ctrl-C stops a long run cleanly and still reports what was sent', async () => {
    const t = await target({ delays: [{ command: 'data', seconds: 1 }] });
    const child = spawn(process.execPath, [CLI, '--json', '-', '-s', '2', '-m', '1000', t], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    // Wait on the sink, not a clock (Node's start-up on a loaded box can take a second): in
    // lock-step, a session's next message at the sink means its previous one had its 250, so
    // four messages over two sessions mean at least two accepted at the source.
    await waitFor('four messages at the sink', () => sink!.stats().messages >= 4, 15_000, () => sink!.stats());
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    const result = JSON.parse(out);
    expect(result.interrupted).toBe(true);
    expect(result.messages.accepted).toBeGreaterThanOrEqual(2);
    expect(result.messages.started).toBeLessThan(1000);
    expect(err).toContain('(interrupted)');
  });

  it('--help lists every flag of the original', async () => {
    const r = await source(['--help']);
    expect(r.code).toBe(0);
    for (const f of '46AcCdfFlLmMNorRsStTvw') expect(r.stdout).toContain(`  -${f}`);
  });
});
