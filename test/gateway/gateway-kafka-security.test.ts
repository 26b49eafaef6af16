// The gateway's own Kafka clients (the bus producer, and a converter-only process's consumer
// client) carry the config's SASL and TLS, not only `flowgate dump`: assembled by startGateway
// as `run` does, against the credential-checking broker of test/support/sasl-broker.ts. Also
// the log lines an operator sees: a refused password appears in "kafka: unreachable ..." with
// kafkajs' reason and without the password; and the /metrics default binds loopback.

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { parseConfig } from '../../src/config/config';
import { startGateway, type RunningGateway } from '../../src/runtime/assemble';
import { startSaslBroker, type SaslBroker } from '../support/sasl-broker';

const USER = 'gw-user';
const PASSWORD = 'gw-password-7';

type Line = Record<string, unknown>;

/** A logger destination collecting the parsed JSON lines. */
function capture(): { lines: Line[]; destination: { write(s: string): void } } {
  const lines: Line[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(JSON.parse(s) as Line) } };
}

describe('gateway: Kafka security of its own clients (startGateway, as run)', () => {
  let dir: string;
  let broker: SaslBroker;
  let gw: RunningGateway | undefined;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'flowgate-gwsec-'));
    broker = await startSaslBroker({ username: USER, password: PASSWORD });
  });
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
  });
  after(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Listeners ask for 64 KiB of receive buffer, below any net.core.rmem_max, so the only
  // warnings these tests can see are the ones about secrets and exposure they look for.
  const kafkaSection = (sasl: string): string =>
    `kafka:\n  brokers: ["127.0.0.1:${broker.port}"]\n  create_topics: false\n  state_topic: ""\n  timeout_ms: 2000\n  sasl:\n${sasl}\n`;

  it('ingest: the bus producer authenticates with SCRAM-SHA-512 and the password file; /metrics on 127.0.0.1 draws no warning', async () => {
    const pw = path.join(dir, 'pw');
    writeFileSync(pw, `${PASSWORD}\n`);
    chmodSync(pw, 0o600);
    const config = parseConfig(`listeners: [{ listen: "127.0.0.1:0", receive_buffer_bytes: 65536 }]\nmetrics: { listen: "127.0.0.1:0" }\n${kafkaSection(`    mechanism: scram-sha-512\n    username: ${USER}\n    password_file: ${pw}`)}`, 'c.yaml', {});
    const before = broker.attempts.length;
    const log = capture();
    // start() returns once the producer's first connect (authentication included) has ended.
    gw = await startGateway(config, { destination: log.destination });
    expect(broker.attempts.slice(before)).to.deep.equal([{ mechanism: 'SCRAM-SHA-512', username: USER, ok: true, tls: false }]);
    expect(log.lines.map((l) => l.msg)).to.include('kafka: connected');
    expect(gw.metricsAddress?.host).to.equal('127.0.0.1');
    expect(log.lines.filter((l) => l.level === 'warn')).to.deep.equal([]);
    expect(JSON.stringify(log.lines)).to.not.include(PASSWORD);
  });

  it('a password file every user can read: the gateway runs, with a warning naming the key, file and mode', async () => {
    const pw = path.join(dir, 'pw-644');
    writeFileSync(pw, PASSWORD);
    chmodSync(pw, 0o644);
    const config = parseConfig(`listeners: [{ listen: "127.0.0.1:0", receive_buffer_bytes: 65536 }]\n${kafkaSection(`    mechanism: plain\n    username: ${USER}\n    password_file: ${pw}`)}`, 'c.yaml', {});
    const log = capture();
    gw = await startGateway(config, { destination: log.destination });
    expect(log.lines.filter((l) => l.level === 'warn').map(({ key, file, mode, msg }) => ({ key, file, mode, msg }))).to.deep.equal([
      { key: 'kafka.sasl.password_file', file: pw, mode: '0644', msg: 'secret file is readable by every user' },
    ]);
    expect(JSON.stringify(log.lines)).to.not.include(PASSWORD);
  });

  it('converter-only process: its consumer client authenticates too; a wrong password is logged with the reason, never the password', async () => {
    const config = parseConfig(`listeners: []\noutputs: [{ type: csv, directory: ${JSON.stringify(path.join(dir, 'csv'))} }]\n${kafkaSection(`    mechanism: plain\n    username: ${USER}\n    password_env: GW_PW`)}`, 'c.yaml', { GW_PW: PASSWORD });
    const before = broker.attempts.length;
    const log = capture();
    // The consumer authenticates, then subscribing needs Metadata, which this broker does not
    // serve: a converter cannot start without Kafka, so startGateway (and `run`) fails.
    const failed = await startGateway(config, { destination: log.destination }).then(() => 'started', (e: Error) => e.message);
    expect(failed).to.equal('The Kafka server does not support the requested API version');
    expect(broker.attempts.slice(before)).to.deep.include({ mechanism: 'PLAIN', username: USER, ok: true, tls: false });
    const wrong = parseConfig(`listeners: [{ listen: "127.0.0.1:0", receive_buffer_bytes: 65536 }]\n${kafkaSection(`    mechanism: plain\n    username: ${USER}\n    password_env: GW_PW`)}`, 'c.yaml', { GW_PW: 'wrong-pw-9' });
    const log2 = capture();
    gw = await startGateway(wrong, { destination: log2.destination });
    // Logged at start although the bus was never up (it used to be silent until a first success).
    const line = log2.lines.find((l) => l.msg === 'kafka: unreachable; buffering records until it returns') as Line;
    expect(String(line.error)).to.match(/SASL PLAIN authentication failed/);
    expect(JSON.stringify(log2.lines)).to.not.include('wrong-pw-9');
  });
});
