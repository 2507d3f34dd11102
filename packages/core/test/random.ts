// Deterministic pseudo-random helpers for property tests: every run sees the same inputs,
// and a failing case names its seed so it can be replayed.

/** mulberry32: a small, fast, seedable 32-bit generator. Returns floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export function randInt(r: () => number, n: number): number {
  return Math.floor(r() * n);
}

/** A byte from `alphabet` most of the time, else any byte 0-255 (so NUL and 8-bit show up). */
export function randomBytes(r: () => number, length: number, alphabet: readonly number[], anyByteChance = 0.2): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    out[i] = r() < anyByteChance ? randInt(r, 256) : alphabet[randInt(r, alphabet.length)];
  }
  return out;
}

/** Cuts `length` bytes into consecutive [from, to) pieces of random size (some empty). */
export function randomSplits(r: () => number, length: number, maxPieces = 8): Array<[number, number]> {
  const cuts = new Set<number>();
  const pieces = 1 + randInt(r, maxPieces);
  for (let i = 1; i < pieces; i++) cuts.add(randInt(r, length + 1));
  const points = [0, ...[...cuts].sort((a, b) => a - b), length];
  const out: Array<[number, number]> = [];
  for (let i = 0; i + 1 < points.length; i++) out.push([points[i], points[i + 1]]);
  // An empty piece now and then checks that scanning nothing changes nothing.
  if (r() < 0.3) {
    const k = randInt(r, out.length);
    out.splice(k, 0, [out[k][0], out[k][0]]);
  }
  return out;
}

/** Printable form of bytes for assertion messages. */
export function show(b: Uint8Array): string {
  return JSON.stringify(Buffer.from(b).toString('latin1'));
}
