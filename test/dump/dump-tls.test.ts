// TLS to Kafka as an operator configures it: `flowgate dump -c config.yaml` (the real CLI in a
// child process) against a real TLS server on 127.0.0.1 that demands a client certificate.
// librdkafka's mock cluster speaks only plaintext, so the server here is node's tls module:
// it proves the handshake (server verified by our ca_file, our cert_file/key_file presented,
// an encrypted key opened with its passphrase) and that the Kafka protocol then flows inside
// it (the first request carries dump's client id). It does not answer Kafka requests, so dump
// ends with a connection error; what the test asserts is what the server saw.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { expect } from 'chai';
import { makeTestPki, type TestPki } from '../support/test-pki';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/src/cli.js');

interface Seen {
  /** Handshakes completed, with the client certificate's CN. */
  handshakes: Array<{ cn: string; authorized: boolean; firstBytes: Buffer }>;
  /** Handshakes the server refused or that failed (e.g. the client rejected our certificate). */
  clientErrors: string[];
}

interface TlsBroker {
  port: number;
  seen: Seen;
  close(): Promise<void>;
}

/** A TLS server that requires a client certificate signed by pki.ca, records, then hangs up. */
function startTlsBroker(pki: TestPki): Promise<TlsBroker> {
  const seen: Seen = { handshakes: [], clientErrors: [] };
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({
    key: readFileSync(pki.serverKey),
    cert: readFileSync(pki.serverCert),
    ca: [readFileSync(pki.ca)],
    requestCert: true,
    rejectUnauthorized: true,
  });
  server.on('secureConnection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const cert = socket.getPeerCertificate();
    const entry: Seen['handshakes'][number] = { cn: String(cert.subject?.CN ?? ''), authorized: socket.authorized, firstBytes: Buffer.alloc(0) };
    seen.handshakes.push(entry);
    socket.once('data', (d: Buffer) => {
      entry.firstBytes = d;
      socket.destroy();
    });
  });
  server.on('tlsClientError', (e) => seen.clientErrors.push(e.message));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        seen,
        close: () => new Promise<void>((done) => {
          for (const s of sockets) s.destroy();
          server.close(() => done());
        }),
      });
    });
  });
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a child process, async (not spawnSync): the TLS server lives in this process and must keep answering. */
function runCli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const dump = (args: string[], env: Record<string, string> = {}): Promise<Run> => runCli(['dump', ...args], env);
const checkConfig = (file: string): Promise<Run> => runCli(['check-config', file]);

const WINDOW = ['--from', '0', '--to', '1', '--timeout-ms', '8000', '-q'];

describe('flowgate dump -c: TLS options reach a real TLS handshake', () => {
  let dir: string;
  let pki: TestPki;
  let broker: TlsBroker;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'flowgate-tls-'));
    pki = makeTestPki(dir);
  });
  beforeEach(async () => {
    broker = await startTlsBroker(pki);
  });
  afterEach(async () => broker.close());
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A gateway config whose kafka section points at the TLS broker; listeners are only parsed. */
  function config(name: string, tlsSection: string, brokerPort = broker.port): string {
    const file = path.join(dir, name);
    writeFileSync(file, `listeners: [{ listen: "127.0.0.1:0" }]\nkafka:\n  brokers: ["127.0.0.1:${brokerPort}"]\n  topic: tls-flows\n  tls:\n${tlsSection}\n`);
    return file;
  }

  it('mutual TLS: the server verifies our client certificate, and the Kafka request flows inside TLS', async () => {
    const cfg = config('mtls.yaml', `    ca_file: ${pki.ca}\n    cert_file: ${pki.clientCert}\n    key_file: ${pki.clientKey}`);
    const r = await dump(['-c', cfg, ...WINDOW]);
    expect(broker.seen.handshakes, r.stderr).to.not.be.empty;
    for (const h of broker.seen.handshakes) {
      expect(h.cn).to.equal(pki.clientCn);
      expect(h.authorized).to.equal(true);
    }
    // A Kafka request header: api key, version, correlation id, then the client id string.
    expect(broker.seen.handshakes[0].firstBytes.includes(Buffer.from('flowgate-dump'))).to.equal(true);
    expect(broker.seen.clientErrors).to.deep.equal([]);
    // The server hangs up instead of answering: dump fails as it would against a dead broker.
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/^flowgate dump: Kafka at 127\.0\.0\.1:\d+/m);
  });

  it('an encrypted key_file opens with key_passphrase_file (and --brokers still overrides the file)', async () => {
    const pass = path.join(dir, 'passphrase');
    // The file names port 1 (nothing listens there): the handshake proves --brokers won.
    const cfg = config('enc.yaml', `    ca_file: ${pki.ca}\n    cert_file: ${pki.clientCert}\n    key_file: ${pki.clientKeyEncrypted}\n    key_passphrase_file: ${pass}`, 1);
    const r = await dump(['-c', cfg, '--brokers', `127.0.0.1:${broker.port}`, ...WINDOW]);
    expect(broker.seen.handshakes, r.stderr).to.not.be.empty;
    expect(broker.seen.handshakes[0].cn).to.equal(pki.clientCn);
    expect(r.stderr).to.not.include(pki.passphrase);
  });

  it('the same encrypted key through key_passphrase_env; no passphrase is a clear failure, not a handshake', async () => {
    const cfg = config('enc-env.yaml', `    ca_file: ${pki.ca}\n    cert_file: ${pki.clientCert}\n    key_file: ${pki.clientKeyEncrypted}\n    key_passphrase_env: TEST_KEY_PASS`);
    const ok = await dump(['-c', cfg, ...WINDOW], { TEST_KEY_PASS: pki.passphrase });
    expect(broker.seen.handshakes, ok.stderr).to.not.be.empty;
    expect(broker.seen.handshakes[0].cn).to.equal(pki.clientCn);
    const unset = await dump(['-c', cfg, ...WINDOW]);
    expect(unset.status).to.equal(2);
    expect(unset.stderr).to.equal(`flowgate dump: ${cfg}: kafka.tls.key_passphrase_env: environment variable TEST_KEY_PASS is not set (or empty); export the passphrase of kafka.tls.key_file in it, or name another variable with key_passphrase_env (line 9)\n`);
  });

  it('check-config catches an encrypted key without a passphrase, and a wrong passphrase, naming files but no secret', async () => {
    const noPass = config('enc-nopass.yaml', `    ca_file: ${pki.ca}\n    cert_file: ${pki.clientCert}\n    key_file: ${pki.clientKeyEncrypted}`);
    const wrong = path.join(dir, 'wrong-pass');
    writeFileSync(wrong, 'not the passphrase\n', { mode: 0o600 });
    const bad = config('enc-wrong.yaml', `    ca_file: ${pki.ca}\n    cert_file: ${pki.clientCert}\n    key_file: ${pki.clientKeyEncrypted}\n    key_passphrase_file: ${wrong}`);
    const a = await checkConfig(noPass);
    expect(a.status).to.equal(2);
    expect(a.stderr).to.equal(`${noPass}: kafka.tls.key_file: ${JSON.stringify(pki.clientKeyEncrypted)} is an encrypted key; give its passphrase with key_passphrase_env or key_passphrase_file (line 8)\n`);
    const b = await checkConfig(bad);
    expect(b.status).to.equal(2);
    expect(b.stderr).to.equal(`${bad}: kafka.tls.key_passphrase_file: the passphrase does not open kafka.tls.key_file ${JSON.stringify(pki.clientKeyEncrypted)} (wrong passphrase) (line 9)\n`);
    expect(a.stderr + b.stderr + a.stdout + b.stdout).to.not.include('not the passphrase').and.not.include(pki.passphrase);
    expect(broker.seen.handshakes).to.deep.equal([]);
  });

  it('a CA that did not sign the broker\'s certificate: no handshake completes and dump says why', async () => {
    const cfg = config('wrong-ca.yaml', `    ca_file: ${pki.otherCa}\n    cert_file: ${pki.clientCert}\n    key_file: ${pki.clientKey}`);
    const r = await dump(['-c', cfg, ...WINDOW]);
    expect(broker.seen.handshakes).to.deep.equal([]);
    expect(broker.seen.clientErrors, 'the server saw the client abort the handshake').to.not.be.empty;
    expect(r.status).to.equal(1);
    // Which of the two OpenSSL words depends on whether the server sends its CA along (node's
    // server does, as it has `ca` set); both say the chain does not end at a CA we trust.
    expect(r.stderr).to.match(/^flowgate dump: Kafka at 127\.0\.0\.1:\d+: connecting failed: Connection error: (self-signed certificate in certificate chain|unable to verify the first certificate)$/m);
  });

  it('without a client certificate the broker refuses the handshake', async () => {
    const cfg = config('no-client-cert.yaml', `    ca_file: ${pki.ca}`);
    const r = await dump(['-c', cfg, ...WINDOW]);
    expect(broker.seen.handshakes).to.deep.equal([]);
    expect(broker.seen.clientErrors.join('\n')).to.match(/peer did not return a certificate/);
    expect(r.status).to.equal(1);
  });

  it('plain --brokers without -c speaks plaintext: the TLS server sees no handshake', async () => {
    const r = await dump(['--brokers', `127.0.0.1:${broker.port}`, '--topic', 'tls-flows', ...WINDOW]);
    expect(broker.seen.handshakes).to.deep.equal([]);
    expect(r.status).to.equal(1);
  });
});
