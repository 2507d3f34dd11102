import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BODY, fileBody, HeaderBuilder, lengthBody } from '../src/message.js';
import { parseQueueId } from '../src/queue-id.js';

describe('the -l body, as the C smtp-source builds it', () => {
  it('-l 200: two numbered 80-byte lines, then 40 X', () => {
    const b = lengthBody(200).toString('latin1');
    expect(b).toBe('1' + 'X'.repeat(77) + '\r\n' + '2' + 'X'.repeat(77) + '\r\n' + 'X'.repeat(40) + '\r\n');
  });

  it('-l 80: one line of 80 X (no digit)', () => {
    expect(lengthBody(80).toString('latin1')).toBe('X'.repeat(80) + '\r\n');
  });

  it('-l 5120: 63 numbered lines cycling 1..9,0 then 80 X; n+2 bytes; no line starts with a dot', () => {
    const b = lengthBody(5120);
    expect(b.length).toBe(5122);
    const lines = b.toString('latin1').split('\r\n');
    expect(lines).toHaveLength(65);
    expect(lines.slice(0, 63).map((l) => l[0]).join('')).toBe('1234567890'.repeat(7).slice(0, 63));
    expect(lines.slice(0, 63).every((l) => l.length === 78)).toBe(true);
    expect(lines[63]).toBe('X'.repeat(80));
    expect(lines[64]).toBe('');
  });

  it('-l 1: one X', () => {
    expect(lengthBody(1).toString('latin1')).toBe('X\r\n');
  });

  it('the default body is four "La de da" lines', () => {
    expect(DEFAULT_BODY.toString()).toBe('La de da de da 1.\r\nLa de da de da 2.\r\nLa de da de da 3.\r\nLa de da de da 4.\r\n');
  });
});

describe('-F files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smtpstone-f-'));
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('LF and CRLF files alike become CRLF lines, leading dots doubled', () => {
    const expected = 'Subject: x\r\n\r\n..dot\r\nplain\r\n...\r\n';
    expect(fileBody(file('lf', 'Subject: x\n\n.dot\nplain\n..\n')).toString()).toBe(expected);
    expect(fileBody(file('crlf', 'Subject: x\r\n\r\n.dot\r\nplain\r\n..\r\n')).toString()).toBe(expected);
  });

  it('a last line without a newline still gets CRLF', () => {
    expect(fileBody(file('nolf', 'a\nb')).toString()).toBe('a\r\nb\r\n');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('generated headers', () => {
  const base = { sender: 'a@x', recipient: 'b@y', myHostname: 'vm', runId: 'r1', date: new Date(Date.UTC(2026, 10, 24, 20, 17, 30)) };

  it('From, To, Date, Message-Id, X-Smtpstone-Id, Subject, empty line', () => {
    const h = new HeaderBuilder({ ...base, subject: 'hello', tracking: true }).build(7).toString();
    const lines = h.split('\r\n');
    expect(lines[0]).toBe('From: <a@x>');
    expect(lines[1]).toBe('To: <b@y>');
    expect(lines[2]).toMatch(/^Date: Tue, 24 Nov 2026 \d\d:\d\d:30 [+-]\d{4} \(.+\)$/);
    expect(lines.slice(3)).toEqual(['Message-Id: <r1.7@vm>', 'X-Smtpstone-Id: r1.7', 'Subject: hello', '', '']);
  });

  it('with tracking off, the original Message-Id form <pid.session.left@host> and no X-Smtpstone-Id', () => {
    const h = new HeaderBuilder({ ...base, tracking: false }).build(3, 2, 0).toString();
    const pid = (process.pid & 0xffff).toString(16).padStart(4, '0');
    expect(h).toContain(`Message-Id: <${pid}.0002.0000@vm>\r\n\r\n`);
    expect(h).not.toContain('X-Smtpstone-Id');
  });
});

describe('queue ids in end-of-data replies', () => {
  it.each([
    ['2.0.0 Ok: queued as 4ABC12DEF', '4ABC12DEF'],
    ['2.0.0 Ok: queued as 4fQ3Zs0Lq9z2xQ', '4fQ3Zs0Lq9z2xQ'],
    ['OK id=1tEZ0c-0004Sl-2V', '1tEZ0c-0004Sl-2V'],
    ['2.0.0 4AQ8e1xT012345 Message accepted for delivery', '4AQ8e1xT012345'],
    ['2.0.0 <u@example> 5nqVLpQkR2cfAQAAn4TQvw Saved', '5nqVLpQkR2cfAQAAn4TQvw'],
    ['2.0.0 <2d@lmtp.example> YOyAN0RJCWv2AwAAg+zDdQ:R2 Saved', 'YOyAN0RJCWv2AwAAg+zDdQ:R2'],
    ['2.6.0 <id@host> [InternalId=1234] Queued mail for delivery', '1234'],
  ])('%s -> %s', (text, id) => {
    expect(parseQueueId(text)).toBe(id);
  });

  it('no id in a plain Ok', () => {
    expect(parseQueueId('2.0.0 Ok')).toBeUndefined();
  });
});
