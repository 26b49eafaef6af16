// Writes datagrams as a classic pcap file so decoded or synthesised traffic can be inspected with
// tcpdump/Wireshark and fed back through readCapture. LINKTYPE_RAW avoids inventing MAC addresses.

import type { CapturedDatagram } from './reader';

const PCAP_MAGIC_US = 0xa1b2c3d4;
const LINKTYPE_RAW = 101;
const SNAPLEN = 262144; // libpcap's maximum; larger than any IP packet we build
const FILE_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;
const IPV4_HEADER_LEN = 20;
const IPV6_HEADER_LEN = 40;
const UDP_HEADER_LEN = 8;
const IPPROTO_UDP = 17;
const TTL = 64;

export function writePcap(datagrams: readonly CapturedDatagram[]): Buffer {
  datagrams.forEach(validate);
  let size = FILE_HEADER_LEN;
  for (const d of datagrams) size += RECORD_HEADER_LEN + packetLength(d);
  const out = Buffer.alloc(size);
  writeFileHeader(out);
  let off = FILE_HEADER_LEN;
  datagrams.forEach((d, i) => {
    const len = packetLength(d);
    writeRecordHeader(out, off, d.timestampUs, len);
    off += RECORD_HEADER_LEN;
    if (d.srcAddr.length === 4) writeIpv4(out, off, d, i);
    else writeIpv6(out, off, d);
    off += len;
  });
  return out;
}

function validate(d: CapturedDatagram, index: number): void {
  const fail = (why: string): never => {
    throw new RangeError(`writePcap: datagram ${index}: ${why}`);
  };
  const family = d.srcAddr.length;
  if ((family !== 4 && family !== 16) || d.dstAddr.length !== family) fail('addresses must both be 4 or both be 16 bytes');
  if (!isPort(d.srcPort) || !isPort(d.dstPort)) fail('ports must be integers in 0..65535');
  if (!Number.isSafeInteger(d.timestampUs) || d.timestampUs < 0) fail('timestampUs must be a non-negative integer');
  if (d.timestampUs >= 2 ** 32 * 1_000_000) fail('timestampUs does not fit a 32-bit seconds field');
  // IPv4 counts its own header in the 16-bit total length, IPv6 only the payload.
  const max = 0xffff - UDP_HEADER_LEN - (family === 4 ? IPV4_HEADER_LEN : 0);
  if (d.payload.length > max) fail(`payload of ${d.payload.length} bytes exceeds ${max}`);
}

function isPort(p: number): boolean {
  return Number.isInteger(p) && p >= 0 && p <= 0xffff;
}

function packetLength(d: CapturedDatagram): number {
  return (d.srcAddr.length === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN) + UDP_HEADER_LEN + d.payload.length;
}

function writeFileHeader(out: Buffer): void {
  out.writeUInt32LE(PCAP_MAGIC_US, 0);
  out.writeUInt16LE(2, 4); // version 2.4
  out.writeUInt16LE(4, 6);
  // thiszone and sigfigs stay 0
  out.writeUInt32LE(SNAPLEN, 16);
  out.writeUInt32LE(LINKTYPE_RAW, 20);
}

function writeRecordHeader(out: Buffer, off: number, timestampUs: number, len: number): void {
  const sec = Math.floor(timestampUs / 1_000_000);
  out.writeUInt32LE(sec, off);
  out.writeUInt32LE(timestampUs - sec * 1_000_000, off + 4);
  out.writeUInt32LE(len, off + 8);
  out.writeUInt32LE(len, off + 12);
}

function writeIpv4(out: Buffer, off: number, d: CapturedDatagram, index: number): void {
  const udpLen = UDP_HEADER_LEN + d.payload.length;
  out[off] = 0x45; // version 4, 5-word header
  out.writeUInt16BE(IPV4_HEADER_LEN + udpLen, off + 2);
  out.writeUInt16BE(index & 0xffff, off + 4); // distinct ids keep tools from mistaking packets for duplicates
  out[off + 8] = TTL;
  out[off + 9] = IPPROTO_UDP;
  out.set(d.srcAddr, off + 12);
  out.set(d.dstAddr, off + 16);
  out.writeUInt16BE(checksum(out, off, off + IPV4_HEADER_LEN, 0), off + 10);
  // UDP checksum 0 means "none" for IPv4, which every receiver accepts.
  writeUdp(out, off + IPV4_HEADER_LEN, d);
}

function writeIpv6(out: Buffer, off: number, d: CapturedDatagram): void {
  const udpLen = UDP_HEADER_LEN + d.payload.length;
  out[off] = 0x60; // version 6, traffic class and flow label 0
  out.writeUInt16BE(udpLen, off + 4);
  out[off + 6] = IPPROTO_UDP;
  out[off + 7] = TTL;
  out.set(d.srcAddr, off + 8);
  out.set(d.dstAddr, off + 24);
  const udpOff = off + IPV6_HEADER_LEN;
  writeUdp(out, udpOff, d);
  // IPv6 forbids a zero UDP checksum (RFC 8200 §8.1); it covers a pseudo-header of addresses,
  // length and protocol, which are the address bytes just written plus two constants.
  const pseudo = onesComplementSum(out, off + 8, off + 40, udpLen + IPPROTO_UDP);
  const sum = checksum(out, udpOff, udpOff + udpLen, pseudo);
  out.writeUInt16BE(sum === 0 ? 0xffff : sum, udpOff + 6);
}

function writeUdp(out: Buffer, off: number, d: CapturedDatagram): void {
  out.writeUInt16BE(d.srcPort, off);
  out.writeUInt16BE(d.dstPort, off + 2);
  out.writeUInt16BE(UDP_HEADER_LEN + d.payload.length, off + 4);
  out.set(d.payload, off + UDP_HEADER_LEN);
}

/** Internet checksum (RFC 1071) of buf[start, end) seeded with `initial`. */
function checksum(buf: Buffer, start: number, end: number, initial: number): number {
  return ~fold(onesComplementSum(buf, start, end, initial)) & 0xffff;
}

/**
 * Unfolded one's-complement sum of big-endian 16-bit words. Adds 32-bit words because
 * 2^16 ≡ 1 (mod 0xffff) makes that equivalent and halves the iterations; a double holds the
 * sum exactly for any IP-sized buffer.
 */
function onesComplementSum(buf: Buffer, start: number, end: number, initial: number): number {
  let sum = initial;
  let i = start;
  for (; i + 4 <= end; i += 4) sum += buf.readUInt32BE(i);
  if (i + 2 <= end) {
    sum += buf.readUInt16BE(i);
    i += 2;
  }
  if (i < end) sum += buf[i] << 8; // odd trailing byte is padded with a zero
  return sum;
}

function fold(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s % 0x10000) + Math.floor(s / 0x10000);
  return s;
}
