// parseConfig as the rest of the program uses it: defaults filled in, addresses parsed,
// environment applied; and the documentation kept in step with the schema.

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import { ConfigError, ConfigReadError, CONFIG_SCHEMA, DEFAULT_DECODER_CONFIG, loadConfig, parseConfig, type GatewayConfig } from '../../src/config/config';
import type { JsonSchema } from '../../src/config/schema';
import { closest, editDistance } from '../../src/config/suggest';
import { problemsOf } from '../support/config-problems';

const ROOT = path.resolve(__dirname, '../../..');
const LISTEN = 'listeners: [{ listen: "127.0.0.1:0" }]\n';

const KAFKA_DEFAULTS = {
  client_id: 'flowgate',
  topic: 'flows',
  counters_topic: 'flow-counters',
  state_topic: 'flowgate-state',
  framing: 'raw',
  key: 'none',
  compression: 'none',
  acks: -1,
  timeout_ms: 30000,
  create_topics: true,
  topic_partitions: 1,
  replication_factor: 1,
  batch_max_records: 10000,
  batch_max_bytes: 1048576,
  linger_ms: 20,
  delimited_max_bytes: 1000000,
  buffer_max_records: 1000000,
  buffer_max_bytes: 268435456,
  max_in_flight: 4,
  session_timeout_ms: 30000,
};

describe('config: parseConfig', () => {
  it('fills in every default for a minimal file (embedded bus, no state, no metrics)', () => {
    const c = parseConfig(LISTEN, 'c.yaml', {});
    expect(c).to.deep.equal({
      listeners: [{ host: '127.0.0.1', port: 0, protocol: 'auto', receive_buffer_bytes: 8388608 }],
      decoder: DEFAULT_DECODER_CONFIG,
      summary_interval_seconds: 10,
      log: { level: 'info', bad_input_per_minute: 10 },
      outputs: [],
    } satisfies GatewayConfig);
  });

  it('accepts the form the embedded-gateway test uses', () => {
    const c = parseConfig('listeners: [{ listen: "127.0.0.1:0", protocol: auto }]\nsummary_interval_seconds: 0');
    expect(c.summary_interval_seconds).to.equal(0);
    expect(c.listeners).to.deep.equal([{ host: '127.0.0.1', port: 0, protocol: 'auto', receive_buffer_bytes: 8388608 }]);
  });

  it('parses IPv4, [IPv6] and :PORT listen addresses', () => {
    const c = parseConfig('listeners:\n- listen: "10.1.2.3:2055"\n- { listen: "[::]:4739", protocol: ipfix }\n- listen: ":6343"\n  protocol: sflow', 'c.yaml', {});
    expect(c.listeners).to.deep.equal([
      { host: '10.1.2.3', port: 2055, protocol: 'auto', receive_buffer_bytes: 8388608 },
      { host: '::', port: 4739, protocol: 'ipfix', receive_buffer_bytes: 8388608 },
      { host: '0.0.0.0', port: 6343, protocol: 'sflow', receive_buffer_bytes: 8388608 },
    ]);
  });

  it('reads listeners[].allow (a list or one string) and receive_buffer_bytes', () => {
    const c = parseConfig('listeners:\n- { listen: "[::]:2055", allow: [192.0.2.0/24, "2001:db8::1"], receive_buffer_bytes: 65536 }\n- { listen: ":6343", allow: 10.0.0.1 }\ndecoder: { max_records_per_second_per_exporter: 5000 }', 'c.yaml', {});
    expect(c.listeners).to.deep.equal([
      { host: '::', port: 2055, protocol: 'auto', receive_buffer_bytes: 65536, allow: ['192.0.2.0/24', '2001:db8::1'] },
      { host: '0.0.0.0', port: 6343, protocol: 'auto', receive_buffer_bytes: 8388608, allow: ['10.0.0.1'] },
    ]);
    expect(c.decoder.max_records_per_second_per_exporter).to.equal(5000);
  });

  it('fills in the kafka, state, metrics and tls defaults', () => {
    const c = parseConfig(`${LISTEN}kafka: { brokers: ["k:9092"], tls: true }\nstate: { directory: ./s }\nmetrics: {}`, 'c.yaml', {});
    expect(c.kafka).to.deep.equal({ ...KAFKA_DEFAULTS, brokers: ['k:9092'], tls: { reject_unauthorized: true } });
    expect(c.state).to.deep.equal({ directory: './s', save_interval_seconds: 10 });
    expect(c.metrics).to.deep.equal({ host: '127.0.0.1', port: 9590 });
  });

  it('keeps partial decoder settings and defaults the rest', () => {
    const c = parseConfig(`${LISTEN}decoder: { template_expiry_seconds: 60 }`, 'c.yaml', {});
    expect(c.decoder).to.deep.equal({ ...DEFAULT_DECODER_CONFIG, template_expiry_seconds: 60 });
  });

  it('takes the SASL password only from the variable named by password_env; the username may come from the environment', () => {
    const text = `${LISTEN}kafka:\n  brokers: ["k:9092"]\n  sasl: { mechanism: plain, username: file-user, password_env: MY_PW }`;
    const c = parseConfig(text, 'c.yaml', { MY_PW: 's3cret', FLOWGATE_KAFKA_USERNAME: 'env-user' });
    expect(c.kafka?.sasl).to.deep.equal({ mechanism: 'plain', username: 'env-user', password: 's3cret' });
    expect(problemsOf(text, { FLOWGATE_KAFKA_PASSWORD: 'not-this-one' })).to.deep.equal([
      'c.yaml: kafka.sasl.password_env: environment variable MY_PW is not set (or empty); export the SASL password in it, or name another variable with password_env (line 4)',
    ]);
  });

  it('lets FLOWGATE_KAFKA_BROKERS replace the brokers, or supply them when the file has none', () => {
    const env = { FLOWGATE_KAFKA_BROKERS: ' a:1 ,b:2 ' };
    expect(parseConfig(`${LISTEN}kafka: { brokers: ["k:9092"] }`, 'c.yaml', env).kafka?.brokers).to.deep.equal(['a:1', 'b:2']);
    expect(parseConfig(`${LISTEN}kafka: {}`, 'c.yaml', env).kafka?.brokers).to.deep.equal(['a:1', 'b:2']);
    expect(problemsOf(`${LISTEN}kafka: {}`)).to.deep.equal(['c.yaml: kafka.brokers: required key missing; give a non-empty list of "host:port", e.g. ["127.0.0.1:9092"] (line 2)']);
    expect(problemsOf(LISTEN, env)).to.deep.equal([
      'c.yaml: FLOWGATE_KAFKA_BROKERS is set but the file has no kafka section; add "kafka: {}" to publish to Kafka, or unset FLOWGATE_KAFKA_BROKERS',
    ]);
  });

  it('reports every problem at once, in file order, one line each, in message and problems', () => {
    let err: unknown;
    try {
      parseConfig('kafka:\n  brokers: [x]\nlisteners: [{ listen: "1.2.3.4:1", protocol: nf }]\nlog: { level: loud }', 'c.yaml', {});
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.problems).to.deep.equal([
      'c.yaml: kafka.brokers[0]: "x" is not valid; expected "host:port" with a host name or IPv4 address (kafkajs cannot take IPv6 literals; use a host name) (line 2)',
      'c.yaml: listeners[0].protocol: "nf" is not one of auto, netflow5, netflow9, ipfix, sflow (line 3)',
      'c.yaml: log.level: "loud" is not one of debug, info, warn, error (line 4)',
    ]);
    expect(e.message).to.equal(e.problems.join('\n'));
  });

  it('treats ports 0 and 65535 as valid and 65536 as out of range', () => {
    expect(parseConfig('listeners: [{ listen: ":0" }, { listen: ":65535" }]', 'c.yaml', {}).listeners.map((l) => l.port)).to.deep.equal([0, 65535]);
    expect(problemsOf('listeners: [{ listen: ":65536" }]')).to.deep.equal(['c.yaml: listeners[0].listen: ":65536" has port 65536; allowed ports: 0-65535 (0 = any free port) (line 1)']);
  });

  it('allows listeners that can bind together: different ports, or an IPv4 and an IPv6 address', () => {
    const c = parseConfig('listeners: [{ listen: "0.0.0.0:2055" }, { listen: "[::1]:2055" }, { listen: "127.0.0.1:0" }, { listen: "127.0.0.1:0" }]', 'c.yaml', {});
    expect(c.listeners).to.have.length(4);
    expect(problemsOf('listeners: [{ listen: "0.0.0.0:2055" }, { listen: "127.0.0.1:2055" }]')).to.have.length(1);
  });

  it('accepts an empty outputs list (converters come in a later version)', () => {
    expect(parseConfig(`${LISTEN}outputs: []`, 'c.yaml', {}).listeners).to.have.length(1);
  });

  it('loadConfig: an unreadable file is a ConfigReadError', () => {
    expect(() => loadConfig(path.join(ROOT, 'no-such.yaml'))).to.throw(ConfigReadError, /cannot read/);
  });

  it('suggests the nearest key for typos, and nothing for unrelated words', () => {
    expect(editDistance('porotcol', 'protocol')).to.equal(2);
    expect(closest('listners', ['listeners', 'decoder'])).to.equal('listeners');
    expect(closest('client-id', ['client_id', 'topic'])).to.equal('client_id');
    expect(closest('banana', ['listeners', 'decoder'])).to.equal(undefined);
  });
});

/** Every key path of the schema: "kafka.sasl.mechanism", "listeners[].listen", ... */
function keyPaths(s: JsonSchema, at = ''): string[] {
  const out: string[] = [];
  for (const [k, sub] of Object.entries(s.properties ?? {})) {
    const p = at ? `${at}.${k}` : k;
    out.push(p, ...keyPaths(sub, p));
  }
  if (s.items) out.push(...keyPaths(s.items, `${at}[]`));
  return out;
}

describe('config: documentation in step with the schema', () => {
  it('docs/CONFIG.md names every key', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/CONFIG.md'), 'utf8');
    const missing = keyPaths(CONFIG_SCHEMA).filter((p) => !doc.includes(`\`${p}\``));
    expect(missing).to.deep.equal([]);
  });

  it("config.yaml's commented-out kafka block shows the schema's defaults", () => {
    const text = readFileSync(path.join(ROOT, 'config.yaml'), 'utf8');
    const block = text.slice(text.indexOf('\n# kafka:\n') + 1).split('\n').filter((l) => l.startsWith('#')).map((l) => l.slice(2)).join('\n');
    const shown = (parse(block) as { kafka: Record<string, unknown> }).kafka;
    const { brokers, sasl, tls, ...defaults } = shown;
    expect(defaults).to.deep.equal(KAFKA_DEFAULTS);
    expect(tls).to.have.all.keys('ca_file', 'cert_file', 'key_file', 'reject_unauthorized');
    // Without tls: its example files do not exist here, and the loader checks they can be read.
    const c = parseConfig(stringify({ listeners: [{ listen: ':0' }], kafka: { brokers, sasl, ...defaults } }), 'c.yaml', { FLOWGATE_KAFKA_PASSWORD: 'x' });
    expect(c.kafka).to.deep.include({ ...KAFKA_DEFAULTS, brokers });
  });
});
