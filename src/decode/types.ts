// What every decoder takes and gives. Decoders are pure: bytes + exporter in, records and
// counted errors out. No sockets, no clocks (the caller passes the receive time), no Kafka.

import type { FlowRecord, InterfaceCounters } from '../canonical/flow-record';
import type { WireBatch } from '../canonical/wire-batch';

export type Protocol = 'netflow5' | 'netflow9' | 'ipfix' | 'sflow';
export const PROTOCOLS: readonly Protocol[] = ['netflow5', 'netflow9', 'ipfix', 'sflow'];

/** The UDP peer a datagram came from. */
export interface Exporter {
  /** 4 or 16 bytes, network order. */
  readonly address: Uint8Array;
  readonly port: number;
  /** "address|port" text: the stable map key for per-exporter state. */
  readonly key: string;
  /** Printable address (dotted quad or RFC 5952 IPv6). */
  readonly addressText: string;
}

/**
 * Why a datagram, set or record was not decoded. These strings are metric label values
 * (flowgate_decode_errors_total{reason}) and summary keys: keep them stable.
 */
export type ErrorReason =
  | 'unknown_protocol'      // version field matches no supported protocol
  | 'short_datagram'        // shorter than the protocol header
  | 'bad_header'            // header fields impossible (count, length, version mismatch)
  | 'bad_set'               // a set/flowset length is out of bounds or below its header
  | 'truncated'             // a record or sample runs past the end of its container
  | 'bad_template'          // template definition invalid (zero fields, zero length, loops)
  | 'template_limit'        // per-exporter limit on templates/fields/bytes reached
  | 'template_missing'      // data set for a template not (yet) known; held in the pending queue
  | 'pending_overflow'      // pending queue full: the oldest held data was dropped (lost)
  | 'pending_expired'       // held data whose template never came in time (lost)
  | 'bad_record'            // a record's content is invalid (e.g. variable length overruns)
  | 'unsupported'           // well-formed but of a kind we do not decode (counted, skipped)
  | 'no_system_init_time'   // IPFIX sysUpTime-relative times before systemInitTimeMilliseconds was seen: times left 0
  | 'sequence_gap'          // not an error of this datagram: records lost upstream
  | 'internal_error';       // a decoder bug caught at the boundary (never expected; report it)

export interface DecodeError {
  reason: ErrorReason;
  /** Human-readable detail for logs; never used as a metric label. */
  detail: string;
  /** How many units this error stands for (records lost, sets dropped); 1 when unknown. */
  count: number;
  /** Address text of the exporter whose data this concerns, when not the datagram's own
   * (pending_overflow under the global pending limit can drop another exporter's held data). */
  exporter?: string;
}

export interface DecodeOutput {
  protocol: Protocol | undefined;
  flows: FlowRecord[];
  counters: InterfaceCounters[];
  errors: DecodeError[];
  /** Records (v9: datagrams, sFlow: samples) the sequence numbers say were lost before this one. */
  sequenceGap: number;
  /** Set by the caller for the direct-to-wire path: records are written here as protobuf
   * instead of being built as FlowRecords in `flows`. */
  wire: WireBatch | undefined;
}

export function emptyOutput(protocol: Protocol | undefined, wire?: WireBatch): DecodeOutput {
  return { protocol, flows: [], counters: [], errors: [], sequenceGap: 0, wire };
}

export function addError(out: DecodeOutput, reason: ErrorReason, detail: string, count = 1): void {
  out.errors.push({ reason, detail, count });
}
