// Transaction messages over raw remoting, driven as the Java client does: half send,
// END_TRANSACTION commit / rollback, and the broker's CHECK_TRANSACTION_STATE check-back.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RemotingClient, ResponseCode } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';
import { TranState, TransactionProducer } from './fixtures/transaction-producer.js';
import { createTopicRaw, prop, pullAll, quietPeriod } from './fixtures/wire.js';

const TX_CONFIG = { transactionCheckInterval: 500, transactionTimeOut: 1000 };

async function bodiesOn(rc: RemotingClient, s: Standalone, topic: string): Promise<string[]> {
  return (await pullAll(rc, s.brokerAddr, topic)).map((m) => m.body.toString()).sort();
}

void describe('semantics transaction', { concurrency: true }, () => {
  void test('semantics transaction - commit delivers once (a repeated commit is harmless); rollback never delivers', async () => {
    await using s = await startStandalone(TX_CONFIG);
    const rc = new RemotingClient();
    await using tp = new TransactionProducer(s.brokerAddr, 'PG_tx_commit');
    try {
      const topic = 'TxCommitTopic';
      await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, topic);
      await tp.start();
      const a = await tp.sendHalf(topic, 'commit-me', { KEYS: 'order-1', biz: 'A' });
      const b = await tp.sendHalf(topic, 'roll-me-back');
      // Half messages are invisible on the real topic.
      assert.deepEqual(await bodiesOn(rc, s, topic), []);
      const halves = await pullAll(rc, s.brokerAddr, 'RMQ_SYS_TRANS_HALF_TOPIC');
      assert.deepEqual(
        halves.map((m) => [m.queueOffset, m.commitLogOffset, prop(m, 'REAL_TOPIC'), prop(m, '__transactionId__')]),
        [
          [a.tranStateTableOffset, a.commitLogOffset, topic, a.transactionId],
          [b.tranStateTableOffset, b.commitLogOffset, topic, b.transactionId],
        ],
      );

      const c1 = await tp.end(a, TranState.COMMIT);
      assert.equal(c1.code, ResponseCode.SUCCESS, c1.remark);
      const r1 = await tp.end(b, TranState.ROLLBACK);
      assert.equal(r1.code, ResponseCode.SUCCESS, r1.remark);
      const c2 = await tp.end(a, TranState.COMMIT);
      assert.equal(c2.code, ResponseCode.SUCCESS, 'a repeated commit is acknowledged');
      // A commit after a rollback does not resurrect the message.
      const c3 = await tp.end(b, TranState.COMMIT);
      assert.equal(c3.code, ResponseCode.SUCCESS);

      const [m] = await checkFor(3000, 25, async () => {
        const got = await pullAll(rc, s.brokerAddr, topic);
        return got.length > 0 ? got : undefined;
      }, 'the committed message');
      assert.equal(m.body.toString(), 'commit-me');
      assert.equal(m.sysFlag & 0x0c, 8, 'sysFlag carries TRANSACTION_COMMIT_TYPE');
      assert.equal(m.preparedTransactionOffset, a.commitLogOffset, 'points back at its half message');
      assert.equal(prop(m, 'TRAN_MSG'), undefined);
      assert.equal(prop(m, 'REAL_TOPIC'), undefined);
      assert.equal(prop(m, 'KEYS'), 'order-1');
      assert.equal(prop(m, 'biz'), 'A');
      assert.equal(prop(m, 'UNIQ_KEY'), a.transactionId);

      // Past timeout + two check rounds: still exactly one copy, and no check-back for decided messages.
      await quietPeriod(TX_CONFIG.transactionTimeOut + 2 * TX_CONFIG.transactionCheckInterval + 300);
      assert.deepEqual(await bodiesOn(rc, s, topic), ['commit-me']);
      assert.deepEqual(tp.checks, [], 'decided transactions are never checked back');
      const ops = await pullAll(rc, s.brokerAddr, 'RMQ_SYS_TRANS_OP_HALF_TOPIC');
      assert.deepEqual(ops.map((o) => [o.body.toString(), prop(o, 'TAGS')]).sort(), [
        [`${a.tranStateTableOffset},`, 'd'],
        [`${b.tranStateTableOffset},`, 'd'],
      ]);
    } finally {
      await rc.close();
    }
  });

  void test('semantics transaction - an undecided half is checked back after transactionTimeOut; the checker commits it once', async () => {
    await using s = await startStandalone(TX_CONFIG);
    const rc = new RemotingClient();
    await using tp = new TransactionProducer(s.brokerAddr, 'PG_tx_check');
    try {
      const topic = 'TxCheckTopic';
      await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, topic);
      await tp.start();
      const sentAt = Date.now();
      const h = await tp.sendHalf(topic, 'check-me', { biz: 'B' });
      tp.decisions.set(h.transactionId, TranState.COMMIT);

      const check = await checkFor(5000, 25, () => tp.checks[0], 'CHECK_TRANSACTION_STATE');
      assert.ok(check.at - sentAt >= TX_CONFIG.transactionTimeOut, `checked ${check.at - sentAt} ms after the send, not before transactionTimeOut`);
      assert.equal(check.header.transactionId, h.transactionId);
      assert.equal(check.header.msgId, h.transactionId);
      assert.equal(check.header.topic, topic);
      assert.ok(Number(check.header.tranStateTableOffset) >= 0);
      assert.ok(Number(check.header.commitLogOffset) > 0);
      // The body is the message as its real topic, so the client can run its checker on it.
      assert.equal(check.message.topic, topic);
      assert.equal(check.message.body.toString(), 'check-me');
      assert.equal(prop(check.message, 'biz'), 'B');

      await checkFor(3000, 25, async () => (await bodiesOn(rc, s, topic)).length === 1, 'the checked-back commit');
      await quietPeriod(3 * TX_CONFIG.transactionCheckInterval);
      assert.deepEqual(await bodiesOn(rc, s, topic), ['check-me'], 'delivered exactly once');
      assert.equal(tp.checks.length, 1, 'no further check once committed');
    } finally {
      await rc.close();
    }
  });

  void test('semantics transaction - a check answered "unknown" is asked again; a rollback from the check ends it', async () => {
    await using s = await startStandalone(TX_CONFIG);
    const rc = new RemotingClient();
    await using tp = new TransactionProducer(s.brokerAddr, 'PG_tx_unknown');
    try {
      const topic = 'TxUnknownTopic';
      await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, topic);
      await tp.start();
      const h = await tp.sendHalf(topic, 'undecided');
      await checkFor(6000, 25, () => tp.checks.length >= 2, 'a second check after an unanswered one');
      assert.deepEqual(
        tp.checks.map((c) => c.header.transactionId),
        [h.transactionId, h.transactionId],
      );
      // Each check re-appends the half message, counting the checks.
      assert.equal(prop(tp.checks[1].message, 'TRANSACTION_CHECK_TIMES'), '2');
      tp.decisions.set(h.transactionId, TranState.ROLLBACK);
      const n = await checkFor(3000, 25, () => tp.checks.length >= 3 && tp.checks.length, 'the check that rolls back');
      await quietPeriod(3 * TX_CONFIG.transactionCheckInterval);
      assert.equal(tp.checks.length, n, 'no check after the rollback');
      assert.deepEqual(await bodiesOn(rc, s, topic), []);
    } finally {
      await rc.close();
    }
  });

  void test('semantics transaction - END_TRANSACTION with a wrong producer group or offset is SYSTEM_ERROR naming it', async () => {
    await using s = await startStandalone(TX_CONFIG);
    const rc = new RemotingClient();
    await using tp = new TransactionProducer(s.brokerAddr, 'PG_tx_wrong');
    try {
      const topic = 'TxWrongTopic';
      await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, topic);
      await tp.start();
      const h = await tp.sendHalf(topic, 'guarded');
      const wrongGroup = await tp.end(h, TranState.COMMIT, { producerGroup: 'PG_somebody_else' });
      assert.equal(wrongGroup.code, ResponseCode.SYSTEM_ERROR);
      assert.match(wrongGroup.remark ?? '', /producer group wrong/i);
      assert.match(wrongGroup.remark ?? '', /PG_somebody_else/);
      assert.match(wrongGroup.remark ?? '', /PG_tx_wrong/);
      const wrongOffset = await tp.end({ ...h, tranStateTableOffset: h.tranStateTableOffset + 7 }, TranState.COMMIT);
      assert.equal(wrongOffset.code, ResponseCode.SYSTEM_ERROR);
      assert.match(wrongOffset.remark ?? '', /transaction state table offset wrong/i);
      const nowhere = await tp.end({ ...h, commitLogOffset: h.commitLogOffset + 10_000_000 }, TranState.COMMIT);
      assert.equal(nowhere.code, ResponseCode.SYSTEM_ERROR);
      assert.match(nowhere.remark ?? '', /commit log offset/);
      const badState = await tp.end(h, 5 as never);
      assert.equal(badState.code, ResponseCode.INVALID_PARAMETER);
      // None of that committed anything; the right call still works.
      assert.deepEqual(await bodiesOn(rc, s, topic), []);
      const ok = await tp.end(h, TranState.COMMIT);
      assert.equal(ok.code, ResponseCode.SUCCESS, ok.remark);
      await checkFor(3000, 25, async () => (await bodiesOn(rc, s, topic)).join() === 'guarded', 'the commit');
    } finally {
      await rc.close();
    }
  });
});
