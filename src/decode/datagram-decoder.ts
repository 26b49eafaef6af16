// The one entry point of the codec core: a datagram and its exporter in, canonical records
// and counted errors out. Picks the protocol (fixed per listener, or detected from the
// version field), owns the template/sampling state and ages it.

import { FlowEncoder } from '../canonical/flow-encoder';
import type { WireBatch } from '../canonical/wire-batch';
import { decodeIpfix } from './ipfix';
import { describeHeld } from './pending-queue';
import { defaultIeRegistry } from './information-elements';
import { decodeNetflow5 } from './netflow5';
import { decodeNetflow9 } from './netflow9';
import { decodeSflow } from './sflow';
import { TemplateState, type TemplateStateOptions } from './template-state';
import { addError, emptyOutput, type DecodeOutput, type Exporter, type Protocol } from './types';

export type ProtocolChoice = Protocol | 'auto';

export interface DatagramDecoderOptions extends Partial<TemplateStateOptions> {}

const SWEEP_INTERVAL_US = 1e6;

/**
 * By the first bytes: NetFlow v5/v9 and IPFIX start with a 16-bit version (5, 9, 10); sFlow
 * starts with a 32-bit version 5, so its first 16 bits are zero.
 */
export function detectProtocol(b: Buffer): Protocol | undefined {
  if (b.length < 4) return undefined;
  const v16 = b.readUInt16BE(0);
  if (v16 === 9) return 'netflow9';
  if (v16 === 10) return 'ipfix';
  if (v16 === 5) return 'netflow5';
  if (v16 === 0 && b.readUInt32BE(0) === 5) return 'sflow';
  return undefined;
}

export class DatagramDecoder {
  readonly state: TemplateState;
  private readonly encoder = new FlowEncoder();
  private lastSweepUs = 0;

  constructor(opts: DatagramDecoderOptions = {}) {
    this.state = new TemplateState({ ...opts, registry: opts.registry ?? defaultIeRegistry() });
  }

  /**
   * The ingest hot path: like decode(), but the records are appended to `batch` as encoded
   * canonical protobuf messages (out.flows stays empty). NetFlow v9 and IPFIX records go
   * from datagram bytes to protobuf bytes without a FlowRecord in between.
   */
  decodeWire(b: Buffer, exporter: Exporter, receivedUs: number, choice: ProtocolChoice, batch: WireBatch): DecodeOutput {
    return this.run(b, exporter, receivedUs, choice, batch);
  }

  /** Records as FlowRecord objects in out.flows (offline decode, converters, tests). */
  decode(b: Buffer, exporter: Exporter, receivedUs: number, choice: ProtocolChoice = 'auto'): DecodeOutput {
    return this.run(b, exporter, receivedUs, choice, undefined);
  }

  private run(b: Buffer, exporter: Exporter, receivedUs: number, choice: ProtocolChoice, wire: WireBatch | undefined): DecodeOutput {
    const detected = detectProtocol(b);
    let out: DecodeOutput;
    if (detected === undefined) {
      out = emptyOutput(undefined);
      const v = b.length >= 4 ? `0x${b.readUInt32BE(0).toString(16).padStart(8, '0')}` : `${b.length} bytes`;
      addError(out, b.length < 4 ? 'short_datagram' : 'unknown_protocol', `no flow protocol starts with ${v}`);
    } else if (choice !== 'auto' && choice !== detected) {
      out = emptyOutput(undefined);
      addError(out, 'unknown_protocol', `listener expects ${choice}, datagram looks like ${detected}`);
    } else {
      out = this.decodeAs(detected, b, exporter, receivedUs, wire);
    }
    if (receivedUs - this.lastSweepUs >= SWEEP_INTERVAL_US) this.sweep(receivedUs, out);
    return out;
  }

  /** Ages templates and held data; lost held data is reported on `out`. */
  sweep(nowUs: number, out: DecodeOutput): void {
    this.lastSweepUs = nowUs;
    this.state.templates.expire(nowUs);
    for (const s of this.state.pending.expire(nowUs)) {
      addError(out, 'pending_expired', `no ${describeHeld(s)} came within the hold time; ${s.body.length} bytes lost`);
    }
  }

  private decodeAs(p: Protocol, b: Buffer, exporter: Exporter, receivedUs: number, wire: WireBatch | undefined): DecodeOutput {
    // Decoders are written never to throw; this boundary keeps one bug from killing ingest.
    const mark = wire ? wire.count : 0;
    try {
      switch (p) {
        case 'netflow5': return this.toWire(decodeNetflow5(b, exporter, receivedUs, this.state.seq), wire);
        case 'netflow9': return decodeNetflow9(b, exporter, receivedUs, this.state, wire);
        case 'ipfix': return decodeIpfix(b, exporter, receivedUs, this.state, wire);
        case 'sflow': return this.toWire(decodeSflow(b, exporter, receivedUs, this.state.seq), wire);
      }
    } catch (e) {
      if (wire) wire.truncate(mark); // nothing half-written from the failed datagram
      const out = emptyOutput(p, wire);
      addError(out, 'internal_error', `${p} decoder threw: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      return out;
    }
  }

  /** v5 and sFlow build records (fixed layouts, nothing to compile); encode them here. */
  private toWire(out: DecodeOutput, wire: WireBatch | undefined): DecodeOutput {
    if (!wire) return out;
    this.encoder.writeBatch(wire, out.flows);
    out.flows.length = 0;
    out.wire = wire;
    return out;
  }
}
