// `flowgate dump` as a user runs it (node dist/src/cli.js dump ...), against the Kafka mock
// broker with a 3-partition topic holding raw and delimited messages (with and without
// framing headers, as flowgate and goflow-style producers write them), bad messages, and
// CreateTimes out of order within each partition.
//
// Acceptance (issue 4, item 3): a time window returns EXACTLY the records whose message
// timestamps t satisfy from <= t < to, across all partitions (none missing, none extra, both
// readers); --filter works; the CSV opens without errors in Python's csv module (strict mode,
// every row as many cells as the header) and in a spreadsheet-style reader. LibreOffice is not
// installed here and is not installed for this test: the spreadsheet-style check is Python's
// csv.Sniffer (which must detect the comma dialect and the header row, as a spreadsheet
// import does) followed by csv.DictReader with the excel dialect in strict mode.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { Kafka, logLevel, type Message } from 'kafkajs';
import { FlowEncoder } from '../../src/canonical/flow-encoder';
import { newFlowRecord, type FlowRecord } from '../../src/canonical/flow-record';
import { textToIp } from '../../src/util/ip';
import { startKafkaMock, type KafkaMock } from '../support/kafka-broker';
import { requireTool } from '../support/tools';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/src/cli.js');
const TOPIC = 'flows';
const T0 = Date.UTC(2024, 5, 1, 12, 0, 0);
const FROM = T0 + 200_000;
const TO = T0 + 400_000;
const FIELDS = 'sequence_num,type,src_addr,dst_addr,src_port,dst_port,proto,bytes,time_flow_start_ns';

interface Sent {
  /** Records of the message (sequence_num is the record's id), empty for bad messages. */
  records: FlowRecord[];
  timestamp: number;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runCli(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [CLI, 'dump', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dump ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}


const ADDRESSES = ['10.1.2.3', '10.200.0.9', '192.168.1.20', '198.51.100.7', '2001:db8::1', '2001:db8:5::42', 'fd00::7'];

function makeRecord(id: number, rnd: () => number): FlowRecord {
  const r = newFlowRecord();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  r.sequence_num = id;
  r.type = pick([3, 4, 1]);
  const v6 = rnd() < 0.3;
  r.src_addr = textToIp(v6 ? pick(ADDRESSES.slice(4)) : pick(ADDRESSES.slice(0, 4)));
  r.dst_addr = textToIp(v6 ? pick(ADDRESSES.slice(4)) : pick(ADDRESSES.slice(0, 4)));
  r.proto = pick([6, 6, 17, 1]);
  r.src_port = r.proto === 1 ? 0 : pick([443, 53, 51000, 40000, 22]);
  r.dst_port = r.proto === 1 ? 0 : pick([443, 53, 8080, 22, 33000]);
  r.bytes = 40 + Math.floor(rnd() * 100_000);
  r.packets = 1 + Math.floor(rnd() * 50);
  r.time_flow_start_us = T0 * 1000 + id * 1000 + 123;
  r.time_flow_end_us = r.time_flow_start_us + 5_000;
  return r;
}

/** Messages of every kind with their timestamps; records numbered from 1. */
function buildMessages(): { messages: Message[]; sent: Sent[] } {
  const rnd = prng(42);
  const enc = new FlowEncoder();
  const messages: Message[] = [];
  const sent: Sent[] = [];
  let id = 0;
  const h = (framing?: string, schema = 'flowpb.FlowMessage'): Message['headers'] =>
    framing === undefined ? undefined : { 'flowgate-framing': framing, 'flowgate-schema': schema };
  const add = (value: Buffer | null, headers: Message['headers'], records: FlowRecord[], timestamp: number): void => {
    messages.push({ value, headers, timestamp: String(timestamp), partition: messages.length % 3 });
    sent.push({ records, timestamp });
  };
  // Boundaries first: exactly from (in), from - 1 (out), to - 1 (in), to (out), in every partition.
  for (const ts of [FROM, FROM - 1, TO - 1, TO, FROM, FROM - 1, TO - 1, TO, FROM, TO]) {
    const r = makeRecord(++id, rnd);
    add(enc.encode(r), h('raw'), [r], ts);
  }
  for (let i = 0; i < 1200; i++) {
    // Ten minutes of data, CreateTimes jittered by up to 20 s against the send order.
    const ts = T0 + Math.floor((i / 1200) * 600_000) + Math.floor(rnd() * 20_000) - 10_000;
    const kind = i % 5;
    if (kind === 0 || kind === 1) {
      const r = makeRecord(++id, rnd);
      add(enc.encode(r), h('raw'), [r], ts);
    } else if (kind === 2) {
      const rs = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => makeRecord(++id, rnd));
      add(enc.encodeDelimited(rs), h('delimited'), rs, ts);
    } else if (kind === 3) {
      // goflow/bwNetFlow-style: raw, no headers.
      const r = makeRecord(++id, rnd);
      add(enc.encode(r), undefined, [r], ts);
    } else {
      // goflow2 `bin`-style: length-delimited, no headers.
      const rs = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => makeRecord(++id, rnd));
      add(enc.encodeDelimited(rs), undefined, rs, ts);
    }
  }
  // Bad messages inside the window: counted, never output, never fatal.
  add(Buffer.from('this is not a flow record at all, not even close'), h('raw'), [], FROM + 10);
  add(null, h('raw'), [], FROM + 20);
  add(enc.encode(makeRecord(999_999, rnd)), h('raw', 'flowgate.InterfaceCounters'), [], FROM + 30);
  return { messages, sent };
}

interface CsvCheck {
  rows: number;
  cols: number;
  bad: number[];
  delimiter: string;
  has_header: boolean;
  dict_rows: number;
  keys_ok: boolean;
}

const PY_CHECK = `
import csv, json, sys
p = sys.argv[1]
with open(p, newline='', encoding='utf-8') as f:
    rows = list(csv.reader(f, dialect='excel', strict=True))
header = rows[0]
bad = [i for i, r in enumerate(rows) if len(r) != len(header)]
with open(p, newline='', encoding='utf-8') as f:
    sample = f.read(1 << 16)
sniffer = csv.Sniffer()
dialect = sniffer.sniff(sample, delimiters=',;\\t')
has_header = sniffer.has_header(sample)
with open(p, newline='', encoding='utf-8') as f:
    d = list(csv.DictReader(f, dialect='excel', strict=True))
print(json.dumps({'rows': len(rows) - 1, 'cols': len(header), 'bad': bad[:5], 'delimiter': dialect.delimiter,
                  'has_header': has_header, 'dict_rows': len(d),
                  'keys_ok': all(None not in r and len(r) == len(header) for r in d)}))
`;
import { prng } from '../support/prng';

function pythonCheck(file: string): CsvCheck {
  const py = requireTool('python3', 'python3');
  const r = spawnSync(py, ['-c', PY_CHECK, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python csv check failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as CsvCheck;
}

/** Rows of our own CSV (no quoting occurs in these columns) keyed by sequence_num. */
function rowsById(csv: string): Map<number, Record<string, string>> {
  const lines = csv.trimEnd().split('\n');
  const header = lines[0].split(',');
  const out = new Map<number, Record<string, string>>();
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    const row = Object.fromEntries(header.map((h, i) => [h, cells[i]]));
    out.set(Number(row.sequence_num), row);
  }
  return out;
}

function idsWhere(sent: Sent[], from: number, to: number, keep: (r: FlowRecord) => boolean = () => true): number[] {
  return sent.filter((s) => s.timestamp >= from && s.timestamp < to).flatMap((s) => s.records.filter(keep).map((r) => r.sequence_num)).sort((a, b) => a - b);
}

function sortedIds(m: Map<number, unknown>): number[] {
  return [...m.keys()].sort((a, b) => a - b);
}

function inNet(a: Uint8Array, net: string, bits: number): boolean {
  const n = textToIp(net);
  if (a.length !== n.length) return false;
  for (let b = 0; b < bits; b++) if ((a[b >> 3] & (0x80 >> (b & 7))) !== (n[b >> 3] & (0x80 >> (b & 7)))) return false;
  return true;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('flowgate dump (command line, Kafka mock broker)', function () {
  this.timeout(120_000);
  let kafka: KafkaMock;
  let sent: Sent[];
  let dir: string;
  const base = (): string[] => ['--brokers', kafka.bootstrap, '--topic', TOPIC, '--from', String(FROM), '--to', new Date(TO).toISOString(), '--fields', FIELDS];

  before(async () => {
    requireTool('python3', 'python3');
    dir = mkdtempSync(path.join(tmpdir(), 'flowgate-dump-'));
    kafka = await startKafkaMock({ topics: [{ name: TOPIC, partitions: 3 }] });
    const built = buildMessages();
    sent = built.sent;
    const client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING });
    const producer = client.producer({ idempotent: false });
    await producer.connect();
    for (let i = 0; i < built.messages.length; i += 200) await producer.send({ topic: TOPIC, messages: built.messages.slice(i, i + 200) });
    await producer.disconnect();
  });
  after(async () => {
    await kafka?.stop();
  });

  it('returns exactly the records whose message timestamps are in [from, to), across 3 partitions, to --out FILE', async () => {
    const out = path.join(dir, 'window.csv');
    const r = await runCli([...base(), '--out', out]);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('');
    const rows = rowsById(readFileSync(out, 'utf8'));
    const want = idsWhere(sent, FROM, TO);
    expect(want.length).to.be.greaterThan(300);
    expect(sortedIds(rows)).to.deep.equal(want);
    // The boundary records: from and to - 1 are in, from - 1 and to are out.
    expect([1, 3, 5, 7, 9].every((id) => rows.has(id))).to.equal(true);
    expect([2, 4, 6, 8, 10].some((id) => rows.has(id))).to.equal(false);
    // No temporary file left; nothing else written next to it.
    expect(readdirSync(dir).filter((f) => f.startsWith('window'))).to.deep.equal(['window.csv']);
    // stderr is not a terminal: no progress bar, a note about the mock and the summary line.
    expect(r.stderr).to.not.include('\r');
    const summary = r.stderr.trim().split('\n').pop() ?? '';
    expect(summary).to.match(new RegExp(`^flowgate dump: ${want.length.toLocaleString('en-US')} records written to ${out.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} `));
    expect(summary).to.match(/ in 3 partitions; /);
    expect(summary).to.include('3 bad (1 empty, 1 undecodable, 1 other-schema)');
    expect(summary).to.match(/ records\/s$/);
    expect(r.stderr).to.match(/note: the broker found no offset for timestamp 0/);
  });

  it('the output opens in Python csv (strict) and in a spreadsheet-style reader (Sniffer + DictReader)', async () => {
    const out = path.join(dir, 'default-fields.csv');
    // Default columns (decode's), iso times and protocol names: the analyst's everyday dump.
    const r = await runCli(['--brokers', kafka.bootstrap, '--topic', TOPIC, '--from', new Date(FROM).toISOString(), '--to', String(TO), '--protocol-names', '--out', out]);
    expect(r.status, r.stderr).to.equal(0);
    const check = pythonCheck(out);
    const want = idsWhere(sent, FROM, TO).length;
    expect(check).to.deep.equal({ rows: want, cols: 16, bad: [], delimiter: ',', has_header: true, dict_rows: want, keys_ok: true });
    const text = readFileSync(out, 'utf8');
    expect(text.split('\n')[0]).to.equal('type,time_flow_start_ns,time_flow_end_ns,src_addr,dst_addr,src_port,dst_port,proto,bytes,packets,tcp_flags,ip_tos,in_if,out_if,sampling_rate,sampler_address');
    expect(text).to.match(/\n(NETFLOW_V9|IPFIX|SFLOW_5),2024-06-01T12:\d\d:\d\d\.\d{6}Z,/);
    expect(text).to.match(/,(tcp|udp|icmp),/);
  });

  it('the consumer-group reader (--reader group) returns the same records', async () => {
    const out = path.join(dir, 'group.csv');
    const r = await runCli([...base(), '--out', out, '--reader', 'group']);
    expect(r.status, r.stderr).to.equal(0);
    expect(sortedIds(rowsById(readFileSync(out, 'utf8')))).to.deep.equal(idsWhere(sent, FROM, TO));
  });

  it('-c config.yaml: brokers and topic from the kafka section (the gateway\'s own config), same records', async () => {
    const cfg = path.join(dir, 'gateway.yaml');
    const [host, port] = kafka.brokers[0].split(':');
    writeFileSync(cfg, `listeners: [{ listen: "127.0.0.1:0" }]\nkafka:\n  brokers: ["${host}:${port}"]\n  topic: ${TOPIC}\n`);
    const out = path.join(dir, 'from-config.csv');
    const r = await runCli(['-c', cfg, '--from', String(FROM), '--to', new Date(TO).toISOString(), '--fields', FIELDS, '--out', out]);
    expect(r.status, r.stderr).to.equal(0);
    expect(sortedIds(rowsById(readFileSync(out, 'utf8')))).to.deep.equal(idsWhere(sent, FROM, TO));
    // A config that is not valid is a usage error naming the problem, as check-config would.
    writeFileSync(cfg, 'listeners: [{ listen: "127.0.0.1:0" }]\nkafka:\n  brokers: ["127.0.0.1:9092"]\n  framing: json\n');
    const bad = await runCli(['-c', cfg, '--from', '0', '--to', '1']);
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.equal(`flowgate dump: ${cfg}: kafka.framing: "json" is not one of raw, delimited (line 4)\n`);
    writeFileSync(cfg, 'listeners: [{ listen: "127.0.0.1:0" }]\n');
    const noKafka = await runCli(['-c', cfg, '--from', '0', '--to', '1']);
    expect(noKafka.status).to.equal(2);
    expect(noKafka.stderr).to.include(`flowgate dump: ${cfg} has no kafka section`);
  });

  it('--filter: protocol names, ports, CIDR blocks (IPv4 and IPv6), either-side addr/port, ANDed', async () => {
    const cases: Array<[string[], (r: FlowRecord) => boolean]> = [
      [['proto=tcp', 'dst_port=443'], (r) => r.proto === 6 && r.dst_port === 443],
      [['src_addr=10.0.0.0/8'], (r) => inNet(r.src_addr, '10.0.0.0', 8)],
      [['addr=2001:db8::/32'], (r) => inNet(r.src_addr, '2001:db8::', 32) || inNet(r.dst_addr, '2001:db8::', 32)],
      [['port=53', 'proto!=tcp'], (r) => (r.src_port === 53 || r.dst_port === 53) && r.proto !== 6],
      [['bytes>=50000', 'type=IPFIX'], (r) => r.bytes >= 50_000 && r.type === 4],
    ];
    for (const [filters, keep] of cases) {
      const r = await runCli([...base(), ...filters.flatMap((f) => ['--filter', f])]);
      expect(r.status, `${filters.join(' ')}: ${r.stderr}`).to.equal(0);
      const want = idsWhere(sent, FROM, TO, keep);
      expect(want.length, filters.join(' ')).to.be.greaterThan(0);
      expect(sortedIds(rowsById(r.stdout)), filters.join(' ')).to.deep.equal(want);
      const total = idsWhere(sent, FROM, TO).length;
      expect(r.stderr).to.include(`(${total.toLocaleString('en-US')} read, ${(total - want.length).toLocaleString('en-US')} filtered out)`);
    }
  });

  it('--time-format iso, epoch_ms and epoch_ns', async () => {
    // Record 1 starts at T0 + 1.123 ms.
    const expectFor = { iso: '2024-06-01T12:00:00.001123Z', epoch_ms: String(T0 + 1), epoch_ns: `${T0 * 1000 + 1123}000` };
    for (const [format, want] of Object.entries(expectFor)) {
      const r = await runCli([...base(), '--time-format', format, '--filter', 'sequence_num=1']);
      expect(r.status, r.stderr).to.equal(0);
      expect(rowsById(r.stdout).get(1)?.time_flow_start_ns, format).to.equal(want);
    }
  });

  it('an empty window writes the header only; --quiet writes nothing on stderr', async () => {
    const r = await runCli(['--brokers', kafka.bootstrap, '--topic', TOPIC, '--from', '2030-01-01', '--to', '2030-01-02', '--fields', 'src_addr,bytes', '--quiet']);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('src_addr,bytes\n');
    expect(r.stderr).to.equal('');
  });

  it('draws a progress bar (records/s, ETA) when stderr is a terminal', async () => {
    // A real pseudo-terminal from Python's pty module; the bar is drawn at once, then 4x a second.
    const out = path.join(dir, 'tty.csv');
    const py = requireTool('python3', 'python3');
    const args = [CLI, 'dump', ...base(), '--out', out];
    const r = spawnSync(py, ['-c', 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)', process.execPath, ...args], { encoding: 'latin1', timeout: 60_000 });
    expect(r.status, r.stdout).to.equal(0);
    expect(r.stdout).to.match(/\r\[[#.]+\] +\d+%  [\d,]+ records  [\d,]+ records\/s  ETA [\d:-]+\x1b\[K/);
    expect(r.stdout).to.match(/\r\x1b\[Kflowgate dump: [\d,]+ records written/); // the bar is wiped for the summary
    expect(sortedIds(rowsById(readFileSync(out, 'utf8')))).to.deep.equal(idsWhere(sent, FROM, TO));
  });

  it('Ctrl-C (SIGINT) stops a dump with exit 130 and leaves no file', async () => {
    const out = path.join(dir, 'interrupted.csv');
    const silent = net.createServer(() => undefined); // keeps the dump waiting in its connect
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const child = spawn(process.execPath, [CLI, 'dump', '--brokers', `127.0.0.1:${port}`, '--topic', TOPIC, '--from', '0', '--to', '1', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (x: string) => (stderr += x));
      setTimeout(() => child.kill('SIGINT'), 700);
      const t0 = Date.now();
      const status = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      expect(status, stderr).to.equal(130);
      expect(stderr).to.include('flowgate dump: interrupted');
      expect(Date.now() - t0).to.be.below(5_000);
      expect(existsSync(out) || existsSync(`${out}.tmp`)).to.equal(false);
    } finally {
      silent.close();
    }
  });

  it('usage errors: exit 2 with one line naming the problem, nothing written', async () => {
    const out = path.join(dir, 'never.csv');
    const cases: Array<[string[], RegExp]> = [
      [['--brokers', kafka.bootstrap, '--from', '0', '--to', '1'], /--topic is required \(or give -c with a config file: then kafka.topic\)/],
      [['--brokers', kafka.bootstrap, '--topic', TOPIC, '--from', 'noon', '--to', '1'], /--from "noon": not a time; use ISO 8601/],
      [['--brokers', kafka.bootstrap, '--topic', TOPIC, '--from', '2024-06-02', '--to', '2024-06-01'], /must be after --from/],
      [[...base(), '--filter', 'dst_port=https'], /--filter "dst_port=https": "https" is not a non-negative integer/],
      [[...base(), '--filter', 'src_addr=10.0.0.0/40'], /prefix length \/40 is not 0-32/],
      [[...base(), '--fields', 'src_addr,dst_adr'], /--fields: unknown column "dst_adr" \(did you mean "dst_addr"\?\)/],
      [[...base(), '--time-format', 'unix'], /--time-format "unix": use iso, epoch_ms or epoch_ns/],
      [[...base(), '--reader', 'fast'], /--reader "fast": use fetch or group/],
      [[...base(), '--skew-ms', '-5'], /--skew-ms "-5": expected an integer/],
      [[...base(), '--brokers', 'localhost'], /--brokers: "localhost" is not host:port/],
      [[...base(), '--bogus'], /unknown option '--bogus'/],
      [[...base(), 'extra'], /too many arguments/],
    ];
    for (const [args, why] of cases) {
      const r = await runCli([...args, '--out', out]);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(why);
      expect(r.stdout).to.equal('');
    }
    expect(existsSync(out) || existsSync(`${out}.tmp`)).to.equal(false);
  });

  it('Kafka and file failures: exit 1 with a clear message, within the timeout, no file left', async () => {
    const out = path.join(dir, 'fail.csv');
    const port = await freePort(); // nothing listens there
    const down = await runCli(['--brokers', `127.0.0.1:${port}`, '--topic', TOPIC, '--from', '0', '--to', '1', '--timeout-ms', '2000', '--out', out]);
    expect(down.status, down.stderr).to.equal(1);
    expect(down.stderr).to.match(new RegExp(`flowgate dump: Kafka at 127\\.0\\.0\\.1:${port}(: connecting failed: .*ECONNREFUSED| did not answer within 2000 ms)`));
    expect(down.ms).to.be.below(10_000);
    // A "broker" that accepts connections and never answers: the --timeout-ms budget ends it.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as net.AddressInfo).port;
    try {
      const hung = await runCli(['--brokers', `127.0.0.1:${silentPort}`, '--topic', TOPIC, '--from', '0', '--to', '1', '--timeout-ms', '1500', '--out', out]);
      expect(hung.status, hung.stderr).to.equal(1);
      expect(hung.stderr).to.include(`flowgate dump: Kafka at 127.0.0.1:${silentPort} did not answer within 1500 ms (connecting)`);
      expect(hung.ms).to.be.below(8_000);
    } finally {
      silent.close(); // the CLI has exited: its connections are gone
    }
    const missing = await runCli(['--brokers', kafka.bootstrap, '--topic', 'no-such-topic', '--from', '0', '--to', '1', '--out', out]);
    expect(missing.status, missing.stderr).to.equal(1);
    expect(missing.stderr).to.match(/topic "no-such-topic" does not exist on .* \(topics: flows\)/);
    const nodir = await runCli([...base(), '--out', path.join(dir, 'no', 'such', 'dir.csv')]);
    expect(nodir.status, nodir.stderr).to.equal(1);
    expect(nodir.stderr).to.match(/cannot write .*dir\.csv: ENOENT/);
    expect(existsSync(out) || existsSync(`${out}.tmp`)).to.equal(false);
    // Asking for a missing topic did not create it (the mock auto-creates on a metadata request).
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    expect(await admin.listTopics()).to.not.include('no-such-topic');
    await admin.disconnect();
  });
});
