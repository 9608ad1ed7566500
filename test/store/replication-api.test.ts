// Issue 11 / 12: the store's replication API. One store is copied into another through raw reads
// and appendReplicated, cut at random points (inside records, across segment ends and their blank
// padding); the copy holds the same log byte for byte and the same consume queues, survives a
// restart, refuses gaps and overlaps, and can be truncated and appended again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MessageStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { msgInput } from './store-helpers.js';

const SMALL = { mappedFileSizeCommitLog: 64 * 1024, mappedFileSizeConsumeQueue: 20 * 64, flushDiskType: 'ASYNC_FLUSH' as const };

async function fill(store: MessageStore, n: number, seed: number): Promise<void> {
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const size = 50 + (x % 3000);
    const r = await store.putMessage(msgInput(`T${i % 3}`, i % 2, Buffer.alloc(size, i % 251), { KEYS: `k${i}`, TAGS: `t${i % 4}` }));
    assert.equal(r.status, 'PUT_OK');
  }
  await store.flush();
}

/** Copies src from the replica's end to src's written end in pieces whose sizes come from cuts. */
async function copy(src: MessageStore, dst: MessageStore, cuts: number[]): Promise<void> {
  let i = 0;
  while (dst.getMaxPhyOffset() < src.getWrittenPhyOffset()) {
    const want = cuts.length ? cuts[i++ % cuts.length] : 1 << 20;
    const bytes = await src.readRawCommitLog(dst.getMaxPhyOffset(), want);
    assert.ok(bytes && bytes.length > 0, `source readable at ${dst.getMaxPhyOffset()}`);
    await dst.appendReplicated(dst.getMaxPhyOffset(), bytes);
  }
  await dst.flush();
}

async function queueBodies(store: MessageStore, topic: string, queueId: number): Promise<string[]> {
  const out: string[] = [];
  let offset = store.getMinOffsetInQueue(topic, queueId);
  const max = store.getMaxOffsetInQueue(topic, queueId);
  while (offset < max) {
    const r = await store.getMessage(topic, queueId, offset, 32);
    if (r.buffers.length === 0) break;
    for (const b of r.buffers) out.push(b.toString('hex'));
    offset = r.nextBeginOffset;
  }
  return out;
}

async function sameLog(a: MessageStore, b: MessageStore): Promise<void> {
  assert.equal(b.getMaxPhyOffset(), a.getWrittenPhyOffset());
  for (let off = 0; off < a.getWrittenPhyOffset(); ) {
    const x = await a.readRawCommitLog(off, 1 << 20);
    const y = await b.readRawCommitLog(off, 1 << 20);
    assert.ok(x && y);
    // The source's file after a blank record is short (the padding was never written); reads
    // return up to the file end, so compare the common part.
    const n = Math.min(x.length, y.length);
    assert.ok(x.subarray(0, n).equals(y.subarray(0, n)), `log bytes differ near ${off}`);
    off += n;
  }
  for (const t of ['T0', 'T1', 'T2']) {
    for (const q of [0, 1]) {
      assert.equal(b.getMaxOffsetInQueue(t, q), a.getMaxOffsetInQueue(t, q), `${t}/${q} length`);
      assert.deepEqual(await queueBodies(b, t, q), await queueBodies(a, t, q), `${t}/${q} records`);
    }
  }
}

void test('store replication - a copy made of randomly cut raw pieces is the same log and queues, also after a restart', async () => {
  using d1 = tempDir('apogee-rep-a-');
  using d2 = tempDir('apogee-rep-b-');
  const a = await MessageStore.open({ storePathRootDir: d1.path, ...SMALL });
  try {
    await fill(a, 400, 7);
    assert.ok(a.getWrittenPhyOffset() > 4 * SMALL.mappedFileSizeCommitLog, 'several segments, so blank padding is crossed');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 9000 }), { minLength: 1, maxLength: 12 }), async (cuts) => {
        using d = tempDir('apogee-rep-p-');
        const b = await MessageStore.open({ storePathRootDir: d.path, ...SMALL });
        try {
          await copy(a, b, cuts);
          await sameLog(a, b);
        } finally {
          await b.shutdown();
        }
      }),
      { numRuns: 8 },
    );
    let b = await MessageStore.open({ storePathRootDir: d2.path, ...SMALL });
    await copy(a, b, [777, 13, 65536, 91]);
    await b.shutdown();
    b = await MessageStore.open({ storePathRootDir: d2.path, ...SMALL });
    try {
      await sameLog(a, b);
      // The copy goes on where it stopped after the restart.
      await fill(a, 50, 99);
      await copy(a, b, [4001]);
      await sameLog(a, b);
      // A promoted copy numbers its own puts after what it replicated.
      const r = await b.putMessage(msgInput('T0', 0, 'own'));
      assert.equal(r.queueOffset, a.getMaxOffsetInQueue('T0', 0));
    } finally {
      await b.shutdown();
    }
  } finally {
    await a.shutdown();
  }
});

void test('store replication - gaps and overlaps are refused; a truncated copy takes the log again from the cut', async () => {
  using d1 = tempDir('apogee-rep-a-');
  using d2 = tempDir('apogee-rep-b-');
  const a = await MessageStore.open({ storePathRootDir: d1.path, ...SMALL });
  const b = await MessageStore.open({ storePathRootDir: d2.path, ...SMALL });
  try {
    await fill(a, 120, 3);
    await copy(a, b, [5000]);
    const end = b.getMaxPhyOffset();
    const piece = (await a.readRawCommitLog(0, 100))!;
    await assert.rejects(b.appendReplicated(end + 10, piece), /do not continue this log, which ends at \d+ \(gap\)/);
    await assert.rejects(b.appendReplicated(end - 10, piece), /\(overlap\)/);
    // Cut at a record boundary in the middle (a queue entry's offset), then copy again.
    const r = await a.getMessage('T1', 1, 5, 1);
    const cut = r.buffers.length ? (await a.getMessage('T1', 1, 5, 1)).buffers[0].readBigInt64BE(28) : 0n;
    assert.ok(cut > 0n);
    await b.truncateTo(Number(cut));
    assert.equal(b.getMaxPhyOffset(), Number(cut));
    assert.ok(b.getMaxOffsetInQueue('T1', 1) <= 5, 'queue entries past the cut are gone');
    await copy(a, b, [3333]);
    await sameLog(a, b);
    // Bytes that are not records are refused and change nothing.
    await assert.rejects(b.appendReplicated(b.getMaxPhyOffset(), Buffer.alloc(200, 7)), /not a record/);
    assert.equal(b.getMaxPhyOffset(), a.getWrittenPhyOffset());
  } finally {
    await b.shutdown();
    await a.shutdown();
  }
});
