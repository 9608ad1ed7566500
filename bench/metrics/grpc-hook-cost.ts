// What the gRPC call hooks cost per call, in one process: a grpc-js server with one trivial unary
// method behind GrpcHooks' interceptor, called by a grpc-js client over loopback with `--window`
// calls in flight. Three settings in interleaved rounds: no hook (the interceptor hands the call
// through unchanged), the metrics hook (rocketmq_rpc_latency), and a no-op hook with `before` and
// `after` (what any hook costs). The figure is this process's CPU time per call (client and server
// together, so the difference between settings is the hooks' cost); best of the rounds.
//   node --import tsx bench/metrics/grpc-hook-cost.ts [--calls 20000] [--rounds 5] [--window 64]
import * as grpc from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { silentLogger } from '../../src/common/logger.js';
import { grpcRpcHook, RpcMetrics } from '../../src/observability/metrics/index.js';
import { GrpcHooks, type GrpcHook } from '../../src/proxy/index.js';
import { benchArgs } from '../helpers/args.js';

const args = benchArgs();
const CALLS = args.num('calls', 20_000);
const ROUNDS = args.num('rounds', 5);
const WINDOW = args.num('window', 64);
if (!(CALLS >= 100 && CALLS <= 1_000_000 && ROUNDS >= 1 && ROUNDS <= 50 && WINDOW >= 1 && WINDOW <= 1024)) throw new Error('--calls 100..1e6, --rounds 1..50, --window 1..1024');

const ident = (b: Buffer): Buffer => b;
const PATH = '/bench.Hooks/Call';
const definition: grpc.ServiceDefinition = {
  Call: { path: PATH, requestStream: false, responseStream: false, requestSerialize: ident, requestDeserialize: ident, responseSerialize: ident, responseDeserialize: ident },
};

const SETTINGS: [string, () => GrpcHook | undefined][] = [
  ['no hook', () => undefined],
  ['metrics hook (rocketmq_rpc_latency)', () => grpcRpcHook(new RpcMetrics(new Registry()), () => 'unknown')],
  ['no-op hook with before and after', () => ({ before: () => undefined, after: () => undefined })],
];

async function measure(hook: GrpcHook | undefined): Promise<number> {
  const hooks = new GrpcHooks(silentLogger);
  if (hook) hooks.add(hook);
  const server = new grpc.Server({ interceptors: [hooks.interceptor()] });
  const answer = Buffer.from('ok');
  server.addService(definition, { Call: (_c: unknown, cb: grpc.sendUnaryData<Buffer>) => cb(null, answer) });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const body = Buffer.alloc(1024, 7);
  const call = (): Promise<void> => new Promise((resolve, reject) => client.makeUnaryRequest(PATH, ident, ident, body, (e) => (e ? reject(e) : resolve())));
  try {
    // Warm-up: connection, JIT.
    for (let i = 0; i < 2000; i += WINDOW) await Promise.all(Array.from({ length: WINDOW }, call));
    const c0 = process.cpuUsage();
    let left = CALLS;
    await Promise.all(
      Array.from({ length: WINDOW }, async () => {
        while (left > 0) {
          left--;
          await call();
        }
      }),
    );
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / CALLS;
  } finally {
    client.close();
    server.forceShutdown();
  }
}

const best = SETTINGS.map(() => Infinity);
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < SETTINGS.length; i++) {
    const k = (i + r) % SETTINGS.length;
    best[k] = Math.min(best[k], await measure(SETTINGS[k][1]()));
  }
}
for (let i = 0; i < SETTINGS.length; i++) {
  console.log(`${SETTINGS[i][0].padEnd(40)} ${best[i].toFixed(1).padStart(6)} µs CPU per call${i > 0 ? ` (+${(best[i] - best[0]).toFixed(1)} µs)` : ''}`);
}
