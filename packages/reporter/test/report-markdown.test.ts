// The Markdown report (a CI job summary) on the fixture models: the headline, the tables, the
// verdict, the missing parts, and escaping of whatever the logs held.
import { describe, expect, it } from 'vitest';
import { headline, markdownTable, markdownText, missingText, renderMarkdown, type Table } from '../src/report/markdown.js';
import { formatDuration } from '../src/report/svg.js';
import { diskBoundModel, emptyModel, healthyModel } from './report-model-fixture.js';

/** The cells of a Markdown table line, split at unescaped pipes. */
const cells = (line: string): string[] => line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());

/** Every table in a document, as lists of rows of cells. */
function tables(md: string): string[][][] {
  const out: string[][][] = [];
  let current: string[][] | undefined;
  for (const line of md.split('\n')) {
    if (line.startsWith('|')) (current ??= []).push(cells(line));
    else if (current) {
      out.push(current);
      current = undefined;
    }
  }
  return out;
}

/** The row of `table` whose first cell is `name`. */
const row = (md: string, name: string): string[] | undefined => tables(md).flat().find((r) => r[0] === name);

describe('markdownText', () => {
  it('escapes what GitHub Markdown acts on inside a line, and nothing that merely looks odd escaped', () => {
    expect(markdownText('a|b')).toBe('a\\|b');
    expect(markdownText('<script>alert(1)</script>')).toBe('\\<script\\>alert(1)\\</script\\>');
    expect(markdownText('[x](javascript:y) *b* _i_ `c` ~s~ &amp; \\')).toBe('\\[x\\](javascript:y) \\*b\\* \\_i\\_ \\`c\\` \\~s\\~ \\&amp; \\\\');
    expect(markdownText('99.7 % (of 3) - ok')).toBe('99.7 % (of 3) - ok');
  });

  it('keeps a text on one line and from starting a list, heading or quote', () => {
    expect(markdownText('one\ntwo\r\nthree\tfour')).toBe('one two three four');
    expect(markdownText('1. first')).toBe('1\\. first');
    expect(markdownText('2) second')).toBe('2\\) second');
    expect(markdownText('- item')).toBe('\\- item');
    expect(markdownText('+ item')).toBe('\\+ item');
    expect(markdownText('# title')).toBe('\\# title');
    expect(markdownText('> quote')).toBe('\\> quote');
  });

  it('tables escape every cell and align number columns right', () => {
    const t: Table = { caption: 'c', head: ['name', 'n'], rows: [['a|b', '1'], ['<i>', '22']], numeric: [false, true] };
    expect(markdownTable(t)).toBe(['| name | n |', '| :-- | --: |', '| a\\|b | 1 |', '| \\<i\\> | 22 |'].join('\n'));
  });
});

describe('renderMarkdown', () => {
  it('the healthy run: title, headline, fates, latency, delays, timeline and verdict', () => {
    const model = healthyModel();
    const md = renderMarkdown(model);
    const p99 = formatDuration(model.latency!.p99);
    expect(headline(model)).toBe(`20000 injected, 20000 delivered, 0 deferred, 0 lost; delivery p99 ${p99}; verdict: not-saturated`);
    expect(md.startsWith(`# smtpstone report: relay to sink, 20000 messages\n\n**${headline(model)}**\n`)).toBe(true);
    expect(md).not.toContain('## Warnings');
    expect(row(md, 'delivered')).toEqual(['delivered', '20000', '100 %']);
    expect(row(md, 'LOST (accepted, never in the log)')).toEqual(['LOST (accepted, never in the log)', '0', '0 %']);
    expect(row(md, 'sent')).toEqual(['sent', '20000']);
    const latency = row(md, 'injection to last sent')!;
    expect(latency.slice(0, 2)).toEqual(['injection to last sent', '20000']);
    expect(latency[5]).toBe(p99);
    expect(latency[6]).toBe(formatDuration(model.latency!.p999));
    expect(row(md, 'in qmgr (b)')?.[1]).toBe('20000');
    expect(row(md, 'injection rate')).toEqual(['injection rate', '400 msg/s']);
    expect(row(md, 'peak backlog')?.[1]).toMatch(/^\d+ at \+0:\d\d$/);
    expect(md).toContain('## System: not-saturated\n\n52 samples every 1 s on mx1.example, 2 CPUs; disk rule: PSI.\n\n- neither CPU nor disk saturated');
    expect(row(md, 'vda util')).toHaveLength(4);
  });

  it('the disk-bound run: deferrals, losses and refusals in the headline, the verdict with its reasons', () => {
    const model = diskBoundModel();
    const md = renderMarkdown(model);
    expect(headline(model)).toBe(
      `20000 injected, 19988 delivered, 10 deferred, 2 lost, 4 refused; delivery p99 ${formatDuration(model.latency!.p99)}; verdict: disk-bound`,
    );
    expect(row(md, 'delivered after a deferral')).toEqual(['delivered after a deferral', '40', '0.2 %']);
    expect(row(md, "still deferred at the log's end")).toEqual(["still deferred at the log's end", '10', '0.05 %']);
    expect(row(md, 'deferred at least once')).toEqual(['deferred at least once', '50']);
    expect(row(md, 'deferral lines')).toEqual(['deferral lines', '50']);
    expect(md).toContain('## System: disk-bound\n');
    expect(md).toMatch(/\n- I\/O stalls \(PSI io some \\>= 40 % or full \\>= 10 %\) with CPU busy \\< 80 % in \d+ of 130 samples\n/);
    expect(md).toContain('- steal 15 % on average');
  });

  it('escapes log texts: no raw markup, no cell broken by a pipe', () => {
    const md = renderMarkdown(diskBoundModel());
    expect(md).not.toMatch(/(?<!\\)<(?!\/?sub>)/); // only our own <sub> tags are raw
    expect(md).toContain('# Disk-bound run \\<b\\>#2\\</b\\> \\| nightly');
    expect(md).toContain('said: 550 \\<script\\>alert("x")\\</script\\> \\| rejected \\& "done"');
    expect(md).toContain('/tmp/a\\|b/\\<mail\\>.log');
    for (const t of tables(md)) {
      const width = t[0].length;
      for (const r of t) expect(r).toHaveLength(width);
    }
  });

  it('the empty run: what is missing and how to get it, instead of tables', () => {
    const model = emptyModel();
    const md = renderMarkdown(model);
    expect(md).toContain('**2 injected, 0 delivered, 0 deferred, 2 lost, 1 refused; nothing delivered; no system samples**');
    expect(md).toContain(`## Delivery latency\n\n_${markdownText(missingText.latency(model))}_`);
    expect(md).toContain(markdownText(missingText.system));
    expect(md).toContain('run smtp-source with --sample, or pass --samples FILE');
    expect(md).toContain(markdownText(missingText.timeline));
    expect(md).toContain(markdownText(missingText.delays));
    expect(row(md, 'none')).toEqual(['none', '0']);
    expect(md).toContain('## Warnings\n\n- 2 accepted messages never appeared in the log (lost)');
    expect(md).not.toMatch(/\b(NaN|undefined|Infinity|null)\b/);
  });

  it('says why there is no latency: nothing injected, nothing found, or nothing fully sent', () => {
    const m = emptyModel();
    expect(missingText.latency(m)).toContain('none of the injected messages was found in the log');
    expect(missingText.latency({ ...m, summary: { ...m.summary, injected: 0 } })).toContain('nothing was injected');
    expect(missingText.latency({ ...m, summary: { ...m.summary, found: 2 } })).toContain('no message had every recipient sent');
  });

  it('lists at most 100 warnings and counts the rest', () => {
    const model = { ...emptyModel(), warnings: Array.from({ length: 150 }, (_, i) => `warning ${i}`) };
    const md = renderMarkdown(model);
    expect(md).toContain('- warning 99\n');
    expect(md).not.toContain('- warning 100\n');
    expect(md).toContain('- … and 50 more');
  });
});
