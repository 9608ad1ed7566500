// End-to-end latency at a fixed rate with the project's own client (issue 17, "latency tails"):
// per run a fresh `apogee standalone`, an 8-queue topic, an `apogee bench consumer` process
// subscribed first, then an `apogee bench producer --rate R` process for --duration s (1 KiB,
// binary headers, window 256). Reported per run, from the first run after the broker's start:
// send p50/p99/p999 (the producer's round trip), end-to-end p50/p99/p999 (born timestamp to the
// consumer's handler, both clocks this machine's; the born timestamp has millisecond resolution,
// so end-to-end figures carry up to 1 ms of truncation), the broker's CPU µs per message, and its
// event-loop delay (p99 and max of prom-client's monitorEventLoopDelay, read from /metrics: the
// scrape before the producer resets it, the one after reads the run).
//
// --cases names broker settings to compare; their order alternates between rounds so a drift in
// the machine's load spreads over all of them:
//   default    the broker's defaults
//   trace-off  --traceBrokerEnable=false
//   sync       --flushDiskType=SYNC_FLUSH
//   semi64     the defaults, the broker's node with --max-semi-space-size=64 (fewer scavenges)
//   base       the defaults, broker run from the checkout given by --base DIR (e.g. `git archive
//              <commit> | tar -x -C DIR` with node_modules linked): before/after of a change
//   client-base  the defaults (this tree's broker), the producer and consumer tools run from the
//              checkout given by --client-base DIR: before/after of a client change, e.g.
//              --cases default,client-base --client-base DIR --rounds 3
//
//   node --import tsx bench/latency/e2e.ts [--rounds 1] [--duration 20] [--rate 20000]
//     [--cases default,trace-off] [--dir DIR] [--base DIR] [--client-base DIR]
//
// The tools' CPU per message is given twice: whole process (start-up included: under tsx, loading
// the TypeScript sources costs about a second of CPU) and steady (from each tool's first report
// line, a second into its run, to its exit), which is what a change on the message path moves.
// BROKER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=DIR") go to the broker's node.
// Bounded: every child is killed at duration + 60 s; the bench exits when the rounds are done.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequest, RemotingClient, RequestCode } from '../../src/remoting/index.js';
import { cpuMs, ROOT, startRole } from '../ha/procs.js';

process.env.APOGEE_FROM_SOURCE = '1';

const CASES: Record<string, string[]> = {
  default: [],
  'trace-off': ['--traceBrokerEnable=false'],
  sync: ['--flushDiskType=SYNC_FLUSH'],
  semi64: [],
  base: [],
  'client-base': [],
};
const CASE_NODE_ARGS: Record<string, string[]> = { semi64: ['--max-semi-space-size=64'] };

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}
const ROUNDS = Number(arg('rounds', '1'));
const DURATION = Number(arg('duration', '20'));
const RATE = Number(arg('rate', '20000'));
const BASE_DIR = arg('dir', tmpdir());
const BASE = arg('base', '');
const CLIENT_BASE = arg('client-base', '');
const cases = arg('cases', 'default').split(',');
if (
  !(ROUNDS >= 1 && ROUNDS <= 20 && DURATION >= 1 && DURATION <= 600 && RATE >= 1) ||
  cases.some((c) => !(c in CASES)) ||
  (cases.includes('base') && !BASE) ||
  (cases.includes('client-base') && !CLIENT_BASE)
) {
  throw new Error(`--rounds in [1, 20], --duration in [1, 600] s, --rate >= 1, --cases from ${Object.keys(CASES).join(',')} (base needs --base DIR, client-base --client-base DIR)`);
}
const TOPIC = 'E2eLatencyTopic';

interface Summary {
  ok: number;
  tps: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}
interface Run {
  case: string;
  round: number;
  send?: Summary;
  e2e?: Summary;
  cpuUsPerMsg: number;
  /** The producer's and the consumer's whole-process CPU (start-up included) per message each handled. */
  producerUsPerMsg: number;
  consumerUsPerMsg: number;
  /** The same from each tool's first report line on (start-up left out). */
  producerSteadyUs: number;
  consumerSteadyUs: number;
  eldP99Ms: number;
  eldMaxMs: number;
  gcMs: number;
  load: number;
}

function parseSummary(out: string): Summary | undefined {
  const m = /summary: ok=(\d+) .*tps=(\d+) .*maxRT=([\d.]+)ms p50=([\d.]+)ms p99=([\d.]+)ms p999=([\d.]+)ms/.exec(out);
  if (!m) return undefined;
  return { ok: Number(m[1]), tps: Number(m[2]), max: Number(m[3]), p50: Number(m[4]), p99: Number(m[5]), p999: Number(m[6]) };
}

/** prom-client's default metrics in seconds; reading them also resets the event-loop histogram. */
async function scrape(http: string): Promise<{ eldP99: number; eldMax: number; gcSum: number }> {
  const text = await (await fetch(`http://${http}/metrics`)).text();
  const val = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
  let gcSum = 0;
  for (const m of text.matchAll(/^nodejs_gc_duration_seconds_sum\{[^}]*\} ([\d.e+-]+)$/gm)) gcSum += Number(m[1]);
  return { eldP99: val(/^nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? ([\d.e+-]+)$/m), eldMax: val(/^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? ([\d.e+-]+)$/m), gcSum };
}

interface Tool {
  done: Promise<string>;
  firstLine: Promise<void>;
  /** The process's user + system CPU in ms, sampled every 100 ms while it runs (the last sample before exit). */
  cpu(): number;
  /** CPU ms and messages done (tps × t of the line) at the first report line. */
  first: { cpuMs: number; count: number };
}

const FIRST_LINE_RE = /\] t=([\d.]+)s tps=(\d+) /;

function startTool(args: string[], root: string): Tool {
  const child = spawn(process.execPath, [join(root, 'bin', 'apogee.js'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const killer = setTimeout(() => child.kill('SIGKILL'), (DURATION + 60) * 1000);
  let lastCpu = 0;
  const sampler = setInterval(() => (lastCpu = cpuMs(child.pid) ?? lastCpu), 100);
  let out = '';
  let seen!: () => void;
  const firstLine = new Promise<void>((r) => (seen = r));
  const first = { cpuMs: NaN, count: 0 };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    if (!Number.isNaN(first.cpuMs)) return;
    const m = FIRST_LINE_RE.exec(out);
    if (m) {
      first.cpuMs = cpuMs(child.pid) ?? NaN;
      first.count = Math.round(Number(m[1]) * Number(m[2]));
      seen();
    }
  });
  const done = new Promise<string>((resolve) =>
    child.once('exit', () => {
      clearTimeout(killer);
      clearInterval(sampler);
      seen();
      resolve(out);
    }),
  );
  return { done, firstLine, cpu: () => lastCpu, first };
}

async function runOne(name: string, round: number): Promise<Run> {
  const dir = mkdtempSync(join(BASE_DIR, 'apogee-e2e-'));
  const broker = await startRole(['standalone', '--namesrvPort=0', '--listenPort=0', '--grpcServerPort=0', '--httpPort=0', '--brokerIP1=127.0.0.1', '--logLevel=warn', '--storePathRootDir', dir, ...CASES[name]], [...(process.env.BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean), ...(CASE_NODE_ARGS[name] ?? [])], 60_000, name === 'base' ? BASE : ROOT);
  try {
    const ns = broker.addrs.namesrv;
    const rc = new RemotingClient();
    const r = await rc.invoke(broker.addrs.broker, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: TOPIC, readQueueNums: 8, writeQueueNums: 8, perm: 6 }));
    await rc.close();
    if (r.code !== 0) throw new Error(`create ${TOPIC}: ${r.code} ${r.remark ?? ''}`);
    const total = Math.round(RATE * DURATION);
    const common = ['-n', ns, '-t', TOPIC, '--headers', 'binary'];
    // The consumer reports every second: its first line comes a second after its start
    // (subscription, rebalance), and from then on it pulls. (With one line per run, the first came
    // only after --duration s, so the consumer stopped 10 s into the producer's run.)
    const toolRoot = name === 'client-base' ? CLIENT_BASE : ROOT;
    const consumer = startTool(['bench', 'consumer', ...common, '--interval', '1', '-g', `e2e_${round}`, '--count', String(total), '--duration', String(DURATION + 12)], toolRoot);
    await consumer.firstLine;
    const before = await scrape(broker.addrs.http);
    const cpu0 = cpuMs(broker.child.pid)!;
    // A line a second: the first one marks the end of the producer's start-up for its steady CPU figure.
    const producer = startTool(['bench', 'producer', ...common, '--interval', '1', '-w', '256', '--rate', String(RATE), '--duration', String(DURATION)], toolRoot);
    const pOut = await producer.done;
    const cpu1 = cpuMs(broker.child.pid)!;
    const after = await scrape(broker.addrs.http);
    const cOut = await consumer.done;
    const send = parseSummary(pOut);
    const e2e = parseSummary(cOut);
    return {
      case: name,
      round,
      send,
      e2e,
      cpuUsPerMsg: send && send.ok > 0 ? ((cpu1 - cpu0) * 1000) / send.ok : NaN,
      producerUsPerMsg: send && send.ok > 0 ? (producer.cpu() * 1000) / send.ok : NaN,
      consumerUsPerMsg: e2e && e2e.ok > 0 ? (consumer.cpu() * 1000) / e2e.ok : NaN,
      producerSteadyUs: send ? steadyUs(producer, send.ok) : NaN,
      consumerSteadyUs: e2e ? steadyUs(consumer, e2e.ok) : NaN,
      eldP99Ms: after.eldP99 * 1000,
      eldMaxMs: after.eldMax * 1000,
      gcMs: (after.gcSum - before.gcSum) * 1000,
      load: loadavg()[0],
    };
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function steadyUs(t: Tool, ok: number): number {
  const n = ok - t.first.count;
  return n > 0 ? ((t.cpu() - t.first.cpuMs) * 1000) / n : NaN;
}

const fmt = (s: Summary | undefined): string => (s ? `${s.tps} | ${s.p50} / ${s.p99} / ${s.p999} / ${s.max}` : '– | –');
// The consumer's own msg/s counts its wait before the producer starts: its count says more.
const fmtE2e = (s: Summary | undefined): string => (s ? `${s.ok} | ${s.p50} / ${s.p99} / ${s.p999} / ${s.max}` : '– | –');
console.log(`e2e: ${ROUNDS} round(s) × ${cases.join(', ')}; ${RATE} msg/s for ${DURATION} s, 1 KiB; node ${process.version}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const runs: Run[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  const order = round % 2 === 1 ? cases : [...cases].reverse();
  for (const c of order) {
    const run = await runOne(c, round);
    runs.push(run);
    console.log(
      `round ${round} ${c}: send ${fmt(run.send)} ms; e2e ${fmtE2e(run.e2e)} ms; broker ${run.cpuUsPerMsg.toFixed(1)} µs/msg (producer ${run.producerUsPerMsg.toFixed(1)}, steady ${run.producerSteadyUs.toFixed(1)}; consumer ${run.consumerUsPerMsg.toFixed(1)}, steady ${run.consumerSteadyUs.toFixed(1)}), loop delay p99 ${run.eldP99Ms.toFixed(2)} max ${run.eldMaxMs.toFixed(2)} ms, GC ${run.gcMs.toFixed(0)} ms; load ${run.load.toFixed(2)}`,
    );
  }
}
console.log('\n| round | case | send msg/s | send p50 / p99 / p999 / max ms | consumed | e2e p50 / p99 / p999 / max ms | broker µs/msg | producer / consumer µs/msg | steady producer / consumer µs/msg | loop delay p99 / max ms | GC ms | load |');
console.log('| --: | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |');
for (const r of runs) {
  console.log(
    `| ${r.round} | ${r.case} | ${fmt(r.send)} | ${fmtE2e(r.e2e)} | ${r.cpuUsPerMsg.toFixed(1)} | ${r.producerUsPerMsg.toFixed(1)} / ${r.consumerUsPerMsg.toFixed(1)} | ${r.producerSteadyUs.toFixed(1)} / ${r.consumerSteadyUs.toFixed(1)} | ${r.eldP99Ms.toFixed(2)} / ${r.eldMaxMs.toFixed(2)} | ${r.gcMs.toFixed(0)} | ${r.load.toFixed(2)} |`,
  );
}
process.exit(0);
