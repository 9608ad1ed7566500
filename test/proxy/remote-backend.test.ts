// One conformance table for ProxyBackend, run against LocalBackend (same process) and
// RemoteBackend (remoting through the name server to the broker's processors). Each run uses its
// own topics and groups on one shared broker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageRecord } from '../../src/common/message-codec.js';
import { getPropertyFromString } from '../../src/common/message-properties.js';
import { createUniqID } from '../../src/common/msg-id.js';
import { RemotingClient } from '../../src/remoting/index.js';
import { LocalBackend } from '../../src/proxy/backend/local-backend.js';
import type { BackendSendRequest, BackendSendResult, PoppedMessage, ProxyBackend } from '../../src/proxy/backend/proxy-backend.js';
import { createRemoteBackend, startClusterProxy } from '../../src/proxy/cluster-proxy.js';
import { loadConfig } from '../../src/config/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';
import { createTopicRaw, propsString } from '../broker/fixtures/wire.js';

let s: Standalone;
let rc: RemotingClient;

before(async () => {
  s = await startStandalone({ transactionCheckInterval: 200, transactionTimeOut: 300 });
  rc = new RemotingClient();
});
after(async () => {
  await rc.close();
  await s.close();
});

const TAG = { expressionType: 'TAG', expression: '*' };

function msg(topic: string, body: string, props: Record<string, string> = {}, extra: Partial<BackendSendRequest> = {}): BackendSendRequest {
  return {
    topic,
    body: Buffer.from(body),
    properties: propsString({ UNIQ_KEY: createUniqID(), ...props }),
    sysFlag: 0,
    bornTimestamp: Date.now(),
    bornHost: { address: '127.0.0.1', port: 40000 },
    ...extra,
  };
}

/** Pops until n messages came, bounded by time. */
async function popN(b: ProxyBackend, topic: string, group: string, n: number, invisibleTimeMs = 30_000): Promise<PoppedMessage[]> {
  const out: PoppedMessage[] = [];
  await checkFor(5000, 10, async () => {
    const got = await b.pop({
      group,
      topic,
      maxNums: 32,
      invisibleTimeMs,
      autoRenew: false,
      clientId: 'client-1',
      filter: TAG,
      fifo: false,
      pollTimeMs: 500,
      maxDeliveryAttempts: 17,
    });
    out.push(...got);
    return out.length >= n;
  }, `${n} popped messages on ${topic}`);
  return out;
}

const prop = (m: MessageRecord, k: string): string | undefined => getPropertyFromString(m.properties, k);

function conformance(name: string, make: () => Promise<ProxyBackend>): void {
  void describe(`proxy backend ${name}`, () => {
    let b: ProxyBackend;
    const T = (t: string): string => `${t}_${name}`;
    before(async () => {
      b = await make();
      for (const t of ['BeTopic', 'BeChange', 'BeTx', 'BeCheck', 'BeOffsets', 'BeTimer']) await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, T(t), 2);
      s.controller.topicConfigManager.updateTopicConfig({
        ...s.controller.topicConfigManager.selectTopicConfig(T('BeTopic'))!,
        attributes: { '+message.type': 'NORMAL' },
      });
    });
    after(() => b.close());

    void test(`proxy backend ${name} - broker settings, topic and group config`, async () => {
      assert.equal(b.brokerName, s.controller.config.brokerName);
      assert.equal(b.maxMessageSize, s.controller.config.maxMessageSize);
      assert.equal(b.enablePropertyFilter, true);
      assert.equal(b.timerMaxDelaySec, s.controller.config.timerMaxDelaySec);
      assert.deepEqual([...b.delayLevelsMs], s.controller.delayLevelsMs);
      const tc = await b.getTopicConfig(T('BeTopic'));
      assert.equal(tc?.topicName, T('BeTopic'));
      assert.equal(tc?.readQueueNums, 2);
      assert.equal(tc?.writeQueueNums, 2);
      assert.equal(tc?.perm, 6);
      assert.equal(tc?.attributes['+message.type'], 'NORMAL');
      assert.equal(await b.getTopicConfig(T('NoSuchTopic')), undefined);
      assert.deepEqual(await b.brokersOf(T('BeTopic')), [{ name: s.controller.config.brokerName, readQueueNums: 2, writeQueueNums: 2, perm: 6 }]);
      assert.deepEqual(await b.brokersOf(T('NoSuchTopic')), []);
      const g = await b.getGroupConfig(T('CG_auto'));
      assert.equal(g?.groupName, T('CG_auto'), 'the broker auto-creates groups');
      assert.equal(g?.retryMaxTimes, 16);
      assert.ok(s.controller.subscriptionGroupManager.get(T('CG_auto')), 'and the broker has it now');
    });

    void test(`proxy backend ${name} - send, pop, ack; a second ack is INVALID`, async () => {
      const topic = T('BeTopic');
      const sent: BackendSendResult[] = [];
      for (const body of ['m1', 'm2', 'm3']) sent.push(await b.sendMessage(msg(topic, body, { TAGS: 'a' })));
      for (const r of sent) {
        assert.equal(r.status, 'SEND_OK');
        assert.equal(r.brokerName, s.controller.config.brokerName, 'the group that stored it');
        assert.match(r.msgId, /^[0-9A-F]{32}$/);
        assert.ok(r.commitLogOffset >= 0);
      }
      assert.notEqual(sent[0].queueId, sent[1].queueId, 'round robin over the write queues');
      const got = await popN(b, topic, T('CG_main'), 3);
      assert.deepEqual(got.map((p) => p.record.body.toString()).sort(), ['m1', 'm2', 'm3']);
      for (const p of got) {
        assert.equal(p.topic, topic);
        assert.equal(p.deliveryAttempt, 1);
        assert.ok(p.receiptHandle);
        assert.ok(p.invisibleUntil > Date.now() + 20_000);
        assert.equal(prop(p.record, 'POP_CK'), undefined, 'no transport property is left on the record');
        assert.equal(prop(p.record, 'TAGS'), 'a');
        const match = sent.find((r) => r.queueId === p.queueId && r.queueOffset === p.queueOffset);
        assert.ok(match, 'queue id and offset are the stored ones');
        assert.equal(p.record.commitLogOffset, match.commitLogOffset);
      }
      for (const p of got) assert.equal(await b.ack(T('CG_main'), topic, p.receiptHandle), 'OK');
      assert.equal(await b.ack(T('CG_main'), topic, got[0].receiptHandle), 'INVALID');
      for (const bad of ['', 'garbage', `b1 no-such-group ${got[1].receiptHandle}`, 'b1 ', 'p1 x']) {
        assert.equal(await b.ack(T('CG_main'), topic, bad), 'INVALID', `handle ${JSON.stringify(bad)}`);
      }
    });

    void test(`proxy backend ${name} - a message group always lands on one queue`, async () => {
      const topic = T('BeTopic');
      const q = new Set<number>();
      for (let i = 0; i < 4; i++) q.add((await b.sendMessage(msg(topic, `g${i}`, { __SHARDINGKEY: 'order-7' }, { messageGroup: 'order-7' }))).queueId);
      assert.equal(q.size, 1);
      const got = await popN(b, topic, T('CG_group'), 4);
      for (const p of got) await b.ack(T('CG_group'), topic, p.receiptHandle);
    });

    void test(`proxy backend ${name} - change invisible time, expiry and dead-letter forward`, async () => {
      const topic = T('BeChange');
      const group = T('CG_change');
      await b.sendMessage(msg(topic, 'c1'));
      const [p] = await popN(b, topic, group, 1);
      const changed = await b.changeInvisibleTime(group, topic, p.receiptHandle, 60_000);
      assert.ok(typeof changed === 'object');
      assert.notEqual(changed.handle, p.receiptHandle);
      assert.ok(Math.abs(changed.invisibleUntil - (Date.now() + 60_000)) < 5000);
      assert.equal(await b.ack(group, topic, p.receiptHandle), 'INVALID', 'the old handle is superseded');
      const now = await b.changeInvisibleTime(group, topic, changed.handle, 0);
      assert.ok(typeof now === 'object');
      const [again] = await popN(b, topic, group, 1, 300);
      assert.equal(again.record.body.toString(), 'c1');
      assert.equal(again.deliveryAttempt, 2);
      assert.equal(again.topic, topic, 'a retry copy reports its origin topic');
      const [third] = await popN(b, topic, group, 1);
      assert.equal(third.deliveryAttempt, 3, 'redelivered after the 300 ms invisible time');
      assert.equal(await b.ack(group, topic, again.receiptHandle), 'EXPIRED');
      assert.equal(await b.forwardToDeadLetter(group, topic, third.receiptHandle), 'OK');
      await checkFor(3000, 10, () => s.controller.store.getMaxOffsetInQueue(`%DLQ%${group}`, 0) === 1, 'the DLQ message');
      assert.equal(await b.ack(group, topic, third.receiptHandle), 'INVALID');
    });

    void test(`proxy backend ${name} - offsets: commit and query, min, max, by time; pull by offset`, async () => {
      const topic = T('BeOffsets');
      const t0 = Date.now();
      for (let i = 0; i < 3; i++) await b.sendMessage(msg(topic, `o${i}`, { TAGS: i === 1 ? 'b' : 'a' }, { messageGroup: 'same' }));
      const qid = (await b.sendMessage(msg(topic, 'o3', { TAGS: 'a' }, { messageGroup: 'same' }))).queueId;
      await checkFor(3000, 10, async () => (await b.getMaxOffset(topic, qid)) === 4, 'max offset 4');
      assert.equal(await b.getMinOffset(topic, qid), 0);
      assert.equal(await b.searchOffsetByTime(topic, qid, t0 - 60_000), 0);
      await b.commitConsumerOffset(T('CG_off'), topic, qid, 2);
      assert.equal(await b.queryConsumerOffset(T('CG_off'), topic, qid), 2);
      const all = await b.getMessage({ group: T('CG_off'), topic, queueId: qid, offset: 0, maxNums: 10, filter: TAG });
      assert.deepEqual(all.messages.map((m) => [m.record.body.toString(), m.queueOffset]), [['o0', 0], ['o1', 1], ['o2', 2], ['o3', 3]]);
      assert.equal(all.nextBeginOffset, 4);
      const tagged = await b.getMessage({ group: T('CG_off'), topic, queueId: qid, offset: 1, maxNums: 10, filter: { expressionType: 'TAG', expression: 'a' } });
      assert.deepEqual(tagged.messages.map((m) => m.record.body.toString()), ['o2', 'o3']);
      const none = await b.getMessage({ group: T('CG_off'), topic, queueId: qid, offset: 4, maxNums: 10, filter: TAG });
      assert.deepEqual(none.messages, []);
      assert.equal(none.nextBeginOffset, 4);
    });

    void test(`proxy backend ${name} - transaction half message, commit by offsets`, async () => {
      const topic = T('BeTx');
      const r = await b.sendMessage(msg(topic, 'tx1', { TRAN_MSG: 'true', PGROUP: topic }, { sysFlag: 4 }));
      const none = await b.pop({ group: T('CG_tx'), topic, maxNums: 32, invisibleTimeMs: 30_000, autoRenew: false, clientId: 'c', filter: TAG, fifo: false, pollTimeMs: 0, maxDeliveryAttempts: 17 });
      assert.deepEqual(none, [], 'a half message is not delivered');
      await assert.rejects(
        b.endTransaction({ topic, producerGroup: topic, tranStateTableOffset: r.queueOffset + 1000, commitLogOffset: r.commitLogOffset, commitOrRollback: 'COMMIT', fromTransactionCheck: false }),
        /offset wrong/,
      );
      await b.endTransaction({ topic, producerGroup: topic, tranStateTableOffset: r.queueOffset, commitLogOffset: r.commitLogOffset, commitOrRollback: 'COMMIT', fromTransactionCheck: false });
      const [p] = await popN(b, topic, T('CG_tx'), 1);
      assert.equal(p.record.body.toString(), 'tx1');
      await b.ack(T('CG_tx'), topic, p.receiptHandle);
    });

    void test(`proxy backend ${name} - a transaction check-back reaches onTransactionCheck with usable offsets`, async () => {
      const topic = T('BeCheck');
      const seen: { m: MessageRecord; realTopic: string; brokerName: string }[] = [];
      b.onTransactionCheck((m, realTopic, brokerName) => {
        if (realTopic === topic) seen.push({ m, realTopic, brokerName });
      });
      await b.registerProducerTopic(topic);
      await b.sendMessage(msg(topic, 'undecided', { TRAN_MSG: 'true', PGROUP: topic }, { sysFlag: 4 }));
      const { m, brokerName } = await checkFor(8000, 20, () => seen[0], 'a transaction check-back');
      assert.equal(brokerName, s.controller.config.brokerName, 'the checking group is named');
      assert.equal(m.body.toString(), 'undecided');
      assert.equal(prop(m, 'PGROUP'), topic);
      assert.ok(prop(m, 'UNIQ_KEY'));
      await b.endTransaction({ topic, producerGroup: topic, tranStateTableOffset: m.queueOffset, commitLogOffset: m.commitLogOffset, commitOrRollback: 'COMMIT', fromTransactionCheck: true });
      const [p] = await popN(b, topic, T('CG_check'), 1);
      assert.equal(p.record.body.toString(), 'undecided');
    });

    void test(`proxy backend ${name} - a timer message is recalled by its handle`, async () => {
      const topic = T('BeTimer');
      const r = await b.sendMessage(msg(topic, 'later', { TIMER_DELIVER_MS: String(Date.now() + 120_000) }));
      assert.ok(r.recallHandle, 'timer sends return a recall handle');
      const key = await b.recallMessage(topic, r.recallHandle);
      assert.ok(key.length > 0);
      await assert.rejects(b.recallMessage(T('BeTopic'), r.recallHandle), /recall handle is for topic/);
    });
  });
}

conformance('local', () => Promise.resolve(new LocalBackend(s.controller)));
conformance('remote', () => createRemoteBackend({ namesrvAddr: s.namesrvAddr, heartbeatIntervalMs: 1000, topicCacheMs: 200, groupCacheMs: 200 }));

void test('cluster proxy - starts a remote backend from namesrvAddr and refuses to start without one', async () => {
  const h = await startClusterProxy(loadConfig('proxy', { flags: { namesrvAddr: s.namesrvAddr, grpcServerPort: 0 } }));
  try {
    assert.equal(h.backend.brokerName, s.controller.config.brokerName);
  } finally {
    await h.close();
  }
  await assert.rejects(startClusterProxy(loadConfig('proxy', { flags: { grpcServerPort: 0 } })), /namesrvAddr/);
});
