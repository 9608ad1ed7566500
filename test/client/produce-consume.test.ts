import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStandalone } from '../helpers/standalone.js';
import { checkFor } from '../helpers/check-for.js';
import { AdminClient, Producer, PushConsumer, type MessageExt } from '../../src/client/index.js';

test('client - produce/consume round trip keeps tags, keys, properties and ids', async () => {
  await using s = await startStandalone();
  const admin = new AdminClient({ namesrvAddr: s.namesrvAddr });
  const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-rt' });
  const got: MessageExt[] = [];
  const consumer = new PushConsumer({
    namesrvAddr: s.namesrvAddr,
    consumerGroup: 'cg-rt',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    handler: (msgs) => {
      got.push(...msgs);
      return 'SUCCESS';
    },
  });
  try {
    await admin.createTopic(s.brokerAddr, 'RoundTrip', { readQueueNums: 4, writeQueueNums: 4 });
    await checkFor(5000, 20, () => admin.topicRoute('RoundTrip').then(() => true), 'route of RoundTrip');
    await producer.start();
    const sent = [];
    for (let i = 0; i < 6; i++) {
      sent.push(
        await producer.send({
          topic: 'RoundTrip',
          body: `hello ${i}`,
          tags: i % 2 === 0 ? 'TagA' : 'TagB',
          keys: [`k${i}`, 'common'],
          properties: { color: 'blue' },
        }),
      );
    }
    for (const r of sent) {
      assert.equal(r.sendStatus, 'SEND_OK');
      assert.match(r.msgId, /^[0-9A-F]{32}$/);
      assert.match(r.offsetMsgId, /^[0-9A-F]{32}$/);
      assert.notEqual(r.msgId, r.offsetMsgId);
      assert.equal(r.transactionId, r.msgId);
    }
    // Round robin spreads six sends over all four queues.
    assert.equal(new Set(sent.map((r) => r.messageQueue.queueId)).size, 4);

    consumer.subscribe('RoundTrip', 'TagA');
    await consumer.start();
    await checkFor(10_000, 20, () => got.length >= 3, 'three TagA messages');
    const byBody = new Map(got.map((m) => [m.body.toString(), m]));
    assert.deepEqual([...byBody.keys()].sort(), ['hello 0', 'hello 2', 'hello 4']);
    const m0 = byBody.get('hello 0') as MessageExt;
    const r0 = sent[0];
    assert.equal(m0.topic, 'RoundTrip');
    assert.equal(m0.tags, 'TagA');
    assert.deepEqual(m0.keys, ['k0', 'common']);
    assert.equal(m0.properties.color, 'blue');
    assert.equal(m0.msgId, r0.msgId);
    assert.equal(m0.offsetMsgId, r0.offsetMsgId);
    assert.equal(m0.queueId, r0.messageQueue.queueId);
    assert.equal(m0.queueOffset, r0.queueOffset);
    assert.equal(m0.reconsumeTimes, 0);
    assert.ok(m0.storeTimestamp >= m0.bornTimestamp - 1000);
  } finally {
    await consumer.shutdown();
    await producer.shutdown();
    await admin.shutdown();
  }
});

test('client - binary-header (ROCKETMQ) clients send, batch, oneway and compress', async () => {
  await using s = await startStandalone();
  const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-bin', serializeType: 'ROCKETMQ' });
  const got = new Map<string, MessageExt>();
  const consumer = new PushConsumer({
    namesrvAddr: s.namesrvAddr,
    consumerGroup: 'cg-bin',
    serializeType: 'ROCKETMQ',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    handler: (msgs) => {
      for (const m of msgs) got.set(m.keys[0] ?? m.msgId, m);
      return 'SUCCESS';
    },
  });
  try {
    await producer.start();
    // Unknown topic: the producer borrows TBW102's route and the broker auto-creates it.
    const single = await producer.send({ topic: 'BinTopic', body: 'single', keys: 'single' });
    assert.equal(single.sendStatus, 'SEND_OK');

    const big = Buffer.alloc(64 * 1024, 'abcdefgh');
    const bigResult = await producer.send({ topic: 'BinTopic', body: big, keys: 'big' });
    assert.equal(bigResult.sendStatus, 'SEND_OK');

    const batch = await producer.sendBatch([
      { topic: 'BinTopic', body: 'b0', keys: 'batch0', tags: 'T' },
      { topic: 'BinTopic', body: 'b1', keys: 'batch1', tags: 'T' },
      { topic: 'BinTopic', body: 'b2', keys: 'batch2', tags: 'T' },
    ]);
    assert.equal(batch.sendStatus, 'SEND_OK');
    const batchIds = batch.msgId.split(',');
    assert.equal(batchIds.length, 3);

    await producer.sendOneway({ topic: 'BinTopic', body: 'oneway', keys: 'oneway' });

    consumer.subscribe('BinTopic');
    await consumer.start();
    await checkFor(10_000, 20, () => got.size >= 6, 'all six messages');
    assert.equal(got.get('single')?.body.toString(), 'single');
    assert.equal(got.get('single')?.msgId, single.msgId);
    const bigMsg = got.get('big') as MessageExt;
    assert.ok(bigMsg.body.equals(big), 'compressed body comes back inflated');
    assert.equal(bigMsg.sysFlag & 1, 1, 'stored with the COMPRESSED flag');
    for (let i = 0; i < 3; i++) {
      const m = got.get(`batch${i}`) as MessageExt;
      assert.equal(m.body.toString(), `b${i}`);
      assert.equal(m.msgId, batchIds[i]);
      assert.equal(m.queueId, batch.messageQueue.queueId, 'a batch lands in one queue');
      assert.equal(m.queueOffset, batch.queueOffset + i);
    }
    assert.equal(got.get('oneway')?.body.toString(), 'oneway');
  } finally {
    await consumer.shutdown();
    await producer.shutdown();
  }
});

test('client - ordered sends by sharding key or selector stay in one queue', async () => {
  await using s = await startStandalone();
  const admin = new AdminClient({ namesrvAddr: s.namesrvAddr });
  const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-order' });
  try {
    await admin.createTopic(s.brokerAddr, 'OrderTopic', { readQueueNums: 8, writeQueueNums: 8 });
    await checkFor(5000, 20, () => admin.topicRoute('OrderTopic').then(() => true), 'route');
    await producer.start();
    const queues = new Set<number>();
    let last = -1;
    for (let i = 0; i < 10; i++) {
      const r = await producer.send({ topic: 'OrderTopic', body: `o${i}` }, { shardingKey: 'order-42' });
      queues.add(r.messageQueue.queueId);
      assert.ok(r.queueOffset > last, 'offsets grow in send order');
      last = r.queueOffset;
    }
    assert.equal(queues.size, 1);
    const r = await producer.send({ topic: 'OrderTopic', body: 'sel' }, { selector: (mqs) => mqs[5] });
    assert.equal(r.messageQueue.queueId, 5);
  } finally {
    await producer.shutdown();
    await admin.shutdown();
  }
});

test('client - send errors: unknown topic without auto-create and bad input are refused', async () => {
  await using s = await startStandalone({ autoCreateTopicEnable: false });
  const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-err' });
  try {
    await assert.rejects(producer.send({ topic: 'Nope', body: 'x' }), /not running/);
    await producer.start();
    await assert.rejects(producer.send({ topic: 'Nope', body: 'x' }), /no route info of this topic: Nope/);
    await assert.rejects(producer.send({ topic: 'bad topic!', body: 'x' }), /illegal characters/);
    await assert.rejects(producer.send({ topic: 'T', body: '' }), /body is empty/);
  } finally {
    await producer.shutdown();
  }
});
