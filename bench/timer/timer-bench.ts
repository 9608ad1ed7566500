// Timer store bench. Run: node --import tsx --expose-gc bench/timer/timer-bench.ts [count] [realCount]
// 1. `count` (default 1,000,000) timers spread uniformly over the next hour on an injected
//    clock: enqueue rate, memory held, then the clock walks through the hour in 100 ms
//    steps and each hand-out's lateness (simulated poll time − deliverAt) is recorded.
// 2. `realCount` (default 20,000) timers over the next 10 s on the real clock, polled
//    every 10 ms: real lateness.
// Everything runs in a temp dir that is removed afterwards; both parts are bounded in time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TimerStore } from '../../src/store/timer/index.js';

const count = Number(process.argv[2] ?? 1_000_000);
const realCount = Number(process.argv[3] ?? 20_000);
const HOUR = 3_600_000;
const gc = (globalThis as { gc?: () => void }).gc;

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

function percentiles(lat: Float64Array): string {
  const s = Float64Array.from(lat).sort();
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${s[s.length - 1]} ms`;
}

function memory(): { rss: number; heap: number } {
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

async function simulated(dir: string): Promise<void> {
  const t0 = 1_700_000_000_000;
  const clock = { now: t0 };
  const before = memory();
  const store = TimerStore.open(dir, { now: () => clock.now, flushIntervalMs: 0 });
  const opened = memory();
  // A cheap deterministic spread (LCG) so the run is repeatable.
  let seed = 12345;
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const deliverAtMs = t0 + 1 + Math.floor((seed / 4294967296) * HOUR);
    store.add({ deliverAtMs, commitLogOffset: i * 1024, size: 1024, key: `TopicTest7F0000010000${i.toString(16).padStart(12, '0')}` });
  }
  await store.flush();
  const enqueueMs = performance.now() - start;
  const after = memory();
  const st = store.stats();
  console.log(`simulated: ${count} timers over 1 h`);
  console.log(`  enqueue: ${(count / (enqueueMs / 1000)).toFixed(0)} timers/s (${enqueueMs.toFixed(0)} ms incl. final fsync)`);
  console.log(
    `  memory: store structures ${mib(st.memoryBytes)} (wheel ${mib(opened.heap - before.heap)} of heap at open); ` +
      `process delta after enqueue: rss +${mib(after.rss - before.rss)}, heap +${mib(after.heap - opened.heap)}`,
  );
  console.log(`  timer log: ${mib(st.logBytes)} in ${st.logSegments} segment(s); pending ${st.pending}`);

  const lateness = new Float64Array(count);
  let n = 0;
  let maxReady = 0;
  const deliverStart = performance.now();
  for (let now = t0; now <= t0 + HOUR + 1000; now += 100) {
    clock.now = now;
    for (const t of store.pollDue(now, 1_000_000)) lateness[n++] = now - t.deliverAtMs;
    maxReady = Math.max(maxReady, store.stats().ready);
    store.commit();
  }
  const deliverMs = performance.now() - deliverStart;
  console.log(
    `  delivery: ${n} handed out in ${deliverMs.toFixed(0)} ms (${(n / (deliverMs / 1000)).toFixed(0)} timers/s), ` +
      `polling every 100 ms simulated; most in memory at once ${maxReady}`,
  );
  console.log(`  lateness (simulated): ${percentiles(lateness.subarray(0, n))}`);
  if (n !== count) console.log(`  MISSING: ${count - n}`);
  await store.close();
}

async function realTime(dir: string): Promise<void> {
  const store = TimerStore.open(dir);
  const t0 = Date.now();
  for (let i = 0; i < realCount; i++) {
    store.add({ deliverAtMs: t0 + 200 + Math.floor((i / realCount) * 10_000), commitLogOffset: i, size: 1, key: `k${i}` });
  }
  const lateness = new Float64Array(realCount);
  let n = 0;
  const deadline = t0 + 15_000;
  await new Promise<void>((resolve) => {
    const iv = setInterval(() => {
      const now = Date.now();
      for (const t of store.pollDue(now, 1_000_000)) lateness[n++] = Date.now() - t.deliverAtMs;
      store.commit();
      if (n >= realCount || now > deadline) {
        clearInterval(iv);
        resolve();
      }
    }, 10);
  });
  console.log(`real clock: ${realCount} timers over 10 s, polled every 10 ms (precision 1000 ms)`);
  console.log(`  lateness (real): ${percentiles(lateness.subarray(0, n))}${n < realCount ? `; MISSING ${realCount - n}` : ''}`);
  await store.close();
}

const root = mkdtempSync(join(tmpdir(), 'apogee-timer-bench-'));
try {
  await simulated(join(root, 'sim'));
  await realTime(join(root, 'real'));
} finally {
  rmSync(root, { recursive: true, force: true });
}
