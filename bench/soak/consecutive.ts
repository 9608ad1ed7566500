// Consecutive runs (issue 17, "steady throughput"): one fresh `apogee standalone`, then --runs
// `apogee bench producer` processes one after another, each at full rate for --seconds (1 KiB,
// binary headers, window 256), as the three 20 s runs were. Per run: msg/s, p50/p99, the
// broker's RSS after it and its CPU per message; the goal is every run within 10 % of the first.
//   node --import tsx bench/soak/consecutive.ts [--runs 3] [--seconds 20] [--window 256]
// Bounded: each producer is killed at twice its duration plus 30 s.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequest, RemotingClient, RequestCode } from '../../src/remoting/index.js';
import { benchArgs } from '../helpers/args.js';
import { spawnBenchBroker } from '../helpers/spawn-broker.js';

process.env.APOGEE_FROM_SOURCE = '1';
const args = benchArgs();
const RUNS = args.num('runs', 3);
const SECONDS = args.num('seconds', 20);
const WINDOW = args.num('window', 256);
if (!(Number.isInteger(RUNS) && RUNS >= 2 && RUNS <= 20 && SECONDS >= 5 && SECONDS <= 600 && WINDOW >= 1 && WINDOW <= 4096)) {
  throw new Error('--runs: an integer in [2, 20]; --seconds in [5, 600]; --window in [1, 4096]');
}
const TOPIC = 'ConsecutiveTopic';

function procStat(pid: number): { rssMiB: number; cpuMs: number } {
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssMiB: rssKb / 1024, cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / 100 };
}

interface Run {
  run: number;
  ok: number;
  tps: number;
  p50: number;
  p99: number;
  rssMiB: number;
  cpuUsPerMsg: number;
  load: number;
}

function produce(namesrv: string): Promise<string> {
  const child = spawn(process.execPath, ['bin/apogee.js', 'bench', 'producer', '-n', namesrv, '-t', TOPIC, '--headers', 'binary', '-w', String(WINDOW), '--duration', String(SECONDS), '--interval', String(SECONDS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), (SECONDS * 2 + 30) * 1000);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  return new Promise((resolve) =>
    child.once('exit', () => {
      clearTimeout(killer);
      resolve(out);
    }),
  );
}

const dir = mkdtempSync(join(tmpdir(), 'apogee-consecutive-'));
const broker = await spawnBenchBroker(dir);
const pid = broker.child.pid!;
const runs: Run[] = [];
try {
  const rc = new RemotingClient();
  const r = await rc.invoke(broker.broker, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: TOPIC, readQueueNums: 8, writeQueueNums: 8, perm: 6 }));
  await rc.close();
  if (r.code !== 0) throw new Error(`create ${TOPIC}: ${r.code} ${r.remark ?? ''}`);
  console.log(`consecutive: ${RUNS} runs of ${SECONDS} s at full rate, window ${WINDOW}, 1 KiB; node ${process.version}; load ${loadavg()[0].toFixed(2)}; broker RSS at start ${procStat(pid).rssMiB.toFixed(0)} MiB`);
  for (let i = 1; i <= RUNS; i++) {
    const cpu0 = procStat(pid).cpuMs;
    const out = await produce(broker.namesrv);
    const m = /summary: ok=(\d+) .*tps=(\d+) .*p50=([\d.]+)ms p99=([\d.]+)ms/.exec(out);
    if (!m) throw new Error(`run ${i}: no summary from the producer:\n${out.slice(-500)}`);
    const s = procStat(pid);
    const run: Run = { run: i, ok: Number(m[1]), tps: Number(m[2]), p50: Number(m[3]), p99: Number(m[4]), rssMiB: s.rssMiB, cpuUsPerMsg: ((s.cpuMs - cpu0) * 1000) / Number(m[1]), load: loadavg()[0] };
    runs.push(run);
    console.log(`run ${i}: ${run.tps} msg/s, p50 ${run.p50} ms, p99 ${run.p99} ms; broker RSS ${run.rssMiB.toFixed(0)} MiB, ${run.cpuUsPerMsg.toFixed(1)} µs/msg; load ${run.load.toFixed(2)}`);
  }
} finally {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
}
const first = runs[0].tps;
const worst = Math.min(...runs.map((x) => x.tps));
console.log(`\nworst run ${worst} msg/s = ${((worst / first) * 100).toFixed(0)} % of the first (${first}) (goal: at least 90 %)`);
console.log('\n| run | msg/s | % of run 1 | p50 ms | p99 ms | broker RSS MiB after | broker µs/msg | load |');
console.log('| --: | --: | --: | --: | --: | --: | --: | --: |');
for (const x of runs) console.log(`| ${x.run} | ${x.tps} | ${((x.tps / first) * 100).toFixed(0)} | ${x.p50} | ${x.p99} | ${x.rssMiB.toFixed(0)} | ${x.cpuUsPerMsg.toFixed(1)} | ${x.load.toFixed(2)} |`);
process.exit(0);
