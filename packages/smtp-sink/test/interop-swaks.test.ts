// swaks, the SMTP "Swiss army knife", drives our sink. swaks speaks ESMTP (EHLO), pipelines
// when asked and PIPELINING is announced, and speaks LMTP; its transcript shows every line
// both sides sent ("<-" from the server, " ->" from swaks).
import { describe, expect, it } from 'vitest';
import { DEFAULT_ANNOUNCE } from '../src/options.js';
import { peer, portOf } from './helpers.js';
import { expectSameTally, NO_PROBLEMS, problems, resources, runOk, settled, sinkTally, socketIn, type TestSink } from './interop-helpers.js';
import { linesAfterDot, swaksTally } from './tallies.js';

const swaksBin = peer('swaks');
const r = resources();

const EHLO_LINES = [
  '<-  250-smtp-sink',
  '<-  250-PIPELINING',
  '<-  250-8BITMIME',
  '<-  250-AUTH PLAIN LOGIN',
  '<-  250-XCLIENT NAME HELO',
  '<-  250-XFORWARD NAME ADDR PROTO HELO',
  '<-  250-ENHANCEDSTATUSCODES',
  '<-  250-DSN',
  '<-  250 ',
];

/** swaks's transcript, one line per element (swaks writes it to stdout). */
async function swaks(target: string[], extra: string[] = []): Promise<string[]> {
  const out = await runOk(swaksBin!, [
    ...target,
    '--from', 'c@d.example',
    '--helo', 'h.example',
    '--timeout', '10',
    '--body', 'hello from swaks',
    ...extra,
  ]);
  return out.stdout.split(/\r?\n/);
}

const tcp = (sink: TestSink) => ['--server', '127.0.0.1', '--port', String(portOf(sink))];

describe.skipIf(!swaksBin)('swaks drives the sink', () => {
  it('one message over ESMTP, lock-step', async () => {
    const sink = await r.sink();
    const lines = await swaks(tcp(sink), ['--to', 'a@b.example']);
    expect(lines).toContain('<-  220 smtp-sink ESMTP');
    const ehlo = lines.indexOf(' -> EHLO h.example');
    expect(lines.slice(ehlo + 1, ehlo + 1 + EHLO_LINES.length)).toEqual(EHLO_LINES);
    // Without --pipeline each command's reply comes before the next command.
    const i = lines.indexOf(' -> MAIL FROM:<c@d.example>');
    expect(lines.slice(i, i + 6)).toEqual([
      ' -> MAIL FROM:<c@d.example>',
      '<-  250 2.1.0 Ok',
      ' -> RCPT TO:<a@b.example>',
      '<-  250 2.1.5 Ok',
      ' -> DATA',
      '<-  354 End data with <CR><LF>.<CR><LF>',
    ]);
    expect(linesAfterDot(lines)).toEqual(['<-  250 2.0.0 Ok']);
    expect(lines).toContain('<-  221 Bye');
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, messagesAccepted: 1, recipients: 1, quits: 1, sessions: 1 });
    expect(s.commands).toMatchObject({ ehlo: 1, mail: 1, rcpt: 1, data: 1, quit: 1 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(swaksTally(lines), sinkTally(s));
  });

  it('--pipeline: MAIL, RCPT and DATA go out together and the replies come back in order', async () => {
    const sink = await r.sink();
    const lines = await swaks(tcp(sink), ['--to', 'a@b.example', '--pipeline']);
    const i = lines.indexOf(' -> MAIL FROM:<c@d.example>');
    expect(lines.slice(i, i + 6)).toEqual([
      ' -> MAIL FROM:<c@d.example>',
      ' -> RCPT TO:<a@b.example>',
      ' -> DATA',
      '<-  250 2.1.0 Ok',
      '<-  250 2.1.5 Ok',
      '<-  354 End data with <CR><LF>.<CR><LF>',
    ]);
    expect(linesAfterDot(lines)).toEqual(['<-  250 2.0.0 Ok']);
    expect(lines).toContain('<-  221 Bye');
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, recipients: 1, quits: 1 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(swaksTally(lines), sinkTally(s));
  });

  it('--pipeline against a sink that does not announce PIPELINING: swaks falls back to lock-step', async () => {
    const sink = await r.sink({ announce: { ...DEFAULT_ANNOUNCE, pipelining: false } });
    const lines = await swaks(tcp(sink), ['--to', 'a@b.example', '--pipeline']);
    expect(lines).not.toContain('<-  250-PIPELINING');
    const i = lines.indexOf(' -> MAIL FROM:<c@d.example>');
    expect(lines.slice(i, i + 2)).toEqual([' -> MAIL FROM:<c@d.example>', '<-  250 2.1.0 Ok']);
    expect(linesAfterDot(lines)).toEqual(['<-  250 2.0.0 Ok']);
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, recipients: 1 });
    expectSameTally(swaksTally(lines), sinkTally(s));
  });

  it('several recipients, pipelined', async () => {
    const sink = await r.sink();
    const lines = await swaks(tcp(sink), ['--to', 'a@b.example,x@y.example,z@w.example', '--pipeline']);
    const i = lines.indexOf(' -> MAIL FROM:<c@d.example>');
    expect(lines.slice(i, i + 10)).toEqual([
      ' -> MAIL FROM:<c@d.example>',
      ' -> RCPT TO:<a@b.example>',
      ' -> RCPT TO:<x@y.example>',
      ' -> RCPT TO:<z@w.example>',
      ' -> DATA',
      '<-  250 2.1.0 Ok',
      '<-  250 2.1.5 Ok',
      '<-  250 2.1.5 Ok',
      '<-  250 2.1.5 Ok',
      '<-  354 End data with <CR><LF>.<CR><LF>',
    ]);
    expect(linesAfterDot(lines)).toEqual(['<-  250 2.0.0 Ok']);
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, recipients: 3, quits: 1 });
    expect(s.commands).toMatchObject({ rcpt: 3 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(swaksTally(lines), sinkTally(s));
  });

  it('--protocol LMTP against an LMTP sink: one "250 2.2.0 Ok" per recipient after the dot', async () => {
    const sink = await r.sink({ lmtp: true });
    const lines = await swaks(tcp(sink), ['--protocol', 'LMTP', '--to', 'a@b.example,x@y.example']);
    expect(lines).toContain(' -> LHLO h.example');
    const lhlo = lines.indexOf(' -> LHLO h.example');
    expect(lines.slice(lhlo + 1, lhlo + 1 + EHLO_LINES.length)).toEqual(EHLO_LINES);
    expect(linesAfterDot(lines)).toEqual(['<-  250 2.2.0 Ok', '<-  250 2.2.0 Ok']);
    expect(lines).toContain('<-  221 Bye');
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, recipients: 2, quits: 1 });
    expect(s.commands).toMatchObject({ lhlo: 1, ehlo: 0, helo: 0 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(swaksTally(lines), sinkTally(s));
  });

  it('LMTP, pipelined, over a unix-domain socket (--socket)', async () => {
    const path = socketIn(r.dir());
    const sink = await r.sink({ listen: `unix:${path}`, lmtp: true });
    const lines = await swaks(['--socket', path], ['--protocol', 'LMTP', '--pipeline', '--to', 'a@b.example,x@y.example,z@w.example']);
    expect(lines).toContain('<-  220 smtp-sink ESMTP');
    expect(linesAfterDot(lines)).toEqual(['<-  250 2.2.0 Ok', '<-  250 2.2.0 Ok', '<-  250 2.2.0 Ok']);
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, recipients: 3, quits: 1 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(swaksTally(lines), sinkTally(s));
  });

  it('a body with dot lines and a 100 kB line: swaks stuffs the dots, the sink counts every byte', async () => {
    const sink = await r.sink();
    const body = ['.one dot', '..two dots', '.', 'x'.repeat(100_000), 'end'].join('\n');
    const lines = await swaks(tcp(sink), ['--to', 'a@b.example', '--pipeline', '--body', body]);
    expect(lines).toContain(' -> ..one dot');
    expect(lines).toContain(' -> ...two dots');
    expect(lines).toContain(' -> ..');
    expect(lines).toContain(' -> ' + 'x'.repeat(100_000));
    expect(linesAfterDot(lines)).toEqual(['<-  250 2.0.0 Ok']);
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, recipients: 1 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    // Everything swaks sent between the 354 and the final ".", CRLFs and stuffed dots included.
    expectSameTally(swaksTally(lines), sinkTally(s));
  });
});
