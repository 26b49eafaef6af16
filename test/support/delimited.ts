// Varint length-delimited values split back into records, written here from the format alone
// (no gateway code), so tests of the gateway's framing check it against an independent reader.

export function splitDelimited(v: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  let p = 0;
  while (p < b.length) {
    let len = 0;
    let shift = 0;
    for (;;) {
      if (p >= b.length) throw new RangeError('delimited value: truncated length prefix');
      const c = b[p++];
      len += (c & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(c & 0x80)) break;
    }
    if (p + len > b.length) throw new RangeError(`delimited value: record of ${len} bytes runs past the end`);
    out.push(b.subarray(p, p + len));
    p += len;
  }
  return out;
}
