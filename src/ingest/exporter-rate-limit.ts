// decoder.max_records_per_second_per_exporter: a token bucket of flow records per exporter
// address. How many records a datagram holds is known only after decoding, so the bucket is
// charged afterwards (it may go negative) and checked before: an exporter whose bucket is
// empty has its datagrams dropped undecoded, which is what keeps an exporter flooding us from
// costing decode time. The burst is one second's worth. Other exporters have their own buckets.

const MAX_TRACKED = 65536;

class Bucket {
  constructor(public tokens: number, public lastUs: number) {}
}

export class ExporterRateLimit {
  private readonly buckets = new Map<string, Bucket>();

  /** `perSecond` > 0. */
  constructor(private readonly perSecond: number) {}

  /** Whether a datagram of this exporter may be decoded now. Returns the bucket to charge. */
  admit(address: string, nowUs: number): Bucket | undefined {
    let b = this.buckets.get(address);
    if (b === undefined) {
      if (this.buckets.size >= MAX_TRACKED) this.buckets.clear();
      b = new Bucket(this.perSecond, nowUs);
      this.buckets.set(address, b);
    } else if (nowUs > b.lastUs) {
      b.tokens = Math.min(this.perSecond, b.tokens + ((nowUs - b.lastUs) * this.perSecond) / 1e6);
      b.lastUs = nowUs;
    }
    return b.tokens > 0 ? b : undefined;
  }

  /** Records the admitted datagram turned out to hold. */
  static charge(b: Bucket, records: number): void {
    b.tokens -= records;
  }
}
