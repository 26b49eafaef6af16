// `flowgate decode FILE.pcap`: offline decode of every UDP payload of a capture, one line per
// flow on stdout. Counter samples and the summary go to other streams so the flow lines stay
// machine-readable.

import { createWriteStream, type WriteStream } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { compactJson, countersToJson, flowToJson, type JsonObject, type JsonValue } from '../canonical/flow-json';
import { DatagramDecoder, type ProtocolChoice } from '../decode/datagram-decoder';
import { emptyOutput, PROTOCOLS, type DecodeOutput } from '../decode/types';
import { streamCaptureFile, type CapturedDatagram } from '../pcap/reader';
import { makeExporter } from '../util/ip';

export interface DecodeCommandOptions {
  format: 'jsonl' | 'csv';
  fields?: string[];
  protocol: ProtocolChoice;
  counters: string;   // '-' stderr, 'none', or a file path
  summary: string;    // same
  verbose: boolean;
  /** JSON lines without fields at their default value. */
  compact?: boolean;
}

export const DEFAULT_CSV_FIELDS = [
  'type', 'time_flow_start_ns', 'time_flow_end_ns', 'src_addr', 'dst_addr', 'src_port', 'dst_port', 'proto',
  'bytes', 'packets', 'tcp_flags', 'ip_tos', 'in_if', 'out_if', 'sampling_rate', 'sampler_address',
];

export interface DecodeSummary {
  file: string;
  packets: number;
  datagrams: number;
  records: number;
  counter_samples: number;
  sequence_gaps: number;
  errors: Record<string, number>;
  skipped_packets: Record<string, number>;
  by_protocol: Record<string, number>;
}

type Sink = { write(s: string): unknown; end?: () => void };

function openSink(target: string): Sink | undefined {
  if (target === 'none') return undefined;
  if (target === '-' || target === 'stderr') return process.stderr;
  if (target === 'stdout') return process.stdout;
  return createWriteStream(target);
}

function csvCell(v: JsonValue | undefined): string | number {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(' ');
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return v;
}

export function runDecode(file: string, o: DecodeCommandOptions): DecodeSummary {
  const decoder = new DatagramDecoder();
  const summary: DecodeSummary = {
    file, packets: 0, datagrams: 0, records: 0, counter_samples: 0, sequence_gaps: 0,
    errors: {}, skipped_packets: {}, by_protocol: {},
  };
  const counters = openSink(o.counters);
  const fields = o.fields ?? DEFAULT_CSV_FIELDS;
  const lines: string[] = [];
  if (o.format === 'csv') lines.push(stringify([fields]));

  const flush = (): void => {
    if (lines.length) process.stdout.write(lines.join(''));
    lines.length = 0;
  };
  // Streamed: a capture of any size is decoded in bounded memory, datagram by datagram.
  const onDatagram = (d: CapturedDatagram): void => {
    summary.datagrams++;
    const out = decoder.decode(d.payload, makeExporter(d.srcAddr, d.srcPort), d.timestampUs, o.protocol);
    account(summary, out, o.verbose);
    if (o.format === 'csv') {
      // One csv-stringify call per datagram, not per row: the call overhead dominated.
      if (out.flows.length) lines.push(stringify(out.flows.map((r) => { const j = flowToJson(r); return fields.map((f) => csvCell(j[f])); })));
    } else {
      for (const r of out.flows) lines.push(`${JSON.stringify(o.compact ? compactJson(flowToJson(r)) : flowToJson(r))}\n`);
    }
    if (counters) for (const c of out.counters) counters.write(`${JSON.stringify({ counters: countersToJson(c) })}\n`);
    if (lines.length > 4096) flush();
  };
  const capture = streamCaptureFile(file, onDatagram);
  summary.packets = capture.packets;
  summary.skipped_packets = capture.skipped;
  // Data still waiting for a template at the end of the capture is lost: say so.
  const tail = emptyOutput(undefined);
  decoder.sweep(Number.MAX_SAFE_INTEGER, tail);
  account(summary, tail, o.verbose);
  flush();
  const sum = openSink(o.summary);
  if (sum) sum.write(`${JSON.stringify({ summary: summary as unknown as JsonObject })}\n`);
  for (const s of [counters, sum]) if (s && s !== process.stderr && s !== process.stdout) (s as WriteStream).end();
  return summary;
}

function account(s: DecodeSummary, out: DecodeOutput, verbose: boolean): void {
  s.records += out.flows.length;
  s.counter_samples += out.counters.length;
  s.sequence_gaps += out.sequenceGap;
  if (out.protocol) s.by_protocol[out.protocol] = (s.by_protocol[out.protocol] ?? 0) + out.flows.length;
  for (const e of out.errors) {
    s.errors[e.reason] = (s.errors[e.reason] ?? 0) + e.count;
    if (verbose) process.stderr.write(`${JSON.stringify({ error: e.reason, detail: e.detail })}\n`);
  }
}

export function parseProtocol(v: string): ProtocolChoice {
  if (v === 'auto' || (PROTOCOLS as readonly string[]).includes(v)) return v as ProtocolChoice;
  throw new Error(`--protocol must be one of auto, ${PROTOCOLS.join(', ')} (got ${JSON.stringify(v)})`);
}
