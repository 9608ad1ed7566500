// How much of the broker's CPU per gRPC SendMessage is grpc-js and Node's HTTP/2 (issue 17): the
// same plain grpc-js client sends one-message SendMessage calls with --window in flight to
// constant-server.ts, which answers a constant and stores nothing, in several variants, and to a
// fresh `apogee standalone` that stores every message. The figure is each server's CPU (user +
// system from /proc) per call: differences are what a piece of the endpoint, or the broker's own
// path, adds to the floor that any grpc-js server pays per unary call.
// --variants: constant-server.ts's `--with` features "+"-joined ("bare" for none), "http2" (a bare
// node:http2 server, no grpc-js) or "broker". All servers run at once and are driven one at a time
// in chunks of --chunk calls, the order rotating per chunk: on a machine whose load changes from
// second to second, every variant sees the same mix of it (runs of whole variants one after
// another did not: 20-40 % apart between rounds at load 8-13).
// --base DIR adds the variant "base": the broker of another checkout (e.g. `git archive` of an older
// commit with node_modules linked), for a before/after in one run.
// --client-md sends what rocketmq-client-nodejs sends with each call (its seven x-mq-* headers and
// a deadline) instead of the client id alone.
//   node --import tsx bench/grpc/grpc-floor-bench.ts [--rounds 3] [--count 20000] [--chunk 1000]
//     [--window 64] [--variants bare,broker] [--client-md] [--base DIR]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequest, RemotingClient, RequestCode } from '../../src/remoting/index.js';
import { benchArgs } from '../helpers/args.js';
import { benchMessages, grpcLoadClient, type GrpcLoadClient } from '../helpers/grpc-load-client.js';
import { spawnBenchBroker } from '../helpers/spawn-broker.js';

const args = benchArgs();
const ROUNDS = args.num('rounds', 3);
const COUNT = args.num('count', 20_000);
const CHUNK = args.num('chunk', 1000);
const CLIENT_MD = args.flag('client-md');
const bi = process.argv.indexOf('--base');
const BASE = bi >= 0 ? process.argv[bi + 1] : undefined;
const HERE = process.cwd();
const WINDOW = args.num('window', 64);
if (!(ROUNDS >= 1 && ROUNDS <= 20 && COUNT >= 1000 && COUNT <= 1_000_000 && WINDOW >= 1 && WINDOW <= 1024 && CHUNK >= WINDOW && CHUNK <= COUNT)) {
  throw new Error('--rounds in [1, 20], --count in [1000, 1e6], --window in [1, 1024], --chunk in [window, count]');
}
const vi = process.argv.indexOf('--variants');
const VARIANTS = (vi >= 0 ? process.argv[vi + 1] : 'bare,broker').split(',').filter(Boolean);
if (VARIANTS.length === 0 || VARIANTS.length > 16) throw new Error('--variants: 1 to 16 names');
const TOPIC = 'FloorTopic';
const body = Buffer.alloc(1024, 7);

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

async function startConstant(variant: string): Promise<{ child: ChildProcess; address: string }> {
  const script = variant === 'http2' ? ['bench/grpc/http2-constant-server.ts'] : ['bench/grpc/constant-server.ts', '--with', variant === 'bare' ? '' : variant.replaceAll('+', ',')];
  const child = spawn(process.execPath, ['--import', 'tsx', ...script], { stdio: ['ignore', 'pipe', 'inherit'] });
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

interface Target {
  name: string;
  pid: number;
  client: GrpcLoadClient;
  stop(): Promise<void>;
  cpuMs: number;
  calls: number;
  /** µs per call of each round. */
  rounds: number[];
}

async function calls(t: Target, n: number): Promise<void> {
  let left = n;
  await Promise.all(
    Array.from({ length: Math.min(WINDOW, n) }, async () => {
      while (left > 0) {
        left--;
        const r = await t.client.unary('SendMessage', { messages: benchMessages(TOPIC, 1, body) });
        if (r.status?.code !== 20000) throw new Error(`${t.name}: SendMessage answered ${JSON.stringify(r.status)}`);
      }
    }),
  );
}

async function startTarget(name: string): Promise<Target> {
  const client = (address: string): GrpcLoadClient => grpcLoadClient(address, 1 << 20, CLIENT_MD ? { like5x: true } : undefined);
  if (name === 'broker' || name === 'base') {
    if (name === 'base' && BASE === undefined) throw new Error('variant base needs --base DIR');
    const dir = mkdtempSync(join(tmpdir(), 'grpc-floor-'));
    // The bench brokers start from ./bin/apogee.js: the base checkout's while it is the cwd.
    if (name === 'base') process.chdir(BASE!);
    const b = await spawnBenchBroker(dir).finally(() => process.chdir(HERE));
    const rc = new RemotingClient();
    const r = await rc.invoke(b.broker, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: TOPIC, readQueueNums: 8, writeQueueNums: 8, perm: 6 }));
    await rc.close();
    if (r.code !== 0) throw new Error(`create topic: ${r.remark}`);
    const c = client(b.grpc);
    const stop = async (): Promise<void> => {
      c.close();
      await b.stop();
      rmSync(dir, { recursive: true, force: true });
    };
    return { name, pid: b.child.pid!, client: c, stop, cpuMs: 0, calls: 0, rounds: [] };
  }
  const s = await startConstant(name);
  const c = client(s.address);
  const stop = async (): Promise<void> => {
    c.close();
    s.child.kill('SIGTERM');
    await new Promise((r) => s.child.once('exit', r));
  };
  return { name, pid: s.child.pid!, client: c, stop, cpuMs: 0, calls: 0, rounds: [] };
}

const targets: Target[] = [];
console.log(
  `grpc-floor-bench: ${ROUNDS} rounds of ${COUNT} one-message SendMessage calls per variant in chunks of ${CHUNK}, window ${WINDOW}` +
    `${CLIENT_MD ? ', 5.x client metadata' : ''}; variants ${VARIANTS.join(', ')}; node ${process.version}; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
);
try {
  for (const v of VARIANTS) targets.push(await startTarget(v));
  for (const t of targets) await calls(t, 2000);
  const chunks = Math.ceil(COUNT / CHUNK);
  for (let r = 0; r < ROUNDS; r++) {
    const cpu0 = targets.map((t) => t.cpuMs);
    const n0 = targets.map((t) => t.calls);
    for (let c = 0; c < chunks; c++) {
      const k = r * chunks + c;
      for (let j = 0; j < targets.length; j++) {
        const t = targets[(k + j) % targets.length];
        const n = Math.min(CHUNK, COUNT - c * CHUNK);
        const before = cpuMs(t.pid);
        await calls(t, n);
        t.cpuMs += cpuMs(t.pid) - before;
        t.calls += n;
      }
    }
    targets.forEach((t, i) => t.rounds.push(((t.cpuMs - cpu0[i]) * 1000) / (t.calls - n0[i])));
    console.log(`round ${r + 1}: ${targets.map((t) => `${t.name} ${t.rounds[r].toFixed(1)}`).join(', ')} µs/call; load ${loadavg()[0].toFixed(2)}`);
  }
} finally {
  for (const t of targets) await t.stop();
}
const base = targets[0];
const all = (t: Target): number => (t.cpuMs * 1000) / t.calls;
console.log(`\n| variant | server CPU µs per call (all rounds) | per round | vs ${base.name} |`);
console.log('| --- | --: | --- | --: |');
for (const t of targets) {
  const d = all(t) - all(base);
  console.log(`| ${t.name} | ${all(t).toFixed(1)} | ${t.rounds.map((x) => x.toFixed(0)).join(' / ')} | ${d >= 0 ? '+' : ''}${d.toFixed(1)} |`);
}
console.log(`load at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
process.exit(0);
