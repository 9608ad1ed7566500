// A fixed-size log-linear latency histogram in microseconds (about 1.6 % resolution, like
// HdrHistogram with 2 significant digits): recording is an array increment, no allocation.

const LINEAR = 128;
const SUB = 64;
const MAX_US = 0x7fffffff;
const BUCKETS = LINEAR + 25 * SUB;

function bucketOf(us: number): number {
  if (us < LINEAR) return us;
  const shift = 31 - Math.clz32(us) - 6;
  return LINEAR + (shift - 1) * SUB + ((us >>> shift) - SUB);
}

/** Middle of a bucket's range, in µs. */
function valueOf(bucket: number): number {
  if (bucket < LINEAR) return bucket;
  const b = bucket - LINEAR;
  const shift = Math.floor(b / SUB) + 1;
  const lo = ((b % SUB) + SUB) << shift;
  return lo + ((1 << shift) - 1) / 2;
}

export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  count = 0;
  private sumUs = 0;
  maxUs = 0;

  /** Records one latency given in ms (fractions allowed); negatives count as 0. */
  record(ms: number): void {
    let us = Math.round(ms * 1000);
    if (!(us > 0)) us = 0;
    else if (us > MAX_US) us = MAX_US;
    this.counts[bucketOf(us)]++;
    this.count++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  add(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    this.count += other.count;
    this.sumUs += other.sumUs;
    if (other.maxUs > this.maxUs) this.maxUs = other.maxUs;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sumUs = 0;
    this.maxUs = 0;
  }

  avgMs(): number {
    return this.count === 0 ? 0 : this.sumUs / this.count / 1000;
  }

  maxMs(): number {
    return this.maxUs / 1000;
  }

  /** The latency (ms) at or below which fraction q of the records fall; 0 when empty. */
  percentileMs(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(valueOf(i), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }
}
