// Orderly push consumption (Java MessageListenerOrderly) against an in-process broker: queue
// locks (LOCK_BATCH_MQ / UNLOCK_BATCH_MQ), serial consumption in offset order, local suspend
// and retry, DLQ past a finite maxReconsumeTimes, and queue handover between consumers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, type MessageRecord } from '../../src/common/message-codec.js';
import { bodyOf, RequestCode, isOneway, type RemotingCommand } from '../../src/remoting/index.js';
import {
  AdminClient,
  Producer,
  PushConsumer,
  type MessageExt,
  type MessageListenerOrderly,
  type PushConsumerOptions,
} from '../../src/client/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';

async function createTopic(s: Standalone, topic: string, queues: number): Promise<void> {
  const admin = new AdminClient({ namesrvAddr: s.namesrvAddr });
  try {
    await admin.createTopic(s.brokerAddr, topic, { readQueueNums: queues, writeQueueNums: queues });
    await checkFor(5000, 20, async () => (await admin.topicRoute(topic)).queueDatas[0]?.readQueueNums === queues, `route of ${topic}`);
  } finally {
    await admin.shutdown();
  }
}

function orderly(s: Standalone, group: string, listener: MessageListenerOrderly, more: Partial<PushConsumerOptions> = {}): PushConsumer {
  return new PushConsumer({
    namesrvAddr: s.namesrvAddr,
    consumerGroup: group,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    messageListenerOrderly: listener,
    ...more,
  });
}

async function stored(s: Standalone, topic: string, queueId = 0): Promise<MessageRecord[]> {
  const r = await s.controller.store.getMessage(topic, queueId, 0, 64);
  return r.buffers.map((b) => decodeMessage(b, 0, { checkCrc: false }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

void describe('orderly consumer', { concurrency: true }, () => {
  void test('orderly consumer - two consumers keep every order in sequence through suspends, exclusive locks and a handover', async () => {
    await using s = await startStandalone();
    const topic = 'OrderSteps';
    const group = 'cg-orderly-steps';
    await createTopic(s, topic, 4);
    const ORDERS = 20;
    const STEPS = 10;
    const done = new Map<string, number[]>();
    const violations: string[] = [];
    const active = new Map<number, string>();
    const consumedBy = new Map<string, number>();
    const retried: { body: string; reconsumeTimes: number }[] = [];
    const lm = s.controller.lockManager;

    const listener =
      (who: () => PushConsumer): MessageListenerOrderly =>
      async (msgs) => {
        const me = who().clientId;
        for (const m of msgs) {
          const mq = { topic, brokerName: m.brokerName, queueId: m.queueId };
          if (m.topic !== topic) continue;
          if (!lm.isLockedBy(group, mq, me)) violations.push(`${me} consumed queue ${m.queueId} without holding its broker lock`);
          const other = active.get(m.queueId);
          if (other !== undefined) violations.push(`queue ${m.queueId} consumed by ${me} while ${other} was consuming it`);
          active.set(m.queueId, me);
          await sleep(1);
          active.delete(m.queueId);
          const [order, step] = m.body.toString().split(':');
          // Every third order fails step 3 once: the queue must stop until it is retried.
          if (Number(step) === 3 && Number(order.slice(1)) % 3 === 0 && m.reconsumeTimes === 0) return 'SUSPEND_CURRENT_QUEUE_A_MOMENT';
          if (m.reconsumeTimes > 0) retried.push({ body: m.body.toString(), reconsumeTimes: m.reconsumeTimes });
          const list = done.get(order) ?? [];
          list.push(Number(step));
          done.set(order, list);
          consumedBy.set(me, (consumedBy.get(me) ?? 0) + 1);
        }
        return 'SUCCESS';
      };
    const opts = { suspendCurrentQueueTimeMillis: 200 };
    const a: PushConsumer = orderly(s, group, listener(() => a), opts);
    const b: PushConsumer = orderly(s, group, listener(() => b), opts);
    const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-orderly-steps' });
    const total = () => [...done.values()].reduce((n, l) => n + l.length, 0);
    const sendSteps = async (from: number, to: number) => {
      for (let step = from; step < to; step++) {
        for (let o = 0; o < ORDERS; o++) await producer.send({ topic, body: `o${o}:${step}` }, { shardingKey: `o${o}` });
      }
    };
    try {
      a.subscribe(topic);
      b.subscribe(topic);
      await a.start();
      await b.start();
      await producer.start();
      await checkFor(10_000, 20, () => a.assignedQueues(topic).length === 2 && b.assignedQueues(topic).length === 2, 'a 2/2 split of the queues');
      for (const c of [a, b]) {
        for (const mq of c.assignedQueues(topic)) assert.ok(lm.isLockedBy(group, mq, c.clientId), `${c.clientId} holds the broker lock of queue ${mq.queueId}`);
      }

      await sendSteps(0, 5);
      await checkFor(15_000, 20, () => total() === ORDERS * 5, 'steps 0-4 of every order');
      assert.ok((consumedBy.get(a.clientId) ?? 0) > 0 && (consumedBy.get(b.clientId) ?? 0) > 0, 'both consumers got work');

      // Hand over with messages in flight: A leaves while steps 5-9 arrive.
      const sending = sendSteps(5, STEPS);
      await sleep(50);
      await a.shutdown();
      await sending;
      await checkFor(10_000, 20, () => b.assignedQueues(topic).length === 4, 'b takes over all 4 queues');
      for (const mq of b.assignedQueues(topic)) assert.ok(lm.isLockedBy(group, mq, b.clientId), `b holds queue ${mq.queueId} after the handover`);
      await checkFor(15_000, 20, () => total() >= ORDERS * STEPS, 'every step of every order');
      await sleep(300);

      const expected = Array.from({ length: STEPS }, (_, i) => i);
      for (let o = 0; o < ORDERS; o++) assert.deepEqual(done.get(`o${o}`), expected, `order o${o} consumed once each, in sequence`);
      assert.deepEqual(violations, []);
      const failing = Array.from({ length: ORDERS }, (_, o) => o).filter((o) => o % 3 === 0);
      assert.deepEqual(
        retried.map((r) => r.body).sort(),
        failing.map((o) => `o${o}:3`).sort(),
        'each suspended message came back exactly once',
      );
      assert.ok(retried.every((r) => r.reconsumeTimes === 1), 'a locally retried message carries reconsumeTimes 1');
    } finally {
      await producer.shutdown();
      await a.shutdown();
      await b.shutdown();
    }
  });

  void test('orderly consumer - past a finite maxReconsumeTimes the message goes to the DLQ and the queue moves on', async () => {
    await using s = await startStandalone();
    const topic = 'OrderPoison';
    const group = 'cg-orderly-dlq';
    await createTopic(s, topic, 1);
    const attempts: { at: number; reconsumeTimes: number }[] = [];
    const ok: string[] = [];
    const c = orderly(
      s,
      group,
      (msgs) => {
        for (const m of msgs) {
          if (m.body.toString() === 'poison') {
            attempts.push({ at: Date.now(), reconsumeTimes: m.reconsumeTimes });
            throw new Error('cannot handle poison');
          }
          ok.push(m.body.toString());
        }
        return 'SUCCESS';
      },
      { maxReconsumeTimes: 1 },
    );
    const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-orderly-dlq' });
    try {
      c.subscribe(topic);
      await c.start();
      await producer.start();
      for (const body of ['m0', 'poison', 'm2']) await producer.send({ topic, body }, { shardingKey: 'one' });
      await checkFor(10_000, 20, () => ok.length === 2, 'm0 and m2');
      assert.deepEqual(ok, ['m0', 'm2']);
      assert.deepEqual(
        attempts.map((x) => x.reconsumeTimes),
        [0, 1],
        'tried once, retried locally once, then sent back',
      );
      const gap = attempts[1].at - attempts[0].at;
      assert.ok(gap >= 950, `the local retry waits suspendCurrentQueueTimeMillis (1000 ms default), waited ${gap} ms`);
      const dlq = await checkFor(5000, 20, async () => {
        const l = await stored(s, `%DLQ%${group}`);
        return l.length > 0 ? l : undefined;
      }, 'the DLQ copy');
      assert.equal(dlq.length, 1);
      assert.equal(dlq[0].body.toString(), 'poison');
    } finally {
      await producer.shutdown();
      await c.shutdown();
    }
    assert.equal(s.controller.consumerOffsetManager.queryOffset(group, topic, 0), 3, 'offsets committed past the poison message');
  });

  void test('orderly consumer - a queue locked by another client is not pulled; a lost lock drops the queue; shutdown unlocks', async () => {
    await using s = await startStandalone();
    const topic = 'OrderLocked';
    const group = 'cg-orderly-locked';
    await createTopic(s, topic, 2);
    const lm = s.controller.lockManager;
    const q0 = { topic, brokerName: s.controller.config.brokerName, queueId: 0 };
    const q1 = { ...q0, queueId: 1 };
    assert.deepEqual(lm.tryLockBatch(group, [q1], 'someone@else'), [q1]);

    const sent: RemotingCommand[] = [];
    const got: MessageExt[] = [];
    const c = orderly(
      s,
      group,
      (msgs) => {
        got.push(...msgs);
        return 'SUCCESS';
      },
      { rpcHook: (cmd) => void sent.push(cmd), rebalanceLockIntervalMs: 200 },
    );
    const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-orderly-locked' });
    const bodiesOf = (qid: number) => got.filter((m) => m.queueId === qid && m.topic === topic).map((m) => m.body.toString());
    const pulledQueue1 = () => sent.some((x) => x.code === RequestCode.PULL_MESSAGE && x.extFields.topic === topic && x.extFields.queueId === '1');
    try {
      c.subscribe(topic);
      await c.start();
      await producer.start();
      await producer.send({ topic, body: 'a0' }, { messageQueue: q0 });
      await producer.send({ topic, body: 'b0' }, { messageQueue: q1 });
      await checkFor(5000, 20, () => bodiesOf(0).length === 1, 'queue 0 consumed');
      await sleep(700);
      assert.deepEqual(bodiesOf(1), [], 'queue 1 is locked by another client');
      assert.equal(pulledQueue1(), false, 'never pulled queue 1 without its lock');
      assert.deepEqual(c.assignedQueues(topic).map((q) => q.queueId), [0]);

      const locks = sent.filter((x) => x.code === RequestCode.LOCK_BATCH_MQ);
      assert.ok(locks.length >= 2, 'renews locks periodically');
      const first = JSON.parse(bodyOf(locks[0]).toString()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(first).sort(), ['clientId', 'consumerGroup', 'mqSet', 'onlyThisBroker']);
      assert.equal(first.consumerGroup, group);
      assert.equal(first.clientId, c.clientId);
      assert.equal(first.onlyThisBroker, false);

      // The other client lets go: the consumer takes queue 1 and consumes what waited there.
      lm.unlockBatch(group, [q1], 'someone@else');
      await checkFor(5000, 20, () => bodiesOf(1).length === 1, 'queue 1 consumed once its lock is free');
      assert.ok(lm.isLockedBy(group, q1, c.clientId));

      // Someone else takes queue 0 behind the consumer's back: the renewal finds out and drops it.
      await c.persistConsumerOffset();
      lm.unlockBatch(group, [q0], c.clientId);
      lm.tryLockBatch(group, [q0], 'someone@else');
      await checkFor(3000, 20, () => !c.assignedQueues(topic).some((q) => q.queueId === 0), 'queue 0 dropped after losing its lock');
      await producer.send({ topic, body: 'a1' }, { messageQueue: q0 });
      await sleep(500);
      assert.deepEqual(bodiesOf(0), ['a0'], 'nothing consumed from a queue whose lock was lost');
      lm.unlockBatch(group, [q0], 'someone@else');
      await checkFor(5000, 20, () => bodiesOf(0).length === 2, 'queue 0 taken back and continued');
      assert.deepEqual(bodiesOf(0), ['a0', 'a1']);
    } finally {
      await producer.shutdown();
      await c.shutdown();
    }
    const unlock = sent.filter((x) => x.code === RequestCode.UNLOCK_BATCH_MQ).at(-1);
    assert.ok(unlock, 'UNLOCK_BATCH_MQ at shutdown');
    assert.equal(isOneway(unlock), false, 'the shutdown unlock waits for its answer');
    const body = JSON.parse(bodyOf(unlock).toString()) as { consumerGroup: string; mqSet: { topic: string; queueId: number }[] };
    assert.equal(body.consumerGroup, group);
    assert.deepEqual(
      body.mqSet
        .filter((q) => q.topic === topic)
        .map((q) => q.queueId)
        .sort(),
      [0, 1],
      'every held queue of the topic is unlocked',
    );
    assert.equal(lm.hasLiveLock(group), false, 'no lock left at the broker');
  });
});
