// The bus between ingest and converters: carries encoded canonical records. Two
// implementations share this interface: Kafka (issue #3) and the embedded in-process bus,
// the default when no brokers are configured. Both carry the same bytes, so the embedded
// path exercises the real codec.

export interface BusMessage {
  /** Partitioning key (exporter, 5-tuple hash) or null. */
  key: Buffer | null;
  value: Buffer;
}

export type BusHandler = (topic: string, messages: readonly BusMessage[]) => void;

export interface Bus {
  publish(topic: string, messages: readonly BusMessage[]): void;
  subscribe(handler: BusHandler): void;
  close(): Promise<void>;
}
