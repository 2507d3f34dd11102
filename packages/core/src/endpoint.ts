// Endpoint syntax shared by both tools, as Postfix's host_port() reads it:
//   [inet:]host[:port]   [inet:][addr]:port   [inet:][ipv6:addr]:port   unix:/path
// The split is at the rightmost ':' so IPv6 addresses must be bracketed.

export type Endpoint =
  | { kind: 'inet'; host: string; port: number }
  | { kind: 'unix'; path: string };

/** Linux sun_path is 108 bytes including the terminating NUL. */
export const UNIX_PATH_MAX = 108;

export class EndpointError extends Error {}

function splitHostPort(spec: string): { host: string; port: string | undefined } {
  if (spec.startsWith('[')) {
    const close = spec.indexOf(']');
    if (close < 0) throw new EndpointError(`${spec}: missing "]"`);
    let host = spec.slice(1, close);
    if (host.toLowerCase().startsWith('ipv6:')) host = host.slice(5);
    const rest = spec.slice(close + 1);
    if (rest === '') return { host, port: undefined };
    if (!rest.startsWith(':')) throw new EndpointError(`${spec}: garbage after "]"`);
    return { host, port: rest.slice(1) };
  }
  const colon = spec.lastIndexOf(':');
  if (colon < 0) return { host: spec, port: undefined };
  return { host: spec.slice(0, colon), port: spec.slice(colon + 1) };
}

function parsePort(port: string, spec: string): number {
  if (!/^\d+$/.test(port)) throw new EndpointError(`${spec}: bad port "${port}" (want a number from 0 to 65535)`);
  const n = Number(port);
  if (n > 65535) throw new EndpointError(`${spec}: port ${n} is out of range (0-65535)`);
  return n;
}

function parseUnix(spec: string): Endpoint {
  const path = spec.slice(5);
  if (path === '') throw new EndpointError(`${spec}: empty unix-domain path`);
  if (Buffer.byteLength(path) >= UNIX_PATH_MAX) throw new EndpointError(`unix-domain name too long: ${path}`);
  return { kind: 'unix', path };
}

/**
 * A listening endpoint as smtp-sink takes it: `port`, `:port`, `host:port`, `[addr]:port`,
 * each optionally behind `inet:`, or `unix:/path`. An empty host means every address.
 */
export function parseListenEndpoint(spec: string): Endpoint {
  if (spec.startsWith('unix:')) return parseUnix(spec);
  const body = spec.startsWith('inet:') ? spec.slice(5) : spec;
  if (/^\d+$/.test(body)) return { kind: 'inet', host: '', port: parsePort(body, spec) };
  const { host, port } = splitHostPort(body);
  if (port === undefined || port === '') throw new EndpointError(`${spec}: missing port (want [host]:port)`);
  return { kind: 'inet', host, port: parsePort(port, spec) };
}

/**
 * A target as smtp-source takes it: `host`, `host:port`, `[addr]:port` (default port 25),
 * each optionally behind `inet:`, or `unix:/path`.
 */
export function parseConnectEndpoint(spec: string, defaultPort = 25): Endpoint {
  if (spec.startsWith('unix:')) return parseUnix(spec);
  const body = spec.startsWith('inet:') ? spec.slice(5) : spec;
  const { host, port } = splitHostPort(body);
  if (host === '') throw new EndpointError(`${spec}: missing host`);
  return { kind: 'inet', host, port: port === undefined || port === '' ? defaultPort : parsePort(port, spec) };
}

/** How a listening or connected endpoint is shown to people: 127.0.0.1:25, [::1]:25, unix:/path. */
export function formatEndpoint(ep: Endpoint): string {
  if (ep.kind === 'unix') return `unix:${ep.path}`;
  return ep.host.includes(':') ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`;
}
