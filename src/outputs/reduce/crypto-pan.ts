// Keyed prefix-preserving address anonymisation: Crypto-PAn (Xu, Fan, Ammar, Moon 2002), the
// scheme tcpdpriv/CAIDA tools and goflow-anonymizers use, for IPv4 (32 bits) and IPv6 (128).
//
// Key: 32 bytes. The first 16 are the AES-128 key; the AES encryption of the second 16 is the
// pad. Output bit i is input bit i XOR the first bit of AES(first i input bits, followed by
// pad bits i..127). Bit i therefore depends only on bits 0..i of the input, so two addresses
// sharing a k-bit prefix share exactly a k-bit prefix afterwards (the bit after the shared
// prefix differs in the input, and both get the same pad bit there, so it differs after
// too). The same key always gives the same mapping; another key gives an unrelated one.
//
// Cost: one AES block per address bit. The blocks of an address go through one update() of a
// reused ECB cipher (ECB has no state between blocks), and two caches cut the work: whole
// results (flow data repeats addresses heavily), and the pad bits of the leading /24 (IPv4) or
// /64 (IPv6), which depend only on those bits, so a new address in a known network costs 8 or
// 64 blocks instead of 32 or 128. Measured in bench/platform-bench.ts.

import { createCipheriv, type Cipher } from 'node:crypto';

const CACHE_MAX = 1 << 20;
/** Leading bits whose one-time-pad bits are cached per network. */
const NET4_BITS = 24;
const NET6_BITS = 64;

export class CryptoPan {
  private readonly cipher: Cipher;
  private readonly pad: Buffer;
  private readonly blocks4 = Buffer.alloc(32 * 16);
  private readonly blocks6 = Buffer.alloc(128 * 16);
  private cache4 = new Map<number, Uint8Array>();
  private cache6 = new Map<string, Uint8Array>();
  /** One-time-pad bytes of the leading NET*_BITS, per network. */
  private nets4 = new Map<number, Uint8Array>();
  private nets6 = new Map<string, Uint8Array>();

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError(`Crypto-PAn key must be 32 bytes, not ${key.length}`);
    this.cipher = createCipheriv('aes-128-ecb', key.subarray(0, 16), null);
    this.cipher.setAutoPadding(false);
    this.pad = this.encrypt(Buffer.from(key.subarray(16, 32)));
  }

  /** The anonymised address (4 or 16 bytes); anything else is returned unchanged. */
  anonymize(addr: Uint8Array): Uint8Array {
    if (addr.length === 4) {
      const k = ((addr[0] << 24) | (addr[1] << 16) | (addr[2] << 8) | addr[3]) >>> 0;
      let v = this.cache4.get(k);
      if (!v) {
        const net = k >>> (32 - NET4_BITS);
        let otp = this.nets4.get(net);
        if (!otp) {
          otp = this.pads(addr, 0, NET4_BITS, this.blocks4, new Uint8Array(4));
          if (this.nets4.size >= CACHE_MAX) this.nets4 = new Map();
          this.nets4.set(net, otp);
        }
        v = xor(addr, this.pads(addr, NET4_BITS, 32, this.blocks4, Uint8Array.from(otp)));
        if (this.cache4.size >= CACHE_MAX) this.cache4 = new Map();
        this.cache4.set(k, v);
      }
      return v;
    }
    if (addr.length === 16) {
      const k = Buffer.from(addr.buffer, addr.byteOffset, 16).toString('latin1');
      let v = this.cache6.get(k);
      if (!v) {
        const net = k.slice(0, NET6_BITS / 8);
        let otp = this.nets6.get(net);
        if (!otp) {
          otp = this.pads(addr, 0, NET6_BITS, this.blocks6, new Uint8Array(16));
          if (this.nets6.size >= CACHE_MAX) this.nets6 = new Map();
          this.nets6.set(net, otp);
        }
        v = xor(addr, this.pads(addr, NET6_BITS, 128, this.blocks6, Uint8Array.from(otp)));
        if (this.cache6.size >= CACHE_MAX) this.cache6 = new Map();
        this.cache6.set(k, v);
      }
      return v;
    }
    return addr;
  }

  private encrypt(b: Buffer): Buffer {
    return this.cipher.update(b);
  }

  /** Sets one-time-pad bits [from, to) of `addr` in `otp` (one AES block per bit). */
  private pads(addr: Uint8Array, from: number, to: number, blocks: Buffer, otp: Uint8Array): Uint8Array {
    const pad = this.pad;
    for (let i = from; i < to; i++) {
      const o = (i - from) * 16;
      pad.copy(blocks, o);
      const full = i >> 3;
      for (let j = 0; j < full; j++) blocks[o + j] = addr[j];
      const rest = i & 7;
      if (rest) {
        const mask = (0xff << (8 - rest)) & 0xff;
        blocks[o + full] = (addr[full] & mask) | (pad[full] & ~mask & 0xff);
      }
    }
    const enc = this.encrypt(blocks.subarray(0, (to - from) * 16));
    for (let i = from; i < to; i++) {
      if (enc[(i - from) * 16] & 0x80) otp[i >> 3] |= 0x80 >> (i & 7);
    }
    return otp;
  }
}

function xor(addr: Uint8Array, otp: Uint8Array): Uint8Array {
  for (let j = 0; j < otp.length; j++) otp[j] ^= addr[j];
  return otp;
}
