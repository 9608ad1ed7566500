// Issue 10, part 2: the store on a real full filesystem (a small tmpfs with a filler file).
// Puts are refused with DISK_FULL and a remark naming the cause, nothing acknowledged is lost or
// damaged, reads go on, and writes resume by themselves once the filler is removed; a restart
// on the full disk opens cleanly.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodeMessage } from '../../src/common/index.js';
import { atomicWriteFile, GetMessageStatus, JsonConfigFile, MessageStore, PutMessageStatus, type MessageStoreConfig, type PutMessageResult } from '../../src/store/index.js';
import { checkFor } from '../helpers/check-for.js';
import { tempDir } from '../helpers/temp-dir.js';
import { msgInput } from './store-helpers.js';
import { mountTmpfs, tmpfsUnavailable } from './tmpfs.js';

const skip = tmpfsUnavailable();
const MiB = 1024 * 1024;
const BASE: Partial<MessageStoreConfig> = {
  mappedFileSizeCommitLog: MiB,
  mappedFileSizeConsumeQueue: 20 * 1024,
  indexHashSlotNum: 256,
  indexNum: 4096,
  diskCheckInterval: 50,
  // The ratio check stays out of the way: the filesystem itself runs out first.
  diskSpaceWarningLevelRatio: 100,
  diskMaxUsedSpaceRatio: 100,
};

interface Acked {
  topic: string;
  queueId: number;
  queueOffset: number;
  body: string;
}

/** Every acknowledged message is in its queue at its offset with its body; queues hold nothing else. */
async function assertAllReadable(store: MessageStore, acked: Acked[], what: string): Promise<void> {
  const byQueue = new Map<string, Acked[]>();
  for (const a of acked) {
    const k = `${a.topic}/${a.queueId}`;
    if (!byQueue.has(k)) byQueue.set(k, []);
    byQueue.get(k)!.push(a);
  }
  for (const [k, list] of byQueue) {
    const [topic, q] = k.split('/');
    list.sort((x, y) => x.queueOffset - y.queueOffset);
    assert.equal(store.getMaxOffsetInQueue(topic, Number(q)), list.length, `${what}: ${k} holds exactly the acknowledged messages`);
    for (let i = 0; i < list.length; ) {
      const r = await store.getMessage(topic, Number(q), i, 64, 4 * MiB);
      assert.equal(r.status, GetMessageStatus.FOUND, `${what}: ${k} offset ${i} readable`);
      for (const b of r.buffers) {
        const m = decodeMessage(b);
        assert.equal(m.queueOffset, list[i].queueOffset, `${what}: ${k} offsets are dense`);
        assert.equal(m.body.toString(), list[i].body, `${what}: ${k}@${i} body`);
        i++;
      }
    }
  }
}

function body(round: string, i: number, size: number): string {
  const head = `${round}-${i}-`;
  return head + 'x'.repeat(Math.max(0, size - head.length));
}

/**
 * Puts with `concurrency` in flight until one is refused (or `max` is reached); returns the
 * acknowledged ones and the first refusal.
 */
async function putUntilRefused(
  store: MessageStore,
  round: string,
  opts: { topic: (i: number) => string; queueId: (i: number) => number; size: number; max: number; concurrency: number },
): Promise<{ acked: Acked[]; refusal: PutMessageResult | undefined; answers: number }> {
  const acked: Acked[] = [];
  let refusal: PutMessageResult | undefined;
  let next = 0;
  let answers = 0;
  const worker = async (): Promise<void> => {
    while (!refusal && next < opts.max) {
      const i = next++;
      const b = body(round, i, opts.size);
      const topic = opts.topic(i);
      const queueId = opts.queueId(i);
      const r = await store.putMessage(msgInput(topic, queueId, b));
      answers++;
      if (r.status === PutMessageStatus.PUT_OK) acked.push({ topic, queueId, queueOffset: r.queueOffset, body: b });
      else refusal ??= r;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  return { acked, refusal, answers };
}

describe('store disk full (real tmpfs)', { skip }, () => {
  for (const flushDiskType of ['ASYNC_FLUSH', 'SYNC_FLUSH'] as const) {
    test(`store disk full - issue 10: ENOSPC on the commit log refuses puts, keeps every acknowledged one, resumes once space is freed (${flushDiskType})`, async () => {
      using fs = mountTmpfs(24);
      const root = `${fs.path}/store`;
      const cfg = { storePathRootDir: root, ...BASE, flushDiskType };
      let store = await MessageStore.open(cfg);
      const acked: Acked[] = [];
      try {
        const before = await putUntilRefused(store, 'warm', { topic: () => 'DF', queueId: (i) => i % 4, size: 900, max: 200, concurrency: 8 });
        assert.equal(before.refusal, undefined, 'puts succeed while there is room');
        acked.push(...before.acked);

        fs.fill(2 * MiB);
        // 2 MiB of headroom takes ~2,000 records of 1 KiB; 20,000 bounds the loop if none is refused.
        const full = await putUntilRefused(store, 'full', { topic: () => 'DF', queueId: (i) => i % 4, size: 900, max: 20_000, concurrency: 16 });
        acked.push(...full.acked);
        assert.ok(full.refusal, `a put is refused once the disk is full (${full.answers} answered)`);
        assert.equal(full.refusal.status, PutMessageStatus.DISK_FULL);
        assert.match(full.refusal.remark ?? '', /ENOSPC/);
        assert.match(full.refusal.remark ?? '', /resume once space is freed/);
        const again = await store.putMessage(msgInput('DF', 0, 'still full'));
        assert.equal(again.status, PutMessageStatus.DISK_FULL, 'the store keeps refusing while the disk is full');
        assert.equal(store.runtimeInfo().writeFailure, '', 'a full disk is not a failed store');

        // Reads go on while full, and no refused put's bytes are visible.
        await assertAllReadable(store, acked, 'while full');
        assert.equal(store.getMaxPhyOffset(), store.commitLog.maxOffset);

        fs.unfill();
        const back = await checkFor(5_000, 20, async () => {
          const r = await store.putMessage(msgInput('DF', 1, body('resume', 0, 900)));
          return r.status === PutMessageStatus.PUT_OK ? r : undefined;
        }, 'a put accepted after the filler is removed');
        acked.push({ topic: 'DF', queueId: 1, queueOffset: back.queueOffset, body: body('resume', 0, 900) });
        const after = await putUntilRefused(store, 'after', { topic: () => 'DF', queueId: (i) => i % 4, size: 900, max: 500, concurrency: 8 });
        assert.equal(after.refusal, undefined, 'every put is accepted after space was freed');
        acked.push(...after.acked);
        await assertAllReadable(store, acked, 'after the filler was removed');

        // A restart finds a clean log: nothing to cut, everything readable.
        await store.shutdown();
        store = await MessageStore.open(cfg);
        assert.equal(store.recovery.abnormal, false);
        assert.equal(store.recovery.commitLog.truncatedBytes, 0, 'no torn bytes were left behind');
        await assertAllReadable(store, acked, 'after a restart');
      } finally {
        await store.shutdown();
      }
    });
  }

  test('store disk full - issue 10: a consume-queue write that fails with ENOSPC blocks puts, loses nothing acknowledged, and the queue catches up by itself, also across a restart on the full disk', async () => {
    using fs = mountTmpfs(24);
    const root = `${fs.path}/store`;
    const cfg = { storePathRootDir: root, ...BASE };
    const dispatched = new Set<string>();
    const open = (): Promise<MessageStore> => MessageStore.open(cfg, { onDispatch: (d) => dispatched.add(`${d.topic}/${d.queueId}@${d.queueOffset}`) });
    // One new queue per put: each consume-queue file needs a page of its own, while 40 small
    // records share one commit-log page, so the queue writes run out of space first.
    const spread = (base: number) => ({ topic: () => 'CQ', queueId: (i: number) => base + i, size: 60, max: 4_000, concurrency: 1 });
    let store = await open();
    try {
      fs.fill(MiB);
      const run = await putUntilRefused(store, 'cq', spread(0));
      assert.ok(run.refusal, `a put is refused (${run.answers} answered)`);
      assert.equal(run.refusal.status, PutMessageStatus.DISK_FULL);
      assert.match(run.refusal.remark ?? '', /consume queue or index/);
      assert.match(run.refusal.remark ?? '', /ENOSPC/);
      const acked = run.acked;
      assert.ok(acked.length > 10, `${acked.length} acknowledged before the refusal`);
      assert.notEqual(store.runtimeInfo().dispatchBlocked, '');

      fs.unfill();
      await checkFor(5_000, 20, () => store.runtimeInfo().dispatchBlocked === '', 'dispatch caught up');
      await assertAllReadable(store, acked, 'after catching up');
      for (const a of acked) assert.ok(dispatched.has(`${a.topic}/${a.queueId}@${a.queueOffset}`), `onDispatch saw queue ${a.queueId}`);
      const r = await store.putMessage(msgInput('CQ', 0, body('after', 0, 60)));
      assert.equal(r.status, PutMessageStatus.PUT_OK, 'puts accepted again');
      acked.push({ topic: 'CQ', queueId: 0, queueOffset: r.queueOffset, body: body('after', 0, 60) });

      // Full again; a shutdown on the full disk does not throw, and the reopen (its recovery
      // re-dispatch hits ENOSPC too) serves what it has and keeps refusing puts.
      fs.fill(MiB);
      const second = await putUntilRefused(store, 'cq2', spread(10_000));
      assert.equal(second.refusal?.status, PutMessageStatus.DISK_FULL);
      acked.push(...second.acked);
      await store.shutdown();
      store = await open();
      assert.equal((await store.putMessage(msgInput('CQ', 0, 'refused'))).status, PutMessageStatus.DISK_FULL);
      const first = await store.getMessage('CQ', 0, 0, 1);
      assert.equal(first.status, GetMessageStatus.FOUND, 'records dispatched before the disk filled are served');

      fs.unfill();
      await checkFor(5_000, 20, () => store.runtimeInfo().dispatchBlocked === '', 'dispatch caught up after the restart');
      await assertAllReadable(store, acked, 'after the restart on the full disk');
      await store.shutdown();
      store = await open();
      assert.equal(store.recovery.commitLog.truncatedBytes, 0);
      await assertAllReadable(store, acked, 'after a clean restart');
    } finally {
      await store.shutdown();
    }
  });

  test('store disk full - disk use over diskSpaceWarningLevelRatio refuses puts with the ratio in the remark, and clears by itself', async () => {
    using fs = mountTmpfs(16);
    const root = `${fs.path}/store`;
    const store = await MessageStore.open({ storePathRootDir: root, ...BASE, diskSpaceWarningLevelRatio: 80 });
    try {
      assert.equal((await store.putMessage(msgInput('R', 0, 'before'))).status, PutMessageStatus.PUT_OK);
      fs.fill(MiB);
      let accepted = 1;
      // Puts made before the next disk check are still accepted (there is room): count them.
      const refused = await checkFor(5_000, 20, async () => {
        const r = await store.putMessage(msgInput('R', 0, 'over'));
        if (r.status === PutMessageStatus.PUT_OK) accepted++;
        return r.status === PutMessageStatus.DISK_FULL ? r : undefined;
      }, 'a refusal past the warning level');
      assert.match(refused.remark ?? '', /over diskSpaceWarningLevelRatio 80%/);
      assert.match(refused.remark ?? '', /^CL: 0\.9\d/);
      fs.unfill();
      const before = Date.now();
      await checkFor(5_000, 20, async () => (await store.putMessage(msgInput('R', 0, 'after'))).status === PutMessageStatus.PUT_OK, 'puts accepted again');
      assert.ok(Date.now() - before < 2_000, 'within a few disk checks');
      assert.equal(store.getMaxOffsetInQueue('R', 0), accepted + 1, 'only the accepted puts are in the queue');
    } finally {
      await store.shutdown();
    }
  });

  test('store disk full - replicated appends that hit ENOSPC are refused, leave the copy at a record boundary, and continue once space is freed', async (t) => {
    using fs = mountTmpfs(8);
    using srcDir = tempDir('apogee-df-src-');
    const small = { mappedFileSizeCommitLog: 64 * 1024, mappedFileSizeConsumeQueue: 20 * 64, indexHashSlotNum: 64, indexNum: 1024 };
    const a = await MessageStore.open({ storePathRootDir: srcDir.path, ...small });
    const b = await MessageStore.open({ storePathRootDir: `${fs.path}/copy`, ...small, diskCheckInterval: 50, diskSpaceWarningLevelRatio: 100 });
    try {
      for (let i = 0; i < 600; i++) {
        const r = await a.putMessage(msgInput(`T${i % 2}`, i % 3, body('rep', i, 200 + ((i * 37) % 1800))));
        assert.equal(r.status, PutMessageStatus.PUT_OK);
      }
      await a.flush();
      const end = a.getWrittenPhyOffset();
      const cuts = [777, 13, 4001, 91, 65536];
      let n = 0;
      // Copies from the copy's end in pieces cut inside records; stops at the first refusal.
      const copy = async (): Promise<Error | undefined> => {
        while (b.getMaxPhyOffset() < end) {
          const piece = await a.readRawCommitLog(b.getMaxPhyOffset(), cuts[n++ % cuts.length]);
          assert.ok(piece && piece.length > 0);
          try {
            await b.appendReplicated(b.getMaxPhyOffset(), piece);
          } catch (err) {
            return err as Error;
          }
        }
        return undefined;
      };
      fs.fill(256 * 1024);
      const refused = await copy();
      assert.ok(refused, 'an append is refused once the disk is full');
      assert.match(refused.message, /ENOSPC/);
      const held = b.getMaxPhyOffset();
      assert.ok(held < end, `the copy stopped at ${held} of ${end}`);
      t.diagnostic(`copy held ${held} of ${end} when refused: ${refused.message}`);
      // What the copy holds is whole records only: every queue entry it has is readable.
      for (const [t, q] of [['T0', 0], ['T1', 1], ['T0', 2]] as const) {
        const max = b.getMaxOffsetInQueue(t, q);
        if (max > 0) assert.equal((await b.getMessage(t, q, max - 1, 1)).status, GetMessageStatus.FOUND);
      }
      fs.unfill();
      await checkFor(5_000, 20, async () => (await copy()) === undefined, 'the copy completes once space is freed');
      assert.equal(b.getMaxPhyOffset(), end);
      for (const t of ['T0', 'T1']) {
        for (const q of [0, 1, 2]) {
          assert.equal(b.getMaxOffsetInQueue(t, q), a.getMaxOffsetInQueue(t, q), `${t}/${q}`);
          const x = await a.getMessage(t, q, 0, 1000, 64 * 1024 * 1024);
          const y = await b.getMessage(t, q, 0, 1000, 64 * 1024 * 1024);
          assert.deepEqual(y.buffers, x.buffers, `${t}/${q} records`);
        }
      }
    } finally {
      await b.shutdown();
      await a.shutdown();
    }
  });

  test('store disk full - a metadata write that fails with ENOSPC keeps the old file, leaves no temp file, and is written once space is freed', async () => {
    using fs = mountTmpfs(4);
    const path = `${fs.path}/config/consumerOffset.json`;
    await atomicWriteFile(path, '{"old":true}');
    fs.fill(0);
    const big = 'o'.repeat(256 * 1024);
    await assert.rejects(atomicWriteFile(path, big), /ENOSPC/);
    assert.equal(readFileSync(path, 'utf8'), '{"old":true}');
    assert.deepEqual(readdirSync(`${fs.path}/config`), ['consumerOffset.json'], 'no temp file left behind');

    const f = JsonConfigFile.load(path, () => ({}));
    f.update(() => ({ offsets: big }));
    await assert.rejects(f.flush(), /ENOSPC/, 'flush reports the failed write');
    fs.unfill();
    await f.flush();
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { offsets: big });
  });
});
