// The reference captures of ../shared/captures: real exporters' quirks. Every file decodes
// without an exception; record counts and key values are pinned; what cannot be decoded is
// counted with a reason. Values were read off `tshark -V` for each file.

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { flowToJson, type JsonObject } from '../src/canonical/flow-json';
import { DatagramDecoder } from '../src/decode/datagram-decoder';
import { emptyOutput, type DecodeOutput } from '../src/decode/types';
import { readCaptureFile } from '../src/pcap/reader';
import { makeExporter } from '../src/util/ip';

const CAPTURES = path.resolve(__dirname, '../../../shared/captures');
const T0 = 1_700_000_000_000_000;

interface Decoded {
  flows: JsonObject[];
  counters: number;
  errors: Record<string, number>;
  outputs: DecodeOutput[];
  decoder: DatagramDecoder;
}

function collect(decoder: DatagramDecoder, outs: DecodeOutput[]): Decoded {
  const errors: Record<string, number> = {};
  for (const o of outs) for (const e of o.errors) errors[e.reason] = (errors[e.reason] ?? 0) + e.count;
  return {
    flows: outs.flatMap((o) => o.flows.map(flowToJson)),
    counters: outs.reduce((n, o) => n + o.counters.length, 0),
    errors,
    outputs: outs,
    decoder,
  };
}

function decodePcap(name: string): Decoded {
  const d = new DatagramDecoder();
  const cap = readCaptureFile(path.join(CAPTURES, name));
  return collect(d, cap.datagrams.map((g) => d.decode(g.payload, makeExporter(g.srcAddr, g.srcPort), g.timestampUs)));
}

/** .dat files are single UDP payloads; feed them in order from one exporter socket. */
function decodeDats(...names: string[]): Decoded {
  const d = new DatagramDecoder();
  const ex = makeExporter(Uint8Array.from([192, 0, 2, 10]), 2055);
  return collect(d, names.map((n, i) => d.decode(readFileSync(path.join(CAPTURES, n)), ex, T0 + i)));
}

function pick(r: JsonObject, keys: string[]): JsonObject {
  return Object.fromEntries(keys.map((k) => [k, r[k]]));
}

const KEY = ['src_addr', 'dst_addr', 'src_port', 'dst_port', 'proto', 'bytes', 'packets'];

describe('reference captures (../shared/captures)', () => {
  it('pmacct IPFIX Cisco: two observation domains, templates 260/263, 12 records', () => {
    const r = decodePcap('pmacct_100-IPFIXv10-CISCO.pcap');
    expect(r.errors).to.deep.equal({});
    expect(r.flows).to.have.length(12);
    expect(new Set(r.flows.map((f) => f.observation_domain_id))).to.deep.equal(new Set([851968, 917504]));
    expect(pick(r.flows[0], [...KEY, 'time_flow_start_ns', 'time_flow_end_ns', 'in_if', 'out_if', 'type'])).to.deep.equal({
      src_addr: '10.231.65.56', dst_addr: '10.192.12.213', src_port: 17000, dst_port: 17000, proto: 17, bytes: 220, packets: 2,
      // tshark: StartTime Feb 28, 2023 09:46:01.088, EndTime 09:46:12.352
      time_flow_start_ns: '1677577561088000000', time_flow_end_ns: '1677577572352000000', in_if: 995, out_if: 841, type: 'IPFIX',
    });
    expect(r.flows.every((f) => f.flow_end_reason === 2)).to.equal(true); // all "active timeout"
  });

  it('pmacct NetFlow v9 Cisco: two source ids defining the same template ids, 35 records', () => {
    const r = decodePcap('pmacct_102-NFv9-CISCO-f2rd-pretag-sampling-reload.pcap');
    expect(r.errors).to.deep.equal({});
    expect(r.flows).to.have.length(35);
    expect(new Set(r.flows.map((f) => f.observation_domain_id))).to.deep.equal(new Set([2081, 2193]));
    expect(r.flows.every((f) => f.sampler_id === 1)).to.equal(true);
    expect(pick(r.flows[0], KEY)).to.deep.equal({
      src_addr: '213.3.216.138', dst_addr: '213.3.216.137', src_port: 44187, dst_port: 179, proto: 6, bytes: 60, packets: 1,
    });
    // The capture itself has gaps in each source id's sequence (tshark flags them too).
    const gaps = r.outputs.reduce((n, o) => n + o.sequenceGap, 0);
    expect(gaps).to.be.greaterThan(0);
  });

  it('tcpdump sFlow expanded flow sample with extended router and gateway data', () => {
    const r = decodePcap('tcpdump_sflow_expanded.pcap');
    expect(r.errors).to.deep.equal({});
    expect(r.flows).to.have.length(1);
    expect(pick(r.flows[0], [...KEY, 'sampler_address', 'sampling_rate', 'type'])).to.deep.equal({
      src_addr: '52.52.52.52', dst_addr: '53.53.53.53', src_port: 22, dst_port: 52237, proto: 6, bytes: 126, packets: 1,
      sampler_address: '49.49.49.49', sampling_rate: 1000, type: 'SFLOW_5',
    });
  });

  it('tcpdump sFlow over IPv6 with an IPv6 agent: 13 flow samples, 48 counter records', () => {
    const r = decodePcap('tcpdump_sflow-print-v6.pcap');
    expect(r.errors).to.deep.equal({});
    expect(r.flows).to.have.length(13);
    expect(r.counters).to.equal(48);
    expect(r.flows.every((f) => f.sampler_address === '30::1:1:1')).to.equal(true);
    expect(pick(r.flows[0], ['src_addr', 'dst_addr', 'proto', 'bytes', 'in_if', 'src_vlan'])).to.deep.equal({
      src_addr: '10.10.10.2', dst_addr: '50.1.1.2', proto: 63, bytes: 64, in_if: 7001, src_vlan: 10,
    });
  });

  it('Cisco ASA NSEL: 13 templates, then 14 firewall-event records with NAT fields', () => {
    const r = decodeDats('logstash_netflow9_test_cisco_asa_1_tpl.dat', 'logstash_netflow9_test_cisco_asa_1_data.dat');
    expect(r.errors).to.deep.equal({});
    expect(r.decoder.state.templates.size).to.equal(13);
    expect(r.flows).to.have.length(14);
    expect(pick(r.flows[0], ['src_addr', 'dst_addr', 'proto', 'firewall_event', 'post_nat_src_addr', 'time_flow_start_ns'])).to.deep.equal({
      src_addr: '192.168.14.1', dst_addr: '2.2.2.11', proto: 1, firewall_event: 2, post_nat_src_addr: '192.168.14.1',
      time_flow_start_ns: '1444384067569000000',
    });
    // NSEL-only fields nobody maps are kept, not dropped.
    expect((r.flows[0].extra_fields as JsonObject[]).map((x) => x.id)).to.include.members([33002, 40000]);
  });

  it('Cisco ASA data without its templates is held, then counted as lost with a reason', () => {
    const d = new DatagramDecoder({ pendingLimits: { maxAgeUs: 1e6 } });
    const ex = makeExporter(Uint8Array.from([192, 0, 2, 10]), 2055);
    const first = d.decode(readFileSync(path.join(CAPTURES, 'logstash_netflow9_test_cisco_asa_1_data.dat')), ex, T0);
    expect(first.flows).to.have.length(0);
    expect(first.errors.map((e) => e.reason)).to.include('template_missing');
    const tail: DecodeOutput = emptyOutput(undefined);
    d.sweep(T0 + 10e6, tail);
    expect(tail.errors.map((e) => e.reason)).to.include('pending_expired');
  });

  it('YAF IPFIX templates: variable-length, enterprise and subTemplateMultiList fields are learned', () => {
    const r = decodeDats('logstash_ipfix_test_yaf_tpls_option_tpl.dat');
    expect(r.errors).to.deep.equal({});
    expect(r.flows).to.have.length(0);
    const snap = r.decoder.state.templates.snapshot();
    expect(snap.length).to.be.greaterThan(5);
    const fields = snap.flatMap((s) => s.fields);
    expect(fields.some((f) => f.length === 65535)).to.equal(true);
    expect(fields.some((f) => f.enterprise === 6871)).to.equal(true);
    expect(snap.some((s) => s.kind === 'options')).to.equal(true);
  });

  it('NetFlow v9 template with type-0 zero-length fields decodes its 10 records', () => {
    const r = decodeDats('logstash_netflow9_test_0length_fields_tpl_data.dat');
    expect(r.errors).to.deep.equal({});
    expect(r.flows).to.have.length(10);
    expect(pick(r.flows[0], ['src_addr', 'dst_addr', 'proto'])).to.deep.equal({ src_addr: '239.255.255.250', dst_addr: '192.168.1.80', proto: 2 });
  });

  it('Palo Alto PAN-OS: 8 templates, one data flowset then a zero-filled tail', () => {
    const r = decodeDats('logstash_netflow9_test_paloalto_81_tpl256-263.dat', 'logstash_netflow9_test_paloalto_81_data257_1flowset_in_large_zerofilled_packet.dat');
    expect(r.errors).to.deep.equal({});
    expect(r.decoder.state.templates.size).to.equal(8);
    expect(r.flows).to.have.length(1);
    expect(pick(r.flows[0], KEY)).to.deep.equal({
      src_addr: '134.220.2.6', dst_addr: '134.220.1.156', src_port: 88, dst_port: 50234, proto: 6, bytes: 363, packets: 3,
    });
    // Vendor ids 346/56701/56702 are carried as extra fields (user id, app id as text).
    const extras = r.flows[0].extra_fields as JsonObject[];
    expect(extras.map((x) => x.id)).to.include.members([346, 56701, 56702]);
  });

  it('every capture, truncated at every tenth byte, decodes without an internal error', () => {
    const files = ['logstash_netflow9_test_cisco_asa_1_tpl.dat', 'logstash_ipfix_test_yaf_tpls_option_tpl.dat', 'logstash_netflow9_test_paloalto_81_tpl256-263.dat'];
    for (const f of files) {
      const whole = readFileSync(path.join(CAPTURES, f));
      const header = whole.readUInt16BE(0) === 9 ? 20 : 16;
      const firstSetEnd = header + whole.readUInt16BE(header + 2);
      for (let cut = 0; cut < whole.length; cut += 10) {
        const d = new DatagramDecoder();
        const out = d.decode(whole.subarray(0, cut), makeExporter(Uint8Array.from([192, 0, 2, 1]), 1), T0);
        expect(out.errors.map((e) => e.reason)).to.not.include('internal_error');
        // A cut inside the header or the first set must be reported, not silently ignored.
        if (cut < header || (cut > header && cut < firstSetEnd)) expect(out.errors.length, `${f} cut at ${cut}`).to.be.greaterThan(0);
      }
    }
  });
});
