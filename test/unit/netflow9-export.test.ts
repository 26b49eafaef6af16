// Issue 5 acceptance 3 (round trip) and the strict RFC 3954 check on packets built from random
// records: the exporter's packets, read back by our own decoder, give the same canonical
// records (the fields the export templates carry), and every packet passes the strict reader.

import { expect } from 'chai';
import * as fc from 'fast-check';
import { newFlowRecord, type FlowRecord } from '../../src/canonical/flow-record';
import { DatagramDecoder } from '../../src/decode/datagram-decoder';
import type { Exporter } from '../../src/decode/types';
import { parseConfig } from '../../src/config/config';
import { minimumMtu, packetPlan } from '../../src/outputs/netflow9/packet-plan';
import { SourceIds } from '../../src/outputs/netflow9/source-ids';
import { SourceStream, unexportable, type ExportPacket, type StreamShared } from '../../src/outputs/netflow9/source-stream';
import { recordArb } from '../support/record-arbitrary';
import { DEFAULT_TEMPLATE_FILE, loadExportTemplates } from '../../src/outputs/netflow9/template-file';
import { UptimeBase, WINDOW_MS } from '../../src/outputs/netflow9/uptime-base';
import { StrictNetflow9Checker } from '../support/netflow9-strict';

const NOW_MS = 1_795_342_500_123;
const EXPORTER: Exporter = { address: Uint8Array.from([127, 0, 0, 1]), port: 40001, key: '127.0.0.1|40001', addressText: '127.0.0.1' };

function shared(packets: ExportPacket[], mtu = 1400): StreamShared {
  return {
    ...packetPlan(loadExportTemplates()),
    mtu, refreshPackets: 20, refreshMs: 60_000,
    ctx: { firstSwitched: 0, lastSwitched: 0, clamped: 0 },
    opened: () => undefined,
    emit: (p) => packets.push(Buffer.from(p.bytes) === p.bytes ? p : { ...p, bytes: Buffer.from(p.bytes) }),
  };
}

const u8 = fc.nat({ max: 255 });
const u16 = fc.nat({ max: 0xffff });
const u32 = fc.oneof(fc.nat({ max: 300 }), fc.nat({ max: 0xffffffff }));
const counter = fc.oneof(fc.nat({ max: 0xffffffff }), fc.nat({ max: Number.MAX_SAFE_INTEGER }));
// Exporters: 0 and 1 unsampled, 2 and 3 sampled; each its own source ID.
const EXPORTERS = [[10, 0, 0, 1], [10, 0, 0, 2], [10, 0, 0, 3], [10, 0, 0, 4]].map((a) => Uint8Array.from(a));

const exportable: fc.Arbitrary<FlowRecord> = fc.record({
  v6: fc.boolean(),
  exporter: fc.nat({ max: 3 }),
  domain: fc.constantFrom(0, 7),
  // Within the window a v9 packet can express, relative to the export time.
  startMs: fc.oneof(fc.integer({ min: NOW_MS - 20 * 86_400_000, max: NOW_MS + 3_600_000 }), fc.integer({ min: 1_000_000_000_000, max: NOW_MS })),
  durMs: fc.integer({ min: 0, max: 86_400_000 }),
  subMs: fc.nat({ max: 999 }),
  a: fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 })),
  nh: fc.boolean(),
  src_port: u16, dst_port: u16, proto: fc.oneof(u8, fc.constantFrom(1, 58)), bytes: counter, packets: counter, tcp_flags: u8, ip_tos: u8,
  in_if: u32, out_if: u32, src_as: u32, dst_as: u32, src_net: u8, dst_net: u8, src_vlan: fc.nat({ max: 4095 }), dst_vlan: fc.nat({ max: 4095 }),
  src_mac: fc.nat({ max: 2 ** 48 - 1 }), dst_mac: fc.nat({ max: 2 ** 48 - 1 }), flow_direction: fc.integer({ min: 0, max: 2 }),
  forwarding_status: u8, ipv6_flow_label: fc.nat({ max: 0xfffff }), icmp_type: fc.oneof(u8, fc.constant(0)), icmp_code: fc.oneof(u8, fc.constant(0)),
  sampler_id: fc.constantFrom(0, 1, 2, 300), sampling_rate: fc.constantFrom(1, 10, 100, 1000, 4096, 2 ** 32 - 1),
}).map((o) => {
  const r = newFlowRecord();
  const n = o.v6 ? 16 : 4;
  r.src_addr = o.a[0].slice(0, n);
  r.dst_addr = o.a[1].slice(0, n);
  if (o.nh) {
    r.next_hop = o.a[2].slice(0, n);
    r.bgp_next_hop = o.a[3].slice(0, n);
  }
  r.exporter_address = EXPORTERS[o.exporter];
  r.observation_domain_id = o.domain;
  r.time_flow_start_us = o.startMs * 1000 + o.subMs;
  r.time_flow_end_us = (o.startMs + o.durMs) * 1000 + o.subMs;
  r.time_received_us = NOW_MS * 1000;
  const sampled = o.exporter >= 2;
  Object.assign(r, {
    src_port: o.src_port, dst_port: o.dst_port, proto: o.proto, bytes: o.bytes, packets: o.packets, tcp_flags: o.tcp_flags, ip_tos: o.ip_tos,
    in_if: o.in_if, out_if: o.out_if, src_as: o.src_as, dst_as: o.dst_as, src_net: o.src_net, dst_net: o.dst_net, src_vlan: o.src_vlan,
    dst_vlan: o.dst_vlan, src_mac: o.src_mac, dst_mac: o.dst_mac, flow_direction: o.flow_direction, forwarding_status: o.forwarding_status,
    ipv6_flow_label: o.v6 ? o.ipv6_flow_label : 0, icmp_type: o.icmp_type, icmp_code: o.icmp_code,
    sampler_id: o.sampler_id, sampling_rate: sampled ? o.sampling_rate : 0,
  });
  return r;
});

const hex = (a: Uint8Array, n: number): string => (a.length ? Buffer.from(a).toString('hex') : '00'.repeat(n));

/** The canonical fields a NetFlow v9 packet of the default templates carries. */
function projection(r: FlowRecord): Record<string, unknown> {
  const n = (r.src_addr.length || r.dst_addr.length) === 16 ? 16 : 4;
  return {
    src_addr: hex(r.src_addr, n), dst_addr: hex(r.dst_addr, n), next_hop: hex(r.next_hop, n), bgp_next_hop: hex(r.bgp_next_hop, n),
    src_port: r.src_port, dst_port: r.dst_port, proto: r.proto, bytes: r.bytes, packets: r.packets,
    // NetFlow v9 times are milliseconds.
    start_ms: Math.floor(r.time_flow_start_us / 1000), end_ms: Math.floor(r.time_flow_end_us / 1000),
    tcp_flags: r.tcp_flags, ip_tos: r.ip_tos, in_if: r.in_if, out_if: r.out_if, src_as: r.src_as, dst_as: r.dst_as,
    src_net: r.src_net, dst_net: r.dst_net, src_vlan: r.src_vlan, dst_vlan: r.dst_vlan, src_mac: r.src_mac, dst_mac: r.dst_mac,
    flow_direction: r.flow_direction, forwarding_status: r.forwarding_status, ipv6_flow_label: r.ipv6_flow_label,
    // An ICMP record without type/code exports its dst_port as ICMP_TYPE (field-writers.ts), so reads back with them filled in.
    ...(r.icmp_type === 0 && r.icmp_code === 0 && (r.proto === 1 || r.proto === 58)
      ? { icmp_type: r.dst_port >> 8, icmp_code: r.dst_port & 255 }
      : { icmp_type: r.icmp_type, icmp_code: r.icmp_code }),
    sampler_id: r.sampler_id, sampling_rate: r.sampling_rate,
  };
}

/** Encodes records through per-source streams like the output does; returns packets in send order. */
function exportRecords(records: readonly FlowRecord[], nowMs: number, sourceIdOf: Map<string, number>, mtu = 1400): ExportPacket[] {
  const packets: ExportPacket[] = [];
  const sh = shared(packets, mtu);
  const streams = new Map<number, SourceStream>();
  const ids = new SourceIds(undefined, (a) => sourceIdOf.set(`${a.exporter}/${a.domain}`, a.id));
  records.forEach((r, i) => {
    const id = ids.idFor(r);
    let s = streams.get(id);
    if (!s) streams.set(id, (s = new SourceStream(id, sh)));
    expect(s.add(r, i, nowMs)).to.equal(undefined);
  });
  for (const s of streams.values()) s.flush();
  return packets;
}

describe('netflow9 export (encoder, packer, streams)', () => {
  it('round trip: our decoder reads the exported packets back to the same canonical records (random records)', () => {
    fc.assert(
      fc.property(fc.array(exportable, { minLength: 1, maxLength: 120 }), fc.integer({ min: 512, max: 9000 }), (records, mtu) => {
        const ids = new Map<string, number>();
        const packets = exportRecords(records, NOW_MS, ids, mtu);
        const dec = new DatagramDecoder();
        const strict = new StrictNetflow9Checker();
        const back: FlowRecord[] = [];
        for (const p of packets) {
          expect(p.bytes.length).to.be.at.most(mtu);
          expect(strict.check(p.bytes).problems).to.deep.equal([]);
          const out = dec.decode(p.bytes, EXPORTER, NOW_MS * 1000, 'netflow9');
          expect(out.errors.map((e) => e.detail)).to.deep.equal([]);
          back.push(...out.flows);
        }
        // Packets of different source IDs interleave differently from the input; compare per source, in order.
        const key = (r: FlowRecord): string => JSON.stringify(projection(r));
        const bySource = (rs: FlowRecord[], src: (r: FlowRecord) => number): Map<number, string[]> => {
          const m = new Map<number, string[]>();
          for (const r of rs) m.set(src(r), [...(m.get(src(r)) ?? []), key(r)]);
          return m;
        };
        const want = bySource(records, (r) => ids.get(`${r.exporter_address.join('.')}:${r.exporter_port}/${r.observation_domain_id}`) as number);
        const got = bySource(back, (r) => r.observation_domain_id);
        expect(got).to.deep.equal(want);
      }),
      { numRuns: 300 },
    );
  });

  it('packets: header count = templates + records, sequence +1 per packet per source ID, templates at start and every N packets', () => {
    const records: FlowRecord[] = [];
    for (let i = 0; i < 2000; i++) {
      const r = newFlowRecord();
      r.src_addr = Uint8Array.from([10, 1, (i >> 8) & 255, i & 255]);
      r.dst_addr = Uint8Array.from([10, 2, 0, 1]);
      r.exporter_address = EXPORTERS[i % 2];
      r.time_flow_start_us = (NOW_MS - 5000) * 1000;
      r.time_flow_end_us = NOW_MS * 1000;
      r.bytes = i;
      r.packets = 1;
      records.push(r);
    }
    const packets = exportRecords(records, NOW_MS, new Map());
    const strict = new StrictNetflow9Checker();
    const perSource = new Map<number, number[]>();
    let total = 0;
    for (const p of packets) {
      const rep = strict.check(p.bytes);
      expect(rep.problems).to.deep.equal([]);
      total += rep.dataRecords;
      perSource.set(rep.sourceId, [...(perSource.get(rep.sourceId) ?? []), rep.sequence]);
    }
    expect(total).to.equal(records.length);
    expect(perSource.size).to.equal(2);
    for (const [src, seqs] of perSource) {
      expect(seqs, `source ${src}`).to.deep.equal(seqs.map((_, i) => i));
      const withTemplates = packets.filter((p) => p.sourceId === src).map((p, i) => (p.templates ? i : -1)).filter((i) => i >= 0);
      expect(withTemplates.slice(0, 3), `templates at start and then every 20 packets of source ${src}`).to.deep.equal([0, 20, 40].filter((i) => i < seqs.length));
    }
  });

  it('sysUptime base: header and first/last switched agree; the base moves for older records and before uptime reaches 2^31 ms', () => {
    const u = new UptimeBase();
    const h = u.packetTime(NOW_MS - 1000, NOW_MS, NOW_MS) as number;
    expect(h).to.equal(Math.floor(NOW_MS / 1000) * 1000);
    expect(u.fits(NOW_MS - 1000, NOW_MS, h)).to.equal(false);
    u.rebase(NOW_MS - 1000, NOW_MS, h);
    const base = u.baseMs as number;
    expect(base % 1000).to.equal(0);
    expect(u.fits(NOW_MS - 1000, NOW_MS, h)).to.equal(true);
    const hd = u.header(h);
    expect(hd.unixSecs * 1000 - hd.uptimeMs).to.equal(base);
    expect(u.fits(base - 1, NOW_MS, h)).to.equal(false);
    // Uptime past 2^31 ms: the virtual exporter "reboots" long before the 32-bit wrap.
    expect(u.fits(base + 2 ** 31, base + 2 ** 31, base + 2 ** 31)).to.equal(false);
    // A record older than the window goes into a packet exported when it ended.
    const old = NOW_MS - 900 * 86_400_000;
    expect(u.packetTime(old, old + 1500, NOW_MS)).to.equal(Math.ceil((old + 1500) / 1000) * 1000);
    // A flow longer than the window cannot be said at all.
    expect(u.packetTime(NOW_MS - WINDOW_MS, NOW_MS, NOW_MS)).to.equal(undefined);
    const r = newFlowRecord();
    r.src_addr = Uint8Array.from([1, 2, 3, 4]);
    r.time_flow_start_us = (NOW_MS - 30 * 86_400_000) * 1000;
    r.time_flow_end_us = NOW_MS * 1000;
    const s = new SourceStream(1, shared([]));
    expect(s.add(r, 0, NOW_MS)).to.equal('time_out_of_range');
    r.src_addr = new Uint8Array(0);
    expect(s.add(r, 1, NOW_MS)).to.equal('no_ip_address');
  });

  it('a record older than the base or the window starts a new packet; times stay exact across it', () => {
    const mk = (startMs: number): FlowRecord => {
      const r = newFlowRecord();
      r.src_addr = Uint8Array.from([1, 2, 3, 4]);
      r.dst_addr = Uint8Array.from([5, 6, 7, 8]);
      r.time_flow_start_us = startMs * 1000;
      r.time_flow_end_us = (startMs + 10) * 1000;
      return r;
    };
    // Now, 10 days ago (same packet time, older base), 2.5 years ago (a packet of its own time), now again.
    const times = [NOW_MS - 1000, NOW_MS - 10 * 86_400_000, NOW_MS - 900 * 86_400_000, NOW_MS - 500];
    const packets = exportRecords(times.map(mk), NOW_MS, new Map());
    expect(packets.length).to.equal(4);
    const dec = new DatagramDecoder();
    const back = packets.flatMap((p) => dec.decode(p.bytes, EXPORTER, NOW_MS * 1000, 'netflow9').flows);
    expect(back.map((r) => r.time_flow_start_us / 1000)).to.deep.equal(times);
    expect(back.map((r) => r.time_flow_end_us / 1000)).to.deep.equal(times.map((t) => t + 10));
  });
});

describe('netflow9 output config', () => {
  it('defaults: per-exporter source IDs, refresh 20 packets / 60 s, MTU 1400, flush 500 ms, unpaced, the package template file', () => {
    const c = parseConfig('outputs: [{ type: netflow9, targets: ["127.0.0.1:2055", "[::1]:9995"] }]');
    expect(c.outputs[0]).to.deep.equal({
      type: 'netflow9', name: 'netflow9', topic: 'flows', group_id: 'flowgate-netflow9', targets: ['127.0.0.1:2055', '[::1]:9995'],
      source_id: 'per-exporter', template_refresh: { packets: 20, seconds: 60 }, mtu: 1400, flush_ms: 500, rate_limit: 0,
      template_file: DEFAULT_TEMPLATE_FILE,
    });
  });

  it('a fixed source ID and every key set', () => {
    const c = parseConfig([
      'outputs:',
      '  - { type: netflow9, name: legacy, targets: ["10.0.0.9:9995"], source_id: 42, template_refresh: { packets: 0, seconds: 30 },',
      `      mtu: 9000, flush_ms: 50, rate_limit: 2000, template_file: ${JSON.stringify(DEFAULT_TEMPLATE_FILE)} }`,
    ].join('\n'));
    expect(c.outputs[0]).to.include({ name: 'legacy', source_id: 42, mtu: 9000, flush_ms: 50, rate_limit: 2000 });
  });

  it('the smallest MTU the default templates allow is below the schema minimum of 512', () => {
    expect(minimumMtu(loadExportTemplates())).to.be.below(512);
  });
});

describe('netflow9 export: any record', () => {
  it('never throws: every canonical record (whole field ranges) is encoded or skipped with a reason; packets stay strict', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 40 }), (records) => {
        const packets: ExportPacket[] = [];
        const s = new SourceStream(5, shared(packets));
        for (const [i, r] of records.entries()) {
          const why = unexportable(r) ?? s.add(r, i, NOW_MS);
          if (why !== undefined) expect(['no_ip_address', 'mixed_address_families', 'time_out_of_range', 'sampling_rate_out_of_range']).to.include(why);
        }
        s.flush();
        const strict = new StrictNetflow9Checker();
        for (const p of packets) expect(strict.check(p.bytes).problems).to.deep.equal([]);
      }),
      { numRuns: 500 },
    );
  });

  it('templates are resent by time as well as by packet count', () => {
    const packets: ExportPacket[] = [];
    const sh = { ...shared(packets), refreshPackets: 0, refreshMs: 60_000 };
    const s = new SourceStream(5, sh);
    const r = newFlowRecord();
    r.src_addr = Uint8Array.from([1, 2, 3, 4]);
    r.dst_addr = Uint8Array.from([5, 6, 7, 8]);
    r.time_flow_start_us = r.time_flow_end_us = NOW_MS * 1000;
    for (const dt of [0, 1000, 59_000, 60_000, 61_000, 119_999, 120_000]) {
      expect(s.add(r, 0, NOW_MS + dt)).to.equal(undefined);
      s.flush();
    }
    expect(packets.map((p) => p.templates)).to.deep.equal([true, false, false, true, false, false, true]);
  });
});
