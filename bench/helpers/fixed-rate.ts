// Calls at a fixed rate: a 1 ms tick releases the calls that are due, and each latency is counted
// from the moment its call was due, so a stall delays the count instead of hiding (no coordinated
// omission). Bounded by count (rate × seconds).
import { LatencyHistogram } from '../../src/cli/bench/index.js';

export interface FixedRateResult {
  hist: LatencyHistogram;
  ok: number;
  failed: number;
  ms: number;
}

/** call resolves true for success, false (or rejects) for a failure. */
export async function runAtFixedRate(rate: number, seconds: number, call: () => Promise<boolean>): Promise<FixedRateResult> {
  const hist = new LatencyHistogram();
  let failed = 0;
  const pending: Promise<void>[] = [];
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  for (let issued = 0; issued < total; ) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    for (; issued < due; issued++) {
      const dueAt = t0 + (issued * 1000) / rate;
      pending.push(
        call().then(
          (ok) => {
            if (ok) hist.record(performance.now() - dueAt);
            else failed++;
          },
          () => void failed++,
        ),
      );
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  return { hist, ok: hist.count, failed, ms: performance.now() - t0 };
}

export function latencyLine(r: FixedRateResult): string {
  const h = r.hist;
  return (
    `${r.ok} ok, ${r.failed} failed in ${Math.round(r.ms)} ms; p50 ${h.percentileMs(0.5).toFixed(2)} ms, ` +
    `p99 ${h.percentileMs(0.99).toFixed(2)} ms, p999 ${h.percentileMs(0.999).toFixed(2)} ms, max ${h.maxMs().toFixed(2)} ms`
  );
}
