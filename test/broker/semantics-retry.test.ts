// CONSUMER_SEND_MSG_BACK and direct %RETRY% sends over raw remoting, checked against Java's
// rules: delay level 3 + reconsumeTimes, the header's maxReconsumeTimes (client ≥ V3_4_9)
// over the group's retryMaxTimes, and %DLQ%<group> once the maximum is reached.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageRecord } from '../../src/common/message-codec.js';
import { createMessageId } from '../../src/common/msg-id.js';
import { RemotingClient, ResponseCode } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';
import { createTopicRaw, prop, pullAll, sendBack, sendOk, updateSubscriptionGroup } from './fixtures/wire.js';

const LADDER = '1s 2s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s';
const SCHEDULE = 'SCHEDULE_TOPIC_XXXX';

async function setup(group: string, retryMaxTimes: number): Promise<{ s: Standalone; rc: RemotingClient } & AsyncDisposable> {
  const s = await startStandalone({ messageDelayLevel: LADDER });
  const rc = new RemotingClient();
  await updateSubscriptionGroup(rc, s.brokerAddr, { groupName: group, retryMaxTimes });
  return {
    s,
    rc,
    [Symbol.asyncDispose]: async () => {
      await rc.close();
      await s.close();
    },
  };
}

/** Waits for the retry topic to hold n records and returns the newest. */
async function nthRetry(rc: RemotingClient, s: Standalone, group: string, n: number): Promise<MessageRecord> {
  const recs = await checkFor(6000, 25, async () => {
    const r = await pullAll(rc, s.brokerAddr, `%RETRY%${group}`);
    return r.length >= n ? r : undefined;
  }, `retry message #${n}`);
  return recs[n - 1];
}

void describe('semantics retry', { concurrency: true }, () => {
  void test('semantics retry - send-back parks at level 3 + reconsumeTimes, then DLQ past the group retryMaxTimes', async () => {
    const group = 'CG_raw_retry';
    await using env = await setup(group, 2);
    const { s, rc } = env;
    const topic = 'RawRetryTopic';
    await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, topic);
    const sent = await sendOk(rc, s.brokerAddr, { topic, body: 'fail-me', props: { KEYS: 'k1', TAGS: 'T1', who: 'raw' } });
    const [orig] = await pullAll(rc, s.brokerAddr, topic);
    const origId = sent.extFields.msgId;
    assert.equal(origId, createMessageId(orig.storeHost, orig.commitLogOffset));

    // No maxReconsumeTimes in the header: the group's retryMaxTimes (2) decides.
    const b1 = await sendBack(rc, s.brokerAddr, { group, offset: orig.commitLogOffset, originMsgId: origId, originTopic: topic });
    assert.equal(b1.code, ResponseCode.SUCCESS, b1.remark);
    const parked = (await pullAll(rc, s.brokerAddr, SCHEDULE, 18)).filter((m) => m.body.toString() === 'fail-me');
    assert.equal(parked.length, 1, 'parked in the schedule topic first');
    assert.equal(parked[0].queueId, 2, 'level 3 = queue 2');
    assert.equal(prop(parked[0], 'DELAY'), '3');
    assert.equal(prop(parked[0], 'REAL_TOPIC'), `%RETRY%${group}`);

    const r1 = await nthRetry(rc, s, group, 1);
    assert.equal(r1.reconsumeTimes, 1);
    assert.equal(prop(r1, 'RETRY_TOPIC'), topic);
    assert.equal(prop(r1, 'ORIGIN_MESSAGE_ID'), origId);
    assert.equal(prop(r1, 'DELAY'), undefined);
    const b2 = await sendBack(rc, s.brokerAddr, { group, offset: r1.commitLogOffset, originMsgId: createMessageId(r1.storeHost, r1.commitLogOffset) });
    assert.equal(b2.code, ResponseCode.SUCCESS, b2.remark);
    const level4 = (await pullAll(rc, s.brokerAddr, SCHEDULE, 18)).filter((m) => m.body.toString() === 'fail-me' && m.queueId === 3);
    assert.equal(level4.length, 1, 'second retry at level 4');

    const r2 = await nthRetry(rc, s, group, 2);
    assert.equal(r2.reconsumeTimes, 2);
    assert.equal(prop(r2, 'ORIGIN_MESSAGE_ID'), origId, 'kept across retries');
    // A V3_4_9+ client's header wins over the group: 5 allows another retry ...
    const b3 = await sendBack(rc, s.brokerAddr, { group, offset: r2.commitLogOffset, maxReconsumeTimes: 5 });
    assert.equal(b3.code, ResponseCode.SUCCESS);
    // ... while an older client's header is ignored, and the group's 2 sends it to the DLQ.
    const b4 = await sendBack(rc, s.brokerAddr, { group, offset: r2.commitLogOffset, maxReconsumeTimes: 5, clientVersion: 100 });
    assert.equal(b4.code, ResponseCode.SUCCESS);
    const dlq = await checkFor(3000, 25, async () => {
      const r = await pullAll(rc, s.brokerAddr, `%DLQ%${group}`);
      return r.length > 0 ? r : undefined;
    }, 'the DLQ record');
    assert.equal(dlq.length, 1);
    assert.equal(dlq[0].reconsumeTimes, 3);
    assert.equal(prop(dlq[0], 'ORIGIN_MESSAGE_ID'), origId);
    assert.equal(prop(dlq[0], 'KEYS'), 'k1');
    assert.equal(prop(dlq[0], 'who'), 'raw');
    assert.equal(prop(dlq[0], 'UNIQ_KEY'), sent.extFields.transactionId);
    const r3 = await nthRetry(rc, s, group, 3);
    assert.equal(r3.reconsumeTimes, 3, 'the header-allowed retry came through');
  });

  void test('semantics retry - delayLevel -1 dead-letters at once; an unknown offset is SYSTEM_ERROR', async () => {
    const group = 'CG_raw_dlq_now';
    await using env = await setup(group, 16);
    const { s, rc } = env;
    const topic = 'RawDlqNowTopic';
    await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, topic);
    await sendOk(rc, s.brokerAddr, { topic, body: 'poison' });
    const [orig] = await pullAll(rc, s.brokerAddr, topic);
    const r = await sendBack(rc, s.brokerAddr, { group, offset: orig.commitLogOffset, delayLevel: -1 });
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    const dlq = await pullAll(rc, s.brokerAddr, `%DLQ%${group}`);
    assert.deepEqual(
      dlq.map((m) => [m.body.toString(), m.reconsumeTimes]),
      [['poison', 1]],
    );
    assert.deepEqual(await pullAll(rc, s.brokerAddr, `%RETRY%${group}`), []);
    const bad = await sendBack(rc, s.brokerAddr, { group, offset: orig.commitLogOffset + 50_000_000 });
    assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
    assert.match(bad.remark ?? '', /look message by offset failed/);
  });

  void test('semantics retry - a direct %RETRY% send (ali-ons fallback) past its maxReconsumeTimes goes to the DLQ', async () => {
    const group = 'CG_raw_fallback';
    await using env = await setup(group, 16);
    const { s, rc } = env;
    const retry = `%RETRY%${group}`;
    const ok = await sendOk(rc, s.brokerAddr, { topic: retry, body: 'again', reconsumeTimes: 2, maxReconsumeTimes: 3, props: { RETRY_TOPIC: 'Orig' } });
    assert.equal(ok.extFields.queueId, '0');
    const dead = await sendOk(rc, s.brokerAddr, { topic: retry, body: 'too-many', reconsumeTimes: 4, maxReconsumeTimes: 3, props: { RETRY_TOPIC: 'Orig' } });
    assert.equal(dead.code, ResponseCode.SUCCESS);
    assert.deepEqual(
      (await pullAll(rc, s.brokerAddr, retry)).map((m) => [m.body.toString(), m.reconsumeTimes]),
      [['again', 2]],
    );
    const dlq = await pullAll(rc, s.brokerAddr, `%DLQ%${group}`);
    assert.deepEqual(
      dlq.map((m) => [m.body.toString(), m.reconsumeTimes, prop(m, 'DELAY')]),
      [['too-many', 4, '-1']],
    );
  });
});
