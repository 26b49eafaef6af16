// The datagrams a decoder benchmark replays, per protocol: the fixture captures from real
// exporters (fixtures/manifest.json, else fixtures/*.pcap), else the shared reference
// captures, else (NetFlow v5 only) a synthetic datagram set built here.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { detectProtocol } from '../src/decode/datagram-decoder';
import type { Exporter, Protocol } from '../src/decode/types';
import { readCaptureFile } from '../src/pcap/reader';
import { makeExporter } from '../src/util/ip';
import { packageRoot } from '../src/util/paths';
import { prng } from '../test/support/prng';

export interface BenchDatagram {
  payload: Buffer;
  exporter: Exporter;
  /** Capture time (µs since epoch); 0 for synthetic data. */
  timestampUs: number;
}

export interface ProtocolData {
  protocol: Protocol;
  datagrams: BenchDatagram[];
  /** Human-readable origin: file names (or "synthetic ..."). */
  source: string;
}

// shared/ sits beside the repository (DEVELOPERS.md); dist/bench → repo root is two levels up.
const SHARED_CAPTURES = process.env.BENCH_SHARED_CAPTURES ?? path.resolve(__dirname, '../../../shared/captures');

/** Shared reference captures used when the fixtures have nothing of a protocol. */
const FALLBACK_FILES: Record<Protocol, readonly RegExp[]> = {
  netflow5: [],
  netflow9: [/^pmacct_102-.*\.pcap$/],
  ipfix: [/^pmacct_100-.*\.pcap$/],
  sflow: [/^tcpdump_sflow.*\.pcap$/],
};

export function fixturesDir(): string {
  return process.env.BENCH_FIXTURES ?? path.join(packageRoot(), 'fixtures');
}

/** Loads the benchmark data of one protocol; undefined when none can be found. */
export function loadProtocolData(protocol: Protocol): ProtocolData | undefined {
  const fromFixtures = datagramsOf(protocol, fixtureFiles(protocol));
  if (fromFixtures.datagrams.length > 0) return fromFixtures;
  const fallback = sharedFiles(protocol);
  const fromShared = datagramsOf(protocol, fallback);
  if (fromShared.datagrams.length > 0) return fromShared;
  if (protocol === 'netflow5') return syntheticNetflow5();
  return undefined;
}

function datagramsOf(protocol: Protocol, files: readonly string[]): ProtocolData {
  const datagrams: BenchDatagram[] = [];
  const used: string[] = [];
  const exporters = new Map<string, Exporter>();
  for (const file of files) {
    let n = 0;
    for (const d of readCaptureFile(file).datagrams) {
      if (detectProtocol(d.payload) !== protocol) continue;
      // One Exporter object per peer, as a collector's socket layer would keep.
      const probe = makeExporter(d.srcAddr, d.srcPort);
      let exporter = exporters.get(probe.key);
      if (exporter === undefined) {
        exporter = probe;
        exporters.set(probe.key, exporter);
      }
      datagrams.push({ payload: d.payload, exporter, timestampUs: d.timestampUs });
      n++;
    }
    if (n > 0) used.push(`${path.basename(file)} (${n})`);
  }
  return { protocol, datagrams, source: used.join(', ') };
}

// ---------------------------------------------------------------------------------------------
// Which files

function fixtureFiles(protocol: Protocol): string[] {
  const dir = fixturesDir();
  if (!existsSync(dir)) return [];
  const manifest = path.join(dir, 'manifest.json');
  if (existsSync(manifest)) {
    const entries = manifestEntries(JSON.parse(readFileSync(manifest, 'utf8')) as unknown);
    const files: string[] = [];
    for (const e of entries) {
      // A file the manifest names for another protocol is not read; one without a
      // recognisable protocol is read and its datagrams sorted by their version field.
      if (e.protocol !== undefined && e.protocol !== protocol) continue;
      const f = resolveFixture(dir, e.file);
      if (f !== undefined) files.push(f);
    }
    return files;
  }
  return captureFilesIn(dir);
}

function sharedFiles(protocol: Protocol): string[] {
  if (!existsSync(SHARED_CAPTURES)) return [];
  return readdirSync(SHARED_CAPTURES)
    .filter((f) => FALLBACK_FILES[protocol].some((re) => re.test(f)))
    .sort()
    .map((f) => path.join(SHARED_CAPTURES, f));
}

function captureFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.(pcap|pcapng)$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

function resolveFixture(dir: string, file: string): string | undefined {
  if (!/\.(pcap|pcapng)$/.test(file)) return undefined;
  const candidates = path.isAbsolute(file) ? [file] : [path.join(dir, file), path.join(packageRoot(), file), path.join(dir, path.basename(file))];
  return candidates.find((c) => existsSync(c));
}

interface ManifestEntry {
  file: string;
  protocol: Protocol | undefined;
}

const FILE_KEYS = ['file', 'path', 'pcap', 'capture', 'filename', 'name'];
const LIST_KEYS = ['captures', 'files', 'fixtures', 'pcaps', 'entries', 'items'];

/**
 * The manifest's (file, protocol) pairs, read leniently: an array of entries, an object with
 * such an array, or an object keyed by file name (value: an entry or the protocol name).
 */
export function manifestEntries(doc: unknown): ManifestEntry[] {
  if (Array.isArray(doc)) return doc.flatMap((e) => entryOf(e, undefined));
  if (!isRecord(doc)) return [];
  for (const k of LIST_KEYS) {
    const v = doc[k];
    if (Array.isArray(v)) return v.flatMap((e) => entryOf(e, undefined));
    if (isRecord(v)) return Object.entries(v).flatMap(([name, e]) => entryOf(e, name));
  }
  return Object.entries(doc).flatMap(([name, e]) => entryOf(e, name));
}

function entryOf(e: unknown, name: string | undefined): ManifestEntry[] {
  if (typeof e === 'string') {
    // Either a bare file name (array form) or the protocol of the file named by the key.
    return name === undefined ? [{ file: e, protocol: undefined }] : [{ file: name, protocol: normalizeProtocol(e) }];
  }
  if (!isRecord(e)) return [];
  let file = name;
  for (const k of FILE_KEYS) {
    const v = e[k];
    if (typeof v === 'string') {
      file = v;
      break;
    }
  }
  if (file === undefined) return [];
  const p = e.protocol ?? e.format ?? e.kind ?? e.type;
  return [{ file, protocol: typeof p === 'string' ? normalizeProtocol(p) : undefined }];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function normalizeProtocol(s: string): Protocol | undefined {
  const k = s.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (/^(netflow|nf)?v?5$/.test(k) || k === 'netflow5') return 'netflow5';
  if (/^(netflow|nf)?v?9$/.test(k)) return 'netflow9';
  if (k === 'ipfix' || /^(netflow|nf)v?10$/.test(k)) return 'ipfix';
  if (/^sflow(v?5)?$/.test(k)) return 'sflow';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Synthetic NetFlow v5 (used only while no v5 capture exists)

const V5_HEADER = 24;
const V5_RECORD = 48;
const V5_RECORDS_PER_DATAGRAM = 30; // the v5 maximum, what softflowd and routers send when busy
const V5_DATAGRAMS = 8;


export function syntheticNetflow5(): ProtocolData {
  const rnd = prng(0x5eed5);
  const int = (n: number): number => Math.floor(rnd() * n);
  const baseSecs = 1717200000; // 2024-06-01T00:00:00Z
  const exporter = makeExporter(Uint8Array.from([192, 0, 2, 1]), 2055);
  const datagrams: BenchDatagram[] = [];
  let sequence = 0;
  for (let d = 0; d < V5_DATAGRAMS; d++) {
    const b = Buffer.alloc(V5_HEADER + V5_RECORDS_PER_DATAGRAM * V5_RECORD);
    const uptimeMs = 3_600_000 + d * 1000;
    b.writeUInt16BE(5, 0);
    b.writeUInt16BE(V5_RECORDS_PER_DATAGRAM, 2);
    b.writeUInt32BE(uptimeMs, 4);
    b.writeUInt32BE(baseSecs + d, 8);
    b.writeUInt32BE(int(1e9), 12);
    b.writeUInt32BE(sequence, 16);
    b.writeUInt16BE(0, 20); // engine type/id
    b.writeUInt16BE(0, 22); // unsampled
    for (let i = 0, p = V5_HEADER; i < V5_RECORDS_PER_DATAGRAM; i++, p += V5_RECORD) {
      const tcp = rnd() < 0.7;
      b.set([10, 1, int(4), 10 + int(50)], p); // src 10.1.x.y
      b.set([203, 0, 113, 1 + int(200)], p + 4); // dst
      b.set([192, 0, 2, 254], p + 8); // next hop
      b.writeUInt16BE(1 + int(4), p + 12);
      b.writeUInt16BE(1 + int(4), p + 14);
      const packets = 1 + int(2000);
      b.writeUInt32BE(packets, p + 16);
      b.writeUInt32BE(packets * (40 + int(1400)), p + 20);
      const last = uptimeMs - int(30_000);
      b.writeUInt32BE(last - int(120_000), p + 24);
      b.writeUInt32BE(last, p + 28);
      b.writeUInt16BE(1024 + int(60000), p + 32);
      b.writeUInt16BE(tcp ? [80, 443, 22, 25][int(4)] : [53, 123, 514][int(3)], p + 34);
      b[p + 37] = tcp ? 0x1b : 0;
      b[p + 38] = tcp ? 6 : 17;
      b[p + 39] = [0, 0, 0x20, 0xb8][int(4)];
      b.writeUInt16BE(64496 + int(10), p + 40);
      b.writeUInt16BE(64496 + int(10), p + 42);
      b[p + 44] = 24;
      b[p + 45] = 24;
    }
    sequence += V5_RECORDS_PER_DATAGRAM;
    datagrams.push({ payload: b, exporter, timestampUs: 0 });
  }
  return {
    protocol: 'netflow5',
    datagrams,
    source: `synthetic (${V5_DATAGRAMS} datagrams x ${V5_RECORDS_PER_DATAGRAM} records, built in bench/datasets.ts)`,
  };
}

// ---------------------------------------------------------------------------------------------
// Sequence renumbering

/**
 * Copies of sFlow datagrams whose datagram sequence numbers run without gaps per stream
 * (exporter, agent, sub-agent). Replaying only the flow-bearing datagrams of a capture would
 * otherwise leave gaps where counter-only datagrams were, and the decoder reports each gap as
 * an error (with a formatted message), a cost a live stream without loss does not have. The
 * jump back at the start of each replay pass is a restart, which costs no error.
 */
export function renumberSflow(datagrams: readonly BenchDatagram[]): BenchDatagram[] {
  const next = new Map<string, number>();
  return datagrams.map((d) => {
    const b = d.payload;
    if (b.length < 28) return d;
    const addrType = b.readUInt32BE(4);
    const addrLen = addrType === 1 ? 4 : addrType === 2 ? 16 : -1;
    if (addrLen < 0 || b.length < 8 + addrLen + 8) return d;
    const stream = `${d.exporter.key}|${b.toString('hex', 8, 8 + addrLen)}|${b.readUInt32BE(8 + addrLen)}`;
    const seq = next.get(stream) ?? 1;
    next.set(stream, seq + 1);
    const copy = Buffer.from(b);
    copy.writeUInt32BE(seq, 8 + addrLen + 4);
    return { ...d, payload: copy };
  });
}
