/**
 * The tshark oracle (test/support/tshark.ts) on every fixture in fixtures/manifest.json
 * and on the shared reference captures.
 *
 * The expected numbers below were checked by hand against `tshark -V` output
 * (tshark 4.0.17): flow records = "pdu N/M" / "Flow N" subtrees that carry a SrcAddr,
 * sFlow flows = flow samples whose raw header dissects as IPv4/IPv6. For the fixtures
 * made from fixtures/traffic.pcap, packet and byte totals were also checked against the
 * traffic itself: 2212 IPv4 packets / 495993 IPv4 bytes (sum of ip.len), 844 IPv6
 * packets / 246470 bytes (ipv6.plen + 40); softflowd exports every packet once.
 *
 * If `npm run fixtures` regenerates the captures and a count changes, update the table
 * (and the decoder's fixtures/*.expected.jsonl) deliberately.
 *
 * Known tshark quirks that the oracle works around or documents (details in
 * test/support/tshark.ts):
 *  - a FIRST_SWITCHED/LAST_SWITCHED of exactly 0 ms (softflowd: flows that start at its
 *    "boot" = first packet) is printed as ABSOLUTE 1970-01-01 instead of relative 0;
 *  - IPFIX sysUpTime-relative times (softflowd) are shown relative: tshark does not
 *    apply systemInitTimeMilliseconds; the oracle does;
 *  - NetFlow v9: tshark stops at a flowset boundary once templates + records reach the
 *    header `count`; softflowd 1.1.0 counts only data records. An export whose first
 *    datagram holds few data records (softflowd -v 9 fed IPv6-only traffic: count=2)
 *    loses its IPv6 templates in tshark and NO record is dissected. That is why the
 *    *-ipv6 fixtures carry mixed IPv4+IPv6 traffic; the datagram check below asserts
 *    that tshark dissected every byte of every fixture;
 *  - templates do not carry over between captures: data flowsets whose template came
 *    earlier (outside the capture) are "no template found" (none in these captures);
 *  - sFlow raw headers are dissected with their XDR padding as an Ethernet trailer.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { OracleFlow, OracleProtocol, OracleResult, tsharkDecode } from './support/tshark';
import { requireTool } from './support/tools';

// Compiled to dist/test/tshark-oracle.test.js: the repository root is two levels up,
// and shared/ sits next to the repository checkout.
const repoRoot = path.resolve(__dirname, '../..');
const fixturesDir = path.join(repoRoot, 'fixtures');
const sharedCaptures = path.resolve(repoRoot, '../shared/captures');

/** fixtures/traffic.pcap: first packet 2024-06-01T00:00:00.001Z, last 00:02:27.969Z. */
const TRAFFIC_START_MS = Date.UTC(2024, 5, 1, 0, 0, 0);
const TRAFFIC_END_MS = TRAFFIC_START_MS + 148_000;
const TRAFFIC_V4 = { packets: 2212, bytes: 495993 };
const TRAFFIC_ALL = { packets: 2212 + 844, bytes: 495993 + 246470 };

interface Expected {
  datagrams: number;
  flows: number;
  ipv6Flows: number;
  packets: number; // sum over flows
  bytes: number; // sum over flows
}

/** Hand-checked against `tshark -V` (see the file header). */
const FIXTURES: Record<string, Expected> = {
  'softflowd-v5.pcap': { datagrams: 31, flows: 436, ipv6Flows: 0, ...TRAFFIC_V4 },
  'softflowd-v9.pcap': { datagrams: 23, flows: 436, ipv6Flows: 0, ...TRAFFIC_V4 },
  'softflowd-v9-ipv6.pcap': { datagrams: 36, flows: 576, ipv6Flows: 140, ...TRAFFIC_ALL },
  'softflowd-ipfix.pcap': { datagrams: 23, flows: 436, ipv6Flows: 0, ...TRAFFIC_V4 },
  'softflowd-ipfix-ipv6.pcap': { datagrams: 36, flows: 576, ipv6Flows: 140, ...TRAFFIC_ALL },
  // pmacctd samples 1 in 4 (random, seed pinned): 767 of the 3056 packets.
  'pmacct-v9-sampled.pcap': { datagrams: 51, flows: 327, ipv6Flows: 84, packets: 767, bytes: 190712 },
  'pmacct-ipfix-sampled.pcap': { datagrams: 50, flows: 327, ipv6Flows: 84, packets: 767, bytes: 190712 },
  // sfprobe samples 1 in 10: 310 flow samples; bytes = frame_length (wire length + 4 FCS).
  'pmacct-sflow.pcap': { datagrams: 44, flows: 310, ipv6Flows: 79, packets: 310, bytes: 80833 },
};

interface ManifestEntry {
  file: string;
  protocol: OracleProtocol;
  udp_port: number;
  exporter: string;
  notes: string;
}

function isProtocol(v: unknown): v is OracleProtocol {
  return v === 'netflow5' || v === 'netflow9' || v === 'ipfix' || v === 'sflow';
}

function readManifest(): ManifestEntry[] {
  const raw: unknown = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'manifest.json'), 'utf8'));
  if (!Array.isArray(raw)) throw new Error('fixtures/manifest.json: expected an array');
  return raw.map((e: unknown, i: number): ManifestEntry => {
    if (typeof e !== 'object' || e === null) throw new Error(`manifest[${i}]: not an object`);
    const o = e as Record<string, unknown>;
    const { file, protocol, udp_port: port, exporter, notes } = o;
    if (typeof file !== 'string' || !isProtocol(protocol) || typeof port !== 'number') {
      throw new Error(`manifest[${i}]: bad file/protocol/udp_port`);
    }
    if (typeof exporter !== 'string' || typeof notes !== 'string') {
      throw new Error(`manifest[${i}]: bad exporter/notes`);
    }
    return { file, protocol, udp_port: port, exporter, notes };
  });
}

function sum(flows: OracleFlow[], key: 'packets' | 'bytes'): number {
  return flows.reduce((acc, f) => acc + f[key], 0);
}

const isU = (v: number, max: number): boolean => Number.isInteger(v) && v >= 0 && v <= max;

/** Invariants every oracle flow must satisfy. */
function expectSane(f: OracleFlow, protocol: OracleProtocol, where: string): void {
  const ctx = `${where} frame ${f.frame} ${f.src_addr}:${f.src_port} > ${f.dst_addr}:${f.dst_port}/${f.proto}`;
  expect(Number.isInteger(f.frame) && f.frame >= 1, `${ctx}: frame`).to.equal(true);
  expect(net.isIP(f.src_addr), `${ctx}: src_addr`).to.not.equal(0);
  expect(net.isIP(f.dst_addr), `${ctx}: dst_addr`).to.not.equal(0);
  expect(isU(f.src_port, 65535) && isU(f.dst_port, 65535), `${ctx}: ports`).to.equal(true);
  expect(isU(f.proto, 255), `${ctx}: proto`).to.equal(true);
  expect(f.packets >= 1 && Number.isInteger(f.packets), `${ctx}: packets`).to.equal(true);
  expect(f.bytes >= 20 * f.packets, `${ctx}: bytes ${f.bytes} for ${f.packets} packets`).to.equal(true);
  expect(f.tcp_flags === null || isU(f.tcp_flags, 255), `${ctx}: tcp_flags`).to.equal(true);
  expect(f.tos === null || isU(f.tos, 255), `${ctx}: tos`).to.equal(true);
  expect(f.in_if === null || isU(f.in_if, 0xffffffff), `${ctx}: in_if`).to.equal(true);
  expect(f.out_if === null || isU(f.out_if, 0xffffffff), `${ctx}: out_if`).to.equal(true);
  if (protocol === 'sflow') {
    expect(f.start_ms, `${ctx}: sFlow has no start`).to.equal(null);
    expect(f.end_ms, `${ctx}: sFlow has no end`).to.equal(null);
    expect(f.packets, `${ctx}: one packet per sample`).to.equal(1);
    expect(f.sampling_rate !== null && f.sampling_rate >= 1, `${ctx}: sampling_rate`).to.equal(true);
  } else {
    expect(f.start_ms, `${ctx}: start_ms`).to.be.a('number');
    expect(f.end_ms, `${ctx}: end_ms`).to.be.a('number');
    expect((f.end_ms ?? 0) >= (f.start_ms ?? 0), `${ctx}: end before start`).to.equal(true);
  }
}

describe('tshark oracle', function () {
  before(function () {
    requireTool('tshark', 'tshark');
  });

  describe('tools.requireTool', function () {
    it('returns an absolute path for an installed tool', function () {
      expect(path.isAbsolute(requireTool('tshark', 'tshark'))).to.equal(true);
    });
    it('throws an install hint for a missing tool (never skips)', function () {
      expect(() => requireTool('flowgate-no-such-tool', 'no-such-pkg')).to.throw(
        'flowgate-no-such-tool not found: install it with `apt-get install no-such-pkg` (or run scripts/install-test-deps.sh)',
      );
    });
  });

  describe('fixtures/manifest.json', function () {
    const manifest = readManifest();
    const decoded = new Map<string, OracleResult>();
    const decode = (e: ManifestEntry): OracleResult => {
      let r = decoded.get(e.file);
      if (r === undefined) {
        r = tsharkDecode(path.join(fixturesDir, e.file), e.protocol, e.udp_port);
        decoded.set(e.file, r);
      }
      return r;
    };

    it('lists exactly the fixtures this test knows', function () {
      expect(manifest.map((e) => e.file).sort()).to.deep.equal(Object.keys(FIXTURES).sort());
      for (const e of manifest) {
        expect(fs.existsSync(path.join(fixturesDir, e.file)), e.file).to.equal(true);
        expect(e.exporter, e.file).to.match(/^(softflowd 1\.\d+\.\d+|pmacctd 1\.7\.\d+\S*)$/);
      }
    });

    for (const entry of manifest) {
      describe(entry.file, function () {
        const exp = FIXTURES[entry.file];

        it('has the hand-checked datagram and record counts', function () {
          const r = decode(entry);
          expect(exp, `no expected counts for ${entry.file}`).to.not.equal(undefined);
          expect(r.datagrams.length, 'datagrams').to.equal(exp.datagrams);
          expect(r.flows.length, 'flow records').to.equal(exp.flows);
          expect(r.flows.filter((f) => net.isIPv6(f.src_addr)).length, 'IPv6 flows').to.equal(exp.ipv6Flows);
          expect(sum(r.flows, 'packets'), 'packets').to.equal(exp.packets);
          expect(sum(r.flows, 'bytes'), 'bytes').to.equal(exp.bytes);
        });

        it('tshark dissected every datagram completely', function () {
          for (const d of decode(entry).datagrams) {
            expect(d.stopped_early, `frame ${d.frame} stopped early`).to.equal(false);
            expect(d.missing_template_flowsets, `frame ${d.frame} template missing`).to.equal(0);
            expect(d.flows, `frame ${d.frame} has no flows`).to.be.greaterThan(0);
          }
        });

        it('yields sane flows inside the traffic capture window', function () {
          const { flows } = decode(entry);
          for (const f of flows) {
            expectSane(f, entry.protocol, entry.file);
            if (f.start_ms !== null && f.end_ms !== null) {
              // v9 headers have whole seconds only: derived times may be up to 999 ms early.
              const slack = entry.protocol === 'netflow9' && entry.file.startsWith('softflowd') ? 1000 : 0;
              expect(f.start_ms, `${entry.file} frame ${f.frame} start`).to.be.within(
                TRAFFIC_START_MS - slack,
                TRAFFIC_END_MS,
              );
              expect(f.end_ms, `${entry.file} frame ${f.frame} end`).to.be.within(TRAFFIC_START_MS - slack, TRAFFIC_END_MS);
            }
          }
        });
      });
    }

    it('softflowd: earliest IPv4 flow starts at the first IPv4 packet (00:00:00.769)', function () {
      const first = TRAFFIC_START_MS + 769;
      const v5 = decode(manifest.find((e) => e.file === 'softflowd-v5.pcap') as ManifestEntry).flows;
      const ipfix = decode(manifest.find((e) => e.file === 'softflowd-ipfix.pcap') as ManifestEntry).flows;
      const v9 = decode(manifest.find((e) => e.file === 'softflowd-v9.pcap') as ManifestEntry).flows;
      const min = (fl: OracleFlow[]): number => Math.min(...fl.map((f) => f.start_ms ?? Infinity));
      expect(min(v5)).to.equal(first); // exact: unix_secs/nsecs - sysUptime + first
      expect(min(ipfix)).to.equal(first); // exact: systemInitTimeMilliseconds + first
      expect(min(v9)).to.be.within(first - 1000, first); // v9: no nsecs in the header
    });

    it('softflowd: long flows are split by the 60 s active timeout', function () {
      for (const file of ['softflowd-v5.pcap', 'softflowd-v9-ipv6.pcap', 'softflowd-ipfix-ipv6.pcap']) {
        const flows = decode(manifest.find((e) => e.file === file) as ManifestEntry).flows;
        const bulk = flows.filter((f) => f.src_addr === '10.9.0.1' && f.dst_port === 3306);
        expect(bulk.length, `${file}: records of the 145 s TCP flow`).to.equal(3);
        for (const f of bulk) expect((f.end_ms ?? 0) - (f.start_ms ?? 0)).to.be.below(70_000);
      }
    });

    it('ICMP type/code lands in dst_port (type*256+code) for v5, v9 and IPFIX alike', function () {
      for (const file of ['softflowd-v5.pcap', 'softflowd-v9-ipv6.pcap', 'softflowd-ipfix-ipv6.pcap']) {
        const flows = decode(manifest.find((e) => e.file === file) as ManifestEntry).flows;
        const icmp = flows.filter((f) => f.proto === 1 || f.proto === 58);
        expect(icmp.length, file).to.be.greaterThan(0);
        for (const f of icmp) {
          expect(f.src_port, file).to.equal(0);
          expect([0x0000, 0x0800, 0x8000, 0x8100], file).to.include(f.dst_port);
        }
      }
    });

    it('pmacct sFlow: every sample says 1 in 10', function () {
      const flows = decode(manifest.find((e) => e.file === 'pmacct-sflow.pcap') as ManifestEntry).flows;
      for (const f of flows) expect(f.sampling_rate).to.equal(10);
    });
  });

  describe('shared reference captures', function () {
    const cap = (name: string): string => path.join(sharedCaptures, name);

    it('finds shared/ next to the repository', function () {
      expect(fs.existsSync(cap('pmacct_100-IPFIXv10-CISCO.pcap')), sharedCaptures).to.equal(true);
    });

    it('pmacct_100-IPFIXv10-CISCO.pcap: 12 flows (8 IPv4, 4 IPv6) in 4 data datagrams', function () {
      const r = tsharkDecode(cap('pmacct_100-IPFIXv10-CISCO.pcap'), 'ipfix', 9991);
      expect(r.datagrams.length).to.equal(6); // 2 template-only + 4 data datagrams
      expect(r.flows.length).to.equal(12);
      expect(r.flows.filter((f) => net.isIPv6(f.src_addr)).length).to.equal(4);
      expect(new Set(r.datagrams.map((d) => d.domain))).to.deep.equal(new Set([851968, 917504]));
      expect(sum(r.flows, 'packets')).to.equal(34);
      expect(sum(r.flows, 'bytes')).to.equal(34172);
      for (const f of r.flows) {
        expectSane(f, 'ipfix', 'pmacct_100');
        // absolute flowStart/EndMilliseconds, Feb 28 2023
        expect(f.start_ms).to.be.within(Date.UTC(2023, 1, 28, 9, 40), Date.UTC(2023, 1, 28, 9, 50));
      }
      for (const d of r.datagrams) expect(d.stopped_early).to.equal(false);
    });

    it('pmacct_102-NFv9-CISCO-f2rd-pretag-sampling-reload.pcap: 35 flows, two source IDs', function () {
      const r = tsharkDecode(cap('pmacct_102-NFv9-CISCO-f2rd-pretag-sampling-reload.pcap'), 'netflow9', 9991);
      expect(r.datagrams.length).to.equal(25);
      expect(r.flows.length).to.equal(35);
      expect(sum(r.flows, 'packets')).to.equal(107);
      expect(sum(r.flows, 'bytes')).to.equal(7594);
      expect(new Set(r.datagrams.map((d) => d.domain))).to.deep.equal(new Set([2081, 2193]));
      // Template 313 carries IPV6_SRC_ADDR = :: next to the real IPv4 address: the oracle
      // reports the IPv4 one (7 such records).
      expect(r.flows.some((f) => f.src_addr === '::' || f.dst_addr === '::')).to.equal(false);
      expect(r.flows.filter((f) => net.isIPv6(f.src_addr)).length).to.equal(0);
      for (const f of r.flows) {
        expectSane(f, 'netflow9', 'pmacct_102');
        // Records carry FLOW_SAMPLER_ID only, not the interval: no record-level rate.
        expect(f.sampling_rate).to.equal(null);
        expect(f.start_ms).to.be.within(Date.UTC(2023, 1, 28, 9, 40), Date.UTC(2023, 1, 28, 9, 50));
      }
      for (const d of r.datagrams) {
        expect(d.stopped_early, `frame ${d.frame}`).to.equal(false);
        expect(d.missing_template_flowsets, `frame ${d.frame}`).to.equal(0);
      }
    });

    it('tcpdump_sflow_expanded.pcap: one expanded flow sample', function () {
      const flows = tsharkDecode(cap('tcpdump_sflow_expanded.pcap'), 'sflow', 6343).flows;
      expect(flows).to.deep.equal([
        {
          frame: 1,
          src_addr: '52.52.52.52',
          dst_addr: '53.53.53.53',
          src_port: 22,
          dst_port: 52237,
          proto: 6,
          bytes: 126,
          packets: 1,
          start_ms: null,
          end_ms: null,
          tcp_flags: 0x18,
          tos: 0x08,
          in_if: 29001,
          out_if: 1285816721,
          sampling_rate: 1000,
        },
      ]);
    });

    it('tcpdump_sflow-print-v6.pcap: 13 flow samples (48 counter samples are not flows)', function () {
      const r = tsharkDecode(cap('tcpdump_sflow-print-v6.pcap'), 'sflow', 6343);
      expect(r.datagrams.length).to.equal(25);
      expect(r.datagrams.reduce((a, d) => a + (d.header_count ?? 0), 0)).to.equal(61); // 13 flow + 48 counter
      expect(r.flows.length).to.equal(13);
      for (const f of r.flows) {
        expectSane(f, 'sflow', 'sflow-print-v6');
        // inner packet: IPv4 10.10.10.2 -> 50.1.1.2, protocol 63, no ports; agent is IPv6
        expect([f.src_addr, f.dst_addr, f.proto, f.src_port, f.dst_port]).to.deep.equal([
          '10.10.10.2',
          '50.1.1.2',
          63,
          0,
          0,
        ]);
        expect(f.sampling_rate).to.equal(1);
      }
    });
  });
});
