// The real ali-ons consumer fails a message until it is dead-lettered: redeliveries through
// %RETRY%<group> with growing reconsumeTimes, then %DLQ%<group> with the original id and properties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RemotingClient } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone } from '../helpers/standalone.js';
import { prop, pullAll, quietPeriod, updateSubscriptionGroup } from '../broker/fixtures/wire.js';
import { createTopic, ons, OnsHarness, type ConsumerOptions, type OnsMessage } from './helpers/ali-ons.js';

// Retry levels 3 and 4 (the first two retries) are 1 s each here instead of 10 s and 30 s.
const LADDER = '1s 2s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s';

void test('ali-ons semantics retry - a failing message is redelivered with reconsumeTimes 0, 1, 2 then lands in %DLQ% intact', async () => {
  await using s = await startStandalone({ messageDelayLevel: LADDER });
  await using h = new OnsHarness(s);
  const rc = new RemotingClient();
  try {
    const topic = 'OnsRetryTopic';
    const group = 'GID_ons_retry';
    await createTopic(s, topic, 2);
    await updateSubscriptionGroup(rc, s.brokerAddr, { groupName: group, retryMaxTimes: 2 });

    const seen: { reconsumeTimes: number; topic: string; body: string; at: number; storeTimestamp: number }[] = [];
    // ali-ons sends maxReconsumeTimes in its send-back header (16 by default) and Java lets the
    // header win over the group's retryMaxTimes; so the client is told 2 as well.
    const opts: ConsumerOptions & { maxReconsumeTimes: number } = { consumerGroup: group, maxReconsumeTimes: 2 };
    await h.consumer(opts, topic, '*', async (msg: OnsMessage) => {
      seen.push({
        reconsumeTimes: msg.reconsumeTimes,
        topic: msg.topic,
        body: msg.body.toString(),
        at: Date.now(),
        storeTimestamp: (msg as OnsMessage & { storeTimestamp: number }).storeTimestamp,
      });
      throw new Error('handler always fails');
    });
    const producer = await h.producer('GID_ons_retry_p');
    const msg = new ons.Message(topic, 'TagR', 'doomed');
    msg.keys = ['order-42'];
    msg.properties.tenant = 'acme';
    const sent = await producer.send(msg);
    assert.equal(sent.sendStatus, 'SEND_OK');

    const dlqTopic = `%DLQ%${group}`;
    const [dead] = await checkFor(
      15_000,
      50,
      async () => {
        const recs = await pullAll(rc, s.brokerAddr, dlqTopic);
        return recs.length > 0 ? recs : undefined;
      },
      `the message in ${dlqTopic} (deliveries so far: ${seen.length})`,
    );
    assert.deepEqual(
      seen.map((x) => x.reconsumeTimes),
      [0, 1, 2],
    );
    // ali-ons restores the original topic on retried messages.
    assert.deepEqual(new Set(seen.map((x) => `${x.topic}/${x.body}`)), new Set([`${topic}/doomed`]));
    // Each retry waits its level (3 + reconsumeTimes → 1 s each on this ladder) after the failure.
    for (let i = 1; i < seen.length; i++) {
      const gap = seen[i].storeTimestamp - seen[i - 1].at;
      assert.ok(gap >= 900, `retry ${i} re-put ${gap} ms after the failure`);
    }

    assert.equal(dead.body.toString(), 'doomed');
    assert.equal(dead.topic, dlqTopic);
    assert.equal(dead.reconsumeTimes, 3);
    assert.equal(prop(dead, 'ORIGIN_MESSAGE_ID'), sent.msgId, 'the id the producer got back');
    assert.equal(prop(dead, 'RETRY_TOPIC'), topic);
    assert.equal(prop(dead, 'KEYS'), 'order-42');
    assert.equal(prop(dead, 'TAGS'), 'TagR');
    assert.equal(prop(dead, 'tenant'), 'acme');
    assert.notEqual(prop(dead, 'UNIQ_KEY'), undefined);
    assert.notEqual(Number(prop(dead, 'DELAY') ?? 0) > 0, true, 'no delay level left on a dead letter');

    // Nothing more comes: dead-lettered means no fourth delivery.
    await quietPeriod(2000);
    assert.equal(seen.length, 3);
    assert.equal((await pullAll(rc, s.brokerAddr, dlqTopic)).length, 1);

    // An ali-ons consumer subscribed to the DLQ reads it back under its original id.
    const dlqSeen: OnsMessage[] = [];
    await h.consumer({ consumerGroup: 'GID_ons_dlq_reader' }, dlqTopic, '*', async (m) => {
      dlqSeen.push(m);
    });
    await checkFor(10_000, 50, () => dlqSeen.length === 1, 'the dead letter through ali-ons');
    assert.equal(dlqSeen[0].body.toString(), 'doomed');
    assert.equal(dlqSeen[0].properties.ORIGIN_MESSAGE_ID, sent.msgId);
    assert.equal(dlqSeen[0].keys, 'order-42');
    assert.equal(dlqSeen[0].properties.tenant, 'acme');
  } finally {
    await rc.close();
  }
});
