// SASL as an operator configures it: `flowgate dump -c config.yaml` (the real CLI) against a
// broker that checks the credentials (test/support/sasl-broker.ts: PLAIN and a real SCRAM
// server exchange; librdkafka's mock has no SASL). Password from a file and from the
// environment, SCRAM over TLS, and a wrong password. The broker hangs up after
// authentication, so dump itself ends with a connection error; the test asserts what the
// broker saw.

import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { startSaslBroker, type SaslBroker } from '../support/sasl-broker';
import { makeTestPki, type TestPki } from '../support/test-pki';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/src/cli.js');
const USER = 'flowgate-svc';
const PASSWORD = 'correct horse, battery=staple';

interface Run {
  status: number | null;
  stderr: string;
}

function dump(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Async: the broker lives in this process and must keep answering.
    const clean: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FLOWGATE_')) clean[k] = v;
    const child = spawn(process.execPath, [CLI, 'dump', ...args, '--from', '0', '--to', '1', '--timeout-ms', '8000', '-q'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...clean, ...env } });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}

describe('flowgate dump -c: SASL credentials reach the broker', () => {
  let dir: string;
  let pki: TestPki;
  let broker: SaslBroker | undefined;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flowgate-sasl-'));
    pki = makeTestPki(dir);
  });
  afterEach(async () => {
    await broker?.close();
    broker = undefined;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function config(name: string, port: number, sasl: string, tlsSection = ''): string {
    const file = path.join(dir, name);
    writeFileSync(file, `listeners: [{ listen: "127.0.0.1:0" }]\nkafka:\n  brokers: ["127.0.0.1:${port}"]\n  sasl:\n${sasl}\n${tlsSection}`);
    return file;
  }
  function passwordFile(content: string): string {
    const file = path.join(dir, 'kafka-password');
    writeFileSync(file, content);
    chmodSync(file, 0o600);
    return file;
  }

  it('PLAIN with password_file: the broker sees the user and the file\'s password (trailing newline removed)', async () => {
    broker = await startSaslBroker({ username: USER, password: PASSWORD });
    const cfg = config('plain.yaml', broker.port, `    mechanism: plain\n    username: ${USER}\n    password_file: ${passwordFile(`${PASSWORD}\n`)}`);
    const r = await dump(['-c', cfg]);
    expect(broker.attempts, r.stderr).to.deep.include({ mechanism: 'PLAIN', username: USER, ok: true, tls: false });
    expect(broker.attempts.every((a) => a.ok)).to.equal(true);
    expect(r.stderr).to.not.include(PASSWORD);
  });

  it('SCRAM-SHA-256 with the password from FLOWGATE_KAFKA_PASSWORD and the user from FLOWGATE_KAFKA_USERNAME: the proof verifies', async () => {
    broker = await startSaslBroker({ username: USER, password: PASSWORD });
    const cfg = config('scram256.yaml', broker.port, '    mechanism: scram-sha-256\n    username: someone-else');
    const r = await dump(['-c', cfg], { FLOWGATE_KAFKA_PASSWORD: PASSWORD, FLOWGATE_KAFKA_USERNAME: USER });
    expect(broker.attempts, r.stderr).to.deep.include({ mechanism: 'SCRAM-SHA-256', username: USER, ok: true, tls: false });
    expect(broker.attempts.every((a) => a.ok)).to.equal(true);
  });

  it('SCRAM-SHA-512 over TLS (SASL_SSL): both the certificate chain and the credentials are used', async () => {
    broker = await startSaslBroker({ username: USER, password: PASSWORD, tls: { key: readFileSync(pki.serverKey), cert: readFileSync(pki.serverCert) } });
    const cfg = config('scram512-tls.yaml', broker.port, `    mechanism: scram-sha-512\n    username: ${USER}\n    password_file: ${passwordFile(PASSWORD)}`, `  tls:\n    ca_file: ${pki.ca}\n`);
    const r = await dump(['-c', cfg]);
    expect(broker.attempts, r.stderr).to.deep.include({ mechanism: 'SCRAM-SHA-512', username: USER, ok: true, tls: true });
  });

  it('a wrong password: the broker refuses it and dump says authentication failed, without the password', async () => {
    broker = await startSaslBroker({ username: USER, password: PASSWORD });
    for (const mechanism of ['plain', 'scram-sha-256']) {
      const cfg = config(`wrong-${mechanism}.yaml`, broker.port, `    mechanism: ${mechanism}\n    username: ${USER}\n    password_env: WRONG_PW`);
      const r = await dump(['-c', cfg], { WRONG_PW: 'not-the-password' });
      expect(r.status).to.equal(1);
      // kafkajs' words: "SASL PLAIN authentication failed: ...", "SASL SCRAM SHA256 authentication failed: ...", then the broker's message.
      expect(r.stderr).to.match(/^flowgate dump: Kafka at 127\.0\.0\.1:\d+: connecting failed: SASL (PLAIN|SCRAM SHA256) authentication failed: Authentication failed/m);
      expect(r.stderr).to.not.include('not-the-password');
    }
    expect(broker.attempts.map((a) => [a.mechanism, a.ok])).to.deep.include.members([['PLAIN', false], ['SCRAM-SHA-256', false]]);
    expect(broker.attempts.some((a) => a.ok)).to.equal(false);
  });
});
