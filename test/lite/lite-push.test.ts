// The real LitePushConsumer of rocketmq-client-nodejs against a standalone (issue 18).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFor } from '../helpers/check-for.js';
import { createGroup, GrpcHarness, type MessageView } from '../compat/helpers/grpc.js';
import { ConsumeResult, createLiteParent, litePushConsumer, sendLite } from './lite-helpers.js';

describe('lite topics', () => {
  test('lite topics - a subscribed lite topic is delivered in order with its lite topic, tag and properties', async () => {
    await using h = await GrpcHarness.start();
    await createLiteParent(h.s, 'LiteBasic');
    await createGroup(h.s, 'g-lite-basic');
    const got: MessageView[] = [];
    const c = await litePushConsumer(h, 'g-lite-basic', 'LiteBasic', (m) => {
      got.push(m);
      return Promise.resolve(ConsumeResult.SUCCESS);
    });
    await c.subscribeLite('session-1');
    const p = await h.producer('LiteBasic');
    for (let i = 0; i < 5; i++) await sendLite(p, 'LiteBasic', 'session-1', `m${i}`, 'tg');
    await sendLite(p, 'LiteBasic', 'session-2', 'not subscribed');
    await checkFor(10_000, 50, () => got.length >= 5, 'five messages');
    assert.deepEqual(got.map((m) => m.body.toString()), ['m0', 'm1', 'm2', 'm3', 'm4']);
    assert.deepEqual(got.map((m) => m.liteTopic), Array(5).fill('session-1'));
    assert.equal(got[0].tag, 'tg');
    assert.equal(got[0].topic, 'LiteBasic');
  });
});
