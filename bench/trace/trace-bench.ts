// Broker-side trace cost (issue 13): send throughput and p99 of a standalone broker with
// `traceBrokerEnable=true` (the default) against `false`. Every run starts a fresh `apogee
// standalone` on a new directory, creates an 8-queue topic, warms up with 5,000 sends, then:
// - send: `apogee bench producer` (1 KiB, `--window` in flight) for `--duration` s;
// - send+consume: the same producer while `apogee bench consumer` reads the topic from its first
//   offset, so deliveries and offset commits are traced too (the producer's figures are reported).
// Settings alternate within a round and the first one alternates between rounds (on off, off on,
// ...), so a drift in the machine's load spreads over both; medians and the median of per-round
// ratios are reported. A run with trace on checks that the trace topic received records; one with
// trace off that it received none.
//
//   node --import tsx bench/trace/trace-bench.ts [--rounds 3] [--duration 10] [--window 64]
//     [--phases send,consume] [--dir DIR] [--json FILE]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { cpuMs, runTool, startRole, type Role } from '../ha/procs.js';

// The brokers and load tools run from the sources: a dist/ left from an older build would measure old code.
process.env.APOGEE_FROM_SOURCE = '1';

const TOPIC = 'TraceBenchTopic';
const QUEUES = 8;
const SIZE = 1024;
const PHASES = ['send', 'consume'] as const;
type PhaseName = (typeof PHASES)[number];

interface Args {
  rounds: number;
  duration: number;
  window: number;
  phases: PhaseName[];
  dir: string;
  json?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { rounds: 3, duration: 10, window: 64, phases: [...PHASES], dir: tmpdir() };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1] ?? '';
    switch (argv[i]) {
      case '--rounds':
        a.rounds = Number(v);
        break;
      case '--duration':
        a.duration = Number(v);
        break;
      case '--window':
        a.window = Number(v);
        break;
      case '--phases':
        a.phases = v.split(',') as PhaseName[];
        break;
      case '--dir':
        a.dir = v;
        break;
      case '--json':
        a.json = v;
        break;
      default:
        throw new Error(`unknown option ${argv[i]}`);
    }
  }
  for (const p of a.phases) if (!PHASES.includes(p)) throw new Error(`unknown phase ${p}; phases: ${PHASES.join(', ')}`);
  if (!(a.rounds >= 1 && a.rounds <= 50 && a.duration > 0 && a.duration <= 300 && a.window >= 1)) throw new Error('--rounds 1..50, --duration 1..300 s, --window ≥ 1');
  return a;
}

interface Phase {
  tps: number;
  p50: number;
  p99: number;
  ok: number;
  failed: number;
  /** Broker CPU (user + system) per message sent, µs. */
  cpuUs: number;
  load: number;
}

interface RunResult {
  trace: boolean;
  phases: Partial<Record<PhaseName, Phase>>;
  /** Trace messages (batches) the broker wrote during the run. */
  traceMessages: number;
}

function parseSummary(out: string): Pick<Phase, 'tps' | 'p50' | 'p99' | 'ok' | 'failed'> {
  const line = out.split('\n').find((l) => l.includes('summary:'));
  if (!line) throw new Error(`no summary line in the load output:\n${out.slice(-2000)}`);
  const num = (k: string): number => Number(new RegExp(`${k}=([\\d.]+)`).exec(line)?.[1] ?? NaN);
  return { ok: num('ok'), failed: num('failed'), tps: num('tps'), p50: num('p50'), p99: num('p99') };
}

const rc = new RemotingClient();

async function maxOffset(addr: string, topic: string): Promise<number> {
  const r = await rc.invoke(addr, createRequest(RequestCode.GET_MAX_OFFSET, { topic, queueId: 0 }));
  if (r.code !== ResponseCode.SUCCESS) throw new Error(`GET_MAX_OFFSET ${topic}: ${r.code} ${r.remark ?? ''}`);
  return Number(r.extFields?.offset ?? NaN);
}

async function run(trace: boolean, a: Args): Promise<RunResult> {
  const dir = mkdtempSync(join(a.dir, 'apogee-trace-bench-'));
  let broker: Role | undefined;
  try {
    broker = await startRole([
      'standalone', '--namesrvPort=0', '--listenPort=0', '--grpcServerPort=0', '--httpPort=0', '--host=127.0.0.1', '--brokerIP1=127.0.0.1',
      '--storePathRootDir', dir, '--logLevel=warn', '--flushDiskType=ASYNC_FLUSH', `--traceBrokerEnable=${trace}`,
    ]);
    const { namesrv, broker: addr } = broker.addrs;
    const created = await rc.invoke(addr, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: TOPIC, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 }));
    if (created.code !== ResponseCode.SUCCESS) throw new Error(`create topic: ${created.code} ${created.remark ?? ''}`);
    const limit = (a.duration + 60) * 1000;
    const producer = (extra: string[]) =>
      runTool(['bench', 'producer', '-n', namesrv, '-t', TOPIC, '-s', String(SIZE), '-w', String(a.window), '--headers', 'binary', '--interval', '5', ...extra], limit);
    const warm = await producer(['--count', '5000']);
    if (warm.code !== 0) throw new Error(`warm-up exited with ${warm.code}:\n${warm.stderr.slice(-2000)}`);
    const before = await maxOffset(addr, 'RMQ_SYS_TRACE_TOPIC');
    const r: RunResult = { trace, phases: {}, traceMessages: 0 };
    for (const p of a.phases) {
      const pid = broker.child.pid;
      const cpu0 = cpuMs(pid);
      const loads: Promise<{ code: number | null; stdout: string; stderr: string }>[] = [producer(['--duration', String(a.duration)])];
      if (p === 'consume') loads.push(runTool(['bench', 'consumer', '-n', namesrv, '-t', TOPIC, '-g', 'trace_bench_cg', '--duration', String(a.duration), '--interval', '5'], limit));
      const [sent, consumed] = await Promise.all(loads);
      const cpu1 = cpuMs(pid);
      if (sent.code !== 0) throw new Error(`producer exited with ${sent.code}:\n${sent.stderr.slice(-2000)}`);
      if (consumed && consumed.code !== 0) throw new Error(`consumer exited with ${consumed.code}:\n${consumed.stderr.slice(-2000)}`);
      const s = parseSummary(sent.stdout);
      const cpuUs = cpu0 === undefined || cpu1 === undefined || s.ok === 0 ? NaN : ((cpu1 - cpu0) * 1000) / s.ok;
      r.phases[p] = { ...s, cpuUs, load: loadavg()[0] };
    }
    // Trace batches are written every 200 ms: wait a little for the last, then count them.
    await new Promise((res) => setTimeout(res, 500));
    r.traceMessages = (await maxOffset(addr, 'RMQ_SYS_TRACE_TOPIC')) - before;
    if (trace && !(r.traceMessages > 0)) throw new Error('trace on but the trace topic received nothing');
    if (!trace && r.traceMessages !== 0) throw new Error(`trace off but the trace topic received ${r.traceMessages} messages`);
    return r;
  } finally {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const a = parseArgs(process.argv.slice(2));
console.log(
  `trace-bench: ${a.rounds} rounds × trace on/off; phases ${a.phases.join(', ')}; ${a.duration} s each, 1 KiB, window ${a.window}; ` +
    `${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), node ${process.version}, ${new Date().toISOString()}`,
);
const results: RunResult[] = [];
try {
  for (let round = 1; round <= a.rounds; round++) {
    for (const on of round % 2 === 1 ? [true, false] : [false, true]) {
      const r = await run(on, a);
      results.push(r);
      console.log(`round ${round} trace ${on ? 'on ' : 'off'}: ${r.traceMessages} trace messages`);
      for (const p of a.phases) {
        const x = r.phases[p]!;
        console.log(`  ${p.padEnd(8)} ${Math.round(x.tps)} msg/s, p50 ${x.p50} ms, p99 ${x.p99} ms, failed ${x.failed}, broker ${x.cpuUs.toFixed(1)} µs/msg, load ${x.load.toFixed(2)}`);
      }
    }
  }
} finally {
  await rc.close();
}

console.log('\n| case | trace on: median (runs) | trace off: median (runs) | on ÷ off, paired median |');
console.log('| --- | ---: | ---: | ---: |');
const summary: Record<string, { on: number; off: number; paired: number }> = {};
for (const p of a.phases) {
  const on = results.filter((r) => r.trace).map((r) => r.phases[p]!);
  const off = results.filter((r) => !r.trace).map((r) => r.phases[p]!);
  const row = (label: string, f: (x: Phase) => number, digits: number): void => {
    const ratios = on.map((x, i) => (off[i] ? f(x) / f(off[i]) : NaN));
    console.log(
      `| ${p}: ${label} | ${median(on.map(f)).toFixed(digits)} (${on.map((x) => f(x).toFixed(digits)).join(', ')}) | ` +
        `${median(off.map(f)).toFixed(digits)} (${off.map((x) => f(x).toFixed(digits)).join(', ')}) | ${median(ratios).toFixed(3)} |`,
    );
    summary[`${p} ${label}`] = { on: median(on.map(f)), off: median(off.map(f)), paired: median(ratios) };
  };
  row('msg/s', (x) => x.tps, 0);
  row('p99 ms', (x) => x.p99, 2);
  row('broker CPU µs/msg', (x) => x.cpuUs, 1);
}
for (const p of a.phases) {
  const t = summary[`${p} msg/s`];
  console.log(`${p}: throughput with trace on is ${((1 - t.on / t.off) * 100).toFixed(1)} % lower between medians, ${((1 - t.paired) * 100).toFixed(1)} % paired (goal ≤ 10 %)`);
}
if (a.json) writeFileSync(a.json, JSON.stringify({ args: a, results, summary }, null, 2));
process.exit(0);
