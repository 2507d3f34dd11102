// Queue ids: recognising the short and long forms where a line can start with one, and
// decoding what they hold.
import { describe, expect, it } from 'vitest';
import { decodeQueueId, isQueueId } from '../src/maillog/index.js';
import { one, parseFixture, utc } from './maillog-helpers.js';

describe('queue id recognition', () => {
  it('short (hex) and long (base 52) ids', () => {
    for (const id of ['44E4D20C1BF', 'F3E5E20C44B', '9009620C144', '4jYwyY3RRjzJ9Kx', '4jYwyb4576zJ9fN']) {
      expect(isQueueId(id), id).toBe(true);
    }
  });

  it("a long id's time digits may hold 'z' (base 52); the separator is the last 'z'", () => {
    // reporter-notes.md section 2 writes the time digits as [...-y]; relay-faults.log has these.
    for (const id of ['4jYwzG1KfgzJ9CW', '4jYwzM1TPZzJ9Gl', '4jYwzx4YtrzJ9By', '4jbSBs3xnzzJ9YF']) {
      expect(isQueueId(id), id).toBe(true);
    }
  });

  it('words in the same place are not ids', () => {
    for (const word of ['statistics', 'Deleted', 'warning', 'NOQUEUE', 'connect', 'ABCDE', '4jYwyY3RRjz', '4jYwyY3RRjzJ9Kz', 'abcdef12', '']) {
      expect(isQueueId(word), word).toBe(false);
    }
  });

  it('NOQUEUE is no id: the record has none', () => {
    const r = one(
      'Nov 24 21:32:53 mx postfix/smtpd[6791]: NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 550 5.1.1 <nosuch@localhost>: Recipient address rejected: User unknown in local recipient table; from=<sender@example.com> to=<nosuch@localhost> proto=ESMTP helo=<vm>',
    );
    expect(r?.queueId).toBeUndefined();
  });
});

describe('decoding', () => {
  it('a long id holds its creation time to the microsecond and the inode (reporter-notes.md section 2)', () => {
    const d = decodeQueueId('4jYwyY3RRjzJ9Kx');
    if (d?.form !== 'long') throw new Error('not long');
    expect(d.inode).toBe(2146741);
    expect(d.time).toBeCloseTo(utc('2026-11-24T21:32:53.485') + 0.249, 3);
    expect(new Date(d.time).toISOString()).toBe('2026-11-24T21:32:53.485Z');
  });

  it('a short id holds microseconds and the inode', () => {
    expect(decodeQueueId('44E4D20C1BF')).toEqual({ form: 'short', micros: 0x44e4d, inode: 0x20c1bf });
    expect(decodeQueueId('not an id')).toBeUndefined();
  });

  it("every long id in relay-faults decodes to a time within a second before its first line", () => {
    const { records } = parseFixture('relay-faults.log');
    const first = new Map<string, number>();
    for (const r of records) if (r.queueId !== undefined && !first.has(r.queueId)) first.set(r.queueId, r.time);
    expect(first.size).toBe(20);
    for (const [id, seen] of first) {
      const d = decodeQueueId(id);
      if (d?.form !== 'long') throw new Error(`${id}: not long`);
      expect(d.time, id).toBeLessThanOrEqual(seen + 1000);
      expect(d.time, id).toBeGreaterThan(seen - 1000);
    }
  });
});
