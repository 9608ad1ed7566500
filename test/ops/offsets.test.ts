// Issue 13: resetOffsetByTime moves an online ali-ons consumer back before a batch (it receives the
// batch again), resets an offline group's committed offsets, and makes an online 5.x consumer
// receive again; bad groups and topics are refused with the cause.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTopic, OnsHarness, ons, sendAll, type ConsumerOptions, type OnsMessage } from '../compat/helpers/ali-ons.js';
import { createGroup as createGrpcGroup, createTopic as createGrpcTopic, GrpcHarness, receiveN } from '../compat/helpers/grpc.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone } from '../helpers/standalone.js';
import { admin, adminJson } from './admin-run.js';

interface ResetJson {
  offsets: { brokerName: string; queueId: number; offset: number; previous: number }[];
  notified: string[];
}

void test('ops offsets - issue 13: resetOffsetByTime before a batch makes an online ali-ons consumer receive the batch again', async () => {
  await using s = await startStandalone();
  await using h = new OnsHarness(s);
  const topic = 'OpsResetTopic';
  const group = 'GID_ops_reset';
  await createTopic(s, topic, 2);
  const p = await h.producer('GID_ops_reset_p');
  const got: OnsMessage[] = [];
  // A short suspend: an online ali-ons consumer is moved by its next pull (it ignores the pushed
  // RESET_CONSUMER_CLIENT_OFFSET), which comes when its held pull returns.
  await h.consumer({ consumerGroup: group, brokerSuspendMaxTimeMillis: 1000 } as ConsumerOptions, topic, '*', async (m) => {
    got.push(m);
  });
  await sendAll(p, 3, (i) => new ons.Message(topic, 'old', `before-${i}`));
  await checkFor(20_000, 50, () => got.length >= 3, 'the first messages');
  const t0 = Date.now();
  await checkFor(5000, 20, () => Date.now() > t0, 'the clock to move');
  await sendAll(p, 10, (i) => new ons.Message(topic, 'batch', `batch-${i}`));
  await checkFor(20_000, 50, () => got.length >= 13, 'the batch');

  const r = await adminJson<ResetJson>(s.namesrvAddr, 'resetOffsetByTime', '-g', group, '-t', topic, '-s', String(t0));
  assert.equal(r.offsets.length, 2);
  const before = got.filter((m) => m.body.toString().startsWith('before-')).length;
  // The reset lands on the first message stored at or after t0 in each queue: the batch's first.
  assert.equal(r.offsets.reduce((n, o) => n + o.offset, 0), before, 'offsets sum to the messages before t0');
  assert.equal(r.notified.length, 1, 'the online consumer was told');
  await checkFor(20_000, 50, () => got.length >= 23, `the batch again (have ${got.length})`);
  const counts = new Map<string, number>();
  for (const m of got) counts.set(m.body.toString(), (counts.get(m.body.toString()) ?? 0) + 1);
  for (let i = 0; i < 10; i++) assert.equal(counts.get(`batch-${i}`), 2, `batch-${i} received twice`);
  for (let i = 0; i < 3; i++) assert.equal(counts.get(`before-${i}`), 1, `before-${i} not again`);
});

void test('ops offsets - resetOffsetByTime with the group offline commits the offsets (now = skip the backlog); bad input is refused', async () => {
  await using s = await startStandalone();
  const topic = 'OpsResetOffline';
  const group = 'GID_ops_reset_off';
  await createTopic(s, topic, 2);
  {
    await using h = new OnsHarness(s);
    const p = await h.producer('GID_ops_reset_off_p');
    await sendAll(p, 8, (i) => new ons.Message(topic, 'x', `m-${i}`));
  }
  await createGrpcGroup(s, group);
  const r = await admin(s.namesrvAddr, 'resetOffsetByTime', '-g', group, '-t', topic, '-s', 'now');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^#brokerName +#queueId +#offset +#previous$/m);
  assert.match(r.stdout, /no 4\.x consumer online/);
  for (const q of [0, 1]) assert.equal(s.controller.consumerOffsetManager.queryOffset(group, topic, q), s.controller.store.getMaxOffsetInQueue(topic, q));

  const back = await adminJson<ResetJson>(s.namesrvAddr, 'resetOffsetByTime', '-g', group, '-t', topic, '-s', '-1h');
  assert.deepEqual(back.offsets.map((o) => o.offset), [0, 0]);
  assert.deepEqual(back.notified, []);

  const [noGroup, noTopic, badTime] = await Promise.all([
    admin(s.namesrvAddr, 'resetOffsetByTime', '-g', 'GID_never_seen', '-t', topic, '-s', 'now'),
    admin(s.namesrvAddr, 'resetOffsetByTime', '-g', group, '-t', 'NoSuchTopicHere', '-s', 'now'),
    admin(s.namesrvAddr, 'resetOffsetByTime', '-g', group, '-t', topic, '-s', 'yesterday'),
  ]);
  assert.equal(noGroup.code, 1);
  assert.match(noGroup.stderr, /consumer group GID_never_seen does not exist on broker broker-a/);
  assert.equal(noTopic.code, 1);
  assert.match(noTopic.stderr, /topic NoSuchTopicHere does not exist/);
  assert.equal(badTime.code, 2);
  assert.match(badTime.stderr, /option -s timestamp: expected epoch milliseconds, "now", a relative time like -1h/);
});

void test('ops offsets - what a 5.x producer sent is found by id and key; an online 5.x simple consumer receives again after resetOffsetByTime', async () => {
  await using h = await GrpcHarness.start();
  const topic = 'OpsResetGrpc';
  const group = 'GID_ops_reset_grpc';
  await createGrpcTopic(h.s, topic, 'NORMAL', 2);
  await createGrpcGroup(h.s, group);
  await h.s.controller.registerBrokerAll();
  const c = await h.simpleConsumer(group, { [topic]: '*' });
  const p = await h.producer(topic);
  const t0 = Date.now();
  const receipts = [];
  for (let i = 0; i < 6; i++) receipts.push(await p.send({ topic, body: Buffer.from(`g-${i}`), keys: [`gk-${i}`], tag: 'five' }));
  const first = await receiveN(c, 6, 15_000);
  assert.equal(first.length, 6);

  // The queries find what a 5.x producer sent: its messageId is the unique key.
  const [byId] = await adminJson<{ msgId: string; keys: string[]; body: string }[]>(h.s.namesrvAddr, 'queryMsgById', '-i', receipts[2].messageId);
  assert.equal(byId.msgId, receipts[2].messageId);
  assert.deepEqual(byId.keys, ['gk-2']);
  assert.equal(Buffer.from(byId.body, 'base64').toString(), 'g-2');
  const byKey = await adminJson<{ msgId: string }[]>(h.s.namesrvAddr, 'queryMsgByKey', '-t', topic, '-k', 'gk-4');
  assert.deepEqual(byKey.map((m) => m.msgId), [receipts[4].messageId]);
  const r = await adminJson<ResetJson>(h.s.namesrvAddr, 'resetOffsetByTime', '-g', group, '-t', topic, '-s', String(t0 - 1));
  assert.deepEqual(r.offsets.map((o) => o.offset), [0, 0]);
  const again = await receiveN(c, 6, 15_000);
  assert.deepEqual(again.map((m) => m.body.toString()).sort(), first.map((m) => m.body.toString()).sort());
});
