// Acceptance: for every fixture capture, every flow record tshark dissects is produced by
// `flowgate decode` with equal addresses, ports, protocol, bytes, packets, start/end (ms),
// TCP flags, ToS, interfaces and sampling rate — and no extra records. tshark is an
// independent implementation (Wireshark's cflow/sflow dissectors); test/support/tshark.ts
// documents every normalisation applied to its output, and the same ones are applied here.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect } from 'chai';
import { tsharkFlows, type OracleFlow, type OracleProtocol } from './support/tshark';
import { requireTool } from './support/tools';

const ROOT = path.resolve(__dirname, '../..');
const SHARED = path.resolve(ROOT, '../shared/captures');
const CLI = path.join(ROOT, 'dist/src/cli.js');

interface Capture {
  file: string;
  protocol: OracleProtocol;
  udp_port: number;
}

const manifest = JSON.parse(readFileSync(path.join(ROOT, 'fixtures/manifest.json'), 'utf8')) as Capture[];
const CAPTURES: Capture[] = [
  ...manifest.map((m) => ({ ...m, file: path.join(ROOT, 'fixtures', m.file) })),
  { file: path.join(SHARED, 'pmacct_100-IPFIXv10-CISCO.pcap'), protocol: 'ipfix', udp_port: 9991 },
  { file: path.join(SHARED, 'pmacct_102-NFv9-CISCO-f2rd-pretag-sampling-reload.pcap'), protocol: 'netflow9', udp_port: 9991 },
  { file: path.join(SHARED, 'tcpdump_sflow_expanded.pcap'), protocol: 'sflow', udp_port: 6343 },
  { file: path.join(SHARED, 'tcpdump_sflow-print-v6.pcap'), protocol: 'sflow', udp_port: 6343 },
];

type Json = Record<string, unknown>;

function decodeWithCli(file: string): Json[] {
  const out = execFileSync(process.execPath, [CLI, 'decode', file, '--counters', 'none', '--summary', 'none'], { maxBuffer: 256 << 20 });
  return out.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Json);
}

function nsToMs(ns: unknown): number {
  return Number(BigInt(String(ns)) / 1_000_000n);
}

/** Our record in the oracle's normalised shape (see the header of support/tshark.ts). */
function normalise(r: Json, protocol: OracleProtocol): Omit<OracleFlow, 'frame'> {
  const proto = r.proto as number;
  const srcPort = r.src_port as number;
  let dstPort = r.dst_port as number;
  if ((proto === 1 || proto === 58) && srcPort === 0 && dstPort === 0) dstPort = (r.icmp_type as number) * 256 + (r.icmp_code as number);
  const sflow = protocol === 'sflow';
  return {
    src_addr: r.src_addr as string,
    dst_addr: r.dst_addr as string,
    src_port: srcPort,
    dst_port: dstPort,
    proto,
    bytes: r.bytes as number,
    packets: r.packets as number,
    start_ms: sflow || r.time_flow_start_ns === '0' ? null : nsToMs(r.time_flow_start_ns),
    end_ms: sflow || r.time_flow_end_ns === '0' ? null : nsToMs(r.time_flow_end_ns),
    tcp_flags: r.tcp_flags as number,
    tos: r.ip_tos as number,
    in_if: r.in_if as number,
    out_if: r.out_if as number,
    sampling_rate: r.sampling_rate as number,
  };
}

/** The oracle's nulls mean "the record does not carry it": ours is the proto3 default 0. */
function oracleShape(f: OracleFlow): Omit<OracleFlow, 'frame'> {
  const { frame: _frame, ...rest } = f;
  void _frame;
  return {
    ...rest,
    tcp_flags: rest.tcp_flags ?? 0,
    tos: rest.tos ?? 0,
    in_if: rest.in_if ?? 0,
    out_if: rest.out_if ?? 0,
    sampling_rate: rest.sampling_rate ?? 0,
  };
}

function keyOf(f: Omit<OracleFlow, 'frame'>): string {
  return JSON.stringify([f.src_addr, f.dst_addr, f.src_port, f.dst_port, f.proto, f.bytes, f.packets, f.start_ms, f.end_ms, f.tcp_flags, f.tos, f.in_if, f.out_if, f.sampling_rate]);
}

describe('flowgate decode agrees with tshark on every fixture capture', () => {
  before(() => {
    requireTool('tshark', 'tshark');
  });

  for (const c of CAPTURES) {
    it(`${path.basename(c.file)} (${c.protocol})`, () => {
      const oracle = tsharkFlows(c.file, c.protocol, c.udp_port);
      expect(oracle.length, 'tshark dissects flows in the capture').to.be.greaterThan(0);
      const ours = decodeWithCli(c.file);
      const want = oracle.map((f) => keyOf(oracleShape(f))).sort();
      const got = ours.map((r) => keyOf(normalise(r, c.protocol))).sort();
      const missing = want.filter((k) => !got.includes(k));
      const extra = got.filter((k) => !want.includes(k));
      expect({ missing: missing.slice(0, 5), extra: extra.slice(0, 5), counts: [got.length, want.length] }).to.deep.equal({
        missing: [], extra: [], counts: [want.length, want.length],
      });
    });
  }
});
