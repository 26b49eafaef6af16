// The netflow9 output as the converter uses it, over real UDP on 127.0.0.1: records written →
// export packets received by a plain socket and decoded by our decoder; durability follows the
// send callbacks; records NetFlow v9 cannot carry are counted and skipped; idle packets are
// flushed; pacing keeps order and sequence; metrics carry the counts.

import { expect } from 'chai';
import * as dgram from 'node:dgram';
import { Registry } from 'prom-client';
import { newFlowRecord, type FlowRecord } from '../../src/canonical/flow-record';
import type { Netflow9OutputConfig } from '../../src/config/types';
import { DatagramDecoder } from '../../src/decode/datagram-decoder';
import { createLogger } from '../../src/log/logger';
import { RateLimitedLog } from '../../src/log/rate-limited';
import { Netflow9Output } from '../../src/outputs/netflow9/netflow9-output';
import { DEFAULT_TEMPLATE_FILE } from '../../src/outputs/netflow9/template-file';
import { LogSink, metricSum, waitFor } from '../support/gateway-harness';
import { StrictNetflow9Checker } from '../support/netflow9-strict';

interface Receiver { port: number; packets: Buffer[]; close(): Promise<void> }

async function receiver(): Promise<Receiver> {
  const s = dgram.createSocket('udp4');
  const packets: Buffer[] = [];
  s.on('message', (m) => packets.push(m));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, packets, close: () => new Promise<void>((r) => s.close(() => r())) };
}

function config(port: number, over: Partial<Netflow9OutputConfig> = {}): Netflow9OutputConfig {
  return {
    type: 'netflow9', name: 'test', topic: 'flows', group_id: 'g', targets: [`127.0.0.1:${port}`], source_id: 'per-exporter',
    template_refresh: { packets: 20, seconds: 60 }, mtu: 1400, flush_ms: 20, rate_limit: 0, template_file: DEFAULT_TEMPLATE_FILE, ...over,
  };
}

function record(i: number): FlowRecord {
  const r = newFlowRecord();
  r.src_addr = Uint8Array.from([10, 0, (i >> 8) & 255, i & 255]);
  r.dst_addr = Uint8Array.from([192, 0, 2, 1]);
  r.exporter_address = Uint8Array.from([198, 51, 100, 1 + (i % 3)]);
  r.exporter_port = 2055;
  r.time_flow_start_us = (Date.now() - 5000) * 1000;
  r.time_flow_end_us = Date.now() * 1000;
  r.bytes = 1000 + i;
  r.packets = 1 + (i % 7);
  r.proto = 6;
  r.src_port = 1024 + i;
  r.dst_port = 443;
  r.sampling_rate = i % 3 === 0 ? 0 : 100;
  r.sampler_id = i % 3 === 2 ? 7 : 0;
  return r;
}

function context(registry: Registry) {
  const sink = new LogSink();
  const log = createLogger({ destination: sink, level: 'debug' });
  return { sink, ctx: { log, badInput: new RateLimitedLog(log, { tickMs: 0 }), registry, config: { listeners: [], outputs: [] } as never } };
}

describe('netflow9 output over UDP', () => {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    while (open.length) await open.pop()?.close();
  });

  it('records → packets → our decoder; durable = written once sent; unexportable records counted; metrics', async () => {
    const rx = await receiver();
    open.push(rx);
    const registry = new Registry();
    const { ctx, sink } = context(registry);
    const out = new Netflow9Output(config(rx.port), ctx);
    open.push(out);
    await out.start();
    const durable: number[] = [];
    out.onDurable((d) => durable.push(d));
    const good = Array.from({ length: 1000 }, (_, i) => record(i));
    const bad = newFlowRecord(); // no addresses
    out.write([...good.slice(0, 500), bad, ...good.slice(500)]);
    await out.close();
    open.pop();
    expect(out.counts()).to.deep.equal({ written: 1001, durable: 1001 });
    expect(durable[durable.length - 1]).to.equal(1001);
    await waitFor(() => rx.packets.reduce((n, p) => n + p.readUInt16BE(2), 0) >= 1001, 10_000, () => `packets (${rx.packets.length})`);

    const dec = new DatagramDecoder();
    const strict = new StrictNetflow9Checker();
    const exp = { address: Uint8Array.from([127, 0, 0, 1]), port: 1, key: 'x', addressText: '127.0.0.1' };
    const back: FlowRecord[] = [];
    for (const p of rx.packets) {
      expect(strict.check(p).problems).to.deep.equal([]);
      back.push(...dec.decode(p, exp, Date.now() * 1000, 'netflow9').flows);
    }
    const key = (r: FlowRecord): string => `${r.src_addr.join('.')} ${r.bytes} ${r.packets} ${r.sampling_rate}`;
    expect(back.map(key).sort()).to.deep.equal(good.map(key).sort());
    expect(new Set(back.map((r) => r.observation_domain_id)).size, 'one source ID per exporter').to.equal(3);

    const text = await registry.metrics();
    expect(metricSum(text, 'flowgate_netflow9_records_total', { output: 'test' })).to.equal(1000);
    expect(metricSum(text, 'flowgate_netflow9_records_skipped_total', { output: 'test', reason: 'no_ip_address' })).to.equal(1);
    expect(metricSum(text, 'flowgate_netflow9_packets_total', { output: 'test', target: `127.0.0.1:${rx.port}` })).to.equal(rx.packets.length);
    expect(metricSum(text, 'flowgate_netflow9_sources', { output: 'test' })).to.equal(3);
    expect(metricSum(text, 'flowgate_netflow9_source_info', { output: 'test' })).to.equal(3);
    expect(sink.lines.some((l) => l.includes('no_ip_address')), 'the skipped record is logged (rate-limited)').to.equal(true);
  });

  it('a packet that does not fill is sent flush_ms after its first record, without close()', async () => {
    const rx = await receiver();
    open.push(rx);
    const { ctx } = context(new Registry());
    const out = new Netflow9Output(config(rx.port, { flush_ms: 30 }), ctx);
    open.push(out);
    await out.start();
    out.write([record(1)]);
    expect(out.counts()).to.deep.equal({ written: 1, durable: 0 });
    await waitFor(() => rx.packets.length === 1 && out.counts().durable === 1, 10_000, () => `the idle flush (${rx.packets.length} packets)`);
  });

  it('paced output: every packet arrives, in order, sequence numbers contiguous per source ID', async () => {
    const rx = await receiver();
    open.push(rx);
    const { ctx } = context(new Registry());
    const out = new Netflow9Output(config(rx.port, { rate_limit: 200, source_id: 9 }), ctx);
    open.push(out);
    await out.start();
    for (let b = 0; b < 5; b++) {
      out.write(Array.from({ length: 100 }, (_, i) => record(b * 100 + i)));
      await out.ready();
    }
    await out.close();
    open.pop();
    await waitFor(() => rx.packets.reduce((n, p) => n + p.readUInt16BE(2), 0) >= 500, 10_000, () => `packets (${rx.packets.length})`);
    const seqs = rx.packets.map((p) => p.readUInt32BE(12));
    expect(seqs).to.deep.equal(seqs.map((_, i) => i));
    expect(rx.packets.every((p) => p.readUInt32BE(16) === 9)).to.equal(true);
  });
});
