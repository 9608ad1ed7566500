// JS heap the project's own client tools allocate per message, by allocating function (issue 17:
// the producer's and the consumer's CPU per message). `apogee bench producer` (paced, binary
// headers, window 256) and then `apogee bench consumer` run in this process, from this checkout or
// from --client-base DIR, against a broker given by -n (start one with `apogee standalone`; create
// the topic with 8 queues), while V8's sampling heap profiler records every sampled allocation,
// collected ones included. Allocation per message does not depend on the machine's load, so a
// before/after holds on a busy box, where CPU figures do not.
//
//   node --import tsx bench/latency/client-alloc.ts -n NAMESRV -t TOPIC [--count 100000]
//     [--warmup 20000] [--rate 20000] [--client-base DIR] [--top 25]
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../ha/procs.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}
const NAMESRV = arg('-n', '');
const TOPIC = arg('-t', '');
const COUNT = Number(arg('--count', '100000'));
const WARMUP = Number(arg('--warmup', '20000'));
const RATE = Number(arg('--rate', '20000'));
const TOP = Number(arg('--top', '25'));
const TREE = resolve(arg('--client-base', ROOT));
if (!NAMESRV || !TOPIC || !(COUNT >= 1000 && COUNT <= 2_000_000 && WARMUP >= 0 && RATE >= 1 && TOP >= 1)) {
  throw new Error('usage: -n NAMESRV -t TOPIC [--count 1000..2000000] [--warmup N] [--rate R] [--client-base DIR] [--top N]');
}

interface ProfileNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: ProfileNode[];
}
type Out = { summary(): void; total: { count: number } };
const prod = (await import(pathToFileURL(join(TREE, 'src/cli/bench/bench-producer.ts')).href)) as {
  runProducerBench(o: Record<string, unknown>): Promise<Out>;
};
const cons = (await import(pathToFileURL(join(TREE, 'src/cli/bench/bench-consumer.ts')).href)) as {
  runConsumerBench(o: Record<string, unknown>): Promise<Out>;
};
const quiet = (): void => undefined;
const common = { namesrvAddr: NAMESRV, topic: TOPIC, headers: 'binary', intervalSec: 3600, out: quiet, err: (l: string) => process.stderr.write(l) };
// Bounded by count, and by time: a broker that stops answering ends the run.
const sendFor = (count: number): Promise<Out> => prod.runProducerBench({ ...common, size: 1024, window: 256, rate: RATE, count, durationSec: (count / RATE) * 3 + 30 });
const consumeFor = (count: number, group: string): Promise<Out> =>
  cons.runConsumerBench({ ...common, group, pullBatchSize: 32, count, durationSec: 120 });

async function sampled(what: string, run: () => Promise<Out>): Promise<void> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
  const cpu0 = process.cpuUsage();
  const out = await run();
  const cpu = process.cpuUsage(cpu0);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
  session.disconnect();
  const n = out.total.count;
  const byFn = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode): void => {
    const f = node.callFrame;
    const k = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop() ?? ''}`;
    byFn.set(k, (byFn.get(k) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const c of node.children) walk(c);
  };
  walk(profile.head);
  console.log(`\n${what}: ${n} messages, ${(total / n).toFixed(0)} B/msg allocated (sampled), process CPU ${(((cpu.user + cpu.system) / n)).toFixed(1)} µs/msg (profiler on); load ${loadavg()[0].toFixed(2)}`);
  console.log('| B/msg | function (file) |\n| --: | --- |');
  for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`| ${(v / n).toFixed(0)} | ${k} |`);
}

console.log(`client-alloc: tools from ${TREE === ROOT ? 'this checkout' : TREE}; ${COUNT} messages after ${WARMUP} warm-up, ${RATE} msg/s; node ${process.version}`);
const group = `client_alloc_${process.pid}`;
// The group's first consumer reads from the first offset: a warm-up consume, then the sampled one.
if (WARMUP > 0) await sendFor(WARMUP);
await sampled('producer', () => sendFor(COUNT));
if (WARMUP > 0) await consumeFor(WARMUP, group);
await sampled('consumer', () => consumeFor(COUNT, group));
process.exit(0);
