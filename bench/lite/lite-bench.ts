// Lite topics (issue 18). Spawns `apogee standalone` and drives its gRPC endpoint with a plain
// grpc-js client (no 5.x client library in the load path):
//   1. creation: --topics N (default 100,000) lite topics created by one 1 KiB send each, in
//      batches of --batch over --conc concurrent calls; at 10k, 100k and 1M it prints the creation
//      rate of the slice, the broker's RSS and the number of files under its data directory; then
//      restarts the broker and times the first lite send (which loads the lite state).
//   2. throughput: --messages M (default 100,000) 1 KiB messages spread over --active (default
//      10,000) subscribed lite topics, sent then received and acked, against the same over a
//      NORMAL topic, alternating rounds (--rounds, default 2); medians.
// npm run bench:lite -- [--topics 1000000] [--skip-create] [--skip-throughput]
// For a profile of one side (BROKER_NODE_ARGS="--cpu-prof ..."): --send-only skips the receives,
// --lite-only / --normal-only run the rounds of one topic type only.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AdminApi } from '../../src/cli/admin/admin-api.js';
import { RequestCode } from '../../src/remoting/index.js';
import { GET_LITE_TOPIC_LIST } from '../../src/remoting/protocol/index.js';
import { benchArgs } from '../helpers/args.js';
import { grpcLoadClient, type GrpcLoadClient } from '../helpers/grpc-load-client.js';
import { spawnBenchBroker, type BenchBroker } from '../helpers/spawn-broker.js';

const args = benchArgs();
const TOPICS = args.num('topics', 100_000);
const BATCH = args.num('batch', 32);
const CONC = args.num('conc', 8);
const MESSAGES = args.num('messages', 100_000);
const ACTIVE = args.num('active', 10_000);
const ROUNDS = args.num('rounds', 2);
const BODY = randomBytes(1024);
const SEND_ONLY = args.flag('send-only');
const LITE = !args.flag('normal-only');
const NORMAL = !args.flag('lite-only');
/** --marks prints each phase's CLOCK_MONOTONIC window in µs, the clock of a .cpuprofile's timestamps, to cut a profile by phase. */
const MARKS = args.flag('marks');

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** The broker's user + system CPU time so far, in µs (/proc/<pid>/stat, clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

/** The broker's write system calls so far (/proc/<pid>/io, all threads): fewer per message means bigger group commits. */
function writeCalls(pid: number): number {
  const m = /syscw: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function statSafe(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? countFiles(join(dir, e.name)) : 1;
  return n;
}

function message(topic: string, liteTopic: string | undefined): unknown {
  const now = Date.now();
  return {
    topic: { name: topic },
    body: BODY,
    systemProperties: {
      messageId: '01' + randomBytes(16).toString('hex').toUpperCase(),
      messageType: liteTopic ? 5 : 1,
      bodyEncoding: 1,
      bornTimestamp: { seconds: Math.floor(now / 1000), nanos: 0 },
      bornHost: 'bench',
      ...(liteTopic ? { liteTopic } : {}),
    },
  };
}

async function createTopic(b: BenchBroker, topic: string, type: string, queues = 8): Promise<void> {
  const api = new AdminApi(b.namesrv);
  try {
    await api.brokerOk(b.broker, RequestCode.UPDATE_AND_CREATE_TOPIC, {
      topic,
      readQueueNums: queues,
      writeQueueNums: queues,
      perm: 6,
      attributes: `+message.type=${type}${type === 'LITE' ? ',+liteTopicExpiration=86400' : ''}`,
    });
    await api.brokerOk(b.broker, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, Buffer.from(JSON.stringify({ groupName: `g-${topic}`, retryMaxTimes: 16 })));
  } finally {
    await api.close();
  }
}

/** Sends count messages (name(i) gives message i's lite topic, or undefined for NORMAL) with conc calls of batch messages. */
async function sendAll(c: GrpcLoadClient, topic: string, count: number, name: (i: number) => string | undefined, onProgress?: (done: number) => void): Promise<number> {
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const from = next;
      const n = Math.min(BATCH, count - from);
      next += n;
      const msgs = Array.from({ length: n }, (_, k) => message(topic, name(from + k)));
      const r = await c.unary('SendMessage', { messages: msgs });
      if (r.status?.code !== 20000) throw new Error(`send: ${JSON.stringify(r.status)} ${JSON.stringify(r.entries?.[0]?.status)}`);
      done += n;
      onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: CONC }, worker));
  return performance.now() - t0;
}

/** Receives and acks count messages with conc long-polling receivers; ms taken. */
async function receiveAll(c: GrpcLoadClient, topic: string, group: string, count: number): Promise<number> {
  let got = 0;
  const t0 = performance.now();
  const deadline = Date.now() + 300_000;
  const worker = async (): Promise<void> => {
    while (got < count && Date.now() < deadline) {
      const frames = await c.stream('ReceiveMessage', {
        group: { name: group },
        messageQueue: { topic: { name: topic }, id: -1, broker: { name: '' } },
        filterExpression: { type: 1, expression: '*' },
        batchSize: 32,
        invisibleDuration: { seconds: 60, nanos: 0 },
        autoRenew: false,
        longPollingTimeout: { seconds: 1, nanos: 0 },
      });
      const msgs = frames.filter((f) => f.message).map((f) => f.message);
      if (msgs.length === 0) continue;
      got += msgs.length;
      const entries = msgs.map((m) => ({ messageId: m.systemProperties.messageId, receiptHandle: m.systemProperties.receiptHandle }));
      const r = await c.unary('AckMessage', { group: { name: group }, topic: { name: topic }, entries });
      if (r.status?.code !== 20000) throw new Error(`ack: ${JSON.stringify(r.status)}`);
    }
  };
  await Promise.all(Array.from({ length: CONC }, worker));
  if (got < count) throw new Error(`received ${got} of ${count} within 300 s`);
  return performance.now() - t0;
}

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function creation(b: BenchBroker, dataDir: string, c: GrpcLoadClient): Promise<void> {
  await createTopic(b, 'LiteScale', 'LITE');
  const pid = b.child.pid!;
  console.log(`creation: ${TOPICS} lite topics, one 1 KiB send each (batch ${BATCH}, ${CONC} calls in flight)`);
  console.log(`before: RSS ${rssMiB(pid)} MiB, files ${countFiles(dataDir)}`);
  const marks = [10_000, 100_000, 1_000_000].filter((m) => m <= TOPICS);
  let last = { at: 0, t: performance.now() };
  let mark = 0;
  await sendAll(c, 'LiteScale', TOPICS, (i) => `agent-session-${i}`, (done) => {
    while (mark < marks.length && done >= marks[mark]) {
      const now = performance.now();
      const rate = Math.round(((done - last.at) * 1000) / (now - last.t));
      console.log(`${marks[mark].toLocaleString('en')} lite topics: ${rate.toLocaleString('en')} created/s over the slice, RSS ${rssMiB(pid)} MiB, files ${countFiles(dataDir)}`);
      last = { at: done, t: now };
      mark++;
    }
  });
  // The state's changes are appended to its log every second: wait for an append after the last send.
  const snapshot = join(dataDir, 'config', 'liteState.txt');
  const log = join(dataDir, 'config', 'liteState.log');
  const sent = Date.now();
  for (let i = 0; i < 30 && !(statSafe(log) > sent); i++) await new Promise((r) => setTimeout(r, 1000));
  const mib = (p: string): string => (statSafe(p) > 0 ? (statSync(p).size / 1048576).toFixed(1) : '0');
  console.log(`after: RSS ${rssMiB(pid)} MiB, files ${countFiles(dataDir)}, liteState.txt ${mib(snapshot)} MiB + liteState.log ${mib(log)} MiB`);
}

/**
 * Restarts the broker over the same data and times the first lite send that succeeds (the lite
 * state loads from the endpoint's start; a send meanwhile waits for it, and one that waits past
 * the server's request timeout is retried), then the count the broker lists.
 */
async function restart(old: BenchBroker, dataDir: string): Promise<{ b: BenchBroker; c: GrpcLoadClient }> {
  await old.stop();
  const t0 = performance.now();
  const b = await spawnBenchBroker(dataDir);
  const c = grpcLoadClient(b.grpc, 16 * 1024 * 1024);
  try {
    const ready = performance.now() - t0;
    let r: any;
    for (let i = 0; i < 4 && r?.status?.code !== 20000; i++) r = await c.unary('SendMessage', { messages: [message('LiteScale', 'after-restart')] }).catch((err: Error) => ({ status: { message: err.message } }));
    if (r?.status?.code !== 20000) throw new Error(`send after restart: ${JSON.stringify(r?.status)}`);
    const first = performance.now() - t0;
    const api = new AdminApi(b.namesrv);
    try {
      const list = await api.brokerOk(b.broker, GET_LITE_TOPIC_LIST, { topic: 'LiteScale', limit: 1 });
      const total = (JSON.parse(list.body!.toString()) as { total: number }).total;
      console.log(
        `restart: broker ready after ${Math.round(ready)} ms, first lite send answered ${Math.round(first)} ms after the start (the lite state loads meanwhile), ${total.toLocaleString('en')} lite topics listed, RSS ${rssMiB(b.child.pid!)} MiB`,
      );
    } finally {
      await api.close();
    }
    return { b, c };
  } catch (err) {
    c.close();
    await b.stop();
    throw err;
  }
}

async function throughput(b: BenchBroker, c: GrpcLoadClient): Promise<void> {
  await createTopic(b, 'LiteTp', 'LITE');
  await createTopic(b, 'NormalTp', 'NORMAL');
  const names = Array.from({ length: ACTIVE }, (_, i) => `active-${i}`);
  const sub = await c.unary('SyncLiteSubscription', { action: 2, topic: { name: 'LiteTp' }, group: { name: 'g-LiteTp' }, liteTopicSet: names });
  if (sub.status?.code !== 20000) throw new Error(`subscribe: ${JSON.stringify(sub.status)}`);
  console.log(`throughput: ${MESSAGES} 1 KiB messages over ${ACTIVE} subscribed lite topics vs one NORMAL topic (8 queues), ${ROUNDS} alternating rounds`);
  const res = { liteSend: [] as number[], liteRecv: [] as number[], normSend: [] as number[], normRecv: [] as number[] };
  const cpu = { liteSend: [] as number[], liteRecv: [] as number[], normSend: [] as number[], normRecv: [] as number[] };
  const writes = { liteSend: [] as number[], normSend: [] as number[] };
  const pid = b.child.pid!;
  // Broker CPU µs per message of a phase: less sensitive to other load on the machine than a rate.
  const timed = async <T>(into: number[], f: () => Promise<T>, w?: number[]): Promise<T> => {
    const c0 = cpuMicros(pid);
    const w0 = writeCalls(pid);
    const t0 = process.hrtime.bigint() / 1000n;
    const r = await f();
    if (MARKS) console.log(`mark ${w ? 'send' : 'receive'} ${t0} ${process.hrtime.bigint() / 1000n}`);
    into.push(Math.round((cpuMicros(pid) - c0) / MESSAGES));
    w?.push((writeCalls(pid) - w0) / MESSAGES);
    return r;
  };
  for (let r = 0; r < ROUNDS; r++) {
    const ls = LITE ? await timed(cpu.liteSend, () => sendAll(c, 'LiteTp', MESSAGES, (i) => names[i % ACTIVE]), writes.liteSend) : NaN;
    const lr = LITE && !SEND_ONLY ? await timed(cpu.liteRecv, () => receiveAll(c, 'LiteTp', 'g-LiteTp', MESSAGES)) : NaN;
    const ns = NORMAL ? await timed(cpu.normSend, () => sendAll(c, 'NormalTp', MESSAGES, () => undefined), writes.normSend) : NaN;
    const nr = NORMAL && !SEND_ONLY ? await timed(cpu.normRecv, () => receiveAll(c, 'NormalTp', 'g-NormalTp', MESSAGES)) : NaN;
    const rate = (ms: number): number => Math.round((MESSAGES * 1000) / ms);
    res.liteSend.push(rate(ls));
    res.liteRecv.push(rate(lr));
    res.normSend.push(rate(ns));
    res.normRecv.push(rate(nr));
    const us = (a: number[]): string => `${a[a.length - 1]} µs/msg`;
    const wr = (a: number[]): string => (a.length ? `, ${a[a.length - 1].toFixed(2)} writes/msg` : '');
    console.log(
      `round ${r + 1}: lite send ${rate(ls)}/s (${us(cpu.liteSend)}${wr(writes.liteSend)}) receive+ack ${rate(lr)}/s (${us(cpu.liteRecv)}); normal send ${rate(ns)}/s (${us(cpu.normSend)}${wr(writes.normSend)}) receive+ack ${rate(nr)}/s (${us(cpu.normRecv)}); load ${loadavg()[0].toFixed(1)}`,
    );
  }
  const m = { ls: median(res.liteSend), lr: median(res.liteRecv), ns: median(res.normSend), nr: median(res.normRecv) };
  console.log(`medians: send lite ${m.ls}/s vs normal ${m.ns}/s (${Math.round((m.ls / m.ns) * 100)} %), receive+ack lite ${m.lr}/s vs normal ${m.nr}/s (${Math.round((m.lr / m.nr) * 100)} %)`);
  const mc = { ls: median(cpu.liteSend), lr: median(cpu.liteRecv), ns: median(cpu.normSend), nr: median(cpu.normRecv) };
  console.log(`broker CPU per message (medians): send lite ${mc.ls} µs vs normal ${mc.ns} µs, receive+ack lite ${mc.lr} µs vs normal ${mc.nr} µs`);
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'apogee-lite-bench-'));
  // undefined while no broker of ours runs (between a stop and the next start), so the cleanup never waits on an exited one.
  let b: BenchBroker | undefined = await spawnBenchBroker(dataDir);
  let c = grpcLoadClient(b.grpc, 16 * 1024 * 1024);
  try {
    if (!args.flag('skip-create')) {
      await creation(b, dataDir, c);
      c.close();
      const old: BenchBroker = b;
      b = undefined;
      ({ b, c } = await restart(old, dataDir));
    }
    if (!args.flag('skip-throughput')) await throughput(b, c);
  } finally {
    c.close();
    await b?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
