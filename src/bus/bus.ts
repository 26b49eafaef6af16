// The bus between ingest and converters: carries encoded canonical records. Two
// implementations share this interface: Kafka (kafka-bus.ts) and the embedded in-process bus,
// the default when no brokers are configured. Both carry the same bytes (framed the same way
// by record-framer.ts), so the embedded path exercises the real codec.

export interface BusMessage {
  /** Partitioning key (exporter, 5-tuple hash) or null. */
  key: Buffer | null;
  value: Buffer;
  /** Shared, constant per framing: says how to read `value` (framing and schema). */
  headers?: Readonly<Record<string, Buffer>>;
  /** Canonical records inside `value` (1 for raw framing; n for a delimited batch). */
  records: number;
}

export type BusHandler = (topic: string, messages: readonly BusMessage[]) => void;

/** The few log calls the bus makes; pino's Logger satisfies it. */
export interface BusLog {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

export interface BusStats {
  /** Records handed to the bus (accepted into its buffer). */
  accepted: number;
  /** Records the bus delivered (Kafka: acknowledged by the broker). */
  published: number;
  /** Records refused because the buffer was full or the bus was closing, by reason. */
  dropped: Record<string, number>;
  /** Records waiting (buffered or in flight). */
  buffered: number;
}

export interface Bus {
  /** Never throws and never blocks: a full buffer drops and counts (see stats). */
  publish(topic: string, messages: readonly BusMessage[]): void;
  stats(): BusStats;
  /** Delivers everything it holds (bounded by the bus's own timeout), then releases resources. */
  close(): Promise<void>;
}
