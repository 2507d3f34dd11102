// TLS for the sink: the certificate (given, or a self-signed one made at start), the secure
// context every session shares, and STARTTLS's reply texts (RFC 3207).
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { FatalError, strerror } from '@smtpstone/core';

export const TLS_REPLY = {
  ready: '220 2.0.0 Ready to start TLS\r\n',
  already: '503 5.5.1 Error: TLS already active\r\n',
  syntax: '501 5.5.4 Syntax: STARTTLS\r\n',
  required: '530 5.7.0 Must issue a STARTTLS command first\r\n',
} as const;

export interface SinkTls {
  context: SecureContext;
  /** The certificate in PEM, as given or as generated. */
  cert: string;
  /** Its SHA-256 fingerprint, "AB:CD:…". */
  fingerprint256: string;
  /** The certificate was generated at start. */
  selfSigned: boolean;
}

/** Reads a PEM file for a flag; a one-line fatal error naming the flag when it cannot. */
export function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch (err) {
    throw new FatalError(`cannot read ${flag} ${path}: ${strerror(err as NodeJS.ErrnoException)}`);
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

/** Checks a certificate and key (PEM) and builds the secure context; errors name the flag at fault. */
export function loadTls(cert: string | Buffer, key: string | Buffer, selfSigned = false): SinkTls {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new FatalError(`bad TLS certificate (--tls-cert): ${firstLine(err)}`);
  }
  try {
    createPrivateKey(key);
  } catch (err) {
    throw new FatalError(`bad TLS key (--tls-key): ${firstLine(err)}`);
  }
  let context: SecureContext;
  try {
    context = createSecureContext({ cert, key });
  } catch (err) {
    const text = firstLine(err);
    if (/mismatch/i.test(text)) throw new FatalError('TLS key does not match the certificate (--tls-key, --tls-cert)');
    throw new FatalError(`bad TLS certificate or key (--tls-cert, --tls-key): ${text}`);
  }
  return { context, cert: typeof cert === 'string' ? cert : cert.toString('latin1'), fingerprint256: x509.fingerprint256, selfSigned };
}

/** A self-signed certificate for `hostname` (and localhost, 127.0.0.1, ::1), valid a year. */
export async function selfSignedTls(hostname: string): Promise<SinkTls> {
  // selfsigned is loaded only when needed: a sink without TLS should not pay for it.
  const { generate } = await import('selfsigned');
  const notBefore = new Date(Date.now() - 60_000);
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: new Date(notBefore.getTime() + 365 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: hostname },
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return loadTls(pems.cert, pems.private, true);
}
