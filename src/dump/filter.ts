// --filter: simple conditions on canonical record fields, all of which must hold (AND).
//
//   FIELD OP VALUE     OP: = (or ==), !=, >, <, >=, <=
//
//   numbers        any numeric canonical field (proto, src_port, bytes, tcp_flags, in_if, ...):
//                  decimal or 0x hex; proto also takes a name (tcp, udp, icmp, ...)
//   addresses      src_addr, dst_addr, next_hop, bgp_next_hop, sampler_address, exporter_address,
//                  post_nat_src_addr, post_nat_dst_addr: an address or a CIDR block, = and !=
//                  only. An IPv4 block also matches IPv4-mapped IPv6 (::ffff:a.b.c.d).
//   enums          type (NETFLOW_V9, IPFIX, ...), flow_direction, sampling_rate_source: a name
//                  or a number
//   MACs           src_mac, dst_mac: aa:bb:cc:dd:ee:ff or a number, = and != only
//   either side    addr (src_addr or dst_addr) and port (src_port or dst_port): a condition holds
//                  when it holds for either side, except != which holds when NEITHER side
//                  equals the value (`port!=22` leaves out SSH in both directions, like
//                  tcpdump's `not port 22`).
//
// Every problem is a FilterError whose message names the expression and what is wrong, so
// the command can print it and exit 2.

import { FlowDirection, FlowType, SamplingRateSource, newFlowRecord, type FlowRecord } from '../canonical/flow-record';
import { protocolName } from '../outputs/csv/protocol-names';
import { closest } from '../config/suggest';
import { ipToText, textToIp } from '../util/ip';

export class FilterError extends Error {}

export type Predicate = (r: FlowRecord) => boolean;
type Op = '=' | '!=' | '>' | '<' | '>=' | '<=';

type NumberField = { [K in keyof FlowRecord]: FlowRecord[K] extends number ? K : never }[keyof FlowRecord];
type BytesField = { [K in keyof FlowRecord]: FlowRecord[K] extends Uint8Array ? K : never }[keyof FlowRecord];

const ADDRESS_FIELDS: readonly BytesField[] = [
  'src_addr', 'dst_addr', 'next_hop', 'bgp_next_hop', 'sampler_address', 'exporter_address', 'post_nat_src_addr', 'post_nat_dst_addr',
];
const MAC_FIELDS: readonly NumberField[] = ['src_mac', 'dst_mac'];
const ENUMS: ReadonlyMap<string, Record<string, string | number>> = new Map<string, Record<string, string | number>>([
  ['type', FlowType],
  ['flow_direction', FlowDirection],
  ['sampling_rate_source', SamplingRateSource],
]);
/** Times are selected by --from/--to (Kafka timestamps); lists have no single value. */
const NOT_FILTERABLE = new Map<string, string>([
  ['time_received_us', 'select times with --from/--to'], ['time_flow_start_us', 'select times with --from/--to'],
  ['time_flow_end_us', 'select times with --from/--to'],
]);

/** Numeric fields of the record (µs times excluded), found from the record itself. */
const NUMBER_FIELDS: ReadonlySet<string> = new Set(
  Object.entries(newFlowRecord()).filter(([k, v]) => typeof v === 'number' && !NOT_FILTERABLE.has(k)).map(([k]) => k),
);

function filterNames(): string[] {
  return ['addr', 'port', ...NUMBER_FIELDS, ...ADDRESS_FIELDS].sort();
}

const PROTOCOLS: ReadonlyMap<string, number> = new Map(
  Array.from({ length: 256 }, (_, n) => [protocolName(n), n] as const).filter((e): e is [string, number] => typeof e[0] === 'string'),
);

const EXPR = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=|>=|<=|=|>|<)\s*(.*?)\s*$/;

/** Parses and compiles every expression; the result is true when all conditions hold. */
export function compileFilters(exprs: readonly string[]): Predicate {
  const preds = exprs.map(parseFilter);
  if (preds.length === 0) return () => true;
  if (preds.length === 1) return preds[0];
  return (r) => {
    for (let i = 0; i < preds.length; i++) if (!preds[i](r)) return false;
    return true;
  };
}

export function parseFilter(expr: string): Predicate {
  const m = EXPR.exec(expr);
  const bad = (why: string): never => {
    throw new FilterError(`--filter ${JSON.stringify(expr)}: ${why}`);
  };
  if (!m) return bad('expected FIELD OP VALUE with OP one of = != > < >= <= (e.g. dst_port=443, src_addr=10.0.0.0/8, proto=tcp)');
  const [, field, rawOp, value] = m;
  const op: Op = rawOp === '==' ? '=' : (rawOp as Op);
  if (value === '') return bad(`no value after ${rawOp}`);
  const ctx: Ctx = { op, value, bad };

  if (field === 'addr') return either(op, addressPredicate(ctx, 'src_addr'), addressPredicate(ctx, 'dst_addr'));
  if (field === 'port') return either(op, numberPredicate(ctx, 'src_port', integer(ctx)), numberPredicate(ctx, 'dst_port', integer(ctx)));
  if ((ADDRESS_FIELDS as readonly string[]).includes(field)) return addressPredicate(ctx, field as BytesField);
  if ((MAC_FIELDS as readonly string[]).includes(field)) {
    if (op !== '=' && op !== '!=') bad(`${field} takes = or != only`);
    return numberPredicate(ctx, field as NumberField, mac(ctx));
  }
  const names = ENUMS.get(field);
  if (names) return numberPredicate(ctx, field as NumberField, enumValue(ctx, field, names));
  if (field === 'proto') return numberPredicate(ctx, 'proto', protocol(ctx));
  if (NUMBER_FIELDS.has(field)) return numberPredicate(ctx, field as NumberField, integer(ctx));
  const why = NOT_FILTERABLE.get(field) ?? NOT_FILTERABLE.get(field.replace(/_ns$/, '_us'));
  if (why) return bad(`${field} cannot be filtered: ${why}`);
  const near = closest(field, filterNames());
  return bad(`unknown field ${JSON.stringify(field)}${near ? ` (did you mean ${near}?)` : ''}; fields: ${filterNames().join(', ')}`);
}

interface Ctx {
  op: Op;
  value: string;
  bad(why: string): never;
}

/** `addr`/`port`: any side for =, <, >, ...; no side for != (each side's predicate is already a !=). */
function either(op: Op, a: Predicate, b: Predicate): Predicate {
  return op === '!=' ? (r) => a(r) && b(r) : (r) => a(r) || b(r);
}

function integer(c: Ctx): number {
  const v = c.value;
  const n = /^0x[0-9a-f]+$/i.test(v) ? parseInt(v.slice(2), 16) : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) c.bad(`${JSON.stringify(v)} is not a non-negative integer`);
  return n;
}

function protocol(c: Ctx): number {
  if (/^(0x[0-9a-f]+|\d+)$/i.test(c.value)) return integer(c);
  const n = PROTOCOLS.get(c.value.toLowerCase());
  if (n === undefined) {
    const near = closest(c.value.toLowerCase(), [...PROTOCOLS.keys()]);
    c.bad(`unknown protocol name ${JSON.stringify(c.value)}${near ? ` (did you mean ${near}?)` : ''}; use a number or one of tcp, udp, icmp, ipv6-icmp, gre, esp, sctp, ...`);
  }
  return n as number;
}

function enumValue(c: Ctx, field: string, names: Record<string, string | number>): number {
  if (/^\d+$/.test(c.value)) return integer(c);
  const key = Object.keys(names).find((k) => isNaN(Number(k)) && k.toLowerCase() === c.value.toLowerCase());
  if (key === undefined) {
    const all = Object.keys(names).filter((k) => isNaN(Number(k)));
    return c.bad(`${field} is one of ${all.join(', ')} (or a number), not ${JSON.stringify(c.value)}`);
  }
  return names[key] as number;
}

function mac(c: Ctx): number {
  if (/^\d+$/.test(c.value)) return integer(c);
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(c.value);
  if (!m) return c.bad(`${JSON.stringify(c.value)} is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  // 48 bits as a number, the way FlowRecord holds MACs.
  return m.slice(1).reduce((acc, h) => acc * 256 + parseInt(h, 16), 0);
}

function numberPredicate(c: Ctx, field: NumberField, n: number): Predicate {
  switch (c.op) {
    case '=': return (r) => r[field] === n;
    case '!=': return (r) => r[field] !== n;
    case '>': return (r) => r[field] > n;
    case '<': return (r) => r[field] < n;
    case '>=': return (r) => r[field] >= n;
    case '<=': return (r) => r[field] <= n;
  }
}

function addressPredicate(c: Ctx, field: BytesField): Predicate {
  if (c.op !== '=' && c.op !== '!=') return c.bad(`addresses take = or != only (an address or a CIDR block such as 10.0.0.0/8)`);
  const match = cidrMatcher(c);
  return c.op === '=' ? (r) => match(r[field]) : (r) => !match(r[field]);
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** A matcher for one address or CIDR block, comparing bytes under the prefix mask. */
function cidrMatcher(c: Ctx): (a: Uint8Array) => boolean {
  const [text, len, extra] = c.value.split('/');
  if (extra !== undefined) c.bad(`${JSON.stringify(c.value)} is not an address or CIDR block`);
  let net: Uint8Array;
  try {
    net = textToIp(text);
  } catch {
    return c.bad(`${JSON.stringify(text)} is not an IPv4 or IPv6 address`);
  }
  const bits = net.length * 8;
  let prefix = bits;
  if (len !== undefined) {
    if (!/^\d{1,3}$/.test(len) || Number(len) > bits) c.bad(`prefix length /${len} is not 0-${bits} for ${net.length === 4 ? 'IPv4' : 'IPv6'}`);
    prefix = Number(len);
  }
  // Host bits set under the prefix (10.1.2.3/8) are most likely a typo for the network.
  for (let bit = prefix; bit < bits; bit++) {
    if (net[bit >> 3] & (0x80 >> (bit & 7))) c.bad(`${c.value} has host bits set; did you mean ${networkText(net, prefix)}/${prefix}?`);
  }
  const whole = prefix >> 3;
  const rest = prefix & 7;
  const mask = rest ? (0xff00 >> rest) & 0xff : 0;
  const matchAt = (a: Uint8Array, off: number): boolean => {
    for (let i = 0; i < whole; i++) if (a[off + i] !== net[i]) return false;
    return rest === 0 || (a[off + whole] & mask) === net[whole];
  };
  if (net.length === 4) {
    return (a) => {
      if (a.length === 4) return matchAt(a, 0);
      if (a.length !== 16) return false;
      for (let i = 0; i < 12; i++) if (a[i] !== MAPPED_PREFIX[i]) return false;
      return matchAt(a, 12);
    };
  }
  return (a) => a.length === 16 && matchAt(a, 0);
}

function networkText(net: Uint8Array, prefix: number): string {
  const out = Uint8Array.from(net);
  for (let bit = prefix; bit < out.length * 8; bit++) out[bit >> 3] &= ~(0x80 >> (bit & 7));
  return ipToText(out);
}
