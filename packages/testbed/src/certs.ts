// Part of the testbed: certificates for TLS tests, made with the openssl program. A private CA
// and a server certificate it signed, in a private directory that Postfix's smtpd can read,
// plus a key that belongs to no certificate (for mismatch tests).
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { privateDir, removeDir } from './files.js';

export interface TestCertsOptions {
  /** DNS names of the server certificate; the first is also its CN (default ["localhost"]). */
  names?: string[];
  /** IP addresses it carries too (default none). */
  ips?: string[];
  /** EC P-256 keys (default: quick) or RSA 2048. */
  keyType?: 'ec' | 'rsa';
  /** The openssl program (default "openssl" on PATH). */
  openssl?: string;
}

export interface TestCerts {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  /** A key of the same type that belongs to no certificate here. */
  otherKeyFile: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  /** The first of `names`: what a client verifying the certificate asks for. */
  name: string;
  remove(): void;
}

/** A CA and a server certificate signed by it, valid for two days (about 0.1 s for EC keys). */
export function makeTestCerts(options: TestCertsOptions = {}): TestCerts {
  const names = options.names ?? ['localhost'];
  const keyType = options.keyType ?? 'ec';
  const dir = privateDir('smtpstone-certs-');
  const ssl = (...args: string[]): void => {
    execFileSync(options.openssl ?? 'openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const newKey = keyType === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  ssl('req', '-x509', ...newKey, '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=smtpstone test CA');
  ssl('req', ...newKey, '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${names[0]}`);
  const san = [...names.map((n) => `DNS:${n}`), ...(options.ips ?? []).map((ip) => `IP:${ip}`)].join(',');
  writeFileSync(
    join(dir, 'ext.cnf'),
    `subjectAltName = ${san}\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n`,
  );
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
  if (keyType === 'ec') ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other.key');
  else ssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'other.key');
  // Postfix's smtpd (user postfix) reads the certificate and the key.
  for (const f of ['ca.pem', 'server.pem', 'server.key']) chmodSync(join(dir, f), 0o644);
  const path = (f: string): string => join(dir, f);
  return {
    dir,
    caFile: path('ca.pem'),
    certFile: path('server.pem'),
    keyFile: path('server.key'),
    otherKeyFile: path('other.key'),
    caPem: readFileSync(path('ca.pem'), 'latin1'),
    certPem: readFileSync(path('server.pem'), 'latin1'),
    keyPem: readFileSync(path('server.key'), 'latin1'),
    name: names[0],
    remove: () => removeDir(dir),
  };
}
