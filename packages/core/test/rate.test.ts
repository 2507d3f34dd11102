import { describe, expect, it } from 'vitest';
import { parseDuration, perSecond } from '../src/rate.js';

describe('perSecond', () => {
  it('is events per second', () => {
    expect(perSecond(10, 2000)).toBe(5);
    expect(perSecond(1, 500)).toBe(2);
    expect(perSecond(3, 1000)).toBe(3);
    expect(perSecond(0, 1000)).toBe(0);
    expect(perSecond(1, 3)).toBeCloseTo(333.333, 3);
  });

  it('is 0 for an empty or negative interval', () => {
    expect(perSecond(5, 0)).toBe(0);
    expect(perSecond(5, -10)).toBe(0);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['10', 10_000],
    ['0', 0],
    ['0ms', 0],
    ['1.5s', 1500],
    ['0.25m', 15_000],
    ['2.5', 2500],
    [' 5s ', 5000],
  ])('%j => %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', ' ', 'abc', '5d', '-1s', '+1s', '1.s', '.5s', '5 s', '1e3', '5S', 'ms', '1h30m', '10sec'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(RangeError);
    expect(() => parseDuration(text)).toThrow(`bad duration "${text}"`);
  });
});
