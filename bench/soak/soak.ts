// Soak (issue 17, "steady throughput"): one fresh `apogee standalone` loaded for --minutes by one
// `apogee bench producer` (1 KiB, binary headers, window 256) at --rate msg/s (0 = as fast as it
// goes), reporting per minute the producer's msg/s and latency and the broker's RSS (sampled every
// 5 s: the minute's last and largest) and CPU. Throughput should stay within 10 % of the first
// minute and RSS flat. Bounded: the producer runs --minutes, the whole run is killed at twice that.
//   node --import tsx bench/soak/soak.ts [--minutes 10] [--rate 20000] [--window 256]
// `--minutes 1` is the short form. BROKER_NODE_ARGS passes flags to the broker's node.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequest, RemotingClient, RequestCode } from '../../src/remoting/index.js';
import { benchArgs } from '../helpers/args.js';
import { spawnBenchBroker } from '../helpers/spawn-broker.js';

// The broker and the producer run from the sources: a dist/ left by `npm install` could be older code.
process.env.APOGEE_FROM_SOURCE = '1';
const args = benchArgs();
const MINUTES = args.num('minutes', 10);
const RATE = args.num('rate', 20_000);
const WINDOW = args.num('window', 256);
if (!(MINUTES >= 1 && MINUTES <= 120 && Number.isInteger(MINUTES) && RATE >= 0 && WINDOW >= 1 && WINDOW <= 4096)) {
  throw new Error('--minutes: an integer in [1, 120]; --rate >= 0 (0 = unlimited); --window in [1, 4096]');
}
const TOPIC = 'SoakTopic';

function procStat(pid: number): { rssMiB: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssMiB: rssKb / 1024, cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / 100 };
}

interface Minute {
  minute: number;
  tps: number;
  p50: number;
  p99: number;
  rssMiB: number;
  maxRssMiB: number;
  brokerCpuPct: number;
  load: number;
}

const dir = mkdtempSync(join(tmpdir(), 'apogee-soak-'));
const broker = await spawnBenchBroker(dir);
const pid = broker.child.pid!;
const minutes: Minute[] = [];
try {
  const rc = new RemotingClient();
  const r = await rc.invoke(broker.broker, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: TOPIC, readQueueNums: 8, writeQueueNums: 8, perm: 6 }));
  await rc.close();
  if (r.code !== 0) throw new Error(`create ${TOPIC}: ${r.code} ${r.remark ?? ''}`);
  console.log(`soak: ${MINUTES} min at ${RATE > 0 ? `${RATE} msg/s` : 'full rate'}, window ${WINDOW}, 1 KiB; node ${process.version}; load ${loadavg()[0].toFixed(2)}; broker RSS at start ${procStat(pid).rssMiB.toFixed(0)} MiB`);
  const producer = spawn(
    process.execPath,
    ['bin/apogee.js', 'bench', 'producer', '-n', broker.namesrv, '-t', TOPIC, '--headers', 'binary', '-w', String(WINDOW), '--duration', String(MINUTES * 60), '--interval', '60', ...(RATE > 0 ? ['--rate', String(RATE)] : [])],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const killer = setTimeout(() => producer.kill('SIGKILL'), MINUTES * 120_000);
  let maxRss = 0;
  let lastCpu = procStat(pid).cpuMs;
  let lastT = performance.now();
  const sampler = setInterval(() => {
    maxRss = Math.max(maxRss, procStat(pid).rssMiB);
  }, 5000);
  let buf = '';
  let reportedT = 0;
  producer.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = /t=([\d.]+)s tps=(\d+) .*p50=([\d.]+)ms p99=([\d.]+)ms/.exec(line);
      if (!m || line.includes('summary')) continue;
      // The producer's last interval line covers only the moments after the final whole minute.
      const t = Number(m[1]);
      if (t - reportedT < 30) continue;
      reportedT = t;
      const s = procStat(pid);
      const now = performance.now();
      const row: Minute = {
        minute: minutes.length + 1,
        tps: Number(m[2]),
        p50: Number(m[3]),
        p99: Number(m[4]),
        rssMiB: s.rssMiB,
        maxRssMiB: Math.max(maxRss, s.rssMiB),
        brokerCpuPct: ((s.cpuMs - lastCpu) / (now - lastT)) * 100,
        load: loadavg()[0],
      };
      lastCpu = s.cpuMs;
      lastT = now;
      maxRss = 0;
      minutes.push(row);
      console.log(
        `minute ${row.minute}: ${row.tps} msg/s, p50 ${row.p50} ms, p99 ${row.p99} ms; broker RSS ${row.rssMiB.toFixed(0)} MiB (max ${row.maxRssMiB.toFixed(0)}), CPU ${row.brokerCpuPct.toFixed(0)} % of a core; load ${row.load.toFixed(2)}`,
      );
    }
  });
  const code = await new Promise<number | null>((resolve) => producer.once('exit', resolve));
  clearTimeout(killer);
  clearInterval(sampler);
  if (code !== 0) console.log(`producer exited with ${code}`);
} finally {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
}
if (minutes.length) {
  const first = minutes[0].tps;
  const worst = Math.min(...minutes.map((m) => m.tps));
  const rss = minutes.map((m) => m.rssMiB);
  console.log(
    `\nworst minute ${worst} msg/s = ${((worst / first) * 100).toFixed(0)} % of the first (${first}); RSS ${rss[0].toFixed(0)} → ${rss[rss.length - 1].toFixed(0)} MiB, largest sample ${Math.max(...minutes.map((m) => m.maxRssMiB)).toFixed(0)} MiB`,
  );
  console.log('\n| minute | msg/s | p50 ms | p99 ms | broker RSS MiB (max) | broker CPU % |');
  console.log('| --: | --: | --: | --: | --: | --: |');
  for (const m of minutes) console.log(`| ${m.minute} | ${m.tps} | ${m.p50} | ${m.p99} | ${m.rssMiB.toFixed(0)} (${m.maxRssMiB.toFixed(0)}) | ${m.brokerCpuPct.toFixed(0)} |`);
}
process.exit(0);
