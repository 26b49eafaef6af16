import { expect } from 'chai';
import * as http from 'node:http';
import { Counter } from 'prom-client';
import {
  DECODE_ERROR_REASONS, GatewayMetrics, KAFKA_DROP_REASONS, PRODUCE_LATENCY_BUCKETS, type ExporterMetrics,
} from '../../src/metrics/gateway-metrics';
import { startMetricsServer, type MetricsServer } from '../../src/metrics/metrics-server';
import { addError, emptyOutput } from '../../src/decode/types';
import type { InterfaceCounters } from '../../src/canonical/flow-record';

// ---- a tiny parser of the Prometheus text exposition format (0.0.4) ----

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  samples: Sample[];
  types: Map<string, string>;
  help: Map<string, string>;
}

function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m) {
      types.set(m[1], m[2]);
      continue;
    }
    m = /^# HELP (\S+) (.*)$/.exec(line);
    if (m) {
      help.set(m[1], m[2]);
      continue;
    }
    if (line.startsWith('#')) continue;
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparseable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
    let lm: RegExpExecArray | null;
    let consumed = 0;
    while ((lm = re.exec(body)) !== null) {
      labels[lm[1]] = lm[2].replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
      consumed = re.lastIndex;
    }
    if (consumed !== body.length) throw new Error(`unparseable labels: ${body}`);
    const v = m[3];
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v);
    samples.push({ name: m[1], labels, value });
  }
  return { samples, types, help };
}

function labelKey(labels: Record<string, string>): string {
  return JSON.stringify(Object.keys(labels).sort().map((k) => [k, labels[k]]));
}

/** The value of the one sample with exactly these labels; undefined when absent. */
function valueOf(e: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const key = labelKey(labels);
  const found = e.samples.filter((s) => s.name === name && labelKey(s.labels) === key);
  if (found.length > 1) throw new Error(`duplicate series ${name}${key}`);
  return found[0]?.value;
}

function series(e: Exposition, name: string): Record<string, string>[] {
  return e.samples.filter((s) => s.name === name).map((s) => s.labels);
}

interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, path: string, method = 'GET'): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function scrape(port: number): Promise<Exposition> {
  const r = await request(port, '/metrics');
  expect(r.status).to.equal(200);
  return parseExposition(r.body);
}

function counters(n: number): InterfaceCounters[] {
  // observeDatagram only reads the length
  return new Array<InterfaceCounters>(n);
}

describe('GatewayMetrics and the /metrics endpoint', () => {
  let metrics: GatewayMetrics;
  let server: MetricsServer;

  beforeEach(async () => {
    metrics = new GatewayMetrics({ version: '1.2.3-test', maxExporters: 2 });
    server = await startMetricsServer(metrics.registry, { host: '127.0.0.1', port: 0 });
  });

  afterEach(async () => {
    await server.close();
  });

  it('binds the requested host on an OS-chosen port', () => {
    expect(server.address.host).to.equal('127.0.0.1');
    expect(server.address.port).to.be.greaterThan(0);
  });

  it('serves the text exposition with the registry content type, including process metrics and build info', async () => {
    const r = await request(server.address.port, '/metrics');
    expect(r.status).to.equal(200);
    expect(r.headers['content-type']).to.equal(metrics.registry.contentType);
    expect(r.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);
    const e = parseExposition(r.body);
    expect(valueOf(e, 'flowgate_build_info', { version: '1.2.3-test' })).to.equal(1);
    expect(valueOf(e, 'flowgate_process_cpu_seconds_total')).to.be.a('number');
    expect(e.types.get('flowgate_nodejs_heap_size_used_bytes')).to.equal('gauge');
    for (const s of e.samples) expect(s.name.startsWith('flowgate_'), s.name).to.equal(true);
  });

  it('counts datagrams, bytes, records, counter samples and gaps per exporter address and protocol', async () => {
    const a = metrics.exporter('192.0.2.1', 'netflow9');
    a.datagram(1400);
    a.datagram(600);
    a.records(30);
    a.records(12);
    a.gap(3);
    const b = metrics.exporter('2001:db8::1', 'sflow');
    b.datagram(200);
    b.counterSamples(2);
    // the same exporter address under a second protocol: same exporter label, not a new exporter
    metrics.exporter('192.0.2.1', 'ipfix').datagram(100);

    const e = await scrape(server.address.port);
    expect(valueOf(e, 'flowgate_datagrams_received_total', { exporter: '192.0.2.1', protocol: 'netflow9' })).to.equal(2);
    expect(valueOf(e, 'flowgate_bytes_received_total', { exporter: '192.0.2.1', protocol: 'netflow9' })).to.equal(2000);
    expect(valueOf(e, 'flowgate_records_decoded_total', { exporter: '192.0.2.1', protocol: 'netflow9' })).to.equal(42);
    expect(valueOf(e, 'flowgate_sequence_gaps_total', { exporter: '192.0.2.1', protocol: 'netflow9' })).to.equal(3);
    expect(valueOf(e, 'flowgate_datagrams_received_total', { exporter: '192.0.2.1', protocol: 'ipfix' })).to.equal(1);
    expect(valueOf(e, 'flowgate_datagrams_received_total', { exporter: '2001:db8::1', protocol: 'sflow' })).to.equal(1);
    expect(valueOf(e, 'flowgate_counter_samples_total', { exporter: '2001:db8::1' })).to.equal(2);
    expect(valueOf(e, 'flowgate_exporters_folded_total')).to.equal(0);
    expect(valueOf(e, 'flowgate_exporters_tracked')).to.equal(2);
    expect(e.types.get('flowgate_datagrams_received_total')).to.equal('counter');
    expect(series(e, 'flowgate_datagrams_received_total')).to.have.length(3);
  });

  it('accumulates across scrapes (each scrape sees every increment made before it, once)', async () => {
    const h = metrics.exporter('192.0.2.9', 'ipfix');
    h.records(5);
    let e = await scrape(server.address.port);
    expect(valueOf(e, 'flowgate_records_decoded_total', { exporter: '192.0.2.9', protocol: 'ipfix' })).to.equal(5);
    e = await scrape(server.address.port);
    expect(valueOf(e, 'flowgate_records_decoded_total', { exporter: '192.0.2.9', protocol: 'ipfix' })).to.equal(5);
    h.records(7);
    e = await scrape(server.address.port);
    expect(valueOf(e, 'flowgate_records_decoded_total', { exporter: '192.0.2.9', protocol: 'ipfix' })).to.equal(12);
  });

  it('folds exporters beyond the limit into exporter="other", counting each folded address once', async () => {
    const first = metrics.exporter('192.0.2.1', 'netflow5');
    metrics.exporter('192.0.2.2', 'netflow5').datagram(10);
    const third = metrics.exporter('192.0.2.3', 'netflow5');
    const fourth = metrics.exporter('192.0.2.4', 'netflow5');
    expect(third.exporter).to.equal('other');
    expect(fourth).to.equal(third);
    expect(metrics.exporter('192.0.2.1', 'netflow5')).to.equal(first);
    third.datagram(100);
    fourth.datagram(50);
    fourth.records(7);
    metrics.exporter('192.0.2.3', 'netflow5').datagram(1); // seen again: no second fold
    metrics.exporter('192.0.2.3', 'sflow').counterSamples(4);

    const e = await scrape(server.address.port);
    expect(valueOf(e, 'flowgate_exporters_folded_total')).to.equal(2);
    expect(valueOf(e, 'flowgate_datagrams_received_total', { exporter: 'other', protocol: 'netflow5' })).to.equal(3);
    expect(valueOf(e, 'flowgate_bytes_received_total', { exporter: 'other', protocol: 'netflow5' })).to.equal(151);
    expect(valueOf(e, 'flowgate_records_decoded_total', { exporter: 'other', protocol: 'netflow5' })).to.equal(7);
    expect(valueOf(e, 'flowgate_counter_samples_total', { exporter: 'other' })).to.equal(4);
    const exporters = new Set(series(e, 'flowgate_datagrams_received_total').map((l) => l.exporter));
    expect([...exporters].sort()).to.deep.equal(['192.0.2.1', '192.0.2.2', 'other']);
    expect(valueOf(e, 'flowgate_exporters_tracked')).to.equal(3);
  });

  it('pre-initialises every decode error reason to 0 and counts events and units per reason', async () => {
    let e = await scrape(server.address.port);
    expect(series(e, 'flowgate_decode_errors_total').map((l) => l.reason).sort()).to.deep.equal([...DECODE_ERROR_REASONS].sort());
    for (const reason of DECODE_ERROR_REASONS) {
      expect(valueOf(e, 'flowgate_decode_errors_total', { reason }), reason).to.equal(0);
      expect(valueOf(e, 'flowgate_decode_error_units_total', { reason }), reason).to.equal(0);
    }
    expect(valueOf(e, 'flowgate_pending_lost_total')).to.equal(0);

    const out = emptyOutput('netflow9');
    addError(out, 'truncated', 'record runs past the set');
    addError(out, 'pending_overflow', 'dropped a set');
    addError(out, 'pending_expired', 'no template', 2);
    metrics.decodeErrors(out.errors);
    metrics.decodeError('truncated', 5);

    e = await scrape(server.address.port);
    expect(valueOf(e, 'flowgate_decode_errors_total', { reason: 'truncated' })).to.equal(2);
    expect(valueOf(e, 'flowgate_decode_error_units_total', { reason: 'truncated' })).to.equal(6);
    expect(valueOf(e, 'flowgate_decode_errors_total', { reason: 'pending_overflow' })).to.equal(1);
    expect(valueOf(e, 'flowgate_decode_errors_total', { reason: 'pending_expired' })).to.equal(1);
    expect(valueOf(e, 'flowgate_decode_error_units_total', { reason: 'pending_expired' })).to.equal(2);
    expect(valueOf(e, 'flowgate_pending_lost_total')).to.equal(3);
    expect(valueOf(e, 'flowgate_decode_errors_total', { reason: 'bad_set' })).to.equal(0);
  });

  it('observeDatagram takes everything from one decode output; undecodable datagrams count under protocol="unknown"', async () => {
    const out = emptyOutput('sflow');
    out.counters = counters(3);
    out.sequenceGap = 4;
    addError(out, 'sequence_gap', '2 sFlow datagram(s) missed', 2);
    const h: ExporterMetrics = metrics.observeDatagram('198.51.100.7', 512, out, 9);
    expect(h.protocol).to.equal('sflow');
    metrics.observeDatagram('198.51.100.7', 3, (() => {
      const bad = emptyOutput(undefined);
      addError(bad, 'unknown_protocol', 'version 42');
      return bad;
    })(), 0);

    const e = await scrape(server.address.port);
    const sf = { exporter: '198.51.100.7', protocol: 'sflow' };
    expect(valueOf(e, 'flowgate_datagrams_received_total', sf)).to.equal(1);
    expect(valueOf(e, 'flowgate_bytes_received_total', sf)).to.equal(512);
    expect(valueOf(e, 'flowgate_records_decoded_total', sf)).to.equal(9);
    expect(valueOf(e, 'flowgate_sequence_gaps_total', sf)).to.equal(4);
    expect(valueOf(e, 'flowgate_counter_samples_total', { exporter: '198.51.100.7' })).to.equal(3);
    expect(valueOf(e, 'flowgate_decode_errors_total', { reason: 'sequence_gap' })).to.equal(1);
    expect(valueOf(e, 'flowgate_decode_error_units_total', { reason: 'sequence_gap' })).to.equal(2);
    const unk = { exporter: '198.51.100.7', protocol: 'unknown' };
    expect(valueOf(e, 'flowgate_datagrams_received_total', unk)).to.equal(1);
    expect(valueOf(e, 'flowgate_bytes_received_total', unk)).to.equal(3);
    expect(valueOf(e, 'flowgate_decode_errors_total', { reason: 'unknown_protocol' })).to.equal(1);
  });

  it('runs onCollect callbacks once per scrape, before gauges are read; a throwing callback does not fail the scrape', async () => {
    let calls = 0;
    let templates = 7;
    metrics.onCollect(() => {
      calls++;
      metrics.setTemplatesActive(templates);
      metrics.setPendingBytes(4096);
      metrics.setKafkaBuffered(120, 65536);
    });
    const off = metrics.onCollect(() => {
      throw new Error('broken callback');
    });
    let e = await scrape(server.address.port);
    expect(calls).to.equal(1);
    expect(valueOf(e, 'flowgate_templates_active')).to.equal(7);
    expect(valueOf(e, 'flowgate_pending_bytes')).to.equal(4096);
    expect(valueOf(e, 'flowgate_kafka_buffered_records')).to.equal(120);
    expect(valueOf(e, 'flowgate_kafka_buffered_bytes')).to.equal(65536);
    expect(valueOf(e, 'flowgate_metrics_collect_errors_total')).to.equal(1);
    off();
    templates = 9;
    e = await scrape(server.address.port);
    expect(calls).to.equal(2);
    expect(valueOf(e, 'flowgate_templates_active')).to.equal(9);
    expect(valueOf(e, 'flowgate_metrics_collect_errors_total')).to.equal(1);
  });

  it('counts templates, state saves, listeners and socket errors', async () => {
    metrics.templatesLearned();
    metrics.templatesLearned(2);
    metrics.templatesExpired();
    metrics.stateSaved();
    metrics.stateSaved();
    metrics.stateSaveError();
    metrics.setStateRestoredTemplates(11);
    const l = metrics.listener('0.0.0.0:2055', 'auto');
    expect(metrics.listener('0.0.0.0:2055', 'auto')).to.equal(l);
    metrics.listener('[::]:6343', 'sflow');
    l.receiveError();
    l.denied(4);
    l.kernelDrops(10);
    l.kernelDrops(25);
    l.setReceiveBufferBytes(8 * 1024 * 1024);

    const e = await scrape(server.address.port);
    expect(valueOf(e, 'flowgate_templates_learned_total')).to.equal(3);
    expect(valueOf(e, 'flowgate_templates_expired_total')).to.equal(1);

    // the same counters fed from cumulative totals instead of increments
    const m2 = new GatewayMetrics({ defaultMetrics: false });
    let learned = 5;
    m2.onCollect(() => m2.setTemplateTotals(learned, 2));
    let e2 = parseExposition(await m2.metrics());
    expect(valueOf(e2, 'flowgate_templates_learned_total')).to.equal(5);
    expect(valueOf(e2, 'flowgate_templates_expired_total')).to.equal(2);
    learned = 8;
    e2 = parseExposition(await m2.metrics());
    expect(valueOf(e2, 'flowgate_templates_learned_total')).to.equal(8);
    expect(valueOf(e2, 'flowgate_templates_expired_total')).to.equal(2);
    learned = 1; // the decoder was re-created: its new total counts in full
    e2 = parseExposition(await m2.metrics());
    expect(valueOf(e2, 'flowgate_templates_learned_total')).to.equal(9);
    expect(valueOf(e, 'flowgate_state_saves_total')).to.equal(2);
    expect(valueOf(e, 'flowgate_state_save_errors_total')).to.equal(1);
    expect(valueOf(e, 'flowgate_state_restored_templates')).to.equal(11);
    expect(valueOf(e, 'flowgate_listener_info', { listener: '0.0.0.0:2055', protocol: 'auto' })).to.equal(1);
    expect(valueOf(e, 'flowgate_listener_info', { listener: '[::]:6343', protocol: 'sflow' })).to.equal(1);
    expect(valueOf(e, 'flowgate_socket_receive_errors_total', { listener: '0.0.0.0:2055' })).to.equal(1);
    expect(valueOf(e, 'flowgate_socket_receive_errors_total', { listener: '[::]:6343' })).to.equal(0);
    expect(valueOf(e, 'flowgate_datagrams_denied_total', { listener: '0.0.0.0:2055' })).to.equal(4);
    expect(valueOf(e, 'flowgate_socket_kernel_drops_total', { listener: '0.0.0.0:2055' })).to.equal(25);
    expect(valueOf(e, 'flowgate_socket_receive_buffer_bytes', { listener: '0.0.0.0:2055' })).to.equal(8 * 1024 * 1024);
  });

  it('counts Kafka publishing, batches, errors, drops, latency and connection state', async () => {
    let e = await scrape(server.address.port);
    expect(valueOf(e, 'flowgate_kafka_connected')).to.equal(0);
    for (const reason of KAFKA_DROP_REASONS) expect(valueOf(e, 'flowgate_kafka_dropped_records_total', { reason })).to.equal(0);

    const t = metrics.topic('flows');
    expect(metrics.topic('flows')).to.equal(t);
    t.batch();
    t.batch();
    t.published(300);
    t.produceError('KafkaJSConnectionError');
    t.produceError('KafkaJSConnectionError');
    for (let i = 0; i < 40; i++) t.produceError(`Err${i}`);
    metrics.topic('flow-counters').published(5);
    metrics.kafkaDropped('buffer_full', 17);
    metrics.setKafkaConnected(true);
    metrics.observeProduceLatency(0.003);
    metrics.observeProduceLatency(0.2);
    metrics.observeProduceLatency(30);

    e = await scrape(server.address.port);
    expect(valueOf(e, 'flowgate_records_published_total', { topic: 'flows' })).to.equal(300);
    expect(valueOf(e, 'flowgate_records_published_total', { topic: 'flow-counters' })).to.equal(5);
    expect(valueOf(e, 'flowgate_kafka_batches_total', { topic: 'flows' })).to.equal(2);
    expect(valueOf(e, 'flowgate_kafka_produce_errors_total', { topic: 'flows', error: 'KafkaJSConnectionError' })).to.equal(2);
    const errorSeries = series(e, 'flowgate_kafka_produce_errors_total');
    expect(errorSeries).to.have.length(32); // 31 distinct names + "other"
    // 30 names fit beside KafkaJSConnectionError: Err0..Err29; Err30..Err39 are folded
    expect(valueOf(e, 'flowgate_kafka_produce_errors_total', { topic: 'flows', error: 'Err29' })).to.equal(1);
    expect(valueOf(e, 'flowgate_kafka_produce_errors_total', { topic: 'flows', error: 'other' })).to.equal(10);
    expect(valueOf(e, 'flowgate_kafka_dropped_records_total', { reason: 'buffer_full' })).to.equal(17);
    expect(valueOf(e, 'flowgate_kafka_connected')).to.equal(1);

    expect(e.types.get('flowgate_kafka_produce_latency_seconds')).to.equal('histogram');
    const buckets = series(e, 'flowgate_kafka_produce_latency_seconds_bucket').map((l) => l.le);
    expect(buckets).to.deep.equal([...PRODUCE_LATENCY_BUCKETS.map(String), '+Inf']);
    expect(valueOf(e, 'flowgate_kafka_produce_latency_seconds_bucket', { le: '0.005' })).to.equal(1);
    expect(valueOf(e, 'flowgate_kafka_produce_latency_seconds_bucket', { le: '10' })).to.equal(2);
    expect(valueOf(e, 'flowgate_kafka_produce_latency_seconds_bucket', { le: '+Inf' })).to.equal(3);
    expect(valueOf(e, 'flowgate_kafka_produce_latency_seconds_count')).to.equal(3);
    expect(valueOf(e, 'flowgate_kafka_produce_latency_seconds_sum')).to.be.closeTo(30.203, 1e-9);
  });

  it('exposes every contract metric name', async () => {
    const e = await scrape(server.address.port);
    const names = [
      'flowgate_datagrams_received_total', 'flowgate_bytes_received_total', 'flowgate_records_decoded_total',
      'flowgate_counter_samples_total', 'flowgate_decode_errors_total', 'flowgate_decode_error_units_total',
      'flowgate_sequence_gaps_total', 'flowgate_templates_active', 'flowgate_templates_expired_total',
      'flowgate_templates_learned_total', 'flowgate_pending_bytes', 'flowgate_pending_lost_total',
      'flowgate_socket_receive_errors_total', 'flowgate_listener_info', 'flowgate_records_published_total',
      'flowgate_kafka_produce_latency_seconds', 'flowgate_kafka_batches_total', 'flowgate_kafka_produce_errors_total',
      'flowgate_kafka_buffered_records', 'flowgate_kafka_buffered_bytes', 'flowgate_kafka_dropped_records_total',
      'flowgate_kafka_connected', 'flowgate_state_saves_total', 'flowgate_state_save_errors_total',
      'flowgate_state_restored_templates', 'flowgate_build_info', 'flowgate_exporters_folded_total',
    ];
    for (const n of names) expect(e.types.has(n), n).to.equal(true);
  });

  it('answers /healthz, 404 for other paths, 405 for other methods', async () => {
    const port = server.address.port;
    const h = await request(port, '/healthz');
    expect(h.status).to.equal(200);
    expect(h.body).to.equal('ok\n');
    expect((await request(port, '/metrics?name[]=x')).status).to.equal(200);
    expect((await request(port, '/')).status).to.equal(404);
    expect((await request(port, '/metricsx')).status).to.equal(404);
    const post = await request(port, '/metrics', 'POST');
    expect(post.status).to.equal(405);
    expect(post.headers.allow).to.equal('GET, HEAD');
    expect((await request(port, '/healthz', 'DELETE')).status).to.equal(405);
    const head = await request(port, '/metrics', 'HEAD');
    expect(head.status).to.equal(200);
    expect(head.body).to.equal('');
  });

  it('answers 500 when the registry cannot be read', async () => {
    const broken = await startMetricsServer({ contentType: 'text/plain', metrics: () => Promise.reject(new Error('boom')) },
      { host: '127.0.0.1', port: 0 });
    try {
      const r = await request(broken.address.port, '/metrics');
      expect(r.status).to.equal(500);
      expect(r.body).to.contain('boom');
    } finally {
      await broken.close();
    }
  });

  it('close() stops listening', async () => {
    const port = server.address.port;
    await server.close();
    let error: unknown;
    try {
      await request(port, '/healthz');
    } catch (err) {
      error = err;
    }
    expect((error as NodeJS.ErrnoException | undefined)?.code).to.equal('ECONNREFUSED');
    server = await startMetricsServer(metrics.registry, { host: '127.0.0.1', port: 0 }); // for afterEach
  });

  it('rejects when the port is taken', async () => {
    let error: unknown;
    try {
      await startMetricsServer(metrics.registry, { host: '127.0.0.1', port: server.address.port });
    } catch (err) {
      error = err;
    }
    expect((error as NodeJS.ErrnoException | undefined)?.code).to.equal('EADDRINUSE');
  });

  it('several instances coexist, each with its own registry', async () => {
    const other = new GatewayMetrics({ defaultMetrics: false });
    other.exporter('192.0.2.1', 'ipfix').datagram(1);
    metrics.exporter('192.0.2.1', 'ipfix').datagram(1);
    metrics.exporter('192.0.2.1', 'ipfix').datagram(1);
    const mine = parseExposition(await metrics.metrics());
    const theirs = parseExposition(await other.metrics());
    expect(valueOf(mine, 'flowgate_datagrams_received_total', { exporter: '192.0.2.1', protocol: 'ipfix' })).to.equal(2);
    expect(valueOf(theirs, 'flowgate_datagrams_received_total', { exporter: '192.0.2.1', protocol: 'ipfix' })).to.equal(1);
    expect(valueOf(theirs, 'flowgate_process_cpu_seconds_total')).to.equal(undefined);
  });
});

// Prints per-call costs of the hot-path methods (quoted in the header of gateway-metrics.ts and
// in the report). The bounds are loose on purpose: they catch a regression to per-call label
// hashing (hundreds of ns), not noise on a shared CI machine.
describe('GatewayMetrics hot-path micro-benchmark', () => {
  function nsPerOp(iterations: number, fn: (i: number) => void): number {
    for (let i = 0; i < Math.min(iterations, 200_000); i++) fn(i); // warm up / optimise
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn(i);
    return Number(process.hrtime.bigint() - t0) / iterations;
  }

  it('costs a few ns per call, far below prom-client label lookups', () => {
    const m = new GatewayMetrics({ defaultMetrics: false });
    const addresses: string[] = [];
    for (let i = 0; i < 1000; i++) addresses.push(`10.${(i >> 8) & 255}.${i & 255}.1`);
    const handles = addresses.map((a) => m.exporter(a, 'netflow9'));
    const out = emptyOutput('netflow9');
    const oneError = emptyOutput('netflow9');
    addError(oneError, 'truncated', 'x');
    const N = 2_000_000;

    let sink = 0;
    const results: Record<string, number> = {
      'baseline: loop, closure call, array read': nsPerOp(N, (i) => {
        sink += handles[i % 1000].protocol.length;
      }),
      'handle.datagram(bytes)': nsPerOp(N, (i) => handles[i % 1000].datagram(1400)),
      'handle.records(n)': nsPerOp(N, (i) => handles[i % 1000].records(30)),
      'exporter(address, protocol) hit': nsPerOp(N, (i) => m.exporter(addresses[i % 1000], 'netflow9')),
      'observeDatagram(no errors)': nsPerOp(N, (i) => m.observeDatagram(addresses[i % 1000], 1400, out, 30)),
      'decodeErrors([1 error])': nsPerOp(N, () => m.decodeErrors(oneError.errors)),
    };
    const raw = new Counter({ name: 'bench_raw_total', help: 'x', labelNames: ['exporter', 'protocol'], registers: [] });
    const children = addresses.map((a) => raw.labels(a, 'netflow9'));
    results['prom-client child.inc(n) (for comparison)'] = nsPerOp(N / 10, (i) => children[i % 1000].inc(30));

    expect(sink).to.be.greaterThan(0);
    for (const [k, v] of Object.entries(results)) console.log(`      ${k.padEnd(46)} ${v.toFixed(1).padStart(7)} ns/call`);
    expect(results['handle.datagram(bytes)']).to.be.below(100);
    expect(results['observeDatagram(no errors)']).to.be.below(300);
  });
});
