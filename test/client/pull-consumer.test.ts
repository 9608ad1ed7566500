import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStandalone } from '../helpers/standalone.js';
import { checkFor } from '../helpers/check-for.js';
import { AdminClient, Producer, PullConsumer } from '../../src/client/index.js';

test('pull consumer - pulls by offset, filters by tag, and stores offsets in the broker', async () => {
  await using s = await startStandalone();
  const admin = new AdminClient({ namesrvAddr: s.namesrvAddr });
  const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-pull' });
  const pc = new PullConsumer({ namesrvAddr: s.namesrvAddr, consumerGroup: 'cg-pull' });
  try {
    await admin.createTopic(s.brokerAddr, 'PullTopic', { readQueueNums: 1, writeQueueNums: 1 });
    await checkFor(5000, 20, () => admin.topicRoute('PullTopic').then(() => true), 'route');
    await producer.start();
    for (let i = 0; i < 10; i++) await producer.send({ topic: 'PullTopic', body: `p${i}`, tags: i < 5 ? 'A' : 'B' });
    await pc.start();
    const mqs = await pc.fetchSubscribeMessageQueues('PullTopic');
    assert.equal(mqs.length, 1);
    const mq = mqs[0];

    const r1 = await pc.pull(mq, '*', 0, 4);
    assert.equal(r1.status, 'FOUND');
    assert.deepEqual(r1.msgs.map((m) => m.body.toString()), ['p0', 'p1', 'p2', 'p3']);
    assert.equal(r1.nextBeginOffset, 4);
    assert.equal(r1.minOffset, 0);
    assert.equal(r1.maxOffset, 10);

    const r2 = await pc.pull(mq, 'B', r1.nextBeginOffset, 32);
    assert.equal(r2.status, 'FOUND');
    assert.deepEqual(r2.msgs.map((m) => m.body.toString()), ['p5', 'p6', 'p7', 'p8', 'p9']);
    assert.equal(r2.nextBeginOffset, 10);

    const r3 = await pc.pull(mq, '*', 10, 32);
    assert.equal(r3.status, 'NO_NEW_MSG');
    assert.equal(r3.msgs.length, 0);
    assert.equal(r3.nextBeginOffset, 10);

    const r4 = await pc.pull(mq, '*', 999, 32);
    assert.equal(r4.status, 'OFFSET_ILLEGAL');
    // Java's store corrects an overflowing offset to minOffset while that is still 0.
    assert.equal(r4.nextBeginOffset, 0);

    assert.equal(await pc.fetchConsumeOffset(mq), 0, 'a fresh group on a full queue starts at 0');
    await pc.updateConsumeOffset(mq, 7);
    assert.equal(await pc.fetchConsumeOffset(mq), 7);
    assert.equal(await admin.queryConsumerOffset('cg-pull', mq), 7);
    assert.equal(await admin.getMaxOffset(mq), 10);
    assert.equal(await admin.getMinOffset(mq), 0);
  } finally {
    await pc.shutdown();
    await producer.shutdown();
    await admin.shutdown();
  }
});
