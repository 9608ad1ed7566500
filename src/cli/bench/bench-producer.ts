// `apogee bench producer`: keeps a window of synchronous sends in flight (each worker sends
// its next message when its last one is answered), optionally paced to a target rate, and
// reports send TPS and send latency.
import { setTimeout as sleep } from 'node:timers/promises';
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

  const worker = async (): Promise<void> => {
    while (started < limit && performance.now() < deadline) {
      started++;
      if (gapMs > 0) {
        const at = nextAt;
        nextAt += gapMs;
        const wait = at - performance.now();
        if (wait >= 1) await sleep(wait);
        if (performance.now() >= deadline) break;
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
