// ali-ons consumer offsets against our broker: a restarted clustering consumer resumes where the
// group left off, and broadcasting consumers each see every message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone } from '../helpers/standalone.js';
import { createTopic, ons, OnsHarness, sendAll, type OnsMessage } from './helpers/ali-ons.js';

void test('ali-ons offsets - a new consumer in the same group resumes from the offsets committed on close', async () => {
  await using s = await startStandalone();
  await using h = new OnsHarness(s);
  const topic = 'OnsResumeTopic';
  const group = 'GID_ons_resume';
  const queues = 4;
  await createTopic(s, topic, queues);
  const producer = await h.producer('GID_ons_resume_p');

  const first = 120;
  await sendAll(producer, first, (i) => new ons.Message(topic, 'T', `first-${i}`), 16);
  const seen1 = new Set<string>();
  const c1 = await h.consumer({ consumerGroup: group }, topic, '*', async (m) => {
    seen1.add(m.body.toString());
  });
  await checkFor(15_000, 50, () => seen1.size === first, `first batch (have ${seen1.size})`);
  await h.closeConsumer(c1);

  // The close persisted every queue's offset at its end.
  const rc = new RemotingClient();
  try {
    let committed = 0;
    for (let q = 0; q < queues; q++) {
      const r = await rc.invoke(s.brokerAddr, createRequest(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: group, topic, queueId: q }));
      assert.equal(r.code, ResponseCode.SUCCESS, `queue ${q}: ${r.remark ?? ''}`);
      const max = await rc.invoke(s.brokerAddr, createRequest(RequestCode.GET_MAX_OFFSET, { topic, queueId: q }));
      assert.equal(r.extFields.offset, max.extFields.offset, `queue ${q} committed at its end`);
      committed += Number(r.extFields.offset);
    }
    assert.equal(committed, first);
  } finally {
    await rc.close();
  }

  const second = 80;
  await sendAll(producer, second, (i) => new ons.Message(topic, 'T', `second-${i}`), 16);
  const seen2: string[] = [];
  await h.consumer({ consumerGroup: group }, topic, '*', async (m: OnsMessage) => {
    seen2.push(m.body.toString());
  });
  await checkFor(15_000, 50, () => new Set(seen2).size === second, `second batch (have ${seen2.length})`);
  await new Promise((r) => setTimeout(r, 300));
  const again = seen2.filter((b) => b.startsWith('first-'));
  assert.deepEqual(again, [], 'no message of the first batch is delivered again');
  assert.deepEqual(new Set(seen2), new Set(Array.from({ length: second }, (_, i) => `second-${i}`)));
});

void test('ali-ons offsets - two broadcasting consumers each get every message', async () => {
  await using s = await startStandalone();
  await using h = new OnsHarness(s);
  const topic = 'OnsBroadcastTopic';
  const group = 'GID_ons_broadcast';
  await createTopic(s, topic, 4);
  const a: string[] = [];
  const b: string[] = [];
  const ca = await h.consumer({ consumerGroup: group, isBroadcast: true }, topic, '*', async (m) => {
    a.push(m.body.toString());
  });
  const cb = await h.consumer({ consumerGroup: group, isBroadcast: true }, topic, '*', async (m) => {
    b.push(m.body.toString());
  });
  // Broadcasting consumers pull every queue, whoever else is in the group.
  await checkFor(10_000, 50, () => OnsHarness.assignedQueues(ca, topic).length === 4 && OnsHarness.assignedQueues(cb, topic).length === 4, 'all queues on both');

  const producer = await h.producer('GID_ons_broadcast_p');
  const n = 200;
  await sendAll(producer, n, (i) => new ons.Message(topic, 'B', `bc-${i}`), 16);
  await checkFor(15_000, 50, () => new Set(a).size === n && new Set(b).size === n, `both see ${n} (a ${a.length}, b ${b.length})`);
  await new Promise((r) => setTimeout(r, 300));
  const want = new Set(Array.from({ length: n }, (_, i) => `bc-${i}`));
  assert.deepEqual(new Set(a), want);
  assert.deepEqual(new Set(b), want);
  assert.equal(a.length, n, 'consumer a got no duplicates');
  assert.equal(b.length, n, 'consumer b got no duplicates');
});
