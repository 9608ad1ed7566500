// Issue 11: the service layer's hook points see every message event once, whichever protocol
// carried it: stored and delivered for both real clients, acked (offset commits from ali-ons, pop
// acks from the 5.x client), retried and dead-lettered after failed consumption.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AckedEvent, DeadLetteredEvent, DeliveredEvent, RetriedEvent, StoredEvent } from '../../src/broker/service/broker-hooks.js';
import { startGrpcProxy } from '../../src/proxy/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone } from '../helpers/standalone.js';
import { createTopic as createOnsTopic, ons, OnsHarness, sendAll } from './helpers/ali-ons.js';
import { createGroup, createTopic, GrpcClients, receiveN } from './helpers/grpc.js';

void test('service hooks - issue 11: stored, delivered, acked, retried and dead-lettered events from ali-ons and the 5.x client', async () => {
  await using s = await startStandalone({ messageDelayLevel: Array(18).fill('1s').join(' ') });
  const hooks = s.controller.hooks;
  const stored: StoredEvent[] = [];
  const delivered: DeliveredEvent[] = [];
  const acked: AckedEvent[] = [];
  const retried: RetriedEvent[] = [];
  const dead: DeadLetteredEvent[] = [];
  hooks.stored.push((e) => stored.push(e));
  hooks.delivered.push((e) => delivered.push(e));
  hooks.acked.push((e) => acked.push(e));
  hooks.retried.push((e) => retried.push(e));
  hooks.deadLettered.push((e) => dead.push(e));
  // A listener that throws is reported and changes nothing for the client.
  hooks.stored.push(() => {
    throw new Error('a broken listener');
  });

  // Remoting: ali-ons sends 4, consumes them, and fails "hk-0" every time (retryMaxTimes 1: one
  // retry, then the DLQ).
  const onsTopic = 'HookOnsTopic';
  const onsGroup = 'GID_hooks';
  await createOnsTopic(s, onsTopic, 2);
  {
    await using h = new OnsHarness(s);
    const producer = await h.producer('GID_hooks_p');
    await sendAll(producer, 4, (i) => new ons.Message(onsTopic, 'T', `hk-${i}`));
    const rc = new (await import('../../src/remoting/index.js')).RemotingClient();
    try {
      const { createRequest, RequestCode } = await import('../../src/remoting/index.js');
      const resp = await rc.invoke(
        s.brokerAddr,
        createRequest(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, Buffer.from(JSON.stringify({ groupName: onsGroup, retryMaxTimes: 1 }))),
      );
      assert.equal(resp.code, 0, resp.remark);
    } finally {
      await rc.close();
    }
    await h.consumer({ consumerGroup: onsGroup, maxReconsumeTimes: 1 }, onsTopic, '*', async (m) => {
      if (m.body.toString() === 'hk-0') throw new Error('always fails');
    });
    await checkFor(30_000, 100, () => dead.length >= 1, 'hk-0 dead-lettered');
    await checkFor(15_000, 100, () => acked.some((e) => e.kind === 'offset' && e.group === onsGroup && e.topic === onsTopic), 'an offset commit');
  }
  const onsStored = stored.filter((e) => e.protocol === 'remoting' && e.topic === onsTopic);
  assert.equal(onsStored.length, 4, 'one stored event per ali-ons send');
  for (const e of onsStored) {
    assert.equal(e.producerGroup, 'GID_hooks_p');
    assert.equal(e.msgNum, 1);
    assert.match(e.msgId, /^[0-9A-F]{32}$/);
    assert.ok(e.client.startsWith('127.0.0.1:'));
  }
  const pulls = delivered.filter((e) => e.kind === 'pull' && e.group === onsGroup && e.topic === onsTopic);
  assert.equal(
    pulls.reduce((n, e) => n + e.count, 0),
    4,
    'every ali-ons message delivered once by pull',
  );
  assert.ok(pulls.every((e) => e.records?.length === e.count));
  const onsRetries = retried.filter((e) => e.group === onsGroup);
  assert.equal(onsRetries.length, 1, 'hk-0 retried once before the DLQ');
  assert.equal(onsRetries[0].originTopic, onsTopic);
  assert.equal(onsRetries[0].retryTopic, `%RETRY%${onsGroup}`);
  assert.equal(onsRetries[0].reconsumeTimes, 1);
  assert.equal(dead.length, 1);
  assert.equal(dead[0].group, onsGroup);
  assert.equal(dead[0].dlqTopic, `%DLQ%${onsGroup}`);
  assert.equal(dead[0].originTopic, onsTopic);
  assert.equal(dead[0].msgId, onsRetries[0].msgId, 'the same original message id in both events');

  // gRPC: the real 5.x client sends 3 and receives and acks them.
  const g = await startGrpcProxy(s.controller, { host: '127.0.0.1', port: 0, minInvisibleTimeMsForReceive: 1000, maxLongPollingTimeoutMs: 1000 });
  const clients = new GrpcClients(g.address);
  try {
    await createTopic(s, 'HookGrpcTopic', 'NORMAL', 2);
    await createGroup(s, 'hook-grpc');
    const p = await clients.producer('HookGrpcTopic');
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) ids.add((await p.send({ topic: 'HookGrpcTopic', tag: 'G', body: Buffer.from(`g-${i}`) })).messageId);
    const c = await clients.simpleConsumer('hook-grpc', { HookGrpcTopic: '*' });
    const got = await receiveN(c, 3, 15_000);
    assert.equal(got.length, 3);
  } finally {
    await clients.close();
    await g.close();
  }
  const grpcStored = stored.filter((e) => e.protocol === 'grpc');
  assert.equal(grpcStored.length, 3);
  assert.ok(grpcStored.every((e) => e.topic === 'HookGrpcTopic' && e.storedTopic === 'HookGrpcTopic'));
  const pops = delivered.filter((e) => e.kind === 'pop' && e.group === 'hook-grpc');
  assert.equal(
    pops.reduce((n, e) => n + e.count, 0),
    3,
  );
  assert.ok(pops.every((e) => e.protocol === 'grpc' && e.popped?.length === e.count));
  const popAcks = acked.filter((e) => e.kind === 'ack' && e.group === 'hook-grpc');
  assert.equal(popAcks.length, 3, 'one acked event per 5.x ack');
});
