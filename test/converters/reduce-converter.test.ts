// Issue 8 acceptance 3, with real parts: fixtures replayed over UDP → gateway → Kafka (mock
// broker) → two reduce outputs with different keys, configured as the issue writes it
// (`topic:` = the topic written) → reduced topics read with kcat and decoded with protoc.
//  - protoc prints only the kept fields (everything else is absent on the wire);
//  - the records equal `flowgate decode` of the captures cut down to the kept fields, with
//    addresses mapped by Crypto-PAn under that output's key (itself pinned to the reference
//    implementation's vectors in test/unit/crypto-pan.test.ts);
//  - anonymisation is deterministic (one address → one output everywhere in the topic),
//    preserves shared prefix lengths between every pair of addresses, and differs by key.

import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseConfig } from '../../src/config/config';
import { CryptoPan } from '../../src/outputs/reduce/crypto-pan';
import { startGateway, type RunningGateway } from '../../src/runtime/assemble';
import { ipToText, textToIp } from '../../src/util/ip';
import { kafkaSectionYaml, startKafkaMock, type KafkaMock } from '../support/kafka-broker';
import { readTopic } from '../support/kcat';
import { decodeWithProtoc, type ProtocFlow } from '../support/protoc';
import { FLOW_FIXTURES, LogSink, decodeWithCli, listenPort, replayFixtures, waitFor } from '../support/gateway-harness';

const KEEP = ['type', 'src_addr', 'dst_addr', 'bytes', 'packets', 'proto', 'dst_port', 'time_flow_end_ns'];

function sharedPrefix(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ^ b[i];
    if (x) return i * 8 + Math.clz32(x) - 24;
  }
  return a.length * 8;
}

/** One reduced flow as a comparable line; absent fields are proto3 defaults. */
function line(f: { type: unknown; src: string; dst: string; bytes: unknown; packets: unknown; proto: unknown; dst_port: unknown; end: unknown }): string {
  // sFlow has no flow times of its own: they are the receive time, which differs live.
  const end = f.type === 'SFLOW_5' ? '-' : f.end;
  return [f.type, f.src, f.dst, f.bytes, f.packets, f.proto, f.dst_port, end].map(String).join(' ');
}

function protocLine(f: ProtocFlow): string {
  const s = (k: string, d = '0'): string => {
    const v = f[k];
    if (v === undefined) return d;
    if (typeof v === 'string') return v;
    if (Buffer.isBuffer(v)) return ipToText(v);
    throw new Error(`${k}: unexpected value`);
  };
  return line({ type: s('type', 'FLOWUNKNOWN'), src: s('src_addr', ''), dst: s('dst_addr', ''), bytes: s('bytes'), packets: s('packets'), proto: s('proto'), dst_port: s('dst_port'), end: s('time_flow_end_ns') });
}

describe('reduce converter (gateway → Kafka → reduced, anonymised topic)', function () {
  this.timeout(240_000);
  let kafka: KafkaMock;
  const running: RunningGateway[] = [];

  before(async () => {
    kafka = await startKafkaMock({ topics: [{ name: 'reduce-flows', partitions: 3 }] });
  });
  afterEach(async () => {
    while (running.length) await running.pop()?.stop();
  });
  after(async () => {
    await kafka?.stop();
  });

  it('carries only the kept fields; anonymisation is deterministic, prefix-preserving and keyed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-reduce-'));
    const keyA = Buffer.from('00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210', 'hex');
    const keyB = Buffer.alloc(32, 0x5a);
    writeFileSync(path.join(dir, 'a.key'), `${keyA.toString('hex')}\n`);
    writeFileSync(path.join(dir, 'b.key'), keyB);
    const yaml = [
      'listeners: [{ listen: "127.0.0.1:0", protocol: auto }]',
      'summary_interval_seconds: 0',
      ...kafkaSectionYaml(kafka, 'reduce-flows'),
      'outputs:',
      `  - { type: reduce, topic: flows-reduced, keep: [${KEEP.join(', ')}], anonymize: { src_addr: prefix-preserving, dst_addr: prefix-preserving, key_file: ${JSON.stringify(path.join(dir, 'a.key'))} } }`,
      `  - { type: reduce, name: reduce-b, from_topic: reduce-flows, topic: flows-reduced-b, keep: [${KEEP.join(', ')}], anonymize: { src_addr: prefix-preserving, dst_addr: prefix-preserving, key_file: ${JSON.stringify(path.join(dir, 'b.key'))} } }`,
    ].join('\n');
    const decoded = FLOW_FIXTURES.flatMap((f) => decodeWithCli(f));
    const g = await startGateway(parseConfig(yaml), { destination: new LogSink() });
    running.push(g);
    await replayFixtures(FLOW_FIXTURES, listenPort(g), 1000);
    await waitFor(() => g.converters.every((c) => c.output.counts().durable >= decoded.length), 60_000,
      () => `reduce outputs to publish ${decoded.length} records: ${g.converters.map((c) => JSON.stringify(c.output.counts())).join(' ')}`);
    expect(g.gateway.stats.records).to.equal(decoded.length);

    const reduced = new Map<string, ProtocFlow[]>();
    for (const topic of ['flows-reduced', 'flows-reduced-b']) {
      const recs = await readTopic(kafka.bootstrap, topic, { minRecords: decoded.length });
      expect(recs.length, topic).to.equal(decoded.length);
      reduced.set(topic, await decodeWithProtoc(recs.map((r) => r.value ?? Buffer.alloc(0))));
    }

    // Only the kept fields exist on the wire.
    for (const flows of reduced.values()) {
      const present = new Set(flows.flatMap((f) => Object.keys(f)));
      expect([...present].filter((k) => !KEEP.includes(k)), 'fields present that were not kept').to.deep.equal([]);
      expect(present.has('src_addr') && present.has('bytes')).to.equal(true);
    }

    // The records: decode output cut to the kept fields, addresses through Crypto-PAn per key.
    for (const [topic, key] of [['flows-reduced', keyA], ['flows-reduced-b', keyB]] as const) {
      const pan = new CryptoPan(key);
      const anon = (t: unknown): string => (t ? ipToText(pan.anonymize(textToIp(String(t)))) : '');
      const want = decoded.map((j) => line({ type: j.type, src: anon(j.src_addr), dst: anon(j.dst_addr), bytes: j.bytes, packets: j.packets, proto: j.proto, dst_port: j.dst_port, end: j.time_flow_end_ns }));
      const got = (reduced.get(topic) ?? []).map(protocLine);
      expect(got.sort(), topic).to.deep.equal(want.sort());
    }

    // Deterministic and prefix-preserving over every pair of distinct addresses seen, and keyed.
    const originals = [...new Set(decoded.flatMap((j) => [String(j.src_addr), String(j.dst_addr)]).filter(Boolean))].map(textToIp);
    const panA = new CryptoPan(keyA);
    const panB = new CryptoPan(keyB);
    const seenA = new Set((reduced.get('flows-reduced') ?? []).flatMap((f) => [f.src_addr, f.dst_addr]).filter(Buffer.isBuffer).map((b) => ipToText(b)));
    let pairs = 0;
    for (let i = 0; i < originals.length; i++) {
      const ai = panA.anonymize(originals[i]);
      expect(seenA.has(ipToText(ai)), `${ipToText(originals[i])} appears anonymised in the topic`).to.equal(true);
      expect(ipToText(ai)).to.not.equal(ipToText(panB.anonymize(originals[i])));
      for (let j = i + 1; j < originals.length; j++) {
        if (originals[i].length !== originals[j].length) continue;
        expect(sharedPrefix(ai, panA.anonymize(originals[j]))).to.equal(sharedPrefix(originals[i], originals[j]));
        pairs++;
      }
    }
    expect(seenA.size, 'one anonymised address per original (deterministic)').to.equal(originals.length);
    process.stdout.write(`      (${decoded.length} records per topic; ${originals.length} addresses, ${pairs} pairs checked)\n`);
  });
});
