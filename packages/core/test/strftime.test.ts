import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SecondCache, mailDate, strftime, zoneAbbreviation, zoneOffset } from '../src/strftime.js';
import { randInt, rng } from './random.js';

// strftime() works in local time, so these tests pin the zone. Node re-reads process.env.TZ
// when it is assigned (Date and Intl both follow), and each check below first asserts that
// the zone really took effect.
const savedTZ = process.env.TZ;

function setTZ(tz: string | undefined): void {
  if (tz === undefined) delete process.env.TZ;
  else process.env.TZ = tz;
}

function inZone<T>(tz: string, fn: () => T): T {
  const before = process.env.TZ;
  setTZ(tz);
  try {
    return fn();
  } finally {
    setTZ(before);
  }
}

beforeAll(() => {
  setTZ('UTC');
  expect(new Date(Date.UTC(2026, 0, 15)).getTimezoneOffset()).toBe(0);
});
afterAll(() => setTZ(savedTZ));

const at = (iso: string): Date => new Date(iso);
const AUG5 = at('2026-08-05T03:04:05Z'); // a Wednesday, single-digit day and hour
const NOV24 = at('2026-11-24T20:17:30Z'); // a Tuesday, afternoon
const JAN1_2021 = at('2021-01-01T00:00:00Z'); // a Friday in ISO week 2020-W53, midnight
const DEC30_2024 = at('2024-12-30T12:00:00Z'); // a Monday in ISO week 2025-W01, noon

describe('the zone can be pinned through process.env.TZ', () => {
  it('moves Date and Intl together', () => {
    const jan = at('2026-01-15T12:00:00Z');
    inZone('America/New_York', () => {
      expect(jan.getTimezoneOffset()).toBe(300);
      expect(jan.getHours()).toBe(7);
      expect(zoneAbbreviation(jan)).toBe('EST');
    });
    expect(jan.getTimezoneOffset()).toBe(0);
    expect(zoneAbbreviation(jan)).toBe('UTC');
  });
});

describe('strftime in UTC against known output (from GNU date)', () => {
  const table: Array<[string, string, string, string, string]> = [
    // conversion, AUG5, NOV24, JAN1_2021, DEC30_2024
    ['%a', 'Wed', 'Tue', 'Fri', 'Mon'],
    ['%A', 'Wednesday', 'Tuesday', 'Friday', 'Monday'],
    ['%b', 'Aug', 'Nov', 'Jan', 'Dec'],
    ['%h', 'Aug', 'Nov', 'Jan', 'Dec'],
    ['%B', 'August', 'November', 'January', 'December'],
    ['%c', 'Wed Aug  5 03:04:05 2026', 'Tue Nov 24 20:17:30 2026', 'Fri Jan  1 00:00:00 2021', 'Mon Dec 30 12:00:00 2024'],
    ['%C', '20', '20', '20', '20'],
    ['%d', '05', '24', '01', '30'],
    ['%D', '08/05/26', '11/24/26', '01/01/21', '12/30/24'],
    ['%e', ' 5', '24', ' 1', '30'],
    ['%F', '2026-08-05', '2026-11-24', '2021-01-01', '2024-12-30'],
    ['%g', '26', '26', '20', '25'],
    ['%G', '2026', '2026', '2020', '2025'],
    ['%H', '03', '20', '00', '12'],
    ['%I', '03', '08', '12', '12'],
    ['%j', '217', '328', '001', '365'],
    ['%k', ' 3', '20', ' 0', '12'],
    ['%l', ' 3', ' 8', '12', '12'],
    ['%m', '08', '11', '01', '12'],
    ['%M', '04', '17', '00', '00'],
    ['%p', 'AM', 'PM', 'AM', 'PM'],
    ['%P', 'am', 'pm', 'am', 'pm'],
    ['%r', '03:04:05 AM', '08:17:30 PM', '12:00:00 AM', '12:00:00 PM'],
    ['%R', '03:04', '20:17', '00:00', '12:00'],
    ['%s', '1785899045', '1795551450', '1609459200', '1735560000'],
    ['%S', '05', '30', '00', '00'],
    ['%T', '03:04:05', '20:17:30', '00:00:00', '12:00:00'],
    ['%u', '3', '2', '5', '1'],
    ['%U', '31', '47', '00', '52'],
    ['%V', '32', '48', '53', '01'],
    ['%w', '3', '2', '5', '1'],
    ['%W', '31', '47', '00', '53'],
    ['%x', '08/05/26', '11/24/26', '01/01/21', '12/30/24'],
    ['%X', '03:04:05', '20:17:30', '00:00:00', '12:00:00'],
    ['%y', '26', '26', '21', '24'],
    ['%Y', '2026', '2026', '2021', '2024'],
    ['%z', '+0000', '+0000', '+0000', '+0000'],
    ['%Z', 'UTC', 'UTC', 'UTC', 'UTC'],
  ];

  it.each(table)('%s', (conv, aug5, nov24, jan1, dec30) => {
    expect(strftime(conv, AUG5)).toBe(aug5);
    expect(strftime(conv, NOV24)).toBe(nov24);
    expect(strftime(conv, JAN1_2021)).toBe(jan1);
    expect(strftime(conv, DEC30_2024)).toBe(dec30);
  });

  it('%n, %t and %%', () => {
    expect(strftime('a%nb%tc%%d', AUG5)).toBe('a\nb\tc%d');
    expect(strftime('%%Y', AUG5)).toBe('%Y');
    expect(strftime('%%%Y', AUG5)).toBe('%2026');
  });

  it('keeps unknown conversions and a trailing "%" as written', () => {
    expect(strftime('%q%Q %i', AUG5)).toBe('%q%Q %i');
    expect(strftime('100%', AUG5)).toBe('100%');
    expect(strftime('%', AUG5)).toBe('%');
  });

  it('copies plain text, including non-ASCII', () => {
    expect(strftime('', AUG5)).toBe('');
    expect(strftime('plain text ✓ 😀', AUG5)).toBe('plain text ✓ 😀');
  });

  it('formats a smtp-sink path template', () => {
    expect(strftime('/var/tmp/sink/%Y%m%d/%H%M%S.', AUG5)).toBe('/var/tmp/sink/20260805/030405.');
  });

  it('counts day of year and weeks across a leap year', () => {
    expect(strftime('%j %U %W %V %G', at('2024-12-31T23:59:59Z'))).toBe('366 52 53 01 2025');
    expect(strftime('%j', at('2023-12-31T00:00:00Z'))).toBe('365');
    expect(strftime('%j %F %a', at('2024-02-29T00:00:00Z'))).toBe('060 2024-02-29 Thu');
  });

  it('%s is whole seconds, also before 1970', () => {
    expect(strftime('%s', new Date(1785899045999))).toBe('1785899045');
    expect(strftime('%s %F %T', new Date(-1000))).toBe('-1 1969-12-31 23:59:59');
  });
});

describe('zoneOffset and zoneAbbreviation', () => {
  const jan = at('2026-01-15T12:00:00Z');
  const jul = at('2026-07-15T12:00:00Z');

  it('UTC', () => {
    expect(zoneOffset(jan)).toBe('+0000');
    expect(zoneAbbreviation(jan)).toBe('UTC');
  });

  it('negative offsets, with daylight saving', () => {
    inZone('America/New_York', () => {
      expect(zoneOffset(jan)).toBe('-0500');
      expect(zoneOffset(jul)).toBe('-0400');
      expect(zoneAbbreviation(jan)).toBe('EST');
      expect(zoneAbbreviation(jul)).toBe('EDT');
    });
  });

  it('half-hour offsets on both sides of UTC', () => {
    inZone('Asia/Kolkata', () => {
      expect(zoneOffset(jan)).toBe('+0530');
      expect(zoneOffset(jul)).toBe('+0530');
    });
    inZone('America/St_Johns', () => {
      expect(zoneOffset(jan)).toBe('-0330');
      expect(zoneOffset(jul)).toBe('-0230');
    });
  });

  it('an abbreviation is never empty, even where ICU has no letters', () => {
    for (const tz of ['Asia/Kolkata', 'Europe/Berlin', 'Pacific/Auckland']) {
      inZone(tz, () => {
        expect(zoneAbbreviation(jan), tz).toMatch(/^\S+$/);
      });
    }
  });
});

describe('mailDate', () => {
  it('pads the day with a space (Postfix mail_date)', () => {
    expect(mailDate(AUG5)).toBe('Wed,  5 Aug 2026 03:04:05 +0000 (UTC)');
  });

  it('a two-digit day', () => {
    expect(mailDate(NOV24)).toBe('Tue, 24 Nov 2026 20:17:30 +0000 (UTC)');
  });

  it('uses local time and the local offset', () => {
    inZone('America/New_York', () => {
      expect(mailDate(NOV24)).toBe('Tue, 24 Nov 2026 15:17:30 -0500 (EST)');
      expect(mailDate(AUG5)).toBe('Tue,  4 Aug 2026 23:04:05 -0400 (EDT)');
    });
    inZone('Asia/Kolkata', () => {
      expect(mailDate(AUG5)).toMatch(/^Wed,  5 Aug 2026 08:34:05 \+0530 \(\S+\)$/);
    });
  });

  it('has the RFC 5322 shape for any date', () => {
    const r = rng(7);
    for (let i = 0; i < 200; i++) {
      const d = new Date(randInt(r, 4_000_000_000) * 1000);
      expect(mailDate(d)).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [ 1-3]\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000 \(UTC\)$/);
    }
  });
});

describe('strftime against the system date command', () => {
  let gnuDate = false;
  try {
    gnuDate = execFileSync('date', ['--version'], { encoding: 'utf8' }).includes('GNU');
  } catch {
    gnuDate = false;
  }

  const conversions = 'aAbBcCdDeFgGhHIjklmMpPrRsSTuUVwWxXyYz'.split('');
  const epochs: number[] = [
    0,
    -1,
    946684799, // 1999-12-31 23:59:59Z
    951782400, // 2000-02-29
    1609459200, // 2021-01-01, ISO 2020-W53
    1735560000, // 2024-12-30, ISO 2025-W01
    1735689599, // 2024-12-31 23:59:59Z
    1772953199, // 2026-03-08 06:59:59Z, just before US daylight saving starts
    1772953200,
    1773057600, // 2026-03-09 12:00Z, the day after
    1793512799, // 2026-11-01 05:59:59Z, just before US daylight saving ends
    1793512800,
    1793620800, // 2026-11-02 12:00Z
    1785899045,
    2147483647,
    2147483648, // past 32-bit time_t
    4102444800, // 2100-01-01
  ];
  const r = rng(2026);
  for (let i = 0; i < 60; i++) epochs.push(31_536_000 + randInt(r, 2_114_380_800));

  /** GNU date's output for each epoch, one line each. */
  function systemDate(tz: string, format: string): string[] {
    const out = execFileSync('date', ['-f', '-', '+' + format], {
      input: epochs.map((e) => '@' + e).join('\n') + '\n',
      env: { ...process.env, TZ: tz, LC_ALL: 'C' },
      encoding: 'utf8',
    });
    const lines = out.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(epochs.length);
    return lines;
  }

  afterEach(() => setTZ('UTC'));

  // %Z only where ICU and the C library agree on the letters.
  it.skipIf(!gnuDate).each([
    ['UTC', true],
    ['America/New_York', true],
    ['Asia/Kolkata', false],
    ['America/St_Johns', false],
    ['Pacific/Auckland', false],
    ['Europe/Berlin', false],
  ])('every conversion in %s', (tz, withZ) => {
    const format = conversions.map((c) => `%${c}`).join('|') + (withZ ? '|%Z' : '');
    const expected = systemDate(tz, format);
    setTZ(tz);
    epochs.forEach((e, i) => {
      const d = new Date(e * 1000);
      const ours = strftime(format, d).split('|');
      const theirs = expected[i].split('|');
      expect(ours.length).toBe(theirs.length);
      ours.forEach((v, k) => {
        const conv = k < conversions.length ? conversions[k] : 'Z';
        // ICU's metazone names ("EST") only start in 1970; before that it says "GMT-5".
        if (conv === 'Z' && e < 0 && tz !== 'UTC') return;
        expect(v, `${tz} @${e} %${conv}`).toBe(theirs[k]);
      });
    });
  });

  it.skipIf(!gnuDate).each(['UTC', 'America/New_York'])('mailDate in %s', (tz) => {
    const expected = systemDate(tz, '%a, %e %b %Y %H:%M:%S %z (%Z)');
    setTZ(tz);
    epochs.forEach((e, i) => {
      if (e < 0 && tz !== 'UTC') return; // see above: no zone letters from ICU before 1970
      expect(mailDate(new Date(e * 1000)), `${tz} @${e}`).toBe(expected[i]);
    });
  });
});

describe('SecondCache', () => {
  it('formats once per second and reuses the result within it', () => {
    const calls: number[] = [];
    const cache = new SecondCache((d) => {
      calls.push(d.getTime());
      return `t${d.getTime()}`;
    });
    expect(cache.get(5000)).toBe('t5000');
    expect(cache.get(5999)).toBe('t5000');
    expect(cache.get(5500)).toBe('t5000');
    expect(calls).toEqual([5000]);
    expect(cache.get(6000)).toBe('t6000');
    expect(cache.get(5999)).toBe('t5000'); // going back re-formats
    expect(calls).toEqual([5000, 6000, 5000]);
  });

  it('hands the formatter the start of the second', () => {
    const cache = new SecondCache((d) => strftime('%T', d));
    expect(cache.get(Date.UTC(2026, 7, 5, 3, 4, 5, 999))).toBe('03:04:05');
  });

  it('works for second 0 and negative times', () => {
    const cache = new SecondCache((d) => String(d.getTime()));
    expect(cache.get(0)).toBe('0');
    expect(cache.get(-1)).toBe('-1000');
    expect(cache.get(999)).toBe('0');
  });
});
