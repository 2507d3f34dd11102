// The HTML report rendered by a real browser: headless Chromium paints each fixture model's page
// to a PNG and dumps its DOM. The DOM must hold the charts (svg paths with data) and the
// headline, the page no URL, and the PNG must be a real picture of the requested size, not a
// blank page. Skipped, saying so, only when no Chromium is installed (Debian: apt-get install
// chromium). The disk-bound page's screenshot is kept as /tmp/smtpstone-report.png to look at.
import { spawn } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../src/report/html.js';
import { headline } from '../src/report/markdown.js';
import { escapeXml } from '../src/report/svg.js';
import { FIXTURE_MODELS } from './report-model-fixture.js';

const WIDTH = 1200;
const HEIGHT = 2400;
const KILL_AFTER_MS = 30_000;
const KEEP = '/tmp/smtpstone-report.png';

/** The first Chromium on PATH ($CHROMIUM overrides), or undefined. */
function findChromium(): string | undefined {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

const CHROMIUM = findChromium();
const dir = mkdtempSync(join(tmpdir(), 'smtpstone-html-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs Chromium headless on a file with a fresh profile and returns its stdout. Chromium is a
 * process group of its own (browser, zygote, renderers): on timeout the whole group is killed.
 */
function chromium(page: string, extra: string[]): Promise<string> {
  const profile = mkdtempSync(join(dir, 'profile-'));
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--hide-scrollbars', `--user-data-dir=${profile}`,
    `--window-size=${WIDTH},${HEIGHT}`, ...extra, pathToFileURL(page).href,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(CHROMIUM!, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const killGroup = (): void => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      killGroup();
      reject(new Error(`chromium did not finish in ${KILL_AFTER_MS / 1000} s: ${Buffer.concat(err).toString().slice(-2000)}`));
    }, KILL_AFTER_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      killGroup(); // helpers the browser left behind, if any
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`chromium exited with ${code}: ${Buffer.concat(err).toString().slice(-2000)}`));
    });
  });
}

interface Png {
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA) bytes per pixel. */
  channels: number;
  pixels: Buffer;
}

/** Paeth predictor (PNG spec, filter type 4). */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes): chunks, inflate, unfilter. */
function decodePng(buf: Buffer): Png {
  expect(buf.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let off = 8; off < buf.length; ) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect({ depth: data[8], interlace: data[12] }).toEqual({ depth: 8, interlace: 0 });
      expect([2, 6]).toContain(data[9]);
      channels = data[9] === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  expect(raw.length).toBe((stride + 1) * height);
  const px = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    if (filter > 4) throw new Error(`PNG line ${y}: unknown filter ${filter}`);
    const src = y * (stride + 1) + 1;
    const at = y * stride;
    for (let i = 0; i < stride; i++) {
      // Left, up and up-left neighbours of this byte, already decoded.
      const a = i >= channels ? px[at + i - channels] : 0;
      const b = y > 0 ? px[at - stride + i] : 0;
      const c = y > 0 && i >= channels ? px[at - stride + i - channels] : 0;
      const pred = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : paeth(a, b, c);
      px[at + i] = (raw[src + i] + pred) & 0xff;
    }
  }
  return { width, height, channels, pixels: px };
}

/** How many pixels have each colour, keyed 0xRRGGBB. */
function colours(png: Png): Map<number, number> {
  const counts = new Map<number, number>();
  const p = png.pixels;
  for (let i = 0; i < p.length; i += png.channels) {
    const key = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

const WHITE = 0xffffff;
const hex = (h: string): number => parseInt(h.slice(1), 16);

const TITLE = CHROMIUM
  ? 'the HTML report in headless Chromium'
  : 'the HTML report in headless Chromium: SKIPPED, no chromium binary on PATH (apt-get install chromium, or set CHROMIUM=/path/to/chrome)';
if (!CHROMIUM) console.warn(TITLE);

// In CI (CI=true) a missing Chromium fails, as every missing peer does: .ci/run installs it.
if (!CHROMIUM && process.env.CI) {
  describe(TITLE, () => {
    it('needs Chromium (apt-get install chromium)', () => {
      throw new Error('no chromium binary on PATH (apt-get install chromium, or set CHROMIUM=/path)');
    });
  });
}

describe.skipIf(!CHROMIUM)(TITLE, () => {
  let blankPngBytes = 0;

  it('a blank page for comparison: one colour, a small file', async () => {
    const page = join(dir, 'blank.html');
    writeFileSync(page, '<!doctype html><html><body></body></html>');
    const png = join(dir, 'blank.png');
    await chromium(page, [`--screenshot=${png}`]);
    const bytes = readFileSync(png);
    blankPngBytes = bytes.length;
    const image = decodePng(bytes);
    expect([image.width, image.height]).toEqual([WIDTH, HEIGHT]);
    expect(colours(image).size).toBe(1);
  }, 60_000);

  for (const [name, make] of Object.entries(FIXTURE_MODELS)) {
    it(`${name}: the DOM holds the headline and the charts, the screenshot is a real picture`, async () => {
      const model = make();
      const html = renderHtml(model);
      // Nothing to fetch: no URL anywhere in the page.
      expect(html).not.toMatch(/https?:\/\//i);
      const page = join(dir, `${name}.html`);
      writeFileSync(page, html);
      const png = join(dir, `${name}.png`);
      const [dom] = await Promise.all([chromium(page, ['--dump-dom']), chromium(page, [`--screenshot=${png}`])]);

      expect(dom).toContain(`<p class="headline">${escapeXml(headline(model))}</p>`);
      expect(dom).not.toMatch(/https?:\/\//i);
      expect(dom).not.toMatch(/<script/i);
      const svgs = dom.match(/<svg /g) ?? [];
      const paths = [...dom.matchAll(/<path [^>]*?\bd="([^"]*)"/g)].map((m) => m[1]);
      if (name === 'empty') {
        expect(svgs).toHaveLength(0);
        expect(dom).toContain('run smtp-source with --sample, or pass --samples FILE');
      } else {
        expect(svgs).toHaveLength(4);
        expect(paths.length).toBeGreaterThan(20);
        for (const d of paths) expect(d.trim()).not.toBe('');
      }

      const bytes = readFileSync(png);
      const image = decodePng(bytes);
      expect([image.width, image.height]).toEqual([WIDTH, HEIGHT]);
      const counts = colours(image);
      const white = counts.get(WHITE) ?? 0;
      expect(1 - white / (WIDTH * HEIGHT)).toBeGreaterThan(name === 'empty' ? 0.03 : 0.1);
      expect(counts.size).toBeGreaterThan(name === 'empty' ? 50 : 500);
      expect(bytes.length).toBeGreaterThan(blankPngBytes * (name === 'empty' ? 5 : 20));
      if (name !== 'empty') {
        // The charts were painted: the injection line's blue and the delays bar's orange, unblended.
        expect(counts.get(hex('#0072b2')) ?? 0).toBeGreaterThan(300);
        expect(counts.get(hex('#e69f00')) ?? 0).toBeGreaterThan(300);
      }
      if (name === 'disk-bound') copyFileSync(png, KEEP);
    }, 90_000);
  }
});
