/**
 * A Kafka-protocol broker on 127.0.0.1 for tests: librdkafka's mock cluster behind the small
 * C launcher test/support/kafka/mock-cluster.c (DESIGN.md §7), compiled at first use.
 *
 *   const kafka = await startKafkaMock({ brokers: 1, topics: [{ name: 'flows', partitions: 3 }] });
 *   after(() => kafka.stop());           // always, even when the test fails
 *   ... kafka.bootstrap ("127.0.0.1:PORT,...") to kafkajs / the gateway / kcat ...
 *   await kafka.down(); ... await kafka.up();   // outage on the same ports
 *   await kafka.kill();                  // SIGKILL: the broker process dies, its log with it
 *   const again = await startKafkaMock({ ports: kafka.ports, topics: [...] });  // same address
 *
 * FINDINGS (librdkafka 2.0.2 mock cluster from Debian 12, kafkajs 2.2.4, kcat 1.7.1). Those
 * about auto-creation, createTopics, the idempotent producer, gzip, first group join and
 * down/up are asserted by test/kafka-harness.test.ts, so an upgrade that changes them fails
 * there; the others were measured with one-off scripts. Gateway and converter authors rely
 * on these.
 *
 * Topics and auto-creation
 *  - Any Metadata request naming an unknown topic auto-creates it with 4 partitions
 *    (replication min(3, brokers)): a kafkajs producer's send, admin.fetchTopicMetadata(),
 *    and also a CONSUMER's metadata request (kcat -C, readTopic) even with
 *    allow.auto.create.topics=false: the mock ignores the request's AllowAutoTopicCreation
 *    flag. Reading a topic before the gateway wrote to it therefore fixes its partition count
 *    at 4. Pre-create topics whose partition count matters (opts.topics / createTopic()).
 *  - kafkajs admin.createTopics() fails at once (~1 ms, no retries) with
 *    KafkaJSBrokerNotFound "Broker 0 not found in the cached metadata": the mock's metadata
 *    reports controller id 0 (admin.describeCluster() → controller: 0) while brokers are
 *    numbered from 1, and kafkajs sends CreateTopics to the controller. describeConfigs
 *    fails the same way. (The mock does not implement CreateTopics anyway.) The gateway must
 *    treat that failure as "rely on auto-create" and log a warning.
 *  - Working admin calls: fetchTopicMetadata, listTopics, describeCluster.
 *
 * Producer
 *  - kafkajs non-idempotent producer: works (acks -1), gzip too (kcat decompresses), with
 *    explicit partitions and CreateTime timestamps kept exactly.
 *  - kafkajs idempotent producer (idempotent: true): connect/send fails with the same
 *    KafkaJSBrokerNotFound "Broker 0 not found" (InitProducerId). Use idempotent: false.
 *
 * Consumer groups (kafkajs consumer)
 *  - Work: join, assignment, fetch from the beginning; kafkajs' auto-commit raises no errors.
 *  - The first member's join takes ~3.0 s (apparently the mock's initial rebalance delay,
 *    like Kafka's group.initial.rebalance.delay.ms); a second member joining an active group
 *    waits ~9 s for the rebalance (sessionTimeout 10 s, heartbeatInterval 0.5-1 s).
 *  - consumer.disconnect() takes as long as maxWaitTimeInMs (default 5000 ms: the mock holds
 *    an empty fetch for the full max wait). Tests should set maxWaitTimeInMs ≈ 100-250.
 *
 * Outage (down/up)
 *  - down() drops every connection and refuses new ones (ECONNREFUSED) on all brokers; the
 *    listening ports are kept, so up() restores the SAME bootstrap and clients reconnect on
 *    their own. Topics and their data survive down/up. Each command takes ~1-3 ms.
 *  - A kafkajs send while down fails once its retries run out (retries 2, initialRetryTime
 *    100 ms: after ~0.6 s) with KafkaJSNonRetriableError "Connection error: connect
 *    ECONNREFUSED ..."; nothing of it reaches the topic. A send whose retries outlast the
 *    outage is delivered after up(), at its next retry (measured: 0.15-0.8 s after up with
 *    retries 15, initialRetryTime 100, maxRetryTime 1000).
 *  - kcat (readTopic) while down fails after its 10 s metadata timeout.
 *
 * Broker process restart (kill()/startKafkaMock({ ports }))
 *  - librdkafka 2.0.2 has no property or mock API to choose the listener ports (the mock binds
 *    127.0.0.1:0 per broker; test.mock.num.brokers too). The launcher therefore defines bind()
 *    itself and, given --ports, rewrites the mock's port-0 loopback binds to the ports asked
 *    for, with SO_REUSEADDR (mock-cluster.c explains why this is an interposition in the
 *    executable rather than an LD_PRELOAD shim). kill() SIGKILLs the launcher like a crashed
 *    broker; startKafkaMock({ ports: old.ports }) starts a NEW process that listens on, and
 *    advertises in its metadata, the same host:port pairs, so clients that knew the old one
 *    reconnect to it without being told anything.
 *  - The new process is an empty cluster: the mock keeps its log in memory, so records the
 *    killed broker had acknowledged are gone with it (a real broker with acks=all and a
 *    replicated log would keep them). Tests that count records across a kill must read what
 *    the old broker held before it dies (test/hardening/restarts.test.ts shows how).
 *  - kafkajs (the gateway's bus: test/hardening/restarts.test.ts, and the PATIENT producer in
 *    test/kafka-harness.test.ts) reconnects to the new process by itself: same broker ids,
 *    same addresses, its cached metadata stays valid; no producer re-creation is needed.
 *    librdkafka clients (kcat) reconnect as well.
 *  - Without `ports` the ports are ephemeral (nothing is rewritten).
 *  - failRequests(0, n, 19) makes the next n Produce requests fail with NOT_ENOUGH_REPLICAS
 *    (retriable; nothing appended) while consumers still fetch: a test can stop the log from
 *    growing, read all of it, and only then kill the broker.
 *
 * Timing on this 2-core machine: compile the launcher ~0.1 s (once per source hash, cached in
 * dist/test-tools/kafka-mock/), start with 3 brokers and 7 topics ~10 ms — but now and then
 * 1-2 s, and a stop ~1 s: the mock thread sometimes picks a queued operation up only at its
 * next 1 s poll timeout (timeouts here are 15 s for start, 10 s a command). kafkajs produce
 * 1000 records ~80-120 ms; kcat read of 1000 records ~40-60 ms with fetch.wait.max.ms=10
 * (once in a while ~550 ms), but ~550 ms every time with librdkafka's default 500 ms: the
 * mock holds a fetch at the partition end for the full max wait, the same reason kafkajs'
 * maxWaitTimeInMs shows up in its disconnect. protoc decode of 200 records in one process
 * ~30 ms.
 */
import { ChildProcessWithoutNullStreams, execFileSync, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as readline from 'readline';
import { requireTool } from './tools';

// Compiled to dist/test/support/kafka-broker.js: the repository root is three levels up.
const repoRoot = path.resolve(__dirname, '../../..');
const sourcePath = path.join(repoRoot, 'test', 'support', 'kafka', 'mock-cluster.c');
const cacheRoot = path.join(repoRoot, 'dist', 'test-tools', 'kafka-mock');

const INSTALL_HINT =
  'install it with `apt-get install gcc libc6-dev librdkafka-dev` (or run scripts/install-test-deps.sh)';

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
const START_TIMEOUT_MS = 15_000;
const COMMAND_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export interface KafkaMockTopic {
  name: string;
  partitions: number;
}

export interface KafkaMockOptions {
  /** Number of brokers (ids 1..N); default 1. */
  brokers?: number;
  /** Topics created before the bootstrap line is printed. */
  topics?: KafkaMockTopic[];
  /** Listener port of each broker (one per broker, in id order), e.g. a killed mock's `ports`. */
  ports?: number[];
}

export interface KafkaMock {
  /** "127.0.0.1:PORT,127.0.0.1:PORT,..." — one entry per broker. */
  readonly bootstrap: string;
  /** The same entries as an array, for kafkajs' `brokers`. */
  readonly brokers: string[];
  /** Listener port of each broker, in id order (pass to startKafkaMock({ ports }) to restart). */
  readonly ports: number[];
  /** Pid of the launcher process (for diagnostics). */
  readonly pid: number;
  /** Takes every broker (or only broker `id`, 1-based) down: connections dropped and refused. */
  down(id?: number): Promise<void>;
  /** Brings every broker (or broker `id`) back on the same ports. */
  up(id?: number): Promise<void>;
  createTopic(name: string, partitions: number): Promise<void>;
  /** The next `count` requests of Kafka API `apiKey` (0 = Produce) fail with error `code`
   * (e.g. 19 NOT_ENOUGH_REPLICAS: nothing is appended); other APIs (Fetch) keep working. */
  failRequests(apiKey: number, count: number, code: number): Promise<void>;
  /** SIGKILL, like a crashed broker: no orderly shutdown, the in-memory log is lost. Resolves
   * once the process is gone (its ports are free for a new mock). Idempotent. */
  kill(): Promise<void>;
  /** Kills the launcher; idempotent. Call it in after()/afterEach() unconditionally. */
  stop(): Promise<void>;
}

let cachedBinary: string | undefined;

/**
 * Path of the compiled launcher, compiling it into dist/test-tools/kafka-mock/<source hash>/
 * when needed. Throws, naming the Debian packages, when the compiler or librdkafka is missing.
 */
export function kafkaMockBinary(): string {
  if (cachedBinary !== undefined) return cachedBinary;
  const source = fs.readFileSync(sourcePath);
  const hash = crypto.createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = path.join(cacheRoot, hash);
  const bin = path.join(dir, 'mock-cluster');
  if (!fs.existsSync(bin)) {
    const cc = requireTool('cc', 'gcc libc6-dev librdkafka-dev');
    fs.mkdirSync(dir, { recursive: true });
    // Unique temp name + rename: parallel test processes may compile at the same time.
    const tmp = `${bin}.${process.pid}.tmp`;
    try {
      execFileSync(cc, ['-O1', '-Wall', '-o', tmp, sourcePath, '-lrdkafka'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      });
    } catch (e) {
      const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
      fs.rmSync(tmp, { force: true });
      let what = 'compiling test/support/kafka/mock-cluster.c failed';
      if (/librdkafka\/|-lrdkafka/.test(stderr)) what = 'librdkafka (headers or library) not found';
      else if (/stdio\.h|crt1\.o|-lc\b/.test(stderr)) what = 'the C library headers (libc6-dev) not found';
      throw new Error(`kafka mock cluster: ${what}: ${INSTALL_HINT}\n${stderr.trim()}`);
    }
    fs.renameSync(tmp, bin);
  }
  cachedBinary = bin;
  return bin;
}

// Children that must not outlive this process, whatever happens to the test that started them.
const live = new Set<ChildProcessWithoutNullStreams>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL, no waiting. The launcher also exits on its
  // own when its stdin pipe closes, which covers a runner killed with SIGKILL.
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function validateTopic(name: string, partitions: number): void {
  if (!TOPIC_NAME.test(name)) throw new Error(`kafka mock: invalid topic name ${JSON.stringify(name)}`);
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 10_000) {
    throw new Error(`kafka mock: invalid partition count ${partitions} for topic ${name}`);
  }
}

export async function startKafkaMock(opts: KafkaMockOptions = {}): Promise<KafkaMock> {
  const brokerCount = opts.brokers ?? 1;
  if (!Number.isInteger(brokerCount) || brokerCount < 1 || brokerCount > 64) {
    throw new Error(`kafka mock: invalid broker count ${brokerCount}`);
  }
  const topics = opts.topics ?? [];
  for (const t of topics) validateTopic(t.name, t.partitions);
  const ports = opts.ports ?? [];
  if (opts.ports && (ports.length !== brokerCount || !ports.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535))) {
    throw new Error(`kafka mock: ports ${JSON.stringify(opts.ports)} must be ${brokerCount} port number(s), one per broker`);
  }

  const bin = kafkaMockBinary();
  installExitHook();
  const portArgs = ports.length ? ['--ports', ports.join(',')] : [];
  const child = spawn(bin, [...portArgs, String(brokerCount), ...topics.map((t) => `${t.name}:${t.partitions}`)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);
  // A test that forgets stop() must not keep the runner alive forever: the process and its
  // pipes do not hold the event loop open (pending start/command timers do, while awaited),
  // and the exit hook then kills the launcher.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();

  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 16_384) stderr += s;
  });
  // A write to a launcher that already died must reject the command, not crash the runner.
  child.stdin.on('error', () => undefined);

  let exited = false;
  let exitDescription = '';
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      exitDescription = signal ? `signal ${signal}` : `exit code ${code}`;
      live.delete(child);
      failPending(new Error(`kafka mock exited (${exitDescription}) ${stderr.trim()}`));
      resolve();
    });
  });
  child.once('error', (e) => {
    failPending(e);
  });

  // Answers to commands arrive in order, one line each.
  const waiting: Array<{ resolve: (line: string) => void; reject: (e: Error) => void }> = [];
  let bootstrapLine: ((line: string) => void) | undefined;
  function failPending(e: Error): void {
    while (waiting.length) waiting.shift()?.reject(e);
  }
  const lines = readline.createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (bootstrapLine) {
      const f = bootstrapLine;
      bootstrapLine = undefined;
      f(line);
      return;
    }
    waiting.shift()?.resolve(line);
  });

  let firstLine: string;
  try {
    firstLine = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kafka mock: no BOOTSTRAP line within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      bootstrapLine = (line) => {
        clearTimeout(timer);
        resolve(line);
      };
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`kafka mock: cannot run ${bin}: ${e.message}`));
      });
      void exitPromise.then(() => {
        clearTimeout(timer);
        // e.g. librdkafka.so.1 removed after the launcher was compiled and cached.
        reject(new Error(`kafka mock exited before start (${exitDescription}): ${stderr.trim()}; if a library is missing, ${INSTALL_HINT}`));
      });
    });
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const m = /^BOOTSTRAP (\S+)$/.exec(firstLine);
  if (!m) {
    child.kill('SIGKILL');
    throw new Error(`kafka mock: unexpected first line ${JSON.stringify(firstLine)}`);
  }
  const brokers = m[1].split(',');
  // Tests must only ever talk to loopback.
  if (brokers.length !== brokerCount || !brokers.every((b) => /^127\.0\.0\.1:\d+$/.test(b))) {
    child.kill('SIGKILL');
    throw new Error(`kafka mock: unexpected bootstrap list ${m[1]}`);
  }
  const boundPorts = brokers.map((b) => Number(b.slice(b.lastIndexOf(':') + 1)));
  if (ports.length && boundPorts.join(',') !== ports.join(',')) {
    child.kill('SIGKILL');
    throw new Error(`kafka mock: asked for ports ${ports.join(',')}, the mock listens on ${boundPorts.join(',')}`);
  }

  // One command at a time: the protocol has no request ids.
  let chain: Promise<unknown> = Promise.resolve();
  function command(text: string): Promise<void> {
    const run = async (): Promise<void> => {
      if (exited) throw new Error(`kafka mock: "${text}" after the launcher exited (${exitDescription})`);
      const answer = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`kafka mock: no answer to "${text}" within ${COMMAND_TIMEOUT_MS} ms`)), COMMAND_TIMEOUT_MS);
        waiting.push({
          resolve: (line) => {
            clearTimeout(timer);
            resolve(line);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.stdin.write(`${text}\n`);
      });
      if (answer !== 'OK') throw new Error(`kafka mock: "${text}" failed: ${answer}`);
    };
    const p = chain.then(run, run);
    chain = p.catch(() => undefined);
    return p;
  }

  function brokerArg(id: number | undefined): string {
    if (id === undefined) return '';
    if (!Number.isInteger(id) || id < 1 || id > brokerCount) throw new Error(`kafka mock: no broker ${id}`);
    return ` ${id}`;
  }

  let stopping: Promise<void> | undefined;
  const kill = async (): Promise<void> => {
    if (!exited) child.kill('SIGKILL');
    await exitPromise;
    lines.close();
  };
  return {
    bootstrap: brokers.join(','),
    brokers,
    ports: boundPorts,
    pid: child.pid ?? -1,
    kill,
    // async: a bad argument rejects like every other failure instead of throwing synchronously.
    down: async (id) => command(`down${brokerArg(id)}`),
    up: async (id) => command(`up${brokerArg(id)}`),
    failRequests: async (apiKey, count, code) => {
      for (const [what, v, max] of [['api key', apiKey, 32767], ['count', count, 100_000], ['error code', code, 32767]] as const) {
        if (!Number.isInteger(v) || v < 0 || v > max) throw new Error(`kafka mock: invalid ${what} ${v}`);
      }
      return command(`errors ${apiKey} ${count} ${code}`);
    },
    createTopic: async (name, partitions) => {
      validateTopic(name, partitions);
      return command(`topic ${name} ${partitions}`);
    },
    stop: () => {
      stopping ??= (async () => {
        if (exited) return;
        // Closing stdin is the launcher's orderly shutdown; SIGKILL if it hangs in destroy.
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exitPromise;
        clearTimeout(timer);
        lines.close();
      })();
      return stopping;
    },
  };
}

/**
 * The `kafka:` section of a test config for this mock: no topic creation (the mock refuses it),
 * no state topic, and a short session timeout so a restarted consumer rejoins quickly. `extra`
 * lines (indented two spaces, e.g. '  framing: raw') go at the end of the section.
 */
export function kafkaSectionYaml(kafka: KafkaMock, topic: string, extra: readonly string[] = []): string[] {
  return [
    'kafka:',
    `  brokers: [${kafka.brokers.map((b) => JSON.stringify(b)).join(', ')}]`,
    '  create_topics: false',
    '  state_topic: ""',
    `  topic: ${topic}`,
    '  session_timeout_ms: 6000',
    ...extra,
  ];
}
