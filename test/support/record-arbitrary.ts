// Random canonical records for property tests of the encoders and decoders: every field of
// codecs/flow.proto over its whole range, plus the edge cases (empty addresses, zero times,
// small and 32-bit values, extra fields on both sides of the decoder's copy/view boundary).

import * as fc from 'fast-check';
import { newFlowRecord, type FlowRecord } from '../../src/canonical/flow-record';

const addr = fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 }));
const maybeAddr = fc.oneof(fc.constant(new Uint8Array(0)), addr);
export const u32 = fc.oneof(fc.nat({ max: 300 }), fc.nat({ max: 0xffffffff }));
const u16 = fc.nat({ max: 0xffff });
const u8 = fc.nat({ max: 0xff });
const counter = fc.oneof(fc.nat({ max: 0xffffffff }), fc.nat({ max: Number.MAX_SAFE_INTEGER }));
const micros = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 53 - 1 }), fc.integer({ min: 1.5e15, max: 1.9e15 }));

export const recordArb: fc.Arbitrary<FlowRecord> = fc
  .record({
    type: fc.integer({ min: 0, max: 4 }), time_received_us: micros, time_flow_start_us: micros, time_flow_end_us: micros,
    sequence_num: u32, sampling_rate: counter, sampler_address: maybeAddr, bytes: counter, packets: counter,
    src_addr: maybeAddr, dst_addr: maybeAddr, etype: u16, proto: u8, src_port: u16, dst_port: u16, in_if: u32, out_if: u32,
    src_mac: fc.nat({ max: 2 ** 48 - 1 }), dst_mac: fc.nat({ max: 2 ** 48 - 1 }), src_vlan: u16, dst_vlan: u16, vlan_id: u16,
    ip_tos: u8, forwarding_status: u8, ip_ttl: u8, ip_flags: u8, tcp_flags: u16, icmp_type: u8, icmp_code: u8,
    ipv6_flow_label: fc.nat({ max: 0xfffff }), fragment_id: u32, fragment_offset: u16, src_as: u32, dst_as: u32,
    next_hop: maybeAddr, next_hop_as: u32, src_net: u8, dst_net: u8, bgp_next_hop: maybeAddr,
    bgp_communities: fc.array(u32, { maxLength: 4 }), as_path: fc.array(u32, { maxLength: 6 }),
    mpls_ttl: fc.array(u8, { maxLength: 3 }), mpls_label: fc.array(fc.nat({ max: 0xfffff }), { maxLength: 3 }),
    mpls_ip: fc.array(addr, { maxLength: 2 }), observation_domain_id: u32, observation_point_id: u32,
    layer_stack: fc.array(fc.integer({ min: 0, max: 11 }), { maxLength: 6 }), layer_size: fc.array(u16, { maxLength: 6 }),
    ipv6_routing_header_addresses: fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { maxLength: 2 }),
    ipv6_routing_header_seg_left: u8, flow_direction: fc.integer({ min: 0, max: 2 }),
    sampling_rate_source: fc.integer({ min: 0, max: 4 }), exporter_port: u16, exporter_address: maybeAddr,
    sampler_id: u32, flow_end_reason: u8, post_nat_src_addr: maybeAddr, post_nat_dst_addr: maybeAddr,
    post_nat_src_port: u16, post_nat_dst_port: u16, firewall_event: u8, sflow_sub_agent_id: u32, sflow_source_id: u32,
    // Values up to 40 bytes: both sides of the 16-byte copy/view boundary of the decoder.
    extra_fields: fc.array(fc.record({ enterprise: u32, id: fc.nat({ max: 0x7fff }), value: fc.uint8Array({ maxLength: 40 }) }), { maxLength: 3 }),
  })
  .map((o) => Object.assign(newFlowRecord(), o) as FlowRecord);

