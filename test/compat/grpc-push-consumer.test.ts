// The real 5.x PushConsumer against the gRPC endpoint: a listener that always fails sends the
// message to %DLQ%<group> after the group's attempts, and a FIFO group shared by two push
// consumers sees every message group in send order.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFor } from '../helpers/check-for.js';
import { createGroup, createTopic, GrpcHarness, receiveN, rmq, type MessageView } from './helpers/grpc.js';

const { ConsumeResult } = rmq;

describe('grpc push consumer', () => {
  test('grpc push consumer - an always failing listener puts the message in the DLQ after retryMaxTimes + 1 attempts', async () => {
    await using h = await GrpcHarness.start();
    await createTopic(h.s, 'GPushDlq');
    await createGroup(h.s, 'g-push-dlq', { retryMaxTimes: 2 });
    const attempts: { id: string; attempt: number | undefined; body: string }[] = [];
    await h.pushConsumer('g-push-dlq', { GPushDlq: '*' }, (m: MessageView) => {
      attempts.push({ id: m.messageId, attempt: m.deliveryAttempt, body: m.body.toString() });
      return Promise.resolve(ConsumeResult.FAILURE);
    });
    const p = await h.producer('GPushDlq');
    const sent = await p.send({ topic: 'GPushDlq', tag: 'doomed', keys: ['dk'], body: Buffer.from('never consumed') });

    const dlq = '%DLQ%g-push-dlq';
    await checkFor(15_000, 100, () => h.s.controller.topicConfigManager.selectTopicConfig(dlq), 'the DLQ topic');
    await createGroup(h.s, 'g-dlq-reader');
    const reader = await h.simpleConsumer('g-dlq-reader', { [dlq]: '*' });
    const [dead] = await receiveN(reader, 1, 10_000);
    assert.ok(dead, 'the message is in the DLQ');
    assert.equal(dead.messageId, sent.messageId);
    assert.equal(dead.body.toString(), 'never consumed');
    assert.equal(dead.tag, 'doomed');
    assert.deepEqual(dead.keys, ['dk']);
    assert.deepEqual(
      attempts.map((a) => [a.id, a.attempt, a.body]),
      [1, 2, 3].map((n) => [sent.messageId, n, 'never consumed']),
    );
    assert.equal(h.s.controller.popService.inflightCount('g-push-dlq'), 0);
  });

  test('grpc push consumer - two consumers of a FIFO group consume each message group in send order', async () => {
    await using h = await GrpcHarness.start();
    await createTopic(h.s, 'GPushFifo', 'FIFO', 4);
    await createGroup(h.s, 'g-push-fifo', { consumeMessageOrderly: true });
    const groups = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    const perGroup = 12;
    const consumed = new Map<string, number[]>(groups.map((g) => [g, []]));
    const byConsumer = [0, 0];
    const listener = (who: number) => async (m: MessageView) => {
      byConsumer[who]++;
      const [g, seq] = m.body.toString().split(':');
      consumed.get(g)?.push(Number(seq));
      // A little work per message so that consumption overlaps between the two consumers.
      await new Promise((r) => setTimeout(r, 2));
      return ConsumeResult.SUCCESS;
    };
    await h.pushConsumer('g-push-fifo', { GPushFifo: '*' }, listener(0));
    await h.pushConsumer('g-push-fifo', { GPushFifo: '*' }, listener(1));
    const p = await h.producer('GPushFifo');
    for (let i = 0; i < perGroup; i++) {
      for (const g of groups) await p.send({ topic: 'GPushFifo', messageGroup: g, body: Buffer.from(`${g}:${i}`) });
    }
    const total = groups.length * perGroup;
    await checkFor(20_000, 100, () => [...consumed.values()].every((v) => v.length >= perGroup), `${total} messages consumed`);
    const inOrder = Array.from({ length: perGroup }, (_, i) => i);
    for (const g of groups) assert.deepEqual(consumed.get(g), inOrder, `message group ${g} in send order, once`);
    assert.ok(byConsumer[0] > 0 && byConsumer[1] > 0, `both consumers took part (${byConsumer.join(' / ')})`);
  });
});
