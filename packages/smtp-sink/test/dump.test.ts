// -d / -D dump files, compared field by field with the documented format.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { portOf, RawClient, tempDir, testSink } from './helpers.js';
import type { Sink } from '../src/index.js';
import { expectSameTally, sinkTally, wireBytes } from './interop-helpers.js';

let sink: Sink | undefined;
let dir: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await sink?.close();
  dir?.remove();
  sink = undefined;
  dir = undefined;
});

function filesBelow(root: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    const p = join(root, name);
    if (statSync(p).isDirectory()) out.push(...filesBelow(p));
    else out.push(p);
  }
  return out.sort();
}

async function transaction(c: RawClient, body: string, rcpts = ['<c@d>', '<e@f> NOTIFY=NEVER']): Promise<void> {
  expect((await c.command('MAIL FROM:<a@b> SIZE=10')).code).toBe(250);
  for (const r of rcpts) expect((await c.command(`RCPT TO:${r}`)).code).toBe(250);
  expect((await c.command('DATA')).code).toBe(354);
  expect((await c.command(body + '.')).code).toBe(250);
}

describe('dump files', () => {
  it('-d writes one file per message in the C sink format', async () => {
    dir = tempDir();
    sink = await testSink({ dumpTemplate: join(dir.path, '%Y%m%d/single.'), dumpPrefix: Buffer.from('START\tX\n'), hostname: 'sinkhost' });
    const c = await RawClient.open(portOf(sink));
    await c.until(1);
    await c.command('EHLO   client.example');
    const before = new Date();
    const body = 'Subject: hi\r\n\r\n..dotted\r\n.x\r\nbare\rcr\r\nlast\r\n';
    await transaction(c, body);
    await c.command('QUIT');
    // Issue 7: the body is given as sent (already dot-stuffed, and a ".x" line), so its bytes
    // on the wire are its length; two recipients, one message.
    expectSameTally({ messages: 1, recipients: 2, bytes: Buffer.byteLength(body) }, sinkTally(sink.stats()));
    const files = filesBelow(dir.path);
    expect(files).toHaveLength(1);
    const y = before.getFullYear();
    const m = String(before.getMonth() + 1).padStart(2, '0');
    const d = String(before.getDate()).padStart(2, '0');
    expect(files[0]).toMatch(new RegExp(`/${y}${m}${d}/single\\.[0-9a-f]{8}$`));
    expect((statSync(files[0]).mode & 0o777).toString(8)).toBe('644');
    const text = readFileSync(files[0], 'utf8');
    const lines = text.split('\n');
    const id = files[0].slice(-8);
    expect(lines.slice(0, 8)).toEqual([
      'START\tX',
      'X-Client-Addr: 127.0.0.1',
      'X-Client-Proto: ESMTP',
      'X-Helo-Args: client.example',
      'X-Mail-Args: <a@b> SIZE=10',
      'X-Rcpt-Args: <c@d>',
      'X-Rcpt-Args: <e@f> NOTIFY=NEVER',
      'Received: from client.example ([127.0.0.1])',
    ]);
    expect(lines[8]).toBe(`\tby sinkhost (smtp-sink) with ESMTP id ${id};`);
    expect(lines[9]).toMatch(/^\t(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [ \d]\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(.+\)$/);
    expect(lines.slice(10)).toEqual(['Subject: hi', '', '.dotted', 'x', 'barecr', 'last', '', '']);
  });

  it('-d without HELO names the client by address and says SMTP', async () => {
    dir = tempDir();
    sink = await testSink({ dumpTemplate: join(dir.path, 'm.') });
    const c = await RawClient.open(portOf(sink));
    await c.until(1);
    await transaction(c, 'x\r\n', ['<c@d>']);
    c.close();
    expectSameTally({ messages: 1, recipients: 1, bytes: wireBytes('x\r\n') }, sinkTally(sink.stats()));
    const text = readFileSync(filesBelow(dir.path)[0], 'utf8');
    expect(text).toContain('X-Client-Proto: SMTP\nX-Mail-Args');
    expect(text).not.toContain('X-Helo-Args');
    expect(text).toContain('Received: from [127.0.0.1] ([127.0.0.1])\n\tby smtp-sink (smtp-sink) with SMTP id ');
  });

  it('-D appends every message to one file, each ending in an empty line', async () => {
    dir = tempDir();
    const shared = join(dir.path, 'sub', 'all.%Y');
    sink = await testSink({ sharedDumpTemplate: shared, lmtp: true });
    const c = await RawClient.open(portOf(sink));
    await c.until(1);
    await c.command('LHLO h');
    for (const body of ['one\r\n', 'two\r\n']) {
      await c.command('MAIL FROM:<a@b>');
      await c.command('RCPT TO:<c@d>');
      await c.command('DATA');
      await c.command(body + '.');
    }
    c.close();
    const files = filesBelow(dir.path);
    expect(files).toEqual([join(dir.path, 'sub', `all.${new Date().getFullYear()}`)]);
    const text = readFileSync(files[0], 'utf8');
    expect(text.match(/^X-Client-Proto: LMTP$/gm)).toHaveLength(2);
    expect(text).toMatch(/\none\n\nX-Client-Addr: 127\.0\.0\.1\n[\s\S]*\ntwo\n\n$/);
    expect(sink.stats().dumps).toBe(2);
    expectSameTally({ messages: 2, recipients: 2, bytes: wireBytes('one\r\n') + wireBytes('two\r\n') }, sinkTally(sink.stats()));
  });

  it('an aborted transaction leaves no file: RSET, or a client gone in mid-DATA', async () => {
    dir = tempDir();
    sink = await testSink({ dumpTemplate: join(dir.path, 'm.') });
    const c = await RawClient.open(portOf(sink));
    await c.until(1);
    await c.command('MAIL FROM:<a@b>');
    await c.command('RCPT TO:<c@d>');
    await c.command('RSET');
    await c.command('MAIL FROM:<a@b>');
    await c.command('RCPT TO:<c@d>');
    await c.command('DATA');
    c.send('half a message\r\n');
    await new Promise((r) => setTimeout(r, 100));
    c.close();
    const deadline = Date.now() + 2000;
    while (sink.stats().sessions < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(sink.stats().lostInData).toBe(1);
    expect(existsSync(dir.path) ? filesBelow(dir.path) : []).toEqual([]);
  });

  it('a dump that cannot be written is warned about and the message still answered', async () => {
    dir = tempDir();
    // A directory that cannot be made: its parent is a plain file.
    writeFileSync(join(dir.path, 'plain'), '');
    sink = await testSink({ dumpTemplate: join(dir.path, 'plain', 'sub', 'm.') });
    const c = await RawClient.open(portOf(sink));
    await c.until(1);
    await transaction(c, 'x\r\n', ['<c@d>']);
    c.close();
    expect(sink.stats().dumpErrors).toBe(1);
    // The message was answered 250 though its dump failed: it counts on both sides.
    expectSameTally({ messages: 1, recipients: 1, bytes: wireBytes('x\r\n') }, sinkTally(sink.stats()));
    expect((sink as unknown as { logs: string[] }).logs.join('')).toMatch(/smtp-sink: warning: dump .*ENOTDIR/);
  });
});
