// sFlow interface counters → flowgate.InterfaceCounters bytes (codecs/counters.proto).
// Counter samples arrive a few per second per agent, so protobufjs's reflection encoder is
// fast enough here; the flow path has its own generated writer.

import Long from 'long';
import type { InterfaceCounters } from './flow-record';
import { countersMessageType } from './schema';

function u64(v: bigint): Long {
  return Long.fromString(v.toString(), true);
}

export function encodeCounters(c: InterfaceCounters): Buffer {
  const t = countersMessageType();
  const msg = t.fromObject({
    ...c,
    time_received_us: undefined,
    time_received_ns: Long.fromNumber(c.time_received_us, true).multiply(1000),
    if_speed: u64(c.if_speed),
    if_in_octets: u64(c.if_in_octets),
    if_out_octets: u64(c.if_out_octets),
  });
  return Buffer.from(t.encode(msg).finish());
}
