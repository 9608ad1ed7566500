// Transactional producer (Java TransactionMQProducer) against an in-process broker with short
// check timings: half send, local transaction, END_TRANSACTION, and check-backs answered by the
// producer's listener.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage } from '../../src/common/message-codec.js';
import { decodeMessageId } from '../../src/common/msg-id.js';
import { RequestCode, isOneway, type RemotingCommand } from '../../src/remoting/index.js';
import {
  AdminClient,
  PushConsumer,
  TransactionProducer,
  type LocalTransactionState,
  type MessageExt,
  type TransactionListener,
} from '../../src/client/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone, type BrokerOverrides, type Standalone } from '../helpers/standalone.js';

const TX: BrokerOverrides = { transactionTimeOut: 1000, transactionCheckInterval: 500 };
/** Long enough for the broker to have checked any undecided half message twice more. */
const PAST_CHECKS_MS = 1000 + 2 * 500 + 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Rig {
  s: Standalone;
  producer: TransactionProducer;
  consumer: PushConsumer;
  delivered: string[];
  checked: MessageExt[];
  ends: RemotingCommand[];
  close(): Promise<void>;
}

async function rig(overrides: BrokerOverrides, topic: string, listener: Omit<TransactionListener, 'checkLocalTransaction'> & { check: (m: MessageExt) => LocalTransactionState }): Promise<Rig> {
  const s = await startStandalone({ ...TX, ...overrides });
  const admin = new AdminClient({ namesrvAddr: s.namesrvAddr });
  try {
    await admin.createTopic(s.brokerAddr, topic, { readQueueNums: 2, writeQueueNums: 2 });
    await checkFor(5000, 20, async () => (await admin.topicRoute(topic)).queueDatas.length > 0, `route of ${topic}`);
  } finally {
    await admin.shutdown();
  }
  const delivered: string[] = [];
  const checked: MessageExt[] = [];
  const ends: RemotingCommand[] = [];
  const consumer = new PushConsumer({
    namesrvAddr: s.namesrvAddr,
    consumerGroup: `cg-${topic}`,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    handler: (msgs) => {
      for (const m of msgs) delivered.push(m.body.toString());
      return 'SUCCESS';
    },
  });
  consumer.subscribe(topic);
  await consumer.start();
  const producer = new TransactionProducer({
    namesrvAddr: s.namesrvAddr,
    producerGroup: `pg-${topic}`,
    rpcHook: (cmd) => {
      if (cmd.code === RequestCode.END_TRANSACTION) ends.push(cmd);
    },
    transactionListener: {
      executeLocalTransaction: listener.executeLocalTransaction,
      checkLocalTransaction: (m) => {
        checked.push(m);
        return listener.check(m);
      },
    },
  });
  await producer.start();
  return {
    s,
    producer,
    consumer,
    delivered,
    checked,
    ends,
    close: async () => {
      await producer.shutdown();
      await consumer.shutdown();
      await s.close();
    },
  };
}

const byBody = (state: Record<string, LocalTransactionState>) => (m: { body: Buffer | string }) => state[m.body.toString()] ?? 'UNKNOW';

void describe('transaction producer', { concurrency: true }, () => {
  void test('transaction - a commit is delivered exactly once, a rollback never; END_TRANSACTION carries the Java fields, oneway', async () => {
    const topic = 'TxLocal';
    const r = await rig({}, topic, {
      executeLocalTransaction: byBody({ 'commit-me': 'COMMIT_MESSAGE', 'rollback-me': 'ROLLBACK_MESSAGE' }),
      check: () => 'UNKNOW',
    });
    try {
      const c = await r.producer.sendMessageInTransaction({ topic, body: 'commit-me', keys: 'k1' });
      const rb = await r.producer.sendMessageInTransaction({ topic, body: 'rollback-me' });
      assert.equal(c.sendStatus, 'SEND_OK');
      assert.equal(c.localTransactionState, 'COMMIT_MESSAGE');
      assert.equal(rb.localTransactionState, 'ROLLBACK_MESSAGE');
      assert.equal(c.transactionId, c.msgId, "the broker's transaction id is the client's UNIQ_KEY");

      await checkFor(5000, 20, () => r.delivered.includes('commit-me'), 'the committed message');
      await sleep(PAST_CHECKS_MS);
      assert.deepEqual(r.delivered, ['commit-me'], 'delivered once; the rollback never');
      assert.deepEqual(r.checked, [], 'decided transactions are not checked back');

      assert.equal(r.ends.length, 2);
      for (const [cmd, sent, code] of [
        [r.ends[0], c, '8'],
        [r.ends[1], rb, '12'],
      ] as const) {
        assert.equal(isOneway(cmd), true, 'END_TRANSACTION is oneway');
        const e = cmd.extFields;
        assert.equal(e.producerGroup, `pg-${topic}`);
        assert.equal(e.topic, topic);
        assert.equal(e.commitOrRollback, code);
        assert.equal(e.tranStateTableOffset, String(sent.queueOffset));
        assert.equal(e.commitLogOffset, String(decodeMessageId(sent.offsetMsgId).offset));
        assert.equal(e.fromTransactionCheck, 'false');
        assert.equal(e.msgId, sent.msgId);
        assert.equal(e.transactionId, sent.transactionId);
        assert.equal(e.bname, sent.messageQueue.brokerName);
      }
    } finally {
      await r.close();
    }
  });

  void test('transaction - an unknown outcome is checked back; the checker commit is delivered once, its rollback never', async () => {
    const topic = 'TxChecked';
    const r = await rig({}, topic, {
      executeLocalTransaction: (m) => {
        if (m.body.toString() === 'check-rollback') throw new Error('local branch crashed');
        return 'UNKNOW';
      },
      check: byBody({ 'check-commit': 'COMMIT_MESSAGE', 'check-rollback': 'ROLLBACK_MESSAGE' }),
    });
    try {
      const c = await r.producer.sendMessageInTransaction({ topic, body: 'check-commit' });
      const rb = await r.producer.sendMessageInTransaction({ topic, body: 'check-rollback' });
      assert.equal(c.localTransactionState, 'UNKNOW');
      assert.equal(rb.localTransactionState, 'UNKNOW', 'a throwing local branch counts as unknown');
      assert.match(r.ends[1].remark ?? '', /local branch crashed/);
      assert.deepEqual(r.delivered, []);

      await checkFor(8000, 20, () => r.delivered.includes('check-commit'), 'the message committed on check-back');
      await checkFor(5000, 20, () => r.checked.some((m) => m.body.toString() === 'check-rollback'), 'the rollback check');
      const checksSoFar = r.checked.length;
      await sleep(PAST_CHECKS_MS);
      assert.deepEqual(r.delivered, ['check-commit'], 'delivered once; the checked rollback never');
      assert.equal(r.checked.length, checksSoFar, 'no more checks once both are decided');

      const m = r.checked.find((x) => x.body.toString() === 'check-commit');
      assert.ok(m);
      assert.equal(m.topic, topic, 'the check carries the real topic');
      assert.equal(m.transactionId, c.msgId);
      assert.equal(m.properties.PGROUP, `pg-${topic}`);
      const fromCheck = r.ends.filter((x) => x.extFields.fromTransactionCheck === 'true');
      assert.deepEqual(fromCheck.map((x) => x.extFields.commitOrRollback).sort(), ['12', '8']);
      for (const x of fromCheck) {
        assert.equal(isOneway(x), true);
        assert.equal(x.extFields.producerGroup, `pg-${topic}`);
        assert.ok([c.msgId, rb.msgId].includes(x.extFields.msgId as string), 'msgId is the UNIQ_KEY');
        assert.equal(x.extFields.transactionId, x.extFields.msgId);
      }
    } finally {
      await r.close();
    }
  });

  void test('transaction - the broker discards a half message after transactionCheckMax unknown answers', async () => {
    const topic = 'TxDiscard';
    const r = await rig({ transactionCheckMax: 2 }, topic, { executeLocalTransaction: () => 'UNKNOW', check: () => 'UNKNOW' });
    try {
      const sent = await r.producer.sendMessageInTransaction({ topic, body: 'never-known' });
      await checkFor(8000, 20, () => r.checked.length >= 2, 'two check-backs');
      await sleep(PAST_CHECKS_MS);
      assert.equal(r.checked.length, 2, 'checked exactly transactionCheckMax times');
      const stored = await r.s.controller.store.getMessage('TRANS_CHECK_MAX_TIME_TOPIC', 0, 0, 8);
      const discarded = stored.buffers.map((b) => decodeMessage(b, 0, { checkCrc: false }));
      assert.deepEqual(discarded.map((d) => d.body.toString()), ['never-known']);
      assert.match(discarded[0].properties, new RegExp(`UNIQ_KEY\u0001${sent.msgId}`));
      assert.deepEqual(r.delivered, []);
      assert.ok(r.ends.every((x) => x.extFields.commitOrRollback === '0'), 'every answer was unknown');
    } finally {
      await r.close();
    }
  });
});
