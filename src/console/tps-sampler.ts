// Send and receive rates of the whole cluster over time, for the Cluster page's charts: the
// console samples the masters' put/get totals every interval and keeps the differences in a ring.
// Brokers only report windowed rates "now", so a chart needs someone to remember; RocketMQ's
// dashboard does the same with its own collect task.
import type { Logger } from '../common/logger.js';

export interface TpsSample {
  /** ms since the epoch. */
  t: number;
  put: number;
  get: number;
}

export const TPS_SAMPLES_KEPT = 360;

export class TpsSampler {
  private readonly samples: TpsSample[] = [];
  private last: { t: number; put: number; get: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly totals: () => Promise<{ put: number; get: number }>,
    readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  list(): TpsSample[] {
    return [...this.samples];
  }

  /** One reading; a reading that fails leaves a gap rather than a made-up point. */
  sample(now = Date.now()): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        const cur = await this.totals();
        const prev = this.last;
        this.last = { t: now, ...cur };
        // A total that went down means a broker restarted: no rate for this step.
        if (prev && now > prev.t && cur.put >= prev.put && cur.get >= prev.get) {
          const secs = (now - prev.t) / 1000;
          this.samples.push({ t: now, put: round2((cur.put - prev.put) / secs), get: round2((cur.get - prev.get) / secs) });
          if (this.samples.length > TPS_SAMPLES_KEPT) this.samples.shift();
        }
      } catch (err) {
        this.last = undefined;
        this.logger.debug({ err }, 'console TPS sample failed');
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
