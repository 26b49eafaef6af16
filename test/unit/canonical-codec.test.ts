// The canonical record on the wire: the schema matches DESIGN.md §4 field for field, our
// hand-written encoder agrees with protobufjs and with protoc, for random records.

import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import * as fc from 'fast-check';
import type * as protobuf from 'protobufjs';
import { FlowEncoder } from '../../src/canonical/flow-encoder';
import { decodeFlowMessage } from '../../src/canonical/flow-message';
import { newFlowRecord, type FlowRecord } from '../../src/canonical/flow-record';
import { flowMessageType } from '../../src/canonical/schema';
import { recordArb } from '../support/record-arbitrary';
import { WireBatch } from '../../src/canonical/wire-batch';
import { packagePath } from '../../src/util/paths';
import { requireTool } from '../support/tools';

// DESIGN.md §4, transcribed: name → [number, type, repeated]. goflow2 consumers depend on it.
const GOFLOW2_FIELDS: Record<string, [number, string, boolean?]> = {
  type: [1, 'FlowType'],
  time_received_ns: [110, 'uint64'], sampling_rate: [3, 'uint64'], time_flow_start_ns: [111, 'uint64'],
  time_flow_end_ns: [112, 'uint64'], bytes: [9, 'uint64'], packets: [10, 'uint64'], src_mac: [27, 'uint64'],
  dst_mac: [28, 'uint64'],
  sequence_num: [4, 'uint32'], etype: [30, 'uint32'], proto: [20, 'uint32'], src_port: [21, 'uint32'],
  dst_port: [22, 'uint32'], in_if: [18, 'uint32'], out_if: [19, 'uint32'], src_vlan: [33, 'uint32'],
  dst_vlan: [34, 'uint32'], vlan_id: [29, 'uint32'], ip_tos: [23, 'uint32'], forwarding_status: [24, 'uint32'],
  ip_ttl: [25, 'uint32'], ip_flags: [38, 'uint32'], tcp_flags: [26, 'uint32'], icmp_type: [31, 'uint32'],
  icmp_code: [32, 'uint32'], ipv6_flow_label: [37, 'uint32'], fragment_id: [35, 'uint32'],
  fragment_offset: [36, 'uint32'], src_as: [14, 'uint32'], dst_as: [15, 'uint32'], next_hop_as: [13, 'uint32'],
  src_net: [16, 'uint32'], dst_net: [17, 'uint32'], observation_domain_id: [70, 'uint32'],
  observation_point_id: [71, 'uint32'], ipv6_routing_header_seg_left: [106, 'uint32'],
  sampler_address: [11, 'bytes'], src_addr: [6, 'bytes'], dst_addr: [7, 'bytes'], next_hop: [12, 'bytes'],
  bgp_next_hop: [100, 'bytes'],
  bgp_communities: [101, 'uint32', true], as_path: [102, 'uint32', true], mpls_ttl: [80, 'uint32', true],
  mpls_label: [81, 'uint32', true], layer_size: [104, 'uint32', true],
  mpls_ip: [82, 'bytes', true], ipv6_routing_header_addresses: [105, 'bytes', true],
  layer_stack: [103, 'LayerStack', true],
};

const FLOW_TYPES = { FLOWUNKNOWN: 0, SFLOW_5: 1, NETFLOW_V5: 2, NETFLOW_V9: 3, IPFIX: 4 };

function plain(r: FlowRecord): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (v instanceof Uint8Array) o[k] = Buffer.from(v).toString('hex');
    else if (Array.isArray(v)) o[k] = v.map((x: unknown) => (x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x));
    else if (k === 'extra_fields') o[k] = v;
    else o[k] = v;
  }
  o.extra_fields = r.extra_fields.map((x) => ({ enterprise: x.enterprise, id: x.id, value: Buffer.from(x.value).toString('hex') }));
  return o;
}

describe('canonical record (codecs/flow.proto)', () => {
  it('has every field of DESIGN.md §4 with goflow2 number and type', () => {
    const t = flowMessageType();
    for (const [name, [id, type, repeated]] of Object.entries(GOFLOW2_FIELDS)) {
      const f = t.fields[name] as protobuf.Field | undefined;
      expect(f, `field ${name}`).to.not.equal(undefined);
      expect(f?.id, `${name} number`).to.equal(id);
      expect(f?.type, `${name} type`).to.equal(type);
      expect(f?.repeated ?? false, `${name} repeated`).to.equal(repeated ?? false);
    }
    const flowType = t.lookupEnum('FlowType');
    expect({ ...flowType.values }).to.deep.equal(FLOW_TYPES);
  });

  it('keeps its own additions in 200-299 and nothing at 1000+', () => {
    const t = flowMessageType();
    for (const f of t.fieldsArray) {
      if (f.name in GOFLOW2_FIELDS) continue;
      expect(f.id, `${f.name}`).to.be.within(200, 299);
    }
    for (const name of ['flow_direction', 'sampling_rate_source', 'exporter_port']) expect(t.fields[name], name).to.not.equal(undefined);
  });

  it('hand-written encoder output decodes with protobufjs to the same record (random records)', () => {
    const enc = new FlowEncoder();
    fc.assert(
      fc.property(recordArb, (r) => {
        const back = decodeFlowMessage(enc.encode(r));
        expect(plain(back)).to.deep.equal(plain(r));
      }),
      { numRuns: 2000 },
    );
  });

  it('a batch (shared per-datagram fields written once) decodes to the same records', () => {
    const enc = new FlowEncoder();
    // Records of one datagram share type, exporter, times received, ...: copy the first
    // record's common fields into most of the others, as decoders produce them.
    const batchArb = fc.tuple(fc.array(recordArb, { minLength: 1, maxLength: 6 }), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 })).map(([rs, share]) =>
      rs.map((r, i) => (i > 0 && share[i] ? Object.assign(newFlowRecord(), r, {
        type: rs[0].type, sequence_num: rs[0].sequence_num, sampler_address: rs[0].sampler_address, time_received_us: rs[0].time_received_us,
        time_flow_start_us: rs[0].time_flow_start_us, time_flow_end_us: rs[0].time_flow_end_us, exporter_port: rs[0].exporter_port,
        exporter_address: rs[0].exporter_address, observation_domain_id: rs[0].observation_domain_id, sflow_sub_agent_id: rs[0].sflow_sub_agent_id,
        sampling_rate: rs[0].sampling_rate, sampling_rate_source: rs[0].sampling_rate_source,
      }) as FlowRecord : r)));
    fc.assert(
      fc.property(batchArb, (rs) => {
        const batch = new WireBatch(64);
        enc.writeBatch(batch, rs);
        expect(batch.messages().map((m) => plain(decodeFlowMessage(m)))).to.deep.equal(rs.map(plain));
      }),
      { numRuns: 1000 },
    );
  });

  it('delimited framing is varint length + message, repeated', () => {
    const enc = new FlowEncoder();
    fc.assert(
      fc.property(fc.array(recordArb, { minLength: 1, maxLength: 5 }), (rs) => {
        const buf = enc.encodeDelimited(rs);
        let p = 0;
        let n = 0;
        while (p < buf.length) {
          let len = 0;
          let shift = 0;
          for (;;) {
            const byte = buf[p++];
            len += (byte & 127) * 2 ** shift;
            shift += 7;
            if (byte < 128) break;
          }
          expect(plain(decodeFlowMessage(buf.subarray(p, p + len)))).to.deep.equal(plain(rs[n]));
          p += len;
          n++;
        }
        expect(n).to.equal(rs.length);
      }),
      { numRuns: 300 },
    );
  });

  it('encodes 64-bit nanosecond times exactly', () => {
    const r = newFlowRecord();
    r.time_flow_start_us = 1_700_000_000_123_456;
    r.time_flow_end_us = 2 ** 53 - 1;
    const m = flowMessageType().decode(new FlowEncoder().encode(r)) as unknown as Record<string, { toString(): string }>;
    expect(m.time_flow_start_ns.toString()).to.equal('1700000000123456000');
    expect(m.time_flow_end_ns.toString()).to.equal(`${BigInt(2 ** 53 - 1) * 1000n}`);
  });

  it('protoc --decode reads our bytes against codecs/flow.proto', () => {
    const protoc = requireTool('protoc', 'protobuf-compiler');
    const r = newFlowRecord();
    Object.assign(r, {
      type: 3, bytes: 1500, packets: 3, src_addr: Uint8Array.from([10, 0, 0, 1]), dst_addr: Uint8Array.from([192, 0, 2, 7]),
      src_port: 443, dst_port: 51000, proto: 6, time_flow_start_us: 1_700_000_000_000_001, sampling_rate: 100,
      flow_direction: 1, sampling_rate_source: 2, exporter_port: 2055, as_path: [64512, 65000],
      extra_fields: [{ enterprise: 9, id: 12235, value: Uint8Array.from([1, 2]) }],
    });
    const text = execFileSync(protoc, [`--proto_path=${packagePath('codecs')}`, '--decode=flowpb.FlowMessage', 'flow.proto'], {
      input: new FlowEncoder().encode(r),
    }).toString();
    expect(text).to.include('type: NETFLOW_V9');
    expect(text).to.include('bytes: 1500');
    expect(text).to.include('packets: 3');
    expect(text).to.include('src_addr: "\\n\\000\\000\\001"');
    expect(text).to.include('src_port: 443');
    expect(text).to.include('time_flow_start_ns: 1700000000000001000');
    expect(text).to.include('sampling_rate: 100');
    expect(text).to.include('flow_direction: INGRESS');
    expect(text).to.include('sampling_rate_source: SAMPLING_OPTIONS');
    expect(text).to.include('as_path: 64512');
    expect(text).to.include('as_path: 65000');
    expect(text).to.include('enterprise: 9');
  });
});
