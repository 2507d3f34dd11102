// Field-by-field checks of single lines, per program. Lines marked "fixture" are copied from
// the fixture logs; the others follow the grammar in reporter-notes.md section 3 (Postfix
// source or lines seen elsewhere) for forms the fixtures do not have.
import { describe, expect, it } from 'vitest';
import { one, oneOf, utc } from './maillog-helpers.js';

const T = utc('2026-11-24T21:29:06');

describe('delivery lines', () => {
  it('smtp: the whole record (fixture: setup-first-tries)', () => {
    const line =
      'Nov 24 21:29:06 mx postfix/smtp[6068]: 44E4D20C1BF: to=<user@remote.example>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.02, delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)';
    expect(one(line)).toStrictEqual({
      time: T,
      timePrecision: 's',
      line: 0,
      host: 'mx',
      tag: 'postfix/smtp',
      instance: 'postfix',
      service: '',
      program: 'smtp',
      pid: 6068,
      severity: 'info',
      queueId: '44E4D20C1BF',
      text: 'to=<user@remote.example>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.02, delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)',
      kind: 'delivery',
      to: 'user@remote.example',
      origTo: undefined,
      relay: '127.0.0.1[127.0.0.1]:2525',
      connUse: undefined,
      delay: 0.02,
      delays: { beforeQmgr: 0.01, inQmgr: 0.01, connSetup: 0, transmission: 0 },
      dsn: '2.0.0',
      status: 'sent',
      reply: '250 2.0.0 Ok',
      queuedAs: undefined,
      extra: undefined,
    });
  });

  it('smtp on a cached connection: conn_use (fixture: transports-mixed)', () => {
    const r = oneOf(
      'delivery',
      'Nov 24 21:32:56 mx postfix/smtp[6797]: 4jYwyc4GfszJ9fW: to=<user@remote.example>, relay=127.0.0.1[127.0.0.1]:2525, conn_use=5, delay=0.01, delays=0/0.01/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)',
    );
    expect(r).toMatchObject({ queueId: '4jYwyc4GfszJ9fW', connUse: 5, delay: 0.01, status: 'sent' });
    expect(r.delays).toEqual({ beforeQmgr: 0, inQmgr: 0.01, connSetup: 0, transmission: 0 });
  });

  it('smtp: a queue backlog shows in delays b, the sink pause in d (fixture: relay-backlog)', () => {
    const r = oneOf(
      'delivery',
      'Nov 24 21:34:39 mx postfix/smtp[7196]: 7648420C509: to=<user@remote.example>, relay=127.0.0.1[127.0.0.1]:2525, conn_use=4, delay=5.2, delays=0.01/4.1/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)',
    );
    expect(r.delay).toBe(5.2);
    expect(r.delays).toEqual({ beforeQmgr: 0.01, inQmgr: 4.1, connSetup: 0, transmission: 1 });
  });

  it('smtp: deferred with relay=none when no connection was made (fixture: relay-faults)', () => {
    const r = oneOf(
      'delivery',
      'Nov 24 21:34:05 mx postfix/smtp[7034]: 4jYwzx4Y0VzJ9BM: to=<user@remote.example>, relay=none, delay=0.02, delays=0.01/0.01/0/0, dsn=4.4.1, status=deferred (connect to 127.0.0.1[127.0.0.1]:2525: Connection refused)',
    );
    expect(r).toMatchObject({
      relay: 'none',
      dsn: '4.4.1',
      status: 'deferred',
      reply: 'connect to 127.0.0.1[127.0.0.1]:2525: Connection refused',
    });
  });

  it('smtp: bounced, the reply holding parentheses of its own (fixture: relay-faults)', () => {
    const r = oneOf(
      'delivery',
      'Nov 24 21:33:30 mx postfix/smtp[6825]: 4jYwzG1Kj5zJ9CX: to=<user@remote.example>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.01, delays=0/0/0/0, dsn=5.3.0, status=bounced (host 127.0.0.1[127.0.0.1] said: 500 5.3.0 Error: command failed (in reply to end of DATA command))',
    );
    expect(r.status).toBe('bounced');
    expect(r.reply).toBe('host 127.0.0.1[127.0.0.1] said: 500 5.3.0 Error: command failed (in reply to end of DATA command)');
    expect(r.queueId).toBe('4jYwzG1Kj5zJ9CX');
  });

  it('smtp: a retried message, delays a = the time it sat deferred (fixture: relay-faults)', () => {
    const r = oneOf(
      'delivery',
      'Nov 24 21:33:45 mx postfix/smtp[6941]: 4jYwzM1VLMzJ9Kw: to=<user@remote.example>, relay=127.0.0.1[127.0.0.1]:2525, delay=10, delays=10/0/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)',
    );
    expect(r.delay).toBe(10);
    expect(r.delays?.beforeQmgr).toBe(10);
  });

  it('lmtp over a unix socket, and Dovecot\'s session id in the reply (fixture: transports-mixed)', () => {
    const r = oneOf(
      'delivery',
      'Nov 24 21:32:53 mx postfix/lmtp[6811]: 4jYwyY3RRjzJ9Kx: to=<user@lmtpunix.example.test>, relay=mx.example.test[private/dovecot-lmtp], delay=0.06, delays=0.01/0.05/0/0, dsn=2.0.0, status=sent (250 2.0.0 <user@lmtpunix.example.test> cJH8H4UCBmtOGgAAg+zDdQ Saved)',
    );
    expect(r).toMatchObject({
      program: 'lmtp',
      relay: 'mx.example.test[private/dovecot-lmtp]',
      delay: 0.06,
      delays: { beforeQmgr: 0.01, inQmgr: 0.05, connSetup: 0, transmission: 0 },
      reply: '250 2.0.0 <user@lmtpunix.example.test> cJH8H4UCBmtOGgAAg+zDdQ Saved',
    });
  });

  it('lmtp: 51 s in the deferred queue (fixture: setup-first-tries)', () => {
    const r = oneOf(
      'delivery',
      'Nov 24 21:31:00 mx postfix/lmtp[6550]: F3E5E20C44B: to=<user@lmtp.example.test>, relay=127.0.0.1[127.0.0.1]:24024, delay=51, delays=51/0.02/0.03/0.01, dsn=2.0.0, status=sent (250 2.0.0 <user@lmtp.example.test> /ALmChQCBmudGQAAg+zDdQ Saved)',
    );
    expect(r.delay).toBe(51);
    expect(r.delays).toEqual({ beforeQmgr: 51, inQmgr: 0.02, connSetup: 0.03, transmission: 0.01 });
    expect(r.relay).toBe('127.0.0.1[127.0.0.1]:24024');
  });

  it('local with orig_to (fixture: transports-mixed)', () => {
    const r = oneOf(
      'delivery',
      'Nov 24 21:32:53 mx postfix/local[6803]: 4jYwyY3RRjzJ9Kx: to=<user@localhost>, orig_to=<multi@example.test>, relay=local, delay=0.05, delays=0.01/0.03/0/0.01, dsn=2.0.0, status=sent (delivered to maildir)',
    );
    expect(r).toMatchObject({
      to: 'user@localhost',
      origTo: 'multi@example.test',
      relay: 'local',
      delay: 0.05,
      delays: { beforeQmgr: 0.01, inQmgr: 0.03, connSetup: 0, transmission: 0.01 },
      reply: 'delivered to maildir',
    });
  });

  it('virtual (fixture: transports-mixed)', () => {
    const r = oneOf(
      'delivery',
      'Nov 24 21:32:55 mx postfix/virtual[6795]: 4jYwyb4576zJ9fN: to=<user@virt.example.test>, relay=virtual, delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to maildir)',
    );
    expect(r).toMatchObject({ program: 'virtual', relay: 'virtual', delay: 0, status: 'sent' });
  });

  it('pipe: bounced by a failing command (fixture: transports-mixed)', () => {
    const r = oneOf(
      'delivery',
      'Nov 24 21:32:53 mx postfix/pipe[6799]: 4jYwyY3RRjzJ9Kx: to=<user@pipefail.example.test>, relay=failpipe, delay=0.06, delays=0.01/0.03/0/0.02, dsn=5.3.0, status=bounced (Command died with status 1: "/bin/false")',
    );
    expect(r).toMatchObject({ relay: 'failpipe', dsn: '5.3.0', status: 'bounced', reply: 'Command died with status 1: "/bin/false"' });
  });

  it('discard: relay=none, the nexthop as text (fixture: setup-first-tries)', () => {
    const r = oneOf(
      'delivery',
      'Nov 24 21:30:09 mx postfix/discard[6453]: F3E5E20C44B: to=<user@discard.example.test>, relay=none, delay=0.04, delays=0.02/0.03/0/0, dsn=2.0.0, status=sent (benchmark)',
    );
    expect(r).toMatchObject({ program: 'discard', relay: 'none', reply: 'benchmark', delays: { beforeQmgr: 0.02, inQmgr: 0.03 } });
  });

  it('error: deferred by the retry service, the text nesting parentheses (fixture: transports-mixed)', () => {
    const r = oneOf(
      'delivery',
      'Nov 24 21:32:53 mx postfix/error[6796]: 4jYwyY3RRjzJ9Kx: to=<user@retry.example.test>, orig_to=<retryto@example.test>, relay=none, delay=0.06, delays=0.01/0.02/0/0.03, dsn=4.3.2, status=deferred (try again later (test))',
    );
    expect(r).toMatchObject({ origTo: 'retryto@example.test', dsn: '4.3.2', status: 'deferred', reply: 'try again later (test)' });
  });

  it('postfix-out/smtp and postfix/relay/smtp: instance, service, program (fixture: transports-mixed)', () => {
    const out = oneOf(
      'delivery',
      'Nov 24 21:32:53 mx postfix-out/smtp[6801]: 4jYwyY3RRjzJ9Kx: to=<user@out.example.test>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.04, delays=0.01/0.03/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)',
    );
    expect([out.tag, out.instance, out.service, out.program]).toEqual(['postfix-out/smtp', 'postfix-out', '', 'smtp']);
    const relay = oneOf(
      'delivery',
      'Nov 24 21:32:53 mx postfix/relay/smtp[6798]: 4jYwyY3RRjzJ9Kx: to=<user@relay.example.test>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.04, delays=0.01/0.03/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)',
    );
    expect([relay.tag, relay.instance, relay.service, relay.program]).toEqual(['postfix/relay/smtp', 'postfix', 'relay', 'smtp']);
  });

  it('keeps unknown fields (Postfix 3.11 tls=) and reads quoted addresses', () => {
    const r = oneOf(
      'delivery',
      'Nov 24 21:29:06 mx postfix/smtp[6068]: 44E4D20C1BF: to=<"a>b, c"@example.com>, orig_to=<"x, y"@example.com>, relay=mx.example.com[192.0.2.1]:25, delay=1.1, delays=0.1/0/0.5/0.5, tls=dane, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 664D820C1B5)',
    );
    expect(r).toMatchObject({
      to: '"a>b, c"@example.com',
      origTo: '"x, y"@example.com',
      extra: { tls: 'dane' },
      queuedAs: '664D820C1B5',
    });
  });

  it('local: forwarded as a new message; undeliverable from a verify probe', () => {
    expect(
      oneOf(
        'delivery',
        'Nov 24 21:29:06 mx postfix/local[6068]: 44E4D20C1BF: to=<a@localhost>, relay=local, delay=0.02, delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (forwarded as 4jYwyY3s8LzJ9fJ)',
      ).queuedAs,
    ).toBe('4jYwyY3s8LzJ9fJ');
    expect(
      oneOf(
        'delivery',
        'Nov 24 21:29:06 mx postfix/local[6068]: 44E4D20C1BF: to=<email2@localhost>, relay=local, delay=0.01, delays=0/0/0/0, dsn=5.1.1, status=undeliverable (unknown user: "email2")',
      ),
    ).toMatchObject({ status: 'undeliverable', reply: 'unknown user: "email2"' });
  });

  it('a status without a recipient', () => {
    expect(
      oneOf('message-status', 'Nov 24 21:29:06 mx postfix/smtp[6068]: 44E4D20C1BF: status=deferred (bounce failed)'),
    ).toMatchObject({ queueId: '44E4D20C1BF', status: 'deferred', reply: 'bounce failed' });
  });

  it('a delivery line that does not fit is unknown, not a wrong record', () => {
    const head = 'Nov 24 21:29:06 mx postfix/smtp[6068]: 44E4D20C1BF: ';
    for (const text of [
      'to=<user@remote.example>, relay=127.0.0.1, delay=x, delays=0/0/0/0, dsn=2.0.0, status=sent (ok)',
      'to=<user@remote.example>, relay=127.0.0.1, delay=1, delays=0/0/0, dsn=2.0.0, status=sent (ok)',
      'to=<user@remote.example>, relay=127.0.0.1, delay=1, dsn=2.0.0, status=delivered (ok)',
      'to=<user@remote.example>, delay=1, dsn=2.0.0, status=sent (ok)',
      'to=<user@remote.example, relay=none',
      'to=<user@remote.example>, relay=local, conn_use=0, delay=1, dsn=2.0.0, status=sent (ok)',
      'to=<user@remote.example>, relay=local, __proto__=1, delay=1, dsn=2.0.0, status=sent (ok)',
    ]) {
      expect(one(head + text)?.kind, text).toBe('unknown');
    }
  });
});

describe('smtpd', () => {
  it('connect (fixture: local-maildir), with a port, with IPv6', () => {
    const r = oneOf('connect', 'Nov 24 21:32:17 mx postfix/smtpd[6509]: connect from localhost[127.0.0.1]');
    expect(r).toMatchObject({ pid: 6509, queueId: undefined, client: { name: 'localhost', addr: '127.0.0.1', port: undefined } });
    expect(oneOf('connect', 'Nov 24 21:32:17 mx postfix/smtpd[1]: connect from localhost[127.0.0.1]:54321').client.port).toBe(54321);
    expect(oneOf('connect', 'Nov 24 21:32:17 mx postfix/smtpd[1]: connect from unknown[2001:db8::1]').client).toEqual({
      name: 'unknown',
      addr: '2001:db8::1',
      port: undefined,
    });
  });

  it('disconnect with ok/total counts (fixture: transports-mixed)', () => {
    const r = oneOf(
      'disconnect',
      'Nov 24 21:32:53 mx postfix/smtpd[6791]: disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=13/15 data=1 quit=1 commands=17/19',
    );
    expect(r.counts).toEqual({
      ehlo: { ok: 1, total: 1 },
      mail: { ok: 1, total: 1 },
      rcpt: { ok: 13, total: 15 },
      data: { ok: 1, total: 1 },
      quit: { ok: 1, total: 1 },
    });
    expect(r.commands).toEqual({ ok: 17, total: 19 });
    expect(r.client.addr).toBe('127.0.0.1');
  });

  it('client= (fixture), via the submission smtpd (fixture), with SASL attributes', () => {
    const r = oneOf('client', 'Nov 24 21:32:53 mx postfix/smtpd[6791]: 4jYwyY3RRjzJ9Kx: client=localhost[127.0.0.1]');
    expect(r).toMatchObject({ queueId: '4jYwyY3RRjzJ9Kx', client: { name: 'localhost', addr: '127.0.0.1' }, attributes: {} });
    const sub = oneOf('client', 'Nov 24 21:32:55 mx postfix/submission/smtpd[6816]: 4jYwyb3zG7zJ9fM: client=localhost[127.0.0.1]');
    expect([sub.instance, sub.service, sub.program, sub.queueId]).toEqual(['postfix', 'submission', 'smtpd', '4jYwyb3zG7zJ9fM']);
    const sasl = oneOf(
      'client',
      'Nov 24 21:32:55 mx postfix/smtpd[1]: 44E4D20C1BF: client=unknown[192.0.2.1], sasl_method=PLAIN, sasl_username=alice',
    );
    expect(sasl.attributes).toEqual({ sasl_method: 'PLAIN', sasl_username: 'alice' });
  });

  it('NOQUEUE reject: every field (fixture: transports-mixed)', () => {
    const r = oneOf(
      'reject',
      'Nov 24 21:32:53 mx postfix/smtpd[6791]: NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 550 5.1.1 <nosuch@localhost>: Recipient address rejected: User unknown in local recipient table; from=<sender@example.com> to=<nosuch@localhost> proto=ESMTP helo=<vm>',
    );
    expect(r).toMatchObject({
      queueId: undefined,
      action: 'reject',
      stage: 'RCPT',
      content: '',
      client: { name: 'localhost', addr: '127.0.0.1', port: undefined },
      code: 550,
      dsn: '5.1.1',
      reason: '<nosuch@localhost>: Recipient address rejected: User unknown in local recipient table',
      from: 'sender@example.com',
      to: 'nosuch@localhost',
      proto: 'ESMTP',
      helo: 'vm',
    });
  });

  it('QID reject after the queue file exists (fixture: setup-first-tries)', () => {
    const r = oneOf(
      'reject',
      'Nov 24 21:30:08 mx postfix/smtpd[6440]: F3E5E20C44B: reject: RCPT from localhost[127.0.0.1]: 450 4.3.2 <user@retry.example.test>: Recipient address rejected: try again later (test); from=<sender@example.com> to=<user@retry.example.test> proto=ESMTP helo=<vm>',
    );
    expect(r).toMatchObject({ queueId: 'F3E5E20C44B', code: 450, dsn: '4.3.2', to: 'user@retry.example.test' });
    expect(r.reason).toBe('<user@retry.example.test>: Recipient address rejected: try again later (test)');
  });

  it('a reject text holding "; " (RBL), a CONNECT reject with proto only, reject_warning', () => {
    const rbl = oneOf(
      'reject',
      'Nov 24 21:30:08 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; from=<a@example.com> to=<b@example.test> proto=ESMTP helo=<x>',
    );
    expect(rbl.reason).toBe('Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org');
    expect([rbl.from, rbl.to, rbl.helo]).toEqual(['a@example.com', 'b@example.test', 'x']);
    const connect = oneOf(
      'reject',
      'Nov 24 21:30:08 mx postfix/smtpd[1]: NOQUEUE: reject: CONNECT from unknown[192.0.2.1]: 554 5.7.1 <unknown[192.0.2.1]>: Client host rejected: Access denied; proto=SMTP',
    );
    expect(connect).toMatchObject({ stage: 'CONNECT', proto: 'SMTP', from: undefined, to: undefined, helo: undefined });
    const warn = oneOf(
      'reject',
      'Nov 24 21:30:08 mx postfix/smtpd[1]: NOQUEUE: reject_warning: RCPT from unknown[192.0.2.1]: 450 4.7.1 <x>: Helo command rejected: Host not found; from=<> to=<b@example.test> proto=ESMTP helo=<x>',
    );
    expect(warn).toMatchObject({ action: 'reject_warning', from: '', code: 450 });
  });

  it('session aborts', () => {
    expect(oneOf('session-abort', 'Nov 24 21:30:08 mx postfix/smtpd[1]: lost connection after DATA from unknown[192.0.2.1]')).toMatchObject({
      reason: 'lost connection',
      after: 'DATA',
      client: { addr: '192.0.2.1' },
    });
    expect(
      oneOf('session-abort', 'Nov 24 21:30:08 mx postfix/smtpd[1]: timeout after END-OF-MESSAGE from mail.example.com[2001:db8::5]:41234'),
    ).toMatchObject({ reason: 'timeout', after: 'END-OF-MESSAGE', client: { addr: '2001:db8::5', port: 41234 } });
  });
});

describe('cleanup', () => {
  it('message-id as written (fixtures: a client\'s, and one cleanup made up)', () => {
    expect(
      oneOf('message-id', 'Nov 24 21:32:17 mx postfix/cleanup[6513]: AAA3120C13D: message-id=<19e2.0003.002e@vm>'),
    ).toMatchObject({ queueId: 'AAA3120C13D', messageId: '<19e2.0003.002e@vm>', resent: false });
    expect(
      oneOf('message-id', 'Nov 24 21:30:09 mx postfix/cleanup[6443]: 1749D20C45F: message-id=<20261124213009.1749D20C45F@mx.example.test>')
        .messageId,
    ).toBe('<20261124213009.1749D20C45F@mx.example.test>');
  });

  it('empty, bare and resent message ids', () => {
    expect(oneOf('message-id', 'Nov 24 21:32:17 mx postfix/cleanup[1]: AAA3120C13D: message-id=').messageId).toBe('');
    expect(oneOf('message-id', 'Nov 24 21:32:17 mx postfix/cleanup[1]: AAA3120C13D: message-id=abc@def').messageId).toBe('abc@def');
    expect(
      oneOf('message-id', 'Nov 24 21:32:17 mx postfix/cleanup[1]: AAA3120C13D: resent-message-id=<r@x>'),
    ).toMatchObject({ messageId: '<r@x>', resent: true });
  });

  it('header_checks and milter actions', () => {
    const header = oneOf(
      'reject',
      'Nov 24 21:40:00 mx postfix/cleanup[7000]: 4jYwyY3RRjzJ9Kx: reject: header Subject: buy now from localhost[127.0.0.1]; from=<a@example.com> to=<b@example.com> proto=ESMTP helo=<vm>: 5.7.1 spam is not welcome',
    );
    expect(header).toMatchObject({
      program: 'cleanup',
      action: 'reject',
      stage: 'header',
      content: 'Subject: buy now',
      client: { name: 'localhost', addr: '127.0.0.1' },
      code: undefined,
      dsn: '5.7.1',
      reason: 'spam is not welcome',
      from: 'a@example.com',
      to: 'b@example.com',
    });
    const warning = oneOf(
      'reject',
      'Nov 24 21:40:00 mx postfix/cleanup[7000]: 4jYwyY3RRjzJ9Kx: warning: header Subject: hello from localhost[127.0.0.1]; from=<a@example.com> to=<b@example.com> proto=ESMTP helo=<vm>',
    );
    // "warning:" after the queue id is a header_checks action, not the record's severity.
    expect([warning.action, warning.severity, warning.reason]).toEqual(['warning', 'info', '']);
    const milter = oneOf(
      'reject',
      'Nov 24 21:40:00 mx postfix/cleanup[7000]: 44E4D20C1BF: milter-reject: END-OF-MESSAGE from localhost[127.0.0.1]: 5.7.1 Command rejected; from=<a@example.com> to=<b@example.com> proto=ESMTP helo=<vm>',
    );
    expect(milter).toMatchObject({ action: 'milter-reject', stage: 'END-OF-MESSAGE', dsn: '5.7.1', reason: 'Command rejected' });
  });
});

describe('qmgr', () => {
  it('from=, size=, nrcpt= (fixtures: a client\'s message, a bounce notice)', () => {
    expect(
      oneOf('active', 'Nov 24 21:32:53 mx postfix/qmgr[6787]: 4jYwyY3RRjzJ9Kx: from=<sender@example.com>, size=699, nrcpt=15 (queue active)'),
    ).toMatchObject({ queueId: '4jYwyY3RRjzJ9Kx', from: 'sender@example.com', size: 699, nrcpt: 15 });
    expect(
      oneOf('active', 'Nov 24 21:32:53 mx postfix/qmgr[6787]: 4jYwyY3s8LzJ9fJ: from=<>, size=2902, nrcpt=1 (queue active)'),
    ).toMatchObject({ from: '', size: 2902, nrcpt: 1 });
  });

  it('removed, expired (fixture: relay-faults), skipped', () => {
    expect(oneOf('removed', 'Nov 24 21:32:17 mx postfix/qmgr[6506]: AAA3120C13D: removed')).toMatchObject({
      queueId: 'AAA3120C13D',
      program: 'qmgr',
    });
    expect(
      oneOf('expired', 'Nov 24 21:34:08 mx postfix/qmgr[7026]: 4jYwzx4YtrzJ9By: from=<a@example.com>, status=expired, returned to sender'),
    ).toMatchObject({ queueId: '4jYwzx4YtrzJ9By', from: 'a@example.com', detail: 'returned to sender' });
    expect(oneOf('other', 'Nov 24 21:34:08 mx postfix/qmgr[7026]: 4jYwzx4YtrzJ9By: skipped, still being delivered').what).toBe('queue');
  });

  it('qmgr writing a to= line itself', () => {
    const r = oneOf(
      'delivery',
      'Nov 24 21:34:08 mx postfix/qmgr[7026]: 4jYwzx4YtrzJ9By: to=<a@example.com>, relay=none, delay=3, delays=3/0/0/0, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to 127.0.0.1[127.0.0.1]:2525: Connection refused)',
    );
    expect(r).toMatchObject({ program: 'qmgr', status: 'deferred', delay: 3 });
  });
});

describe('the other programs', () => {
  it('bounce: a non-delivery notice names the new message (fixture: relay-faults)', () => {
    expect(
      oneOf('notification', 'Nov 24 21:33:30 mx postfix/bounce[6814]: 4jYwzG1Kj5zJ9CX: sender non-delivery notification: 4jYwzG1QL4zJ9Ff'),
    ).toMatchObject({ queueId: '4jYwzG1Kj5zJ9CX', notice: 'sender non-delivery', notificationId: '4jYwzG1QL4zJ9Ff' });
    expect(
      oneOf('notification', 'Nov 24 21:33:30 mx postfix/bounce[1]: 44E4D20C1BF: sender delay notification: 4560520C1C0').notice,
    ).toBe('sender delay');
  });

  it('pickup (fixture: transports-mixed) and the older sender= form', () => {
    expect(oneOf('pickup', 'Nov 24 21:32:55 mx postfix/pickup[6786]: 4jYwyb4576zJ9fN: uid=0 from=<root@example.test>')).toMatchObject({
      queueId: '4jYwyb4576zJ9fN',
      uid: 0,
      from: 'root@example.test',
    });
    expect(oneOf('pickup', 'Nov 24 21:32:55 mx postfix/pickup[1]: 44E4D20C1BF: uid=1000 sender=<u@x>').uid).toBe(1000);
  });

  it('postsuper: per message and totals (fixture: relay-faults, transports-mixed)', () => {
    expect(oneOf('removed', 'Nov 24 21:34:15 mx postfix/postsuper[7106]: 4jYx004gpgzJ9Dp: removed').program).toBe('postsuper');
    expect(oneOf('postsuper', 'Nov 24 21:34:15 mx postfix/postsuper[7107]: 4jYx004hhrzJ9Dq: placed on hold').action).toBe('hold');
    expect(oneOf('postsuper', 'Nov 24 21:34:19 mx postfix/postsuper[7127]: 4jYx004hhrzJ9Dq: released from hold').action).toBe('release');
    expect(oneOf('postsuper', 'Nov 24 21:34:19 mx postfix/postsuper[1]: 4jYx004hhrzJ9Dq: requeued').action).toBe('requeue');
    expect(oneOf('postsuper-summary', 'Nov 24 21:33:04 mx postfix/postsuper[6848]: Deleted: 1 message')).toMatchObject({
      action: 'delete',
      count: 1,
    });
    expect(oneOf('postsuper-summary', 'Nov 24 21:34:15 mx postfix/postsuper[7107]: Placed on hold: 1 message').action).toBe('hold');
    expect(oneOf('postsuper-summary', 'Nov 24 21:34:19 mx postfix/postsuper[7127]: Released from hold: 1 message').action).toBe('release');
    expect(oneOf('postsuper-summary', 'Nov 24 21:34:19 mx postfix/postsuper[1]: Requeued: 12 messages').count).toBe(12);
  });

  it('master and postfix-script (fixture: setup-first-tries)', () => {
    expect(
      oneOf('lifecycle', 'Nov 24 21:29:03 mx postfix/master[6038]: daemon started -- version 3.7.11, configuration /srv/pfx/etc'),
    ).toMatchObject({ event: 'daemon-started', version: '3.7.11', configDirectory: '/srv/pfx/etc' });
    expect(
      oneOf('lifecycle', 'Nov 24 21:30:03 mx postfix/master[6038]: reload -- version 3.7.11, configuration /srv/pfx/etc').event,
    ).toBe('reload');
    expect(oneOf('lifecycle', 'Nov 24 21:29:03 mx postfix/postfix-script[6036]: starting the Postfix mail system').event).toBe('starting');
    expect(oneOf('lifecycle', 'Nov 24 21:30:03 mx postfix/postfix-script[6409]: refreshing the Postfix mail system').event).toBe(
      'refreshing',
    );
    expect(oneOf('lifecycle', 'Nov 24 21:28:59 mx postfix/postfix-script[5945]: fatal: mail system startup failed')).toMatchObject({
      event: 'startup-failed',
      severity: 'fatal',
      text: 'mail system startup failed',
    });
    expect(oneOf('lifecycle', 'Nov 24 21:40:00 mx postfix/master[6038]: terminating on signal 15').event).toBe('terminating');
  });

  it('diagnostics keep their severity (fixture: setup-first-tries)', () => {
    expect(
      oneOf('other', 'Nov 24 21:28:51 mx postfix/postfix-script[5840]: warning: not owned by postfix: /srv/pfx/data/.'),
    ).toMatchObject({ what: 'diagnostic', severity: 'warning', text: 'not owned by postfix: /srv/pfx/data/.' });
    expect(
      oneOf('other', 'Nov 24 21:28:57 mx postfix/master[5944]: fatal: open lock file /srv/pfx/data/master.lock: cannot create file exclusively: Permission denied'),
    ).toMatchObject({ what: 'diagnostic', severity: 'fatal' });
    expect(one('Nov 24 21:28:57 mx postfix/smtpd[1]: error: open database /etc/postfix/x.db: No such file')?.severity).toBe('error');
    expect(one('Nov 24 21:28:57 mx postfix/smtpd[1]: panic: myfree: corrupt or unallocated memory block')?.severity).toBe('panic');
  });

  it('statistics, connection chatter, programs without a grammar (fixtures: relay-faults; postscreen)', () => {
    expect(oneOf('other', 'Nov 24 21:34:04 mx postfix/scache[6826]: statistics: domain lookup hits=4 miss=13 success=23%').what).toBe(
      'statistics',
    );
    expect(oneOf('other', 'Nov 24 21:34:05 mx postfix/smtp[7034]: connect to 127.0.0.1[127.0.0.1]:2525: Connection refused').what).toBe(
      'connection',
    );
    expect(
      oneOf('other', 'Nov 24 21:34:05 mx postfix/postscreen[1]: CONNECT from [192.0.2.1]:4711 to [192.0.2.2]:25').what,
    ).toBe('unmodelled');
  });

  it('unknown: a Postfix program saying something no grammar knows', () => {
    expect(one('Nov 24 21:34:05 mx postfix/smtpd[1]: something new')?.kind).toBe('unknown');
    expect(one('Nov 24 21:34:05 mx postfix/qmgr[1]: 44E4D20C1BF: something new')?.kind).toBe('unknown');
    expect(one('Nov 24 21:34:05 mx postfix/cleanup[1]: 44E4D20C1BF: reject: not the usual form')?.kind).toBe('unknown');
  });
});
