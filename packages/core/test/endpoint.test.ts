import { describe, expect, it } from 'vitest';
import {
  EndpointError,
  UNIX_PATH_MAX,
  formatEndpoint,
  parseConnectEndpoint,
  parseListenEndpoint,
  type Endpoint,
} from '../src/endpoint.js';

/** The error a parse throws, checked to be an EndpointError. */
function errorOf(fn: () => unknown): EndpointError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EndpointError);
    expect(e).toBeInstanceOf(Error);
    return e as EndpointError;
  }
  throw new Error('expected an EndpointError, got none');
}

describe('parseListenEndpoint', () => {
  it.each<[string, Endpoint]>([
    ['2525', { kind: 'inet', host: '', port: 2525 }],
    [':2525', { kind: 'inet', host: '', port: 2525 }],
    ['127.0.0.1:2525', { kind: 'inet', host: '127.0.0.1', port: 2525 }],
    ['inet:127.0.0.1:2525', { kind: 'inet', host: '127.0.0.1', port: 2525 }],
    ['inet:2525', { kind: 'inet', host: '', port: 2525 }],
    ['inet::2525', { kind: 'inet', host: '', port: 2525 }],
    ['localhost:25', { kind: 'inet', host: 'localhost', port: 25 }],
    ['[::1]:2525', { kind: 'inet', host: '::1', port: 2525 }],
    ['[ipv6:::1]:2525', { kind: 'inet', host: '::1', port: 2525 }],
    ['[IPv6:2001:db8::5]:25', { kind: 'inet', host: '2001:db8::5', port: 25 }],
    ['inet:[::]:2525', { kind: 'inet', host: '::', port: 2525 }],
    ['[127.0.0.1]:2525', { kind: 'inet', host: '127.0.0.1', port: 2525 }],
    ['0', { kind: 'inet', host: '', port: 0 }],
    ['65535', { kind: 'inet', host: '', port: 65535 }],
    ['host:0025', { kind: 'inet', host: 'host', port: 25 }],
    ['unix:/tmp/x.sock', { kind: 'unix', path: '/tmp/x.sock' }],
    ['unix:relative.sock', { kind: 'unix', path: 'relative.sock' }],
    // Unbracketed, the split is at the rightmost ':' (Postfix host_port).
    ['::1:2525', { kind: 'inet', host: '::1', port: 2525 }],
    ['a:b:25', { kind: 'inet', host: 'a:b', port: 25 }],
  ])('%j', (spec, endpoint) => {
    expect(parseListenEndpoint(spec)).toEqual(endpoint);
  });

  it('rejects a bracketed address without "]"', () => {
    expect(errorOf(() => parseListenEndpoint('[::1:2525')).message).toBe('[::1:2525: missing "]"');
  });

  it('rejects garbage after "]"', () => {
    expect(errorOf(() => parseListenEndpoint('[::1]x2525')).message).toBe('[::1]x2525: garbage after "]"');
    expect(errorOf(() => parseListenEndpoint('[::1] :2525')).message).toMatch(/garbage after "\]"/);
  });

  it.each(['host:abc', 'host:-1', 'host:25x', 'host:0x19', 'host:1e3', 'host: 25', ':+25'])('rejects bad port in %j', (spec) => {
    expect(errorOf(() => parseListenEndpoint(spec)).message).toMatch(/bad port/);
  });

  it.each(['65536', ':65536', 'host:99999', '[::1]:70000', 'inet:1000000'])('rejects port > 65535 in %j', (spec) => {
    expect(errorOf(() => parseListenEndpoint(spec)).message).toMatch(/out of range/);
  });

  it('names the spec and the port in errors', () => {
    expect(errorOf(() => parseListenEndpoint('h:65536')).message).toBe('h:65536: port 65536 is out of range (0-65535)');
    expect(errorOf(() => parseListenEndpoint('h:x')).message).toBe('h:x: bad port "x" (want a number from 0 to 65535)');
  });

  it.each(['localhost', 'host:', '[::1]', 'inet:host', ''])('requires a port: %j', (spec) => {
    expect(errorOf(() => parseListenEndpoint(spec)).message).toMatch(/missing port/);
  });

  it('accepts unix paths up to 107 bytes and rejects 108 or more', () => {
    const ok = '/' + 'a'.repeat(UNIX_PATH_MAX - 2);
    expect(Buffer.byteLength(ok)).toBe(107);
    expect(parseListenEndpoint('unix:' + ok)).toEqual({ kind: 'unix', path: ok });
    const tooLong = ok + 'b';
    expect(errorOf(() => parseListenEndpoint('unix:' + tooLong)).message).toBe(`unix-domain name too long: ${tooLong}`);
    expect(errorOf(() => parseListenEndpoint('unix:' + ok + 'bbbbbbbbbbbbbbbbbb')).message).toMatch(/^unix-domain name too long/);
  });

  it('counts a unix path in bytes, not characters', () => {
    const path = '/' + 'é'.repeat(54); // 1 + 108 bytes, 55 characters
    expect(path.length).toBeLessThan(UNIX_PATH_MAX);
    expect(errorOf(() => parseListenEndpoint('unix:' + path)).message).toMatch(/unix-domain name too long/);
  });

  it('rejects an empty unix path', () => {
    expect(errorOf(() => parseListenEndpoint('unix:')).message).toMatch(/empty unix-domain path/);
  });

  it('UNIX_PATH_MAX is the Linux sun_path size', () => {
    expect(UNIX_PATH_MAX).toBe(108);
  });
});

describe('parseConnectEndpoint', () => {
  it.each<[string, Endpoint]>([
    ['host', { kind: 'inet', host: 'host', port: 25 }],
    ['host:2525', { kind: 'inet', host: 'host', port: 2525 }],
    ['host:', { kind: 'inet', host: 'host', port: 25 }],
    ['inet:host', { kind: 'inet', host: 'host', port: 25 }],
    ['inet:10.0.0.1:587', { kind: 'inet', host: '10.0.0.1', port: 587 }],
    ['[::1]:26', { kind: 'inet', host: '::1', port: 26 }],
    ['[::1]', { kind: 'inet', host: '::1', port: 25 }],
    ['[ipv6:fe80::1]:2525', { kind: 'inet', host: 'fe80::1', port: 2525 }],
    ['[mx.example.com]', { kind: 'inet', host: 'mx.example.com', port: 25 }],
    ['unix:/p', { kind: 'unix', path: '/p' }],
    ['fe80::1:2525', { kind: 'inet', host: 'fe80::1', port: 2525 }],
  ])('%j', (spec, endpoint) => {
    expect(parseConnectEndpoint(spec)).toEqual(endpoint);
  });

  it('uses the given default port', () => {
    expect(parseConnectEndpoint('host', 24)).toEqual({ kind: 'inet', host: 'host', port: 24 });
    expect(parseConnectEndpoint('[::1]', 2525)).toEqual({ kind: 'inet', host: '::1', port: 2525 });
    expect(parseConnectEndpoint('host:26', 24)).toEqual({ kind: 'inet', host: 'host', port: 26 });
  });

  it.each(['', ':25', 'inet:', 'inet::25', '[]:25', '[ipv6:]'])('requires a host: %j', (spec) => {
    expect(errorOf(() => parseConnectEndpoint(spec)).message).toBe(`${spec}: missing host`);
  });

  it('rejects bad and out-of-range ports', () => {
    expect(errorOf(() => parseConnectEndpoint('host:smtp')).message).toMatch(/bad port "smtp"/);
    expect(errorOf(() => parseConnectEndpoint('host:65536')).message).toMatch(/out of range/);
    expect(parseConnectEndpoint('host:65535')).toEqual({ kind: 'inet', host: 'host', port: 65535 });
  });

  it('rejects bracket errors and long unix paths like the listen side', () => {
    expect(errorOf(() => parseConnectEndpoint('[::1')).message).toMatch(/missing "\]"/);
    expect(errorOf(() => parseConnectEndpoint('[::1]25')).message).toMatch(/garbage after "\]"/);
    expect(errorOf(() => parseConnectEndpoint('unix:/' + 'x'.repeat(107))).message).toMatch(/unix-domain name too long/);
  });
});

describe('formatEndpoint', () => {
  it.each<[Endpoint, string]>([
    [{ kind: 'inet', host: '127.0.0.1', port: 25 }, '127.0.0.1:25'],
    [{ kind: 'inet', host: 'mx.example.com', port: 2525 }, 'mx.example.com:2525'],
    [{ kind: 'inet', host: '::1', port: 25 }, '[::1]:25'],
    [{ kind: 'inet', host: '', port: 2525 }, ':2525'],
    [{ kind: 'unix', path: '/tmp/x.sock' }, 'unix:/tmp/x.sock'],
  ])('%j => %j', (ep, text) => {
    expect(formatEndpoint(ep)).toBe(text);
  });

  it.each(['127.0.0.1:2525', '[::1]:2525', 'unix:/tmp/x.sock', ':2525', 'host:0'])('round-trips %j through parseListenEndpoint', (spec) => {
    expect(formatEndpoint(parseListenEndpoint(spec))).toBe(spec);
    expect(parseListenEndpoint(formatEndpoint(parseListenEndpoint(spec)))).toEqual(parseListenEndpoint(spec));
  });
});
