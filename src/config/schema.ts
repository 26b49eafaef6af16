// The JSON Schema of config.yaml (draft-07, as ajv 8 runs it by default). It is the single
// description of the file: ajv validates against it and fills in the defaults, the error
// translator reads its descriptions and `x-expected` hints to say what is allowed, and
// docs/CONFIG.md is checked against it by a test so the reference cannot drift.
//
// `x-expected` is our annotation keyword: the human wording of what a value must look like,
// used where the bare constraint (a regex, a type) would not help an operator.

import type { DecoderConfig, KafkaConfig, LogConfig, StateConfig } from './types';
import type { ProtocolChoice } from '../decode/datagram-decoder';
import { RECEIVE_BUFFER_BYTES } from '../ingest/udp-listener';
import { DEFAULT_UNIREC_FIELDS as DEFAULT_NEMEA_FIELDS } from '../outputs/nemea/unirec-fields';

export type JsonType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

// A type alias, not an interface, so it stays assignable to ajv's index-signature SchemaObject.
export type JsonSchema = {
  $schema?: string;
  title?: string;
  description?: string;
  type?: JsonType | JsonType[];
  default?: unknown;
  enum?: readonly (string | number)[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  minItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  not?: JsonSchema;
  const?: string | number;
  allOf?: JsonSchema[];
  if?: JsonSchema;
  then?: JsonSchema;
  'x-expected'?: string;
};

export const EXPECTED_KEYWORD = 'x-expected';

/** The file's shape once the schema has passed and ajv has filled in the defaults. */
export interface FileListener {
  listen: string;
  protocol: ProtocolChoice;
  allow?: string | string[];
  receive_buffer_bytes: number;
}

export interface FileKafkaSasl {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  username?: string;
  /** At most one of the two; neither means password_env DEFAULT_PASSWORD_ENV (kafka-section.ts). */
  password_env?: string;
  password_file?: string;
}

export interface FileKafkaTls {
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  key_passphrase_env?: string;
  key_passphrase_file?: string;
  reject_unauthorized: boolean;
}

/** The kafka section as written: the validated KafkaConfig's keys, except that brokers may come
 * from FLOWGATE_KAFKA_BROKERS, the SASL password from the environment, and `tls: true` means
 * the system CAs. */
export type FileKafka = Omit<KafkaConfig, 'brokers' | 'sasl' | 'tls'> & {
  brokers?: string[];
  sasl?: FileKafkaSasl;
  tls?: boolean | FileKafkaTls;
};

export interface FileConfig {
  listeners: FileListener[];
  decoder: DecoderConfig;
  summary_interval_seconds: number;
  kafka?: FileKafka;
  state?: StateConfig;
  metrics?: { listen: string };
  log: LogConfig;
  outputs: FileOutput[];
}

/** An output entry as the schema leaves it (defaults filled; topic/group/name completed in build.ts). */
export interface FileCsvOutput {
  type: 'csv';
  name?: string;
  topic?: string;
  group_id?: string;
  directory: string;
  fields: string[];
  rotate: { seconds: number; bytes: number };
  gzip: boolean;
  time_format: 'iso' | 'epoch_ms' | 'epoch_ns';
  protocol_names: boolean;
  file_prefix: string;
  window_by: 'received' | 'flow_end';
  late_seconds: number;
}

/** Issue 8 outputs as written; a scalar where a list is allowed means a list of one. */
export interface FilePrometheusOutput {
  type: 'prometheus';
  name?: string;
  topic?: string;
  group_id?: string;
  listen: string;
  labels: string[];
  direction_by?: { local_as?: number | number[]; local_prefixes?: string | string[] };
  as_names?: string;
  max_series: number;
}

export type FileSplitMatch = Partial<Record<'addr' | 'src_addr' | 'dst_addr' | 'exporter', string | string[]>> & Partial<Record<'in_if' | 'out_if', number | number[]>>;

export interface FileSplitOutput {
  type: 'split';
  name?: string;
  topic?: string;
  group_id?: string;
  rules: Array<{ match: FileSplitMatch; topic: string }>;
  default_topic?: string;
}

export interface FileReduceOutput {
  type: 'reduce';
  name?: string;
  /** The topic WRITTEN (as the example has it); the topic read is from_topic. */
  topic: string;
  from_topic?: string;
  group_id?: string;
  keep: string[];
  anonymize?: Record<string, string>;
}

export const DEFAULT_PROMETHEUS_LISTEN = '127.0.0.1:9591';
export const PROMETHEUS_LABELS = ['exporter', 'src_as', 'dst_as', 'proto', 'in_if', 'out_if', 'etype', 'flow_direction'] as const;
/** Address fields reduce can anonymise. */
export const ANONYMIZABLE_FIELDS = ['src_addr', 'dst_addr', 'next_hop', 'bgp_next_hop', 'sampler_address', 'exporter_address', 'post_nat_src_addr', 'post_nat_dst_addr'] as const;

export interface FileNetflow9Output {
  type: 'netflow9';
  name?: string;
  topic?: string;
  group_id?: string;
  targets: string[];
  source_id: 'per-exporter' | number;
  template_refresh: { packets: number; seconds: number };
  mtu: number;
  flush_ms: number;
  rate_limit: number;
  template_file?: string;
}

export interface FileNemeaOutput {
  type: 'nemea';
  name?: string;
  topic?: string;
  group_id?: string;
  listen: string;
  fields: string;
  flush_ms: number;
  framing: 'container' | 'legacy';
  slow_client: 'wait' | 'drop';
  queue_bytes: number;
  max_clients: number;
  socket_dir?: string;
  rotate: { seconds: number; bytes: number };
}

export type FileOutput = FileCsvOutput | FileNetflow9Output | FileNemeaOutput | FilePrometheusOutput | FileSplitOutput | FileReduceOutput;

export const OUTPUT_TYPES = ['csv', 'netflow9', 'nemea', 'prometheus', 'split', 'reduce'] as const;

export const DEFAULT_CSV_OUTPUT_FIELDS = [
  'time_received_ns', 'time_flow_start_ns', 'time_flow_end_ns', 'exporter', 'src_addr', 'dst_addr', 'src_port', 'dst_port',
  'proto', 'bytes', 'packets', 'tcp_flags', 'ip_tos', 'in_if', 'out_if', 'sampling_rate',
];

export const DEFAULT_DECODER_CONFIG: DecoderConfig = {
  template_expiry_seconds: 1800,
  max_templates_per_exporter: 1024,
  max_fields_per_template: 512,
  max_fields_per_exporter: 65536,
  pending_max_bytes_per_exporter: 1 << 20,
  pending_max_bytes_total: 64 << 20,
  pending_max_age_seconds: 60,
  keep_unmapped_fields: true,
  max_records_per_second_per_exporter: 0,
};

/** listeners[].receive_buffer_bytes default: the listener's own (why 8 MiB: see there). */
export const DEFAULT_RECEIVE_BUFFER_BYTES = RECEIVE_BUFFER_BYTES;

export const DEFAULT_PASSWORD_ENV = 'FLOWGATE_KAFKA_PASSWORD';
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:9590';

const int = (description: string, dflt: number, minimum: number, maximum?: number): JsonSchema => ({
  type: 'integer', description, default: dflt, minimum, ...(maximum === undefined ? {} : { maximum }),
});

// Kafka's own rule for topic names (legal characters, at most 249 of them).
const TOPIC_PATTERN = '^[A-Za-z0-9._-]+$';
const TOPIC_EXPECTED = 'a Kafka topic name: letters, digits, ".", "_" and "-", at most 249 characters';

const LISTENER: JsonSchema = {
  type: 'object',
  description: 'One UDP socket.',
  'x-expected': 'a mapping like { listen: "0.0.0.0:2055", protocol: auto }',
  additionalProperties: false,
  required: ['listen'],
  properties: {
    listen: {
      type: 'string',
      description: 'Address to bind: "IPv4:PORT", "[IPv6]:PORT" or ":PORT" (all IPv4 addresses). Port 0 binds any free port.',
      // Shape only; the host is checked to be an IP address and the port to be 0-65535 afterwards,
      // so those mistakes get their own precise message.
      pattern: '^(\\[[^\\]]*\\]|[^:\\[\\]]*):[0-9]+$',
      'x-expected': '"HOST:PORT" with HOST an IPv4 address, [IPv6] in brackets or empty, e.g. "0.0.0.0:2055", "[::]:2055" or ":2055"',
    },
    protocol: {
      type: 'string',
      description: 'Datagram format on this socket; auto tells NetFlow v5/v9, IPFIX and sFlow apart by their version field.',
      enum: ['auto', 'netflow5', 'netflow9', 'ipfix', 'sflow'],
      default: 'auto',
    },
    allow: {
      type: ['string', 'array'],
      items: { type: 'string' },
      description: 'Exporter source addresses or prefixes allowed to send ("192.0.2.0/24", "2001:db8::/32", a bare address = that host); absent: every source. Datagrams from elsewhere are dropped before decoding and counted.',
      'x-expected': 'a list of CIDR prefixes or addresses, e.g. ["192.0.2.0/24", "2001:db8::1"]',
    },
    receive_buffer_bytes: int('Socket receive buffer (SO_RCVBUF) asked of the kernel; Linux caps it at net.core.rmem_max.', DEFAULT_RECEIVE_BUFFER_BYTES, 4096),
  },
};

const D = DEFAULT_DECODER_CONFIG;
const DECODER: JsonSchema = {
  type: 'object',
  description: 'Limits of the template cache and of the queue of data waiting for its template.',
  additionalProperties: false,
  default: {},
  properties: {
    template_expiry_seconds: { type: 'number', exclusiveMinimum: 0, default: D.template_expiry_seconds, description: 'A NetFlow v9/IPFIX template not refreshed for this long is forgotten.' },
    max_templates_per_exporter: int('Templates (data and options) one exporter may hold; a new template beyond it is refused and counted (template_limit) until others expire or are withdrawn.', D.max_templates_per_exporter, 1),
    max_fields_per_template: int('Templates with more fields are rejected as malformed.', D.max_fields_per_template, 1),
    max_fields_per_exporter: int('Total template fields kept per exporter.', D.max_fields_per_exporter, 1),
    pending_max_bytes_per_exporter: int('Bytes of data sets held per exporter while their template is unknown.', D.pending_max_bytes_per_exporter, 1),
    pending_max_bytes_total: int('Bytes of data sets held in all, across exporters, while their templates are unknown.', D.pending_max_bytes_total, 1),
    pending_max_age_seconds: { type: 'number', exclusiveMinimum: 0, default: D.pending_max_age_seconds, description: 'Held data sets older than this are dropped (and counted as lost).' },
    keep_unmapped_fields: { type: 'boolean', default: D.keep_unmapped_fields, description: 'Carry fields with no canonical slot (vendor, unknown) as extra_fields.' },
    max_records_per_second_per_exporter: int('Flow records per second one exporter address may send (token bucket, one second of burst); 0 = unlimited. Beyond it its datagrams are dropped before decoding and counted.', D.max_records_per_second_per_exporter, 0),
  },
};

const SECRET_REFUSED = 'secrets are not read from config files; remove it and put the password in the environment variable named by kafka.sasl.password_env (default FLOWGATE_KAFKA_PASSWORD) or in a file named by kafka.sasl.password_file';

const ENV_NAME: JsonSchema = {
  type: 'string',
  pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
  'x-expected': 'an environment variable name such as FLOWGATE_KAFKA_PASSWORD',
};

const SASL: JsonSchema = {
  type: 'object',
  description: 'SASL authentication. The password is never in the file: it is read from the environment variable named by password_env, or from the file named by password_file.',
  additionalProperties: false,
  required: ['mechanism'],
  properties: {
    mechanism: { type: 'string', enum: ['plain', 'scram-sha-256', 'scram-sha-512'], description: 'SASL mechanism.' },
    username: { type: 'string', minLength: 1, description: 'SASL user; FLOWGATE_KAFKA_USERNAME overrides it.' },
    // No schema default: "both given" must stay distinguishable from "password_file given";
    // kafka-section.ts applies DEFAULT_PASSWORD_ENV when neither is.
    password_env: { ...ENV_NAME, description: `Name of the environment variable holding the SASL password (default ${DEFAULT_PASSWORD_ENV}); not with password_file.` },
    password_file: { type: 'string', minLength: 1, description: 'File whose content (one trailing newline removed) is the SASL password; not with password_env. Keep it mode 600/640.' },
    password: { not: {}, description: SECRET_REFUSED },
  },
};

const TLS: JsonSchema = {
  type: ['boolean', 'object'],
  description: 'TLS to the brokers: true uses the system CAs; a mapping names PEM files (paths relative to the working directory).',
  'x-expected': 'true (system CAs) or a mapping { ca_file, cert_file, key_file, key_passphrase_env | key_passphrase_file, reject_unauthorized }',
  additionalProperties: false,
  properties: {
    ca_file: { type: 'string', minLength: 1, description: 'PEM file of the CA(s) that signed the brokers\' certificates (default: system CAs).' },
    cert_file: { type: 'string', minLength: 1, description: 'PEM client certificate (mutual TLS); needs key_file.' },
    key_file: { type: 'string', minLength: 1, description: 'PEM private key of cert_file.' },
    key_passphrase_env: { ...ENV_NAME, 'x-expected': 'an environment variable name such as FLOWGATE_KAFKA_KEY_PASSPHRASE', description: 'Encrypted key_file: name of the environment variable holding its passphrase; not with key_passphrase_file.' },
    key_passphrase_file: { type: 'string', minLength: 1, description: 'Encrypted key_file: file holding its passphrase (one trailing newline removed); not with key_passphrase_env.' },
    key_passphrase: { not: {}, description: 'secrets are not read from config files; remove it and put the passphrase in an environment variable named by kafka.tls.key_passphrase_env or in a file named by kafka.tls.key_passphrase_file' },
    reject_unauthorized: { type: 'boolean', default: true, description: 'Refuse brokers whose certificate does not verify. Turn off only for tests.' },
  },
};

const KAFKA: JsonSchema = {
  type: 'object',
  description: 'Publish to Kafka. Omit the section to use the embedded in-process bus.',
  additionalProperties: false,
  required: ['brokers'],
  properties: {
    brokers: {
      type: 'array',
      minItems: 1,
      description: 'Bootstrap brokers. FLOWGATE_KAFKA_BROKERS (comma-separated) overrides the list.',
      'x-expected': 'a non-empty list of "host:port", e.g. ["127.0.0.1:9092"]',
      items: {
        type: 'string',
        // kafkajs splits broker strings at ':', so IPv6 literals cannot work; say so up front.
        pattern: '^[A-Za-z0-9._-]+:[0-9]+$',
        'x-expected': '"host:port" with a host name or IPv4 address (kafkajs cannot take IPv6 literals; use a host name)',
      },
    },
    client_id: { type: 'string', minLength: 1, default: 'flowgate', description: 'Kafka client id, as seen in broker logs and quotas.' },
    topic: { type: 'string', pattern: TOPIC_PATTERN, maxLength: 249, default: 'flows', 'x-expected': TOPIC_EXPECTED, description: 'Topic of the canonical flow records.' },
    counters_topic: { type: 'string', pattern: TOPIC_PATTERN, maxLength: 249, default: 'flow-counters', 'x-expected': TOPIC_EXPECTED, description: 'Topic of sFlow counter samples.' },
    state_topic: {
      type: 'string',
      pattern: '^[A-Za-z0-9._-]*$',
      maxLength: 249,
      default: 'flowgate-state',
      'x-expected': `${TOPIC_EXPECTED}, or "" to turn it off`,
      description: 'Compacted topic holding learned templates and sampling state; "" turns it off.',
    },
    framing: { type: 'string', enum: ['raw', 'delimited'], default: 'raw', description: 'raw: one FlowMessage per Kafka message; delimited: varint-length-prefixed FlowMessages packed into each message.' },
    key: { type: 'string', enum: ['none', 'exporter', 'five-tuple'], default: 'none', description: 'Message key: none (round-robin), exporter address, or a symmetric five-tuple (both directions get the same key).' },
    compression: { type: 'string', enum: ['none', 'gzip', 'snappy', 'lz4'], default: 'none', description: 'Producer batch compression.' },
    acks: { type: 'integer', enum: [-1, 0, 1], default: -1, description: '-1: all in-sync replicas; 1: the leader; 0: no acknowledgement.' },
    timeout_ms: int('Produce request timeout; also how long shutdown waits for undelivered records.', 30000, 1),
    create_topics: { type: 'boolean', default: true, description: 'Create the topics at start; a failure is only a warning (auto-created topics are relied on).' },
    // 1 matches what a broker's auto-create gives (num.partitions=1), so the topic looks the
    // same whichever side created it; raise it for parallel consumers.
    topic_partitions: int('Partitions of the topics flowgate creates.', 1, 1),
    replication_factor: int('Replication factor of the topics flowgate creates.', 1, 1, 32767),
    batch_max_records: int('Records per produce request: one goes out when this many records or batch_max_bytes are waiting, or after linger_ms.', 10000, 1),
    batch_max_bytes: int('Bytes per produce request (see batch_max_records).', 1048576, 1),
    linger_ms: int('Longest a record waits for its produce request to fill.', 20, 0),
    delimited_max_bytes: int('delimited framing: largest Kafka message records are packed into.', 1000000, 1024),
    buffer_max_records: int('Outage buffer: records held while Kafka is unreachable; beyond it records are dropped and counted.', 1000000, 1),
    buffer_max_bytes: int('Outage buffer limit in bytes.', 268435456, 1),
    max_in_flight: int('Produce requests in flight at once.', 4, 1),
    session_timeout_ms: int('Converters: how long the group waits for a silent consumer before its partitions move to another member.', 30000, 1000),
    sasl: SASL,
    tls: TLS,
  },
};

// Keys every output has: which topic it reads and under which name/consumer group.
const OUTPUT_COMMON: Record<string, JsonSchema> = {
  type: { type: 'string', description: 'Which converter.' },
  name: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9._-]+$', description: 'Unique name; default: the type. Names the Kafka consumer group (<client_id>-<name>) and the metrics.', 'x-expected': 'letters, digits, ".", "_" and "-"' },
  topic: { type: 'string', pattern: TOPIC_PATTERN, description: 'Topic to read; default kafka.topic.', 'x-expected': TOPIC_EXPECTED },
  group_id: { type: 'string', minLength: 1, description: 'Kafka consumer group; default <kafka.client_id>-<name>.' },
};

const CSV_OUTPUT: JsonSchema = {
  type: 'object',
  description: 'CSV files for analysts, rotated by time and size, written under a temporary name and renamed when complete.',
  additionalProperties: false,
  required: ['type', 'directory'],
  properties: {
    ...OUTPUT_COMMON,
    directory: { type: 'string', minLength: 1, description: 'Where the files go (created if missing).' },
    fields: {
      type: 'array', minItems: 1, items: { type: 'string' }, default: DEFAULT_CSV_OUTPUT_FIELDS,
      description: 'Columns: canonical field names plus computed duration_ms, exporter, proto_name.',
      'x-expected': 'a non-empty list of column names, e.g. [src_addr, dst_addr, bytes]',
    },
    rotate: {
      type: 'object', additionalProperties: false, default: {},
      description: 'A new file per time window of `seconds`, and a new part when a file reaches `bytes`.',
      properties: {
        seconds: int('Length of a file\'s time window.', 300, 1),
        bytes: int('Size at which a file is closed and the window continues in the next part.', 256 << 20, 1024),
      },
    },
    gzip: { type: 'boolean', default: false, description: 'Write .csv.gz files.' },
    time_format: { type: 'string', enum: ['iso', 'epoch_ms', 'epoch_ns'], default: 'iso', description: 'Time columns as RFC 3339 UTC (µs), integer ms or integer ns.' },
    protocol_names: { type: 'boolean', default: false, description: 'The proto column as a name (tcp, udp, ...) instead of a number.' },
    file_prefix: { type: 'string', default: 'flows-', pattern: '^[A-Za-z0-9._-]*$', description: 'File names are <prefix><window start>[-<part>].csv.', 'x-expected': 'letters, digits, ".", "_" and "-"' },
    window_by: { type: 'string', enum: ['received', 'flow_end'], default: 'received', description: 'Which time puts a record into a window.' },
    late_seconds: int('How long a past window\'s file stays open for late records.', 60, 0),
  },
};

const oneOrMany = (item: JsonSchema, description: string, expected: string): JsonSchema => ({
  ...item, type: [item.type as JsonType, 'array'], items: item, description, 'x-expected': expected,
});

const PROMETHEUS_OUTPUT: JsonSchema = {
  type: 'object',
  description: 'Flow counters (flow_receive_bytes_total, ...) on an own /metrics endpoint, in the style of flow-exporter.',
  additionalProperties: false,
  required: ['type'],
  properties: {
    ...OUTPUT_COMMON,
    listen: {
      type: 'string', default: DEFAULT_PROMETHEUS_LISTEN, pattern: '^(\\[[^\\]]*\\]|[^:\\[\\]]*):[0-9]+$',
      description: 'HTTP address of this output\'s /metrics (flow series only).', 'x-expected': '"HOST:PORT", e.g. "127.0.0.1:9591"',
    },
    labels: {
      type: 'array', items: { type: 'string', enum: [...PROMETHEUS_LABELS] }, default: ['exporter', 'src_as', 'dst_as'],
      description: 'Dimensions of the flow series: exporter → hostname, src_as → source_as (+ source_as_name), dst_as → destination_as (+ destination_as_name), proto, in_if, out_if, etype, flow_direction.',
      'x-expected': `a list of ${PROMETHEUS_LABELS.join(', ')}`,
    },
    direction_by: {
      type: 'object', additionalProperties: false,
      description: 'What makes a flow receive (towards us) or transmit; absent: the record\'s flow_direction (ingress = receive, egress = transmit).',
      properties: {
        local_as: oneOrMany({ type: 'integer', minimum: 0, maximum: 4294967295 }, 'Our AS number(s): dst_as local = receive, src_as local = transmit.', 'an AS number or a list of them, e.g. 64512'),
        local_prefixes: oneOrMany({ type: 'string' }, 'Our prefixes: dst_addr inside = receive, src_addr inside = transmit.', 'a list of prefixes, e.g. ["10.0.0.0/8", "2001:db8::/32"]'),
      },
    },
    as_names: { type: 'string', minLength: 1, description: 'CSV file of "asn,name" lines for source_as_name/destination_as_name (read at start; no network look-ups).' },
    max_series: int('Label sets kept; beyond it the smallest are folded into the label set "other".', 10000, 2),
  },
};

const ADDRESS_LIST = oneOrMany({ type: 'string' }, 'Prefixes (a bare address is its own /32 or /128).', 'a prefix or a list of them, e.g. 10.1.0.0/16');
const IF_LIST = oneOrMany({ type: 'integer', minimum: 0 }, 'Interface indexes.', 'an interface index or a list of them');

const SPLIT_OUTPUT: JsonSchema = {
  type: 'object',
  description: 'Routes each record to per-customer topics by rules (topic = the topic read; rules[].topic and default_topic are written).',
  additionalProperties: false,
  required: ['type', 'rules'],
  properties: {
    ...OUTPUT_COMMON,
    rules: {
      type: 'array', minItems: 1, description: 'A record goes once to every topic whose rule matches.',
      'x-expected': 'a list like [{ match: { addr: 10.1.0.0/16 }, topic: customer-a }]',
      items: {
        type: 'object', additionalProperties: false, required: ['match', 'topic'],
        properties: {
          match: {
            type: 'object', additionalProperties: false, description: 'All keys given must hold.',
            'x-expected': 'a mapping of addr, src_addr, dst_addr, exporter, in_if, out_if',
            properties: {
              addr: { ...ADDRESS_LIST, description: 'Either src_addr or dst_addr inside: both directions of a customer\'s traffic.' },
              src_addr: { ...ADDRESS_LIST, description: 'src_addr inside (one direction only).' },
              dst_addr: { ...ADDRESS_LIST, description: 'dst_addr inside (one direction only).' },
              exporter: { ...ADDRESS_LIST, description: 'The exporter\'s address inside.' },
              in_if: { ...IF_LIST, description: 'Input interface is one of these.' },
              out_if: { ...IF_LIST, description: 'Output interface is one of these.' },
            },
          },
          topic: { type: 'string', pattern: TOPIC_PATTERN, description: 'Topic written for matching records.', 'x-expected': TOPIC_EXPECTED },
        },
      },
    },
    default_topic: { type: 'string', pattern: TOPIC_PATTERN, description: 'Topic for records no rule matches; absent: they are dropped and counted.', 'x-expected': TOPIC_EXPECTED },
  },
};

const REDUCE_OUTPUT: JsonSchema = {
  type: 'object',
  description: 'Republishes a subset of fields, with keyed prefix-preserving address anonymisation (topic = the topic WRITTEN; from_topic = the topic read).',
  additionalProperties: false,
  required: ['type', 'topic', 'keep'],
  properties: {
    ...OUTPUT_COMMON,
    topic: { type: 'string', pattern: TOPIC_PATTERN, description: 'Topic WRITTEN (unlike other outputs, where topic is the topic read).', 'x-expected': TOPIC_EXPECTED },
    from_topic: { type: 'string', pattern: TOPIC_PATTERN, description: 'Topic read; default kafka.topic.', 'x-expected': TOPIC_EXPECTED },
    keep: { type: 'array', minItems: 1, items: { type: 'string' }, description: 'Canonical field names kept; all others are dropped.', 'x-expected': 'a non-empty list of field names, e.g. [src_addr, dst_addr, bytes]' },
    anonymize: {
      type: 'object', required: ['key_file'],
      description: 'Address fields to anonymise (value: prefix-preserving) and the key file.',
      'x-expected': '{ src_addr: prefix-preserving, key_file: ./anon.key }',
      properties: {
        key_file: { type: 'string', minLength: 1, description: 'Key: 32 raw bytes or 64 hex characters.' },
        ...Object.fromEntries(ANONYMIZABLE_FIELDS.map((f) => [f, { type: 'string', enum: ['prefix-preserving'], description: `Anonymise ${f} (Crypto-PAn).` } satisfies JsonSchema])),
      },
      additionalProperties: false,
    },
  },
};

const NETFLOW9_OUTPUT: JsonSchema = {
  type: 'object',
  description: 'NetFlow v9 re-export to legacy collectors (nfcapd, ...): IPv4/IPv6 data templates, sampling options, one source ID per exporter.',
  additionalProperties: false,
  required: ['type', 'targets'],
  properties: {
    ...OUTPUT_COMMON,
    targets: {
      type: 'array', minItems: 1, items: { type: 'string' },
      description: 'Collectors, each "IPv4:PORT" or "[IPv6]:PORT"; every export packet goes to each.',
      'x-expected': 'a non-empty list like ["127.0.0.1:2055", "[::1]:9995"]',
    },
    source_id: {
      default: 'per-exporter',
      description: '"per-exporter": one NetFlow source ID per original exporter and observation domain; or one fixed source ID (0-4294967295) for all records.',
      'x-expected': '"per-exporter" or an integer 0-4294967295',
      // pattern applies to strings only, minimum/maximum to numbers only.
      type: ['string', 'integer'], pattern: '^per-exporter$', minimum: 0, maximum: 4294967295,
    },
    template_refresh: {
      type: 'object', additionalProperties: false, default: {},
      description: 'Templates are sent at start and again every `packets` export packets and every `seconds` per source ID (0 turns that trigger off).',
      properties: {
        packets: int('Resend templates after this many export packets of a source ID.', 20, 0),
        seconds: int('Resend templates after this many seconds.', 60, 0),
      },
    },
    mtu: int('Largest export packet (UDP payload) in bytes; 1400 fits a 1500-byte link with IPv4 or IPv6 headers.', 1400, 512, 65507),
    flush_ms: int('An export packet is sent at most this many milliseconds after its first record, full or not.', 500, 1),
    rate_limit: int('Pacing: export packets per second (each goes to every target); 0 = unlimited.', 0, 0),
    template_file: { type: 'string', minLength: 1, description: 'Export template file (fields per template); default: templates/netflow9-export.yaml of the package.' },
  },
};

const NEMEA_OUTPUT: JsonSchema = {
  type: 'object',
  description: 'A NEMEA feed: UniRec records served as a libtrap output interface (modules connect with -i t:HOST:PORT or -i u:NAME), or written as a TRAP file.',
  additionalProperties: false,
  required: ['type', 'listen'],
  properties: {
    ...OUTPUT_COMMON,
    listen: { type: 'string', minLength: 1, description: 'tcp:HOST:PORT, unix:NAME (socket <socket_dir>/trap-NAME.sock) or file:PATH.', 'x-expected': 'e.g. "tcp:127.0.0.1:7600", "unix:flows" or "file:/var/lib/flowgate/flows.trapcap"' },
    fields: { type: 'string', minLength: 1, default: DEFAULT_NEMEA_FIELDS, description: 'UniRec template: "type NAME" pairs joined by ",".', 'x-expected': 'e.g. "ipaddr SRC_IP,ipaddr DST_IP,uint64 BYTES"' },
    flush_ms: int('A partial container is sent after this many milliseconds.', 500, 1),
    framing: { type: 'string', enum: ['container', 'legacy'], default: 'container', description: 'container: libtrap >= 1.17 headers (length, sequence, count); legacy: libtrap <= 1.16 (length only).' },
    slow_client: { type: 'string', enum: ['wait', 'drop'], default: 'wait', description: 'A client over queue_bytes blocks the output (wait: backpressure to Kafka) or skips containers (drop: counted).' },
    queue_bytes: int('Per-client send queue bound in bytes.', 4 << 20, 1),
    max_clients: int('Clients served at once; more are refused (libtrap allows 64).', 64, 1, 64),
    socket_dir: { type: 'string', minLength: 1, description: 'Directory of the UNIX socket; default $TRAP_SOCKET_DIR, else /var/run/libtrap (as libtrap).' },
    rotate: {
      type: 'object', additionalProperties: false, default: {},
      description: 'File interface: a new file per time window of `seconds` (0 = off) and a new part at `bytes` (0 = off).',
      properties: {
        seconds: int('Length of a file\'s time window; 0 = no time rotation.', 0, 0),
        bytes: int('Size at which a file is closed and the next part begins; 0 = no size rotation.', 0, 0),
      },
    },
  },
};

const OUTPUT: JsonSchema = {
  type: 'object',
  'x-expected': 'a mapping like { type: csv, directory: ./csv }',
  required: ['type'],
  properties: { type: { type: 'string', enum: [...OUTPUT_TYPES], description: 'Which converter.' } },
  allOf: [
    { if: { properties: { type: { const: 'csv' } } }, then: CSV_OUTPUT },
    { if: { properties: { type: { const: 'netflow9' } } }, then: NETFLOW9_OUTPUT },
    { if: { properties: { type: { const: 'nemea' } } }, then: NEMEA_OUTPUT },
    { if: { properties: { type: { const: 'prometheus' } } }, then: PROMETHEUS_OUTPUT },
    { if: { properties: { type: { const: 'split' } } }, then: SPLIT_OUTPUT },
    { if: { properties: { type: { const: 'reduce' } } }, then: REDUCE_OUTPUT },
  ],
};

export const CONFIG_SCHEMA: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'flowgate config.yaml',
  type: 'object',
  'x-expected': 'a mapping of sections (listeners, decoder, kafka, ...)',
  additionalProperties: false,
  properties: {
    listeners: {
      type: 'array',
      default: [],
      description: 'UDP sockets to receive flow datagrams on. May be empty in a converter-only process (outputs reading from Kafka).',
      'x-expected': 'a list of { listen: "HOST:PORT", protocol: auto }',
      items: LISTENER,
    },
    decoder: DECODER,
    summary_interval_seconds: { type: 'number', minimum: 0, default: 10, description: 'Seconds between one-line summaries of what arrived; 0 turns them off.' },
    kafka: KAFKA,
    state: {
      type: 'object',
      description: 'Persist learned templates and sampling state so a restart decodes at once.',
      additionalProperties: false,
      required: ['directory'],
      properties: {
        directory: { type: 'string', minLength: 1, 'x-expected': 'a directory path, e.g. ./state', description: 'Directory of the state files (created if missing; relative to the working directory).' },
        save_interval_seconds: { type: 'number', exclusiveMinimum: 0, default: 10, description: 'Seconds between saves (and state-topic publications with Kafka).' },
      },
    },
    metrics: {
      type: 'object',
      description: 'Prometheus /metrics endpoint. Omit the section to serve none.',
      additionalProperties: false,
      properties: {
        listen: {
          type: 'string',
          default: DEFAULT_METRICS_LISTEN,
          pattern: '^(\\[[^\\]]*\\]|[^:\\[\\]]*):[0-9]+$',
          description: 'HTTP address of /metrics; keep it on localhost unless a scraper elsewhere needs it.',
          'x-expected': '"HOST:PORT", e.g. "127.0.0.1:9590" or "[::1]:9590"',
        },
      },
    },
    log: {
      type: 'object',
      description: 'Structured (JSON) logs on stdout.',
      additionalProperties: false,
      default: {},
      properties: {
        level: { type: 'string', enum: ['debug', 'info', 'warn', 'error'], default: 'info', description: 'Lowest level logged.' },
        bad_input_per_minute: int('Bad-input log lines per reason per minute; the rest are only counted.', 10, 0),
      },
    },
    outputs: {
      type: 'array',
      default: [],
      description: 'Converters: each reads the flow topic (its own Kafka consumer group, or the embedded bus) and writes a format.',
      'x-expected': 'a list of outputs like { type: csv, directory: ./csv }',
      items: OUTPUT,
    },
  },
};
