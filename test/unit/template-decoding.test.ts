// NetFlow v9 / IPFIX template behaviour on hand-built messages (RFC 3954, RFC 7011): scoping,
// held data, withdrawal, variable-length and enterprise fields, sampling from options, times.

import { expect } from 'chai';
import { DatagramDecoder } from '../../src/decode/datagram-decoder';
import { makeExporter } from '../../src/util/ip';
import { ipToText } from '../../src/util/ip';
import { SamplingRateSource } from '../../src/canonical/flow-record';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadIeRegistry } from '../../src/decode/information-elements';
import { packagePath } from '../../src/util/paths';

const EXPORTER = makeExporter(Uint8Array.from([192, 0, 2, 1]), 2055);
const OTHER_PORT = makeExporter(Uint8Array.from([192, 0, 2, 1]), 2056);
const T0 = 1_700_000_000_000_000; // µs

/** Big-endian bytes from [value, width] pairs. */
function be(...parts: Array<[number, number]>): Buffer {
  const b = Buffer.alloc(parts.reduce((n, [, w]) => n + w, 0));
  let p = 0;
  for (const [v, w] of parts) {
    if (w > 6) b.writeBigUInt64BE(BigInt(v), p + w - 8);
    else b.writeUIntBE(v, p, w);
    p += w;
  }
  return b;
}

function set(id: number, body: Buffer): Buffer {
  return Buffer.concat([be([id, 2], [body.length + 4, 2]), body]);
}

function v9(seq: number, sourceId: number, uptimeMs: number, unixSecs: number, ...sets: Buffer[]): Buffer {
  return Buffer.concat([be([9, 2], [sets.length, 2], [uptimeMs, 4], [unixSecs, 4], [seq, 4], [sourceId, 4]), ...sets]);
}

function ipfix(seq: number, domain: number, exportSecs: number, ...sets: Buffer[]): Buffer {
  const body = Buffer.concat(sets);
  return Buffer.concat([be([10, 2], [16 + body.length, 2], [exportSecs, 4], [seq, 4], [domain, 4]), body]);
}

// v9 template 256: src addr, dst addr, bytes(4), packets(4), first, last, sport, dport, proto
const V9_TEMPLATE = set(0, be([256, 2], [9, 2], [8, 2], [4, 2], [12, 2], [4, 2], [1, 2], [4, 2], [2, 2], [4, 2], [22, 2], [4, 2], [21, 2], [4, 2], [7, 2], [2, 2], [11, 2], [2, 2], [4, 2], [1, 2]));
function v9Record(src: number, bytes: number, first: number, last: number): Buffer {
  return be([src, 4], [0xc0000201, 4], [bytes, 4], [3, 4], [first, 4], [last, 4], [1234, 2], [80, 2], [6, 1]);
}

describe('NetFlow v9 templates', () => {
  it('decodes data with its template and places sysUptime times on the export clock', () => {
    const d = new DatagramDecoder();
    const msg = v9(1, 7, 100_000, 1_700_000_000, V9_TEMPLATE, set(256, Buffer.concat([v9Record(0x0a000001, 1500, 90_000, 99_500), be([0, 3])])));
    const out = d.decode(msg, EXPORTER, T0);
    expect(out.errors).to.deep.equal([]);
    expect(out.flows).to.have.length(1);
    const r = out.flows[0];
    expect(ipToText(r.src_addr)).to.equal('10.0.0.1');
    expect(r.bytes).to.equal(1500);
    expect(r.packets).to.equal(3);
    expect(r.time_flow_start_us).to.equal((1_700_000_000_000 - 10_000) * 1000);
    expect(r.time_flow_end_us).to.equal((1_700_000_000_000 - 500) * 1000);
    expect(r.observation_domain_id).to.equal(7);
    expect(r.etype).to.equal(0x800);
  });

  it('handles the sysUptime wrap at 2^32 ms', () => {
    const d = new DatagramDecoder();
    // Export at uptime 1000 (just wrapped); flow started 3000 ms earlier (before the wrap).
    const first = 0x100000000 - 2000;
    const out = d.decode(v9(1, 1, 1000, 1_700_000_000, V9_TEMPLATE, set(256, v9Record(1, 1, first, 500))), EXPORTER, T0);
    expect(out.flows[0].time_flow_start_us).to.equal((1_700_000_000_000 - 3000) * 1000);
    expect(out.flows[0].time_flow_end_us).to.equal((1_700_000_000_000 - 500) * 1000);
  });

  it('holds data that arrives before its template and decodes it when the template comes', () => {
    const d = new DatagramDecoder();
    const early = d.decode(v9(1, 1, 100_000, 1_700_000_000, set(256, v9Record(0x0a000002, 77, 99_000, 99_000))), EXPORTER, T0);
    expect(early.flows).to.have.length(0);
    expect(early.errors.map((e) => e.reason)).to.deep.equal(['template_missing']);
    expect(d.state.pending.count).to.equal(1);
    const late = d.decode(v9(2, 1, 101_000, 1_700_000_001, V9_TEMPLATE), EXPORTER, T0 + 1e6);
    expect(late.flows).to.have.length(1);
    expect(late.flows[0].bytes).to.equal(77);
    // Times come from the datagram that carried the data, not the one with the template.
    expect(late.flows[0].time_flow_start_us).to.equal((1_700_000_000_000 - 1000) * 1000);
    expect(late.flows[0].time_received_us).to.equal(T0);
    expect(d.state.pending.count).to.equal(0);
  });

  it('counts held data as lost when no template comes within the hold time', () => {
    const d = new DatagramDecoder({ pendingLimits: { maxAgeUs: 5e6 } });
    d.decode(v9(1, 1, 100_000, 1_700_000_000, set(256, v9Record(1, 1, 1, 1))), EXPORTER, T0);
    const later = d.decode(v9(2, 1, 110_000, 1_700_000_010, set(300, be([0, 4]))), EXPORTER, T0 + 10e6);
    expect(later.errors.map((e) => e.reason)).to.include('pending_expired');
    expect(d.state.pending.count).to.equal(1); // only the new set for template 300 waits
  });

  it('scopes templates by exporter port and source id', () => {
    const d = new DatagramDecoder();
    d.decode(v9(1, 1, 100_000, 1_700_000_000, V9_TEMPLATE), EXPORTER, T0);
    const otherSource = d.decode(v9(1, 2, 100_000, 1_700_000_000, set(256, v9Record(1, 1, 1, 1))), EXPORTER, T0);
    expect(otherSource.flows).to.have.length(0);
    const otherPort = d.decode(v9(1, 1, 100_000, 1_700_000_000, set(256, v9Record(1, 1, 1, 1))), OTHER_PORT, T0);
    expect(otherPort.flows).to.have.length(0);
    const same = d.decode(v9(2, 1, 100_000, 1_700_000_000, set(256, v9Record(1, 1, 1, 1))), EXPORTER, T0);
    expect(same.flows).to.have.length(1);
  });

  it('uses a redefined template for the records after the change', () => {
    const d = new DatagramDecoder();
    d.decode(v9(1, 1, 100_000, 1_700_000_000, V9_TEMPLATE), EXPORTER, T0);
    // Same id 256, now only: bytes(8), proto(1)
    const redefined = set(0, be([256, 2], [2, 2], [1, 2], [8, 2], [4, 2], [1, 2]));
    const out = d.decode(v9(2, 1, 100_000, 1_700_000_000, redefined, set(256, Buffer.concat([be([2 ** 40, 8], [17, 1]), be([0, 3])]))), EXPORTER, T0);
    expect(out.flows).to.have.length(1);
    expect(out.flows[0].bytes).to.equal(2 ** 40);
    expect(out.flows[0].proto).to.equal(17);
    expect(out.flows[0].src_addr.length).to.equal(0);
  });

  it('takes the sampling rate from options data, by sampler id', () => {
    const d = new DatagramDecoder();
    // Options template 257: scope System(1) len 4; options FLOW_SAMPLER_ID(48) len 1, MODE(49) len 1, RANDOM_INTERVAL(50) len 4
    const optTpl = set(1, Buffer.concat([be([257, 2], [4, 2], [12, 2], [1, 2], [4, 2], [48, 2], [1, 2], [49, 2], [1, 2], [50, 2], [4, 2]), be([0, 2])]));
    const optData = set(257, Buffer.concat([be([0, 4], [3, 1], [2, 1], [512, 4]), be([0, 2])]));
    // Data template 258: src addr, bytes, sampler id
    const tpl = set(0, be([258, 2], [3, 2], [8, 2], [4, 2], [1, 2], [4, 2], [48, 2], [1, 2]));
    const data = set(258, Buffer.concat([be([0x0a000001, 4], [100, 4], [3, 1]), be([0x0a000002, 4], [200, 4], [9, 1]), be([0, 3])]));
    const out = d.decode(v9(1, 1, 100_000, 1_700_000_000, optTpl, optData, tpl, data), EXPORTER, T0);
    expect(out.errors).to.deep.equal([]);
    expect(out.flows.map((r) => [r.sampler_id, r.sampling_rate, r.sampling_rate_source])).to.deep.equal([
      [3, 512, SamplingRateSource.SAMPLING_OPTIONS],
      // Unknown sampler 9: the only known sampler's rate is the best guess an operator expects.
      [9, 512, SamplingRateSource.SAMPLING_OPTIONS],
    ]);
  });

  it('ignores a zero-filled tail after the last flowset (PAN-OS) and rejects a bad flowset length', () => {
    const d = new DatagramDecoder();
    const ok = d.decode(Buffer.concat([v9(1, 1, 100_000, 1_700_000_000, V9_TEMPLATE), Buffer.alloc(64)]), EXPORTER, T0);
    expect(ok.errors).to.deep.equal([]);
    const bad = d.decode(Buffer.concat([v9(2, 1, 100_000, 1_700_000_000), be([256, 2], [2, 2], [1, 4])]), EXPORTER, T0);
    expect(bad.errors.map((e) => e.reason)).to.deep.equal(['bad_set']);
  });

  it('enforces the per-exporter template limit and leaves other exporters alone', () => {
    const d = new DatagramDecoder({ templateLimits: { maxTemplatesPerExporter: 2 } });
    const tpl = (id: number): Buffer => set(0, be([id, 2], [1, 2], [1, 2], [4, 2]));
    const out = d.decode(v9(1, 1, 1, 1_700_000_000, tpl(256), tpl(257), tpl(258)), EXPORTER, T0);
    expect(out.errors.map((e) => e.reason)).to.deep.equal(['template_limit']);
    const other = d.decode(v9(1, 1, 1, 1_700_000_000, tpl(256)), OTHER_PORT, T0);
    expect(other.errors).to.deep.equal([]);
    expect(d.state.templates.size).to.equal(3);
    // Redefining a held id is not a new template: allowed at the limit.
    expect(d.decode(v9(2, 1, 1, 1_700_000_000, set(0, be([257, 2], [1, 2], [1, 2], [4, 2]))), EXPORTER, T0).errors).to.deep.equal([]);
  });

  it('enforces the field limits and the pending limit per exporter and leaves other exporters alone', () => {
    const d = new DatagramDecoder({
      templateLimits: { maxFieldsPerTemplate: 4, maxFieldsPerExporter: 6 },
      pendingLimits: { maxBytesPerExporter: 100, maxBytesTotal: 10_000 },
    });
    const tpl = (id: number, fields: number): Buffer => set(0, be([id, 2], [fields, 2], ...Array.from({ length: fields }, (): [number, number][] => [[1, 2], [4, 2]]).flat()));
    // 5 fields in one template: over max_fields_per_template.
    expect(d.decode(v9(1, 1, 1, 1_700_000_000, tpl(256, 5)), EXPORTER, T0).errors.map((e) => e.reason)).to.deep.equal(['template_limit']);
    // 4 + 4 fields: the second is over max_fields_per_exporter (6).
    expect(d.decode(v9(2, 1, 1, 1_700_000_000, tpl(256, 4), tpl(257, 4)), EXPORTER, T0).errors.map((e) => e.reason)).to.deep.equal(['template_limit']);
    // Another exporter has its own field budget.
    expect(d.decode(v9(1, 1, 1, 1_700_000_000, tpl(256, 4), tpl(258, 1)), OTHER_PORT, T0).errors).to.deep.equal([]);
    // Held data over pending_max_bytes_per_exporter drops this exporter's oldest held set only.
    const held = (id: number): Buffer => set(id, Buffer.alloc(60, 1));
    const a = d.decode(v9(3, 1, 1, 1_700_000_000, held(300), held(301)), EXPORTER, T0);
    expect(a.errors.map((e) => e.reason)).to.deep.equal(['template_missing', 'template_missing', 'pending_overflow']);
    expect(a.errors[2].exporter, 'the dropped set was this exporter\'s own').to.equal(undefined);
    const b = d.decode(v9(2, 1, 1, 1_700_000_000, held(300)), OTHER_PORT, T0);
    expect(b.errors.map((e) => e.reason)).to.deep.equal(['template_missing']);
    expect(d.state.pending.count).to.equal(2);
    // The other exporter's held set is still there and decodes when its template comes.
    const c = d.decode(v9(3, 1, 1, 1_700_000_000, set(0, be([300, 2], [1, 2], [1, 2], [4, 2]))), OTHER_PORT, T0);
    expect(c.errors).to.deep.equal([]);
    expect(c.flows).to.have.length(15);
  });

  it('expires templates not refreshed in time', () => {
    const d = new DatagramDecoder({ templateLimits: { expiryUs: 60e6 } });
    d.decode(v9(1, 1, 100_000, 1_700_000_000, V9_TEMPLATE), EXPORTER, T0);
    const out = d.decode(v9(2, 1, 200_000, 1_700_000_100, set(256, v9Record(1, 1, 1, 1))), EXPORTER, T0 + 100e6);
    expect(out.flows).to.have.length(0);
    expect(out.errors.map((e) => e.reason)).to.include('template_missing');
  });

  it('reports sequence gaps in export packets per source id', () => {
    const d = new DatagramDecoder();
    expect(d.decode(v9(10, 1, 1, 1_700_000_000, V9_TEMPLATE), EXPORTER, T0).sequenceGap).to.equal(0);
    expect(d.decode(v9(11, 1, 1, 1_700_000_000), EXPORTER, T0).sequenceGap).to.equal(0);
    expect(d.decode(v9(15, 1, 1, 1_700_000_000), EXPORTER, T0).sequenceGap).to.equal(3);
    expect(d.decode(v9(100, 2, 1, 1_700_000_000), EXPORTER, T0).sequenceGap).to.equal(0);
  });
});

describe('IPFIX templates', () => {
  // Template 300: sourceIPv6Address, destinationIPv6Address, octetDeltaCount(8),
  // flowStartMilliseconds, flowEndMilliseconds, enterprise 6871/14 (varlen), applicationName? (96, varlen)
  const TPL = set(2, be([300, 2], [7, 2], [27, 2], [16, 2], [28, 2], [16, 2], [1, 2], [8, 2], [152, 2], [8, 2], [153, 2], [8, 2], [0x8000 | 14, 2], [65535, 2], [6871, 4], [96, 2], [65535, 2]));
  const src = Buffer.from('20010db8000000000000000000000001', 'hex');
  const dst = Buffer.from('20010db8000000000000000000000002', 'hex');
  function rec(bytes: number, ent: Buffer, app: Buffer): Buffer {
    const varlen = (v: Buffer): Buffer => (v.length < 255 ? Buffer.concat([be([v.length, 1]), v]) : Buffer.concat([be([255, 1], [v.length, 2]), v]));
    return Buffer.concat([src, dst, be([bytes, 8], [1_700_000_000_123, 8], [1_700_000_001_456, 8]), varlen(ent), varlen(app)]);
  }

  it('decodes IPv6, 8-byte counters, absolute ms times, enterprise and variable-length fields (incl. the 255 escape)', () => {
    const d = new DatagramDecoder();
    const long = Buffer.alloc(300, 0x61);
    const out = d.decode(ipfix(0, 5, 1_700_000_002, TPL, set(300, Buffer.concat([rec(2 ** 33, Buffer.from('ab', 'hex'), Buffer.from('dns')), rec(9, Buffer.alloc(0), long)]))), EXPORTER, T0);
    expect(out.errors).to.deep.equal([]);
    expect(out.flows).to.have.length(2);
    const [a, b] = out.flows;
    expect(ipToText(a.src_addr)).to.equal('2001:db8::1');
    expect(a.bytes).to.equal(2 ** 33);
    expect(a.etype).to.equal(0x86dd);
    expect(a.time_flow_start_us).to.equal(1_700_000_000_123_000);
    expect(a.time_flow_end_us).to.equal(1_700_000_001_456_000);
    expect(a.extra_fields.map((x) => [x.enterprise, x.id, Buffer.from(x.value).toString('hex')])).to.deep.equal([
      [6871, 14, 'ab'],
      [0, 96, Buffer.from('dns').toString('hex')],
    ]);
    expect(b.bytes).to.equal(9);
    expect(b.extra_fields[1].value.length).to.equal(300);
  });

  it('maps an enterprise field to a canonical field when the registry says so', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flowgate-ie-'));
    const extra = path.join(dir, 'vendor.yaml');
    writeFileSync(extra, 'enterprise:\n  "6871/14": { name: vendorIngressPort, type: unsigned32, to: in_if }\n');
    const registry = loadIeRegistry([packagePath('templates', 'information-elements.yaml'), extra]);
    const d = new DatagramDecoder({ registry });
    const tpl = set(2, be([310, 2], [2, 2], [0x8000 | 14, 2], [4, 2], [6871, 4], [2, 2], [4, 2]));
    const out = d.decode(ipfix(0, 5, 1_700_000_000, tpl, set(310, be([42, 4], [9, 4]))), EXPORTER, T0);
    expect(out.flows[0].in_if).to.equal(42);
    expect(out.flows[0].extra_fields).to.deep.equal([]);
    expect(() => loadIeRegistry([extra.replace('vendor', 'missing')])).to.throw(/missing/);
    writeFileSync(extra, 'enterprise:\n  "6871/14": { name: x, type: unsigned32, to: no_such_field }\n');
    expect(() => loadIeRegistry([extra])).to.throw(/enterprise.6871\/14.to: "no_such_field" is not a canonical target/);
  });

  it('withdraws a template (field count 0) and all templates (id = set id)', () => {
    const d = new DatagramDecoder();
    d.decode(ipfix(0, 5, 1_700_000_000, TPL), EXPORTER, T0);
    expect(d.state.templates.size).to.equal(1);
    d.decode(ipfix(0, 5, 1_700_000_000, set(2, be([300, 2], [0, 2]))), EXPORTER, T0);
    expect(d.state.templates.size).to.equal(0);
    d.decode(ipfix(0, 5, 1_700_000_000, TPL), EXPORTER, T0);
    d.decode(ipfix(0, 5, 1_700_000_000, set(2, be([2, 2], [0, 2]))), EXPORTER, T0);
    expect(d.state.templates.size).to.equal(0);
  });

  it('places sysUpTime-relative times with systemInitTimeMilliseconds from options data', () => {
    const d = new DatagramDecoder();
    // Options template 400: scope observationDomainId(149) 4; option systemInitTimeMilliseconds(160) 8
    const optTpl = set(3, be([400, 2], [2, 2], [1, 2], [149, 2], [4, 2], [160, 2], [8, 2]));
    const optData = set(400, be([5, 4], [1_699_999_000_000, 8]));
    // Data template 401: flowStartSysUpTime(22), flowEndSysUpTime(21), packetDeltaCount(2) 4
    const tpl = set(2, be([401, 2], [3, 2], [22, 2], [4, 2], [21, 2], [4, 2], [2, 2], [4, 2]));
    const data = set(401, be([1000, 4], [2500, 4], [7, 4]));
    const out = d.decode(ipfix(0, 5, 1_700_000_000, optTpl, optData, tpl, data), EXPORTER, T0);
    expect(out.errors).to.deep.equal([]);
    expect(out.flows[0].time_flow_start_us).to.equal((1_699_999_000_000 + 1000) * 1000);
    expect(out.flows[0].time_flow_end_us).to.equal((1_699_999_000_000 + 2500) * 1000);
    expect(out.flows[0].packets).to.equal(7);
  });

  it('takes sampling from samplingPacketInterval/Space options (RFC 5477)', () => {
    const d = new DatagramDecoder();
    const optTpl = set(3, be([402, 2], [3, 2], [1, 2], [149, 2], [4, 2], [305, 2], [4, 2], [306, 2], [4, 2]));
    const optData = set(402, be([5, 4], [1, 4], [99, 4]));
    const tpl = set(2, be([403, 2], [1, 2], [2, 2], [4, 2]));
    const out = d.decode(ipfix(0, 5, 1_700_000_000, optTpl, optData, tpl, set(403, be([1, 4]))), EXPORTER, T0);
    expect(out.flows[0].sampling_rate).to.equal(100);
  });

  it('counts the IPFIX sequence in data records', () => {
    const d = new DatagramDecoder();
    const tpl = set(2, be([403, 2], [1, 2], [2, 2], [4, 2]));
    expect(d.decode(ipfix(0, 5, 1_700_000_000, tpl, set(403, be([1, 4], [2, 4]))), EXPORTER, T0).sequenceGap).to.equal(0);
    expect(d.decode(ipfix(2, 5, 1_700_000_000, set(403, be([1, 4]))), EXPORTER, T0).sequenceGap).to.equal(0);
    expect(d.decode(ipfix(10, 5, 1_700_000_000, set(403, be([1, 4]))), EXPORTER, T0).sequenceGap).to.equal(7);
  });

  it('reports a truncated message and a set overrunning it without throwing', () => {
    const d = new DatagramDecoder();
    const msg = ipfix(0, 5, 1_700_000_000, TPL);
    const out = d.decode(msg.subarray(0, msg.length - 10), EXPORTER, T0);
    expect(out.errors.map((e) => e.reason)).to.include('truncated');
  });
});

describe('template and options state snapshots', () => {
  it('a decoder restored from a snapshot decodes data-only datagrams at once (restart)', () => {
    const before = new DatagramDecoder();
    const optTpl = set(3, be([402, 2], [3, 2], [1, 2], [149, 2], [4, 2], [305, 2], [4, 2], [306, 2], [4, 2]));
    const optData = set(402, be([5, 4], [1, 4], [9, 4]));
    const tpl = set(2, be([403, 2], [2, 2], [8, 2], [4, 2], [2, 2], [4, 2]));
    before.decode(ipfix(0, 5, 1_700_000_000, optTpl, optData, tpl), EXPORTER, T0);
    const state = JSON.parse(JSON.stringify({ t: before.state.templates.snapshot(), o: before.state.options.snapshot() })) as {
      t: ReturnType<DatagramDecoder['state']['templates']['snapshot']>;
      o: ReturnType<DatagramDecoder['state']['options']['snapshot']>;
    };
    const after = new DatagramDecoder();
    expect(after.state.templates.restore(state.t)).to.equal(2);
    after.state.options.restore(state.o);
    const out = after.decode(ipfix(3, 5, 1_700_000_100, set(403, be([0x0a000001, 4], [7, 4]))), EXPORTER, T0 + 100e6);
    expect(out.errors).to.deep.equal([]);
    expect(out.flows).to.have.length(1);
    expect(out.flows[0].packets).to.equal(7);
    expect(out.flows[0].sampling_rate).to.equal(10);
  });
});
