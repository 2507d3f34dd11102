// Real SMTP AUTH (RFC 4954) for the sink: PLAIN (RFC 4616), LOGIN and CRAM-MD5 (RFC 2195),
// checked against a users file, or accepting everyone when there is none (a load sink should
// not stand in the way of a client that wants to authenticate). Nothing here runs unless
// AUTH is configured; the plain command path never touches it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FatalError, strerror } from '@smtpstone/core';

export const AUTH_MECHANISMS = ['PLAIN', 'LOGIN', 'CRAM-MD5'] as const;
export type AuthMechanism = (typeof AUTH_MECHANISMS)[number];
/** What the original announces (and what the sink announces unless told otherwise). */
export const DEFAULT_AUTH_MECHANISMS: AuthMechanism[] = ['PLAIN', 'LOGIN'];

export interface AuthSettings {
  /** Announced in EHLO and accepted, in this order. */
  mechanisms: AuthMechanism[];
  /** user -> password; without it every AUTH succeeds. */
  users?: ReadonlyMap<string, string>;
}

export const AUTH_REPLY = {
  ok: '235 2.7.0 Authentication successful\r\n',
  failed: '535 5.7.8 Error: authentication failed\r\n',
  cannotDecode: '501 5.5.2 Cannot decode response\r\n',
  aborted: '501 5.7.0 Authentication aborted\r\n',
  already: '503 5.5.1 Error: already authenticated\r\n',
  inTransaction: '503 5.5.1 Error: MAIL transaction in progress\r\n',
  syntax: '501 5.5.4 Syntax: AUTH mechanism\r\n',
  unknownMechanism: '504 5.5.4 Unrecognized authentication type\r\n',
  required: '530 5.7.0 Authentication required\r\n',
  /** LOGIN's prompts: base64 of "Username:" and "Password:". */
  username: '334 VXNlcm5hbWU6\r\n',
  password: '334 UGFzc3dvcmQ6\r\n',
  /** PLAIN without an initial response. */
  goAhead: '334 \r\n',
} as const;

export class AuthConfigError extends Error {}

/** "PLAIN,LOGIN" (commas or blanks, any case) into mechanisms; an unknown name throws. */
export function parseMechanisms(list: string): AuthMechanism[] {
  const names = list.split(/[,\s]+/).filter((n) => n !== '');
  if (names.length === 0) throw new AuthConfigError('no mechanism named');
  const out: AuthMechanism[] = [];
  for (const n of names) {
    const upper = n.toUpperCase();
    if (!(AUTH_MECHANISMS as readonly string[]).includes(upper)) {
      throw new AuthConfigError(`unknown mechanism: ${n} (known: ${AUTH_MECHANISMS.join(', ')})`);
    }
    if (!out.includes(upper as AuthMechanism)) out.push(upper as AuthMechanism);
  }
  return out;
}

/** A users file's text: "user:password" lines; blank lines and lines starting with # are skipped. */
export function parseUsers(text: string, file = 'users file'): Map<string, string> {
  const users = new Map<string, string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new AuthConfigError(`${file} line ${i + 1}: want user:password`);
    users.set(line.slice(0, colon), line.slice(colon + 1));
  });
  return users;
}

export function readUsersFile(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FatalError(`cannot read --users ${path}: ${strerror(err as NodeJS.ErrnoException)}`);
  }
  try {
    return parseUsers(text, path);
  } catch (err) {
    if (err instanceof AuthConfigError) throw new FatalError(`bad --users file: ${err.message}`);
    throw err;
  }
}

/** Strict base64 as RFC 4954 wants it; null when it is not. "=" alone is an empty response. */
export function decodeBase64(text: string): Buffer | null {
  if (text === '=') return Buffer.alloc(0);
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  return Buffer.from(text, 'base64');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** One AUTH exchange in progress: what the next client line answers. */
export interface AuthExchange {
  mechanism: AuthMechanism;
  /** LOGIN: the user name once given. */
  user?: string;
  /** CRAM-MD5: the challenge sent. */
  challenge?: string;
}

/**
 * The outcome of one step: a reply and where the exchange stands. "more": a 334 went out and
 * the next line answers it; "aborted": cancelled, undecodable or refused before any check.
 */
export interface AuthStep {
  reply: string;
  state: 'more' | 'success' | 'failure' | 'aborted';
}

export class Authenticator {
  constructor(
    private readonly settings: AuthSettings,
    private readonly hostname: string,
  ) {}

  get mechanisms(): readonly AuthMechanism[] {
    return this.settings.mechanisms;
  }

  private check(user: string, password: string): boolean {
    const users = this.settings.users;
    if (users === undefined) return true;
    const want = users.get(user);
    return want !== undefined && sameText(want, password);
  }

  private checkCram(user: string, digest: string, challenge: string): boolean {
    const users = this.settings.users;
    if (users === undefined) return true;
    const password = users.get(user);
    if (password === undefined) return false;
    const want = createHmac('md5', password).update(challenge).digest('hex');
    return sameText(want, digest.toLowerCase());
  }

  private result(ok: boolean): AuthStep {
    return ok ? { reply: AUTH_REPLY.ok, state: 'success' } : { reply: AUTH_REPLY.failed, state: 'failure' };
  }

  /** The AUTH command's arguments ("MECH [initial-response]"); `ex` is filled when a 334 goes out. */
  begin(args: string, ex: AuthExchange): AuthStep {
    const parts = args.trim().split(/[ \t]+/);
    if (parts[0] === '' || parts.length > 2) return { reply: AUTH_REPLY.syntax, state: 'aborted' };
    const mech = parts[0].toUpperCase() as AuthMechanism;
    if (!this.settings.mechanisms.includes(mech)) return { reply: AUTH_REPLY.unknownMechanism, state: 'aborted' };
    ex.mechanism = mech;
    ex.user = undefined;
    ex.challenge = undefined;
    const initial = parts[1];
    switch (mech) {
      case 'PLAIN':
        return initial === undefined ? { reply: AUTH_REPLY.goAhead, state: 'more' } : this.step(initial, ex);
      case 'LOGIN':
        return initial === undefined ? { reply: AUTH_REPLY.username, state: 'more' } : this.step(initial, ex);
      case 'CRAM-MD5': {
        if (initial !== undefined) return { reply: AUTH_REPLY.syntax, state: 'aborted' };
        ex.challenge = `<${randomBytes(8).readBigUInt64BE().toString()}.${Date.now()}@${this.hostname}>`;
        return { reply: `334 ${Buffer.from(ex.challenge, 'latin1').toString('base64')}\r\n`, state: 'more' };
      }
    }
  }

  /** A client line answering a 334. */
  step(line: string, ex: AuthExchange): AuthStep {
    const text = line.trim();
    if (text === '*') return { reply: AUTH_REPLY.aborted, state: 'aborted' };
    const data = decodeBase64(text);
    if (data === null) return { reply: AUTH_REPLY.cannotDecode, state: 'aborted' };
    switch (ex.mechanism) {
      case 'PLAIN': {
        // authzid NUL authcid NUL passwd
        const fields = data.toString('utf8').split('\0');
        if (fields.length !== 3) return this.result(this.settings.users === undefined);
        return this.result(this.check(fields[1], fields[2]));
      }
      case 'LOGIN':
        if (ex.user === undefined) {
          ex.user = data.toString('utf8');
          return { reply: AUTH_REPLY.password, state: 'more' };
        }
        return this.result(this.check(ex.user, data.toString('utf8')));
      case 'CRAM-MD5': {
        const response = data.toString('utf8');
        const space = response.lastIndexOf(' ');
        if (space <= 0) return this.result(this.settings.users === undefined);
        return this.result(this.checkCram(response.slice(0, space), response.slice(space + 1), ex.challenge ?? ''));
      }
    }
  }
}
