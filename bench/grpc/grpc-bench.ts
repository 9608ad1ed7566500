// gRPC end-to-end benchmark with the real 5.x client (rocketmq-client-nodejs): the broker runs as
// its own process (`apogee standalone`, compiled build when present), this process drives it.
// Reports, for 1 KiB bodies: send msg/s at a fixed in-flight window, receive+ack msg/s draining the
// backlog with SimpleConsumers, and send latency percentiles at a fixed rate (default 5k msg/s).
// Bounded by count and time; the data directory is a temp dir removed at the end.
// Run: node --import tsx bench/grpc/grpc-bench.ts [--seconds 8] [--window 256] [--rate 5000] [--consumers 4]
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import { createRequest, RemotingClient, RequestCode } from '../../src/remoting/index.js';
import { spawnBenchBroker } from '../helpers/spawn-broker.js';
import { benchArgs } from '../helpers/args.js';

const args = benchArgs();
const opt = args.num;
const SECONDS = opt('seconds', 8);
const WINDOW = opt('window', 256);
const RATE = opt('rate', 5000);
const CONSUMERS = opt('consumers', 4);
const TOPIC = 'GrpcBenchTopic';
const GROUP = 'GrpcBenchGroup';
const body = Buffer.alloc(1024, 7);

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}


async function sendPhase(producer: Producer, seconds: number, window: number): Promise<{ n: number; ms: number; lat: number[] }> {
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  const lat: number[] = [];
  let n = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (performance.now() < until) {
        const s = performance.now();
        await producer.send({ topic: TOPIC, tag: 'bench', body } as never);
        lat.push(performance.now() - s);
        n++;
      }
    }),
  );
  return { n, ms: performance.now() - t0, lat };
}

/** Sends at a fixed rate (a tick every 10 ms releases rate/100 sends) and records each latency. */
async function ratePhase(producer: Producer, seconds: number, rate: number): Promise<{ n: number; lat: number[]; failed: number }> {
  const lat: number[] = [];
  let n = 0;
  let failed = 0;
  const perTick = Math.max(1, Math.round(rate / 100));
  const pending: Promise<void>[] = [];
  const ticks = seconds * 100;
  const t0 = performance.now();
  for (let i = 0; i < ticks; i++) {
    for (let j = 0; j < perTick; j++) {
      const s = performance.now();
      pending.push(
        producer.send({ topic: TOPIC, tag: 'rate', body } as never).then(
          () => {
            lat.push(performance.now() - s);
            n++;
          },
          () => {
            failed++;
          },
        ),
      );
    }
    const next = t0 + (i + 1) * 10;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await Promise.all(pending);
  return { n, lat, failed };
}

async function receivePhase(endpoints: string, total: number, seconds: number): Promise<{ n: number; distinct: number; ms: number }> {
  const consumers = await Promise.all(
    Array.from({ length: CONSUMERS }, async () => {
      const c = new SimpleConsumer({ endpoints, consumerGroup: GROUP, subscriptions: new Map([[TOPIC, '*']]), awaitDuration: 2000, logger: quiet } as never);
      await c.startup();
      return c;
    }),
  );
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  let n = 0;
  // Distinct ids tell a redelivery apart from a new message.
  const ids = new Set<string>();
  await Promise.all(
    consumers.map(async (c) => {
      while (n < total && performance.now() < until) {
        const msgs = await c.receive(32, 30_000);
        await Promise.all(msgs.map((m) => c.ack(m)));
        n += msgs.length;
        for (const m of msgs) ids.add((m as { messageId: string }).messageId);
      }
    }),
  );
  const ms = performance.now() - t0;
  await Promise.all(consumers.map((c) => c.shutdown()));
  return { n, distinct: ids.size, ms };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'apogee-grpc-bench-'));
  const b = await spawnBenchBroker(dir);
  try {
    const rc = new RemotingClient();
    const created = await rc.invoke(b.broker, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: TOPIC, readQueueNums: 8, writeQueueNums: 8, perm: 6 }));
    if (created.code !== 0) throw new Error(`create topic failed: ${created.remark}`);
    await rc.close();
    const producer = new Producer({ endpoints: b.grpc, topics: [TOPIC], logger: quiet } as never);
    await producer.startup();
    const warm = await sendPhase(producer, 1, 32); // warm-up, not timed; its messages are part of the backlog
    const s = await sendPhase(producer, SECONDS, WINDOW);
    s.lat.sort((x, y) => x - y);
    const r = await ratePhase(producer, SECONDS, RATE);
    r.lat.sort((x, y) => x - y);
    await producer.shutdown();
    const backlog = warm.n + s.n + r.n;
    const c = await receivePhase(b.grpc, backlog, Math.max(SECONDS * 3, 30));
    const fmt = (x: number): string => x.toFixed(2);
    console.log(`machine: ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
    console.log(`send (window ${WINDOW}): ${Math.round((s.n / s.ms) * 1000)} msg/s, p50 ${fmt(percentile(s.lat, 50))} ms, p99 ${fmt(percentile(s.lat, 99))} ms`);
    console.log(
      `send at ${RATE} msg/s for ${SECONDS} s: ${r.n} ok, ${r.failed} failed, p50 ${fmt(percentile(r.lat, 50))} ms, p99 ${fmt(percentile(r.lat, 99))} ms, p999 ${fmt(percentile(r.lat, 99.9))} ms`,
    );
    console.log(`receive+ack (${CONSUMERS} SimpleConsumers, batch 32): ${Math.round((c.n / c.ms) * 1000)} msg/s (${c.n} received, ${c.distinct} distinct ids, of ${backlog} sends acknowledged, in ${Math.round(c.ms)} ms)`);
  } finally {
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
