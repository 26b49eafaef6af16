/**
 * Reads a Kafka topic with the real kcat (Debian `kcat`, librdkafka underneath), so tests see
 * what an independent librdkafka consumer sees: every partition, from the beginning to the
 * current end.
 *
 *   kcat -C -b BOOTSTRAP -t TOPIC -o beginning -e -q -J -X fetch.wait.max.ms=10
 *
 * Binary safety. kcat's -f format has explicit lengths for key and payload (%K, %S, %R) but
 * its %h prints headers as unescaped "name=value,name=value" (ambiguous as soon as a value
 * holds ',' or '=', and cut at a NUL), so one -f pass cannot carry headers safely. The -J
 * envelope carries everything, and it IS binary-safe when read the right way: kcat writes key,
 * payload and header values with yajl_gen_string() without UTF-8 validation, and yajl
 * escapes only '"', '\\' and bytes < 0x20 (as \n, \t, ..., \u00XX), copying every other byte
 * through verbatim. Decoding kcat's stdout as latin1 (one char per byte) before JSON.parse
 * therefore yields strings whose char codes are exactly the original bytes (all escapes are
 * <= \u00ff), and Buffer.from(s, 'latin1') restores them. Decoding as UTF-8 instead would
 * corrupt every byte >= 0x80 that is not valid UTF-8, which is why -J is usually called
 * unsafe for binary. test/kafka-harness.test.ts proves this with values, keys and header
 * values holding every byte 0..255.
 *
 * Missing topics: the librdkafka 2.0.2 mock auto-creates a topic (4 partitions) on any
 * metadata request, consumers' included; reading a topic before it exists creates it.
 */
import { spawn } from 'child_process';
import { requireTool } from './tools';

export interface KafkaHeader {
  name: string;
  /** null for a header whose value is NULL on the wire. */
  value: Buffer | null;
}

export interface KafkaRecord {
  topic: string;
  partition: number;
  offset: number;
  /** Milliseconds since the epoch (CreateTime or LogAppendTime); -1 if the broker gave none. */
  timestamp: number;
  key: Buffer | null;
  /** null for a tombstone (compacted topics). */
  value: Buffer | null;
  /** Header values as UTF-8 text; a repeated name keeps its last value, NULL becomes ''. */
  headers: Record<string, string>;
  /** Every header in wire order, with raw bytes. */
  headerList: KafkaHeader[];
}

export interface ReadTopicOptions {
  /** Keep re-reading until at least this many records are on the topic (default 0: read once). */
  minRecords?: number;
  /** Overall budget for reaching minRecords (default 30 s). */
  timeoutMs?: number;
  /** Pause between reads while waiting for minRecords (default 250 ms). */
  pollIntervalMs?: number;
  /** Only this partition (default: all). */
  partition?: number;
  /** Extra librdkafka properties (-X name=value). */
  config?: Record<string, string>;
}

const ONE_READ_TIMEOUT_MS = 30_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bytesOf(v: unknown, what: string): Buffer | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new Error(`kcat: ${what} is not a string: ${JSON.stringify(v)}`);
  return Buffer.from(v, 'latin1');
}

function intOf(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`kcat: ${what} is not an integer: ${JSON.stringify(v)}`);
  return v;
}

/** One -J line (already decoded as latin1) → KafkaRecord. */
export function parseKcatJsonLine(line: string): KafkaRecord {
  const o: unknown = JSON.parse(line);
  if (!isObject(o)) throw new Error(`kcat: not a JSON object: ${line.slice(0, 200)}`);
  const headerList: KafkaHeader[] = [];
  const headers: Record<string, string> = {};
  if (o.headers !== undefined) {
    // Without -X json.headers.map (kcat's default): a flat [name, value, name, value, ...].
    if (!Array.isArray(o.headers) || o.headers.length % 2 !== 0) {
      throw new Error(`kcat: unexpected headers ${JSON.stringify(o.headers)}`);
    }
    for (let i = 0; i < o.headers.length; i += 2) {
      const rawName = bytesOf(o.headers[i], 'header name');
      if (rawName === null) throw new Error('kcat: header without a name');
      const name = rawName.toString('utf8');
      const value = bytesOf(o.headers[i + 1], `header ${name}`);
      headerList.push({ name, value });
      headers[name] = value === null ? '' : value.toString('utf8');
    }
  }
  return {
    topic: (bytesOf(o.topic, 'topic') ?? Buffer.alloc(0)).toString('utf8'),
    partition: intOf(o.partition, 'partition'),
    offset: intOf(o.offset, 'offset'),
    timestamp: o.ts === undefined ? -1 : intOf(o.ts, 'ts'),
    key: bytesOf(o.key, 'key'),
    value: bytesOf(o.payload, 'payload'),
    headers,
    headerList,
  };
}

/** One kcat run: everything on the topic up to the end offsets kcat sees when it starts. */
function readOnce(kcat: string, bootstrap: string, topic: string, opts: ReadTopicOptions): Promise<KafkaRecord[]> {
  // fetch.wait.max.ms: the mock holds a fetch at the end of a partition for the full max wait
  // (default 500 ms) before kcat can see EOF; 10 ms makes a read ~60 ms instead of ~550 ms.
  const args = ['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-J', '-m', '10', '-X', 'fetch.wait.max.ms=10'];
  if (opts.partition !== undefined) args.push('-p', String(opts.partition));
  for (const [k, v] of Object.entries(opts.config ?? {})) args.push('-X', `${k}=${v}`);
  return new Promise<KafkaRecord[]>((resolve, reject) => {
    // An empty config file instead of ~/.config/kcat.conf: a developer's settings must not
    // change what the test reads.
    const child = spawn(kcat, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KCAT_CONFIG: '/dev/null' } });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (err.length < 16_384) err += s;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), ONE_READ_TIMEOUT_MS);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        const why = signal ? `killed by ${signal} (timeout ${ONE_READ_TIMEOUT_MS} ms?)` : `exit code ${code}`;
        reject(new Error(`kcat ${args.join(' ')}: ${why}: ${err.trim()}`));
        return;
      }
      try {
        const text = Buffer.concat(out).toString('latin1');
        const records = text
          .split('\n')
          .filter((l) => l.length > 0)
          .map(parseKcatJsonLine);
        records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
        resolve(records);
      } catch (e) {
        reject(e);
      }
    });
  });
}

/**
 * All records of `topic`, sorted by partition then offset. With `minRecords`, re-reads (kcat
 * stops at the end offsets it sees at start) until that many are there or `timeoutMs` passes,
 * then throws, saying how many it found: the gateway publishes asynchronously.
 */
export async function readTopic(bootstrap: string, topic: string, opts: ReadTopicOptions = {}): Promise<KafkaRecord[]> {
  const kcat = requireTool('kcat', 'kcat');
  const min = opts.minRecords ?? 0;
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  const interval = opts.pollIntervalMs ?? 250;
  for (let attempt = 1; ; attempt++) {
    const records = await readOnce(kcat, bootstrap, topic, opts);
    if (records.length >= min) return records;
    if (Date.now() + interval > deadline) {
      throw new Error(
        `kcat: expected at least ${min} records on topic ${topic}, found ${records.length} after ${attempt} reads in ${opts.timeoutMs ?? 30_000} ms`,
      );
    }
    await sleep(interval);
  }
}

/** `kcat -V` first version line, e.g. "Version 1.7.1 (JSON, ..., librdkafka 2.0.2 ...)". */
export function kcatVersion(): Promise<string> {
  const kcat = requireTool('kcat', 'kcat');
  return new Promise((resolve, reject) => {
    const child = spawn(kcat, ['-V'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => (out += s));
    child.once('error', reject);
    child.once('close', () => {
      const line = out.split('\n').find((l) => l.startsWith('Version'));
      if (line) resolve(line.trim());
      else reject(new Error(`kcat -V: no version line in ${JSON.stringify(out)}`));
    });
  });
}
