// The real 5.x Producer (rocketmq-client-nodejs) against the gRPC endpoint: normal, FIFO, delay
// (and recall), and transactional messages, each checked from a real 5.x consumer's side.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createGroup, createTopic, GrpcHarness, pb, receiveN, type MessageView } from './helpers/grpc.js';

const { TransactionResolution } = pb;

describe('grpc producer', () => {
  test('grpc producer - normal message keeps tag, keys, properties and id through to a simple consumer', async () => {
    await using h = await GrpcHarness.start();
    await createTopic(h.s, 'GNormal', 'NORMAL');
    await createGroup(h.s, 'g-normal');
    const c = await h.simpleConsumer('g-normal', { GNormal: '*' });
    const p = await h.producer('GNormal');
    const receipt = await p.send({
      topic: 'GNormal',
      tag: 'TagA',
      keys: ['k1', 'k2'],
      body: Buffer.from('hello 5.x'),
      properties: new Map([
        ['color', 'red'],
        ['n', '42'],
      ]),
    });
    assert.match(receipt.messageId, /^[0-9A-F]{34}$/);
    const [m] = await receiveN(c, 1, 10_000);
    assert.ok(m, 'the message arrives');
    assert.equal(m.messageId, receipt.messageId);
    assert.equal(m.topic, 'GNormal');
    assert.equal(m.tag, 'TagA');
    assert.deepEqual(m.keys, ['k1', 'k2']);
    assert.equal(m.body.toString(), 'hello 5.x');
    assert.equal(m.properties.get('color'), 'red');
    assert.equal(m.properties.get('n'), '42');
    assert.equal(m.deliveryAttempt, 1);
    assert.equal(m.corrupted, undefined);
  });

  test('grpc producer - FIFO messages of one group arrive in send order with their group', async () => {
    await using h = await GrpcHarness.start();
    await createTopic(h.s, 'GFifo', 'FIFO');
    await createGroup(h.s, 'g-fifo-p', { consumeMessageOrderly: true });
    const p = await h.producer('GFifo');
    for (let i = 0; i < 10; i++) await p.send({ topic: 'GFifo', messageGroup: 'order-7', body: Buffer.from(`step-${i}`) });
    const c = await h.simpleConsumer('g-fifo-p', { GFifo: '*' });
    const got = await receiveN(c, 10, 15_000);
    assert.deepEqual(
      got.map((m) => m.body.toString()),
      Array.from({ length: 10 }, (_, i) => `step-${i}`),
    );
    for (const m of got) assert.equal(m.messageGroup, 'order-7');
  });

  test('grpc producer - a delayed message arrives no earlier than its delivery time', async () => {
    await using h = await GrpcHarness.start();
    await createTopic(h.s, 'GDelay', 'DELAY');
    await createGroup(h.s, 'g-delay');
    const c = await h.simpleConsumer('g-delay', { GDelay: '*' });
    const p = await h.producer('GDelay');
    const due = new Date(Date.now() + 2000);
    const r = await p.send({ topic: 'GDelay', deliveryTimestamp: due, body: Buffer.from('later') });
    assert.ok(r.recallHandle, 'a delay message gets a recall handle');
    const [m] = await receiveN(c, 1, 10_000);
    const arrived = Date.now();
    assert.ok(m, 'the delayed message arrives');
    assert.equal(m.messageId, r.messageId);
    assert.ok(arrived >= due.getTime(), `arrived ${due.getTime() - arrived} ms early`);
    assert.equal(m.deliveryTimestamp?.getTime(), due.getTime());
  });

  test('grpc producer - a recalled delay message is never delivered', async () => {
    await using h = await GrpcHarness.start();
    await createTopic(h.s, 'GRecall', 'DELAY');
    await createGroup(h.s, 'g-recall');
    const c = await h.simpleConsumer('g-recall', { GRecall: '*' });
    const p = await h.producer('GRecall');
    const doomed = await p.send({ topic: 'GRecall', delay: 1500, body: Buffer.from('recalled') });
    const kept = await p.send({ topic: 'GRecall', delay: 1500, body: Buffer.from('kept') });
    const recalled = await p.recallMessage('GRecall', doomed.recallHandle);
    assert.equal(recalled.messageId, doomed.messageId);
    // The kept one proves the due time has passed; anything the recalled one would do, it has done by then too.
    const got = await receiveN(c, 1, 10_000);
    assert.deepEqual(
      got.map((m) => m.body.toString()),
      ['kept'],
    );
    assert.equal(got[0].messageId, kept.messageId);
    const more = await receiveN(c, 1, 2500);
    assert.deepEqual(more, [], 'the recalled message must not be delivered');
  });

  test('grpc producer - transaction commit delivers, rollback does not', async () => {
    await using h = await GrpcHarness.start();
    await createTopic(h.s, 'GTx', 'TRANSACTION');
    await createGroup(h.s, 'g-tx');
    const c = await h.simpleConsumer('g-tx', { GTx: '*' });
    const p = await h.producer('GTx', { checker: { check: () => Promise.resolve(TransactionResolution.ROLLBACK) } });

    const t1 = p.beginTransaction();
    const r1 = await p.send({ topic: 'GTx', body: Buffer.from('rolled back') }, t1);
    assert.ok(r1.transactionId, 'transaction id is set');
    await t1.rollback();

    const t2 = p.beginTransaction();
    const r2 = await p.send({ topic: 'GTx', body: Buffer.from('committed') }, t2);
    // Not visible before the commit.
    assert.deepEqual(await receiveN(c, 1, 1200), []);
    await t2.commit();

    const got = await receiveN(c, 1, 5000);
    got.push(...(await receiveN(c, 1, 1000)));
    assert.deepEqual(
      got.map((m) => [m.body.toString(), m.messageId]),
      [['committed', r2.messageId]],
    );
  });

  test('grpc producer - an unknown transaction is recovered by the producer checker over telemetry', async () => {
    await using h = await GrpcHarness.start({ transactionCheckInterval: 300, transactionTimeOut: 500 });
    await createTopic(h.s, 'GTxCheck', 'TRANSACTION');
    await createGroup(h.s, 'g-tx-check');
    const checked: MessageView[] = [];
    const p = await h.producer('GTxCheck', {
      checker: {
        check: (m: MessageView) => {
          checked.push(m);
          return Promise.resolve(TransactionResolution.COMMIT);
        },
      },
    });
    const t = p.beginTransaction();
    const r = await p.send({ topic: 'GTxCheck', tag: 'orphan', body: Buffer.from('checked back') }, t);
    // Neither commit nor rollback: the broker must ask the producer.
    const c = await h.simpleConsumer('g-tx-check', { GTxCheck: '*' });
    const [m] = await receiveN(c, 1, 15_000);
    assert.ok(m, 'the checked-back transaction is committed and delivered');
    assert.equal(m.messageId, r.messageId);
    assert.equal(m.body.toString(), 'checked back');
    assert.ok(checked.length >= 1, 'the checker was asked');
    assert.equal(checked[0].messageId, r.messageId);
    assert.equal(checked[0].topic, 'GTxCheck');
    assert.equal(checked[0].tag, 'orphan');
    assert.equal(checked[0].body.toString(), 'checked back');
    // Committed once: no second copy turns up after further check rounds.
    assert.deepEqual(await receiveN(c, 1, 1500), []);
  });
});
