import { afterEach, describe, expect, it } from 'vitest';
import { RawClient, testSink, portOf } from './helpers.js';
import type { Sink } from '../src/index.js';
import { expectSameTally, sinkTally, wireBytes } from './interop-helpers.js';

let sink: Sink | undefined;
afterEach(async () => {
  await sink?.close();
  sink = undefined;
});

describe('smtp-sink speaks SMTP as Postfix smtp-sink does', () => {
  it('greets, answers EHLO with every keyword in order and the trailing-space last line', async () => {
    sink = await testSink();
    const c = await RawClient.open(portOf(sink));
    expect((await c.until(1))[0]).toEqual({ code: 220, text: 'smtp-sink ESMTP' });
    c.send('EHLO client.example\r\n');
    await c.until(2);
    expect(c.replies[1]).toEqual({
      code: 250,
      text: 'smtp-sink\nPIPELINING\n8BITMIME\nAUTH PLAIN LOGIN\nXCLIENT NAME HELO\nXFORWARD NAME ADDR PROTO HELO\nENHANCEDSTATUSCODES\nDSN\n',
    });
    c.close();
  });

  it('runs a transaction and counts it', async () => {
    sink = await testSink();
    const c = await RawClient.open(portOf(sink));
    await c.until(1);
    expect(await c.command('HELO me')).toEqual({ code: 250, text: 'smtp-sink' });
    expect(await c.command('MAIL FROM:<a@b>')).toEqual({ code: 250, text: '2.1.0 Ok' });
    expect(await c.command('RCPT TO:<c@d>')).toEqual({ code: 250, text: '2.1.5 Ok' });
    expect(await c.command('DATA')).toEqual({ code: 354, text: 'End data with <CR><LF>.<CR><LF>' });
    expect(await c.command('Subject: x\r\n\r\nbody\r\n.')).toEqual({ code: 250, text: '2.0.0 Ok' });
    expect(await c.command('QUIT')).toEqual({ code: 221, text: 'Bye' });
    await c.waitClosed();
    const s = sink.stats();
    expect(s.messages).toBe(1);
    expect(s.recipients).toBe(1);
    expect(s.bytes).toBe('Subject: x\r\n\r\nbody\r\n'.length);
    expect(s.quits).toBe(1);
    // Issue 7: what this client sent and had accepted, worked out here, against the sink's count.
    expectSameTally({ messages: 1, recipients: 1, bytes: wireBytes('Subject: x\r\n\r\nbody\r\n') }, sinkTally(s));
  });
});
