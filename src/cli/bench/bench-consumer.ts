// `apogee bench consumer`: a push consumer from the first offset (so a backlog is read as fast
// as the broker serves it); latency is born-to-consume (producer clock = this machine's).
import { setTimeout as sleep } from 'node:timers/promises';
import { PushConsumer, type MessageExt } from '../../client/index.js';
import { BenchReporter, type BenchStop } from './bench-report.js';

export interface ConsumerBenchOptions extends BenchStop {
  namesrvAddr: string;
  topic: string;
  group: string;
  headers: 'json' | 'binary';
  intervalSec: number;
  /** Messages per pull and per handler call. */
  pullBatchSize: number;
  out(line: string): void;
  err(line: string): void;
}

export async function runConsumerBench(o: ConsumerBenchOptions): Promise<BenchReporter> {
  const rep = new BenchReporter('bench consumer', o.out);
  const limit = o.count ?? Infinity;
  let reached!: () => void;
  const countReached = new Promise<void>((r) => (reached = r));
  const consumer = new PushConsumer({
    namesrvAddr: o.namesrvAddr,
    consumerGroup: o.group,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    serializeType: o.headers === 'binary' ? 'ROCKETMQ' : 'JSON',
    pullBatchSize: o.pullBatchSize,
    consumeMessageBatchMaxSize: o.pullBatchSize,
    handler: (msgs: MessageExt[]) => {
      const now = Date.now();
      for (let i = 0; i < msgs.length; i++) rep.ok(now - msgs[i].bornTimestamp);
      if (rep.done >= limit) reached();
      return 'SUCCESS';
    },
  });
  consumer.subscribe(o.topic, '*');
  await consumer.start();
  const timer = setInterval(() => rep.tick(), o.intervalSec * 1000);
  const ac = new AbortController();
  try {
    const waits: Promise<unknown>[] = [countReached];
    if (o.durationSec !== undefined) waits.push(sleep(o.durationSec * 1000, undefined, { signal: ac.signal }).catch(() => undefined));
    await Promise.race(waits);
  } finally {
    ac.abort();
    clearInterval(timer);
    await consumer.shutdown();
  }
  rep.summary();
  return rep;
}
