// The real LitePushConsumer of rocketmq-client-nodejs against a standalone (issue 18): delivery
// per lite topic in order to the consumer that subscribed it (standard and FIFO consume services),
// subscription changes while running, two consumers of one group, lite topics sharing a hash.
// Expiry, quotas and restarts are in lite-lifecycle.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { liteServiceOf } from '../../src/broker/lite/index.js';
import { checkFor } from '../helpers/check-for.js';
import { createGroup, type MessageView } from '../compat/helpers/grpc.js';
import { ConsumeResult, createLiteParent, LiteHarness, litePushConsumer, sendLite } from './lite-helpers.js';

const ok = (): Promise<unknown> => Promise.resolve(ConsumeResult.SUCCESS);

/** body "<lite>:<seq>" → per lite topic, the seqs in the order seen. */
function byLite(ms: readonly MessageView[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const m of ms) {
    const [lite, seq] = m.body.toString().split(':');
    assert.equal(m.liteTopic, lite, 'the message carries its lite topic');
    let a = out.get(lite);
    if (!a) out.set(lite, (a = []));
    a.push(Number(seq));
  }
  return out;
}

const names = (from: number, n: number, prefix = 'lt-'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${String(from + i).padStart(3, '0')}`);

describe('lite topics', () => {
  test('lite topics - 200 lite topics under one parent reach the consumer that subscribed each, in send order (standard and FIFO services)', async () => {
    await using h = await LiteHarness.start();
    await createLiteParent(h.s, 'Lite200', { queues: 8 });
    await createGroup(h.s, 'g-lite-std');
    await createGroup(h.s, 'g-lite-fifo', { consumeMessageOrderly: true });
    const gotStd: MessageView[] = [];
    const gotFifo: MessageView[] = [];
    const std = await litePushConsumer(h, 'g-lite-std', 'Lite200', (m) => (gotStd.push(m), ok()));
    const fifo = await litePushConsumer(h, 'g-lite-fifo', 'Lite200', (m) => (gotFifo.push(m), ok()));
    const a = names(0, 100);
    const b = names(100, 100);
    for (const n of a) await std.subscribeLite(n);
    for (const n of b) await fifo.subscribeLite(n);
    const p = await h.producer('Lite200');
    const rounds = 2;
    for (let r = 0; r < rounds; r++) await Promise.all([...a, ...b].map((n) => sendLite(p, 'Lite200', n, `${n}:${r}`)));
    await checkFor(20_000, 50, () => gotStd.length >= 200 && gotFifo.length >= 200, `400 messages (have ${gotStd.length} + ${gotFifo.length})`);
    for (const [got, mine] of [
      [gotStd, a],
      [gotFifo, b],
    ] as const) {
      const per = byLite(got);
      assert.deepEqual([...per.keys()].sort(), [...mine].sort(), 'exactly the subscribed lite topics');
      for (const [n, seqs] of per) assert.deepEqual(seqs, [0, 1], `lite topic ${n} in order, once each`);
    }
    const svc = await liteServiceOf(h.s.controller);
    assert.equal(svc.table.countOf('Lite200'), 200);
    const backlog = (t: { name: string; backlog: Record<string, number> }): string => `${t.name} ${JSON.stringify(t.backlog)}`;
    const want = [...a.map((n) => `${n} {"g-lite-std":0}`), ...b.map((n) => `${n} {"g-lite-fifo":0}`)];
    await checkFor(5000, 50, () => svc.list('Lite200').map(backlog).join() === want.join(), 'every lite topic consumed by its group only');
    assert.ok(svc.list('Lite200').every((t) => t.count === 2));
  });

  test('lite topics - unsubscribing stops a lite topic while running and subscribing again resumes after the last consumed message', async () => {
    await using h = await LiteHarness.start();
    await createLiteParent(h.s, 'LiteSub');
    await createGroup(h.s, 'g-lite-sub');
    const got: MessageView[] = [];
    const c = await litePushConsumer(h, 'g-lite-sub', 'LiteSub', (m) => (got.push(m), ok()));
    await c.subscribeLite('chat-a');
    const p = await h.producer('LiteSub');
    await sendLite(p, 'LiteSub', 'chat-a', 'chat-a:0');
    await sendLite(p, 'LiteSub', 'chat-a', 'chat-a:1');
    await checkFor(10_000, 50, () => got.length >= 2, 'chat-a 0 and 1');
    await c.unsubscribeLite('chat-a');
    await sendLite(p, 'LiteSub', 'chat-a', 'chat-a:2');
    await sendLite(p, 'LiteSub', 'chat-a', 'chat-a:3');
    await c.subscribeLite('chat-b');
    await sendLite(p, 'LiteSub', 'chat-b', 'chat-b:0');
    await checkFor(10_000, 50, () => got.some((m) => m.liteTopic === 'chat-b'), 'chat-b 0');
    assert.deepEqual(byLite(got).get('chat-a'), [0, 1], 'nothing of chat-a while unsubscribed');
    const svc = await liteServiceOf(h.s.controller);
    assert.equal(svc.list('LiteSub', 'chat-a')[0].backlog['g-lite-sub'], 2);
    await c.subscribeLite('chat-a');
    await checkFor(10_000, 50, () => got.length >= 5, 'chat-a 2 and 3 after subscribing again');
    assert.deepEqual(byLite(got).get('chat-a'), [0, 1, 2, 3]);
    assert.deepEqual([...c.getLiteTopicSet()].sort(), ['chat-a', 'chat-b']);
  });

  test('lite topics - lite topics with the same hash share a queue and tag code yet each gets only its own messages, from the queue scan and the tail', async () => {
    await using h = await LiteHarness.start();
    await createLiteParent(h.s, 'LiteHash');
    await createGroup(h.s, 'g-lite-hash');
    const p = await h.producer('LiteHash');
    // "Aa" and "BB" have the same Java hashCode: same queue, same consume-queue tag code.
    for (let i = 0; i < 20; i++) {
      await sendLite(p, 'LiteHash', 'Aa', `Aa:${i}`);
      await sendLite(p, 'LiteHash', 'BB', `BB:${i}`);
    }
    const got: MessageView[] = [];
    const c = await litePushConsumer(h, 'g-lite-hash', 'LiteHash', (m) => (got.push(m), ok()));
    // More messages than the 16 offsets a lite topic keeps: the first ones are found by scanning.
    await c.subscribeLite('Aa');
    await checkFor(10_000, 50, () => got.length >= 20, 'the 20 messages of Aa');
    assert.deepEqual([...byLite(got).keys()], ['Aa']);
    assert.deepEqual(byLite(got).get('Aa'), Array.from({ length: 20 }, (_, i) => i));
  });

  test('lite topics - two consumers of one group share lite topics and never reorder one', async () => {
    await using h = await LiteHarness.start();
    await createLiteParent(h.s, 'LiteShare');
    await createGroup(h.s, 'g-lite-share', { consumeMessageOrderly: true });
    const order: { n: string; seq: number; who: number }[] = [];
    const consume = (who: number) => async (m: MessageView) => {
      const [n, seq] = m.body.toString().split(':');
      order.push({ n, seq: Number(seq), who });
      // Some work per message, so that the two consumers overlap.
      await new Promise((r) => setTimeout(r, 3));
      return ConsumeResult.SUCCESS;
    };
    const c1 = await litePushConsumer(h, 'g-lite-share', 'LiteShare', consume(1));
    const c2 = await litePushConsumer(h, 'g-lite-share', 'LiteShare', consume(2));
    const topics = names(0, 10, 'shared-');
    for (const n of topics) {
      await c1.subscribeLite(n);
      await c2.subscribeLite(n);
    }
    const p = await h.producer('LiteShare');
    const per = 12;
    for (let i = 0; i < per; i++) await Promise.all(topics.map((n) => sendLite(p, 'LiteShare', n, `${n}:${i}`)));
    await checkFor(20_000, 50, () => order.length >= topics.length * per, `${topics.length * per} messages (have ${order.length})`);
    for (const n of topics) {
      assert.deepEqual(
        order.filter((o) => o.n === n).map((o) => o.seq),
        Array.from({ length: per }, (_, i) => i),
        `${n} consumed in order, once each, across both consumers`,
      );
    }
    assert.ok(order.some((o) => o.who === 1) && order.some((o) => o.who === 2), 'both consumers took part');
  });

});
