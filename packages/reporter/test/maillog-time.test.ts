// Time: the year of year-less stamps (a start year with rollover, or "not after" a file's
// mtime), zones, and the ISO fixture against the classic one.
import { describe, expect, it } from 'vitest';
import { LogClock, ParseContext, parseLine, type LogRecord } from '../src/maillog/index.js';
import { one, parseAll, parseFixture, utc } from './maillog-helpers.js';

const line = (stamp: string, n = 1): string => `${stamp} mx postfix/qmgr[6787]: 44E4D20C1BF${n}: removed`;

function times(lines: string[], options: ConstructorParameters<typeof ParseContext>[0]): number[] {
  const context = new ParseContext(options);
  return lines.map((l) => (parseLine(l, context) as LogRecord).time);
}

describe('year-less stamps with a start year', () => {
  it('roll into the next year at Dec 31 -> Jan 1, and keep a late Dec line in the old year', () => {
    const got = times(
      [line('Dec 31 23:59:58'), line('Dec 31 23:59:59'), line('Jan  1 00:00:00'), line('Dec 31 23:59:59'), line('Jan  1 00:00:01')],
      { year: 2026, zone: 'UTC' },
    );
    expect(got).toEqual([
      utc('2026-12-31T23:59:58'),
      utc('2026-12-31T23:59:59'),
      utc('2027-01-01T00:00:00'),
      utc('2026-12-31T23:59:59'),
      utc('2027-01-01T00:00:01'),
    ]);
  });

  it('a long log: Nov, Dec, Jan, Feb stay in order', () => {
    const got = times([line('Nov 24 10:00:00'), line('Dec 24 10:00:00'), line('Jan 24 10:00:00'), line('Feb 24 10:00:00')], {
      year: 2026,
      zone: 'UTC',
    });
    expect(got).toEqual([
      utc('2026-11-24T10:00:00'),
      utc('2026-12-24T10:00:00'),
      utc('2027-01-24T10:00:00'),
      utc('2027-02-24T10:00:00'),
    ]);
    expect([...got].sort((a, b) => a - b)).toEqual(got);
  });

  it('the rollover across the streaming reader, any chunking', () => {
    const text = ['Dec 31 23:59:59', 'Jan  1 00:00:00', 'Jan  1 00:00:01'].map((s) => line(s)).join('\n');
    const { records } = parseAll(text, { year: 2030, zone: 'UTC' });
    expect(records.map((r) => new Date(r.time).toISOString())).toEqual([
      '2030-12-31T23:59:59.000Z',
      '2031-01-01T00:00:00.000Z',
      '2031-01-01T00:00:01.000Z',
    ]);
  });
});

describe('year-less stamps not after a reference time (a file\'s mtime)', () => {
  it('puts each line in the latest year that is not after the reference', () => {
    const notAfter = utc('2027-01-01T00:05:00');
    const got = times([line('Dec 31 23:59:59'), line('Jan  1 00:00:01'), line('Nov 24 21:29:06')], { notAfter, zone: 'UTC' });
    expect(got).toEqual([utc('2026-12-31T23:59:59'), utc('2027-01-01T00:00:01'), utc('2026-11-24T21:29:06')]);
  });

  it('a month later than the reference is last year', () => {
    expect(times([line('Nov 24 21:29:06')], { notAfter: utc('2026-06-01T00:00:00'), zone: 'UTC' })).toEqual([
      utc('2025-11-24T21:29:06'),
    ]);
  });

  it('allows a day of slack (clock or zone skew)', () => {
    expect(times([line('Nov 24 21:29:06')], { notAfter: utc('2026-11-24T00:00:00'), zone: 'UTC' })).toEqual([
      utc('2026-11-24T21:29:06'),
    ]);
  });

  it('the year option wins over notAfter', () => {
    expect(times([line('Nov 24 21:29:06')], { year: 2020, notAfter: utc('2026-12-01T00:00:00'), zone: 'UTC' })).toEqual([
      utc('2020-11-24T21:29:06'),
    ]);
  });
});

describe('zones', () => {
  const stamp = 'Jul  1 12:00:00';
  it('default: this machine\'s local zone', () => {
    expect(one(line(stamp), { year: 2026 })?.time).toBe(new Date(2026, 6, 1, 12, 0, 0).getTime());
    expect(one(line(stamp), { year: 2026, zone: 'local' })?.time).toBe(new Date(2026, 6, 1, 12, 0, 0).getTime());
  });

  it('UTC and fixed offsets', () => {
    expect(one(line(stamp), { year: 2026, zone: 'UTC' })?.time).toBe(utc('2026-07-01T12:00:00'));
    expect(one(line(stamp), { year: 2026, zone: '+02:00' })?.time).toBe(utc('2026-07-01T10:00:00'));
    expect(one(line(stamp), { year: 2026, zone: '-0530' })?.time).toBe(utc('2026-07-01T17:30:00'));
  });

  it('IANA names, summer and winter time', () => {
    expect(one(line(stamp), { year: 2026, zone: 'Europe/Berlin' })?.time).toBe(utc('2026-07-01T10:00:00'));
    expect(one(line('Nov 24 21:29:06'), { year: 2026, zone: 'Europe/Berlin' })?.time).toBe(utc('2026-11-24T20:29:06'));
    expect(one(line('Nov 24 21:29:06'), { year: 2026, zone: 'America/New_York' })?.time).toBe(utc('2026-11-25T02:29:06'));
  });

  it('an unknown zone is an error when the clock is made, not per line', () => {
    expect(() => new LogClock({ zone: 'Mars/Olympus_Mons' })).toThrow(RangeError);
  });
});

describe('the ISO 8601 fixture against the classic one', () => {
  const classic = parseFixture('relay-sent.log').records;
  const iso = parseFixture('relay-sent.iso8601.log').records;

  it('gives the same records but for the time', () => {
    expect(iso.length).toBe(classic.length);
    const strip = (r: LogRecord): Partial<LogRecord> => {
      const { time: _t, timePrecision: _p, ...rest } = r;
      return rest;
    };
    expect(iso.map(strip)).toEqual(classic.map(strip));
  });

  it('whole seconds in one, microseconds within the same second in the other', () => {
    for (let i = 0; i < iso.length; i++) {
      expect(classic[i].timePrecision).toBe('s');
      expect(iso[i].timePrecision).toBe('us');
      expect(Math.floor(iso[i].time / 1000) * 1000).toBe(classic[i].time);
    }
    expect(iso[0].time).toBeCloseTo(utc('2026-11-24T21:12:23.007') + 0.919, 6);
  });

  it('seconds never go backwards; the made-up fractions do, within a second (8 times)', () => {
    // The README says the rewrite added the fractions; they wrap around inside a second, so
    // this file is not in time order below the second (a real RFC 3339 log from one writer
    // would be).
    let backwards = 0;
    for (let i = 1; i < iso.length; i++) {
      expect(Math.floor(iso[i].time / 1000)).toBeGreaterThanOrEqual(Math.floor(iso[i - 1].time / 1000));
      if (iso[i].time < iso[i - 1].time) backwards++;
    }
    expect(backwards).toBe(8);
  });
});
