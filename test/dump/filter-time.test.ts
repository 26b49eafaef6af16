// --filter expressions and --from/--to times of `flowgate dump`: what each form selects, and
// that every malformed one is refused with a message naming the problem.

import { expect } from 'chai';
import { newFlowRecord, type FlowRecord } from '../../src/canonical/flow-record';
import { compileFilters, FilterError, parseFilter } from '../../src/dump/filter';
import { parseTime, parseWindow, secondsHint, TimeArgError } from '../../src/dump/time-window';
import { textToIp } from '../../src/util/ip';

function rec(o: Partial<Record<keyof FlowRecord, unknown>>): FlowRecord {
  const r = newFlowRecord() as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) r[k] = typeof v === 'string' && /addr|hop/.test(k) ? textToIp(v) : v;
  return r as unknown as FlowRecord;
}

describe('dump --filter', () => {
  const web = rec({ type: 3, proto: 6, src_port: 51000, dst_port: 443, src_addr: '10.1.2.3', dst_addr: '192.0.2.7', bytes: 1500, src_mac: 0x0a0b0c0d0e0f });
  const dns6 = rec({ type: 4, proto: 17, src_port: 53, dst_port: 40000, src_addr: '2001:db8::53', dst_addr: '2001:db8:1::9', bytes: 90 });
  const mapped = rec({ proto: 1, src_addr: '::ffff:10.9.9.9', dst_addr: '8.8.8.8' });
  const all = [web, dns6, mapped];
  const pick = (...exprs: string[]): FlowRecord[] => all.filter(compileFilters(exprs));

  it('numbers: = != > < >= <=, decimal or hex', () => {
    expect(pick('dst_port=443')).to.deep.equal([web]);
    expect(pick('dst_port==443')).to.deep.equal([web]);
    expect(pick('proto!=6')).to.deep.equal([dns6, mapped]);
    expect(pick('bytes>90')).to.deep.equal([web]);
    expect(pick('bytes>=90')).to.deep.equal([web, dns6]);
    expect(pick('bytes<1500')).to.deep.equal([dns6, mapped]);
    expect(pick('bytes<=1500', 'bytes > 0')).to.deep.equal([web, dns6]);
    expect(pick('dst_port=0x1bb')).to.deep.equal([web]);
  });

  it('protocol and enum names, MACs', () => {
    expect(pick('proto=tcp')).to.deep.equal([web]);
    expect(pick('proto=UDP')).to.deep.equal([dns6]);
    expect(pick('proto=icmp')).to.deep.equal([mapped]);
    expect(pick('type=ipfix')).to.deep.equal([dns6]);
    expect(pick('type=NETFLOW_V9')).to.deep.equal([web]);
    expect(pick('src_mac=0a:0b:0c:0d:0e:0f')).to.deep.equal([web]);
    expect(pick('src_mac!=0a-0b-0c-0d-0e-0f')).to.deep.equal([dns6, mapped]);
  });

  it('addresses and CIDR blocks, IPv4 and IPv6; an IPv4 block matches IPv4-mapped IPv6', () => {
    expect(pick('src_addr=10.0.0.0/8')).to.deep.equal([web, mapped]);
    expect(pick('src_addr=10.1.2.3')).to.deep.equal([web]);
    expect(pick('src_addr!=10.0.0.0/8')).to.deep.equal([dns6]);
    expect(pick('dst_addr=2001:db8::/32')).to.deep.equal([dns6]);
    expect(pick('dst_addr=2001:db8:1::/48')).to.deep.equal([dns6]);
    expect(pick('dst_addr=2001:db8:2::/48')).to.deep.equal([]);
    expect(pick('src_addr=0.0.0.0/0')).to.deep.equal([web, mapped]);
    expect(pick('src_addr=::/0')).to.deep.equal([dns6, mapped]);
    expect(pick('dst_addr=192.0.2.0/25')).to.deep.equal([web]);
    expect(pick('dst_addr=192.0.2.128/25')).to.deep.equal([]);
  });

  it('addr and port mean either side; != means neither side', () => {
    expect(pick('addr=192.0.2.7')).to.deep.equal([web]);
    expect(pick('addr=8.8.8.0/24')).to.deep.equal([mapped]);
    expect(pick('addr!=10.0.0.0/8')).to.deep.equal([dns6]);
    expect(pick('port=53')).to.deep.equal([dns6]);
    expect(pick('port!=53')).to.deep.equal([web, mapped]);
    expect(pick('port>50000')).to.deep.equal([web]);
  });

  it('several filters are ANDed; none keeps everything', () => {
    expect(pick('proto=tcp', 'dst_port=443', 'src_addr=10.0.0.0/8')).to.deep.equal([web]);
    expect(pick('proto=tcp', 'dst_port=80')).to.deep.equal([]);
    expect(pick()).to.deep.equal(all);
  });

  it('refuses malformed expressions with the problem named', () => {
    const cases: Array<[string, RegExp]> = [
      ['dst_port', /expected FIELD OP VALUE/],
      ['dst_port=', /no value after =/],
      ['dst_prot=443', /unknown field "dst_prot" \(did you mean dst_port\?\)/],
      ['dst_port=https', /"https" is not a non-negative integer/],
      ['dst_port=-1', /not a non-negative integer/],
      ['proto=tcpp', /unknown protocol name "tcpp" \(did you mean tcp\?\)/],
      ['src_addr=10.0.0.0/33', /prefix length \/33 is not 0-32/],
      ['src_addr=10.1.2.3/8', /host bits set; did you mean 10\.0\.0\.0\/8\?/],
      ['src_addr=10.0.0/8', /"10\.0\.0" is not an IPv4 or IPv6 address/],
      ['src_addr>10.0.0.0', /addresses take = or != only/],
      ['dst_addr=2001:db8::1/129', /prefix length \/129 is not 0-128/],
      ['type=NETFLOW_V10', /type is one of FLOWUNKNOWN, SFLOW_5, NETFLOW_V5, NETFLOW_V9, IPFIX/],
      ['src_mac>1', /src_mac takes = or != only/],
      ['src_mac=0a:0b', /is not a MAC address/],
      ['time_received_ns>5', /time_received_ns cannot be filtered: select times with --from\/--to/],
      ['as_path=64512', /unknown field "as_path"/],
    ];
    for (const [expr, why] of cases) {
      expect(() => parseFilter(expr), expr).to.throw(FilterError, why);
      expect(() => parseFilter(expr), expr).to.throw(new RegExp(`^--filter ${JSON.stringify(expr).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
    }
  });
});

describe('dump --from/--to', () => {
  it('reads ISO 8601 (UTC unless an offset is given) and epoch milliseconds', () => {
    expect(parseTime('2024-06-01T12:00:00Z', '--from')).to.equal(Date.UTC(2024, 5, 1, 12));
    expect(parseTime('2024-06-01T12:00:00', '--from')).to.equal(Date.UTC(2024, 5, 1, 12));
    expect(parseTime('2024-06-01 12:00', '--from')).to.equal(Date.UTC(2024, 5, 1, 12));
    expect(parseTime('2024-06-01', '--from')).to.equal(Date.UTC(2024, 5, 1));
    expect(parseTime('2024-06-01T14:00:00+02:00', '--from')).to.equal(Date.UTC(2024, 5, 1, 12));
    expect(parseTime('2024-06-01T07:30-0430', '--from')).to.equal(Date.UTC(2024, 5, 1, 12));
    expect(parseTime('2024-06-01T12:00:00.250Z', '--from')).to.equal(Date.UTC(2024, 5, 1, 12) + 250);
    expect(parseTime('2024-06-01T12:00:00.0005Z', '--from')).to.equal(Date.UTC(2024, 5, 1, 12) + 0.5);
    expect(parseTime('1717243200000', '--from')).to.equal(1717243200000);
    expect(parseTime('0', '--from')).to.equal(0);
  });

  it('makes a half-open window in whole ms; a sub-ms fraction rounds up at both ends', () => {
    expect(parseWindow('1000', '2000')).to.deep.equal({ fromMs: 1000, toMs: 2000 });
    expect(parseWindow('1970-01-01T00:00:01.0004Z', '1970-01-01T00:00:02.0000001Z')).to.deep.equal({ fromMs: 1001, toMs: 2001 });
    // 0.29 * 1000 is 290.00000000000006 in floating point: digits are taken as digits.
    expect(parseWindow('1970-01-01T00:00:01.29Z', '1970-01-01T00:00:02.290000Z')).to.deep.equal({ fromMs: 1290, toMs: 2290 });
  });

  it('refuses bad times and empty windows with the problem named', () => {
    const bad: Array<[string, string, RegExp]> = [
      ['yesterday', '2024-06-01', /--from "yesterday": not a time; use ISO 8601/],
      ['2024-02-30', '2024-03-01', /--from "2024-02-30": no such date/],
      ['2024-06-01T25:00', '2024-06-02', /no such time of day/],
      ['2024-06-01T12:00+25:00', '2024-06-02', /bad UTC offset/],
      ['2024-06-02', '2024-06-01', /--to \(2024-06-01T00:00:00.000Z\) must be after --from \(2024-06-02T00:00:00.000Z\)/],
      ['1000', '1000', /the window \[from, to\) is empty/],
      ['99999999999999999999', '2024-06-01', /out of range/],
    ];
    for (const [from, to, why] of bad) expect(() => parseWindow(from, to), `${from} ${to}`).to.throw(TimeArgError, why);
  });

  it('notes a bare number that looks like epoch seconds', () => {
    expect(secondsHint('1717243200', '--from')).to.match(/read as epoch MILLISECONDS \(1970-01-20T/);
    expect(secondsHint('1717243200000', '--from')).to.equal(undefined);
    expect(secondsHint('2024-06-01', '--from')).to.equal(undefined);
  });
});
