// The part before Postfix's text, in every form of reporter-notes.md section 2; the wire forms
// come from syslog-wire-forms.txt (captured from util-linux logger).
import { describe, expect, it } from 'vitest';
import { ofKind, one, oneOf, parseAll, parseFixture, utc } from './maillog-helpers.js';

const TEXT =
  '44E4D20C1BF: to=<user@remote.example>, relay=127.0.0.1[127.0.0.1]:2525, delay=0.02, delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)';

describe('syslog-wire-forms.txt', () => {
  const { records, counters } = parseFixture('syslog-wire-forms.txt');
  const deliveries = ofKind(records, 'delivery');

  it('all three lines are the same delivery', () => {
    expect(counters.lines).toBe(3);
    expect(deliveries.length).toBe(3);
    for (const d of deliveries) {
      expect(d).toMatchObject({
        host: 'vm',
        tag: 'postfix/smtp',
        program: 'smtp',
        pid: 6068,
        queueId: '44E4D20C1BF',
        to: 'user@remote.example',
        relay: '127.0.0.1[127.0.0.1]:2525',
        delay: 0.02,
        delays: { beforeQmgr: 0.01, inQmgr: 0.01, connSetup: 0, transmission: 0 },
        status: 'sent',
        reply: '250 2.0.0 Ok',
      });
      expect(d.text).toBe(TEXT.slice('44E4D20C1BF: '.length));
    }
  });

  it('RFC 3164 on the wire: <PRI> then the classic stamp', () => {
    expect(deliveries[0].time).toBe(utc('2026-11-24T21:34:49'));
    expect(deliveries[0].timePrecision).toBe('s');
  });

  it('RFC 5424 with structured data: microseconds', () => {
    expect(deliveries[1].time).toBeCloseTo(utc('2026-11-24T21:34:49.053') + 0.533, 6);
    expect(deliveries[1].timePrecision).toBe('us');
  });

  it('RFC 5424 with no time ("-"): the previous line\'s time, marked', () => {
    expect(deliveries[2].time).toBe(deliveries[1].time);
    expect(deliveries[2].timePrecision).toBe('none');
  });
});

describe('timestamp forms', () => {
  const at = (prefix: string): number | undefined => one(`${prefix} mx postfix/smtp[6068]: ${TEXT}`)?.time;

  it('maillog_file zero-pads the day, classic syslog space-pads it', () => {
    expect(at('Nov 04 21:29:06')).toBe(utc('2026-11-04T21:29:06'));
    expect(at('Nov  4 21:29:06')).toBe(utc('2026-11-04T21:29:06'));
    expect(at('Mar  1 11:45:55')).toBe(utc('2026-03-01T11:45:55'));
  });

  it('RFC 3339: fraction optional; offsets +hh:mm, +hhmm, Z', () => {
    const t = utc('2026-11-24T21:34:49');
    expect(at('2026-11-24T21:34:49+00:00')).toBe(t);
    expect(at('2026-11-24T22:34:49+01:00')).toBe(t);
    expect(at('2026-11-24T22:34:49+0100')).toBe(t);
    expect(at('2026-11-24T16:34:49-05:00')).toBe(t);
    expect(at('2026-11-24T21:34:49Z')).toBe(t);
    expect(at('2026-11-24T21:34:49.5Z')).toBe(t + 500);
    expect(at('2026-11-24T21:34:49.053Z')).toBe(t + 53);
    expect(one(`2026-11-24T21:34:49.053Z mx postfix/smtp[6068]: ${TEXT}`)?.timePrecision).toBe('ms');
    expect(at('2026-11-24T22:34:49.053533+01:00')).toBeCloseTo(t + 53.533, 6);
  });

  it('RFC 3339 without an offset is in the zone option', () => {
    expect(one(`2026-11-24T21:34:49 mx postfix/smtp[6068]: ${TEXT}`, { zone: '+02:00' })?.time).toBe(utc('2026-11-24T19:34:49'));
  });

  it('<PRI> before an RFC 3339 stamp', () => {
    expect(at('<22>2026-11-24T21:34:49+00:00')).toBe(utc('2026-11-24T21:34:49'));
  });

  it('not a time: garbled', () => {
    for (const bad of [
      'Nov 24 21:29',
      'Nox 24 21:29:06',
      'Nov 32 21:29:06',
      'Nov 24 24:29:06',
      'Nov 24 21:29:06.123',
      '2026-13-24T21:34:49Z',
      '2026-11-24T21:34:49+25',
      '2026-11-24 21:34:49',
      '1795556074.397341',
      '<999>Nov 24 21:29:06',
      '-- Boot 5c1c39d8f1e54f0a --',
    ]) {
      expect(one(`${bad} mx postfix/smtp[6068]: ${TEXT}`), bad).toBeUndefined();
    }
  });
});

describe('host, tag and pid', () => {
  it('RFC 5424: APP-NAME and PROCID fields, escaped "]" in structured data, a BOM before the message', () => {
    const r = oneOf(
      'delivery',
      `<22>1 2026-11-24T21:34:49Z vm.example postfix/relay/smtp 6068 ID47 [ex@32473 a="x\\]y" b="q\\"r"][t@1 c="d"] \uFEFF${TEXT}`,
    );
    expect([r.host, r.instance, r.service, r.program, r.pid]).toEqual(['vm.example', 'postfix', 'relay', 'smtp', 6068]);
    expect(r.queueId).toBe('44E4D20C1BF');
    const nil = one(`<22>1 2026-11-24T21:34:49Z - postfix/smtp - - - ${TEXT}`);
    expect([nil?.host, nil?.pid, nil?.kind]).toEqual(['', undefined, 'delivery']);
  });

  it('Solaris: [ID n facility.level] after the tag', () => {
    const r = oneOf('connect', 'Nov 24 21:29:06 mx postfix/smtpd[123]: [ID 197553 mail.info] connect from localhost[127.0.0.1]');
    expect(r.text).toBe('connect from localhost[127.0.0.1]');
  });

  it('a tag without a pid', () => {
    expect(one(`Nov 24 21:29:06 mx postfix/smtp: ${TEXT}`)).toMatchObject({ kind: 'delivery', pid: undefined });
  });

  it('instance, service and program from syslog_name/process', () => {
    const split = (tag: string) => {
      const r = one(`Nov 24 21:29:06 mx ${tag}[1]: ${TEXT}`);
      return r && [r.instance, r.service, r.program];
    };
    expect(split('postfix/smtp')).toEqual(['postfix', '', 'smtp']);
    expect(split('postfix-out/smtp')).toEqual(['postfix-out', '', 'smtp']);
    expect(split('postfix/relay/smtp')).toEqual(['postfix', 'relay', 'smtp']);
    expect(split('postfix/a/b/smtp')).toEqual(['postfix', 'a/b', 'smtp']);
  });

  it('other programs are foreign; an instance filter makes other instances foreign too', () => {
    expect(one('Nov 24 21:29:06 mx sshd[99]: Accepted publickey for root')?.kind).toBe('foreign');
    expect(one('Nov 24 21:29:06 mx dovecot: lmtp(6459): Connect from local')?.kind).toBe('foreign');
    const out = `Nov 24 21:32:53 mx postfix-out/smtp[6801]: ${TEXT}`;
    expect(one(out)?.kind).toBe('delivery');
    expect(one(out, { year: 2026, zone: 'UTC', instances: ['postfix'] })?.kind).toBe('foreign');
    expect(one(out, { year: 2026, zone: 'UTC', instances: ['postfix', 'postfix-out'] })?.kind).toBe('delivery');
  });

  it("Dovecot's own log has no host: the token after the time is the tag (fixture: dovecot-lmtp.dovecot.log)", () => {
    const r = one('Nov 24 21:30:09 lmtp(6461): Info: Connect from 127.0.0.1');
    expect(r).toMatchObject({ kind: 'foreign', host: '', tag: 'lmtp(6461)', text: 'Info: Connect from 127.0.0.1' });
    // The session id may hold a '/': still not a Postfix tag.
    expect(
      one('Nov 24 21:31:00 lmtp(user@lmtp.example.test)<6552></ALmChQCBmudGQAAg+zDdQ>: Info: msgid=<x@vm>: saved mail to INBOX')?.kind,
    ).toBe('foreign');
  });

  it('lines with a time but no tag are unknown (sysklogd, rsyslog repeats)', () => {
    expect(one('Nov 24 21:29:06 mx last message repeated 3 times')).toMatchObject({ kind: 'unknown', host: 'mx', tag: '' });
    expect(
      one('Nov 24 21:29:06 mx postfix/smtpd[1]: message repeated 2 times: [ connect from localhost[127.0.0.1]]')?.kind,
    ).toBe('unknown');
  });

  it('severity words, and the queue id after them', () => {
    const r = one('Nov 24 21:29:06 mx postfix/smtp[1]: warning: 44E4D20C1BF: defer service failure');
    expect(r).toMatchObject({ kind: 'other', severity: 'warning', queueId: '44E4D20C1BF', text: 'defer service failure' });
    // A severity word needs ": " to count.
    expect(one('Nov 24 21:29:06 mx postfix/smtpd[1]: warnings are fine')?.severity).toBe('info');
  });

  it('hosts and tags are shared strings across lines', () => {
    const { records } = parseAll(
      `Nov 24 21:29:06 mx postfix/smtp[1]: ${TEXT}\nNov 24 21:29:07 mx postfix/smtp[2]: ${TEXT}\n`,
    );
    expect(records[0].host).toBe(records[1].host);
    expect(records[0].tag).toBe(records[1].tag);
  });
});
