// The slave's side of replication in one process, without the network (issue 12): CPU and wall
// time per message for a store to take a master's log as HA data frames (`appendReplicated`:
// record checks with CRC, the write, consume-queue and index dispatch). A master store is filled
// once with 1 KiB messages (8 queues, KEYS and TAGS as the bench producer sends), its raw log is
// cut into frames of the given size, and fresh slave stores take them, in-order, with up to
// --in-flight frames appended before the first is written (1 = one at a time, as the slave did
// before issue 12's pipelining). CPU time is this process's (user + system), so other jobs on the
// machine change it much less than they change throughput.
//
//   node --import tsx bench/ha/slave-apply-bench.ts [--messages 20000] [--frame 16384,1048576]
//     [--in-flight 1,64] [--rounds 3] [--base DIR] (also runs the store of the checkout at DIR,
//     interleaved, as "base")
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageStore } from '../../src/store/index.js';
import { messageProperties2String } from '../../src/common/message-properties.js';

type StoreClass = typeof MessageStore;

interface Args {
  messages: number;
  frames: number[];
  inFlight: number[];
  rounds: number;
  base?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { messages: 20_000, frames: [16 * 1024, 1024 * 1024], inFlight: [1, 64], rounds: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1] ?? '';
    switch (argv[i]) {
      case '--messages': a.messages = Number(v); break;
      case '--frame': a.frames = v.split(',').map(Number); break;
      case '--in-flight': a.inFlight = v.split(',').map(Number); break;
      case '--rounds': a.rounds = Number(v); break;
      case '--base': a.base = v; break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  if (!(a.messages > 0 && a.rounds > 0) || a.frames.some((f) => !(f > 0)) || a.inFlight.some((n) => !(n >= 1))) throw new Error('numbers must be positive');
  return a;
}

const CONFIG = { mappedFileSizeCommitLog: 64 * 1024 * 1024, flushDiskType: 'ASYNC_FLUSH' as const };
const body = Buffer.alloc(1024, 7);

async function fillMaster(dir: string, n: number): Promise<{ store: MessageStore; end: number }> {
  const store = await MessageStore.open({ storePathRootDir: dir, ...CONFIG });
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    pending.push(
      store.putMessage({
        topic: 'BenchTopic',
        queueId: i % 8,
        flag: 0,
        body,
        properties: messageProperties2String({ KEYS: `k${i}`, TAGS: 'T', UNIQ_KEY: `7F000001000018B4AAC2${i.toString(16).padStart(12, '0')}` }),
        sysFlag: 0,
        bornTimestamp: Date.now(),
        bornHost: { address: '10.0.0.1', port: 40000 },
        storeHost: { address: '127.0.0.1', port: 10911 },
        reconsumeTimes: 0,
        preparedTransactionOffset: 0,
      }),
    );
    if (pending.length >= 256) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await store.flush();
  return { store, end: store.getWrittenPhyOffset() };
}

async function frames(master: MessageStore, end: number, size: number): Promise<{ offset: number; data: Buffer }[]> {
  const out: { offset: number; data: Buffer }[] = [];
  for (let off = 0; off < end; ) {
    const data = await master.readRawCommitLog(off, Math.min(size, end - off));
    if (!data) throw new Error(`no log at ${off}`);
    out.push({ offset: off, data });
    off += data.length;
  }
  return out;
}

async function applyAll(Store: StoreClass, fs: { offset: number; data: Buffer }[], inFlight: number): Promise<{ cpuMs: number; wallMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'apogee-slave-apply-'));
  const store = await Store.open({ storePathRootDir: dir, ...CONFIG });
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const window: Promise<void>[] = [];
    for (const f of fs) {
      window.push(store.appendReplicated(f.offset, f.data));
      if (window.length >= inFlight) await window.shift();
    }
    await Promise.all(window);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs };
  } finally {
    await store.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
}

const a = parseArgs(process.argv.slice(2));
const stores: [string, StoreClass][] = [['this', MessageStore]];
if (a.base) {
  const mod = (await import(pathToFileURL(join(resolve(a.base), 'src', 'store', 'index.ts')).href)) as { MessageStore: StoreClass };
  stores.push(['base', mod.MessageStore]);
}
const masterDir = mkdtempSync(join(tmpdir(), 'apogee-slave-apply-master-'));
const { store: master, end } = await fillMaster(masterDir, a.messages);
console.log(`slave-apply-bench: ${a.messages} messages, ${(end / 1048576).toFixed(1)} MiB of log, ${a.rounds} rounds`);
const results = new Map<string, { cpu: number[]; wall: number[] }>();
try {
  for (let round = 1; round <= a.rounds; round++) {
    for (const size of a.frames) {
      const fs = await frames(master, end, size);
      for (const n of a.inFlight) {
        const order = round % 2 ? stores : [...stores].reverse();
        for (const [name, Store] of order) {
          const key = `${name} frame=${size} in-flight=${n}`;
          const r = await applyAll(Store, fs, n);
          const e = results.get(key) ?? { cpu: [], wall: [] };
          e.cpu.push((r.cpuMs * 1000) / a.messages);
          e.wall.push((r.wallMs * 1000) / a.messages);
          results.set(key, e);
        }
      }
    }
  }
} finally {
  await master.shutdown();
  rmSync(masterDir, { recursive: true, force: true });
}
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
console.log('| store | frame bytes | frames in flight | CPU µs / message, median (runs) | wall µs / message, median |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [key, r] of results) {
  const [name, frame, inflight] = key.split(' ');
  console.log(`| ${name} | ${frame.slice(6)} | ${inflight.slice(10)} | ${median(r.cpu).toFixed(1)} (${r.cpu.map((x) => x.toFixed(1)).join(', ')}) | ${median(r.wall).toFixed(1)} |`);
}
