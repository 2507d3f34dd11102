// Helpers for the TLS and AUTH tests: a CA and a server certificate (@smtpstone/testbed), and
// a small scripted SMTP/LMTP server (node net + tls) that offers STARTTLS and AUTH PLAIN,
// LOGIN, CRAM-MD5 and XOAUTH2, checks what it gets and records it, so that the tests can look
// at the exact encodings.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import { makeTestCerts, type TestCerts } from '@smtpstone/testbed';

export type Certs = TestCerts;

/** A CA and a server certificate for `name` (and only that name), RSA keys. */
export function makeCerts(name = 'mx.example.test'): Certs {
  return makeTestCerts({ names: [name], keyType: 'rsa' });
}

export interface Account {
  user: string;
  password: string;
}

/** What the scripted server saw on one connection. */
export interface SeenConnection {
  /** Every line received, in order (AUTH lines included, as sent). */
  lines: string[];
  tls: boolean;
  /** The AUTH mechanism tried and the user it named, and whether it passed. */
  auth?: { mechanism: string; user: string; ok: boolean };
  messages: number;
}

export interface ScriptedOptions {
  /** Accounts that authenticate; anything else gets 535. */
  accounts: Account[];
  /** Mechanisms offered in EHLO (default all four); [] offers no AUTH. */
  mechanisms?: string[];
  /** Offer STARTTLS (needs certs). */
  starttls?: Certs;
  /** Speak LMTP (LHLO; one reply per recipient after "."). */
  lmtp?: boolean;
  /** Require AUTH before MAIL (530 otherwise). Default true. */
  requireAuth?: boolean;
}

export interface ScriptedServer {
  port: number;
  seen: SeenConnection[];
  close(): Promise<void>;
}

const CHALLENGE = '<1896.697170952@auth.test>';

/** A scripted SMTP server on 127.0.0.1 (an ephemeral port). */
export async function scriptedServer(o: ScriptedOptions): Promise<ScriptedServer> {
  const seen: SeenConnection[] = [];
  const sockets = new Set<Socket>();
  const mechanisms = o.mechanisms ?? ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'];
  const context = o.starttls ? createSecureContext({ cert: readFileSync(o.starttls.certFile), key: readFileSync(o.starttls.keyFile) }) : undefined;
  const server: Server = createServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    raw.on('error', () => undefined);
    const conn: SeenConnection = { lines: [], tls: false, messages: 0 };
    seen.push(conn);
    let sock: Socket = raw;
    let buf = '';
    let data = false;
    let authed = false;
    let recipients = 0;
    /** The AUTH exchange under way: what the next line answers. */
    let pending: { mechanism: string; step: number; user?: string } | undefined;
    const write = (s: string): void => {
      sock.write(s);
    };
    const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
    const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');
    const verdict = (mechanism: string, user: string, ok: boolean): void => {
      conn.auth = { mechanism, user, ok };
      authed = ok;
      pending = undefined;
      write(ok ? '235 2.7.0 Authentication successful\r\n' : '535 5.7.8 Error: authentication failed: bad credentials\r\n');
    };
    const check = (user: string, password: string): boolean => o.accounts.some((a) => a.user === user && a.password === password);
    const onLine = (line: string): void => {
      conn.lines.push(line);
      if (data) {
        if (line === '.') {
          data = false;
          conn.messages++;
          const n = o.lmtp ? recipients : 1;
          for (let i = 0; i < n; i++) write('250 2.0.0 Ok: queued as ABC123\r\n');
          recipients = 0;
        }
        return;
      }
      if (pending !== undefined) {
        const p = pending;
        if (line === '*') return verdict(p.mechanism, p.user ?? '', false);
        if (p.mechanism === 'LOGIN' && p.step === 1) {
          p.user = unb64(line);
          p.step = 2;
          return write(`334 ${b64('Password:')}\r\n`);
        }
        if (p.mechanism === 'LOGIN') return verdict('LOGIN', p.user!, check(p.user!, unb64(line)));
        if (p.mechanism === 'CRAM-MD5') {
          const [user, digest] = unb64(line).split(' ');
          const account = o.accounts.find((a) => a.user === user);
          const want = account && createHmac('md5', account.password).update(CHALLENGE).digest('hex');
          return verdict('CRAM-MD5', user, want !== undefined && want === digest);
        }
        if (p.mechanism === 'XOAUTH2') return verdict('XOAUTH2', p.user ?? '', false); // the empty line after the error
        return verdict(p.mechanism, '', false);
      }
      const [verb, ...rest] = line.split(' ');
      switch (verb.toUpperCase()) {
        case 'EHLO':
        case 'LHLO': {
          const caps = ['PIPELINING', '8BITMIME'];
          if (context && !conn.tls) caps.push('STARTTLS');
          if (mechanisms.length > 0) caps.push(`AUTH ${mechanisms.join(' ')}`);
          return write(['auth.test', ...caps].map((c, i, all) => `250${i === all.length - 1 ? ' ' : '-'}${c}\r\n`).join(''));
        }
        case 'HELO':
          return write('250 auth.test\r\n');
        case 'STARTTLS': {
          if (!context || conn.tls) return write('454 4.7.0 TLS not available\r\n');
          write('220 2.0.0 Ready to start TLS\r\n');
          raw.removeAllListeners('data');
          const secure = new TLSSocket(raw, { isServer: true, secureContext: context });
          secure.on('error', () => undefined);
          secure.on('data', onData);
          sock = secure;
          conn.tls = true;
          buf = '';
          return;
        }
        case 'AUTH': {
          const mechanism = (rest[0] ?? '').toUpperCase();
          if (!mechanisms.includes(mechanism)) return write('504 5.5.4 Unrecognized authentication type\r\n');
          const initial = rest[1];
          if (mechanism === 'PLAIN') {
            if (initial === undefined) {
              pending = { mechanism, step: 1 };
              return write('334 \r\n');
            }
            const [, user, password] = unb64(initial).split('\0');
            return verdict('PLAIN', user, check(user, password));
          }
          if (mechanism === 'LOGIN') {
            pending = { mechanism, step: 1 };
            return write(`334 ${b64('Username:')}\r\n`);
          }
          if (mechanism === 'CRAM-MD5') {
            pending = { mechanism, step: 1 };
            return write(`334 ${b64(CHALLENGE)}\r\n`);
          }
          // XOAUTH2: user=U ^A auth=Bearer T ^A ^A
          const m = /^user=([^\x01]*)\x01auth=Bearer ([^\x01]*)\x01\x01$/.exec(unb64(initial ?? ''));
          if (m !== null && check(m[1], m[2])) return verdict('XOAUTH2', m[1], true);
          pending = { mechanism, step: 1, user: m?.[1] };
          return write(`334 ${b64('{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}')}\r\n`);
        }
        case 'MAIL':
          if (o.requireAuth !== false && !authed) return write('530 5.7.0 Authentication required\r\n');
          return write('250 2.1.0 Ok\r\n');
        case 'RCPT':
          recipients++;
          return write('250 2.1.5 Ok\r\n');
        case 'DATA':
          data = true;
          return write('354 End data with <CR><LF>.<CR><LF>\r\n');
        case 'RSET':
          recipients = 0;
          return write('250 2.0.0 Ok\r\n');
        case 'QUIT':
          sock.end('221 2.0.0 Bye\r\n');
          return;
        default:
          return write('502 5.5.2 Error: command not recognized\r\n');
      }
    };
    function onData(d: Buffer): void {
      buf += d.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        onLine(line);
      }
    }
    raw.on('data', onData);
    raw.write(`220 auth.test ${o.lmtp ? 'LMTP' : 'ESMTP'}\r\n`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
