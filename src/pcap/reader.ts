// Offline capture reader: extracts the UDP datagrams carried in classic pcap and pcapng files so
// recorded exporter traffic can be replayed through the decoders without libpcap or tshark.
// Everything about the packet contents is untrusted: malformed packets are counted in `skipped`,
// never thrown; only a file we cannot identify at all throws.

import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

export interface CapturedDatagram {
  timestampUs: number; // capture time, integer microseconds since Unix epoch (ns-resolution files: floor to µs)
  srcAddr: Uint8Array; // 4 or 16 bytes, network order
  srcPort: number;
  dstAddr: Uint8Array;
  dstPort: number;
  payload: Buffer; // the UDP payload (a view into the input)
}

export interface CaptureReadResult {
  datagrams: CapturedDatagram[]; // in file order (a reassembled datagram appears where its last fragment was)
  packets: number; // packets in the file
  skipped: Record<string, number>; // reason -> count
}

export function readCapture(data: Buffer): CaptureReadResult {
  const collector = new DatagramCollector();
  const parser = new CaptureParser(collector);
  parser.feed(data, true);
  return collector.finish();
}

export function readCaptureFile(path: string): CaptureReadResult {
  return readCapture(readFileSync(path));
}

export interface CaptureStreamResult {
  packets: number;
  skipped: Record<string, number>;
}

/**
 * Reads a capture file chunk by chunk and hands each UDP datagram to `onDatagram` as soon as
 * it is complete, so captures far larger than memory can be decoded. Same results as
 * readCaptureFile, in the same order.
 */
export function streamCaptureFile(path: string, onDatagram: (d: CapturedDatagram) => void, chunkBytes = 8 << 20): CaptureStreamResult {
  const collector = new DatagramCollector(onDatagram);
  const parser = new CaptureParser(collector);
  const fd = openSync(path, 'r');
  try {
    let pending: Buffer = Buffer.alloc(0);
    for (;;) {
      const chunk = Buffer.allocUnsafe(chunkBytes);
      const n = readSync(fd, chunk, 0, chunkBytes, null);
      const eof = n === 0;
      // A record cut by the chunk boundary waits for the next chunk: only the unread tail
      // is carried over, never the whole file.
      const data = pending.length ? Buffer.concat([pending, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      const used = parser.feed(data, eof);
      pending = Buffer.from(data.subarray(used));
      if (eof) break;
    }
  } finally {
    closeSync(fd);
  }
  const r = collector.finish();
  return { packets: r.packets, skipped: r.skipped };
}

/** Format state that must survive chunk boundaries (byte order, link type, interfaces). */
class CaptureParser {
  private format: Format | undefined;
  private classicLinktype = 0;
  private ngEndian: Endian = LE;
  private ngInterfaces: Interface[] = [];

  constructor(private readonly sink: DatagramCollector) {}

  /**
   * Consumes whole records of `data`; returns how many bytes were used. With `final`, an
   * incomplete record at the end is counted as truncated instead of waiting for more.
   */
  feed(data: Buffer, final: boolean): number {
    let off = 0;
    if (this.format === undefined) {
      if (data.length < 4 && !final) return 0;
      this.format = identify(data);
      if (this.format.kind === 'pcap') {
        if (data.length < CLASSIC_HEADER_LEN) {
          if (!final) {
            this.format = undefined;
            return 0;
          }
          this.sink.skip('truncated');
          return data.length;
        }
        // The upper 16 bits of the link-type word carry FCS information in newer files, not the type.
        this.classicLinktype = this.format.endian.u32(data, 20) & 0xffff;
        off = CLASSIC_HEADER_LEN;
      }
    }
    if (this.format.kind === 'pcap') return readClassic(data, off, this.format.endian, this.format.nanos, this.classicLinktype, this.sink, final);
    return this.readPcapng(data, final);
  }

  private readPcapng(data: Buffer, final: boolean): number {
    const sink = this.sink;
    let off = 0;
    // Each block is at least 12 bytes and we always advance by its length, so this terminates.
    while (off < data.length) {
      if (off + 12 > data.length) {
        if (!final) return off;
        sink.skip('truncated');
        return data.length;
      }
      // The SHB type is a palindrome, so it can be recognised before the section's byte order is known.
      if (data.readUInt32BE(off) === PCAPNG_SHB) {
        const endian = sectionEndian(data, off);
        if (endian === undefined) {
          sink.skip('bad_block');
          return data.length;
        }
        this.ngEndian = endian;
        this.ngInterfaces = []; // interface ids are per section
      }
      const e = this.ngEndian;
      const type = e.u32(data, off);
      const total = e.u32(data, off + 4);
      if (total < 12 || total % 4 !== 0) {
        sink.skip('bad_block'); // cannot find the next block boundary any more
        return data.length;
      }
      if (total > data.length - off) {
        if (!final) return off;
        if (type === PCAPNG_EPB || type === PCAPNG_PB || type === PCAPNG_SPB) sink.packets++;
        sink.skip('truncated');
        return data.length;
      }
      const body = data.subarray(off + 8, off + total - 4);
      if (type === PCAPNG_IDB) readIdb(body, e, this.ngInterfaces, sink);
      else if (type === PCAPNG_EPB || type === PCAPNG_PB) readPacketBlock(type, body, e, this.ngInterfaces, sink);
      else if (type === PCAPNG_SPB) readSimplePacketBlock(body, e, this.ngInterfaces, sink);
      off += total;
    }
    return off;
  }
}

// ---------------------------------------------------------------------------------------------
// File formats

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAPNG_IDB = 0x00000001;
const PCAPNG_PB = 0x00000002; // obsolete Packet Block, still written by old tools
const PCAPNG_SPB = 0x00000003;
const PCAPNG_EPB = 0x00000006;
const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

interface Endian {
  u16(b: Buffer, off: number): number;
  u32(b: Buffer, off: number): number;
  i64(b: Buffer, off: number): bigint;
}

const LE: Endian = {
  u16: (b, off) => b.readUInt16LE(off),
  u32: (b, off) => b.readUInt32LE(off),
  i64: (b, off) => b.readBigInt64LE(off),
};

const BE: Endian = {
  u16: (b, off) => b.readUInt16BE(off),
  u32: (b, off) => b.readUInt32BE(off),
  i64: (b, off) => b.readBigInt64BE(off),
};

type Format = { kind: 'pcap'; endian: Endian; nanos: boolean } | { kind: 'pcapng' };

function identify(data: Buffer): Format {
  if (data.length >= 4) {
    const be = data.readUInt32BE(0);
    const le = data.readUInt32LE(0);
    if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) return { kind: 'pcap', endian: BE, nanos: be === PCAP_MAGIC_NS };
    if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS) return { kind: 'pcap', endian: LE, nanos: le === PCAP_MAGIC_NS };
    if (be === PCAPNG_SHB) return { kind: 'pcapng' };
  }
  throw new Error(`not a pcap or pcapng file (magic 0x${data.subarray(0, 4).toString('hex')})`);
}

const CLASSIC_HEADER_LEN = 24;
const CLASSIC_RECORD_LEN = 16;

function readClassic(data: Buffer, start: number, e: Endian, nanos: boolean, linktype: number, sink: DatagramCollector, final: boolean): number {
  let off = start;
  // Every iteration consumes at least a record header, so the loop is bounded by the data size.
  while (off < data.length) {
    if (off + CLASSIC_RECORD_LEN > data.length) {
      if (!final) return off;
      sink.packets++;
      sink.skip('truncated');
      return data.length;
    }
    const sec = e.u32(data, off);
    const frac = e.u32(data, off + 4);
    const caplen = e.u32(data, off + 8);
    if (caplen > data.length - off - CLASSIC_RECORD_LEN) {
      // A record longer than what is left: wait for more, or (at the end) the file was cut
      // mid-record and nothing after it is trustworthy. A caplen past 256 MiB is no packet.
      if (!final && caplen <= 1 << 28) return off;
      sink.packets++;
      sink.skip('truncated');
      return data.length;
    }
    sink.packets++;
    off += CLASSIC_RECORD_LEN;
    const timestampUs = sec * 1_000_000 + (nanos ? Math.floor(frac / 1000) : frac);
    sink.frame(linktype, data.subarray(off, off + caplen), timestampUs);
    off += caplen;
  }
  return off;
}

interface Interface {
  linktype: number;
  snaplen: number;
  toUs: (high: number, low: number) => number;
}

function sectionEndian(data: Buffer, off: number): Endian | undefined {
  if (data.readUInt32LE(off + 8) === PCAPNG_BYTE_ORDER_MAGIC) return LE;
  if (data.readUInt32BE(off + 8) === PCAPNG_BYTE_ORDER_MAGIC) return BE;
  return undefined;
}

function readIdb(body: Buffer, e: Endian, interfaces: Interface[], sink: DatagramCollector): void {
  if (body.length < 8) {
    sink.skip('bad_block');
    // Keep the numbering of later interfaces right even though this one is unusable.
    interfaces.push({ linktype: -1, snaplen: 0, toUs: () => 0 });
    return;
  }
  let tsresol = 6;
  let offsetSec = 0n;
  forEachOption(body, 8, e, (code, value) => {
    if (code === OPT_IF_TSRESOL && value.length >= 1) tsresol = value[0];
    else if (code === OPT_IF_TSOFFSET && value.length >= 8) offsetSec = e.i64(value, 0);
  });
  interfaces.push({ linktype: e.u16(body, 0), snaplen: e.u32(body, 4), toUs: timestampConverter(tsresol, offsetSec) });
}

function forEachOption(body: Buffer, start: number, e: Endian, visit: (code: number, value: Buffer) => void): void {
  let off = start;
  while (off + 4 <= body.length) {
    const code = e.u16(body, off);
    const len = e.u16(body, off + 2);
    if (code === OPT_ENDOFOPT || off + 4 + len > body.length) return;
    visit(code, body.subarray(off + 4, off + 4 + len));
    off += 4 + ((len + 3) & ~3); // values are padded to 32 bits
  }
}

/**
 * pcapng timestamps are 64-bit counts of 10^-n or 2^-n second units, which exceed 2^53 at ns
 * resolution; only the common µs case is exact in plain numbers, the rest go through BigInt.
 */
function timestampConverter(tsresol: number, offsetSec: bigint): (high: number, low: number) => number {
  if (tsresol === 6 && offsetSec === 0n) return (high, low) => high * 0x1_0000_0000 + low;
  const exponent = tsresol & 0x7f;
  let multiplier = 1n;
  let divisor = 1n;
  if (tsresol & 0x80) {
    multiplier = 1_000_000n;
    divisor = 1n << BigInt(exponent);
  } else if (exponent <= 6) {
    multiplier = 10n ** BigInt(6 - exponent);
  } else {
    divisor = 10n ** BigInt(exponent - 6);
  }
  const offsetUs = offsetSec * 1_000_000n;
  return (high, low) => {
    const units = (BigInt(high) << 32n) | BigInt(low);
    return Number((units * multiplier) / divisor + offsetUs);
  };
}

function readPacketBlock(type: number, body: Buffer, e: Endian, interfaces: Interface[], sink: DatagramCollector): void {
  sink.packets++;
  if (body.length < 20) {
    sink.skip('truncated');
    return;
  }
  // The obsolete PB has a 16-bit interface id followed by a drop counter; EPB a 32-bit id.
  const ifId = type === PCAPNG_EPB ? e.u32(body, 0) : e.u16(body, 0);
  const caplen = e.u32(body, 12);
  if (caplen > body.length - 20) {
    sink.skip('truncated');
    return;
  }
  const iface = interfaces[ifId];
  if (iface === undefined) {
    sink.skip('unknown_interface');
    return;
  }
  sink.frame(iface.linktype, body.subarray(20, 20 + caplen), iface.toUs(e.u32(body, 4), e.u32(body, 8)));
}

function readSimplePacketBlock(body: Buffer, e: Endian, interfaces: Interface[], sink: DatagramCollector): void {
  sink.packets++;
  if (body.length < 4) {
    sink.skip('truncated');
    return;
  }
  const iface = interfaces[0];
  if (iface === undefined) {
    sink.skip('unknown_interface');
    return;
  }
  // SPB has no captured length: the data is the original packet cut to the snaplen, then padded.
  let caplen = Math.min(e.u32(body, 0), body.length - 4);
  if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
  sink.frame(iface.linktype, body.subarray(4, 4 + caplen), 0);
}

// ---------------------------------------------------------------------------------------------
// Link layer, IP and UDP

const LINKTYPE_NULL = 0;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW_BSD = 12; // DLT_RAW's value on most BSDs, found in old files
const LINKTYPE_RAW = 101;
const LINKTYPE_LOOP = 108;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_IPV6 = 229;
const LINKTYPE_LINUX_SLL2 = 276;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100; // pre-802.1ad vendor QinQ
const MAX_VLAN_TAGS = 8;

// BSD NULL/LOOP address families: AF_INET is 2 everywhere, AF_INET6 differs per OS.
const AF_INET = 2;
const AF_INET6 = new Set([10 /* Linux */, 24 /* NetBSD/OpenBSD */, 28 /* FreeBSD */, 30 /* Darwin */]);

const IPPROTO_HOPOPTS = 0;
const IPPROTO_UDP = 17;
const IPPROTO_ROUTING = 43;
const IPPROTO_FRAGMENT = 44;
const IPPROTO_AH = 51;
const IPPROTO_DSTOPTS = 60;
const MAX_IPV6_HEADERS = 16;

type Addr = Buffer;

class DatagramCollector {
  readonly datagrams: CapturedDatagram[] = [];
  readonly skipped: Record<string, number> = {};
  packets = 0;
  private readonly fragments = new FragmentTable((reason) => this.skip(reason));

  /** With `emit`, datagrams are handed over as they complete instead of being collected. */
  constructor(private readonly emit?: (d: CapturedDatagram) => void) {}

  skip(reason: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
  }

  finish(): CaptureReadResult {
    this.fragments.expireAll();
    return { datagrams: this.datagrams, packets: this.packets, skipped: this.skipped };
  }

  frame(linktype: number, f: Buffer, ts: number): void {
    switch (linktype) {
      case LINKTYPE_ETHERNET:
        if (f.length < 14) this.skip('truncated');
        else this.ethertype(f, f.readUInt16BE(12), 14, ts);
        break;
      case LINKTYPE_LINUX_SLL:
        if (f.length < 16) this.skip('truncated');
        else this.ethertype(f, f.readUInt16BE(14), 16, ts);
        break;
      case LINKTYPE_LINUX_SLL2:
        if (f.length < 20) this.skip('truncated');
        else this.ethertype(f, f.readUInt16BE(0), 20, ts);
        break;
      case LINKTYPE_NULL:
      case LINKTYPE_LOOP:
        this.bsdLoopback(f, ts);
        break;
      case LINKTYPE_RAW:
      case LINKTYPE_RAW_BSD:
        this.rawIp(f, ts);
        break;
      case LINKTYPE_IPV4:
        this.ipv4(f, ts);
        break;
      case LINKTYPE_IPV6:
        this.ipv6(f, ts);
        break;
      default:
        this.skip('unsupported_linktype');
    }
  }

  /** `type` is the EtherType found before `off`; 802.1Q/802.1ad tags in front of the payload are peeled off. */
  private ethertype(f: Buffer, type: number, off: number, ts: number): void {
    for (let tags = 0; type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD; tags++) {
      if (tags === MAX_VLAN_TAGS) return this.skip('not_ip');
      if (off + 4 > f.length) return this.skip('truncated');
      type = f.readUInt16BE(off + 2);
      off += 4;
    }
    if (type === ETHERTYPE_IPV4) this.ipv4(f.subarray(off), ts);
    else if (type === ETHERTYPE_IPV6) this.ipv6(f.subarray(off), ts);
    else this.skip('not_ip');
  }

  /** The family word is in the capturing host's byte order (NULL) or network order (LOOP); accept either. */
  private bsdLoopback(f: Buffer, ts: number): void {
    if (f.length < 4) return this.skip('truncated');
    let family = f.readUInt32LE(0);
    if (family > 0xffff) family = f.readUInt32BE(0);
    if (family === AF_INET) this.ipv4(f.subarray(4), ts);
    else if (AF_INET6.has(family)) this.ipv6(f.subarray(4), ts);
    else this.skip('not_ip');
  }

  private rawIp(f: Buffer, ts: number): void {
    if (f.length < 1) return this.skip('truncated');
    const version = f[0] >> 4;
    if (version === 4) this.ipv4(f, ts);
    else if (version === 6) this.ipv6(f, ts);
    else this.skip('not_ip');
  }

  private ipv4(p: Buffer, ts: number): void {
    if (p.length < 20) return this.skip('truncated');
    const headerLen = (p[0] & 0x0f) * 4;
    if (p[0] >> 4 !== 4 || headerLen < 20) return this.skip('bad_ip_header');
    if (headerLen > p.length) return this.skip('truncated');
    // Total length 0 shows up when capturing before segmentation offload fills it in.
    const totalLen = p.readUInt16BE(2) || p.length;
    if (totalLen < headerLen) return this.skip('bad_ip_header');
    if (p[9] !== IPPROTO_UDP) return this.skip('not_udp');
    const declared = totalLen - headerLen;
    const segment = p.subarray(headerLen, totalLen); // drops link-layer padding, clips to what was captured
    const src = p.subarray(12, 16);
    const dst = p.subarray(16, 20);
    const fragField = p.readUInt16BE(6);
    const fragOffset = (fragField & 0x1fff) * 8;
    const moreFragments = (fragField & 0x2000) !== 0;
    if (fragOffset === 0 && !moreFragments) return this.udp(segment, declared, src, dst, ts);
    if (segment.length < declared) return this.skip('truncated');
    const key = `4|${p.toString('latin1', 12, 20)}|${p.readUInt16BE(4)}|${IPPROTO_UDP}`;
    const whole = this.fragments.add(key, fragOffset, moreFragments, segment, IPPROTO_UDP);
    if (whole !== undefined) this.udp(whole.data, whole.data.length, src, dst, ts);
  }

  private ipv6(p: Buffer, ts: number): void {
    if (p.length < 40) return this.skip('truncated');
    if (p[0] >> 4 !== 6) return this.skip('bad_ip_header');
    // Payload length 0 means a jumbogram or an offloaded packet; use what was captured.
    const payloadLen = p.readUInt16BE(4) || p.length - 40;
    this.ipv6Headers(p.subarray(40, 40 + payloadLen), payloadLen, p[6], p.subarray(8, 24), p.subarray(24, 40), ts, true);
  }

  /**
   * Walks the extension-header chain starting with `next` at the front of `buf` (the captured part
   * of `declared` bytes) until UDP is found. Called again on a reassembled fragmentable part.
   */
  private ipv6Headers(buf: Buffer, declared: number, next: number, src: Addr, dst: Addr, ts: number, mayFragment: boolean): void {
    let off = 0;
    for (let n = 0; n < MAX_IPV6_HEADERS; n++) {
      if (next === IPPROTO_UDP) return this.udp(buf.subarray(off), declared - off, src, dst, ts);
      if (next === IPPROTO_FRAGMENT) {
        if (off + 8 > buf.length) return this.skip(off + 8 > declared ? 'bad_ip_header' : 'truncated');
        const fragField = buf.readUInt16BE(off + 2);
        const fragOffset = fragField & 0xfff8;
        const moreFragments = (fragField & 1) !== 0;
        if (fragOffset !== 0 || moreFragments) {
          if (!mayFragment) return this.skip('bad_fragment');
          return this.ipv6Fragment(buf, declared, off, fragOffset, moreFragments, src, dst, ts);
        }
        next = buf[off]; // atomic fragment (RFC 6946): just a header to step over
        off += 8;
        continue;
      }
      if (!isIpv6ExtensionHeader(next)) return this.skip('not_udp');
      if (off + 2 > buf.length) return this.skip(off + 2 > declared ? 'bad_ip_header' : 'truncated');
      const len = next === IPPROTO_AH ? (buf[off + 1] + 2) * 4 : (buf[off + 1] + 1) * 8;
      next = buf[off];
      off += len;
      if (off > declared) return this.skip('bad_ip_header');
    }
    this.skip('bad_ip_header');
  }

  private ipv6Fragment(
    buf: Buffer, declared: number, off: number, fragOffset: number, moreFragments: boolean, src: Addr, dst: Addr, ts: number,
  ): void {
    // Every fragment's header names the first header of the fragmentable part, so a fragment
    // of something that cannot lead to UDP is rejected without buffering it.
    const next = buf[off];
    if (next !== IPPROTO_UDP && !isIpv6ExtensionHeader(next)) return this.skip('not_udp');
    const data = buf.subarray(off + 8, declared);
    if (data.length < declared - off - 8) return this.skip('truncated');
    const key = `6|${src.toString('latin1')}|${dst.toString('latin1')}|${buf.readUInt32BE(off + 4)}`;
    const whole = this.fragments.add(key, fragOffset, moreFragments, data, next);
    if (whole !== undefined) this.ipv6Headers(whole.data, whole.data.length, whole.nextHeader, src, dst, ts, false);
  }

  /** `seg` is the captured part of a UDP segment whose IP layer declared `declared` bytes. */
  private udp(seg: Buffer, declared: number, src: Addr, dst: Addr, ts: number): void {
    if (seg.length < 8) return this.skip(declared < 8 ? 'bad_udp_length' : 'truncated');
    let udpLen = seg.readUInt16BE(4);
    if (udpLen === 0 && src.length === 16) udpLen = declared; // RFC 2675 jumbogram
    if (udpLen < 8 || udpLen > declared) return this.skip('bad_udp_length');
    if (udpLen > seg.length) return this.skip('truncated');
    const d: CapturedDatagram = {
      timestampUs: ts,
      // Copies so callers get plain 4/16-byte arrays that do not pin or alias the capture buffer.
      srcAddr: new Uint8Array(src),
      srcPort: seg.readUInt16BE(0),
      dstAddr: new Uint8Array(dst),
      dstPort: seg.readUInt16BE(2),
      payload: seg.subarray(8, udpLen),
    };
    if (this.emit) this.emit(d);
    else this.datagrams.push(d);
  }
}

function isIpv6ExtensionHeader(next: number): boolean {
  return next === IPPROTO_HOPOPTS || next === IPPROTO_ROUTING || next === IPPROTO_DSTOPTS || next === IPPROTO_AH;
}

// ---------------------------------------------------------------------------------------------
// Fragment reassembly

const MAX_PARTIAL_DATAGRAMS = 1024;
const MAX_REASSEMBLED_BYTES = 64 * 1024;
const MAX_FRAGMENTS_PER_DATAGRAM = 256; // bounds the coverage check below; real datagrams need far fewer

interface Piece {
  offset: number;
  data: Buffer;
}

interface PartialDatagram {
  pieces: Piece[];
  totalLen: number; // -1 until the last fragment has been seen
  received: number;
  nextHeader: number;
  dropped: boolean; // kept as a tombstone so the rest of a rejected datagram is absorbed silently
}

interface Reassembled {
  data: Buffer;
  nextHeader: number;
}

class FragmentTable {
  private readonly partials = new Map<string, PartialDatagram>();

  constructor(private readonly skip: (reason: string) => void) {}

  /** Returns the whole fragmentable part once `data` completes its datagram. */
  add(key: string, offset: number, more: boolean, data: Buffer, nextHeader: number): Reassembled | undefined {
    const partial = this.partials.get(key) ?? this.create(key, nextHeader);
    if (partial.dropped) return undefined;
    const end = offset + data.length;
    const reason = rejectFragment(partial, offset, more, data.length);
    if (reason !== undefined) {
      this.drop(partial, reason);
      return undefined;
    }
    if (!more) partial.totalLen = end;
    if (offset === 0) partial.nextHeader = nextHeader;
    partial.pieces.push({ offset, data });
    partial.received += data.length;
    const whole = assemble(partial);
    if (whole === undefined) return undefined;
    this.partials.delete(key);
    return { data: whole, nextHeader: partial.nextHeader };
  }

  /** Datagrams still waiting for fragments when the capture ends were never delivered. */
  expireAll(): void {
    for (const partial of this.partials.values()) if (!partial.dropped) this.skip('fragment_incomplete');
    this.partials.clear();
  }

  private create(key: string, nextHeader: number): PartialDatagram {
    if (this.partials.size >= MAX_PARTIAL_DATAGRAMS) {
      // Map iteration is insertion order, so this evicts the oldest.
      const [oldestKey, oldest] = this.partials.entries().next().value as [string, PartialDatagram];
      if (!oldest.dropped) this.skip('fragment_incomplete');
      this.partials.delete(oldestKey);
    }
    const partial: PartialDatagram = { pieces: [], totalLen: -1, received: 0, nextHeader, dropped: false };
    this.partials.set(key, partial);
    return partial;
  }

  private drop(partial: PartialDatagram, reason: string): void {
    this.skip(reason);
    partial.dropped = true;
    partial.pieces = [];
  }
}

function rejectFragment(partial: PartialDatagram, offset: number, more: boolean, len: number): string | undefined {
  const end = offset + len;
  if (end > MAX_REASSEMBLED_BYTES) return 'fragment_too_big';
  if (partial.pieces.length >= MAX_FRAGMENTS_PER_DATAGRAM) return 'fragment_too_many';
  // All but the last fragment carry a multiple of 8 bytes, and nothing may lie past the end.
  if (more && (len === 0 || len % 8 !== 0)) return 'bad_fragment';
  if (partial.totalLen >= 0 && (end > partial.totalLen || (!more && end !== partial.totalLen))) return 'bad_fragment';
  return undefined;
}

function assemble(partial: PartialDatagram): Buffer | undefined {
  const total = partial.totalLen;
  if (total < 0 || partial.received < total) return undefined;
  const sorted = [...partial.pieces].sort((a, b) => a.offset - b.offset);
  let covered = 0;
  for (const piece of sorted) {
    if (piece.offset > covered) return undefined;
    covered = Math.max(covered, piece.offset + piece.data.length);
  }
  if (covered < total) return undefined;
  const whole = Buffer.alloc(total);
  for (const piece of partial.pieces) piece.data.copy(whole, piece.offset);
  return whole;
}
