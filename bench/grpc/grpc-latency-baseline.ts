// Send latency at a fixed rate against constant-server.ts (answers without storing), driven exactly
// like the fixed-rate phase of grpc-batch-bench.ts: the share of the broker's latency tail that
// belongs to grpc-js and Node's HTTP/2 rather than to the broker. One warm-up run, one measured.
// Run: node --import tsx bench/grpc/grpc-latency-baseline.ts [--rate 5000] [--rate-seconds 5]
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { startCpuMeter } from '../helpers/cpu-meter.js';
import { latencyLine, runAtFixedRate } from '../helpers/fixed-rate.js';
import { benchMessages, grpcLoadClient } from '../helpers/grpc-load-client.js';
import { benchArgs } from '../helpers/args.js';

const args = benchArgs();
const opt = args.num;
const RATE = opt('rate', 5000);
const RATE_SECONDS = opt('rate-seconds', 5);
const body = Buffer.alloc(1024, 7);

const child = spawn(process.execPath, ['--import', 'tsx', 'bench/grpc/constant-server.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<string>((resolve, reject) => {
  const t = setTimeout(() => reject(new Error('constant server did not start within 30 s')), 30_000);
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /ready (\d+)/.exec(out);
    if (m) {
      clearTimeout(t);
      resolve(m[1]);
    }
  });
  child.on('exit', (code) => reject(new Error(`constant server exited with ${code}`)));
});
const c = grpcLoadClient(`127.0.0.1:${port}`, 1 << 20);
try {
  const send = async (): Promise<boolean> => (await c.unary('SendMessage', { messages: benchMessages('T', 1, body) })).status?.code === 20000;
  await runAtFixedRate(RATE, RATE_SECONDS, send);
  const cpu = startCpuMeter(child.pid);
  const r = await runAtFixedRate(RATE, RATE_SECONDS, send);
  console.log(`machine: ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
  console.log(`constant-answer server, send at ${RATE} msg/s, one message per SendMessage: ${latencyLine(r)} (${cpu.report().replace('broker', 'server')})`);
} finally {
  c.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}
process.exit(0);
