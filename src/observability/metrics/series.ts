// Counters and histograms whose series are plain objects that the hot path bumps directly, read
// by prom-client only when /metrics is scraped.
//
// Why not prom-client's own `inc`/`observe`: each call hashes the label object and validates it,
// about a microsecond per message on the send path (where the budget is 3 % of the throughput). A
// series here is looked up once (by the caller, in a Map keyed by what it already has, e.g. the
// topic) and then costs one addition per event. The classes extend prom-client's Counter and
// Histogram and override `get()`, the method the Registry reads, so the text format, the default
// labels (cluster, node_type, node_id) and the content type stay prom-client's.
import { Counter, Histogram, type Registry } from 'prom-client';

type CounterGet = Awaited<ReturnType<Counter['get']>>;
type HistogramGet = Awaited<ReturnType<Histogram['get']>>;
type Labels = Record<string, string>;

export interface CounterSeries {
  readonly labels: Labels;
  value: number;
}

/** A counter family; `series(key, labels)` returns the object to add to (created on first use). */
export class SeriesCounter extends Counter {
  private readonly all = new Map<string | number, CounterSeries>();

  constructor(name: string, help: string, labelNames: readonly string[], registry: Registry) {
    super({ name, help, labelNames, registers: [registry] });
  }

  /**
   * The series for a key, made with `labels()` on first use. Callers on a hot path keep the result:
   * looking it up again per event is what this class avoids.
   */
  series(key: string | number, labels: () => Labels): CounterSeries {
    let s = this.all.get(key);
    if (!s) {
      s = { labels: labels(), value: 0 };
      this.all.set(key, s);
    }
    return s;
  }

  /** Sum over the series the predicate accepts (alarm rules and tests read totals this way). */
  sum(accept: (labels: Labels) => boolean = () => true): number {
    let n = 0;
    for (const s of this.all.values()) if (accept(s.labels)) n += s.value;
    return n;
  }

  override get(): Promise<CounterGet> {
    const { name, help } = this as unknown as { name: string; help: string };
    const values = [...this.all.values()].map((s) => ({ labels: s.labels, value: s.value }));
    return Promise.resolve({ name, help, type: 'counter', aggregator: 'sum', values } as unknown as CounterGet);
  }
}

export interface HistogramSeries {
  readonly labels: Labels;
  /** Observations per bucket (not cumulative); the last slot is above the highest bound. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

/** A histogram family with fixed upper bounds (inclusive, as Prometheus's `le`). */
export class SeriesHistogram extends Histogram {
  private readonly all = new Map<string | number, HistogramSeries>();
  readonly bounds: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], bounds: readonly number[], registry: Registry) {
    super({ name, help, labelNames, buckets: [...bounds], registers: [registry] });
    this.bounds = bounds;
  }

  series(key: string | number, labels: () => Labels): HistogramSeries {
    let s = this.all.get(key);
    if (!s) {
      s = { labels: labels(), counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      this.all.set(key, s);
    }
    return s;
  }

  /** One observation: a scan of a handful of bounds, no allocation. */
  record(s: HistogramSeries, value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  /** Observations over the series the predicate accepts. */
  countWhere(accept: (labels: Labels) => boolean): number {
    let n = 0;
    for (const s of this.all.values()) if (accept(s.labels)) n += s.count;
    return n;
  }

  /** What the Registry reads for the text format (prom-client's Histogram serializes through it, not get()). */
  getForPromString(): Promise<HistogramGet> {
    return this.get();
  }

  override get(): Promise<HistogramGet> {
    const { name, help } = this as unknown as { name: string; help: string };
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const s of this.all.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += s.counts[i];
        values.push({ labels: { ...s.labels, le: this.bounds[i] }, value: cumulative, metricName: `${name}_bucket` });
      }
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${name}_bucket` });
      values.push({ labels: s.labels, value: s.sum, metricName: `${name}_sum` });
      values.push({ labels: s.labels, value: s.count, metricName: `${name}_count` });
    }
    return Promise.resolve({ name, help, type: 'histogram', aggregator: 'sum', values } as unknown as HistogramGet);
  }
}
