// What a metric's number means, how a limit is written for it, and how values are shown.
import { parseDuration } from '@smtpstone/core';

/**
 * - `ms`: a duration in milliseconds (limits: 200ms, 1.5s, 2m, 1h)
 * - `rate`: events per second (limits: 3000/s, 3000 msg/s, 180000/m, or a bare number per second)
 * - `ratio`: a share from 0 to 1 (limits in percent: 0.1%)
 * - `count`: a number of things (limits: bare numbers)
 * - `kind`: a word (the verdict: disk-bound, cpu-bound, not-saturated, unknown)
 */
export type MetricUnit = 'ms' | 'rate' | 'ratio' | 'count' | 'kind';

/** The unit a value is shown in: the one its limit was written in. */
export type ShowUnit = 'ms' | 's' | 'm' | 'h' | '/s' | '/m' | '/h' | '%' | '';

const NUMBER = /^[+]?(\d+(?:\.\d*)?|\.\d+)$/;

/** "0.25" and "12" as numbers; undefined for anything else (signs, exponents, words). */
export function plainNumber(text: string): number | undefined {
  return NUMBER.test(text) ? Number(text) : undefined;
}

/** Reads a limit for a metric of this unit; throws a short reason (the caller names the flag). */
export function parseLimit(unit: MetricUnit, text: string, metric: string): { value: number; show: ShowUnit } {
  const t = text.trim().replace(/\s+/g, '');
  switch (unit) {
    case 'ms': {
      if (t === '0') return { value: 0, show: 'ms' };
      const m = /^(.*?)(ms|s|m|h)$/.exec(t);
      if (!m || plainNumber(m[1]) === undefined) throw new Error(`${metric} is a duration; give ms, s, m or h, e.g. 200ms or 1.5s`);
      return { value: parseDuration(t), show: m[2] as ShowUnit };
    }
    case 'rate': {
      const m = /^(.*?)(?:(?:msg|messages)?\/(s|sec|m|min|h))?$/.exec(t);
      const n = m ? plainNumber(m[1]) : undefined;
      if (!m || n === undefined) throw new Error(`${metric} is a rate; give messages per second, e.g. 3000/s (or /m, /h)`);
      const per = m[2] === undefined || m[2] === 's' || m[2] === 'sec' ? 's' : m[2] === 'h' ? 'h' : 'm';
      return { value: per === 's' ? n : per === 'm' ? n / 60 : n / 3600, show: `/${per}` as ShowUnit };
    }
    case 'ratio': {
      if (t === '0') return { value: 0, show: '%' };
      const n = t.endsWith('%') ? plainNumber(t.slice(0, -1)) : undefined;
      if (n === undefined) throw new Error(`${metric} is a share; give a percentage, e.g. 0.1%`);
      return { value: n / 100, show: '%' };
    }
    case 'count': {
      const n = plainNumber(t);
      if (n === undefined) throw new Error(`${metric} is a count; give a number, e.g. ${metric}=0`);
      return { value: n, show: '' };
    }
    case 'kind':
      throw new Error(`${metric} is a word, not a number`);
  }
}

/** Reads a tolerance such as "10%"; throws a short reason. */
export function parsePercent(text: string): number {
  const t = text.trim();
  const n = t.endsWith('%') ? plainNumber(t.slice(0, -1).trim()) : undefined;
  if (n === undefined) throw new Error('want a percentage, e.g. 10%');
  return n;
}

/** Durations as smtp-source's table shows them: 3 significant digits or whole numbers. */
function short(v: number): string {
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** A percentage to 3 significant digits, without trailing zeros: 0.35, 12.5, 100. */
export function percentText(pct: number): string {
  if (pct === 0) return '0';
  if (!Number.isFinite(pct)) return pct > 0 ? 'inf' : '-inf';
  return Math.abs(pct) >= 1000 ? pct.toFixed(0) : String(Number(pct.toPrecision(3)));
}

/**
 * A value with its unit, for people: "412 ms", "1.50 s", "2987.3 msg/s", "0.35 %", "12".
 * Durations without a unit asked for are in ms below a second and in s from there.
 */
export function formatValue(unit: MetricUnit, value: number | string, show?: ShowUnit): string {
  if (typeof value === 'string') return value;
  switch (unit) {
    case 'ms':
      if (show === undefined) show = Math.abs(value) >= 1000 ? 's' : 'ms';
      return show === 's' ? `${short(value / 1000)} s` : show === 'm' ? `${short(value / 60_000)} min` : show === 'h' ? `${short(value / 3_600_000)} h` : `${short(value)} ms`;
    case 'rate':
      return show === '/m' ? `${(value * 60).toFixed(1)} msg/min` : show === '/h' ? `${(value * 3600).toFixed(0)} msg/h` : `${value.toFixed(1)} msg/s`;
    case 'ratio':
      return `${percentText(value * 100)} %`;
    case 'count':
      return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
    case 'kind':
      return String(value);
  }
}

/** A signed change in percent: "+12.5 %", "-3.1 %", "0 %", "+inf %". */
export function changeText(pct: number): string {
  if (pct === 0) return '0 %';
  return `${pct > 0 ? '+' : ''}${Number.isFinite(pct) ? (Math.abs(pct) >= 100 ? pct.toFixed(0) : pct.toFixed(1)) : pct > 0 ? 'inf' : '-inf'} %`;
}
