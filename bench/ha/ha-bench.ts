// HA send bench (issue 12): 1 KiB send throughput and p99 of a single broker (SYNC_FLUSH and
// ASYNC_FLUSH) next to a classic-mode group of three (ASYNC_MASTER; SYNC_MASTER with two slaves
// and inSyncReplicas=2), every process on this machine. Each run starts fresh processes on a new
// directory (`apogee namesrv`, `apogee broker` × 1 or 3), creates the topic on the master, waits
// for the slaves to be in sync, warms up, then loads with `apogee bench producer`. Runs are
// interleaved (round 1: every case, round 2: every case, ...) so a change in the machine's load
// spreads over all cases; medians are reported.
//
//   node --import tsx bench/ha/ha-bench.ts [--rounds 3] [--duration 10] [--window 64]
//     [--cases single-sync,single-async,async-master,sync-master] [--json FILE]
//     [--cpu-prof DIR] (profiles every broker of every run with node's --cpu-prof; files named by pid)
//     [--broker-args "--key=value ..."] (added to every broker, e.g. --traceBrokerEnable=false)
//     [--compare DIR] (also runs every case with the brokers of the checkout at DIR, e.g. an
//       extracted `git archive` of an older commit with node_modules linked in, interleaved with
//       this checkout's runs and reported as "<case>@base": before/after on the same machine load)
//     [--rate N] (the measured load paced to N msg/s: CPU per message at the same rate is
//       comparable across runs on a loaded machine, where throughput is not)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { cpuMs, machineTicks, runTool, startRole, type Role } from './procs.js';

interface Case {
  name: string;
  /** Flags of the master, or of the single broker. */
  master: string[];
  slaves: number;
  /** Flags of every member. */
  common: string[];
}

const CASES: Record<string, Case> = {
  'single-sync': { name: 'single broker, SYNC_FLUSH', master: ['--brokerRole=ASYNC_MASTER'], slaves: 0, common: ['--flushDiskType=SYNC_FLUSH'] },
  'single-async': { name: 'single broker, ASYNC_FLUSH', master: ['--brokerRole=ASYNC_MASTER'], slaves: 0, common: ['--flushDiskType=ASYNC_FLUSH'] },
  'async-master': { name: 'group of 3, ASYNC_MASTER, ASYNC_FLUSH', master: ['--brokerRole=ASYNC_MASTER'], slaves: 2, common: ['--flushDiskType=ASYNC_FLUSH'] },
  'sync-master': {
    name: 'group of 3, SYNC_MASTER (inSyncReplicas=2), ASYNC_FLUSH',
    master: ['--brokerRole=SYNC_MASTER', '--inSyncReplicas=2'],
    slaves: 2,
    common: ['--flushDiskType=ASYNC_FLUSH'],
  },
  'sync-master-sync-flush': {
    name: 'group of 3, SYNC_MASTER (inSyncReplicas=2), SYNC_FLUSH',
    master: ['--brokerRole=SYNC_MASTER', '--inSyncReplicas=2'],
    slaves: 2,
    common: ['--flushDiskType=SYNC_FLUSH'],
  },
};

const TOPIC = 'HaBenchTopic';
const QUEUES = 8;
const SIZE = 1024;

interface Args {
  rounds: number;
  duration: number;
  window: number;
  cases: string[];
  json?: string;
  cpuProf?: string;
  brokerArgs: string[];
  compare?: string;
  /** Messages per second for the measured load (none: as fast as the window allows). */
  rate?: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { rounds: 3, duration: 10, window: 64, cases: ['single-sync', 'single-async', 'async-master', 'sync-master'], brokerArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    const n = Number(v);
    switch (argv[i]) {
      case '--rounds': a.rounds = n; break;
      case '--duration': a.duration = n; break;
      case '--window': a.window = n; break;
      case '--cases': a.cases = (v ?? '').split(','); break;
      case '--json': a.json = v; break;
      case '--cpu-prof': a.cpuProf = v; break;
      case '--broker-args': a.brokerArgs = (v ?? '').split(/\s+/).filter((x) => x !== ''); break;
      case '--compare': a.compare = v; break;
      case '--rate': a.rate = n; break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
    i++;
  }
  for (const c of a.cases) if (!CASES[c]) throw new Error(`unknown case ${c}; cases: ${Object.keys(CASES).join(', ')}`);
  if (a.rate !== undefined && !(a.rate >= 1)) throw new Error('--rate needs a positive number');
  if (!(a.rounds >= 1 && a.duration > 0 && a.window >= 1)) throw new Error('--rounds, --duration and --window need positive numbers');
  return a;
}

interface RunResult {
  tps: number;
  p50: number;
  p99: number;
  p999: number;
  failed: number;
  /** CPU ms per 1000 messages, master (or single broker) and each slave. */
  masterCpuPerK: number;
  slaveCpuPerK: number[];
  /** Smallest in-sync set (the master included) seen during the load, polled each second. */
  minIsr: number | undefined;
  /** Share of the machine's CPU time that was busy during the load (every process, ours or not). */
  machineBusy: number;
}

const rc = new RemotingClient();

async function haStatus(addr: string): Promise<{ syncStateSet: number[]; masterCommitLogMaxOffset: number; haConnectionInfo: { brokerId: number; slaveAckOffset: number; inSync: boolean }[] }> {
  const resp = await rc.invoke(addr, createRequest(RequestCode.GET_BROKER_HA_STATUS, {}), 5000);
  if (resp.code !== ResponseCode.SUCCESS) throw new Error(`haStatus ${addr}: ${resp.code} ${resp.remark ?? ''}`);
  const body = Array.isArray(resp.body) ? Buffer.concat(resp.body) : resp.body!;
  return JSON.parse(body.toString()) as never;
}

async function poll<T>(timeoutMs: number, what: string, fn: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function parseSummary(out: string): Omit<RunResult, 'masterCpuPerK' | 'slaveCpuPerK' | 'minIsr' | 'machineBusy'> & { ok: number } {
  const line = out.split('\n').find((l) => l.includes('summary:'));
  if (!line) throw new Error(`no summary line in the bench output:\n${out.slice(-2000)}`);
  const num = (k: string): number => Number(new RegExp(`${k}=([\\d.]+)`).exec(line)?.[1] ?? NaN);
  return { ok: num('ok'), tps: num('tps'), p50: num('p50'), p99: num('p99'), p999: num('p999'), failed: num('failed') };
}

const BASE = '@base';

async function runCase(run: string, a: Args, round: number): Promise<RunResult> {
  const base = run.endsWith(BASE);
  const key = base ? run.slice(0, -BASE.length) : run;
  const root = base ? a.compare : undefined;
  const c = CASES[key];
  const dir = mkdtempSync(join(tmpdir(), 'apogee-ha-bench-'));
  const roles: Role[] = [];
  try {
    const ns = await startRole(['namesrv', '--listenPort=0', '--host=127.0.0.1', '--logLevel=warn']);
    roles.push(ns);
    const namesrv = ns.addrs.namesrv;
    const member = (id: number, flags: string[], nodeArgs: string[] = []) =>
      startRole(
        [
          'broker', '--listenPort=0', '--haListenPort=0', '--grpcServerPort=0', '--httpPort=0', '--host=127.0.0.1', '--brokerIP1=127.0.0.1',
          `--namesrvAddr=${namesrv}`, '--brokerName=ha-bench', `--brokerId=${id}`, '--storePathRootDir', join(dir, `member-${id}`), '--logLevel=warn',
          ...c.common, ...a.brokerArgs, ...flags,
        ],
        nodeArgs,
        60_000,
        root,
      );
    let prof: string[] = [];
    if (a.cpuProf) {
      const pdir = join(a.cpuProf, `${run}-round${round}`);
      mkdirSync(pdir, { recursive: true });
      prof = ['--cpu-prof', `--cpu-prof-dir=${pdir}`];
    }
    const master = await member(0, c.master, prof);
    roles.push(master);
    const slaves: Role[] = [];
    for (let i = 1; i <= c.slaves; i++) {
      const s = await member(i, ['--brokerRole=SLAVE'], prof);
      slaves.push(s);
      roles.push(s);
    }
    const masterAddr = master.addrs.broker;
    const created = await rc.invoke(masterAddr, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: TOPIC, readQueueNums: QUEUES, writeQueueNums: QUEUES, perm: 6 }));
    if (created.code !== ResponseCode.SUCCESS) throw new Error(`create topic: ${created.code} ${created.remark ?? ''}`);
    await poll(30_000, 'the route', async () => (await rc.invoke(namesrv, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: TOPIC }))).code === ResponseCode.SUCCESS);
    if (c.slaves > 0) await poll(60_000, 'both slaves in sync', async () => (await haStatus(masterAddr)).haConnectionInfo.filter((x) => x.inSync).length === c.slaves);
    const bench = (extra: string[]) => runTool(['bench', 'producer', '-n', namesrv, '-t', TOPIC, '-s', String(SIZE), '-w', String(a.window), '--headers', 'binary', '--interval', '5', ...extra], (a.duration + 60) * 1000);
    // Warm-up: JIT, the first segment and consume-queue files, the client's routes and connections.
    await bench(['--count', '5000']);
    let minIsr: number | undefined;
    let polling = true;
    const isrPoll = (async () => {
      while (polling && c.slaves > 0) {
        try {
          const n = (await haStatus(masterAddr)).syncStateSet.length;
          minIsr = Math.min(minIsr ?? n, n);
        } catch {
          // a busy master may miss one poll
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    const cpu0 = [master, ...slaves].map((r) => cpuMs(r.child.pid));
    const box0 = machineTicks();
    const res = await bench(['--duration', String(a.duration), ...(a.rate ? ['--rate', String(a.rate)] : [])]);
    const box1 = machineTicks();
    const cpu1 = [master, ...slaves].map((r) => cpuMs(r.child.pid));
    polling = false;
    await isrPoll;
    if (res.code !== 0) throw new Error(`bench producer exited with ${res.code}:\n${res.stderr}`);
    const s = parseSummary(res.stdout);
    const perK = (i: number): number => (cpu0[i] === undefined || cpu1[i] === undefined || s.ok === 0 ? NaN : ((cpu1[i]! - cpu0[i]!) / s.ok) * 1000);
    return { tps: s.tps, p50: s.p50, p99: s.p99, p999: s.p999, failed: s.failed, masterCpuPerK: perK(0), slaveCpuPerK: slaves.map((_, i) => perK(i + 1)), minIsr, machineBusy: (box1.busy - box0.busy) / (box1.total - box0.total) };
  } finally {
    for (const r of roles.reverse()) await r.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const a = parseArgs(process.argv.slice(2));
const runs = a.compare ? a.cases.flatMap((c) => [c, c + BASE]) : a.cases;
const results: Record<string, RunResult[]> = Object.fromEntries(runs.map((c) => [c, []]));
console.log(`ha-bench: ${a.rounds} rounds of ${a.cases.join(', ')}; ${a.duration} s each, 1 KiB, window ${a.window}, binary headers`);
try {
  for (let round = 1; round <= a.rounds; round++) {
    // Rotate the order so no case always runs first (right after the previous case's processes exit).
    const order = runs.map((_, i) => runs[(i + round - 1) % runs.length]);
    for (const key of order) {
      const r = await runCase(key, a, round);
      results[key].push(r);
      console.log(
        `round ${round} ${key}: ${Math.round(r.tps)} msg/s, p50 ${r.p50} ms, p99 ${r.p99} ms, p999 ${r.p999} ms, failed ${r.failed}, ` +
          `CPU ms per 1000: master ${r.masterCpuPerK.toFixed(0)}${r.slaveCpuPerK.length ? `, slaves ${r.slaveCpuPerK.map((x) => x.toFixed(0)).join('/')}` : ''}` +
          `${r.minIsr !== undefined ? `, smallest in-sync set ${r.minIsr}` : ''}, machine busy ${(r.machineBusy * 100).toFixed(0)} %`,
      );
    }
  }
} finally {
  await rc.close();
}
console.log('');
console.log('| case | send msg/s (median; runs) | p99 ms (median; runs) | CPU ms / 1000 msgs, master; slaves | machine busy |');
console.log('| --- | ---: | ---: | ---: | ---: |');
const med: Record<string, number> = {};
for (const key of runs) {
  const rs = results[key];
  med[key] = median(rs.map((r) => r.tps));
  const slaveCpu = rs[0].slaveCpuPerK.length ? `; ${median(rs.flatMap((r) => r.slaveCpuPerK)).toFixed(0)}` : '';
  console.log(
    `| ${CASES[key.replace(BASE, '')].name}${key.endsWith(BASE) ? ' (base)' : ''} | ${Math.round(med[key])} (${rs.map((r) => Math.round(r.tps)).join(', ')}) | ${median(rs.map((r) => r.p99))} (${rs.map((r) => r.p99).join(', ')}) | ${median(rs.map((r) => r.masterCpuPerK)).toFixed(0)}${slaveCpu} | ${(median(rs.map((r) => r.machineBusy)) * 100).toFixed(0)} % |`,
  );
}
if (med['sync-master'] !== undefined && med['single-sync'] !== undefined) {
  const ratio = med['sync-master'] / med['single-sync'];
  console.log(`\nSYNC_MASTER / single SYNC_FLUSH = ${(ratio * 100).toFixed(0)} % (goal: at least 70 %): ${ratio >= 0.7 ? 'met' : 'NOT met'}`);
}
if (med['sync-master' + BASE] !== undefined && med['single-sync' + BASE] !== undefined) {
  console.log(`base: SYNC_MASTER / single SYNC_FLUSH = ${((med['sync-master' + BASE] / med['single-sync' + BASE]) * 100).toFixed(0)} %`);
}
if (a.json) writeFileSync(a.json, JSON.stringify({ args: a, results }, null, 2));
process.exit(0);
