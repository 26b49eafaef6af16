// The validated configuration, as the rest of the program sees it: every default filled in,
// every value checked (by the JSON Schema in schema.ts plus the semantic checks in
// config.ts). The key names are the config.yaml contract operators rely on.

import type { ProtocolChoice } from '../decode/datagram-decoder';

export interface ListenerConfig {
  host: string;
  port: number;
  protocol: ProtocolChoice;
  /** Source prefixes ("192.0.2.0/24", "2001:db8::1"); absent = every source. Others are dropped before decoding. */
  allow?: string[];
  /** SO_RCVBUF asked of the kernel (Linux caps it at net.core.rmem_max). */
  receive_buffer_bytes: number;
}

export interface DecoderConfig {
  template_expiry_seconds: number;
  max_templates_per_exporter: number;
  max_fields_per_template: number;
  max_fields_per_exporter: number;
  pending_max_bytes_per_exporter: number;
  pending_max_bytes_total: number;
  pending_max_age_seconds: number;
  keep_unmapped_fields: boolean;
  /** Records per second one exporter address may send; 0 = unlimited. Beyond it its datagrams are dropped before decoding. */
  max_records_per_second_per_exporter: number;
}

export type Framing = 'raw' | 'delimited';
export type KeyMode = 'none' | 'exporter' | 'five-tuple';
export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4';

export interface KafkaSaslConfig {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username: string;
  /** Never in the config file: read from the environment variable named by password_env, or
   * from password_file (whose path is kept for check-config and the permission warning). */
  password: string;
  password_file?: string;
}

export interface KafkaTlsConfig {
  /** PEM file paths; read at start. */
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  /** Passphrase of an encrypted key_file, resolved like the SASL password. */
  key_passphrase?: string;
  key_passphrase_file?: string;
  reject_unauthorized: boolean;
}

export interface KafkaConfig {
  brokers: string[];
  client_id: string;
  topic: string;
  counters_topic: string;
  /** Compacted topic holding template/sampling state; '' turns it off. */
  state_topic: string;
  framing: Framing;
  key: KeyMode;
  compression: Compression;
  /** acks: -1 (all in-sync replicas), 1 (leader) or 0. */
  acks: -1 | 0 | 1;
  /** Producer request timeout. */
  timeout_ms: number;
  /** Try createTopics at start; a failure is a warning (auto-create is relied on). */
  create_topics: boolean;
  /** Partitions/replication used when flowgate creates its topics. */
  topic_partitions: number;
  replication_factor: number;
  /** A produce request is sent when this many records or bytes are waiting, or after linger_ms. */
  batch_max_records: number;
  batch_max_bytes: number;
  linger_ms: number;
  /** Delimited framing: records are packed into Kafka messages of at most this size. */
  delimited_max_bytes: number;
  /** Outage buffer: records held while Kafka is unreachable; beyond it they are dropped and counted. */
  buffer_max_records: number;
  buffer_max_bytes: number;
  /** Produce requests in flight at once. */
  max_in_flight: number;
  /** Converters' consumer group session timeout. */
  session_timeout_ms: number;
  sasl?: KafkaSaslConfig;
  tls?: KafkaTlsConfig;
}

export interface StateConfig {
  directory: string;
  /** How often learned templates/sampling state are written (and published with Kafka). */
  save_interval_seconds: number;
}

export interface MetricsConfig {
  host: string;
  port: number;
}

export interface LogConfig {
  level: 'debug' | 'info' | 'warn' | 'error';
  /** Bad-input log lines per reason per minute; the rest are counted and summarised. */
  bad_input_per_minute: number;
}

export interface GatewayConfig {
  listeners: ListenerConfig[];
  decoder: DecoderConfig;
  summary_interval_seconds: number;
  kafka?: KafkaConfig;
  state?: StateConfig;
  metrics?: MetricsConfig;
  log: LogConfig;
  /** Converters (issue #4 on); empty when none. */
  outputs: OutputConfig[];
}

export type TimeFormat = 'iso' | 'epoch_ms' | 'epoch_ns';

/** Which time puts a record into a CSV file's window. */
export type WindowBy = 'received' | 'flow_end';

/** Fields every output has: where it reads and how it identifies itself to Kafka. */
export interface OutputCommon {
  /** Unique per config; names the consumer group (`<kafka.client_id>-<name>`) and metrics. */
  name: string;
  /** Topic to read (default kafka.topic, or the embedded bus's flow topic). */
  topic: string;
  /** Kafka consumer group (default `<client_id>-<name>`). */
  group_id: string;
}

export interface CsvOutputConfig extends OutputCommon {
  type: 'csv';
  directory: string;
  /** Canonical field names plus computed ones (duration_ms, exporter, proto_name). */
  fields: string[];
  rotate: { seconds: number; bytes: number };
  gzip: boolean;
  time_format: TimeFormat;
  /** `proto` as a name (tcp, udp, …) instead of a number. */
  protocol_names: boolean;
  /** Files are `<prefix><window start>[-<part>].csv`. */
  file_prefix: string;
  window_by: WindowBy;
  /** How long a past window's file stays open for late records after the window ends. */
  late_seconds: number;
}

/** NetFlow v9 re-export (issue 5); see docs/ARCHITECTURE.md "netflow9 output". */
export interface Netflow9OutputConfig extends OutputCommon {
  type: 'netflow9';
  /** Collectors, "IPv4:PORT" or "[IPv6]:PORT"; every packet goes to each. */
  targets: string[];
  /** One source ID per original exporter + observation domain, or one fixed id for all. */
  source_id: 'per-exporter' | number;
  /** Templates are resent every `packets` export packets and every `seconds` (0 = that trigger off), and at start. */
  template_refresh: { packets: number; seconds: number };
  /** Largest export packet (UDP payload) in bytes. */
  mtu: number;
  /** An export packet is sent at most this long after its first record. */
  flush_ms: number;
  /** Export packets per second (each sent to every target); 0 = unlimited. */
  rate_limit: number;
  /** Export template file (absolute after build; default templates/netflow9-export.yaml of the package). */
  template_file: string;
}


/** Dimensions a prometheus output can label its flow_* series with (issue 8). */
export type PrometheusLabel = 'exporter' | 'src_as' | 'dst_as' | 'proto' | 'in_if' | 'out_if' | 'etype' | 'flow_direction';

/** How a record is classified receive/transmit; absent: the record's own flow_direction. */
export type DirectionBy = { local_as: number[] } | { local_prefixes: string[] };

export interface PrometheusOutputConfig extends OutputCommon {
  type: 'prometheus';
  /** Own HTTP endpoint for /metrics (flow series only). */
  listen: { host: string; port: number };
  labels: PrometheusLabel[];
  direction_by?: DirectionBy;
  /** CSV file "asn,name" (AS names for source_as_name/destination_as_name); read at start. */
  as_names?: string;
  /** Label sets kept; beyond it the smallest are folded into the `other` label set. */
  max_series: number;
}

/** What a split rule matches; several keys in one rule must all hold. */
export interface SplitMatch {
  /** Either side: both directions of a customer's traffic. */
  addr?: string[];
  src_addr?: string[];
  dst_addr?: string[];
  exporter?: string[];
  in_if?: number[];
  out_if?: number[];
}

export interface SplitOutputConfig extends OutputCommon {
  type: 'split';
  /** Each record goes once to every topic whose rule matches (topics written, not read). */
  rules: Array<{ match: SplitMatch; topic: string }>;
  /** Where records no rule matches go; absent: dropped and counted. */
  default_topic?: string;
}

export interface ReduceOutputConfig extends OutputCommon {
  type: 'reduce';
  /** Topic written. In the file this is `topic`; the topic read is `from_topic` (see docs/CONFIG.md). */
  to_topic: string;
  /** Canonical field names kept; every other field is left at its default (absent on the wire). */
  keep: string[];
  /** Address fields anonymised with keyed prefix-preserving Crypto-PAn. */
  anonymize?: { fields: string[]; key_file: string };
}

/** NEMEA feed: UniRec records served as a libtrap output interface (docs/NEMEA.md). */
export interface NemeaOutputConfig extends OutputCommon {
  type: 'nemea';
  /** `tcp:HOST:PORT`, `unix:NAME` (socket <socket_dir>/trap-NAME.sock) or `file:PATH`. */
  listen: string;
  /** UniRec template: `type NAME` pairs joined by `,`. */
  fields: string;
  /** Partial containers are sent after this long. */
  flush_ms: number;
  /** `container` (libtrap ≥ 1.17) or `legacy` (≤ 1.16: u32 length header only). */
  framing: 'container' | 'legacy';
  /** A client whose queue is over queue_bytes blocks the output (`wait`) or skips containers (`drop`). */
  slow_client: 'wait' | 'drop';
  /** Per-client send queue bound, bytes. */
  queue_bytes: number;
  max_clients: number;
  /** Directory of UNIX sockets; default TRAP_SOCKET_DIR, else libtrap's /var/run/libtrap. */
  socket_dir?: string;
  /** File interface rotation: by time window (0 = off) and size (0 = off). */
  rotate: { seconds: number; bytes: number };
}

export type OutputConfig = CsvOutputConfig | Netflow9OutputConfig | NemeaOutputConfig | PrometheusOutputConfig | SplitOutputConfig | ReduceOutputConfig;
