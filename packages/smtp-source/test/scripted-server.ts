// Scripted SMTP servers on loopback for the misbehaving- and hostile-server tests: no real
// peer sends garbage, splits replies byte by byte or stalls on request. One server at a time.
import { createServer, type Server, type Socket } from 'node:net';

export type Handler = (line: string, socket: Socket, state: Record<string, unknown>) => void;

let server: Server | undefined;

/** Closes the scripted server of the last test (call it in afterEach). */
export async function closeScripted(): Promise<void> {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
}

/**
 * A line-oriented scripted server: `banner` on connect, `handler` for each line; while
 * `state.data` is set, each message line reaches the handler as '\0data' and the end as '.'.
 */
export async function scripted(banner: ((s: Socket) => void) | string, handler: Handler): Promise<number> {
  const sockets = new Set<Socket>();
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const state: Record<string, unknown> = { data: false };
    if (typeof banner === 'string') socket.write(banner);
    else banner(socket);
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (state.data) {
          if (line === '.') {
            state.data = false;
            handler('.', socket, state);
          } else handler('\0data', socket, state);
          continue;
        }
        handler(line, socket, state);
      }
    });
  });
  const close = server.close.bind(server);
  server.close = ((cb?: (err?: Error) => void) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  }) as Server['close'];
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

/** A well-behaved SMTP conversation, with hooks to break it. */
export function smtp(overrides: Partial<Record<string, (s: Socket, st: Record<string, unknown>) => void>> = {}): Handler {
  return (line, s, st) => {
    if (line === '\0data') return overrides['\0data']?.(s, st);
    const verb = line.split(' ')[0].toUpperCase();
    const o = overrides[verb];
    if (o) return o(s, st);
    if (verb === 'DATA') {
      st.data = true;
      s.write('354 go\r\n');
    } else if (verb === '.') s.write('250 2.0.0 Ok: queued as ABC123\r\n');
    else if (verb === 'QUIT') s.end('221 bye\r\n');
    else s.write('250 ok\r\n');
  };
}
