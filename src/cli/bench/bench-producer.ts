// `apogee bench producer`: keeps a window of synchronous sends in flight (the next message goes
// when one is answered), optionally paced to a target rate, and reports send TPS and send latency.
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
  let inflight = 0;
  let stopped = false;
  let firstError = true;
  const gapMs = o.rate ? 1000 / o.rate : 0;
  let nextAt = performance.now();
  let wake: NodeJS.Timeout | undefined;
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => (finished = resolve));

  const onSent = (t0: number): void => {
    rep.ok(performance.now() - t0);
    inflight--;
    pump();
  };
  const onFailed = (err: unknown): void => {
    rep.fail();
    if (firstError) {
      firstError = false;
      o.err(`bench producer: send failed: ${(err as Error).message}\n`);
    }
    inflight--;
    pump();
  };
  const onTimer = (): void => {
    wake = undefined;
    pump();
  };
  // Starts every send that is due while fewer than --window are in flight (as --window workers
  // each sending their next message once the last is answered, paced by a shared slot clock: a
  // slot less than 1 ms ahead is sent at once, a later one waits for a timer). One pending timer
  // for the whole window: a timer and a promise chain per send were a visible share of the tool's
  // CPU at 20k msg/s (issue 17). The send latency is still taken from just before each send.
  function pump(): void {
    while (!stopped && inflight < o.window && started < limit) {
      const now = performance.now();
      if (now >= deadline) {
        stopped = true;
        break;
      }
      if (gapMs > 0) {
        if (nextAt - now >= 1) {
          wake ??= setTimeout(onTimer, Math.min(nextAt, deadline) - now);
          return;
        }
        nextAt += gapMs;
      }
      started++;
      inflight++;
      producer.send(msg).then(() => onSent(now), onFailed);
    }
    if (inflight === 0 && (stopped || started >= limit)) {
      if (wake !== undefined) clearTimeout(wake);
      finished();
    }
  }
  const timer = setInterval(() => rep.tick(), o.intervalSec * 1000);
  try {
    pump();
    await allDone;
  } finally {
    clearInterval(timer);
    await producer.shutdown();
  }
  rep.summary();
  return rep;
}
