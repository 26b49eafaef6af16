/**
 * A throw-away PKI for TLS tests, made with the openssl command line at test time (nothing
 * secret is committed): a CA, a server certificate for 127.0.0.1/localhost, a client
 * certificate (plain key and the same key encrypted with a passphrase), and a second CA that
 * signed nothing here (the "wrong CA" of negative tests).
 *
 *   const pki = makeTestPki(dir);   // files under dir; pki.ca, pki.serverCert, ...
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { requireTool } from './tools';

export interface TestPki {
  ca: string;
  otherCa: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** clientKey encrypted (AES-256) with `passphrase`. */
  clientKeyEncrypted: string;
  passphrase: string;
  /** Subject CNs. */
  clientCn: string;
  serverCn: string;
}

export function makeTestPki(dir: string): TestPki {
  const openssl = requireTool('openssl', 'openssl');
  const run = (...args: string[]): void => {
    execFileSync(openssl, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const f = (name: string): string => path.join(dir, name);
  // EC P-256: key generation in milliseconds, unlike RSA.
  const newKey = (name: string): void => run('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f(name));
  const ca = (name: string, cn: string): void => {
    newKey(`${name}.key`);
    run('req', '-x509', '-new', '-key', f(`${name}.key`), '-out', f(`${name}.pem`), '-days', '2', '-subj', `/CN=${cn}`);
  };
  const leaf = (name: string, cn: string, ext: string): void => {
    newKey(`${name}.key`);
    run('req', '-new', '-key', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`);
    writeFileSync(f(`${name}.ext`), `${ext}\n`);
    run('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.ext`));
  };
  ca('ca', 'flowgate-test-ca');
  ca('other-ca', 'flowgate-other-ca');
  leaf('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth');
  leaf('client', 'flowgate-test-client', 'extendedKeyUsage=clientAuth');
  const passphrase = 'test pass phrase';
  writeFileSync(f('passphrase'), `${passphrase}\n`);
  run('pkey', '-in', f('client.key'), '-aes256', '-passout', `file:${f('passphrase')}`, '-out', f('client-enc.key'));
  for (const k of ['ca.key', 'other-ca.key', 'server.key', 'client.key', 'client-enc.key', 'passphrase']) chmodSync(f(k), 0o600);
  return {
    ca: f('ca.pem'),
    otherCa: f('other-ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server.key'),
    clientCert: f('client.pem'),
    clientKey: f('client.key'),
    clientKeyEncrypted: f('client-enc.key'),
    passphrase,
    clientCn: 'flowgate-test-client',
    serverCn: 'localhost',
  };
}
