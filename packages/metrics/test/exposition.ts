// Test helper: a reader of Prometheus's text exposition format, for the sink's and the
// source's metrics tests (promtool, where installed, checks the format itself).
import { expect } from 'vitest';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  samples: Sample[];
  /** # TYPE of each metric family. */
  types: Map<string, string>;
  help: Set<string>;
  /** The value of one sample; undefined when absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** label value -> sample value, for the samples of `name` that differ only in `label`. */
  byLabel(name: string, label: string): Record<string, number>;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;

function parseValue(text: string): number {
  if (/^[+-]?inf$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text)) throw new Error(`bad sample value: ${text}`);
  return Number(text);
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    if (m === null) throw new Error(`bad labels: {${text}}`);
    labels[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

export function parseExposition(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const help = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (m !== null) {
      if (m[1] === 'HELP') help.add(m[2]);
      else types.set(m[2], m[3]);
      continue;
    }
    if (line.startsWith('#')) continue;
    m = SAMPLE.exec(line);
    if (m === null) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    samples.push({ name: m[1], labels: m[2] === undefined ? {} : parseLabels(m[2]), value: parseValue(m[3]) });
  }
  const same = (a: Record<string, string>, b: Record<string, string>): boolean =>
    Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);
  return {
    samples,
    types,
    help,
    value: (name, labels = {}) => samples.find((s) => s.name === name && same(s.labels, labels))?.value,
    byLabel(name, label) {
      const out: Record<string, number> = {};
      for (const s of samples) if (s.name === name) out[s.labels[label]] = s.value;
      return out;
    },
  };
}

/** GETs a /metrics URL (200 expected) and reads it. */
export async function scrape(url: string): Promise<{ scrape: Scrape; contentType: string | null; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  const text = await res.text();
  return { scrape: parseExposition(text), contentType: res.headers.get('content-type'), text };
}
