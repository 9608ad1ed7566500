// The lines a benchmark prints: one per interval and a closing summary, both with TPS and
// latency (average, max, p50/p99/p999 in ms).
import { LatencyHistogram } from './latency-histogram.js';

export interface BenchStop {
  /** Stop after this many operations (sends started, messages consumed). */
  count?: number;
  /** Stop after this many seconds. */
  durationSec?: number;
}

const f2 = (n: number): string => n.toFixed(2);
const f3 = (n: number): string => n.toFixed(3);

function latencyPart(h: LatencyHistogram): string {
  return `avgRT=${f3(h.avgMs())}ms maxRT=${f3(h.maxMs())}ms p50=${f3(h.percentileMs(0.5))}ms p99=${f3(h.percentileMs(0.99))}ms p999=${f3(h.percentileMs(0.999))}ms`;
}

/** Interval figures plus the whole run's, printed through `out`. */
export class BenchReporter {
  readonly interval = new LatencyHistogram();
  readonly total = new LatencyHistogram();
  failed = 0;
  private intervalFailed = 0;
  private readonly startedAt = performance.now();
  private lastAt = this.startedAt;

  constructor(
    private readonly name: string,
    private readonly out: (line: string) => void,
  ) {}

  ok(latencyMs: number): void {
    this.interval.record(latencyMs);
  }

  fail(): void {
    this.failed++;
    this.intervalFailed++;
  }

  elapsedSec(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  get done(): number {
    return this.total.count + this.interval.count;
  }

  /** Prints the interval's line and folds it into the total. */
  tick(): void {
    const now = performance.now();
    const dt = (now - this.lastAt) / 1000;
    this.lastAt = now;
    const h = this.interval;
    const tps = dt > 0 ? h.count / dt : 0;
    this.out(`[${this.name}] t=${f2(this.elapsedSec())}s tps=${Math.round(tps)} ${latencyPart(h)} failed=${this.intervalFailed}\n`);
    this.total.add(h);
    h.reset();
    this.intervalFailed = 0;
  }

  summary(): void {
    if (this.interval.count > 0 || this.intervalFailed > 0) this.tick();
    const el = this.elapsedSec();
    const h = this.total;
    this.out(`[${this.name}] summary: ok=${h.count} failed=${this.failed} elapsed=${f2(el)}s tps=${Math.round(el > 0 ? h.count / el : 0)} ${latencyPart(h)}\n`);
  }
}
