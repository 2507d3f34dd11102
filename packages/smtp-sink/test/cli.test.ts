// The smtp-sink command: flag validation, help, -c/--json/--stats-interval output, signals.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, cliSink, currentUser, peer, RawClient, run, tempDir, type CliSink } from './helpers.js';
import { parseSinkArgs } from '../src/cli-options.js';
import { waitFor } from './interop-helpers.js';

const smtpSource = peer('smtp-source');
let cli: CliSink | undefined;
afterEach(async () => {
  await cli?.stop('SIGKILL');
  cli = undefined;
});

function sinkCli(args: string[]) {
  return run(process.execPath, [CLI, ...args], { timeoutMs: 10000 });
}

describe('smtp-sink flag validation', () => {
  const cases: [string[], string][] = [
    [['-m', '0'], '-m'],
    [['-m', 'abc'], '-m'],
    [['-M', '-1'], '-M'],
    [['-n', 'x'], '-n'],
    [['-t', '0'], '-t'],
    [['-H', 'soon'], '-H'],
    [['-A', 'x'], '-A'],
    [['-w', '0'], '-w'],
    [['-T', 'big'], '-T'],
    [['-b', '550 no'], '-b'],
    [['-B', '450 no'], '-B'],
    [['-b', '45 x'], '-b'],
    [['-f', 'helo,bogus'], '-f'],
    [['-q', 'nope'], '-q'],
    [['-Q', 'nope'], '-Q'],
    [['-r', 'nope'], '-r'],
    [['-s', 'nope'], '-s'],
    [['-W', 'noop'], '-W'],
    [['-W', 'noop:0'], '-W'],
    [['-W', 'noop:1:100'], '-W'],
    [['-W', 'nope:1'], '-W'],
    [['-h', 'two words'], '-h'],
    [['--stats-interval', '0'], 'stats-interval'],
    [['--json', ''], '--json'],
    [['--min-data-rate', '0'], '--min-data-rate'],
    [['--min-data-rate', '1k'], '--min-data-rate'],
    [['-d', 'a.', '-D', 'b'], '-d or -D'],
  ];
  it.each(cases)('%j is refused with one line naming %s', async (args, name) => {
    const r = await sinkCli(['-u', currentUser(), ...args, '127.0.0.1:0', '10']);
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^smtp-sink: fatal: /);
    expect(lines[0]).toContain(name);
  });

  it('each --no-X long name does what its letter does (yargs would read it as the negation of X)', () => {
    const pairs: [string, string][] = [['-8', '--no-8bitmime'], ['-a', '--no-auth'], ['-C', '--no-xclient'], ['-e', '--no-esmtp'], ['-E', '--no-enhancedstatuscodes'], ['-F', '--no-xforward'], ['-N', '--no-dsn'], ['-p', '--no-pipelining']];
    const plain = parseSinkArgs(['127.0.0.1:0', '10']).sink;
    for (const [letter, long] of pairs) {
      const byLetter = parseSinkArgs([letter, '127.0.0.1:0', '10']).sink;
      expect(byLetter, letter).not.toEqual(plain);
      expect(parseSinkArgs([long, '127.0.0.1:0', '10']).sink, long).toEqual(byLetter);
    }
    // A --no- of a flag that is not one is still named as typed.
    expect(() => parseSinkArgs(['--no-frob', '127.0.0.1:0', '10'])).toThrow('unknown flag: --no-frob (see smtp-sink --help)');
  });

  it('an unknown flag, a missing backlog or a bad endpoint is a one-line usage error', async () => {
    for (const args of [['-x', ':0', '10'], [':0'], [':0', '0'], ['[::1:0', '10'], ['127.0.0.1:99999', '10']]) {
      const r = await sinkCli(['-u', currentUser(), ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^smtp-sink: fatal: /);
    }
  });

  it('a port already in use is a fatal bind error', async () => {
    cli = await cliSink([]);
    const r = await sinkCli(['-u', currentUser(), `127.0.0.1:${cli.port}`, '10']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`smtp-sink: fatal: bind 127.0.0.1 port ${cli.port}: Address already in use\n`);
  });

  it.runIf(process.geteuid?.() === 0)('as root, -u is required', async () => {
    const r = await sinkCli(['127.0.0.1:0', '10']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('smtp-sink: fatal: -u option is required if running as root\n');
  });

  it('--help lists every flag of the original and says what Node cannot do', async () => {
    const r = await sinkCli(['--help']);
    expect(r.code).toBe(0);
    for (const f of '468aAbBcCdDeEfFhHLmMnNpPqQrRsStTuvwW') expect(r.stdout).toContain(`  -${f}`);
    expect(r.stdout).toMatch(/-R .*cannot chroot/);
    expect(r.stdout).toMatch(/-T .*cannot set/);
  });
});

describe('smtp-sink output', () => {
  it('-T and -R are accepted with a warning, and the sink runs', async () => {
    const dir = tempDir();
    try {
      cli = await cliSink(['-T', '65536', '-R', dir.path, '-d', 'dumps/m.']);
      expect(cli.stderr()).toContain('smtp-sink: warning: -T 65536: Node.js cannot set the TCP window size');
      expect(cli.stderr()).toContain('cannot chroot');
      const c = await RawClient.open(cli.port);
      await c.until(1);
      await c.command('MAIL FROM:<a@b>');
      await c.command('RCPT TO:<c@d>');
      await c.command('DATA');
      expect((await c.command('x\r\n.')).code).toBe(250);
      c.close();
      // The dump went below the -R directory, as it would inside the C sink's chroot.
      expect(readFileSync(join(dir.path, 'dumps', (await import('node:fs')).readdirSync(join(dir.path, 'dumps'))[0]), 'utf8')).toContain('X-Mail-Args: <a@b>');
    } finally {
      dir.remove();
    }
  });

  it('SIGINT prints the final counters; --json writes them; -c leaves the counter line', async () => {
    const dir = tempDir();
    try {
      const json = join(dir.path, 'stats.json');
      cli = await cliSink(['-c', '--json', json]);
      const c = await RawClient.open(cli.port);
      await c.until(1);
      await c.command('MAIL FROM:<a@b>');
      await c.command('RCPT TO:<c@d>');
      await c.command('DATA');
      await c.command('hello\r\n.');
      await c.command('QUIT');
      await c.waitClosed();
      const r = await cli.stop('SIGINT');
      expect(r.code).toBe(0);
      expect(cli.stderr()).toMatch(/smtp-sink: stopped \(interrupted\): 1 sessions, 1 messages, 1 recipients, 7 bytes/);
      expect(cli.stdout()).toMatch(/sess=1 quit=1 mesg=1\r\n$/);
      const stats = JSON.parse(readFileSync(json, 'utf8'));
      expect(stats).toMatchObject({ sessions: 1, messages: 1, recipients: 1, bytes: 7, quits: 1 });
      expect(stats.commands).toMatchObject({ mail: 1, rcpt: 1, data: 1, quit: 1 });
    } finally {
      dir.remove();
    }
  });

  it('--stats-interval prints a periodic line', async () => {
    cli = await cliSink(['--stats-interval', '1']);
    const line = /smtp-sink: stats: sessions=0 active=0 waiting=0 messages=0 .* msg\/s=0\.0\n/;
    // The first line is due a second after the start; a busy box may bring it later.
    await waitFor('the first stats line', () => /smtp-sink: stats: [^\n]*\n/.test(cli!.stderr()), 5000, () => cli!.stderr());
    expect(cli.stderr()).toMatch(line);
  });

  it('-v logs connect, each command line and disconnect; -s logs chosen commands syslog-style', async () => {
    cli = await cliSink(['-v', '-s', 'helo,mail']);
    const c = await RawClient.open(cli.port);
    await c.until(1);
    await c.command('HELO client');
    await c.command('MAIL FROM:<a@b>');
    await c.command('NOOP');
    await c.command('QUIT');
    await c.waitClosed();
    // The client can see the close before the sink has logged it.
    await waitFor('the disconnect line', () => cli!.stderr().includes('smtp-sink: disconnect\n'), 5000, () => cli!.stderr());
    const err = cli.stderr();
    expect(err).toContain('smtp-sink: connect (AF_INET 127.0.0.1)\n');
    expect(err).toContain('smtp-sink: HELO client\n');
    expect(err).toContain('smtp-sink: disconnect\n');
    expect(err).toMatch(/^\w{3} [ \d]\d \d\d:\d\d:\d\d smtp-sink\[\d+\]: HELO client$/m);
    expect(err).toMatch(/smtp-sink\[\d+\]: MAIL FROM:<a@b>$/m);
    expect(err).not.toMatch(/smtp-sink\[\d+\]: NOOP/);
  });

  it.skipIf(!smtpSource)('a unix-domain socket sink serves Postfix smtp-source', async () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, 'sink.sock');
      cli = await cliSink(['-c'], `unix:${path}`);
      const r = await run(smtpSource!, ['-s', '4', '-m', '40', `unix:${path}`]);
      expect(r.code).toBe(0);
      await cli.stop('SIGTERM');
      expect(cli.stdout()).toMatch(/mesg=40\r\n$/);
    } finally {
      dir.remove();
    }
  });
});
