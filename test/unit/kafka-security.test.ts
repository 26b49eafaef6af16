// The Kafka security options exactly as kafkajs receives them, built from config text the way
// `run` builds them (parseConfig → kafkaClientConfig); plus the config warnings (secret files
// every user can read, /metrics beyond loopback). No network: the TLS handshake itself is
// test/dump/dump-tls.test.ts.

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { parseConfig } from '../../src/config/config';
import { problemsOf } from '../support/config-problems';
import { kafkaClientConfig, kafkaSecurityOptions } from '../../src/bus/kafka-client';
import { worldReadableSecrets } from '../../src/config/secrets';
import { configWarnings, isLoopbackHost } from '../../src/config/warnings';

const LISTEN = 'listeners: [{ listen: "127.0.0.1:0" }]\n';
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('Kafka security: the kafkajs client config', () => {
  let dir: string;
  const file = (name: string, content: string, mode = 0o600): string => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    chmodSync(p, mode);
    return p;
  };
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flowgate-sec-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('no sasl/tls in the config: no sasl or ssl key at all (plaintext)', () => {
    const c = parseConfig(`${LISTEN}kafka: { brokers: ["k:9092"] }`, 'c.yaml', {});
    const k = kafkaClientConfig(c.kafka!, quiet);
    expect(k).to.not.have.any.keys('sasl', 'ssl');
    expect(k.brokers).to.deep.equal(['k:9092']);
  });

  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
    it(`sasl ${mechanism}, password from the default variable: mechanism, user and password exactly`, () => {
      const c = parseConfig(`${LISTEN}kafka:\n  brokers: ["k:9092"]\n  sasl: { mechanism: ${mechanism}, username: u1 }`, 'c.yaml', { FLOWGATE_KAFKA_PASSWORD: 'pw-env' });
      expect(kafkaSecurityOptions(c.kafka!)).to.deep.equal({ sasl: { mechanism, username: 'u1', password: 'pw-env' } });
      expect(kafkaClientConfig(c.kafka!, quiet).sasl).to.deep.equal({ mechanism, username: 'u1', password: 'pw-env' });
    });
  }

  it('password_file: the content less one trailing newline; spaces inside and at the start are kept', () => {
    const pw = file('pw', '  pa ss\n');
    const c = parseConfig(`${LISTEN}kafka:\n  brokers: ["k:9092"]\n  sasl: { mechanism: scram-sha-256, username: u2, password_file: ${JSON.stringify(pw)} }`, 'c.yaml', { FLOWGATE_KAFKA_PASSWORD: 'not-this' });
    expect(kafkaClientConfig(c.kafka!, quiet).sasl).to.deep.equal({ mechanism: 'scram-sha-256', username: 'u2', password: '  pa ss' });
    expect(c.kafka?.sasl?.password_file).to.equal(pw);
    // CRLF files (written on Windows) lose their \r\n too, and only one newline goes.
    writeFileSync(pw, 'x\n\n');
    expect(parseConfig(`${LISTEN}kafka:\n  brokers: ["k:9092"]\n  sasl: { mechanism: plain, username: u, password_file: ${JSON.stringify(pw)} }`, 'c.yaml', {}).kafka?.sasl?.password).to.equal('x\n');
    writeFileSync(pw, 'y\r\n');
    expect(parseConfig(`${LISTEN}kafka:\n  brokers: ["k:9092"]\n  sasl: { mechanism: plain, username: u, password_file: ${JSON.stringify(pw)} }`, 'c.yaml', {}).kafka?.sasl?.password).to.equal('y');
  });

  it('tls: true → only rejectUnauthorized (system CAs, verified)', () => {
    const c = parseConfig(`${LISTEN}kafka: { brokers: ["k:9092"], tls: true }`, 'c.yaml', {});
    expect(kafkaSecurityOptions(c.kafka!)).to.deep.equal({ ssl: { rejectUnauthorized: true } });
  });

  it('tls mapping: ca/cert/key are the files\' contents, rejectUnauthorized as written, passphrase from its file', () => {
    const ca = file('ca.pem', 'CA PEM\n', 0o644);
    const cert = file('client.pem', 'CERT PEM\n', 0o644);
    const key = file('client.key', 'KEY PEM\n');
    const pass = file('key-pass', 'open sesame\n');
    const text = `${LISTEN}kafka:\n  brokers: ["k:9092"]\n  tls: { ca_file: ${JSON.stringify(ca)}, cert_file: ${JSON.stringify(cert)}, key_file: ${JSON.stringify(key)}, key_passphrase_file: ${JSON.stringify(pass)}, reject_unauthorized: false }`;
    const ssl = kafkaClientConfig(parseConfig(text, 'c.yaml', {}).kafka!, quiet).ssl as Record<string, unknown>;
    expect(Object.keys(ssl).sort()).to.deep.equal(['ca', 'cert', 'key', 'passphrase', 'rejectUnauthorized']);
    expect((ssl.ca as Buffer[]).map(String)).to.deep.equal(['CA PEM\n']);
    expect(String(ssl.cert)).to.equal('CERT PEM\n');
    expect(String(ssl.key)).to.equal('KEY PEM\n');
    expect(ssl.passphrase).to.equal('open sesame');
    expect(ssl.rejectUnauthorized).to.equal(false);
  });

  it('tls: only ca_file → only ca and rejectUnauthorized; key passphrase from a variable', () => {
    const ca = file('ca.pem', 'CA\n', 0o644);
    const c = parseConfig(`${LISTEN}kafka:\n  brokers: ["k:9092"]\n  tls: { ca_file: ${JSON.stringify(ca)} }`, 'c.yaml', {});
    const ssl = kafkaSecurityOptions(c.kafka!).ssl as Record<string, unknown>;
    expect(Object.keys(ssl).sort()).to.deep.equal(['ca', 'rejectUnauthorized']);
    expect(ssl.rejectUnauthorized).to.equal(true);
    const cert = file('c.pem', 'C\n', 0o644);
    const key = file('c.key', 'K\n');
    const withPass = parseConfig(`${LISTEN}kafka:\n  brokers: ["k:9092"]\n  tls: { cert_file: ${JSON.stringify(cert)}, key_file: ${JSON.stringify(key)}, key_passphrase_env: MY_PASS }`, 'c.yaml', { MY_PASS: 'p1' });
    expect((kafkaSecurityOptions(withPass.kafka!).ssl as Record<string, unknown>).passphrase).to.equal('p1');
  });

  it('refuses both password_env and password_file, a passphrase without key_file, and never shows a secret', () => {
    const pw = file('pw', 'file-secret\n');
    const problems = problemsOf(`${LISTEN}kafka:\n  brokers: ["k:9092"]\n  sasl: { mechanism: plain, username: u, password_env: P, password_file: ${JSON.stringify(pw)} }`, { P: 'env-secret' });
    expect(problems).to.deep.equal(['c.yaml: kafka.sasl.password_file: password_env is given too; give the password in one place: password_env or password_file (line 4)']);
    const noKey = problemsOf(`${LISTEN}kafka:\n  brokers: ["k:9092"]\n  tls: { key_passphrase_env: KP }`, { KP: 'kp-secret' });
    expect(noKey).to.deep.equal(['c.yaml: kafka.tls.key_file: required key missing; a key passphrase is given, so the encrypted key_file (and cert_file) must be too (line 4)']);
    const dirAsFile = problemsOf(`${LISTEN}kafka:\n  brokers: ["k:9092"]\n  sasl: { mechanism: plain, username: u, password_file: ${JSON.stringify(dir)} }`);
    expect(dirAsFile).to.deep.equal([`c.yaml: kafka.sasl.password_file: ${JSON.stringify(dir)} cannot be read (EISDIR); give the path of a file holding the SASL password (line 4)`]);
    for (const p of [...problems, ...noKey]) expect(p).to.not.match(/secret/);
  });

  it('warns about secret files every user can read (password, key, passphrase), not about 600/640 ones', () => {
    const pw = file('pw', 's\n', 0o644);
    const cert = file('c.pem', 'C\n', 0o644);
    const key = file('c.key', 'K\n', 0o604);
    const pass = file('kp', 'p\n', 0o640);
    const c = parseConfig(`${LISTEN}kafka:\n  brokers: ["k:9092"]\n  sasl: { mechanism: plain, username: u, password_file: ${JSON.stringify(pw)} }\n  tls: { cert_file: ${JSON.stringify(cert)}, key_file: ${JSON.stringify(key)}, key_passphrase_file: ${JSON.stringify(pass)} }`, 'c.yaml', {});
    expect(worldReadableSecrets(c.kafka).map((w) => [w.key, w.mode])).to.deep.equal([['kafka.sasl.password_file', '0644'], ['kafka.tls.key_file', '0604']]);
    expect(configWarnings(c).map((w) => w.text)).to.deep.equal([
      `kafka.sasl.password_file: ${JSON.stringify(pw)} is readable by every user (mode 0644); restrict it, e.g. chmod 600 (or 640 with the service's group)`,
      `kafka.tls.key_file: ${JSON.stringify(key)} is readable by every user (mode 0604); restrict it, e.g. chmod 600 (or 640 with the service's group)`,
    ]);
    chmodSync(pw, 0o600);
    chmodSync(key, 0o640);
    expect(configWarnings(c)).to.deep.equal([]);
  });
});

describe('/metrics exposure', () => {
  it('the default metrics.listen is 127.0.0.1:9590, and loopback binds draw no warning', () => {
    const c = parseConfig(`${LISTEN}metrics: {}`, 'c.yaml', {});
    expect(c.metrics).to.deep.equal({ host: '127.0.0.1', port: 9590 });
    expect(configWarnings(c)).to.deep.equal([]);
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).to.equal(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', '::ffff:10.0.0.1', 'metrics.example.net', '128.0.0.1']) expect(isLoopbackHost(h), h).to.equal(false);
  });

  it('a wildcard or routable metrics.listen (and a prometheus output\'s listen) is a warning naming the key', () => {
    const c = parseConfig(`${LISTEN}metrics: { listen: "0.0.0.0:9590" }\noutputs:\n  - { type: prometheus, listen: "[::]:9591" }`, 'c.yaml', {});
    expect(configWarnings(c).map((w) => w.text)).to.deep.equal([
      'metrics.listen: 0.0.0.0:9590 is not a loopback address, so /metrics is reachable from other machines; fine behind a firewall or for a remote scraper, otherwise use 127.0.0.1',
      'outputs[0].listen: [::]:9591 is not a loopback address, so the prometheus output\'s /metrics is reachable from other machines; fine behind a firewall or for a remote scraper, otherwise use 127.0.0.1',
    ]);
  });
});
