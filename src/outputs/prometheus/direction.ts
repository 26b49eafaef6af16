// Receive or transmit, from the operator's network's point of view (flow-exporter's meaning):
// receive = traffic towards us, transmit = traffic from us.
//
//   local_as:        dst_as local → receive, src_as local → transmit
//   local_prefixes:  dst_addr inside → receive, src_addr inside → transmit
//   neither given:   the record's flow_direction (ingress → receive, egress → transmit)
//
// A flow between two local endpoints is both (it is received by us and transmitted by us), so
// it counts in both families; a flow touching neither is `unclassified` and counted in the
// flow_unclassified_* families rather than guessed into one direction or silently dropped.

import { FlowDirection, type FlowRecord } from '../../canonical/flow-record';
import type { DirectionBy } from '../../config/types';
import { PrefixSet } from '../prefix';

export const RECEIVE = 1;
export const TRANSMIT = 2;
/** Bit set: 0 = unclassified, RECEIVE, TRANSMIT or both. */
export type Direction = number;

export type Classifier = (r: FlowRecord) => Direction;

export function classifier(by: DirectionBy | undefined): Classifier {
  if (!by) {
    return (r) => (r.flow_direction === FlowDirection.INGRESS ? RECEIVE : r.flow_direction === FlowDirection.EGRESS ? TRANSMIT : 0);
  }
  if ('local_as' in by) {
    const local = new Set(by.local_as);
    return (r) => (local.has(r.dst_as) ? RECEIVE : 0) | (local.has(r.src_as) ? TRANSMIT : 0);
  }
  const set = PrefixSet.parse(by.local_prefixes);
  return (r) => (set.has(r.dst_addr) ? RECEIVE : 0) | (set.has(r.src_addr) ? TRANSMIT : 0);
}
