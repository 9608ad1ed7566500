// Metrics overhead bench (issue 14): send throughput, p99 and broker CPU per message of a standalone
// broker with `metricsEnable=true` against `metricsEnable=false`. Every run starts a fresh
// `apogee standalone` on a new directory, creates an 8-queue topic, warms up with 5,000 sends, then
// loads it from another process:
// - remoting: `apogee bench producer` (the project's client, 1 KiB, binary headers, `--window` in
//   flight) for `--duration` s; with `--rate N` also a fixed-rate run, whose p99 is the latency figure
//   that does not depend on how saturated the box is;
// - grpc: the real 5.x client (rocketmq-client-nodejs, grpc-send-load.ts) for `--duration` s.
// Settings alternate within a round and the first one alternates between rounds (on off, off on,
// ...), so a drift in the machine's load spreads over both; medians and the median of the per-round
// ratios (paired) are reported. With --side-by-side both brokers run at the same time instead (each
// loaded by its own process), which pairs them under the same interference from other jobs. The load average and the machine's busy share are printed with
// every run, because other jobs on a shared box move these figures more than metrics do. A run
// with metrics on checks that /metrics counted the messages; one with metrics off that it answers 404.
//
//   node --import tsx bench/metrics/metrics-bench.ts [--rounds 3] [--duration 10] [--window 64]
//     [--rate 0] [--scenarios remoting,grpc] [--max-load 0] [--cpu-prof DIR] [--json FILE]
//     [--broker-args "--traceBrokerEnable=false ..."] (more flags for both settings' broker)
//     [--side-by-side] (both settings at once, each with its own load, instead of one after the other)
//     [--control] (A/A: the "metrics on" slot runs with metrics off too, to show the method's bias)
//     [--dir DIR] (where the data goes; a tmpfs such as /dev/shm keeps other jobs' disk writes out of
//     the figures: on a shared disk the commit-log write() stalls under their writeback)
//   --max-load L: before each run, wait (at most 10 minutes) for the 1-minute load average to be at most L.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { cpuMs, machineTicks, ROOT, runTool, startRole, type Role } from '../ha/procs.js';

const TOPIC = 'MetricsBenchTopic';
const QUEUES = 8;
const SIZE = 1024;
const SCENARIOS = ['remoting', 'grpc'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Args {
  rounds: number;
  duration: number;
  window: number;
  rate: number;
  scenarios: Scenario[];
  maxLoad: number;
  cpuProf?: string;
  json?: string;
  /** More flags for `apogee standalone` (e.g. "--traceBrokerEnable=false"), both settings alike. */
  brokerArgs: string[];
  sideBySide: boolean;
  /** Where the brokers' data directories go (default: the system's temp dir). */
  dir: string;
  /** A/A control: the "on" broker runs with metrics off too, to see the method's own bias and noise. */
  control: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { rounds: 3, duration: 10, window: 64, rate: 0, scenarios: [...SCENARIOS], maxLoad: 0, brokerArgs: [], sideBySide: false, dir: tmpdir(), control: false };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1];
    const n = Number(v);
    switch (argv[i]) {
      case '--side-by-side': a.sideBySide = true; i--; break;
      case '--dir': a.dir = v ?? ''; break;
      case '--control': a.control = true; i--; break;
      case '--rounds': a.rounds = n; break;
      case '--duration': a.duration = n; break;
      case '--window': a.window = n; break;
      case '--rate': a.rate = n; break;
      case '--scenarios': a.scenarios = (v ?? '').split(',') as Scenario[]; break;
      case '--max-load': a.maxLoad = n; break;
      case '--cpu-prof': a.cpuProf = v; break;
      case '--json': a.json = v; break;
      case '--broker-args': a.brokerArgs = (v ?? '').split(' ').filter(Boolean); break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  for (const s of a.scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; scenarios: ${SCENARIOS.join(', ')}`);
  if (!(a.rounds >= 1 && a.rounds <= 50 && a.duration > 0 && a.duration <= 300 && a.window >= 1 && a.rate >= 0 && a.maxLoad >= 0)) {
    throw new Error('--rounds 1..50, --duration 1..300 s, --window ≥ 1, --rate ≥ 0, --max-load ≥ 0');
  }
  return a;
}

interface Phase {
  tps: number;
  p50: number;
  p99: number;
  p999: number;
  ok: number;
  failed: number;
  /** Broker CPU (user + system) per message, µs. */
  cpuUs: number;
  /** Share of the whole machine busy during the phase (every process, ours or not). */
  busy: number;
  /** 1-minute load average at the end of the phase. */
  load: number;
}

type RunResult = Partial<Record<'remoting' | 'rate' | 'grpc', Phase>> & { metrics: boolean };

function parseSummary(out: string): Pick<Phase, 'tps' | 'p50' | 'p99' | 'p999' | 'ok' | 'failed'> {
  const line = out.split('\n').find((l) => l.includes('summary:'));
  if (!line) throw new Error(`no summary line in the load output:\n${out.slice(-2000)}`);
  const num = (k: string): number => Number(new RegExp(`${k}=([\\d.]+)`).exec(line)?.[1] ?? NaN);
  return { ok: num('ok'), failed: num('failed'), tps: num('tps'), p50: num('p50'), p99: num('p99'), p999: num('p999') };
}

/** Runs a load command while reading the broker's CPU and the machine's busy share around it. */
async function measured(pid: number | undefined, load: () => Promise<{ code: number | null; stdout: string; stderr: string }>): Promise<Phase> {
  const cpu0 = cpuMs(pid);
  const box0 = machineTicks();
  const res = await load();
  const box1 = machineTicks();
  const cpu1 = cpuMs(pid);
  if (res.code !== 0) throw new Error(`load process exited with ${res.code}:\n${res.stderr.slice(-2000)}`);
  const s = parseSummary(res.stdout);
  const cpuUs = cpu0 === undefined || cpu1 === undefined || s.ok === 0 ? NaN : ((cpu1 - cpu0) * 1000) / s.ok;
  return { ...s, cpuUs, busy: (box1.busy - box0.busy) / (box1.total - box0.total), load: loadavg()[0] };
}

/** Runs the gRPC load script (through tsx, as the benches run) to its end, bounded in time. */
function grpcLoad(endpoints: string, a: Args): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join('bench', 'metrics', 'grpc-send-load.ts'), '--endpoints', endpoints, '--topic', TOPIC, '--seconds', String(a.duration), '--window', String(a.window)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-16_384)));
  const killer = setTimeout(() => child.kill('SIGKILL'), (a.duration + 60) * 1000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout: out, stderr: err });
    }),
  );
}

async function httpGet(addr: string, path: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://${addr}${path}`, { signal: AbortSignal.timeout(10_000) });
  return { status: r.status, text: await r.text() };
}

/** rocketmq_messages_in_total of the bench topic, as the broker's /metrics reports it. */
function messagesIn(text: string): number {
  const m = new RegExp(`^rocketmq_messages_in_total\\{[^}]*topic="${TOPIC}"[^}]*\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

async function waitForQuiet(maxLoad: number): Promise<void> {
  if (maxLoad <= 0) return;
  const deadline = Date.now() + 600_000;
  while (loadavg()[0] > maxLoad && Date.now() < deadline) {
    console.log(`  waiting for load ≤ ${maxLoad} (now ${loadavg()[0].toFixed(2)})`);
    await new Promise((r) => setTimeout(r, 15_000));
  }
}

const rc = new RemotingClient();

interface Node {
  metrics: boolean;
  broker: Role;
  dir: string;
  /** Messages sent so far (what /metrics must have counted at least). */
  sent: number;
  bench(extra: string[]): ReturnType<typeof runTool>;
}

/** A fresh standalone broker with its topic, warmed up. */
async function startNode(metrics: boolean, a: Args, round: number): Promise<Node> {
  const dir = mkdtempSync(join(a.dir, 'apogee-metrics-bench-'));
  let nodeArgs: string[] = [];
  if (a.cpuProf) {
    const pdir = join(a.cpuProf, `metrics-${metrics ? 'on' : 'off'}-round${round}`);
    mkdirSync(pdir, { recursive: true });
    nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${pdir}`];
  }
  let broker: Role | undefined;
  try {
    broker = await startRole(
      [
        'standalone', '--namesrvPort=0', '--listenPort=0', '--grpcServerPort=0', '--httpPort=0', '--host=127.0.0.1', '--brokerIP1=127.0.0.1',
        '--storePathRootDir', dir, '--logLevel=warn', '--flushDiskType=ASYNC_FLUSH', ...a.brokerArgs, `--metricsEnable=${metrics}`,
      ],
      nodeArgs,
    );
    const { namesrv, broker: addr } = broker.addrs;
    const created = await rc.invoke(addr, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: TOPIC, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 }));
    if (created.code !== ResponseCode.SUCCESS) throw new Error(`create topic: ${created.code} ${created.remark ?? ''}`);
    const bench = (extra: string[]) =>
      runTool(['bench', 'producer', '-n', namesrv, '-t', TOPIC, '-s', String(SIZE), '-w', String(a.window), '--headers', 'binary', '--interval', '5', ...extra], (a.duration + 60) * 1000);
    // Warm-up: JIT, the first segment and consume-queue files, the client's route and connection.
    const warm = await bench(['--count', '5000']);
    if (warm.code !== 0) throw new Error(`warm-up exited with ${warm.code}:\n${warm.stderr.slice(-2000)}`);
    return { metrics, broker, dir, sent: 5000, bench };
  } catch (err) {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function stopNode(n: Node): Promise<void> {
  await n.broker.stop();
  rmSync(n.dir, { recursive: true, force: true });
}

/** What was measured is what was meant: counting on (every send counted), or no metrics at all. */
async function checkNode(n: Node): Promise<void> {
  const m = await httpGet(n.broker.addrs.http, '/metrics');
  if (n.metrics) {
    const counted = messagesIn(m.text);
    if (m.status !== 200 || !(counted >= n.sent)) throw new Error(`metrics on but /metrics says ${m.status}, ${counted} messages in (sent at least ${n.sent})`);
  } else if (m.status !== 404) {
    throw new Error(`metrics off but /metrics answered ${m.status}`);
  }
}

type PhaseName = 'remoting' | 'rate' | 'grpc';

function phases(a: Args): PhaseName[] {
  const out: PhaseName[] = [];
  if (a.scenarios.includes('remoting')) out.push('remoting', ...(a.rate > 0 ? (['rate'] as const) : []));
  if (a.scenarios.includes('grpc')) out.push('grpc');
  return out;
}

/** One phase's load against one node, with its broker's CPU read around it. */
async function phase(n: Node, k: PhaseName, a: Args): Promise<Phase> {
  const pid = n.broker.child.pid;
  let p: Phase;
  if (k === 'remoting') p = await measured(pid, () => n.bench(['--duration', String(a.duration)]));
  else if (k === 'rate') p = await measured(pid, () => n.bench(['--duration', String(a.duration), '--rate', String(a.rate)]));
  // The gRPC load's own warm-up second is not in `ok`: the count check allows for it.
  else p = await measured(pid, () => grpcLoad(n.broker.addrs.grpc, a));
  if (k !== 'grpc') n.sent += p.ok;
  return p;
}

async function run(metrics: boolean, a: Args, round: number): Promise<RunResult> {
  const n = await startNode(metrics && !a.control, a, round);
  try {
    const r: RunResult = { metrics };
    for (const k of phases(a)) r[k] = await phase(n, k, a);
    await checkNode(n);
    return r;
  } finally {
    await stopNode(n);
  }
}

/**
 * --side-by-side: both settings at once, each broker with its own load process, so that whatever
 * else the machine does hits both alike; each phase's pair is one paired sample.
 */
async function runPair(a: Args, round: number): Promise<[RunResult, RunResult]> {
  const started = await Promise.allSettled([startNode(!a.control, a, round), startNode(false, a, round)]);
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const [on, off] = nodes;
    const r: [RunResult, RunResult] = [{ metrics: true }, { metrics: false }];
    for (const k of phases(a)) [r[0][k], r[1][k]] = await Promise.all([phase(on, k, a), phase(off, k, a)]);
    await checkNode(on);
    await checkNode(off);
    return r;
  } finally {
    for (const n of nodes) await stopNode(n);
  }
}

const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function fmtPhase(p: Phase): string {
  return `${Math.round(p.tps)} msg/s, p50 ${p.p50} ms, p99 ${p.p99} ms, failed ${p.failed}, broker ${p.cpuUs.toFixed(1)} µs/msg, machine busy ${(p.busy * 100).toFixed(0)} %, load ${p.load.toFixed(2)}`;
}

const a = parseArgs(process.argv.slice(2));
console.log(
  `metrics-bench: ${a.rounds} rounds × metrics on/off${a.sideBySide ? ' side by side' : ''}${a.control ? ' (CONTROL: "on" runs with metrics off)' : ''}; ${a.scenarios.join(', ')}; ${a.duration} s per phase, 1 KiB, window ${a.window}` +
    `${a.rate > 0 ? `, fixed rate ${a.rate} msg/s` : ''}${a.brokerArgs.length ? `; broker ${a.brokerArgs.join(' ')}` : ''}; ${cpus().length} cpus (${cpus()[0]?.model ?? '?'}), node ${process.version}, ${new Date().toISOString()}`,
);
const results: RunResult[] = [];
try {
  for (let round = 1; round <= a.rounds; round++) {
    const print = (r: RunResult, l0: number): void => {
      console.log(`round ${round} metrics ${r.metrics ? 'on ' : 'off'} (load at start ${l0.toFixed(2)})`);
      for (const k of ['remoting', 'rate', 'grpc'] as const) if (r[k]) console.log(`  ${k.padEnd(8)} ${fmtPhase(r[k]!)}`);
    };
    if (a.sideBySide) {
      await waitForQuiet(a.maxLoad);
      const l0 = loadavg()[0];
      const pair = await runPair(a, round);
      results.push(...pair);
      for (const r of pair) print(r, l0);
      continue;
    }
    const order = round % 2 === 1 ? [true, false] : [false, true];
    for (const on of order) {
      await waitForQuiet(a.maxLoad);
      const l0 = loadavg()[0];
      const r = await run(on, a, round);
      results.push(r);
      print(r, l0);
    }
  }
} finally {
  await rc.close();
}

const NAMES = { remoting: `remoting send, window ${a.window}`, rate: `remoting send at ${a.rate} msg/s`, grpc: `gRPC send (5.x client), window ${a.window}` } as const;
console.log('');
console.log('| case | metrics on: median (runs) | metrics off: median (runs) | on ÷ off, paired median (per round) |');
console.log('| --- | ---: | ---: | ---: |');
const summary: Record<string, Record<string, number>> = {};
for (const k of ['remoting', 'rate', 'grpc'] as const) {
  const on = results.filter((r) => r.metrics && r[k]).map((r) => r[k]!);
  const off = results.filter((r) => !r.metrics && r[k]).map((r) => r[k]!);
  if (on.length === 0 || off.length === 0) continue;
  const ratios = (f: (p: Phase) => number): number[] => on.map((p, i) => (off[i] ? f(p) / f(off[i]) : NaN));
  const row = (label: string, f: (p: Phase) => number, digits: number): void => {
    const r = ratios(f);
    console.log(
      `| ${NAMES[k]}: ${label} | ${median(on.map(f)).toFixed(digits)} (${on.map((p) => f(p).toFixed(digits)).join(', ')}) | ` +
        `${median(off.map(f)).toFixed(digits)} (${off.map((p) => f(p).toFixed(digits)).join(', ')}) | ${median(r).toFixed(3)} (${r.map((x) => x.toFixed(3)).join(', ')}) |`,
    );
    summary[`${k} ${label}`] = { on: median(on.map(f)), off: median(off.map(f)), paired: median(r) };
  };
  if (k !== 'rate') row('msg/s', (p) => p.tps, 0);
  row('p99 ms', (p) => p.p99, 2);
  row('broker CPU µs/msg', (p) => p.cpuUs, 1);
  row('load average', (p) => p.load, 2);
}
const tput = summary['remoting msg/s'];
if (tput) {
  const loss = 1 - tput.on / tput.off;
  console.log(`\nremoting send throughput, metrics on vs off: ${(loss * 100).toFixed(1)} % lower between medians, ${((1 - tput.paired) * 100).toFixed(1)} % paired (goal ≤ 3 %)`);
}
if (a.json) writeFileSync(a.json, JSON.stringify({ args: a, results, summary }, null, 2));
process.exit(0);
