// A message whose ali-ons handler throws is sent back (CONSUMER_SEND_MSG_BACK) and delivered again
// through %RETRY%<group>, looking like the original to the handler.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone } from '../helpers/standalone.js';
import { createTopic, ons, OnsHarness, sendAll, type OnsMessage } from './helpers/ali-ons.js';

void test('ali-ons retry - a failed message comes back once through the retry topic with reconsumeTimes 1', async () => {
  // 1 s on every level so the retry (level 3) is due quickly.
  await using s = await startStandalone({ messageDelayLevel: Array(18).fill('1s').join(' ') });
  await using h = new OnsHarness(s);
  const topic = 'OnsRetryTopic';
  const group = 'GID_ons_retry';
  await createTopic(s, topic, 2);
  const producer = await h.producer('GID_ons_retry_p');
  const n = 10;
  await sendAll(producer, n, (i) => {
    const m = new ons.Message(topic, 'R', `retry-${i}`);
    m.keys = [`rk-${i}`];
    return m;
  });

  const deliveries: OnsMessage[] = [];
  await h.consumer({ consumerGroup: group }, topic, '*', async (m) => {
    deliveries.push(m);
    const i = Number(m.body.toString().split('-')[1]);
    if (i % 2 === 0 && m.reconsumeTimes === 0) throw new Error(`fail ${m.body.toString()} once`);
  });
  const want = n + n / 2;
  await checkFor(20_000, 100, () => deliveries.length >= want, `${want} deliveries (have ${deliveries.length})`);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(deliveries.length, want, 'each failed message came back exactly once');
  const again = deliveries.filter((m) => m.reconsumeTimes > 0);
  assert.deepEqual(again.map((m) => m.body.toString()).sort(), [0, 2, 4, 6, 8].map((i) => `retry-${i}`).sort());
  for (const m of again) {
    assert.equal(m.reconsumeTimes, 1);
    // ali-ons puts the original topic back from RETRY_TOPIC before calling the handler.
    assert.equal(m.topic, topic);
    assert.equal(m.tags, 'R');
    assert.equal(m.keys, `rk-${m.body.toString().split('-')[1]}`);
    const first = deliveries.find((d) => d.reconsumeTimes === 0 && d.body.equals(m.body));
    assert.ok(first);
    assert.equal(m.originMessageId, first.msgId, 'ORIGIN_MESSAGE_ID is the first delivery id');
  }
  // Send-back worked, so ali-ons never needed its fall-back of sending to the retry topic itself.
  assert.equal(s.controller.stats.topics.get(`%RETRY%${group}`), undefined);
});
