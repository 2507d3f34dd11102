// strftime(3) for local time, as smtp-sink's -d/-D path templates and mail_date() use it.
// Written here because the npm strftime package spells %Z as a long zone name ("Coordinated
// Universal Time"), which is wrong in a Date: header comment; we want the abbreviation.

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;
const pad3 = (n: number): string => String(n).padStart(3, '0');
const space2 = (n: number): string => (n < 10 ? ' ' : '') + n;

/** The local zone's abbreviation at `d` ("UTC", "EST"; "GMT+2" where ICU knows no letters). */
export function zoneAbbreviation(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
    .formatToParts(d)
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? 'UTC';
}

/** The numeric UTC offset, "+hhmm" or "-hhmm". */
export function zoneOffset(d: Date): string {
  const minutes = -d.getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return sign + pad2(Math.floor(abs / 60)) + pad2(abs % 60);
}

function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  return Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() - start.getTime()) / 86400000) + 1;
}

function weekNumber(d: Date, firstWeekday: number): number {
  const yday = dayOfYear(d) - 1;
  const wday = (d.getDay() + 7 - firstWeekday) % 7;
  return Math.floor((yday + 7 - wday) / 7);
}

function isoWeek(d: Date): { year: number; week: number } {
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  return { year: t.getUTCFullYear(), week: Math.ceil(((t.getTime() - yearStart) / 86400000 + 1) / 7) };
}

/** Formats `d` in local time. Unknown conversions are kept as written, as glibc does. */
export function strftime(template: string, d: Date): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '%' || i + 1 >= template.length) {
      out += c;
      continue;
    }
    const f = template[++i];
    const h = d.getHours();
    switch (f) {
      case 'a': out += DAYS[d.getDay()].slice(0, 3); break;
      case 'A': out += DAYS[d.getDay()]; break;
      case 'b': case 'h': out += MONTHS[d.getMonth()].slice(0, 3); break;
      case 'B': out += MONTHS[d.getMonth()]; break;
      case 'c': out += strftime('%a %b %e %H:%M:%S %Y', d); break;
      case 'C': out += pad2(Math.floor(d.getFullYear() / 100)); break;
      case 'd': out += pad2(d.getDate()); break;
      case 'D': out += strftime('%m/%d/%y', d); break;
      case 'e': out += space2(d.getDate()); break;
      case 'F': out += strftime('%Y-%m-%d', d); break;
      case 'g': out += pad2(isoWeek(d).year % 100); break;
      case 'G': out += isoWeek(d).year; break;
      case 'H': out += pad2(h); break;
      case 'I': out += pad2(h % 12 || 12); break;
      case 'j': out += pad3(dayOfYear(d)); break;
      case 'k': out += space2(h); break;
      case 'l': out += space2(h % 12 || 12); break;
      case 'm': out += pad2(d.getMonth() + 1); break;
      case 'M': out += pad2(d.getMinutes()); break;
      case 'n': out += '\n'; break;
      case 'p': out += h < 12 ? 'AM' : 'PM'; break;
      case 'P': out += h < 12 ? 'am' : 'pm'; break;
      case 'r': out += strftime('%I:%M:%S %p', d); break;
      case 'R': out += strftime('%H:%M', d); break;
      case 's': out += Math.floor(d.getTime() / 1000); break;
      case 'S': out += pad2(d.getSeconds()); break;
      case 't': out += '\t'; break;
      case 'T': out += strftime('%H:%M:%S', d); break;
      case 'u': out += d.getDay() || 7; break;
      case 'U': out += pad2(weekNumber(d, 0)); break;
      case 'V': out += pad2(isoWeek(d).week); break;
      case 'w': out += d.getDay(); break;
      case 'W': out += pad2(weekNumber(d, 1)); break;
      case 'x': out += strftime('%m/%d/%y', d); break;
      case 'X': out += strftime('%H:%M:%S', d); break;
      case 'y': out += pad2(d.getFullYear() % 100); break;
      case 'Y': out += d.getFullYear(); break;
      case 'z': out += zoneOffset(d); break;
      case 'Z': out += zoneAbbreviation(d); break;
      case '%': out += '%'; break;
      default: out += '%' + f;
    }
  }
  return out;
}

/**
 * An RFC 5322 date as Postfix's mail_date() writes it:
 * "Tue, 24 Nov 2026 20:17:30 +0000 (UTC)", the day padded with a space ("Mon,  5 Aug ...").
 */
export function mailDate(d: Date): string {
  return strftime('%a, %e %b %Y %H:%M:%S %z (%Z)', d);
}

/** Caches a per-second formatting, since dumps ask for the same second many times. */
export class SecondCache {
  private second = -1;
  private value = '';
  constructor(private readonly format: (d: Date) => string) {}

  get(ms: number): string {
    const s = Math.floor(ms / 1000);
    if (s !== this.second) {
      this.second = s;
      this.value = this.format(new Date(s * 1000));
    }
    return this.value;
  }
}
