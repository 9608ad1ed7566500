import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStandalone } from '../helpers/standalone.js';
import { checkFor } from '../helpers/check-for.js';
import { AdminClient, Producer, PushConsumer, type MessageExt, type PushConsumerOptions } from '../../src/client/index.js';

function consumer(namesrvAddr: string, group: string, onMsg: (m: MessageExt) => void, more: Partial<PushConsumerOptions> = {}): PushConsumer {
  return new PushConsumer({
    namesrvAddr,
    consumerGroup: group,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    handler: (msgs) => {
      for (const m of msgs) onMsg(m);
      return 'SUCCESS';
    },
    ...more,
  });
}

async function createTopic(namesrvAddr: string, brokerAddr: string, topic: string, queues: number): Promise<void> {
  const admin = new AdminClient({ namesrvAddr });
  try {
    await admin.createTopic(brokerAddr, topic, { readQueueNums: queues, writeQueueNums: queues });
    await checkFor(5000, 20, async () => (await admin.topicRoute(topic)).queueDatas[0]?.readQueueNums === queues, `route of ${topic}`);
  } finally {
    await admin.shutdown();
  }
}

test('push consumer - two consumers of one group share 8 queues with no loss and no duplicates', async () => {
  await using s = await startStandalone();
  await createTopic(s.namesrvAddr, s.brokerAddr, 'Shared8', 8);
  const seen = new Map<string, number>();
  const by = { a: 0, b: 0 };
  const record = (who: 'a' | 'b') => (m: MessageExt) => {
    seen.set(m.body.toString(), (seen.get(m.body.toString()) ?? 0) + 1);
    by[who]++;
  };
  const a = consumer(s.namesrvAddr, 'cg-shared', record('a'));
  const b = consumer(s.namesrvAddr, 'cg-shared', record('b'));
  const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-shared' });
  try {
    a.subscribe('Shared8');
    b.subscribe('Shared8');
    await a.start();
    await b.start();
    assert.notEqual(a.clientId, b.clientId);
    await checkFor(10_000, 20, () => a.assignedQueues('Shared8').length === 4 && b.assignedQueues('Shared8').length === 4, 'a 4/4 split');
    const qa = a.assignedQueues('Shared8').map((q) => q.queueId);
    const qb = b.assignedQueues('Shared8').map((q) => q.queueId);
    assert.deepEqual([...qa, ...qb].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7]);

    await producer.start();
    const N = 400;
    for (let i = 0; i < N; i++) await producer.send({ topic: 'Shared8', body: `m${i}` });
    await checkFor(20_000, 20, () => seen.size === N, `all ${N} messages`);
    // Give stragglers a moment to show up as duplicates before counting.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(seen.size, N);
    assert.ok([...seen.values()].every((n) => n === 1), 'no message consumed twice');
    assert.ok(by.a > 0 && by.b > 0, `both consumers got work (a ${by.a}, b ${by.b})`);
  } finally {
    await producer.shutdown();
    await a.shutdown();
    await b.shutdown();
  }
});

test('push consumer - broadcasting delivers every message to every consumer', async () => {
  await using s = await startStandalone();
  await createTopic(s.namesrvAddr, s.brokerAddr, 'Bcast', 4);
  const gotA: string[] = [];
  const gotB: string[] = [];
  const opts = { messageModel: 'BROADCASTING' as const };
  const a = consumer(s.namesrvAddr, 'cg-bcast', (m) => gotA.push(m.body.toString()), opts);
  const b = consumer(s.namesrvAddr, 'cg-bcast', (m) => gotB.push(m.body.toString()), opts);
  const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-bcast' });
  try {
    a.subscribe('Bcast');
    b.subscribe('Bcast');
    await a.start();
    await b.start();
    assert.equal(a.assignedQueues('Bcast').length, 4);
    assert.equal(b.assignedQueues('Bcast').length, 4);
    assert.equal(a.assignedQueues().some((q) => q.topic.startsWith('%RETRY%')), false, 'no retry topic in broadcasting');
    await producer.start();
    for (let i = 0; i < 20; i++) await producer.send({ topic: 'Bcast', body: `b${i}` });
    await checkFor(10_000, 20, () => gotA.length === 20 && gotB.length === 20, 'both consumers got all 20');
    assert.deepEqual([...gotA].sort(), [...gotB].sort());
  } finally {
    await producer.shutdown();
    await a.shutdown();
    await b.shutdown();
  }
});

test('push consumer - a restarted consumer resumes from the committed offset', async () => {
  await using s = await startStandalone();
  await createTopic(s.namesrvAddr, s.brokerAddr, 'Resume', 2);
  const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-resume' });
  const first: string[] = [];
  const c1 = consumer(s.namesrvAddr, 'cg-resume', (m) => first.push(m.body.toString()));
  try {
    await producer.start();
    for (let i = 0; i < 10; i++) await producer.send({ topic: 'Resume', body: `first${i}` });
    c1.subscribe('Resume');
    await c1.start();
    await checkFor(10_000, 20, () => first.length === 10, 'first ten');
  } finally {
    await c1.shutdown();
  }
  const admin = new AdminClient({ namesrvAddr: s.namesrvAddr });
  const second: string[] = [];
  const c2 = consumer(s.namesrvAddr, 'cg-resume', (m) => second.push(m.body.toString()));
  try {
    // Shutdown committed both queues: together they cover the ten messages.
    const route = await admin.topicRoute('Resume');
    const brokerName = route.brokerDatas[0].brokerName;
    const q0 = await admin.queryConsumerOffset('cg-resume', { topic: 'Resume', brokerName, queueId: 0 });
    const q1 = await admin.queryConsumerOffset('cg-resume', { topic: 'Resume', brokerName, queueId: 1 });
    assert.equal(q0 + q1, 10, `committed offsets ${q0}+${q1}`);

    for (let i = 0; i < 5; i++) await producer.send({ topic: 'Resume', body: `second${i}` });
    c2.subscribe('Resume');
    await c2.start();
    await checkFor(10_000, 20, () => second.length === 5, 'the five new messages');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual([...second].sort(), ['second0', 'second1', 'second2', 'second3', 'second4']);
  } finally {
    await c2.shutdown();
    await producer.shutdown();
    await admin.shutdown();
  }
});

test('push consumer - a failed message comes back through %RETRY% with reconsumeTimes 1 and its own topic', async () => {
  const oneSecond = Array.from({ length: 18 }, () => '1s').join(' ');
  await using s = await startStandalone({ messageDelayLevel: oneSecond });
  await createTopic(s.namesrvAddr, s.brokerAddr, 'RetryMe', 1);
  const attempts: MessageExt[] = [];
  const c = new PushConsumer({
    namesrvAddr: s.namesrvAddr,
    consumerGroup: 'cg-retry',
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    handler: (msgs) => {
      attempts.push(...msgs);
      if (msgs[0].reconsumeTimes === 0) throw new Error('fail the first time');
      return 'SUCCESS';
    },
  });
  const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-retry' });
  try {
    c.subscribe('RetryMe');
    await c.start();
    assert.ok(c.assignedQueues().some((q) => q.topic === '%RETRY%cg-retry'), 'retry topic subscribed automatically');
    await producer.start();
    const sent = await producer.send({ topic: 'RetryMe', body: 'fragile', tags: 'X', keys: 'k-fragile' });
    await checkFor(15_000, 20, () => attempts.length >= 2, 'the retried delivery');
    const [firstTry, retry] = attempts;
    assert.equal(firstTry.reconsumeTimes, 0);
    assert.equal(retry.reconsumeTimes, 1);
    assert.equal(retry.topic, 'RetryMe', 'topic restored from RETRY_TOPIC');
    assert.equal(retry.properties.RETRY_TOPIC, 'RetryMe');
    assert.equal(retry.body.toString(), 'fragile');
    assert.equal(retry.tags, 'X');
    assert.equal(retry.msgId, sent.msgId, 'UNIQ_KEY survives the retry');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(attempts.length, 2, 'a success is not redelivered');
  } finally {
    await producer.shutdown();
    await c.shutdown();
  }
});
