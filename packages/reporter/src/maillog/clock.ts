// Turns log timestamps into epoch milliseconds. Postfix's own maillog_file and classic syslog
// write local time without a year, so the year comes from the caller (the run's start year,
// or the file's mtime) and the zone from an option; RFC 3339 stamps carry both.

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';

/** Month index 0-11 of the English abbreviation at s[i..i+3), or -1. */
export function monthAt(s: string, i: number): number {
  if (i + 3 > s.length) return -1;
  const k = MONTHS.indexOf(s.slice(i, i + 3));
  return k >= 0 && k % 3 === 0 ? k / 3 : -1;
}

export interface ClockOptions {
  /**
   * Year of the first year-less line. Later lines roll into the next year when the month
   * goes backwards by six or more (Dec -> Jan); a line whose month jumps forward by six or
   * more (a Dec straggler after Jan lines) is put in the year before. Wins over `notAfter`.
   */
  year?: number;
  /**
   * The latest instant the log can hold, in epoch ms (a file's mtime, or now): each year-less
   * line gets the latest year that does not put it more than a day after this. Default: now.
   */
  notAfter?: number;
  /**
   * Zone of year-less local times and of RFC 3339 stamps without an offset: 'local' (this
   * machine's zone, the default), 'UTC', a fixed offset ('+01:00', '-0500') or an IANA name
   * ('Europe/Berlin').
   */
  zone?: string;
}

const DAY_MS = 86_400_000;

type WallToEpoch = (y: number, mo: number, d: number, h: number, mi: number, s: number) => number;

/** Parses '+hh:mm', '+hhmm', '+hh' or 'Z' into minutes east of UTC, or undefined. */
export function parseOffset(text: string): number | undefined {
  if (text === 'Z' || text === 'z') return 0;
  const m = /^([+-])([01]\d|2[0-3])(?::?([0-5]\d))?$/.exec(text);
  if (!m) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return m[1] === '-' ? -minutes : minutes;
}

/** A wall-clock-to-epoch conversion for a zone option; throws RangeError for an unknown zone. */
function zoneConverter(zone: string | undefined): WallToEpoch {
  if (zone === undefined || zone === 'local') {
    return (y, mo, d, h, mi, s) => new Date(y, mo, d, h, mi, s).getTime();
  }
  const offset = zone === 'UTC' || zone === 'utc' ? 0 : parseOffset(zone);
  if (offset !== undefined) {
    return (y, mo, d, h, mi, s) => Date.UTC(y, mo, d, h, mi, s) - offset * 60_000;
  }
  // An IANA zone: find the offset at a guess, then again at the corrected instant (DST edges).
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  });
  const offsetAt = (epoch: number): number => {
    const p: Record<string, number> = {};
    for (const part of format.formatToParts(new Date(epoch))) p[part.type] = Number(part.value);
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(epoch / 1000) * 1000;
  };
  return (y, mo, d, h, mi, s) => {
    const wall = Date.UTC(y, mo, d, h, mi, s);
    const first = wall - offsetAt(wall);
    const second = wall - offsetAt(first);
    return second;
  };
}

/**
 * The time state of one log being read: the year tracking and the zone. One per input;
 * lines must be given in file order for the year rollover to work.
 */
export class LogClock {
  private readonly toEpoch: WallToEpoch;
  private readonly notAfter: number;
  private readonly notAfterYear: number;
  private year: number | undefined;
  private lastMonth = -1;
  // One-entry caches, keyed by the stamp's text: consecutive lines mostly share a second.
  private yearlessKey = '';
  private yearlessValue = 0;
  private datedKey = '';
  private datedOffsetKey = '';
  private datedValue = 0;
  /** Time of the last stamped line, for lines without one. */
  last = 0;

  constructor(options: ClockOptions = {}) {
    this.toEpoch = zoneConverter(options.zone);
    this.year = options.year;
    this.notAfter = options.notAfter ?? Date.now();
    this.notAfterYear = new Date(this.notAfter).getFullYear();
  }

  /**
   * When `s` continues at `start` with the last year-less stamp given to yearless(): that
   * stamp's length, with `last` set to its time. Else -1.
   */
  sameYearless(s: string, start: number): number {
    const key = this.yearlessKey;
    if (key === '' || !s.startsWith(key, start)) return -1;
    this.last = this.yearlessValue;
    return key.length;
  }

  /** Epoch ms of a year-less local stamp (`stamp` is its text, for the cache); month is 0-11. */
  yearless(stamp: string, month: number, day: number, h: number, mi: number, s: number): number {
    let value: number;
    if (this.year !== undefined) {
      value = this.toEpoch(this.yearFor(month), month, day, h, mi, s);
    } else {
      // The latest of next, this and last year (of notAfter) that is not after notAfter.
      const limit = this.notAfter + DAY_MS;
      const y = this.notAfterYear;
      value = this.toEpoch(y + 1, month, day, h, mi, s);
      for (let k = 0; k <= 2 && value > limit; k++) value = this.toEpoch(y - k, month, day, h, mi, s);
    }
    this.yearlessKey = stamp;
    this.yearlessValue = value;
    return (this.last = value);
  }

  /** The year for a month under the rollover rule, updating the state. */
  private yearFor(month: number): number {
    const year = this.year as number;
    if (this.lastMonth < 0) {
      this.lastMonth = month;
      return year;
    }
    if (this.lastMonth - month >= 6) {
      // Dec -> Jan: a new year.
      this.year = year + 1;
      this.lastMonth = month;
      return year + 1;
    }
    if (month - this.lastMonth >= 6) return year - 1; // a straggler from before the rollover
    this.lastMonth = month;
    return year;
  }

  /**
   * The whole-second epoch ms of an RFC 3339 stamp at `start` when its first 19 characters
   * (date and time) and its offset at `offsetStart` (up to a space) are those of the last
   * call to dated(); else undefined.
   */
  sameDated(s: string, start: number, offsetStart: number): number | undefined {
    const key = this.datedOffsetKey;
    if (
      this.datedKey === '' ||
      !s.startsWith(this.datedKey, start) ||
      !s.startsWith(key, offsetStart) ||
      s.charCodeAt(offsetStart + key.length) !== 0x20
    ) {
      return undefined;
    }
    return this.datedValue;
  }

  /**
   * The whole-second epoch ms of an RFC 3339 stamp's parts: `offset` in minutes east
   * (undefined: none written, use the zone option). The keys are for sameDated().
   */
  dated(
    secondKey: string,
    offsetKey: string,
    y: number, mo: number, d: number, h: number, mi: number, s: number,
    offset: number | undefined,
  ): number {
    const value =
      offset === undefined ? this.toEpoch(y, mo, d, h, mi, s) : Date.UTC(y, mo, d, h, mi, s) - offset * 60_000;
    this.datedKey = secondKey;
    this.datedOffsetKey = offsetKey;
    this.datedValue = value;
    return value;
  }
}
