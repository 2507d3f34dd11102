// Helpers for the TLS and AUTH tests: a raw SMTP client that can take STARTTLS or start in
// TLS, and openssl s_client driven line by line (certificates: @smtpstone/testbed).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';

/** The raw client of helpers.ts, which also takes STARTTLS (upgrade) or starts in TLS (implicit). */
export { RawClient as SmtpConn } from './helpers.js';

/**
 * openssl s_client as a line-by-line SMTP client: `-quiet` shows only what the server sends
 * after the handshake (with -starttls smtp, s_client has done the banner, EHLO and STARTTLS
 * itself). Waits for reply lines and writes commands as a person at a terminal would.
 */
export class SClient {
  out = '';
  private readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (d) => (this.out += d));
    child.stderr.on('data', () => undefined);
    this.exited = once(child, 'exit').then(([code]) => code as number | null);
  }

  static start(openssl: string, args: string[]): SClient {
    return new SClient(spawn(openssl, ['s_client', '-quiet', ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  /** Waits until stdout has a line matching `re` after the first `after` characters; returns where it ends. */
  async expectLine(re: RegExp, after = 0, timeoutMs = 10000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.out.slice(after);
      const lines = text.split('\n');
      let at = after;
      for (const line of lines.slice(0, -1)) {
        at += line.length + 1;
        if (re.test(line.replace(/\r$/, ''))) return at;
      }
      if (Date.now() > deadline || this.child.exitCode !== null) throw new Error(`s_client: no line ${re} in ${JSON.stringify(this.out)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  send(text: string): void {
    this.child.stdin.write(text);
  }

  async exit(timeoutMs = 10000): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  close(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
