// The broker's pop processors over raw remoting (what a cluster-mode proxy sends): POP_MESSAGE
// with long polling, ACK_MESSAGE, CHANGE_MESSAGE_INVISIBLETIME, redelivery after the invisible
// time, and the dead-letter forward (ACK_MESSAGE with deadLetter=true).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessages, type MessageRecord } from '../../src/common/message-codec.js';
import { createRequest, RemotingClient, RequestCode, ResponseCode, type ExtInput, type RemotingCommand, bodyOf } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';
import { createTopicRaw, prop, sendOk } from './fixtures/wire.js';

let s: Standalone;
let rc: RemotingClient;

function pop(topic: string, group: string, more: ExtInput = {}, timeoutMs = 5000): Promise<RemotingCommand> {
  const ext: ExtInput = { consumerGroup: group, topic, queueId: -1, maxMsgNums: 32, invisibleTime: 30_000, pollTime: 0, bornTime: Date.now(), initMode: 0, expType: 'TAG', exp: '*', order: false, ...more };
  return rc.invoke(s.brokerAddr, createRequest(RequestCode.POP_MESSAGE, ext), timeoutMs);
}

/** Pops until n messages came (dispatch is asynchronous), bounded by time. */
async function popN(topic: string, group: string, n: number, more: ExtInput = {}): Promise<{ resp: RemotingCommand; msgs: MessageRecord[] }[]> {
  const out: { resp: RemotingCommand; msgs: MessageRecord[] }[] = [];
  let got = 0;
  await checkFor(5000, 10, async () => {
    const resp = await pop(topic, group, { pollTime: 500, ...more });
    if (resp.code === ResponseCode.SUCCESS) {
      const msgs = decodeMessages(bodyOf(resp));
      out.push({ resp, msgs });
      got += msgs.length;
    }
    return got >= n;
  }, `${n} popped messages on ${topic}`);
  return out;
}

function ack(topic: string, group: string, handle: string, more: ExtInput = {}): Promise<RemotingCommand> {
  return rc.invoke(s.brokerAddr, createRequest(RequestCode.ACK_MESSAGE, { consumerGroup: group, topic, queueId: 0, extraInfo: handle, offset: 0, ...more }));
}

function change(topic: string, group: string, handle: string, invisibleTime: number): Promise<RemotingCommand> {
  return rc.invoke(
    s.brokerAddr,
    createRequest(RequestCode.CHANGE_MESSAGE_INVISIBLETIME, { consumerGroup: group, topic, queueId: 0, extraInfo: handle, offset: 0, invisibleTime }),
  );
}

async function topicWith(topic: string, bodies: string[]): Promise<void> {
  await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, topic, 2);
  for (const b of bodies) await sendOk(rc, s.brokerAddr, { topic, body: b, props: { TAGS: b.startsWith('x') ? 'x' : 'y' } });
}

void describe('pop processor', () => {
  before(async () => {
    s = await startStandalone();
    rc = new RemotingClient();
  });
  after(async () => {
    await rc.close();
    await s.close();
  });

  void test('pop processor - pop returns records with POP_CK handles and headers; ack succeeds once', async () => {
    await topicWith('PopProcA', ['a1', 'a2', 'a3']);
    const batches = await popN('PopProcA', 'CG_pop_a', 3);
    const msgs = batches.flatMap((b) => b.msgs);
    assert.deepEqual(msgs.map((m) => m.body.toString()).sort(), ['a1', 'a2', 'a3']);
    const first = batches[0].resp;
    const popTime = Number(first.extFields.popTime);
    assert.ok(Math.abs(popTime - Date.now()) < 5000, `popTime ${popTime} is now`);
    assert.ok(Number(first.extFields.invisibleTime) > 25_000 && Number(first.extFields.invisibleTime) <= 30_000);
    assert.ok(Number(first.extFields.restNum) >= 0);
    for (const m of msgs) {
      assert.ok(prop(m, 'POP_CK'), 'every record carries its receipt handle');
      assert.equal(m.reconsumeTimes, 0, 'first delivery');
      assert.equal(m.topic, 'PopProcA');
    }
    const again = await pop('PopProcA', 'CG_pop_a');
    assert.equal(again.code, ResponseCode.PULL_NOT_FOUND, 'popped messages are invisible');
    for (const m of msgs) {
      const r = await ack('PopProcA', 'CG_pop_a', prop(m, 'POP_CK')!);
      assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    }
    const twice = await ack('PopProcA', 'CG_pop_a', prop(msgs[0], 'POP_CK')!);
    assert.equal(twice.code, ResponseCode.NO_MESSAGE);
    assert.equal(twice.extFields.ackResult, 'INVALID');
    assert.match(twice.remark ?? '', /invalid/);
    const garbage = await ack('PopProcA', 'CG_pop_a', 'not-a-handle');
    assert.equal(garbage.code, ResponseCode.NO_MESSAGE);
  });

  void test('pop processor - tag filter, bad requests and unknown topics are answered with codes', async () => {
    await topicWith('PopProcF', ['x1', 'y1', 'x2']);
    const msgs = (await popN('PopProcF', 'CG_pop_f', 2, { exp: 'x' })).flatMap((b) => b.msgs);
    assert.deepEqual(msgs.map((m) => m.body.toString()).sort(), ['x1', 'x2']);
    const unknown = await pop('NoSuchTopicPop', 'CG_pop_f');
    assert.equal(unknown.code, ResponseCode.TOPIC_NOT_EXIST);
    const missing = await rc.invoke(s.brokerAddr, createRequest(RequestCode.POP_MESSAGE, { consumerGroup: 'CG_pop_f', topic: 'PopProcF' }));
    assert.equal(missing.code, ResponseCode.INVALID_PARAMETER);
    assert.match(missing.remark ?? '', /maxMsgNums/);
    const badSql = await pop('PopProcF', 'CG_pop_f', { expType: 'SQL92', exp: 'a >' });
    assert.equal(badSql.code, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
    const ackUnknownTopic = await ack('NoSuchTopicPop', 'CG_pop_f', 'x');
    assert.equal(ackUnknownTopic.code, ResponseCode.TOPIC_NOT_EXIST);
  });

  void test('pop processor - an empty pop is held for pollTime and woken by a new message', async () => {
    await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, 'PopProcL', 1);
    const t0 = Date.now();
    const empty = await pop('PopProcL', 'CG_pop_l', { pollTime: 400 });
    const held = Date.now() - t0;
    assert.equal(empty.code, ResponseCode.POLLING_TIMEOUT);
    assert.ok(held >= 350, `held ${held} ms`);
    const t1 = Date.now();
    const waiting = pop('PopProcL', 'CG_pop_l', { pollTime: 10_000 }, 15_000);
    setTimeout(() => void sendOk(rc, s.brokerAddr, { topic: 'PopProcL', body: 'late' }), 200);
    const woken = await waiting;
    assert.equal(woken.code, ResponseCode.SUCCESS, woken.remark);
    assert.deepEqual(decodeMessages(bodyOf(woken)).map((m) => m.body.toString()), ['late']);
    assert.ok(Date.now() - t1 < 5000, 'answered on arrival, not at the poll deadline');
  });

  void test('pop processor - change invisible time re-arms with a new handle; 0 redelivers with attempt 2', async () => {
    await topicWith('PopProcC', ['c1']);
    const [m] = (await popN('PopProcC', 'CG_pop_c', 1)).flatMap((b) => b.msgs);
    const h1 = prop(m, 'POP_CK')!;
    const r = await change('PopProcC', 'CG_pop_c', h1, 60_000);
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    const h2 = r.extFields.extraInfo;
    assert.ok(h2 && h2 !== h1, 'a new handle');
    assert.equal(Number(r.extFields.invisibleTime), 60_000);
    assert.ok(Math.abs(Number(r.extFields.popTime) - Date.now()) < 5000);
    const old = await ack('PopProcC', 'CG_pop_c', h1);
    assert.equal(old.code, ResponseCode.NO_MESSAGE, 'the old handle no longer works');
    const visible = await change('PopProcC', 'CG_pop_c', h2, 0);
    assert.equal(visible.code, ResponseCode.SUCCESS);
    const [again] = (await popN('PopProcC', 'CG_pop_c', 1)).flatMap((b) => b.msgs);
    assert.equal(again.body.toString(), 'c1');
    assert.equal(again.reconsumeTimes, 1, 'RECONSUMETIMES = delivery attempt - 1');
    assert.equal(prop(again, 'UNIQ_KEY'), prop(m, 'UNIQ_KEY'));
    assert.equal((await ack('PopProcC', 'CG_pop_c', prop(again, 'POP_CK')!)).code, ResponseCode.SUCCESS);
    const stale = await change('PopProcC', 'CG_pop_c', h2, 1000);
    assert.equal(stale.code, ResponseCode.NO_MESSAGE);
  });

  void test('pop processor - an unacked message comes back after its invisible time', async () => {
    await topicWith('PopProcR', ['r1']);
    const [m] = (await popN('PopProcR', 'CG_pop_r', 1, { invisibleTime: 300 })).flatMap((b) => b.msgs);
    const [back] = (await popN('PopProcR', 'CG_pop_r', 1)).flatMap((b) => b.msgs);
    assert.equal(back.body.toString(), 'r1');
    assert.equal(prop(back, 'UNIQ_KEY'), prop(m, 'UNIQ_KEY'));
    assert.equal(back.reconsumeTimes, 1);
    const expired = await ack('PopProcR', 'CG_pop_r', prop(m, 'POP_CK')!);
    assert.equal(expired.code, ResponseCode.NO_MESSAGE);
    assert.equal(expired.extFields.ackResult, 'EXPIRED');
    assert.equal((await ack('PopProcR', 'CG_pop_r', prop(back, 'POP_CK')!)).code, ResponseCode.SUCCESS);
  });

  void test('pop processor - ACK_MESSAGE with deadLetter forwards to %DLQ%<group> and acks', async () => {
    await topicWith('PopProcD', ['d1']);
    const [m] = (await popN('PopProcD', 'CG_pop_d', 1)).flatMap((b) => b.msgs);
    const r = await ack('PopProcD', 'CG_pop_d', prop(m, 'POP_CK')!, { deadLetter: true });
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    const store = s.controller.store;
    await checkFor(3000, 10, () => store.getMaxOffsetInQueue('%DLQ%CG_pop_d', 0) === 1, 'the DLQ message');
    const got = await store.getMessage('%DLQ%CG_pop_d', 0, 0, 1);
    const dlq = decodeMessages(got.buffers[0]);
    assert.equal(dlq[0].body.toString(), 'd1');
    assert.equal(prop(dlq[0], 'RETRY_TOPIC'), 'PopProcD');
    assert.equal(prop(dlq[0], 'POP_CK'), undefined, 'the handle is not stored');
    const again = await ack('PopProcD', 'CG_pop_d', prop(m, 'POP_CK')!);
    assert.equal(again.code, ResponseCode.NO_MESSAGE, 'already acked by the forward');
  });
});
