// Timer messages over raw remoting, as the 5.x Java client sends them: TIMER_DELIVER_MS,
// TIMER_DELAY_SEC, a time already past, the maximum delay, and RECALL_MESSAGE by recall handle.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageRecord } from '../../src/common/message-codec.js';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';
import { createTopicRaw, prop, pullAll, quietPeriod, sendOk, sendRaw } from './fixtures/wire.js';

const LADDER = '1s 2s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s';

async function setup(overrides: Record<string, string | number | boolean> = {}): Promise<{ s: Standalone; rc: RemotingClient } & AsyncDisposable> {
  const s = await startStandalone({ messageDelayLevel: LADDER, ...overrides });
  const rc = new RemotingClient();
  return {
    s,
    rc,
    [Symbol.asyncDispose]: async () => {
      await rc.close();
      await s.close();
    },
  };
}

/** Polls the topic until a record with this body shows up; returns it and when it was first seen. */
async function waitForBody(rc: RemotingClient, s: Standalone, topic: string, body: string, timeoutMs: number): Promise<{ rec: MessageRecord; seenAt: number }> {
  const rec = await checkFor(
    timeoutMs,
    25,
    async () => (await pullAll(rc, s.brokerAddr, topic)).find((m) => m.body.toString() === body),
    `"${body}" on ${topic}`,
  );
  return { rec, seenAt: Date.now() };
}

function recall(rc: RemotingClient, addr: string, topic: string, recallHandle: string) {
  return rc.invoke(addr, createRequest(RequestCode.RECALL_MESSAGE, { producerGroup: 'PG_semantics', topic, recallHandle }));
}

void describe('semantics timer', { concurrency: true }, () => {
  void test('semantics timer - TIMER_DELIVER_MS is held in the wheel and delivered in [T, T + 1 s] with REAL_* removed', async () => {
    await using env = await setup();
    const { s, rc } = env;
    const topic = 'TimerDeliverMs';
    await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, topic);
    const T = Date.now() + 2500;
    const resp = await sendOk(rc, s.brokerAddr, { topic, body: 'at-T', props: { TIMER_DELIVER_MS: String(T), KEYS: 'k-timer', color: 'red' } });
    assert.ok(resp.extFields.recallHandle, 'the send response carries a recall handle');
    // Before T the real topic is empty: the message waits in rmq_sys_wheel_timer.
    assert.deepEqual(await pullAll(rc, s.brokerAddr, topic), []);
    const parked = await pullAll(rc, s.brokerAddr, 'rmq_sys_wheel_timer');
    assert.equal(parked.length, 1);
    assert.equal(prop(parked[0], 'REAL_TOPIC'), topic);
    assert.equal(prop(parked[0], 'TIMER_OUT_MS'), String(T));

    const { rec, seenAt } = await waitForBody(rc, s, topic, 'at-T', 6000);
    assert.ok(rec.storeTimestamp >= T, `stored ${rec.storeTimestamp - T} ms after T, never before`);
    assert.ok(rec.storeTimestamp <= T + 1000, `stored ${rec.storeTimestamp - T} ms after T (≤ 1000)`);
    assert.ok(seenAt <= T + 1500, `seen ${seenAt - T} ms after T`);
    assert.equal(prop(rec, 'REAL_TOPIC'), undefined);
    assert.equal(prop(rec, 'REAL_QID'), undefined);
    assert.equal(prop(rec, 'KEYS'), 'k-timer');
    assert.equal(prop(rec, 'color'), 'red');
    assert.equal(prop(rec, 'UNIQ_KEY'), resp.extFields.transactionId, 'same unique id as the send returned');
  });

  void test('semantics timer - TIMER_DELAY_SEC counts from the send; a time in the past is delivered at once', async () => {
    await using env = await setup();
    const { s, rc } = env;
    const topic = 'TimerDelaySec';
    await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, topic);
    const sentAt = Date.now();
    await sendOk(rc, s.brokerAddr, { topic, body: 'in-2s', props: { TIMER_DELAY_SEC: '2' } });
    const past = await sendOk(rc, s.brokerAddr, { topic, body: 'past', props: { TIMER_DELIVER_MS: String(Date.now() - 60_000) } });
    // Past-due: stored straight on the topic, no recall handle (nothing to recall).
    assert.equal(past.extFields.recallHandle, undefined);
    const now = await pullAll(rc, s.brokerAddr, topic);
    assert.deepEqual(
      now.map((m) => m.body.toString()),
      ['past'],
    );
    const { rec } = await waitForBody(rc, s, topic, 'in-2s', 6000);
    assert.ok(rec.storeTimestamp >= sentAt + 2000, `delivered ${rec.storeTimestamp - sentAt} ms after the send (≥ 2000)`);
    assert.ok(rec.storeTimestamp <= sentAt + 3200, `delivered ${rec.storeTimestamp - sentAt} ms after the send (≤ 3200)`);
  });

  void test('semantics timer - beyond timerMaxDelaySec the send is MESSAGE_ILLEGAL naming the limit', async () => {
    await using env = await setup({ timerMaxDelaySec: 60 });
    const { s, rc } = env;
    const topic = 'TimerTooFar';
    await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, topic);
    const r = await sendRaw(rc, s.brokerAddr, { topic, body: 'far', props: { TIMER_DELIVER_MS: String(Date.now() + 120_000) } });
    assert.equal(r.code, ResponseCode.MESSAGE_ILLEGAL);
    assert.match(r.remark ?? '', /timerMaxDelaySec/);
    assert.match(r.remark ?? '', /60 s/);
    const r2 = await sendRaw(rc, s.brokerAddr, { topic, body: 'far', props: { TIMER_DELAY_SEC: '61' } });
    assert.equal(r2.code, ResponseCode.MESSAGE_ILLEGAL);
    // Within the limit is fine.
    await sendOk(rc, s.brokerAddr, { topic, body: 'near', props: { TIMER_DELAY_SEC: '59' } });
    const bad = await sendRaw(rc, s.brokerAddr, { topic, body: 'nan', props: { TIMER_DELIVER_MS: 'soon' } });
    assert.equal(bad.code, ResponseCode.MESSAGE_ILLEGAL);
    assert.match(bad.remark ?? '', /TIMER_DELIVER_MS/);
  });

  void test('semantics timer - RECALL_MESSAGE before T cancels the message for good; a wrong topic is ILLEGAL_OPERATION', async () => {
    await using env = await setup();
    const { s, rc } = env;
    const topic = 'TimerRecall';
    await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, topic);
    const T = Date.now() + 2500;
    const doomed = await sendOk(rc, s.brokerAddr, { topic, body: 'doomed', props: { TIMER_DELIVER_MS: String(T) } });
    // A twin due at the same time proves the wheel still delivers what was not recalled.
    await sendOk(rc, s.brokerAddr, { topic, body: 'twin', props: { TIMER_DELIVER_MS: String(T) } });
    const handle = doomed.extFields.recallHandle;
    assert.ok(handle);

    const wrong = await recall(rc, s.brokerAddr, 'SomeOtherTopic', handle);
    assert.equal(wrong.code, ResponseCode.ILLEGAL_OPERATION);
    assert.match(wrong.remark ?? '', /TimerRecall/);
    const garbage = await recall(rc, s.brokerAddr, topic, 'not-a-handle');
    assert.equal(garbage.code, ResponseCode.ILLEGAL_OPERATION);
    assert.match(garbage.remark ?? '', /recall handle is invalid/);

    const ok = await recall(rc, s.brokerAddr, topic, handle);
    assert.equal(ok.code, ResponseCode.SUCCESS, ok.remark);
    assert.equal(ok.extFields.msgId, doomed.extFields.transactionId, 'the response names the recalled unique id');
    // A repeated recall before T is harmless, as in Java (which just writes another delete marker).
    const again = await recall(rc, s.brokerAddr, topic, handle);
    assert.equal(again.code, ResponseCode.SUCCESS, again.remark);

    await waitForBody(rc, s, topic, 'twin', 6000);
    // Watch past T + 2 s: the recalled message never shows up.
    const until = T + 2000 - Date.now();
    if (until > 0) await quietPeriod(until);
    const all = await pullAll(rc, s.brokerAddr, topic);
    assert.deepEqual(
      all.map((m) => m.body.toString()),
      ['twin'],
    );
  });

  void test('semantics timer - a recall right after its send wins even while the wheel is busy enqueueing others', async () => {
    await using env = await setup();
    const { s, rc } = env;
    const topic = 'TimerRecallRace';
    await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, topic);
    const T = Date.now() + 2000;
    const n = 40;
    // Each send is followed at once by its recall, while the other sends keep the enqueue loop busy.
    const results = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const sent = await sendOk(rc, s.brokerAddr, { topic, body: `r${i}`, props: { TIMER_DELIVER_MS: String(T) } });
        return recall(rc, s.brokerAddr, topic, sent.extFields.recallHandle ?? '');
      }),
    );
    assert.deepEqual(results.map((r) => r.code), results.map(() => ResponseCode.SUCCESS));
    await sendOk(rc, s.brokerAddr, { topic, body: 'marker', props: { TIMER_DELIVER_MS: String(T) } });
    await waitForBody(rc, s, topic, 'marker', 6000);
    await quietPeriod(300);
    assert.deepEqual(
      (await pullAll(rc, s.brokerAddr, topic)).map((m) => m.body.toString()),
      ['marker'],
    );
  });

  void test('semantics timer - recalling after delivery fails with a remark saying it was delivered', async () => {
    await using env = await setup();
    const { s, rc } = env;
    const topic = 'TimerRecallLate';
    await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, topic);
    const T = Date.now() + 1200;
    const sent = await sendOk(rc, s.brokerAddr, { topic, body: 'late', props: { TIMER_DELIVER_MS: String(T) } });
    await waitForBody(rc, s, topic, 'late', 5000);
    const r = await recall(rc, s.brokerAddr, topic, sent.extFields.recallHandle ?? '');
    assert.equal(r.code, ResponseCode.ILLEGAL_OPERATION);
    assert.match(r.remark ?? '', /delivered already/);
  });
});
