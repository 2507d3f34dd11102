// Part of the testbed: real peers on loopback for the tests, the demo and benchmarks. This file
// is a TCP relay put between a client and a real peer to see what the client wrote and how it
// was split into writes (what --pipelining is about).
import { connect, createServer, type Socket } from 'node:net';
import { LOOPBACK } from './net.js';

export interface WireRecorder {
  port: number;
  /** What each client wrote, one entry per chunk read, per connection. */
  chunks: string[][];
  close(): Promise<void>;
}

/**
 * A TCP relay on 127.0.0.1:<ephemeral> to `targetPort` that records the client's bytes as
 * they arrive: one write of a pipelined batch shows up as one chunk on loopback.
 */
export async function wireRecorder(targetPort: number): Promise<WireRecorder> {
  const chunks: string[][] = [];
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const mine: string[] = [];
    chunks.push(mine);
    const upstream = connect(targetPort, LOOPBACK);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d) => {
      mine.push(d.toString('latin1'));
      upstream.write(d);
    });
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return {
    port: (server.address() as { port: number }).port,
    chunks,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
