// The default path with no Kafka: fixture datagrams sent over real UDP on 127.0.0.1 to the
// gateway arrive on the embedded bus as canonical protobuf records, the same as `decode`.

import * as dgram from 'node:dgram';
import * as path from 'node:path';
import { expect } from 'chai';
import { EmbeddedBus } from '../src/bus/embedded-bus';
import { decodeFlowMessage } from '../src/canonical/flow-message';
import { flowToJson } from '../src/canonical/flow-json';
import { parseConfig } from '../src/config/config';
import { DatagramDecoder } from '../src/decode/datagram-decoder';
import { readCaptureFile } from '../src/pcap/reader';
import { Gateway } from '../src/runtime/gateway';
import { makeExporter } from '../src/util/ip';

const FIXTURES = path.resolve(__dirname, '../../fixtures');

// One socket for the whole capture: templates are scoped by the exporter's source port.
async function send(s: dgram.Socket, port: number, payloads: Buffer[]): Promise<void> {
  for (const p of payloads) await new Promise<void>((res, rej) => s.send(p, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
}

describe('gateway on the embedded bus', () => {
  for (const file of ['softflowd-v9.pcap', 'pmacct-ipfix-sampled.pcap', 'pmacct-sflow.pcap', 'softflowd-v5.pcap']) {
    it(`${file}: every record decode gives arrives on the bus`, async () => {
      const bus = new EmbeddedBus();
      const got: Buffer[] = [];
      bus.subscribe((topic, msgs) => {
        if (topic === 'flows') for (const m of msgs) got.push(m.value);
      });
      const gw = new Gateway(parseConfig('listeners: [{ listen: "127.0.0.1:0", protocol: auto }]\nsummary_interval_seconds: 0'), { bus, log: { debug() {}, info() {}, warn() {}, error() {} } });
      await gw.start();
      const sock = dgram.createSocket('udp4');
      try {
        const cap = readCaptureFile(path.join(FIXTURES, file));
        const port = gw.listeners[0].address()?.port ?? 0;
        // Small bursts: the test checks the codec path, not the socket buffer.
        for (let i = 0; i < cap.datagrams.length; i += 8) {
          await send(sock, port, cap.datagrams.slice(i, i + 8).map((d) => d.payload));
          await new Promise((r) => setTimeout(r, 5));
        }
        const offline = new DatagramDecoder();
        const expected = cap.datagrams.flatMap((d) => offline.decode(d.payload, makeExporter(d.srcAddr, d.srcPort), d.timestampUs).flows);
        for (let i = 0; i < 200 && got.length < expected.length; i++) await new Promise((r) => setTimeout(r, 10));
        const key = (j: Record<string, unknown>): string =>
          [j.src_addr, j.dst_addr, j.src_port, j.dst_port, j.proto, j.bytes, j.packets, j.time_flow_start_ns, j.time_flow_end_ns, j.sampling_rate].join('|');
        const live = got.map((b) => key(flowToJson(decodeFlowMessage(b)))).sort();
        // sFlow has no flow times: they are the receive time, which differs live vs. offline.
        const want = expected.map((r) => key(flowToJson(file.includes('sflow') ? { ...r, time_flow_start_us: 0, time_flow_end_us: 0 } : r))).sort();
        const liveCmp = file.includes('sflow')
          ? got.map((b) => key(flowToJson({ ...decodeFlowMessage(b), time_flow_start_us: 0, time_flow_end_us: 0 }))).sort()
          : live;
        expect(liveCmp).to.deep.equal(want);
        expect(gw.stats.errors).to.deep.equal({});
      } finally {
        sock.close();
        await gw.stop();
      }
    });
  }
});
