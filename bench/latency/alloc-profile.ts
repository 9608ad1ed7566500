// Bytes the broker allocates on the JS heap per sent message, by allocating function (issue 17: GC
// pauses are the tail that stays once the loop does no file work). A name server and a broker run
// in this process; `apogee bench producer` processes send --warmup then --count 1 KiB messages
// (binary headers, --window in flight) while V8's sampling heap profiler records every sampled
// allocation, collected ones included. Allocation per message does not depend on the machine's load,
// unlike pause lengths, so before/after comparisons hold on a busy box.
//
//   node --import tsx bench/latency/alloc-profile.ts [--count 50000] [--warmup 20000] [--window 64]
//     [--top 30] [--broker-args "--traceBrokerEnable=false ..."] [--consume]
// --consume: an `apogee bench consumer` (binary headers) reads the topic while the profiled sends run,
// as in the end-to-end bench, so the figure is per message sent and consumed (pull path included).
// Bounded: each producer run is killed after 120 s.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/logger.js';
import { startBroker } from '../../src/broker/index.js';
import { loadConfig } from '../../src/config/index.js';
import { startNamesrv } from '../../src/namesrv/index.js';
import { createRequest, RemotingClient, RequestCode } from '../../src/remoting/index.js';
import { ROOT } from '../ha/procs.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}
const COUNT = Number(arg('count', '50000'));
const WARMUP = Number(arg('warmup', '20000'));
const WINDOW = Number(arg('window', '64'));
const TOP = Number(arg('top', '30'));
const BROKER_ARGS = arg('broker-args', '').split(' ').filter(Boolean);
const CONSUME = process.argv.includes('--consume');
if (!(COUNT >= 1000 && COUNT <= 5_000_000 && WARMUP >= 0 && WINDOW >= 1 && TOP >= 1)) throw new Error('--count in [1000, 5000000], --warmup >= 0, --window >= 1, --top >= 1');
const TOPIC = 'AllocProfileTopic';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const flags: Record<string, string | number | boolean> = { brokerIP1: '127.0.0.1', host: '127.0.0.1', listenPort: 0, mappedFileSizeCommitLog: 1024 * 1024 * 1024 };
for (const a of BROKER_ARGS) {
  const m = /^--([^=]+)=(.*)$/.exec(a);
  if (!m) throw new Error(`--broker-args: expected --key=value, got ${a}`);
  flags[m[1]] = m[2];
}

function produce(namesrv: string, count: number): Promise<void> {
  return tool(['producer', '-n', namesrv, '-t', TOPIC, '--headers', 'binary', '-w', String(WINDOW), '--count', String(count), '--interval', '1000']);
}

function tool(benchArgs: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = [join(ROOT, 'bin', 'apogee.js'), 'bench', ...benchArgs];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, APOGEE_FROM_SOURCE: '1' } });
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('exit', (code) => {
      clearTimeout(killer);
      if (code === 0) resolve();
      else reject(new Error(`bench ${benchArgs[0]} exited with ${code}`));
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'apogee-alloc-'));
const ns = await startNamesrv(loadConfig('namesrv', { flags: { listenPort: 0, host: '127.0.0.1' } }), { logger: silentLogger });
flags.namesrvAddr = ns.addresses.namesrv;
flags.storePathRootDir = dir;
const broker = await startBroker(loadConfig('broker', { flags }), { logger: silentLogger });
const session = new Session();
try {
  const rc = new RemotingClient();
  const r = await rc.invoke(broker.addresses.broker, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: TOPIC, readQueueNums: 8, writeQueueNums: 8, perm: 6 }));
  await rc.close();
  if (r.code !== 0) throw new Error(`create ${TOPIC}: ${r.code} ${r.remark ?? ''}`);
  // The consumer follows the warm-up's sends, then the profiled ones, as they come.
  const consumed = CONSUME ? tool(['consumer', '-n', ns.addresses.namesrv, '-t', TOPIC, '--headers', 'binary', '-g', 'alloc_profile', '--count', String(WARMUP + COUNT), '--interval', '1000']) : undefined;
  if (WARMUP > 0) await produce(ns.addresses.namesrv, WARMUP);
  session.connect();
  // The two include flags keep samples of objects a GC already collected: garbage is what we are after.
  await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
  await produce(ns.addresses.namesrv, COUNT);
  await consumed;
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
  const byFn = new Map<string, number>();
  let total = 0;
  const walk = (n: ProfileNode): void => {
    const f = n.callFrame;
    const k = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop() ?? ''}`;
    byFn.set(k, (byFn.get(k) ?? 0) + n.selfSize);
    total += n.selfSize;
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  console.log(`alloc-profile: ${COUNT} sends after ${WARMUP} warm-up${CONSUME ? `, ${WARMUP + COUNT} consumed` : ''}, window ${WINDOW}, broker args [${BROKER_ARGS.join(' ')}]; node ${process.version}; load ${loadavg()[0].toFixed(2)}`);
  console.log(`JS heap allocated by this process (broker and name server) per sent${CONSUME ? ' and consumed' : ''} message: ${(total / COUNT).toFixed(0)} B (sampled)`);
  console.log('\n| B/msg | function (file) |\n| --: | --- |');
  for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`| ${(v / COUNT).toFixed(0)} | ${k} |`);
} finally {
  session.disconnect();
  await broker.close();
  await ns.close();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
