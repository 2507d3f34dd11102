// Python's standard smtplib drives our sink: smtplib.SMTP (EHLO or HELO, sendmail with several
// recipients, dot-stuffing) and smtplib.LMTP over TCP and a unix-domain socket. Each script
// prints what smtplib returned as JSON (bytes decoded), for the test to check.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SinkStats } from '../src/index.js';
import { peer, portOf } from './helpers.js';
import { expectSameTally, NO_PROBLEMS, problems, resources, settled, sinkTally, socketIn } from './interop-helpers.js';
import { pySmtplib } from './tallies.js';

const python = peer('python3');
const r = resources();

/** Runs a script after the tally prelude (tallies.ts): what it put in `out`, and smtplib's tally. */
const py = (script: string, args: string[]) => pySmtplib(python!, script, args);

const EHLO_TEXT = 'smtp-sink\nPIPELINING\n8BITMIME\nAUTH PLAIN LOGIN\nXCLIENT NAME HELO\nXFORWARD NAME ADDR PROTO HELO\nENHANCEDSTATUSCODES\nDSN\n';

/** The message every script sends: smtplib stuffs the dot lines on the wire. */
const MESSAGE_PY = `"Subject: from python\\r\\n\\r\\nfirst\\r\\n.dotted\\r\\n..twice\\r\\n.\\r\\nlast\\r\\n"`;

describe.skipIf(!python)('Python smtplib drives the sink', () => {
  it('smtplib.SMTP: EHLO, sendmail to 2 recipients with dot lines, NOOP, QUIT', async () => {
    const sink = await r.sink();
    const { out, tally } = await py(
      `
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='client.example', timeout=10)
out['ehlo'] = s.ehlo()
out['features'] = sorted(s.esmtp_features)
out['auth'] = s.esmtp_features.get('auth').strip()  # smtplib keeps a leading space for auth
out['refused'] = s.sendmail('a@b.example', ['c@d.example', 'e@f.example'], ${MESSAGE_PY})
out['noop'] = s.noop()
out['rset'] = s.rset()
out['vrfy'] = s.verify('c@d.example')
out['quit'] = s.quit()
`,
      [String(portOf(sink))],
    );
    expect(out).toEqual({
      ehlo: [250, EHLO_TEXT],
      features: ['8bitmime', 'auth', 'dsn', 'enhancedstatuscodes', 'pipelining', 'xclient', 'xforward'],
      auth: 'PLAIN LOGIN',
      refused: {},
      noop: [250, '2.0.0 Ok'],
      rset: [250, '2.1.0 Ok'],
      vrfy: [250, '2.0.0 Ok'],
      quit: [221, 'Bye'],
    });
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, messagesAccepted: 1, recipients: 2, sessions: 1, quits: 1 });
    expect(s.commands).toMatchObject({ ehlo: 1, mail: 1, rcpt: 2, data: 1, noop: 1, rset: 1, vrfy: 1, quit: 1 });
    // As on the wire: the four-line message with its dot lines stuffed (3 extra bytes).
    expect(s.bytes).toBe('Subject: from python\r\n\r\nfirst\r\n..dotted\r\n...twice\r\n..\r\nlast\r\n'.length);
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(tally, sinkTally(s));
  });

  it('smtplib.SMTP: several messages on one connection, with an unknown command in between', async () => {
    const sink = await r.sink();
    const { out, tally } = await py(
      `
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='client.example', timeout=10)
out['refused'] = [s.sendmail('a@b.example', ['r%d@d.example' % i for i in range(n + 1)], 'Subject: %d\\r\\n\\r\\nbody\\r\\n' % n) for n in range(5)]
out['bogus'] = s.docmd('BOGUS')
out['helo'] = s.helo('again.example')
out['refused2'] = s.sendmail('a@b.example', ['x@y.example'], 'Subject: after HELO\\r\\n\\r\\nbody\\r\\n')
out['quit'] = s.quit()
`,
      [String(portOf(sink))],
    );
    expect(out).toEqual({
      refused: [{}, {}, {}, {}, {}],
      bogus: [500, '5.5.1 Error: unknown command'],
      helo: [250, 'smtp-sink'],
      refused2: {},
      quit: [221, 'Bye'],
    });
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 6, recipients: 1 + 2 + 3 + 4 + 5 + 1, sessions: 1, quits: 1 });
    expect(s.commands).toMatchObject({ ehlo: 1, helo: 1, mail: 6, data: 6, unknown: 1 });
    expect(s.rejects).toEqual({ '500': 1 });
    expectSameTally(tally, sinkTally(s));
  });

  it('smtplib.LMTP over TCP: LHLO, one reply per recipient after the dot', async () => {
    const sink = await r.sink({ lmtp: true });
    const { out, tally } = await py(
      `
s = smtplib.LMTP('127.0.0.1', int(sys.argv[1]), local_hostname='client.example', timeout=10)
out['lhlo'] = s.ehlo()
out['refused'] = s.sendmail('a@b.example', ['c@d.example', 'e@f.example'], ${MESSAGE_PY})
# smtplib reads only the first end-of-data reply; LMTP sends one per recipient.
out['second'] = s.getreply()
out['quit'] = s.quit()
`,
      [String(portOf(sink))],
    );
    expect(out).toEqual({
      lhlo: [250, EHLO_TEXT],
      refused: {},
      second: [250, '2.2.0 Ok'],
      quit: [221, 'Bye'],
    });
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, recipients: 2, sessions: 1, quits: 1 });
    expect(s.commands).toMatchObject({ lhlo: 1, ehlo: 0, helo: 0 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(tally, sinkTally(s));
  });

  it('smtplib.LMTP over a unix-domain socket, three messages of 1, 2 and 3 recipients', async () => {
    const path = socketIn(r.dir());
    const sink = await r.sink({ listen: `unix:${path}`, lmtp: true });
    const { out, tally } = await py(
      `
s = smtplib.LMTP(sys.argv[1], local_hostname='client.example', timeout=10)
out['banner'] = s.ehlo()[0]
res = []
for n in range(1, 4):
    refused = s.sendmail('a@b.example', ['r%d@d.example' % i for i in range(n)], ${MESSAGE_PY})
    res.append([refused] + [s.getreply() for _ in range(n - 1)])
out['res'] = res
out['quit'] = s.quit()
`,
      [path],
    );
    expect(out).toEqual({
      banner: 250,
      res: [[{}], [{}, [250, '2.2.0 Ok']], [{}, [250, '2.2.0 Ok'], [250, '2.2.0 Ok']]],
      quit: [221, 'Bye'],
    });
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 3, recipients: 6, sessions: 1, quits: 1 });
    expect(problems(s)).toEqual(NO_PROBLEMS);
    expectSameTally(tally, sinkTally(s));
  });

  it('dump mode: the dump shows the envelope and the message with its dots unstuffed', async () => {
    const dir = r.dir();
    const sink = await r.sink({ dumpTemplate: join(dir, '%Y%m%d/msg.'), hostname: 'sinkhost' });
    const { out, tally } = await py(
      `
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='client.example', timeout=10)
out['refused'] = s.sendmail('a@b.example', ['c@d.example', 'e@f.example'], ${MESSAGE_PY},
                            mail_options=['BODY=8BITMIME'], rcpt_options=['NOTIFY=NEVER'])
out['quit'] = s.quit()
`,
      [String(portOf(sink))],
    );
    expect(out).toEqual({ refused: {}, quit: [221, 'Bye'] });
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, dumps: 1, dumpErrors: 0 });
    expectSameTally(tally, sinkTally(s));
    const [day] = readdirSync(dir);
    expect(day).toMatch(/^\d{8}$/);
    const files = readdirSync(join(dir, day));
    expect(files).toHaveLength(1);
    const id = /^msg\.([0-9a-f]{8})$/.exec(files[0])?.[1];
    expect(id).toBeDefined();
    const dump = readFileSync(join(dir, day, files[0]), 'utf8');
    const lines = dump.split('\n');
    expect(lines.slice(0, 8)).toEqual([
      'X-Client-Addr: 127.0.0.1',
      'X-Client-Proto: ESMTP',
      'X-Helo-Args: client.example',
      'X-Mail-Args: <a@b.example> BODY=8BITMIME',
      'X-Rcpt-Args: <c@d.example> NOTIFY=NEVER',
      'X-Rcpt-Args: <e@f.example> NOTIFY=NEVER',
      'Received: from client.example ([127.0.0.1])',
      `\tby sinkhost (smtp-sink) with ESMTP id ${id};`,
    ]);
    expect(lines[8]).toMatch(/^\t(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [ \d]\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4} \(.+\)$/);
    // smtplib sent "..dotted", "...twice" and ".."; the dump drops the first dot of each line.
    expect(lines.slice(9)).toEqual(['Subject: from python', '', 'first', '.dotted', '..twice', '.', 'last', '', '']);
  });

  it('dump mode over LMTP on a unix-domain socket: the client is "local", the protocol LMTP', async () => {
    const dir = r.dir();
    const sink = await r.sink({ listen: `unix:${socketIn(dir)}`, lmtp: true, dumpTemplate: join(dir, 'dumps/msg.') });
    const { out, tally } = await py(
      `
s = smtplib.LMTP(sys.argv[1], local_hostname='client.example', timeout=10)
out['refused'] = s.sendmail('a@b.example', ['c@d.example', 'e@f.example'], ${MESSAGE_PY})
out['second'] = s.getreply()
out['quit'] = s.quit()
`,
      [socketIn(dir)],
    );
    expect(out).toEqual({ refused: {}, second: [250, '2.2.0 Ok'], quit: [221, 'Bye'] });
    expectSameTally(tally, sinkTally(await settled(sink, 1)));
    const files = readdirSync(join(dir, 'dumps'));
    expect(files).toHaveLength(1);
    const lines = readFileSync(join(dir, 'dumps', files[0]), 'utf8').split('\n');
    expect(lines.slice(0, 8)).toEqual([
      'X-Client-Addr: local',
      'X-Client-Proto: LMTP',
      'X-Helo-Args: client.example',
      'X-Mail-Args: <a@b.example>',
      'X-Rcpt-Args: <c@d.example>',
      'X-Rcpt-Args: <e@f.example>',
      'Received: from client.example ([local])',
      `\tby smtp-sink (smtp-sink) with LMTP id ${files[0].slice(4)};`,
    ]);
    expect(lines.slice(9)).toEqual(['Subject: from python', '', 'first', '.dotted', '..twice', '.', 'last', '', '']);
  });

  it('send_message with an 8-bit body and BODY=8BITMIME: the bytes reach the dump unchanged', async () => {
    const dir = r.dir();
    const sink = await r.sink({ dumpTemplate: join(dir, 'msg.') });
    const { out, tally } = await py(
      `
from email.message import EmailMessage
from email import policy
m = EmailMessage(policy=policy.SMTP)
m['From'] = 'a@b.example'
m['To'] = 'c@d.example, e@f.example'
m['Subject'] = 'utf-8'
m.set_content('Gr\u00fc\u00dfe aus K\u00f6ln\\n.und ein Punkt\\n', cte='8bit')
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='client.example', timeout=10)
out['refused'] = s.send_message(m, mail_options=['BODY=8BITMIME'])
out['quit'] = s.quit()
`,
      [String(portOf(sink))],
    );
    expect(out).toEqual({ refused: {}, quit: [221, 'Bye'] });
    const s = await settled(sink, 1);
    expect(s).toMatchObject({ messages: 1, recipients: 2 });
    expectSameTally(tally, sinkTally(s));
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    const dump = readFileSync(join(dir, files[0]), 'utf8');
    expect(dump).toContain('\nX-Mail-Args: <a@b.example> BODY=8BITMIME\nX-Rcpt-Args: <c@d.example>\nX-Rcpt-Args: <e@f.example>\n');
    expect(dump).toContain('\nContent-Transfer-Encoding: 8bit\n');
    expect(dump.endsWith('\n\nGrüße aus Köln\n.und ein Punkt\n\n')).toBe(true);
  });

  it('dump mode after HELO: the dump says SMTP', async () => {
    const dir = r.dir();
    const sink = await r.sink({ dumpTemplate: join(dir, 'msg.') });
    const { tally } = await py(
      `
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=10)
out['helo'] = s.helo('old.example')
out['refused'] = s.sendmail('a@b.example', 'c@d.example', 'Subject: x\\r\\n\\r\\nx\\r\\n')
out['quit'] = s.quit()
`,
      [String(portOf(sink))],
    );
    expectSameTally(tally, sinkTally(await settled(sink, 1)));
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    const dump = readFileSync(join(dir, files[0]), 'utf8');
    expect(dump).toMatch(/^X-Client-Addr: 127\.0\.0\.1\nX-Client-Proto: SMTP\nX-Helo-Args: old\.example\nX-Mail-Args: <a@b\.example>\nX-Rcpt-Args: <c@d\.example>\nReceived: from old\.example \(\[127\.0\.0\.1\]\)\n\tby smtp-sink \(smtp-sink\) with SMTP id [0-9a-f]{8};\n\t[^\n]+\nSubject: x\n\nx\n\n$/);
  });
});

describe.skipIf(!python)('Python smtplib drives the CLI sink', () => {
  it('-M 1 with a second message in flight: once stopping, the sink accepts no message beyond the limit', async () => {
    // Client B opens a transaction and sends part of its message; client A then sends the
    // one message -M allows, gets its 250 and QUITs. The sink is now stopping: it lets
    // clients QUIT, and answers any other command, the end of data included, with 421.
    const sink = await r.cli(['-M', '1', '--json', '-']);
    const { out, tally } = await py(
      `
import time
port = int(sys.argv[1])
b = smtplib.SMTP('127.0.0.1', port, local_hostname='b.example', timeout=5)
b.ehlo()
b.mail('b@x.example')
b.rcpt('c@x.example')
b.putcmd('data')
out['b_data'] = b.getreply()
# B's message bytes go out by hand, not through data(): count them here.
part = b'Subject: in flight\\r\\n\\r\\npartial'
b.send(part)
tally['bytes'] += len(part)
a = smtplib.SMTP('127.0.0.1', port, local_hostname='a.example', timeout=5)
out['a_refused'] = a.sendmail('a@x.example', ['c@x.example'], 'Subject: a\\r\\n\\r\\nA\\r\\n')
out['a_quit'] = a.quit()
time.sleep(0.3)
part = b' rest\\r\\n'
b.send(part + b'.\\r\\n')
tally['bytes'] += len(part)
out['b_dot'] = b.getreply()
`,
      [String(sink.port)],
    );
    expect(out.b_data).toEqual([354, 'End data with <CR><LF>.<CR><LF>']);
    expect(out.a_refused).toEqual({});
    expect(out.a_quit).toEqual([221, 'Bye']);
    const exit = await Promise.race([sink.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 5000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(sink.stderr()).toContain('stopped (1 messages received)');
    const final = JSON.parse(sink.stdout()) as SinkStats;
    // B's message came after the limit: it must not be acknowledged as delivered.
    expect({ b_dot: out.b_dot, messagesAccepted: final.messagesAccepted }).toEqual({
      b_dot: [421, '4.0.0 Server closing connection'],
      messagesAccepted: 1,
    });
    expectSameTally(tally, sinkTally(final));
  });
});
