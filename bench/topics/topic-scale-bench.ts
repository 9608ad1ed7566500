// Many topics (issue 17, point 4): creates N topics one after another through UPDATE_AND_CREATE_TOPIC
// as `apogee admin updateTopic` does, and prints the creation rate per slice, the broker's RSS, the
// time topicList and clusterList take at the end, and how long it took the name server to route the
// last topic created. Usage: node --import tsx bench/topics/topic-scale-bench.ts [--topics 10000]
// [--queues 8] [--slice 1000] [--concurrency 1].
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

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

const dir = mkdtempSync(join(tmpdir(), 'apogee-topic-scale-'));
const broker = await spawnBenchBroker(dir);
const api = new AdminApi(broker.namesrv, 30_000);
try {
  const header = (topic: string) => ({ topic, defaultTopic: 'TBW102', readQueueNums: queues, writeQueueNums: queues, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false });
  console.log(`creating ${topics} topics x ${queues} queues, ${concurrency} at a time; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  const t0 = performance.now();
  let sliceStart = t0;
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < topics) {
      const i = next++;
      await api.brokerOk(broker.broker, RequestCode.UPDATE_AND_CREATE_TOPIC, header(`ScaleTopic_${i}`));
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
} finally {
  await api.close();
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
}
