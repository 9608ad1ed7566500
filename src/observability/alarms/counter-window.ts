// Samples of a counter that only grows (dead letters stored, sends refused), kept over a time
// window, to judge its growth or rate over that window. A drop (a counter reset, a topic deleted)
// starts the window over, so a reset never reads as negative growth.

/** Bounds memory whatever the window and interval (a 5 m window at 100 ms needs 3000). */
const MAX_SAMPLES = 10_000;

export class CounterWindow {
  private samples: { t: number; v: number }[] = [];

  add(t: number, v: number): void {
    const last = this.samples.at(-1);
    if (last && v < last.v) this.samples = [];
    this.samples.push({ t, v });
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
  }

  /**
   * Growth since the newest sample at or before `now - windowMs` (or the oldest kept one, early
   * on), and the time that covers. Older samples are dropped.
   */
  increase(now: number, windowMs: number): { delta: number; spanMs: number } {
    const start = now - windowMs;
    while (this.samples.length > 1 && this.samples[1].t <= start) this.samples.shift();
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last) return { delta: 0, spanMs: 0 };
    return { delta: last.v - first.v, spanMs: last.t - first.t };
  }
}
