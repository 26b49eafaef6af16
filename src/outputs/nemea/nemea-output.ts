// The nemea output: canonical records → UniRec records → containers served as a libtrap output
// interface (TCP, UNIX socket) or written in the TRAP file format.
//
// Durability (src/converters/output.ts): a record is durable once its container has been handed
// to the socket of every client connected when it was sent (a client that disconnects or, under
// `drop`, skips it, no longer holds it back), or written to the file. With no client connected a
// container is durable at once and goes nowhere: that is libtrap's own default (HALF_WAIT: an
// output interface blocks only while some client is connected), so a NEMEA feed nobody reads
// never stalls Kafka, and a module that connects later starts at the live stream as with any
// NEMEA producer. docs/ARCHITECTURE.md has the reasoning.
//
// Sequence: per interface, the number of records produced before the container, the same for
// every client, so a client sees a gap for containers it was skipped.

import type { FlowRecord } from '../../canonical/flow-record';
import type { NemeaOutputConfig } from '../../config/types';
import type { OutputContext } from '../../converters/converter';
import type { FlowOutput, OutputCounts } from '../../converters/output';
import { ContainerBuilder } from './container-builder';
import { DurabilityQueue } from './durability-queue';
import { parseListen, socketDir, unixSocketPath, type ListenSpec } from './listen-spec';
import { nemeaMetrics, type NemeaMetrics } from './nemea-metrics';
import { containerHeader, END_OF_STREAM_PAYLOAD, hello, type Framing } from './trap-framing';
import { TrapFileWriter } from './trap-file';
import { MAX_CLIENTS, TrapServer } from './trap-server';
import { EncodeError, UnirecEncoder } from './unirec-encoder';
import { parseUnirecSpec, type UnirecTemplate } from './unirec-template';

export interface NemeaStats {
  clients: number;
  containers: number;
  /** Records produced on the interface (the next container's sequence number). */
  sequence: number;
  bad_records: number;
  dropped_containers: number;
  dropped_records: number;
  refused_clients: number;
  /** Clients cut off at the hard queue limit (only when the writer ignores ready()). */
  slow_disconnects: number;
  write_errors: number;
}

function templateOf(fields: string): UnirecTemplate {
  const p = parseUnirecSpec(fields);
  if (!p.ok) throw new Error(`nemea fields: ${p.errors.join('; ')}`);
  return p.template;
}

export class NemeaOutput implements FlowOutput {
  readonly id: string;
  private template: UnirecTemplate;
  private encoder: UnirecEncoder;
  private readonly builder = new ContainerBuilder();
  private readonly durability = new DurabilityQueue();
  private readonly listen: ListenSpec;
  private readonly framing: Framing;
  private server?: TrapServer;
  private file?: TrapFileWriter;
  private fileFailed = false;
  private written = 0;
  private lastDurable = 0;
  private listeners: Array<(d: number) => void> = [];
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly m: NemeaMetrics;
  private readonly st: NemeaStats = {
    clients: 0, containers: 0, sequence: 0, bad_records: 0, dropped_containers: 0, dropped_records: 0, refused_clients: 0, slow_disconnects: 0, write_errors: 0,
  };

  constructor(private readonly config: NemeaOutputConfig, private readonly ctx: OutputContext) {
    this.id = `nemea:${config.name}`;
    this.template = templateOf(config.fields);
    this.encoder = new UnirecEncoder(this.template);
    const l = parseListen(config.listen);
    if (typeof l === 'string') throw new Error(`nemea listen: ${l}`);
    this.listen = l;
    this.framing = config.framing;
    this.m = nemeaMetrics(ctx.registry);
  }

  /** Where the interface is served (TCP port bound, socket path, or file path). */
  address(): { port?: number; path?: string } {
    if (this.listen.kind === 'tcp') return { port: this.server?.port() };
    if (this.listen.kind === 'unix') return { path: unixSocketPath(socketDir(this.config.socket_dir), this.listen.name) };
    return { path: this.listen.path };
  }

  async start(): Promise<void> {
    const label = { output: this.config.name };
    if (this.listen.kind === 'file') {
      this.file = new TrapFileWriter({ path: this.listen.path, hello: hello(this.template.spec), rotateSeconds: this.config.rotate.seconds, rotateBytes: this.config.rotate.bytes });
      this.file.start();
    } else {
      const address = this.listen.kind === 'tcp'
        ? { kind: 'tcp' as const, host: this.listen.host, port: this.listen.port }
        : { kind: 'unix' as const, path: unixSocketPath(socketDir(this.config.socket_dir), this.listen.name) };
      this.server = new TrapServer({
        id: this.id, address, hello: hello(this.template.spec), slowClient: this.config.slow_client,
        queueBytes: this.config.queue_bytes, maxClients: Math.min(this.config.max_clients, MAX_CLIENTS), log: this.ctx.log,
        counters: {
          refused: () => { this.st.refused_clients++; this.m.refusedClients.inc(label); },
          dropped: (records) => {
            this.st.dropped_containers++; this.st.dropped_records += records;
            this.m.droppedContainers.inc(label); this.m.droppedRecords.inc(label, records);
          },
          slowDisconnect: () => { this.st.slow_disconnects++; this.m.slowDisconnects.inc(label); },
          connected: () => this.m.clients.inc(label),
          disconnected: () => this.m.clients.dec(label),
        },
      });
      this.m.clients.set(label, 0);
      await this.server.start();
    }
    for (const c of [this.m.droppedContainers, this.m.droppedRecords, this.m.refusedClients, this.m.slowDisconnects, this.m.badRecords, this.m.containers, this.m.records]) c.inc(label, 0);
    this.timer = setInterval(() => this.tick(), this.config.flush_ms);
    this.timer.unref();
    this.ctx.log.info({ output: this.id, listen: this.config.listen, ...this.address(), spec: this.template.spec }, 'nemea: interface ready');
  }

  write(records: readonly FlowRecord[]): void {
    if (this.closed) {
      this.ctx.log.error({ output: this.id, records: records.length }, 'nemea output written to after close(); records not taken');
      return;
    }
    for (let i = 0; i < records.length; i++) {
      let rec: Buffer;
      try {
        rec = this.encoder.encode(records[i]);
      } catch (e) {
        if (!(e instanceof EncodeError)) throw e;
        this.st.bad_records++;
        this.m.badRecords.inc({ output: this.config.name });
        this.ctx.badInput.badInput('nemea_unencodable', e.message, { output: this.id });
        this.written++;
        continue;
      }
      if (!this.builder.fits(rec.length)) this.flush();
      this.builder.add(rec);
      this.written++;
    }
    this.report();
  }

  counts(): OutputCounts {
    return { written: this.written, durable: this.durableNow() };
  }

  onDurable(listener: (durable: number) => void): void {
    this.listeners.push(listener);
  }

  ready(): Promise<void> {
    return this.server ? this.server.ready() : Promise.resolve();
  }

  /** True while `wait` holds the output back for a slow client. */
  blocked(): boolean {
    return this.server?.blocked() ?? false;
  }

  stats(): NemeaStats {
    return { ...this.st, clients: this.server?.clientCount ?? 0 };
  }

  /** Rotated files written so far (file interface). */
  files(): readonly string[] {
    return this.file?.files ?? [];
  }

  /**
   * A new field list: what is buffered goes out under the old template, then every client is
   * dropped and reconnects to read the new spec (a module cannot switch templates mid-stream).
   */
  reconfigure(fields: string): void {
    const t = templateOf(fields);
    if (t.spec === this.template.spec) return;
    this.flush();
    this.template = t;
    this.encoder = new UnirecEncoder(t);
    if (this.server) this.server.setHello(hello(t.spec));
    this.ctx.log.info({ output: this.id, spec: t.spec }, 'nemea: field list changed; clients renegotiate');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
    if (this.server) {
      await this.server.close({ header: containerHeader(END_OF_STREAM_PAYLOAD.length, this.st.sequence, 1, this.framing), payload: END_OF_STREAM_PAYLOAD });
    } else if (this.file) {
      this.toFile(END_OF_STREAM_PAYLOAD);
      try {
        this.file.close();
      } catch (e) {
        this.fileError(e);
      }
    }
    this.report();
  }

  private tick(): void {
    if (this.closed || this.builder.count === 0) return;
    this.flush();
    this.report();
  }

  private flush(): void {
    if (this.builder.count === 0) return;
    const p = this.builder.take();
    const settle = this.durability.add(this.written);
    const seq = this.st.sequence;
    this.st.sequence += p.count;
    this.st.containers++;
    this.m.containers.inc({ output: this.config.name });
    this.m.records.inc({ output: this.config.name }, p.count);
    if (this.server) {
      this.server.send(containerHeader(p.bytes.length, seq, p.count, this.framing), p.bytes, p.count, () => {
        settle();
        this.report();
      });
    } else if (this.toFile(p.bytes)) {
      settle();
    }
  }

  /** False once the file failed: durability then stops until a restart reads the records again. */
  private toFile(payload: Buffer): boolean {
    if (!this.file || this.fileFailed) return false;
    try {
      this.file.writeBlock(payload);
      return true;
    } catch (e) {
      this.fileError(e);
      return false;
    }
  }

  private fileError(e: unknown): void {
    this.st.write_errors++;
    this.fileFailed = true;
    this.ctx.log.error({ output: this.id, err: String(e) }, 'nemea: file write failed; records are not committed and durability stops here until a restart re-reads them');
  }

  private durableNow(): number {
    if (this.fileFailed) return Math.min(this.lastDurable, this.durability.durable(this.written, true));
    return this.durability.durable(this.written, this.builder.count > 0);
  }

  private report(): void {
    const d = this.durableNow();
    if (d <= this.lastDurable) return;
    this.lastDurable = d;
    for (const l of this.listeners) l(d);
  }
}
