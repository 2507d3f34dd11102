// Part of the testbed: real peers on loopback for the tests, the demo and benchmarks. This file
// holds the loopback address every peer listens on, how a port is picked (the system picks it:
// no fixed ports, ever) and how we know a peer is up (it sends a banner).
import { connect, createServer } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** A port that was free a moment ago: bind 127.0.0.1:0, read the port back, close. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, resolve);
  });
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once a connection to 127.0.0.1:port is accepted and the server says something. */
export async function waitForBanner(port: number, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const banner = await new Promise<string | undefined>((resolve) => {
      const s = connect(port, LOOPBACK);
      const t = setTimeout(() => done(undefined), 1000);
      function done(v: string | undefined): void {
        clearTimeout(t);
        s.destroy();
        resolve(v);
      }
      s.once('data', (d) => done(d.toString('latin1')));
      s.once('error', () => done(undefined));
      s.once('close', () => done(undefined));
    });
    if (banner !== undefined) return banner;
    if (Date.now() > deadline) throw new Error(`nothing answers on ${LOOPBACK}:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
