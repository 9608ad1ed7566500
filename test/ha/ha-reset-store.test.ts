// Issue 12: the store's side of restarting a replica's log at its master's oldest segment
// (MessageStore.resetReplica), in process: what is cleared, where queues and the log start, that
// a restart (clean or not, with or without a byte written since) keeps the new start, that the
// index holds only what came after, and what is refused.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MessageStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { msgInput } from '../store/store-helpers.js';

const SEG = 64 * 1024;
const SMALL = { mappedFileSizeCommitLog: SEG, mappedFileSizeConsumeQueue: 20 * 64, indexHashSlotNum: 16, indexNum: 400, fileReservedTime: 0 };

async function fill(store: MessageStore, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const r = await store.putMessage(msgInput(`T${i % 2}`, i % 3, Buffer.alloc(500 + ((i * 53) % 1500), i % 251), { KEYS: `k${i}`, TAGS: `t${i % 4}` }));
    assert.equal(r.status, 'PUT_OK');
  }
  await store.flush();
}

async function copy(src: MessageStore, dst: MessageStore, piece: number): Promise<void> {
  while (dst.getMaxPhyOffset() < src.getWrittenPhyOffset()) {
    const bytes = await src.readRawCommitLog(dst.getMaxPhyOffset(), piece);
    assert.ok(bytes && bytes.length > 0);
    await dst.appendReplicated(dst.getMaxPhyOffset(), bytes);
  }
}

async function sameQueues(a: MessageStore, b: MessageStore): Promise<void> {
  assert.equal(b.getMaxPhyOffset(), a.getWrittenPhyOffset());
  for (const t of ['T0', 'T1']) {
    for (const q of [0, 1, 2]) {
      const min = a.getMinOffsetInQueue(t, q);
      assert.ok(min > 0, `${t}/${q}: the master's retention moved the queue's start (${min})`);
      assert.equal(b.getMinOffsetInQueue(t, q), min, `${t}/${q} min`);
      assert.equal(b.getMaxOffsetInQueue(t, q), a.getMaxOffsetInQueue(t, q), `${t}/${q} max`);
      const x = await a.getMessage(t, q, min, 1000, 64 * 1024 * 1024);
      const y = await b.getMessage(t, q, min, 1000, 64 * 1024 * 1024);
      assert.ok(x.buffers.length > 0);
      assert.deepEqual(y.buffers, x.buffers, `${t}/${q} records`);
    }
  }
}

void test('ha reset store - issue 12: a replica behind its master\'s oldest segment restarts its log there, and its queues, index and restarts follow', async () => {
  using da = tempDir('apogee-reset-a-');
  using db = tempDir('apogee-reset-b-');
  const a = await MessageStore.open({ storePathRootDir: da.path, ...SMALL });
  let b = await MessageStore.open({ storePathRootDir: db.path, ...SMALL });
  try {
    // b copied the first ~2 segments, then fell behind while a wrote on and deleted its old segments.
    await fill(a, 0, 120);
    await copy(a, b, 5000);
    const bEnd = b.getMaxPhyOffset();
    await fill(a, 120, 400);
    await a.cleanExpiredFiles(true);
    const min = a.getMinPhyOffset();
    assert.ok(min > bEnd && min % SEG === 0, `a's oldest segment (${min}) starts past b's end (${bEnd})`);
    await assert.rejects(b.appendReplicated(min, Buffer.alloc(8)), /gap/, 'b cannot simply continue');

    await assert.rejects(b.resetReplica(bEnd), /already holds up to/, 'log the master could continue is never thrown away');
    await assert.rejects(b.resetReplica(min + 100), /not a multiple of mappedFileSizeCommitLog/);
    await b.resetReplica(min);
    assert.equal(b.getMinPhyOffset(), min);
    assert.equal(b.getMaxPhyOffset(), min);
    assert.deepEqual(b.getTopics(), [], 'consume queues cleared');
    assert.equal((await b.queryMessage('T1', 'k1', 10, 0, Number.MAX_SAFE_INTEGER)).buffers.length, 0, 'index cleared');
    assert.equal(existsSync(join(db.path, 'consumequeue')), false, 'consume-queue files removed');

    // Crash right after the reset, before any byte came: the log still starts at min.
    await b.crashForTest();
    b = await MessageStore.open({ storePathRootDir: db.path, ...SMALL });
    assert.equal(b.getMaxPhyOffset(), min);

    await copy(a, b, 3001);
    assert.equal(readdirSync(join(db.path, 'commitlog')).sort()[0], String(min).padStart(20, '0'), 'the first segment is named as the master\'s');
    await sameQueues(a, b);
    const last = 519;
    assert.equal((await b.queryMessage(`T${last % 2}`, `k${last}`, 10, 0, Number.MAX_SAFE_INTEGER)).buffers.length, 1, 'what came after the reset is indexed');

    await b.shutdown();
    b = await MessageStore.open({ storePathRootDir: db.path, ...SMALL });
    assert.equal(b.recovery.commitLog.truncatedBytes, 0);
    await sameQueues(a, b);
    // And it goes on replicating after the restart.
    await fill(a, 520, 30);
    await copy(a, b, 4096);
    await sameQueues(a, b);
  } finally {
    await b.shutdown();
    await a.shutdown();
  }
});
