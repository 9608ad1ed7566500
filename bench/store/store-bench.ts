// Store micro-benchmark (1 KiB messages): ASYNC_FLUSH appends/s, SYNC_FLUSH appends/s with 256
// concurrent appenders, reads/s by queue offset, and recovery time of 1 GiB of commit log.
// Bounded in time; data goes to a temp dir that is removed at the end.
// Run: node --import tsx bench/store/store-bench.ts [--seconds 5] [--recovery-gib 1]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { messageProperties2String } from '../../src/common/message-properties.js';
import { MessageStore, PutMessageStatus, type MessageInput, type MessageStoreConfig } from '../../src/store/index.js';
import { benchArgs } from '../helpers/args.js';

const args = benchArgs();
const opt = args.num;
const SECONDS = opt('seconds', 5);
const RECOVERY_GIB = opt('recovery-gib', 1);
const QUEUES = 4;
const body = Buffer.alloc(1024, 7);

// Properties arrive as a finished string in a broker (from the wire); build them once so the
// bench measures the store, not string building. 4096 distinct keys still exercise the index.
const PROPS = Array.from({ length: 4096 }, (_, i) => messageProperties2String({ TAGS: 'bench', KEYS: `k${i}` }));

function message(i: number): MessageInput {
  return {
    topic: 'BenchTopic',
    queueId: i % QUEUES,
    flag: 0,
    body,
    properties: PROPS[i & 4095],
    sysFlag: 0,
    bornTimestamp: Date.now(),
    bornHost: { address: '127.0.0.1', port: 50000 },
    storeHost: { address: '127.0.0.1', port: 10911 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
  };
}

async function appendFor(store: MessageStore, concurrency: number, seconds: number, maxMessages = Infinity): Promise<{ n: number; ms: number }> {
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  let n = 0;
  let bad = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < until && n < maxMessages) {
      const r = await store.putMessage(message(n++));
      if (r.status !== PutMessageStatus.PUT_OK) bad++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (bad) throw new Error(`${bad} puts failed`);
  return { n, ms: performance.now() - t0 };
}

async function withStore<T>(cfg: Partial<MessageStoreConfig>, fn: (s: MessageStore, dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'apogee-bench-'));
  try {
    const store = await MessageStore.open({ storePathRootDir: dir, ...cfg });
    try {
      return await fn(store, dir);
    } finally {
      await store.shutdown().catch(() => undefined);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: [string, string, string][] = [];
const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;

await withStore({ flushDiskType: 'ASYNC_FLUSH' }, async (store) => {
  const { n, ms } = await appendFor(store, 4096, SECONDS);
  rows.push(['appends ASYNC_FLUSH (4096 in flight)', rate(n, ms), '>= 300,000/s']);
  // Reads by queue offset over what was just written, 32 per call.
  const t0 = performance.now();
  const until = t0 + SECONDS * 1000;
  let read = 0;
  const perQueue = Math.floor(n / QUEUES);
  outer: for (;;) {
    for (let q = 0; q < QUEUES; q++) {
      for (let off = 0; off < perQueue; off += 32) {
        const r = await store.getMessage('BenchTopic', q, off, 32, 1 << 20);
        read += r.messageCount;
        if ((off & 1023) === 0 && performance.now() > until) break outer;
      }
    }
  }
  rows.push(['reads by queue offset (32 per call)', rate(read, performance.now() - t0), '>= 500,000/s']);
});

await withStore({ flushDiskType: 'SYNC_FLUSH' }, async (store) => {
  const { n, ms } = await appendFor(store, 256, SECONDS);
  rows.push(['appends SYNC_FLUSH (256 appenders)', rate(n, ms), '>= 50,000/s']);
});

await withStore({ flushDiskType: 'ASYNC_FLUSH' }, async (store, dir) => {
  const target = RECOVERY_GIB * 1024 * 1024 * 1024;
  const perMsg = 1024 + 91 + 'BenchTopic'.length + 30;
  const t0 = performance.now();
  const { n } = await appendFor(store, 4096, 120, Math.ceil(target / perMsg));
  await store.flush();
  const fillMs = performance.now() - t0;
  const bytes = store.getMaxPhyOffset();
  await store.crashForTest();
  // Worst case: no checkpoint, so every record is verified and re-dispatched to queues and index.
  writeFileSync(join(dir, 'checkpoint'), Buffer.alloc(4096));
  const t1 = performance.now();
  const again = await MessageStore.open({ storePathRootDir: dir, flushDiskType: 'ASYNC_FLUSH' });
  const full = performance.now() - t1;
  const ok = again.getMaxOffsetInQueue('BenchTopic', 0) === Math.ceil(n / QUEUES);
  await again.crashForTest();
  // Usual crash: the checkpoint (written at open and every flush) bounds what is verified and
  // re-dispatched to the segment holding it (here the only, 1 GiB, segment).
  const t2 = performance.now();
  const third = await MessageStore.open({ storePathRootDir: dir, flushDiskType: 'ASYNC_FLUSH' });
  const usual = performance.now() - t2;
  await third.shutdown();
  rows.push([`recovery of ${(bytes / 2 ** 30).toFixed(2)} GiB, no checkpoint (verify + rebuild all)`, `${(full / 1000).toFixed(2)} s${ok ? '' : ' (QUEUE MISMATCH)'}`, '< 5 s']);
  rows.push([`recovery of ${(bytes / 2 ** 30).toFixed(2)} GiB, with a checkpoint (verify its segment)`, `${(usual / 1000).toFixed(2)} s`, '< 5 s']);
  rows.push([`(fill: ${n.toLocaleString('en-US')} appends)`, `${(fillMs / 1000).toFixed(1)} s`, '']);
  await store.shutdown().catch(() => undefined);
});

const width = Math.max(...rows.map((r) => r[0].length));
process.stdout.write(`store bench: Node ${process.version}, ${cpus().length} cores, ${new Date().toISOString().slice(0, 10)}, 1 KiB bodies\n`);
for (const [name, value, target] of rows) process.stdout.write(`${name.padEnd(width)}  ${value.padStart(14)}  ${target}\n`);
