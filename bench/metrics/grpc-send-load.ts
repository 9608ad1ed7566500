// The gRPC scenario's load process for metrics-bench.ts: the real 5.x client (rocketmq-client-nodejs)
// sending 1 KiB messages with `--window` sends in flight for `--seconds`, after a 1 s warm-up. Runs
// as its own process so that the bench process, which reads the broker's CPU, is not the load.
// Prints one line: "summary: ok=N failed=N elapsed=S tps=N p50=MS p99=MS p999=MS".
//   node --import tsx bench/metrics/grpc-send-load.ts --endpoints 127.0.0.1:PORT --topic T [--seconds 10] [--window 64]
import { Producer } from 'rocketmq-client-nodejs';

function opt(name: string, def?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : def;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
}

const endpoints = opt('endpoints');
const topic = opt('topic');
const seconds = Number(opt('seconds', '10'));
const window = Number(opt('window', '64'));
if (!(seconds > 0 && seconds <= 600 && window >= 1 && window <= 4096)) throw new Error('--seconds in (0, 600], --window in [1, 4096]');
const body = Buffer.alloc(1024, 7);
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

async function load(producer: Producer, ms: number, lat: number[] | undefined): Promise<{ ok: number; failed: number; ms: number }> {
  const t0 = performance.now();
  const until = t0 + ms;
  let ok = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (performance.now() < until) {
        const s = performance.now();
        try {
          await producer.send({ topic, tag: 'bench', body } as never);
          lat?.push(performance.now() - s);
          ok++;
        } catch {
          failed++;
          // A refused or timed-out send is counted, not retried; a pause keeps a broken broker from spinning us.
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    }),
  );
  return { ok, failed, ms: performance.now() - t0 };
}

const pct = (sorted: number[], p: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

const producer = new Producer({ endpoints, topics: [topic], logger: quiet } as never);
await producer.startup();
await load(producer, 1000, undefined);
const lat: number[] = [];
const r = await load(producer, seconds * 1000, lat);
await producer.shutdown();
lat.sort((a, b) => a - b);
console.log(
  `summary: ok=${r.ok} failed=${r.failed} elapsed=${(r.ms / 1000).toFixed(2)}s tps=${Math.round((r.ok / r.ms) * 1000)} ` +
    `p50=${pct(lat, 50).toFixed(2)} p99=${pct(lat, 99).toFixed(2)} p999=${pct(lat, 99.9).toFixed(2)}`,
);
process.exit(0);
