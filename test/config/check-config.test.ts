// `flowgate check-config` as an operator runs it: the real CLI in a child process, one broken
// file per mistake under test/config/broken/. Each file states what must be printed:
//   # expect: PATH: message (line N)   one per stderr line, after "FILE: "; all, and only these
//   # absent: TEXT                      must appear nowhere in the output (secrets)
//   # env: NAME=VALUE                   set in the child's environment
// The child gets no FLOWGATE_* variable from the test runner's environment.

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/src/cli.js');
const BROKEN = 'test/config/broken';
const VALID = 'test/config/valid';

interface Case {
  expect: string[];
  absent: string[];
  env: Record<string, string>;
}

function directives(file: string): Case {
  const c: Case = { expect: [], absent: [], env: {} };
  for (const line of readFileSync(path.join(ROOT, file), 'utf8').split('\n')) {
    const m = /^# (expect|absent|env): (.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'expect') c.expect.push(m[2]);
    else if (m[1] === 'absent') c.absent.push(m[2]);
    else {
      const [name, ...value] = m[2].split('=');
      c.env[name] = value.join('=');
    }
  }
  return c;
}

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FLOWGATE_')) env[k] = v;
  return { ...env, ...extra };
}

function flowgate(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, env: cleanEnv(env), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');

describe('flowgate check-config (command line)', () => {
  const broken = readdirSync(path.join(ROOT, BROKEN)).filter((f) => f.endsWith('.yaml')).sort();

  it('has at least ten broken configs, each saying what must be printed', () => {
    expect(broken.length).to.be.at.least(10);
    for (const f of broken) expect(directives(`${BROKEN}/${f}`).expect, f).to.not.be.empty;
  });

  for (const f of broken) {
    const file = `${BROKEN}/${f}`;
    it(`${f}: exit 2 and exactly the expected problem lines`, () => {
      const c = directives(file);
      const r = flowgate(['check-config', '-c', file], c.env);
      expect(r.status, r.stderr).to.equal(2);
      expect(r.stdout).to.equal('');
      expect(lines(r.stderr)).to.deep.equal(c.expect.map((e) => `${file}: ${e}`));
      for (const secret of c.absent) expect(r.stderr + r.stdout).to.not.include(secret);
    });
  }

  it('passes the default config.yaml (no Kafka) with a summary, given as -c or as an argument', () => {
    for (const args of [['check-config'], ['check-config', '-c', 'config.yaml'], ['check-config', 'config.yaml']]) {
      const r = flowgate(args);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stderr).to.equal('');
      expect(lines(r.stdout)).to.deep.equal([
        'config.yaml: OK',
        '  listeners: 0.0.0.0:2055 (auto), 0.0.0.0:4739 (auto), 0.0.0.0:6343 (sflow), [::]:2056 (auto)',
        '  bus: embedded (no kafka section)',
        '  state: ./state, saved every 10 s',
        '  metrics: http://127.0.0.1:9590/metrics',
        '  outputs: csv (csv → ./csv, reads flows)',
        '  log: info; summary every 10 s',
      ]);
    }
  });

  it('passes a full Kafka config with SASL and TLS when the password variable is set, and never prints the password', () => {
    const file = `${VALID}/kafka-full.yaml`;
    const r = flowgate(['check-config', file], directives(file).env);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.not.include('test-secret');
    expect(lines(r.stdout)).to.deep.equal([
      `${file}: OK`,
      '  listeners: 0.0.0.0:2055 (netflow9), [::]:4739 (ipfix), 0.0.0.0:6343 (sflow), 127.0.0.1:0 (auto)',
      '  bus: kafka kafka1.example.net:9093,10.0.0.2:9093; topics netflow, netflow-counters; framing delimited, key five-tuple, compression gzip, acks 1',
      '  kafka security: sasl scram-sha-512 as flowgate (password from the environment), tls with client certificate',
      '  state: /var/lib/flowgate, saved every 30 s',
      '  metrics: http://[::1]:9591/metrics',
      '  log: warn; summary off',
    ]);
  });

  it('takes brokers and the SASL user from the environment', () => {
    const file = `${VALID}/kafka-full.yaml`;
    const r = flowgate(['check-config', file], { ...directives(file).env, FLOWGATE_KAFKA_BROKERS: 'b1:9092, b2:9092', FLOWGATE_KAFKA_USERNAME: 'env-user' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.include('  bus: kafka b1:9092,b2:9092; ').and.include(' as env-user ');
  });

  it('fails the same full config, naming the variable, when the password variable is unset', () => {
    const file = `${VALID}/kafka-full.yaml`;
    const r = flowgate(['check-config', file]);
    expect(r.status).to.equal(2);
    expect(lines(r.stderr)).to.deep.equal([
      `${file}: kafka.sasl.password_env: environment variable FLOWGATE_KAFKA_PASSWORD is not set (or empty); export the SASL password in it, or name another variable with password_env (line 36)`,
    ]);
  });

  it('password_file: passes, says where the password comes from, never prints it; a world-readable secret file is a warning on stderr (exit still 0)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-cc-'));
    try {
      const pw = path.join(dir, 'kafka-password');
      writeFileSync(pw, 'file-secret-42\n');
      chmodSync(pw, 0o644);
      const cfg = path.join(dir, 'c.yaml');
      writeFileSync(cfg, `listeners: [{ listen: "127.0.0.1:0" }]\nkafka:\n  brokers: ["127.0.0.1:9092"]\n  sasl: { mechanism: scram-sha-256, username: svc, password_file: ${JSON.stringify(pw)} }\n`);
      let r = flowgate(['check-config', cfg]);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.include(`  kafka security: sasl scram-sha-256 as svc (password from file ${pw})\n`);
      expect(lines(r.stderr)).to.deep.equal([
        `${cfg}: warning: kafka.sasl.password_file: ${JSON.stringify(pw)} is readable by every user (mode 0644); restrict it, e.g. chmod 600 (or 640 with the service's group)`,
      ]);
      expect(r.stdout + r.stderr).to.not.include('file-secret-42');
      chmodSync(pw, 0o600);
      r = flowgate(['check-config', cfg]);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stderr).to.equal('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a converter-only config says so instead of an empty listener list', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-cc-'));
    try {
      const cfg = path.join(dir, 'c.yaml');
      writeFileSync(cfg, `listeners: []\nkafka: { brokers: ["127.0.0.1:9092"] }\noutputs: [{ type: csv, directory: ${JSON.stringify(path.join(dir, 'csv'))} }]\n`);
      const r = flowgate(['check-config', cfg]);
      expect(r.status, r.stderr).to.equal(0);
      expect(lines(r.stdout)[1]).to.equal('  listeners: none (converter-only process)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('metrics.listen beyond loopback: valid, with a warning that /metrics is exposed', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-cc-'));
    try {
      const cfg = path.join(dir, 'c.yaml');
      writeFileSync(cfg, 'listeners: [{ listen: "127.0.0.1:0" }]\nmetrics: { listen: "0.0.0.0:9590" }\n');
      const r = flowgate(['check-config', cfg]);
      expect(r.status, r.stderr).to.equal(0);
      expect(lines(r.stderr)).to.deep.equal([
        `${cfg}: warning: metrics.listen: 0.0.0.0:9590 is not a loopback address, so /metrics is reachable from other machines; fine behind a firewall or for a remote scraper, otherwise use 127.0.0.1`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 for a file it cannot read', () => {
    const r = flowgate(['check-config', '-c', 'test/config/no-such-file.yaml']);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/^test\/config\/no-such-file\.yaml: cannot read: ENOENT/);
  });

  it('`run` refuses a broken config at start with the same messages', () => {
    const file = `${BROKEN}/kafka-framing.yaml`;
    const r = flowgate(['run', '-c', file]);
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.include(`${file}: ${directives(file).expect[0]}`);
  });
});
