// `apogee bench producer`: keeps a window of synchronous sends in flight (each worker sends
// its next message when its last one is answered), optionally paced to a target rate, and
// reports send TPS and send latency.
import { Producer, type Message } from '../../client/index.js';
import { BenchReporter, type BenchStop } from './bench-report.js';

export interface ProducerBenchOptions extends BenchStop {
  namesrvAddr: string;
  topic: string;
  size: number;
  window: number;
  headers: 'json' | 'binary';
  intervalSec: number;
  /** Target sends per second for the whole run; undefined = as fast as the window allows. */
  rate?: number;
  out(line: string): void;
  err(line: string): void;
}

/**
 * Wakes paced workers at their slot times. Workers whose slots fall in the same millisecond share
 * one timer (Node's timers have millisecond resolution anyway): at 20k msg/s a timer and a promise
 * chain per send were a visible share of the tool's CPU (issue 17), now it is one timer per ms.
 */
export class Pacer {
  private readonly due = new Map<number, Array<() => void>>();

  /** Resolves once performance.now() has reached `at` (to the ms); undefined when that is less than 1 ms away. */
  until(at: number): Promise<void> | undefined {
    const now = performance.now();
    if (at - now < 1) return undefined;
    const ms = Math.ceil(at);
    const wait = ms - now;
    let list = this.due.get(ms);
    if (list === undefined) {
      const created: Array<() => void> = [];
      list = created;
      this.due.set(ms, created);
      setTimeout(() => {
        this.due.delete(ms);
        for (let i = 0; i < created.length; i++) created[i]();
      }, wait);
    }
    const waiters = list;
    return new Promise<void>((resolve) => waiters.push(resolve));
  }
}

/** Runs until count or duration is reached; resolves with the reporter (for the exit code). */
export async function runProducerBench(o: ProducerBenchOptions): Promise<BenchReporter> {
  const producer = new Producer({
    namesrvAddr: o.namesrvAddr,
    producerGroup: `apogee_bench_producer_${process.pid}`,
    serializeType: o.headers === 'binary' ? 'ROCKETMQ' : 'JSON',
    // A bench measures the broker: bodies must reach it as they are, not compressed.
    compressMsgBodyOverHowmuch: Number.MAX_SAFE_INTEGER,
    retryTimesWhenSendFailed: 0,
  });
  await producer.start();
  const msg: Message = { topic: o.topic, body: Buffer.alloc(o.size, 0x61), tags: 'bench' };
  const rep = new BenchReporter('bench producer', o.out);
  const deadline = o.durationSec !== undefined ? performance.now() + o.durationSec * 1000 : Infinity;
  const limit = o.count ?? Infinity;
  let started = 0;
  let firstError = true;
  const gapMs = o.rate ? 1000 / o.rate : 0;
  let nextAt = performance.now();
  const pacer = new Pacer();

  const worker = async (): Promise<void> => {
    while (started < limit && performance.now() < deadline) {
      started++;
      if (gapMs > 0) {
        const at = nextAt;
        nextAt += gapMs;
        const slot = pacer.until(at);
        if (slot !== undefined) {
          await slot;
          if (performance.now() >= deadline) break;
        }
      }
      const t0 = performance.now();
      try {
        await producer.send(msg);
        rep.ok(performance.now() - t0);
      } catch (err) {
        rep.fail();
        if (firstError) {
          firstError = false;
          o.err(`bench producer: send failed: ${(err as Error).message}\n`);
        }
      }
    }
  };
  const timer = setInterval(() => rep.tick(), o.intervalSec * 1000);
  try {
    await Promise.all(Array.from({ length: o.window }, worker));
  } finally {
    clearInterval(timer);
    await producer.shutdown();
  }
  rep.summary();
  return rep;
}
