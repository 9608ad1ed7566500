// The next consume-queue file is created in the thread pool before the queue reaches it (issue 17):
// after a write the following file already exists (empty), crossing into it keeps every entry, and a
// process killed with a prepared file on disk reopens with every acknowledged entry and no empty
// file left at the end of a queue.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GetMessageStatus, MessageStore } from '../../src/store/index.js';
import { checkFor } from '../helpers/check-for.js';
import { tempDir } from '../helpers/temp-dir.js';
import { CRASH_STORE_CONFIG } from './fixtures/crash-shared.js';
import { msgInput } from './store-helpers.js';

const CQ_ENTRIES = 64;
const SMALL = { mappedFileSizeCommitLog: 1024 * 1024, mappedFileSizeConsumeQueue: 20 * CQ_ENTRIES, indexHashSlotNum: 16, indexNum: 4000 };
const name = (start: number): string => String(start).padStart(20, '0');
const cqFiles = (root: string, topic: string, q: number): string[] => readdirSync(join(root, 'consumequeue', topic, String(q))).filter((f) => /^\d{20}$/.test(f)).sort();

async function readAll(store: MessageStore, topic: string, q: number): Promise<number[]> {
  const phys: number[] = [];
  for (let off = store.getMinOffsetInQueue(topic, q); ; ) {
    const r = await store.getMessage(topic, q, off, 32);
    if (r.messageCount === 0) break;
    for (const b of r.buffers) phys.push(Number(b.readBigInt64BE(28)));
    off = r.nextBeginOffset;
  }
  return phys;
}

void test('consume-queue preallocation - the next file exists empty before the queue reaches it, and crossing boundaries keeps every entry', async () => {
  using dir = tempDir('apogee-cq-prealloc-');
  const store = await MessageStore.open({ storePathRootDir: dir.path, ...SMALL });
  const FILE = 20 * CQ_ENTRIES;
  const wrote: number[] = [];
  try {
    // Prepared once the newest file is three quarters full (48 of 64 entries), not before.
    for (let i = 0; i < 50; i++) wrote.push((await store.putMessage(msgInput('T', 0, Buffer.alloc(100, i)))).wroteOffset);
    const next = join(dir.path, 'consumequeue', 'T', '0', name(FILE));
    await checkFor(5000, 10, () => existsSync(next), 'the second consume-queue file prepared');
    assert.equal(statSync(next).size, 0, 'prepared, not written');
    for (let i = 50; i < 3 * CQ_ENTRIES + 50; i++) wrote.push((await store.putMessage(msgInput('T', 0, Buffer.alloc(100, i)))).wroteOffset);
    assert.deepEqual(cqFiles(dir.path, 'T', 0).slice(0, 4), [0, 1, 2, 3].map((k) => name(k * FILE)), 'four files in use');
    await checkFor(5000, 10, () => existsSync(join(dir.path, 'consumequeue', 'T', '0', name(4 * FILE))), 'the file after the current one prepared');
    assert.deepEqual(await readAll(store, 'T', 0), wrote);
  } finally {
    await store.shutdown();
  }
  assert.deepEqual(cqFiles(dir.path, 'T', 0), [0, 1, 2, 3].map((k) => name(k * FILE)), 'shutdown removes the unused prepared file');
  const again = await MessageStore.open({ storePathRootDir: dir.path, ...SMALL });
  try {
    assert.deepEqual(await readAll(again, 'T', 0), wrote);
    assert.equal(again.getMaxOffsetInQueue('T', 0), wrote.length);
  } finally {
    await again.shutdown();
  }
});

interface Ack {
  queueId: number;
  queueOffset: number;
  phy: number;
}

/** Runs the crash appender (SYNC_FLUSH, 1,000 entries per consume-queue file) and SIGKILLs it once it acked `kills` puts. */
function appendAndKill(dir: string, killAfter: number): Promise<Ack[]> {
  const fixture = fileURLToPath(new URL('./fixtures/crash-appender.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir, '1', '64'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const acks: Ack[] = [];
    let buf = '';
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith('ack ')) continue;
        const [, q, o, p] = line.split(' ');
        acks.push({ queueId: Number(q), queueOffset: Number(o), phy: Number(p) });
        if (acks.length === killAfter) child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`appender exited (code ${code}, signal ${signal}): ${err}`));
      else resolve(acks);
    });
  });
}

void test('consume-queue preallocation - a SIGKILL after queues crossed file boundaries keeps every acknowledged entry; no empty file is left at a queue end', async () => {
  using dir = tempDir('apogee-cq-prealloc-kill-');
  // Four queues of 1,000-entry files: 11,600 acks put about 2,900 entries in each, past two
  // boundaries and far enough into the third file that its successor is prepared.
  const acks = await appendAndKill(dir.path, 11_600);
  assert.ok(acks.length >= 11_600, `acks before the kill: ${acks.length}`);
  const queueDirs = readdirSync(join(dir.path, 'consumequeue', 'Crash'));
  const emptyTails = queueDirs.filter((q) => {
    const files = cqFiles(dir.path, 'Crash', Number(q));
    return statSync(join(dir.path, 'consumequeue', 'Crash', q, files[files.length - 1])).size === 0;
  });
  assert.ok(emptyTails.length > 0, 'the kill left prepared (empty) files behind');
  const store = await MessageStore.open({ storePathRootDir: dir.path, ...CRASH_STORE_CONFIG });
  const maxOffsets = new Map<number, number>();
  try {
    for (const a of acks) {
      const g = await store.getMessage('Crash', a.queueId, a.queueOffset, 1);
      assert.equal(g.status, GetMessageStatus.FOUND, `queue ${a.queueId} offset ${a.queueOffset}`);
      assert.equal(Number(g.buffers[0].readBigInt64BE(28)), a.phy);
    }
    for (const q of store.getQueueIds('Crash')) maxOffsets.set(q, store.getMaxOffsetInQueue('Crash', q));
  } finally {
    await store.shutdown();
  }
  // After a clean stop: the reopened store may have prepared a file of its own (its queues are
  // three quarters into a file), which its shutdown removes; an empty file the kill left and the
  // load kept would still be there.
  const fileBytes = CRASH_STORE_CONFIG.mappedFileSizeConsumeQueue;
  assert.equal(maxOffsets.size, queueDirs.length);
  for (const [q, max] of maxOffsets) {
    const files = cqFiles(dir.path, 'Crash', q);
    assert.ok(files.length >= 3, `queue ${q} crossed two boundaries (${files.length} files)`);
    const last = files[files.length - 1];
    assert.ok(statSync(join(dir.path, 'consumequeue', 'Crash', String(q), last)).size > 0, `queue ${q}: no empty file at the end`);
    assert.equal(Number(last), Math.floor(((max - 1) * 20) / fileBytes) * fileBytes, `queue ${q}: the last file holds the last entry`);
  }
});
