// Per-second rates of growing totals, for rocketmq-exporter's *_tps gauges. The exporter reads the
// broker's per-minute stats; here a rate is taken over the last minute of samples, sampled when a
// scrape asks (no timer to stop), since the series began when less than a minute is known.

interface Sample {
  at: number;
  value: number;
}

/** Samples closer together than this are not kept: many scrapers do not grow the memory. */
const MIN_SPACING_MS = 1000;

export class RateWindow {
  private readonly series = new Map<string, Sample[]>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** `value` is the total now; `originMs` is when it was 0 (first call for the key only). */
  rate(key: string, value: number, originMs: number): number {
    const now = this.now();
    let s = this.series.get(key);
    if (!s) {
      s = [{ at: Math.min(originMs, now), value: 0 }];
      this.series.set(key, s);
    }
    let base = s[0];
    for (let i = s.length - 1; i >= 0; i--) {
      if (now - s[i].at >= this.windowMs) {
        base = s[i];
        break;
      }
    }
    const dt = now - base.at;
    const r = dt > 0 ? ((value - base.value) * 1000) / dt : 0;
    if (now - s[s.length - 1].at >= MIN_SPACING_MS) s.push({ at: now, value });
    // Keep one sample older than the window: it is the base of the next rate.
    while (s.length > 2 && now - s[1].at >= this.windowMs) s.shift();
    return Math.max(0, r);
  }
}
