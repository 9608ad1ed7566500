import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { allocateMessageQueueAveragely } from '../../src/client/allocate-message-queue.js';
import { ProcessQueue } from '../../src/client/process-queue.js';
import type { MessageExt, MessageQueue } from '../../src/client/message.js';

const mqs = (n: number): MessageQueue[] => Array.from({ length: n }, (_, i) => ({ topic: 'T', brokerName: 'b', queueId: i }));

test('allocate averagely - matches Java for 8 queues over 3 consumers', () => {
  const all = mqs(8);
  const cids = ['c0', 'c1', 'c2'];
  const ids = (cid: string) => allocateMessageQueueAveragely(cid, all, cids).map((q) => q.queueId);
  assert.deepEqual(ids('c0'), [0, 1, 2]);
  assert.deepEqual(ids('c1'), [3, 4, 5]);
  assert.deepEqual(ids('c2'), [6, 7]);
  assert.deepEqual(ids('stranger'), []);
  assert.deepEqual(allocateMessageQueueAveragely('c3', mqs(2), ['c0', 'c1', 'c2', 'c3']), [], 'more consumers than queues');
});

test('allocate averagely - every queue goes to exactly one consumer, sizes differ by at most one', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 12 }), (nq, nc) => {
      const all = mqs(nq);
      const cids = Array.from({ length: nc }, (_, i) => `c${String(i).padStart(2, '0')}`);
      const parts = cids.map((c) => allocateMessageQueueAveragely(c, all, cids).map((q) => q.queueId));
      const flat = parts.flat().sort((a, b) => a - b);
      assert.deepEqual(flat, all.map((q) => q.queueId));
      const sizes = parts.map((p) => p.length);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
    }),
  );
});

const msg = (offset: number): MessageExt => ({ queueOffset: offset }) as MessageExt;

test('process queue - committable offset is the smallest in flight, else one past the largest', () => {
  const pq = new ProcessQueue();
  assert.equal(pq.removeMessages([msg(0)]), -1, 'nothing in flight');
  pq.putMessages([msg(10), msg(11), msg(12)]);
  assert.equal(pq.removeMessages([msg(11)]), 10);
  assert.equal(pq.removeMessages([msg(10)]), 12);
  assert.equal(pq.removeMessages([msg(12)]), 13);
  assert.equal(pq.msgCount, 0);
});

test('process queue - agrees with a naive sorted-set model under any completion order', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 60 }),
      fc.array(fc.nat(), { maxLength: 200 }),
      (gaps, picks) => {
        const pq = new ProcessQueue();
        const offsets: number[] = [];
        let o = 0;
        for (const g of gaps) offsets.push((o += g));
        pq.putMessages(offsets.map(msg));
        const model = new Set(offsets);
        const max = offsets[offsets.length - 1];
        for (const p of picks) {
          if (model.size === 0) break;
          const remaining = [...model];
          const victim = remaining[p % remaining.length];
          model.delete(victim);
          const expected = model.size > 0 ? Math.min(...model) : max + 1;
          assert.equal(pq.removeMessages([msg(victim)]), expected);
          assert.equal(pq.msgCount, model.size);
        }
      },
    ),
  );
});

test('process queue - compaction past 1024 finished entries keeps answers right', () => {
  const pq = new ProcessQueue();
  const all = Array.from({ length: 3000 }, (_, i) => msg(i));
  pq.putMessages(all);
  for (let i = 0; i < 2500; i++) assert.equal(pq.removeMessages([all[i]]), i + 1);
  pq.putMessages([msg(3000)]);
  assert.equal(pq.removeMessages([all[2999]]), 2500);
  assert.equal(pq.msgCount, 500);
});

test('process queue - waitForSpace resolves when the queue drains below the threshold or is dropped', async () => {
  const pq = new ProcessQueue();
  pq.putMessages([msg(1), msg(2), msg(3)]);
  let woke = false;
  const w = pq.waitForSpace(3).then(() => (woke = true));
  await Promise.resolve();
  assert.equal(woke, false);
  pq.removeMessages([msg(2)]);
  await w;
  assert.equal(woke, true);
  const w2 = pq.waitForSpace(1);
  pq.drop();
  await w2;
});
