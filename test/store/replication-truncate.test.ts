// Issue 11, part 4: truncation and the confirmed offset of the store's replication API. A cut
// drops index entries as well as queue entries, is refused inside a record, may fall inside the
// partial record a copy holds; the confirmed offset follows replication, truncation and restarts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MessageStore } from '../../src/store/index.js';
import { IndexService } from '../../src/store/index-service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { msgInput } from './store-helpers.js';

const SMALL = { mappedFileSizeCommitLog: 64 * 1024, mappedFileSizeConsumeQueue: 20 * 64, indexHashSlotNum: 16, indexNum: 40 };

async function fill(store: MessageStore, from: number, n: number): Promise<number[]> {
  const offsets: number[] = [];
  for (let i = from; i < from + n; i++) {
    const r = await store.putMessage(msgInput(`T${i % 2}`, i % 3, Buffer.alloc(100 + ((i * 53) % 2500), i % 251), { KEYS: `k${i} all`, TAGS: `t${i % 4}` }));
    assert.equal(r.status, 'PUT_OK');
    offsets.push(r.wroteOffset);
  }
  await store.flush();
  return offsets;
}

/** Copies src into dst from dst's end, in pieces of `piece` bytes, up to `until` (src's end by default). */
async function copy(src: MessageStore, dst: MessageStore, piece: number, until = src.getWrittenPhyOffset()): Promise<void> {
  while (dst.getMaxPhyOffset() < until) {
    const bytes = await src.readRawCommitLog(dst.getMaxPhyOffset(), Math.min(piece, until - dst.getMaxPhyOffset()));
    assert.ok(bytes && bytes.length > 0);
    await dst.appendReplicated(dst.getMaxPhyOffset(), bytes);
  }
}

async function keyHits(store: MessageStore, topic: string, key: string): Promise<number> {
  return (await store.queryMessage(topic, key, 64, 0, Number.MAX_SAFE_INTEGER)).buffers.length;
}

async function sameQueues(a: MessageStore, b: MessageStore): Promise<void> {
  assert.equal(b.getMaxPhyOffset(), a.getWrittenPhyOffset());
  for (const t of ['T0', 'T1']) {
    for (const q of [0, 1, 2]) {
      assert.equal(b.getMaxOffsetInQueue(t, q), a.getMaxOffsetInQueue(t, q), `${t}/${q}`);
      const x = await a.getMessage(t, q, 0, 1000, 64 * 1024 * 1024);
      const y = await b.getMessage(t, q, 0, 1000, 64 * 1024 * 1024);
      assert.deepEqual(y.buffers, x.buffers, `${t}/${q} records`);
    }
  }
}

void test('store replication - a diverged copy cut with truncateTo loses the index entries above the cut and indexes what its new master wrote there, also after both restart', async () => {
  using da = tempDir('apogee-rt-a-');
  using dc = tempDir('apogee-rt-c-');
  using db = tempDir('apogee-rt-b-');
  const a = await MessageStore.open({ storePathRootDir: da.path, ...SMALL });
  let c = await MessageStore.open({ storePathRootDir: dc.path, ...SMALL });
  let b = await MessageStore.open({ storePathRootDir: db.path, ...SMALL });
  try {
    const offsets = await fill(a, 0, 150);
    // c copied the old master a up to message 100, then was promoted and wrote its own records.
    await copy(a, c, 2048, offsets[100]);
    for (let i = 0; i < 50; i++) {
      const r = await c.putMessage(msgInput(`T${i % 2}`, i % 3, Buffer.alloc(90 + ((i * 31) % 1900), 7), { KEYS: `c${i}` }));
      assert.equal(r.status, 'PUT_OK');
    }
    await c.flush();
    // b holds all of a; it cuts the 50 records no one confirmed and follows c.
    await copy(a, b, 3001);
    assert.equal(await keyHits(b, 'T1', 'k149'), 1);
    await b.truncateTo(offsets[100]);
    assert.equal(b.getMaxPhyOffset(), offsets[100]);
    assert.equal(await keyHits(b, 'T0', 'all'), 50, 'the shared key lists only records below the cut');
    await copy(c, b, 777);
    assert.equal(await keyHits(b, 'T1', 'k149'), 0);
    for (let i = 0; i < 50; i++) assert.equal(await keyHits(b, `T${i % 2}`, `c${i}`), 1, `c${i} (written where a's records were) is indexed`);
    await sameQueues(c, b);

    await c.shutdown();
    await b.shutdown();
    c = await MessageStore.open({ storePathRootDir: dc.path, ...SMALL });
    b = await MessageStore.open({ storePathRootDir: db.path, ...SMALL });
    assert.equal(b.recovery.commitLog.truncatedBytes, 0);
    await sameQueues(c, b);
    assert.equal(await keyHits(b, 'T1', 'c49'), 1);
    // Both go on after the restart: the copy continues where it stopped.
    await fill(c, 150, 40);
    await copy(c, b, 5000);
    await sameQueues(c, b);
    assert.equal(await keyHits(b, 'T1', 'k189'), 1);
  } finally {
    await b.shutdown();
    await c.shutdown();
    await a.shutdown();
  }
});

void test('store replication - a cut inside a record is refused and changes nothing; a cut inside the partial record held keeps the copy appendable', async () => {
  using da = tempDir('apogee-rt-a-');
  using db = tempDir('apogee-rt-b-');
  const a = await MessageStore.open({ storePathRootDir: da.path, ...SMALL });
  const b = await MessageStore.open({ storePathRootDir: db.path, ...SMALL });
  try {
    const offsets = await fill(a, 0, 60);
    await copy(a, b, 4096);
    const end = b.getMaxPhyOffset();
    await assert.rejects(b.truncateTo(offsets[30] + 17), /cannot truncate the commit log to \d+: no record starts there/);
    assert.equal(b.getMaxPhyOffset(), end, 'a refused cut changes nothing');
    await assert.rejects(b.truncateTo(end + 1), /ends at/);

    // The copy holds the front of record 40 only; cut inside that front, then the rest follows.
    await b.truncateTo(offsets[40]);
    const front = (await a.readRawCommitLog(offsets[40], 60))!;
    await b.appendReplicated(offsets[40], front);
    await b.truncateTo(offsets[40] + 25);
    assert.equal(b.getMaxPhyOffset(), offsets[40] + 25);
    await copy(a, b, 999);
    await sameQueues(a, b);
  } finally {
    await b.shutdown();
    await a.shutdown();
  }
});

void test('store replication - the confirmed offset defaults to the log end, is capped by it, lowered by truncation, and kept across a restart', async () => {
  using da = tempDir('apogee-rt-a-');
  using db = tempDir('apogee-rt-b-');
  const a = await MessageStore.open({ storePathRootDir: da.path, ...SMALL });
  let b = await MessageStore.open({ storePathRootDir: db.path, ...SMALL });
  try {
    const offsets = await fill(a, 0, 30);
    assert.equal(a.getConfirmedOffset(), a.getWrittenPhyOffset(), 'no replication: everything written is confirmed');
    // A copy holding a partial record confirms only the whole ones.
    await copy(a, b, 4096);
    const wholeEnd = b.getMaxPhyOffset();
    await fill(a, 30, 1);
    await b.appendReplicated(wholeEnd, (await a.readRawCommitLog(wholeEnd, 40))!);
    assert.equal(b.getMaxPhyOffset(), wholeEnd + 40);
    assert.equal(b.getConfirmedOffset(), wholeEnd);
    assert.equal(wholeEnd, offsets[29] + (await a.lookMessageByOffset(offsets[29]))!.length);

    b.setConfirmedOffset(offsets[20]);
    assert.equal(b.getConfirmedOffset(), offsets[20]);
    b.setConfirmedOffset(Number.MAX_SAFE_INTEGER);
    assert.equal(b.getConfirmedOffset(), wholeEnd, 'never past the whole records held');
    await b.truncateTo(offsets[10]);
    assert.equal(b.getConfirmedOffset(), offsets[10], 'truncation lowers it');
    await copy(a, b, 8000);
    assert.equal(b.getConfirmedOffset(), offsets[10], 'appending does not raise it: replication does');
    assert.throws(() => b.setConfirmedOffset(-1), /not a commit-log offset/);

    b.setConfirmedOffset(offsets[25]);
    await b.shutdown();
    b = await MessageStore.open({ storePathRootDir: db.path, ...SMALL });
    assert.equal(b.getConfirmedOffset(), offsets[25], 'kept in the checkpoint');
    await a.shutdown();
    const again = await MessageStore.open({ storePathRootDir: da.path, ...SMALL });
    assert.equal(again.getConfirmedOffset(), again.getWrittenPhyOffset(), 'a store replication never touched defaults to its end after a restart');
    await again.shutdown();
  } finally {
    await b.shutdown();
    await a.shutdown();
  }
});

void test('store index - truncateFrom matches a naive model over random appends and cuts across several files', async () => {
  await fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.record({ op: fc.constant('add' as const), key: fc.integer({ min: 0, max: 12 }), keys: fc.integer({ min: 1, max: 3 }) }), fc.record({ op: fc.constant('cut' as const), back: fc.integer({ min: 0, max: 60 }) })), {
        minLength: 1,
        maxLength: 120,
      }),
      (ops) => {
        using dir = tempDir('apogee-idx-');
        const now = 1_700_000_000_000;
        let index = new IndexService(dir.path, 7, 11, () => now);
        index.load();
        const model: { key: string; phy: number }[] = [];
        let phy = 0;
        for (const o of ops) {
          if (o.op === 'add') {
            phy += 100;
            const keys = Array.from({ length: o.keys }, (_, i) => `k${(o.key + i) % 13}`);
            index.buildIndex('T', keys.join(' '), undefined, phy, now + phy);
            for (const k of new Set(keys)) model.push({ key: k, phy });
          } else {
            const cut = Math.max(0, phy - o.back * 100) + 1;
            index.truncateFrom(cut);
            while (model.length && model[model.length - 1].phy >= cut) model.pop();
            phy = model.length ? model[model.length - 1].phy : 0;
          }
        }
        const check = (what: string): void => {
          for (let k = 0; k < 13; k++) {
            const want = model.filter((m) => m.key === `k${k}`).map((m) => m.phy).reverse();
            const got = [...new Set(index.queryOffsets('T', `k${k}`, 10_000, 0, Number.MAX_SAFE_INTEGER))];
            assert.deepEqual(got, want, `${what}: key k${k}`);
          }
        };
        check('in memory');
        index.close();
        index = new IndexService(dir.path, 7, 11, () => now);
        index.load();
        check('after a reopen');
        index.close();
      },
    ),
    { numRuns: 150 },
  );
});
