// Many topics (issue 17, point 4): creates N topics one after another through UPDATE_AND_CREATE_TOPIC
// as `apogee admin updateTopic` does, and prints the creation rate per slice, the broker's RSS, the
// time topicList and clusterList take at the end, and how long it took the name server to route the
// last topic created. Usage: node --import tsx bench/topics/topic-scale-bench.ts [--topics 10000]
// [--queues 8] [--slice 1000] [--concurrency 1] [--produce SECONDS --rounds N]. With --produce, it
// then compares send throughput over one topic of that broker with a fresh broker holding one
// topic (`apogee bench producer`, 1 KiB, window 256, binary headers), alternating N rounds each.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminApi } from '../../src/cli/admin/admin-api.js';
import { RequestCode } from '../../src/remoting/index.js';
import { benchArgs } from '../helpers/args.js';
import { spawnBenchBroker } from '../helpers/spawn-broker.js';

const args = benchArgs();
const topics = args.num('topics', 10_000);
const queues = args.num('queues', 8);
const slice = args.num('slice', 1000);
const concurrency = args.num('concurrency', 1);
const produceSec = args.num('produce', 0);
const rounds = args.num('rounds', 3);

/** Send throughput (msg/s) over one topic for produceSec seconds, with `apogee bench producer`. */
function produce(namesrv: string, topic: string): { tps: number; p99: number } {
  const r = spawnSync(
    process.execPath,
    ['bin/apogee.js', 'bench', 'producer', '-n', namesrv, '-t', topic, '-s', '1024', '-w', '256', '--headers', 'binary', '--duration', String(produceSec), '--interval', String(produceSec)],
    { encoding: 'utf8', timeout: (produceSec + 60) * 1000 },
  );
  const line = r.stdout.split('\n').find((l) => l.includes('summary:'));
  if (!line) throw new Error(`no summary from bench producer:\n${r.stdout.slice(-1000)}${r.stderr.slice(-1000)}`);
  const num = (k: string): number => Number(new RegExp(`${k}=([\\d.]+)`).exec(line)?.[1] ?? NaN);
  return { tps: num('tps'), p99: num('p99') };
}

async function createTopicOn(api: AdminApi, broker: string, topic: string): Promise<void> {
  await api.brokerOk(broker, RequestCode.UPDATE_AND_CREATE_TOPIC, { topic, defaultTopic: 'TBW102', readQueueNums: queues, writeQueueNums: queues, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false });
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

const dir = mkdtempSync(join(tmpdir(), 'apogee-topic-scale-'));
const broker = await spawnBenchBroker(dir);
const api = new AdminApi(broker.namesrv, 30_000);
try {
  console.log(`creating ${topics} topics x ${queues} queues, ${concurrency} at a time; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  const t0 = performance.now();
  let sliceStart = t0;
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < topics) {
      const i = next++;
      await createTopicOn(api, broker.broker, `ScaleTopic_${i}`);
      done++;
      if (done % slice === 0) {
        const now = performance.now();
        console.log(`${String(done).padStart(7)} topics: ${Math.round((slice * 1000) / (now - sliceStart))} creates/s in this slice, RSS ${rssMiB(broker.child.pid!).toFixed(0)} MiB`);
        sliceStart = now;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const created = performance.now() - t0;
  // Routed: the name server knows the last topic.
  const routeStart = performance.now();
  for (;;) {
    const r = await api.namesrv(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: `ScaleTopic_${topics - 1}` });
    if (r.code === 0) break;
    if (performance.now() - routeStart > 60_000) throw new Error('last topic not routed within 60 s');
    await new Promise((r2) => setTimeout(r2, 20));
  }
  const routed = performance.now() - routeStart;
  const tl = performance.now();
  const list = await api.namesrvOk(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
  const topicListMs = performance.now() - tl;
  const cl = performance.now();
  await api.namesrvOk(RequestCode.GET_BROKER_CLUSTER_INFO);
  const clusterListMs = performance.now() - cl;
  console.log(
    `created ${topics} in ${(created / 1000).toFixed(1)} s (${Math.round((topics * 1000) / created)}/s); last routed +${routed.toFixed(0)} ms; ` +
      `topicList ${topicListMs.toFixed(0)} ms (${list.body?.length ?? 0} bytes); clusterList ${clusterListMs.toFixed(0)} ms; broker RSS ${rssMiB(broker.child.pid!).toFixed(0)} MiB`,
  );
  if (produceSec > 0) {
    const many: number[] = [];
    const one: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const m = produce(broker.namesrv, 'ScaleTopic_0');
      many.push(m.tps);
      const dir1 = mkdtempSync(join(tmpdir(), 'apogee-topic-one-'));
      const b1 = await spawnBenchBroker(dir1);
      const api1 = new AdminApi(b1.namesrv, 30_000);
      try {
        await createTopicOn(api1, b1.broker, 'OnlyTopic');
        await new Promise((r) => setTimeout(r, 500));
        const o = produce(b1.namesrv, 'OnlyTopic');
        one.push(o.tps);
        console.log(`round ${round + 1}: ${topics} topics ${Math.round(m.tps)} msg/s (p99 ${m.p99} ms); one topic ${Math.round(o.tps)} msg/s (p99 ${o.p99} ms); load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`);
      } finally {
        await api1.close();
        await b1.stop();
        rmSync(dir1, { recursive: true, force: true });
      }
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`median send throughput: ${topics} topics ${Math.round(med(many))} msg/s, one topic ${Math.round(med(one))} msg/s (${((med(many) / med(one)) * 100).toFixed(0)} %)`);
  }
} finally {
  await api.close();
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
}
