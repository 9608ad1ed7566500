// How much of the broker's CPU per gRPC SendMessage is grpc-js and Node's HTTP/2 (issue 17): the
// same plain grpc-js client sends --count one-message SendMessage calls with --window in flight to
// (a) constant-server.ts, which answers a constant and stores nothing, and (b) a fresh `apogee
// standalone` that stores every message. Server CPU (user + system from /proc) per call for each,
// alternating per round; the difference is what the broker's own path (conversion, checks, store,
// hooks, trace) adds to the floor that any grpc-js server pays per unary call.
//   node --import tsx bench/grpc/grpc-floor-bench.ts [--rounds 3] [--count 20000] [--window 64]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequest, RemotingClient, RequestCode } from '../../src/remoting/index.js';
import { benchArgs } from '../helpers/args.js';
import { benchMessages, grpcLoadClient } from '../helpers/grpc-load-client.js';
import { spawnBenchBroker } from '../helpers/spawn-broker.js';

const args = benchArgs();
const ROUNDS = args.num('rounds', 3);
const COUNT = args.num('count', 20_000);
const WINDOW = args.num('window', 64);
if (!(ROUNDS >= 1 && ROUNDS <= 20 && COUNT >= 1000 && COUNT <= 1_000_000 && WINDOW >= 1 && WINDOW <= 1024)) throw new Error('--rounds in [1, 20], --count in [1000, 1e6], --window in [1, 1024]');
const TOPIC = 'FloorTopic';
const body = Buffer.alloc(1024, 7);

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

async function startConstant(): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/grpc/constant-server.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('constant server did not start within 30 s')), 30_000);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`constant server exited with ${code}`)));
  });
  return { child, address: `127.0.0.1:${port}` };
}

/** Server CPU µs per call over COUNT calls after 2,000 of warm-up. */
async function drive(address: string, pid: number): Promise<{ us: number; rate: number }> {
  const c = grpcLoadClient(address, 1 << 20);
  try {
    const run = async (n: number): Promise<void> => {
      let left = n;
      await Promise.all(
        Array.from({ length: WINDOW }, async () => {
          while (left > 0) {
            left--;
            const r = await c.unary('SendMessage', { messages: benchMessages(TOPIC, 1, body) });
            if (r.status?.code !== 20000) throw new Error(`SendMessage answered ${JSON.stringify(r.status)}`);
          }
        }),
      );
    };
    await run(2000);
    const c0 = cpuMs(pid);
    const t0 = performance.now();
    await run(COUNT);
    const ms = performance.now() - t0;
    return { us: ((cpuMs(pid) - c0) * 1000) / COUNT, rate: (COUNT * 1000) / ms };
  } finally {
    c.close();
  }
}

async function constantOnce(): Promise<{ us: number; rate: number }> {
  const s = await startConstant();
  try {
    return await drive(s.address, s.child.pid!);
  } finally {
    s.child.kill('SIGTERM');
    await new Promise((r) => s.child.once('exit', r));
  }
}

async function brokerOnce(): Promise<{ us: number; rate: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'grpc-floor-'));
  const b = await spawnBenchBroker(dir);
  try {
    const rc = new RemotingClient();
    const r = await rc.invoke(b.broker, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: TOPIC, readQueueNums: 8, writeQueueNums: 8, perm: 6 }));
    await rc.close();
    if (r.code !== 0) throw new Error(`create topic: ${r.remark}`);
    return await drive(b.grpc, b.child.pid!);
  } finally {
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const out: { constant: number[]; broker: number[] } = { constant: [], broker: [] };
console.log(`grpc-floor-bench: ${ROUNDS} rounds of ${COUNT} one-message SendMessage calls, window ${WINDOW}; node ${process.version}`);
for (let i = 0; i < ROUNDS; i++) {
  const order: ('constant' | 'broker')[] = i % 2 === 0 ? ['constant', 'broker'] : ['broker', 'constant'];
  for (const k of order) {
    const r = k === 'constant' ? await constantOnce() : await brokerOnce();
    out[k].push(r.us);
    console.log(`round ${i + 1} ${k}: ${r.us.toFixed(1)} µs server CPU per call, ${Math.round(r.rate)} calls/s; load ${loadavg()[0].toFixed(2)}`);
  }
}
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
console.log(`median: constant server ${med(out.constant).toFixed(1)} µs/call, broker ${med(out.broker).toFixed(1)} µs/call; the broker's own path ${(med(out.broker) - med(out.constant)).toFixed(1)} µs/call`);
process.exit(0);
