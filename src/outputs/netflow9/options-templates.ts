// The two options templates (RFC 3954 §6.1) that tell a collector the sampling rates, and
// their data records. Fixed layouts, because these are the fields collectors look for:
// - per sampler: scope System (1), FLOW_SAMPLER_ID (48), FLOW_SAMPLER_MODE (49),
//   FLOW_SAMPLER_RANDOM_INTERVAL (50) — Cisco's sampler table, read by nfcapd and tshark;
// - default: scope System, SAMPLING_INTERVAL (34), SAMPLING_ALGORITHM (35) — the rate of
//   records that name no sampler.
// The canonical record does not say which algorithm the original exporter used; the mode is
// announced as 2 (random), what sFlow and most routers' samplers are.

const SCOPE_SYSTEM = 1;
export const SAMPLER_RECORD_LENGTH = 4 + 4 + 1 + 4;
export const DEFAULT_RECORD_LENGTH = 4 + 4 + 1;
const RANDOM = 2;

function optionsTemplate(id: number, options: ReadonlyArray<readonly [number, number]>): Buffer {
  const scope = [[SCOPE_SYSTEM, 4]] as const;
  const b = Buffer.alloc(6 + 4 * (scope.length + options.length));
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(4 * scope.length, 2);
  b.writeUInt16BE(4 * options.length, 4);
  let p = 6;
  for (const [t, l] of [...scope, ...options]) {
    b.writeUInt16BE(t, p);
    b.writeUInt16BE(l, p + 2);
    p += 4;
  }
  return b;
}

export function samplerOptionsTemplate(id: number): Buffer {
  return optionsTemplate(id, [[48, 4], [49, 1], [50, 4]]);
}

export function defaultOptionsTemplate(id: number): Buffer {
  return optionsTemplate(id, [[34, 4], [35, 1]]);
}

export function writeSamplerRecord(b: Buffer, p: number, sourceId: number, samplerId: number, rate: number): void {
  b.writeUInt32BE(sourceId, p);
  b.writeUInt32BE(samplerId, p + 4);
  b[p + 8] = RANDOM;
  b.writeUInt32BE(rate, p + 9);
}

export function writeDefaultRecord(b: Buffer, p: number, sourceId: number, rate: number): void {
  b.writeUInt32BE(sourceId, p);
  b.writeUInt32BE(rate, p + 4);
  b[p + 8] = RANDOM;
}
