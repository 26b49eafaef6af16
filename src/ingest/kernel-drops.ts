// Datagrams the kernel dropped on our UDP sockets because the receive buffer was full: the
// `drops` column of /proc/net/udp and /proc/net/udp6 (Linux). Node does not expose a dgram
// socket's fd or inode, so rows are matched by local address and port, and, where
// /proc/self/fd is readable, narrowed to sockets this process owns (their inodes): another
// process bound to the same port with SO_REUSEPORT, or in the same network namespace on
// another address, is then not counted. Without /proc/self/fd, every socket with our local
// address and port counts (docs/METRICS.md says so). Elsewhere than Linux the reader finds no
// file and reports nothing.

import * as fs from 'node:fs';
import { textToIp } from '../util/ip';

export interface UdpSocketRow {
  /** 4 or 16 bytes, network order. */
  local: Uint8Array;
  port: number;
  inode: number;
  drops: number;
}

/** One /proc/net/udp{,6} file's rows. Addresses there are 32-bit words in host (little-endian on x86/arm) order. */
export function parseProcNetUdp(text: string): UdpSocketRow[] {
  const rows: UdpSocketRow[] = [];
  const le = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    if (cols.length < 13 || !/^\d+:$/.test(cols[0])) continue;
    const [addrHex, portHex] = cols[1].split(':');
    if (!addrHex || !portHex || (addrHex.length !== 8 && addrHex.length !== 32)) continue;
    const local = new Uint8Array(addrHex.length / 2);
    for (let w = 0; w < addrHex.length / 8; w++) {
      const word = parseInt(addrHex.slice(w * 8, w * 8 + 8), 16);
      for (let k = 0; k < 4; k++) local[w * 4 + k] = le ? (word >>> (8 * k)) & 0xff : (word >>> (24 - 8 * k)) & 0xff;
    }
    rows.push({ local, port: parseInt(portHex, 16), inode: Number(cols[9]), drops: Number(cols[12]) });
  }
  return rows;
}

/** Socket inodes open in this process, or undefined when /proc/self/fd cannot be read. */
function ownSocketInodes(): Set<number> | undefined {
  try {
    const out = new Set<number>();
    for (const fd of fs.readdirSync('/proc/self/fd')) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`));
        if (m) out.add(Number(m[1]));
      } catch {
        // closed between readdir and readlink
      }
    }
    return out;
  } catch {
    return undefined;
  }
}

function readRows(): UdpSocketRow[] {
  const rows: UdpSocketRow[] = [];
  for (const f of ['/proc/net/udp', '/proc/net/udp6']) {
    try {
      rows.push(...parseProcNetUdp(fs.readFileSync(f, 'utf8')));
    } catch {
      // no such file (not Linux, or no IPv6): nothing to add
    }
  }
  return rows;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface BoundSocket {
  address: string;
  port: number;
}

/** For each socket, the kernel's cumulative drop count (undefined: no matching row found). */
export function readKernelDrops(sockets: readonly (BoundSocket | undefined)[]): Array<number | undefined> {
  const rows = readRows();
  const own = ownSocketInodes();
  return sockets.map((s) => {
    if (!s) return undefined;
    let local: Uint8Array;
    try {
      local = textToIp(s.address.replace(/%.*$/, ''));
    } catch {
      return undefined;
    }
    let found = false;
    let drops = 0;
    for (const r of rows) {
      if (r.port !== s.port || !sameBytes(r.local, local)) continue;
      if (own && !own.has(r.inode)) continue;
      found = true;
      drops += r.drops;
    }
    return found ? drops : undefined;
  });
}
