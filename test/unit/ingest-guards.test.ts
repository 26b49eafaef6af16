// The per-datagram guards of the ingest path (allowlist, per-exporter record rate) and the
// /proc/net/udp parser behind flowgate_socket_kernel_drops_total. End to end they are proven
// in test/hardening/; here: their edge cases, and what they cost per datagram.

import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import { SourceAllowlist } from '../../src/ingest/allowlist';
import { ExporterRateLimit } from '../../src/ingest/exporter-rate-limit';
import { parseProcNetUdp, readKernelDrops } from '../../src/ingest/kernel-drops';
import * as dgram from 'node:dgram';
import { DomainSequenceTracker, MAX_STREAMS, SequenceTracker } from '../../src/decode/sequence-tracker';

describe('ingest guards', () => {
  it('allowlist: CIDRs and bare addresses, IPv4 and IPv6, IPv4-mapped sources, zones, junk', () => {
    const a = new SourceAllowlist(['192.0.2.0/24', '198.51.100.7', '2001:db8::/32', '::1']);
    const cases: Array<[string, boolean]> = [
      ['192.0.2.1', true], ['192.0.2.255', true], ['192.0.3.1', false], ['198.51.100.7', true], ['198.51.100.8', false],
      ['2001:db8::1', true], ['2001:db9::1', false], ['::1', true], ['::2', false],
      ['::ffff:192.0.2.9', true], ['::ffff:198.51.100.7', true], ['::ffff:10.0.0.1', false],
      ['fe80::1%eth0', false], ['not an address', false], ['', false],
    ];
    for (const [addr, want] of cases) {
      expect(a.allows(addr), addr).to.equal(want);
      expect(a.allows(addr), `${addr} (cached)`).to.equal(want);
    }
    expect(new SourceAllowlist(['0.0.0.0/0']).allows('::ffff:203.0.113.5')).to.equal(true);
    expect(new SourceAllowlist(['0.0.0.0/0']).allows('2001:db8::5')).to.equal(false);
    expect(() => new SourceAllowlist(['10.0.0.0/33'])).to.throw(/prefix length/);
  });

  it('rate limit: one second of burst, refills with time, per exporter', () => {
    const r = new ExporterRateLimit(100);
    const t0 = 1_000_000_000;
    const b = r.admit('a', t0);
    expect(b).to.not.equal(undefined);
    if (b) ExporterRateLimit.charge(b, 150); // a datagram bigger than the bucket is let through once
    expect(r.admit('a', t0)).to.equal(undefined);
    expect(r.admit('b', t0), 'another exporter has its own bucket').to.not.equal(undefined);
    expect(r.admit('a', t0 + 400_000), '50 tokens owed, 40 refilled').to.equal(undefined);
    expect(r.admit('a', t0 + 600_000), '60 refilled: positive again').to.not.equal(undefined);
    expect(r.admit('c', t0 + 100e6)?.tokens, 'never more than one second of burst').to.equal(100);
  });

  it('/proc/net/udp rows: little-endian words, IPv6, drops column', () => {
    const v4 = [
      '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
      ' 1234: 0100007F:0807 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 424242 2 0000000000000000 17',
      ' 1235: 00000000:18BF 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 424243 2 0000000000000000 0',
    ].join('\n');
    const rows = parseProcNetUdp(v4);
    const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
    expect(rows.map((r) => [le ? [...r.local].join('.') : 'skip', r.port, r.inode, r.drops])).to.deep.equal([
      [le ? '127.0.0.1' : 'skip', 2055, 424242, 17], [le ? '0.0.0.0' : 'skip', 6335, 424243, 0],
    ]);
    const v6 = ' 7: 00000000000000000000000001000000:0FA1 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 5151 2 0000000000000000 3';
    const [r6] = parseProcNetUdp(v6);
    if (le) expect(Buffer.from(r6.local).toString('hex')).to.equal('00000000000000000000000000000001');
    expect([r6.port, r6.inode, r6.drops]).to.deep.equal([4001, 5151, 3]);
  });

  it('finds this process\'s own socket in /proc/net/udp (0 drops) and nothing for an address not bound', async () => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    try {
      const [mine, none] = readKernelDrops([s.address(), { address: '127.0.0.1', port: 1 }]);
      expect(mine).to.equal(0);
      expect(none).to.equal(undefined);
    } finally {
      s.close();
    }
  });

  it('sequence trackers stay bounded when every datagram names a new stream (source id, domain, agent)', () => {
    const t = new SequenceTracker();
    const d = new DomainSequenceTracker();
    for (let i = 0; i < MAX_STREAMS + 5000; i++) {
      t.observe(`agent-${i}`, 1, 1);
      d.observe('192.0.2.1|2055', i, 1, 1);
    }
    expect(t.size).to.be.at.most(MAX_STREAMS);
    // A known stream still measures gaps after the clear.
    t.observe('x', 10, 1);
    expect(t.observe('x', 15, 1)).to.equal(4);
    d.observe('e', 7, 100, 1);
    expect(d.observe('e', 7, 103, 1)).to.equal(2);
  });

  it('micro-benchmark: cost per datagram of the guards (printed, not asserted)', () => {
    const addrs = Array.from({ length: 1000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.1`);
    const allow = new SourceAllowlist(['10.0.0.0/8', '2001:db8::/32']);
    const limit = new ExporterRateLimit(1e9);
    const N = 2_000_000;
    for (const a of addrs) allow.allows(a);
    let ok = 0;
    let t = performance.now();
    for (let i = 0; i < N; i++) if (allow.allows(addrs[i % 1000])) ok++;
    const allowNs = ((performance.now() - t) * 1e6) / N;
    t = performance.now();
    for (let i = 0; i < N; i++) {
      const b = limit.admit(addrs[i % 1000], 1e12 + i);
      if (b) ExporterRateLimit.charge(b, 10);
    }
    const limitNs = ((performance.now() - t) * 1e6) / N;
    t = performance.now();
    for (let i = 0; i < N; i++) if (addrs[i % 1000].length > 0) ok++;
    const loopNs = ((performance.now() - t) * 1e6) / N;
    console.log(`      allowlist verdict (cached, 1000 sources) ${(allowNs - loopNs).toFixed(1)} ns; rate-limit admit+charge ${(limitNs - loopNs).toFixed(1)} ns; loop ${loopNs.toFixed(1)} ns`);
    expect(ok).to.be.greaterThan(0);
  });
});
