// Broker CPU per message over gRPC (rocketmq-client-nodejs) next to remoting (ali-ons), issue 17.
// Each round starts a fresh `apogee standalone` per system through the bench/peers adapters (the
// clients users run), produces --count 1 KiB messages with --window sends in flight, then consumes
// that backlog from a new group. The broker's CPU (user + system, /proc/<pid>/stat) over each phase
// divided by its messages is the figure: it depends much less on what else the machine runs than
// msg/s does. Systems alternate inside a round and the first one alternates between rounds.
//   node --import tsx bench/grpc/grpc-cpu-bench.ts [--rounds 2] [--count 30000] [--window 256]
//     [--systems apogee-grpc,apogee-async] [--consume-seconds 60] [--base DIR]
// --base DIR: also run each system with the broker of another checkout (its bin/apogee.js, e.g. an
// extracted older commit with node_modules linked), interleaved with this tree's: an A/B in one run.
// BROKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the brokers (bench/helpers/spawn-broker.ts).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PEERS } from '../peers/peers.js';
import { benchArgs } from '../helpers/args.js';

const args = benchArgs();
const ROUNDS = args.num('rounds', 2);
const COUNT = args.num('count', 30_000);
const WINDOW = args.num('window', 256);
const CONSUME_SECONDS = args.num('consume-seconds', 60);
const si = process.argv.indexOf('--systems');
const SYSTEMS = (si >= 0 ? process.argv[si + 1] : 'apogee-grpc,apogee-async').split(',');
for (const s of SYSTEMS) if (!PEERS[s]) throw new Error(`unknown system ${s}`);
const bi = process.argv.indexOf('--base');
const BASE = bi >= 0 ? process.argv[bi + 1] : undefined;
const HERE = process.cwd();
if (!(ROUNDS >= 1 && ROUNDS <= 20 && COUNT >= 1000 && COUNT <= 2_000_000 && WINDOW >= 1 && WINDOW <= 4096 && CONSUME_SECONDS > 0 && CONSUME_SECONDS <= 600)) {
  throw new Error('--rounds in [1, 20], --count in [1000, 2e6], --window in [1, 4096], --consume-seconds in (0, 600]');
}

// ali-ons clients of an earlier run keep reconnecting to its stopped broker and emit errors
// nobody listens to; they are no failure of the run under way.
process.on('uncaughtException', (err: NodeJS.ErrnoException) => {
  if (err.code === 'ECONNREFUSED' || err.code === 'EPIPE' || err.code === 'ECONNRESET') return;
  throw err;
});

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

interface Row {
  system: string;
  produce: number;
  produceUs: number;
  consume: number;
  consumeUs: number;
  consumed: number;
  load: number;
}

async function once(label: string): Promise<Row> {
  const [key, where] = label.split('@');
  const peer = PEERS[key]();
  const dir = mkdtempSync(join(tmpdir(), `grpc-cpu-${key}-`));
  // The bench brokers start from ./bin/apogee.js: the base checkout's while it is the cwd.
  if (where === 'base') process.chdir(BASE!);
  const server = await peer.start(dir).finally(() => process.chdir(HERE));
  try {
    const body = Buffer.alloc(1024, 0x61);
    const warm = await peer.producer('cpu_warm');
    for (let i = 0; i < 2000; i += 100) await Promise.all(Array.from({ length: 100 }, () => warm.send(body)));
    await warm.close();

    const p = await peer.producer('cpu_backlog');
    let sent = 0;
    const s0 = cpuMs(server.pid);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: WINDOW }, async () => {
        while (sent < COUNT) {
          sent++;
          await p.send(body);
        }
      }),
    );
    const produceMs = performance.now() - t0;
    const produceUs = ((cpuMs(server.pid) - s0) * 1000) / COUNT;
    await p.close();

    let got = 0;
    const s1 = cpuMs(server.pid);
    const t1 = performance.now();
    const c = await peer.consumer('cpu_backlog', () => void got++);
    const deadline = t1 + CONSUME_SECONDS * 1000;
    while (got < COUNT && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const consumeMs = performance.now() - t1;
    const consumeUs = got > 0 ? ((cpuMs(server.pid) - s1) * 1000) / got : NaN;
    await c.close();
    return { system: label, produce: (COUNT * 1000) / produceMs, produceUs, consume: (got * 1000) / consumeMs, consumeUs, consumed: got, load: loadavg()[0] };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
console.log(`grpc-cpu-bench: ${SYSTEMS.join(', ')}; ${ROUNDS} rounds of ${COUNT} × 1 KiB, window ${WINDOW}; node ${process.version}`);
const LABELS = BASE ? SYSTEMS.flatMap((s) => [`${s}@base`, s]) : SYSTEMS;
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? LABELS : [...LABELS].reverse();
  for (const key of order) {
    const row = await once(key);
    rows.push(row);
    console.log(
      `round ${r + 1} ${key}: produce ${Math.round(row.produce)} msg/s, broker ${row.produceUs.toFixed(1)} µs/msg; ` +
        `consume ${Math.round(row.consume)} msg/s (${row.consumed} of ${COUNT}), broker ${row.consumeUs.toFixed(1)} µs/msg; load ${row.load.toFixed(2)}`,
    );
  }
}
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log('\n| system | produce msg/s | broker µs per produced msg | consume msg/s | broker µs per consumed msg |');
console.log('| --- | --: | --: | --: | --: |');
for (const key of LABELS) {
  const mine = rows.filter((x) => x.system === key);
  console.log(
    `| ${key} | ${Math.round(median(mine.map((x) => x.produce)))} | ${median(mine.map((x) => x.produceUs)).toFixed(1)} | ` +
      `${Math.round(median(mine.map((x) => x.consume)))} | ${median(mine.map((x) => x.consumeUs)).toFixed(1)} |`,
  );
}
process.exit(0);
