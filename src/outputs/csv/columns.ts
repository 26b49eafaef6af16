// Canonical records → CSV cells, for the CSV output and `flowgate dump`.
//
// A column list is compiled once into an array of small per-column closures, so formatting a
// record allocates nothing but the line itself (flowToJson builds a ~50-key object per
// record, which costs more than everything else here). Cell text matches `flowgate decode
// --format csv` (flowToJson + its csvCell) column for column, except where CSV options say
// otherwise: times follow time_format and an unset (zero) time is an empty cell, and `proto`
// may be a name.
//
// Quoting: csv-stringify is the authority. Only the `extra_fields` column can ever produce a
// character that needs quoting (its JSON has `"` and `,`); every other column is numbers,
// addresses, MACs, enum names or space-separated lists. A line whose cells need no quoting is
// joined directly, and any other line goes through csv-stringify whole. The unit tests check
// the output is byte-identical to csv-stringify's for every column and for awkward values.
//
// Measured (node 20, this 2-CPU machine while other builds ran, 16 columns: decode's default
// CSV fields with protocol names, 100,000 typical mixed IPv4/IPv6 records in batches of 1,000;
// test/outputs/csv-columns.test.ts "throughput"): formatRows ≈ 530,000-610,000 records/s with
// iso times, ≈ 410,000-440,000 with epoch_ms/epoch_ns (large numbers are not in V8's
// number-string cache). About a third of the time is GC of the cell strings. csv-stringify on
// the same cells alone managed ≈ 150,000 rows/s, which is why it is kept off the common path.

import { stringify } from 'csv-stringify/sync';
import { FlowDirection, FlowType, LayerStack, SamplingRateSource, type FlowRecord } from '../../canonical/flow-record';
import type { TimeFormat } from '../../config/types';
import { closest } from '../../config/suggest';
import { ipToText, macToText } from '../../util/ip';
import { protocolName } from './protocol-names';
import { timeCell } from './time-cells';

export type { TimeFormat } from '../../config/types';

export interface ColumnOptions {
  timeFormat: TimeFormat;
  /** `proto` as a name (tcp, udp, …) instead of a number. */
  protocolNames: boolean;
}

export type Cell = string | number;

export interface CsvColumns {
  readonly header: readonly string[];
  /** The record's cells in header order (allocates an array: formatRows does not use it). */
  cells(r: FlowRecord): Cell[];
}

type CellFn = (r: FlowRecord) => Cell;

interface ColumnDef {
  make(o: ColumnOptions): CellFn;
  /** True when the text may contain `,`, `"`, CR or LF and so may need quoting. */
  quotable?: true;
}

// Enum names by number, as arrays: FlowType[x] on a TS enum is a property lookup by number key.
const enumNames = (e: Record<number, string>, size: number): Array<string | undefined> => Array.from({ length: size }, (_, i) => e[i]);
const FLOW_TYPES = enumNames(FlowType, 5);
const SAMPLING_SOURCES = enumNames(SamplingRateSource, 5);
const DIRECTIONS = enumNames(FlowDirection, 3);
// Unknown values as flowToJson shows them: `type` as a string, the others as numbers.
const enumCell = (names: ReadonlyArray<string | undefined>, v: number): Cell => names[v] ?? v;

const num = (get: (r: FlowRecord) => number): ColumnDef => ({ make: () => get });
const addr = (get: (r: FlowRecord) => Uint8Array): ColumnDef => ({ make: () => (r) => ipToText(get(r)) });
const mac = (get: (r: FlowRecord) => number): ColumnDef => ({ make: () => (r) => macToText(get(r)) });
const time = (get: (r: FlowRecord) => number): ColumnDef => ({
  make: (o) => {
    const f = timeCell(o.timeFormat);
    return (r) => f(get(r));
  },
});
// Fields flowToJson leaves out at their default value: decode's CSV shows '' for them.
const optionalNum = (get: (r: FlowRecord) => number): ColumnDef => ({ make: () => (r) => get(r) || '' });
const optionalAddr = (get: (r: FlowRecord) => Uint8Array): ColumnDef => ({ make: () => (r) => (get(r).length ? ipToText(get(r)) : '') });
// Lists: space-separated, as decode's csvCell joins arrays.
const numList = (get: (r: FlowRecord) => readonly number[]): ColumnDef => ({ make: () => (r) => get(r).join(' ') });
const addrList = (get: (r: FlowRecord) => readonly Uint8Array[]): ColumnDef => ({ make: () => (r) => get(r).map(ipToText).join(' ') });

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Every canonical column, in flowToJson's key order (always-present keys, then optional ones). */
const CANONICAL: ReadonlyArray<readonly [string, ColumnDef]> = [
  ['type', { make: () => (r) => FLOW_TYPES[r.type] ?? String(r.type) }],
  ['time_received_ns', time((r) => r.time_received_us)],
  ['sequence_num', num((r) => r.sequence_num)],
  ['sampling_rate', num((r) => r.sampling_rate)],
  ['sampling_rate_source', { make: () => (r) => enumCell(SAMPLING_SOURCES, r.sampling_rate_source) }],
  ['sampler_address', addr((r) => r.sampler_address)],
  ['exporter_address', addr((r) => r.exporter_address)],
  ['exporter_port', num((r) => r.exporter_port)],
  ['observation_domain_id', num((r) => r.observation_domain_id)],
  ['time_flow_start_ns', time((r) => r.time_flow_start_us)],
  ['time_flow_end_ns', time((r) => r.time_flow_end_us)],
  ['bytes', num((r) => r.bytes)],
  ['packets', num((r) => r.packets)],
  ['src_addr', addr((r) => r.src_addr)],
  ['dst_addr', addr((r) => r.dst_addr)],
  ['etype', num((r) => r.etype)],
  ['proto', { make: (o) => (o.protocolNames ? (r) => protocolName(r.proto) : (r) => r.proto) }],
  ['src_port', num((r) => r.src_port)],
  ['dst_port', num((r) => r.dst_port)],
  ['in_if', num((r) => r.in_if)],
  ['out_if', num((r) => r.out_if)],
  ['src_mac', mac((r) => r.src_mac)],
  ['dst_mac', mac((r) => r.dst_mac)],
  ['src_vlan', num((r) => r.src_vlan)],
  ['dst_vlan', num((r) => r.dst_vlan)],
  ['vlan_id', num((r) => r.vlan_id)],
  ['ip_tos', num((r) => r.ip_tos)],
  ['forwarding_status', num((r) => r.forwarding_status)],
  ['ip_ttl', num((r) => r.ip_ttl)],
  ['ip_flags', num((r) => r.ip_flags)],
  ['tcp_flags', num((r) => r.tcp_flags)],
  ['icmp_type', num((r) => r.icmp_type)],
  ['icmp_code', num((r) => r.icmp_code)],
  ['ipv6_flow_label', num((r) => r.ipv6_flow_label)],
  ['fragment_id', num((r) => r.fragment_id)],
  ['fragment_offset', num((r) => r.fragment_offset)],
  ['src_as', num((r) => r.src_as)],
  ['dst_as', num((r) => r.dst_as)],
  ['next_hop', addr((r) => r.next_hop)],
  ['next_hop_as', num((r) => r.next_hop_as)],
  ['src_net', num((r) => r.src_net)],
  ['dst_net', num((r) => r.dst_net)],
  ['bgp_next_hop', addr((r) => r.bgp_next_hop)],
  ['observation_point_id', num((r) => r.observation_point_id)],
  ['flow_direction', { make: () => (r) => enumCell(DIRECTIONS, r.flow_direction) }],
  ['sampler_id', num((r) => r.sampler_id)],
  ['flow_end_reason', num((r) => r.flow_end_reason)],
  ['bgp_communities', numList((r) => r.bgp_communities)],
  ['as_path', numList((r) => r.as_path)],
  ['mpls_label', numList((r) => r.mpls_label)],
  ['mpls_ttl', numList((r) => r.mpls_ttl)],
  ['mpls_ip', addrList((r) => r.mpls_ip)],
  ['layer_stack', { make: () => (r) => r.layer_stack.map((l) => LayerStack[l] ?? String(l)).join(' ') }],
  ['layer_size', numList((r) => r.layer_size)],
  ['ipv6_routing_header_addresses', addrList((r) => r.ipv6_routing_header_addresses)],
  ['ipv6_routing_header_seg_left', optionalNum((r) => r.ipv6_routing_header_seg_left)],
  ['post_nat_src_addr', optionalAddr((r) => r.post_nat_src_addr)],
  ['post_nat_dst_addr', optionalAddr((r) => r.post_nat_dst_addr)],
  ['post_nat_src_port', optionalNum((r) => r.post_nat_src_port)],
  ['post_nat_dst_port', optionalNum((r) => r.post_nat_dst_port)],
  ['firewall_event', optionalNum((r) => r.firewall_event)],
  ['sflow_sub_agent_id', optionalNum((r) => r.sflow_sub_agent_id)],
  ['sflow_source_id', optionalNum((r) => r.sflow_source_id)],
  ['extra_fields', {
    // decode's csvCell: one JSON object per field, space-separated.
    make: () => (r) => r.extra_fields.map((x) => JSON.stringify({ enterprise: x.enterprise, id: x.id, value: hex(x.value) })).join(' '),
    quotable: true,
  }],
];

/** Columns computed from several fields; not in flowToJson. */
const COMPUTED: ReadonlyArray<readonly [string, ColumnDef]> = [
  // Milliseconds between flow start and end, fractional to the µs; '' when either is unset.
  // (end - start) / 1000 of integers prints exactly: the quotient is correctly rounded and
  // JS prints the shortest text that reads back as it.
  ['duration_ms', { make: () => (r) => (r.time_flow_start_us > 0 && r.time_flow_end_us > 0 ? (r.time_flow_end_us - r.time_flow_start_us) / 1000 : '') }],
  // address:port, IPv6 in brackets (RFC 3986 style), so the text is unambiguous.
  ['exporter', {
    make: () => (r) => {
      const a = r.exporter_address;
      if (a.length === 4) return `${ipToText(a)}:${r.exporter_port}`;
      if (a.length === 16) return `[${ipToText(a)}]:${r.exporter_port}`;
      return '';
    },
  }],
  ['proto_name', { make: () => (r) => protocolName(r.proto) }],
];

const DEFS: ReadonlyMap<string, ColumnDef> = new Map([...CANONICAL, ...COMPUTED]);

export const COMPUTED_COLUMNS: readonly string[] = Object.freeze(COMPUTED.map(([n]) => n));

/** Every column name a CSV field list may use: canonical fields, then computed ones. */
export function knownColumns(): string[] {
  return [...DEFS.keys()];
}

/** One line per problem: unknown names (with "did you mean"), duplicates, an empty list. */
export function checkColumns(fields: readonly string[]): string[] {
  const problems: string[] = [];
  if (fields.length === 0) problems.push('no columns given: list at least one field');
  const known = knownColumns();
  const seen = new Set<string>();
  for (const f of fields) {
    if (!DEFS.has(f)) {
      const near = closest(f, known);
      // The whole list only when no near name: it is long, and a typo needs just the fix.
      problems.push(`unknown column ${JSON.stringify(f)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : `; known columns: ${known.join(', ')}`}`);
    } else if (seen.has(f)) {
      // A repeated header name breaks readers that key rows by column name (csv.DictReader).
      problems.push(`column ${JSON.stringify(f)} is listed twice`);
    }
    seen.add(f);
  }
  return problems;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** The compiled form csvColumns returns; formatRows uses its allocation-free line(). */
class CompiledColumns implements CsvColumns {
  readonly header: readonly string[];
  private readonly fns: readonly CellFn[];
  private readonly quotable: readonly boolean[];

  constructor(fields: readonly string[], o: ColumnOptions) {
    this.header = Object.freeze([...fields]);
    const defs = fields.map((f) => DEFS.get(f) as ColumnDef);
    this.fns = defs.map((d) => d.make(o));
    this.quotable = defs.map((d) => d.quotable === true);
  }

  cells(r: FlowRecord): Cell[] {
    return this.fns.map((f) => f(r));
  }

  /** The record's CSV line with its "\n", byte-identical to csv-stringify's. */
  line(r: FlowRecord): string {
    const fns = this.fns;
    let s = '';
    for (let i = 0; i < fns.length; i++) {
      const v = fns[i](r);
      if (this.quotable[i] && typeof v === 'string' && NEEDS_QUOTES.test(v)) return stringify([this.cells(r)]);
      s += i === 0 ? `${v}` : `,${v}`;
    }
    return `${s}\n`;
  }
}

/** Compiles a column list; throws an Error listing the problems when a name is unknown. */
export function csvColumns(fields: readonly string[], o: ColumnOptions): CsvColumns {
  const problems = checkColumns(fields);
  if (problems.length) throw new Error(`bad CSV columns: ${problems.join('; ')}`);
  return new CompiledColumns(fields, o);
}

/** CSV lines (each ending in "\n") for the records, without a header. */
export function formatRows(cols: CsvColumns, records: readonly FlowRecord[]): string {
  if (cols instanceof CompiledColumns) {
    let out = '';
    for (let i = 0; i < records.length; i++) out += cols.line(records[i]);
    return out;
  }
  // Some other CsvColumns implementation: nothing is known about its cells, so all of it
  // goes through csv-stringify.
  return records.length ? stringify(records.map((r) => cols.cells(r))) : '';
}

/** One record's CSV line, ending in "\n" (for callers that route records one by one). */
export function formatRow(cols: CsvColumns, r: FlowRecord): string {
  return cols instanceof CompiledColumns ? cols.line(r) : stringify([cols.cells(r)]);
}

/** The header line, ending in "\n". */
export function formatHeader(cols: CsvColumns): string {
  return stringify([cols.header as string[]]);
}
