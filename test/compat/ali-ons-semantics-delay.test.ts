// The real ali-ons client sends delayed messages: a delay level (msg.delayTimeLevel) and an
// absolute start time (msg.setStartDeliverTime, the Aliyun __STARTDELIVERTIME extension).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone } from '../helpers/standalone.js';
import { createTopic, ons, OnsHarness, type OnsMessage } from './helpers/ali-ons.js';

// Level 2 is 2 s, the rest 1 s: the schedule is exercised without waiting for the real ladder.
const LADDER = '1s 2s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s';

interface Arrival {
  msg: OnsMessage & { storeTimestamp: number };
  at: number;
}

void describe('ali-ons semantics delay', { concurrency: true }, () => {
  void test('ali-ons semantics delay - delayTimeLevel 2 arrives after its 2 s level, REAL_TOPIC kept and DELAY cleared', async () => {
    await using s = await startStandalone({ messageDelayLevel: LADDER });
    await using h = new OnsHarness(s);
    const topic = 'OnsDelayLevelTopic';
    await createTopic(s, topic, 2);
    const got: Arrival[] = [];
    await h.consumer({ consumerGroup: 'GID_ons_delay' }, topic, '*', async (msg) => {
      got.push({ msg: msg as Arrival['msg'], at: Date.now() });
    });
    const producer = await h.producer('GID_ons_delay_p');

    const msg = new ons.Message(topic, 'TagD', 'delayed-by-level');
    (msg as unknown as { delayTimeLevel: number }).delayTimeLevel = 2;
    msg.properties.biz = 'level';
    const plain = new ons.Message(topic, 'TagD', 'not-delayed');
    const sentAt = Date.now();
    const r = await producer.send(msg);
    assert.equal(r.sendStatus, 'SEND_OK');
    await producer.send(plain);

    // The undelayed one overtakes it.
    await checkFor(5000, 20, () => got.length >= 1, 'the undelayed message');
    assert.equal(got[0].msg.body.toString(), 'not-delayed');
    const d = await checkFor(8000, 20, () => got.find((a) => a.msg.body.toString() === 'delayed-by-level'), 'the delayed message');
    const waited = d.msg.storeTimestamp - sentAt;
    assert.ok(waited >= 2000, `re-put ${waited} ms after the send (level 2 = 2000 ms)`);
    assert.ok(d.at - sentAt < 2000 + 1500, `arrived ${d.at - sentAt} ms after the send`);
    assert.equal(d.msg.topic, topic);
    assert.equal(d.msg.tags, 'TagD');
    assert.equal(d.msg.properties.biz, 'level');
    // Java keeps REAL_TOPIC / REAL_QID on a delivered delay-level message and drops DELAY.
    assert.equal(d.msg.properties.REAL_TOPIC, topic);
    assert.equal(d.msg.properties.REAL_QID, String(r.messageQueue.queueId));
    assert.equal(d.msg.properties.DELAY, undefined);
    assert.equal(got.length, 2, 'each message once');
  });

  void test('ali-ons semantics delay - setStartDeliverTime(T) arrives in [T, T + 1 s]; a past T at once', async () => {
    await using s = await startStandalone({ messageDelayLevel: LADDER });
    await using h = new OnsHarness(s);
    const topic = 'OnsStartDeliverTopic';
    await createTopic(s, topic, 2);
    const got: Arrival[] = [];
    await h.consumer({ consumerGroup: 'GID_ons_sdt' }, topic, '*', async (msg) => {
      got.push({ msg: msg as Arrival['msg'], at: Date.now() });
    });
    const producer = await h.producer('GID_ons_sdt_p');

    const T = Date.now() + 2500;
    const later = new ons.Message(topic, 'TagT', 'at-T') as OnsMessage & { setStartDeliverTime(ms: number): void };
    later.setStartDeliverTime(T);
    const past = new ons.Message(topic, 'TagT', 'in-the-past') as OnsMessage & { setStartDeliverTime(ms: number): void };
    past.setStartDeliverTime(Date.now() - 10_000);
    assert.equal((await producer.send(later)).sendStatus, 'SEND_OK');
    const pastSentAt = Date.now();
    assert.equal((await producer.send(past)).sendStatus, 'SEND_OK');

    const p = await checkFor(5000, 20, () => got.find((a) => a.msg.body.toString() === 'in-the-past'), 'the past-due message');
    assert.ok(p.at - pastSentAt < 1500, `past-due arrived ${p.at - pastSentAt} ms after its send`);
    assert.equal(got.length, 1, 'the timed message is still held');
    const t = await checkFor(8000, 20, () => got.find((a) => a.msg.body.toString() === 'at-T'), 'the timed message');
    assert.ok(t.msg.storeTimestamp >= T, `re-put ${t.msg.storeTimestamp - T} ms after T, not before`);
    assert.ok(t.msg.storeTimestamp <= T + 1000, `re-put ${t.msg.storeTimestamp - T} ms after T (≤ 1000)`);
    assert.ok(t.at <= T + 1500, `handed to the consumer ${t.at - T} ms after T`);
    assert.equal(t.msg.topic, topic);
    assert.equal(t.msg.properties.REAL_TOPIC, undefined, 'timer delivery drops REAL_TOPIC');
    assert.equal(t.msg.properties.__STARTDELIVERTIME, String(T));
    assert.equal(got.length, 2);
  });
});
