// Rates (per second) of monotonically growing counters over sliding windows, sampled lazily:
// admin requests are rare, so a sample is taken when one asks instead of on a timer that
// would need its own shutdown.

interface Sample {
  at: number;
  value: number;
}

/** Samples closer together than this are not kept. */
const MIN_SPACING_MS = 1000;

export class TpsSampler {
  private readonly series = new Map<string, Sample[]>();

  /**
   * @param origin when counting started (e.g. broker start); the counters were 0 then.
   * @param keepMs how far back samples are kept: the longest window asked for.
   */
  constructor(
    private readonly origin: number,
    private readonly keepMs = 600_000,
  ) {}

  /**
   * Records `value` for `key` at `now` and returns the rate over each window (ms): the change
   * since the newest sample at least that old, else since the oldest kept (or the origin).
   */
  rates(key: string, value: number, windowsMs: readonly number[], now = Date.now()): number[] {
    let s = this.series.get(key);
    if (!s) {
      s = [{ at: this.origin, value: 0 }];
      this.series.set(key, s);
    }
    const out = windowsMs.map((w) => rateSince(s, value, now, w));
    const last = s[s.length - 1];
    if (now - last.at >= MIN_SPACING_MS) s.push({ at: now, value });
    while (s.length > 2 && now - s[1].at > this.keepMs) s.shift();
    return out;
  }
}

function rateSince(s: readonly Sample[], value: number, now: number, windowMs: number): number {
  let base = s[0];
  for (let i = s.length - 1; i >= 0; i--) {
    if (now - s[i].at >= windowMs) {
      base = s[i];
      break;
    }
  }
  const dt = now - base.at;
  return dt > 0 ? ((value - base.value) * 1000) / dt : 0;
}
