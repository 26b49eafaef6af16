/**
 * tshark as an independent oracle for flow decoding.
 *
 * `tsharkFlows()` runs
 *
 *     tshark -r FILE -n -d udp.port==PORT,cflow|sflow -Y cflow|sflow -T json --no-duplicate-keys
 *
 * (with TZ=UTC so absolute times print as UTC) and normalises every flow record that
 * tshark dissects into an `OracleFlow`. flowgate's `decode --format jsonl` output is
 * compared with it record for record, so every normalisation is spelled out here.
 *
 * JSON shape (tshark 4.0, verified on the fixtures and the shared captures):
 *  - one element per frame; `_source.layers` holds `frame`, `ip`/`ipv6`, `udp` and
 *    `cflow` or `sflow` objects; every value is a STRING (numbers too, hex ones as "0x..");
 *  - `--no-duplicate-keys` turns keys repeated inside one object into an ARRAY of their
 *    values (e.g. two sFlow samples titled "Counters sample, seq 28", or two
 *    "cflow.padding" fields), so every lookup here accepts scalar-or-array;
 *  - NetFlow v5 records are subtrees "pdu N/M" directly under `cflow`;
 *  - NetFlow v9 / IPFIX records are subtrees "Flow N" under each
 *    "FlowSet N [id=X] (...)" (v9) / "Set N [id=X] (...)" (IPFIX) subtree; options data
 *    records use the same "Flow N" shape;
 *  - time fields sit one level down, in "cflow.timedelta_tree" (start/end), and header
 *    seconds in "cflow.timestamp_tree";
 *  - sFlow samples are subtrees "Flow sample, seq N" / "Expanded flow sample, seq N"
 *    under `sflow`; the "Raw packet header" record holds "sflow_245.header_tree" with
 *    the inner layers (`eth`, `vlan`, `ip`/`ipv6`, `tcp`/`udp`/`icmp`/`icmpv6`, ...).
 *
 * Normalisations (the decoder must apply the same ones to compare equal):
 *  - addresses: tshark's text form (dotted quad; IPv6 in RFC 5952 compressed form). A
 *    record with both IPv4 and IPv6 address fields gives the family that is not the
 *    unspecified address (0.0.0.0 / ::), IPv4 when both or neither are;
 *  - ports: L4 ports if the record carries them, else 0. ICMP convention: for protocol
 *    1 or 58 with both ports 0 (or absent) and an ICMP type/code in the record
 *    (v9/IPFIX IE 32 icmpTypeCodeIPv4, IE 139 icmpTypeCodeIPv6, IEs 176-179), the
 *    oracle sets dst_port = type * 256 + code and src_port = 0 — what softflowd's v5
 *    export (and Cisco, nfdump) put in the port fields anyway. sFlow: the same rule
 *    applied to the inner ICMP header;
 *  - bytes/packets: the record's IN_BYTES/IN_PKTS (IE 1/2), else octetTotalCount /
 *    packetTotalCount (IE 85/86), else 0. As exported: NOT multiplied by any sampling
 *    rate. sFlow: bytes = the raw header record's frame_length (as sent; pmacct's sfprobe
 *    counts a 4-byte FCS: frame_length = wire length + 4, "stripped" 4), packets = 1;
 *  - start_ms / end_ms: integer milliseconds since the epoch, or null:
 *      * absolute record times (IEs 150-157, tshark `cflow.abstimestart/abstimeend`):
 *        parsed, sub-millisecond digits truncated. Exception (tshark quirk): tshark
 *        prints a sysUptime-relative FIRST/LAST_SWITCHED of exactly 0 as the absolute
 *        time 1970-01-01T00:00:00; such a value is read back as relative 0;
 *      * NetFlow v5 / v9 sysUptime-relative times (FIRST_SWITCHED/LAST_SWITCHED, tshark
 *        `cflow.timestart/timeend`, which tshark shows as the RAW uptime value, not
 *        converted): ms = unix_secs*1000 + floor(unix_nsecs/1e6) - sysUptime_ms + first_ms.
 *        v9 headers have no nsecs field, so there unix_nsecs = 0 and the result can be up
 *        to 999 ms earlier than the exporter's real clock (a protocol limitation);
 *      * IPFIX sysUpTime-relative times (IE 22/21, softflowd): tshark shows them relative
 *        and does NOT apply systemInitTimeMilliseconds (IE 160); the oracle does:
 *        ms = systemInitTimeMilliseconds + first_ms, with IE 160 taken from an options
 *        data record of the same exporter (source address:port) and observation domain
 *        seen in this or an EARLIER frame of the capture; unknown → null;
 *      * sFlow: always null (flow samples carry no timestamps);
 *  - tcp_flags: the record's TCP_FLAGS (IE 6), else null. sFlow: the low 8 bits of the
 *    inner TCP header's flags (CWR..FIN), else null;
 *  - tos: the record's IP_TOS (IE 5), else null. sFlow: inner IPv4 DS field / IPv6
 *    traffic class (full byte, DSCP<<2 | ECN);
 *  - in_if/out_if: INPUT_SNMP/OUTPUT_SNMP (IE 10/14), else null. v5: the record's
 *    input/output fields. sFlow: input = the raw 32-bit input field (compact sample) or
 *    input value (expanded); output = output value only when its format is 0 (single
 *    ifIndex), else null;
 *  - sampling_rate: sFlow: the flow sample's sampling_rate. NetFlow v5: the header's
 *    sampling interval when non-zero, else null. v9/IPFIX: only when the flow record
 *    itself carries SAMPLING_INTERVAL (IE 34), samplerRandomInterval (IE 50) or
 *    samplingPacketInterval (IE 305), else the interval that options data of the same
 *    exporter and domain gave for the record's sampler ID (or for no sampler ID), seen in
 *    this or an earlier frame (pmacct's records carry only a sampler ID); else null.
 *
 * Only datagrams of the requested version are read (netflow5 → 5, netflow9 → 9,
 * ipfix → 10); other NetFlow versions on the same port are ignored.
 *
 * What counts as a flow record: a NetFlow record (v5 "pdu", v9/IPFIX "Flow") that has a
 * source or destination address (IPv4 or IPv6). Options data records (sampling, system
 * init time, interface names) are not flows. sFlow: a flow sample (compact or expanded)
 * with a "Raw packet header" record whose inner packet is IPv4 or IPv6 (first/outer IP
 * header); counter samples and non-IP samples are not flows.
 *
 * Known tshark limits (see also test/tshark-oracle.test.ts):
 *  - NetFlow v9: tshark stops at the next flowset boundary once the records it has
 *    dissected (each template, options template and data record counts one) reach the
 *    header `count`. softflowd 1.1.0 puts only the number of DATA records in `count`
 *    (RFC 3954 wants all records), so in its template-bearing datagrams (the first and
 *    every 16th) tshark may drop the tail. Observed: softflowd -v 9 fed IPv6-only
 *    traffic sends count=2 in a datagram holding 4 templates, an options template,
 *    options data and 2 data records; tshark dissects the two IPv4 templates only, never
 *    learns the IPv6 templates, and decodes NO record of the whole export.
 *    `tsharkDatagrams()` flags such frames (`stopped_early`: fewer bytes dissected than
 *    the UDP payload; `missing_template_flowsets`). None of the committed fixtures is
 *    affected (checked by test/tshark-oracle.test.ts).
 *  - Templates only live inside one capture: data whose template was sent before the
 *    capture started is not dissected (no records, `missing_template_flowsets` > 0).
 *  - sFlow raw headers: tshark hands the XDR-padded header (rounded up to 4 bytes) to
 *    the Ethernet dissector, so padding shows up as an Ethernet "trailer"; harmless for
 *    the fields used here.
 */
import { execFileSync } from 'child_process';
import { requireTool } from './tools';

export type OracleProtocol = 'netflow5' | 'netflow9' | 'ipfix' | 'sflow';

export interface OracleFlow {
  frame: number; // frame number in the capture (1-based)
  src_addr: string;
  dst_addr: string; // text; IPv6 in tshark's (RFC 5952) form
  src_port: number;
  dst_port: number;
  proto: number;
  bytes: number;
  packets: number;
  start_ms: number | null;
  end_ms: number | null; // absolute ms since epoch; sFlow: null
  tcp_flags: number | null;
  tos: number | null;
  in_if: number | null;
  out_if: number | null;
  sampling_rate: number | null; // sFlow: the sample's rate; v9/IPFIX: only if the record carries one
}

/** Per-datagram view of what tshark did with each frame (for spotting tshark gaps). */
export interface OracleDatagram {
  frame: number;
  version: number; // 5, 9, 10 (IPFIX) or 5 (sFlow v5)
  exporter: string; // "source address:source port" of the UDP datagram
  domain: number | null; // v9 source ID, IPFIX observation domain, sFlow sub-agent ID; v5: engine id
  sequence: number | null;
  header_count: number | null; // v5/v9 header count, sFlow number of samples; IPFIX: null
  payload_length: number; // UDP payload bytes
  dissected_length: number | null; // header + sum of dissected flowset lengths (NetFlow), else null
  stopped_early: boolean; // tshark dissected fewer bytes than the datagram holds
  missing_template_flowsets: number; // data flowsets tshark could not decode (template unknown)
  flows: number; // OracleFlows produced from this frame
}

export interface OracleResult {
  flows: OracleFlow[];
  datagrams: OracleDatagram[];
}

// ------------------------------------------------------------------- JSON helpers

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A key's value as a list: arrays as they are, a scalar/object as [it], absent as []. */
function asList(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function objs(v: unknown): Obj[] {
  return asList(v).filter(isObj);
}

function firstObj(v: unknown): Obj | undefined {
  return objs(v)[0];
}

/** First string value of `key` in `o` (tshark repeats fields as arrays). */
function str(o: Obj | undefined, key: string): string | undefined {
  if (o === undefined) return undefined;
  for (const v of asList(o[key])) {
    if (typeof v === 'string') return v;
  }
  return undefined;
}

/** Field lookup in a record and, one level down, in its "*_tree" children. */
function field(o: Obj, key: string): string | undefined {
  const direct = str(o, key);
  if (direct !== undefined) return direct;
  for (const [k, v] of Object.entries(o)) {
    if (!k.endsWith('_tree')) continue;
    for (const child of objs(v)) {
      const hit = str(child, key);
      if (hit !== undefined) return hit;
    }
  }
  return undefined;
}

/** tshark integer text: decimal or 0x-hex. */
function parseIntText(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  let n: number;
  if (/^0x[0-9a-f]+$/i.test(t)) n = parseInt(t.slice(2), 16);
  else if (/^-?\d+$/.test(t)) n = Number(t);
  else return undefined;
  if (!Number.isSafeInteger(n)) throw new Error(`tshark oracle: integer ${t} exceeds 2^53`);
  return n;
}

function num(o: Obj | undefined, key: string): number | undefined {
  return parseIntText(str(o, key));
}

function fnum(o: Obj, key: string): number | undefined {
  return parseIntText(field(o, key));
}

/** Relative time text "SSS.nnnnnnnnn" (seconds) → integer ms (truncated). */
function relMs(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const m = /^(\d+)(?:\.(\d+))?$/.exec(s.trim());
  if (!m) return undefined;
  const frac = (m[2] ?? '').padEnd(3, '0').slice(0, 3);
  return Number(m[1]) * 1000 + Number(frac);
}

const MONTHS: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};

/** Absolute time text "Jun  1, 2024 00:00:00.865000000 UTC" → epoch ms (truncated). */
function absMs(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const m = /^([A-Z][a-z]{2})\s+(\d{1,2}), (\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))? UTC$/.exec(s.trim());
  if (!m) return undefined;
  const month = MONTHS[m[1]];
  if (month === undefined) return undefined;
  const frac = (m[7] ?? '').padEnd(3, '0').slice(0, 3);
  return (
    Date.UTC(Number(m[3]), month, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6])) + Number(frac)
  );
}

// ------------------------------------------------------------------ running tshark

function runTshark(pcapPath: string, protocol: OracleProtocol, udpPort: number): unknown[] {
  const tshark = requireTool('tshark', 'tshark');
  const dissector = protocol === 'sflow' ? 'sflow' : 'cflow';
  const args = [
    '-r', pcapPath,
    '-n',
    '-d', `udp.port==${udpPort},${dissector}`,
    '-Y', dissector,
    '-T', 'json',
    '--no-duplicate-keys',
  ];
  let out: string;
  try {
    out = execFileSync(tshark, args, {
      encoding: 'utf8',
      maxBuffer: 1024 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' },
    });
  } catch (err: unknown) {
    const stderr =
      isObj(err) && (typeof err.stderr === 'string' || Buffer.isBuffer(err.stderr)) ? String(err.stderr) : '';
    throw new Error(`tshark failed on ${pcapPath}: ${err instanceof Error ? err.message : String(err)}\n${stderr}`);
  }
  const trimmed = out.trim();
  if (trimmed === '') return [];
  const parsed: unknown = JSON.parse(trimmed);
  if (!Array.isArray(parsed)) throw new Error(`tshark -T json on ${pcapPath}: expected an array`);
  return parsed;
}

interface FrameLayers {
  frame: number;
  layers: Obj;
  exporter: string;
  payloadLength: number;
}

function frameLayers(packet: unknown): FrameLayers | undefined {
  if (!isObj(packet)) return undefined;
  const source = packet._source;
  if (!isObj(source)) return undefined;
  const layers = source.layers;
  if (!isObj(layers)) return undefined;
  const frame = num(firstObj(layers.frame), 'frame.number');
  if (frame === undefined) return undefined;
  const ip = firstObj(layers.ip);
  const ipv6 = firstObj(layers.ipv6);
  const udp = firstObj(layers.udp);
  const srcAddr = str(ip, 'ip.src') ?? str(ipv6, 'ipv6.src') ?? '?';
  const srcPort = num(udp, 'udp.srcport');
  const udpLen = num(udp, 'udp.length');
  return {
    frame,
    layers,
    exporter: `${srcAddr}:${srcPort ?? '?'}`,
    payloadLength: udpLen === undefined ? 0 : udpLen - 8,
  };
}

// ------------------------------------------------------------------------ NetFlow

const RECORD_KEY = /^(pdu \d+\/\d+|Flow \d+)$/;

/** All record subtrees ("pdu N/M", "Flow N") in document order. */
function collectRecords(o: Obj, out: Obj[]): Obj[] {
  for (const [k, v] of Object.entries(o)) {
    if (RECORD_KEY.test(k)) {
      out.push(...objs(v));
    } else {
      for (const child of objs(v)) collectRecords(child, out);
    }
  }
  return out;
}

/**
 * A record may carry IPv4 AND IPv6 address fields (Cisco v9 template 313 in
 * pmacct_102: IPV6_SRC_ADDR = :: next to the real IP_SRC_ADDR). Prefer the family whose
 * value is not the unspecified address; IPv4 first when both (or neither) are.
 */
function pickAddr(v4: string | undefined, v6: string | undefined): string | undefined {
  if (v4 !== undefined && v4 !== '0.0.0.0') return v4;
  if (v6 !== undefined && v6 !== '::') return v6;
  return v4 ?? v6;
}

function icmpTypeCode(rec: Obj): number | undefined {
  const packed = fnum(rec, 'cflow.icmp_type_code_ipv4') ?? fnum(rec, 'cflow.icmp_type_code_ipv6');
  if (packed !== undefined) return packed;
  const t = fnum(rec, 'cflow.icmp_ipv4_type') ?? fnum(rec, 'cflow.icmp_ipv6_type');
  const c = fnum(rec, 'cflow.icmp_ipv4_code') ?? fnum(rec, 'cflow.icmp_ipv6_code');
  if (t === undefined && c === undefined) return undefined;
  return (t ?? 0) * 256 + (c ?? 0);
}

const NETFLOW_VERSION: Record<OracleProtocol, number> = { netflow5: 5, netflow9: 9, ipfix: 10, sflow: 5 };

function netflowFrames(packets: unknown[], protocol: OracleProtocol): OracleResult {
  const wanted = NETFLOW_VERSION[protocol];
  const flows: OracleFlow[] = [];
  const datagrams: OracleDatagram[] = [];
  // IPFIX systemInitTimeMilliseconds per exporter + observation domain.
  const sysInit = new Map<string, number>();
  // Sampling from options data per exporter + domain: sampler id → 1-in-N. tshark does not
  // link options data to flow records; the oracle does, as RFC 3954 §6.1 / RFC 7012 mean.
  const samplers = new Map<string, Map<number, number>>();

  for (const packet of packets) {
    const fl = frameLayers(packet);
    if (fl === undefined) continue;
    for (const cflow of objs(fl.layers.cflow)) {
      const version = num(cflow, 'cflow.version') ?? 0;
      if (version !== wanted) continue; // another NetFlow version on the same port: not asked for
      const ts = firstObj(cflow['cflow.timestamp_tree']);
      const unixSecs = num(ts, 'cflow.unix_secs') ?? num(ts, 'cflow.exporttime');
      const unixNsecs = num(ts, 'cflow.unix_nsecs') ?? 0;
      const sysUptimeMs = relMs(str(cflow, 'cflow.sysuptime'));
      const domain =
        version === 10
          ? num(cflow, 'cflow.od_id')
          : version === 9
            ? num(cflow, 'cflow.source_id')
            : num(cflow, 'cflow.engine_id');
      const domainKey = `${fl.exporter}/${domain ?? 0}`;
      const headerSampling = version === 5 ? num(cflow, 'cflow.samplerate') : undefined;

      // Header + flowset lengths actually dissected.
      let dissected: number | null = null;
      let missingTemplates = 0;
      if (version === 5) {
        dissected = 24 + 48 * collectRecords(cflow, []).length;
      } else {
        dissected = version === 10 ? 16 : 20;
        for (const [k, v] of Object.entries(cflow)) {
          if (!/^(FlowSet|Set) \d+/.test(k)) continue;
          for (const fs of objs(v)) {
            dissected += num(fs, 'cflow.flowset_length') ?? 0;
            if (fs['cflow.no_template_found'] !== undefined) missingTemplates++;
          }
        }
      }

      const records = collectRecords(cflow, []);
      // Options records first: systemInitTimeMilliseconds (IE 160).
      for (const rec of records) {
        const init = absMs(field(rec, 'cflow.sys_init_time'));
        if (init !== undefined) sysInit.set(domainKey, init);
        const isFlow = field(rec, 'cflow.srcaddr') !== undefined || field(rec, 'cflow.srcaddrv6') !== undefined;
        // RFC 5477: 1-in-N = (samplingPacketInterval + samplingPacketSpace) / interval.
        const pInterval = fnum(rec, 'cflow.sampling_packet_interval');
        const pSpace = fnum(rec, 'cflow.sampling_packet_space') ?? 0;
        const interval =
          fnum(rec, 'cflow.sampler_random_interval') ??
          fnum(rec, 'cflow.sampling_interval') ??
          (pInterval !== undefined && pInterval > 0 ? Math.round((pInterval + pSpace) / pInterval) : undefined);
        if (!isFlow && interval !== undefined && interval > 0) {
          const m = samplers.get(domainKey) ?? new Map<number, number>();
          m.set(fnum(rec, 'cflow.sampler_id') ?? 0, interval);
          samplers.set(domainKey, m);
        }
      }

      let produced = 0;
      for (const rec of records) {
        const src = pickAddr(field(rec, 'cflow.srcaddr'), field(rec, 'cflow.srcaddrv6'));
        const dst = pickAddr(field(rec, 'cflow.dstaddr'), field(rec, 'cflow.dstaddrv6'));
        if (src === undefined && dst === undefined) continue; // options data, not a flow

        const proto = fnum(rec, 'cflow.protocol') ?? 0;
        let srcPort = fnum(rec, 'cflow.srcport') ?? 0;
        let dstPort = fnum(rec, 'cflow.dstport') ?? 0;
        if ((proto === 1 || proto === 58) && srcPort === 0 && dstPort === 0) {
          const tc = icmpTypeCode(rec);
          if (tc !== undefined) {
            srcPort = 0;
            dstPort = tc;
          }
        }

        let startMs: number | null = null;
        let endMs: number | null = null;
        let absStart = absMs(field(rec, 'cflow.abstimestart'));
        let absEnd = absMs(field(rec, 'cflow.abstimeend'));
        let relStart = relMs(field(rec, 'cflow.timestart'));
        let relEnd = relMs(field(rec, 'cflow.timeend'));
        // tshark quirk: a FIRST/LAST_SWITCHED (sysUptime-relative) value of exactly 0
        // is printed as the ABSOLUTE time 1970-01-01T00:00:00 (packet-cflow.c picks
        // hf_cflow_timestart only `if (msec_start)`). Read it back as relative 0.
        if (absStart === 0 && relStart === undefined) {
          absStart = undefined;
          relStart = 0;
        }
        if (absEnd === 0 && relEnd === undefined) {
          absEnd = undefined;
          relEnd = 0;
        }
        if (absStart !== undefined) startMs = absStart;
        if (absEnd !== undefined) endMs = absEnd;
        if (version === 5 || version === 9) {
          if (unixSecs !== undefined && sysUptimeMs !== undefined) {
            const headerMs = unixSecs * 1000 + Math.floor(unixNsecs / 1e6);
            if (startMs === null && relStart !== undefined) startMs = headerMs - sysUptimeMs + relStart;
            if (endMs === null && relEnd !== undefined) endMs = headerMs - sysUptimeMs + relEnd;
          }
        } else if (version === 10) {
          const init = sysInit.get(domainKey);
          if (init !== undefined) {
            if (startMs === null && relStart !== undefined) startMs = init + relStart;
            if (endMs === null && relEnd !== undefined) endMs = init + relEnd;
          }
        }

        let sampling: number | null = null;
        if (version === 5) {
          sampling = headerSampling !== undefined && headerSampling > 0 ? headerSampling : null;
        } else {
          sampling =
            fnum(rec, 'cflow.sampling_interval') ??
            fnum(rec, 'cflow.sampler_random_interval') ??
            fnum(rec, 'cflow.sampling_packet_interval') ??
            null;
          const known = samplers.get(domainKey);
          if (sampling === null && known !== undefined) {
            sampling = known.get(fnum(rec, 'cflow.sampler_id') ?? 0) ?? known.get(0) ?? null;
          }
        }

        flows.push({
          frame: fl.frame,
          src_addr: src ?? '',
          dst_addr: dst ?? '',
          src_port: srcPort,
          dst_port: dstPort,
          proto,
          bytes: fnum(rec, 'cflow.octets') ?? fnum(rec, 'cflow.permanent_octets') ?? 0,
          packets: fnum(rec, 'cflow.packets') ?? fnum(rec, 'cflow.permanent_packets') ?? 0,
          start_ms: startMs,
          end_ms: endMs,
          tcp_flags: fnum(rec, 'cflow.tcpflags') ?? null,
          tos: fnum(rec, 'cflow.tos') ?? null,
          in_if: fnum(rec, 'cflow.inputint') ?? null,
          out_if: fnum(rec, 'cflow.outputint') ?? null,
          sampling_rate: sampling,
        });
        produced++;
      }

      datagrams.push({
        frame: fl.frame,
        version,
        exporter: fl.exporter,
        domain: domain ?? null,
        sequence: num(cflow, 'cflow.sequence') ?? null,
        header_count: version === 10 ? null : num(cflow, 'cflow.count') ?? null,
        payload_length: fl.payloadLength,
        dissected_length: dissected,
        stopped_early: dissected !== null && dissected < fl.payloadLength,
        missing_template_flowsets: missingTemplates,
        flows: produced,
      });
    }
  }
  return { flows, datagrams };
}

// -------------------------------------------------------------------------- sFlow

const FLOW_SAMPLE_KEY = /^(Expanded )?[Ff]low sample\b/;

function sflowFrames(packets: unknown[]): OracleResult {
  const flows: OracleFlow[] = [];
  const datagrams: OracleDatagram[] = [];

  for (const packet of packets) {
    const fl = frameLayers(packet);
    if (fl === undefined) continue;
    for (const sflow of objs(fl.layers.sflow)) {
      let produced = 0;
      for (const [key, value] of Object.entries(sflow)) {
        if (!FLOW_SAMPLE_KEY.test(key)) continue;
        for (const sample of objs(value)) {
          const flow = sflowSample(fl.frame, sample);
          if (flow !== undefined) {
            flows.push(flow);
            produced++;
          }
        }
      }
      datagrams.push({
        frame: fl.frame,
        version: num(sflow, 'sflow_245.version') ?? 0,
        exporter: fl.exporter,
        domain: num(sflow, 'sflow_245.sub_agent_id') ?? null,
        sequence: num(sflow, 'sflow_245.sequence_number') ?? null,
        header_count: num(sflow, 'sflow_245.numsamples') ?? null,
        payload_length: fl.payloadLength,
        dissected_length: null,
        stopped_early: false,
        missing_template_flowsets: 0,
        flows: produced,
      });
    }
  }
  return { flows, datagrams };
}

function sflowSample(frame: number, sample: Obj): OracleFlow | undefined {
  const raw = firstObj(sample['Raw packet header']);
  if (raw === undefined) return undefined;
  const tree = firstObj(raw['sflow_245.header_tree']);
  if (tree === undefined) return undefined;

  // First (outer) IP header, in the order tshark dissected the layers.
  let ipKey: 'ip' | 'ipv6' | undefined;
  for (const k of Object.keys(tree)) {
    if (k === 'ip' || k === 'ipv6') {
      ipKey = k;
      break;
    }
  }
  if (ipKey === undefined) return undefined; // not an IP packet
  const ip = firstObj(tree[ipKey]);
  if (ip === undefined) return undefined;

  const tcp = firstObj(tree.tcp);
  const udp = firstObj(tree.udp);
  const sctp = firstObj(tree.sctp);
  const icmp = firstObj(tree.icmp) ?? firstObj(tree.icmpv6);

  let src: string | undefined;
  let dst: string | undefined;
  let proto: number;
  let tos: number | null;
  if (ipKey === 'ip') {
    src = str(ip, 'ip.src');
    dst = str(ip, 'ip.dst');
    proto = num(ip, 'ip.proto') ?? 0;
    tos = num(ip, 'ip.dsfield') ?? null;
  } else {
    src = str(ip, 'ipv6.src');
    dst = str(ip, 'ipv6.dst');
    // ipv6.nxt is the FIRST next header; prefer the transport layer tshark found.
    proto = tcp ? 6 : udp ? 17 : sctp ? 132 : tree.icmpv6 !== undefined ? 58 : num(ip, 'ipv6.nxt') ?? 0;
    const tclass = num(ip, 'ipv6.tclass');
    tos = tclass === undefined ? null : tclass & 0xff;
  }
  if (src === undefined || dst === undefined) return undefined;

  let srcPort = 0;
  let dstPort = 0;
  let tcpFlags: number | null = null;
  if (tcp) {
    srcPort = num(tcp, 'tcp.srcport') ?? 0;
    dstPort = num(tcp, 'tcp.dstport') ?? 0;
    const flags = num(tcp, 'tcp.flags');
    tcpFlags = flags === undefined ? null : flags & 0xff;
  } else if (udp) {
    srcPort = num(udp, 'udp.srcport') ?? 0;
    dstPort = num(udp, 'udp.dstport') ?? 0;
  } else if (sctp) {
    srcPort = num(sctp, 'sctp.srcport') ?? 0;
    dstPort = num(sctp, 'sctp.dstport') ?? 0;
  } else if (icmp && (proto === 1 || proto === 58)) {
    const t = num(icmp, 'icmp.type') ?? num(icmp, 'icmpv6.type') ?? 0;
    const c = num(icmp, 'icmp.code') ?? num(icmp, 'icmpv6.code') ?? 0;
    dstPort = t * 256 + c;
  }

  // Interfaces: compact samples have "input_interface" and an output tree with a
  // format; expanded samples have separate *_format / *_value fields.
  const inIf =
    num(sample, 'sflow.flow_sample.input_interface') ?? num(sample, 'sflow.flow_sample.input_interface_value') ?? null;
  let outIf: number | null = null;
  const outTree = firstObj(sample['sflow.flow_sample.output_interface_tree']);
  if (outTree !== undefined) {
    const fmt = num(outTree, 'sflow.flow_sample.output_interface_format');
    const val = num(outTree, 'sflow.flow_sample.output_interface_value');
    outIf = fmt === 0 && val !== undefined ? val : null;
  } else {
    const fmt = num(sample, 'sflow.flow_sample.output_interface.format');
    const val = num(sample, 'sflow.flow_sample.output_interface_value');
    outIf = (fmt === undefined || fmt === 0) && val !== undefined ? val : null;
  }

  return {
    frame,
    src_addr: src,
    dst_addr: dst,
    src_port: srcPort,
    dst_port: dstPort,
    proto,
    bytes: num(raw, 'sflow_245.header.frame_length') ?? 0,
    packets: 1,
    start_ms: null,
    end_ms: null,
    tcp_flags: tcpFlags,
    tos,
    in_if: inIf,
    out_if: outIf,
    sampling_rate: num(sample, 'sflow.flow_sample.sampling_rate') ?? null,
  };
}

// ------------------------------------------------------------------------ exports

/** Flows and per-datagram diagnostics, from one tshark run. */
export function tsharkDecode(pcapPath: string, protocol: OracleProtocol, udpPort: number): OracleResult {
  const packets = runTshark(pcapPath, protocol, udpPort);
  return protocol === 'sflow' ? sflowFrames(packets) : netflowFrames(packets, protocol);
}

/** Every flow record tshark dissects in `pcapPath`, normalised (see the file header). */
export function tsharkFlows(pcapPath: string, protocol: OracleProtocol, udpPort: number): OracleFlow[] {
  return tsharkDecode(pcapPath, protocol, udpPort).flows;
}

/** Per-datagram diagnostics: where tshark stopped early or lacked a template. */
export function tsharkDatagrams(pcapPath: string, protocol: OracleProtocol, udpPort: number): OracleDatagram[] {
  return tsharkDecode(pcapPath, protocol, udpPort).datagrams;
}
