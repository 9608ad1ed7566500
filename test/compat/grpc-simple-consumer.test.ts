// The real 5.x SimpleConsumer against the gRPC endpoint: receive, ack, changeInvisibleDuration
// and expiry redelivery (delivery attempt counting), and TAG / SQL92 filters.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createGroup, createTopic, GrpcHarness, pb, receiveN, rmq } from './helpers/grpc.js';

describe('grpc simple consumer', () => {
  test('grpc simple consumer - changeInvisibleDuration 0 and expiry redeliver with rising attempts; ack ends it', async () => {
    await using h = await GrpcHarness.start();
    await createTopic(h.s, 'GRedeliver');
    await createGroup(h.s, 'g-redeliver');
    const c = await h.simpleConsumer('g-redeliver', { GRedeliver: '*' });
    const p = await h.producer('GRedeliver');
    const sent = await p.send({ topic: 'GRedeliver', tag: 'T', keys: ['kk'], body: Buffer.from('again and again') });

    const [first] = await receiveN(c, 1, 10_000, { ack: false, invisibleMs: 30_000 });
    assert.ok(first, 'first delivery');
    assert.equal(first.deliveryAttempt, 1);
    const firstHandle = first.receiptHandle;
    await c.changeInvisibleDuration(first, 0);
    assert.notEqual(first.receiptHandle, firstHandle, 'a new receipt handle replaces the old one');

    const [second] = await receiveN(c, 1, 10_000, { ack: false, invisibleMs: 1000 });
    assert.ok(second, 'redelivered after changeInvisibleDuration(0)');
    assert.equal(second.messageId, sent.messageId);
    assert.equal(second.topic, 'GRedeliver');
    assert.equal(second.tag, 'T');
    assert.deepEqual(second.keys, ['kk']);
    assert.equal(second.body.toString(), 'again and again');
    assert.equal(second.deliveryAttempt, 2);

    // Not acked within its 1 s invisible time: it comes back by itself.
    const [third] = await receiveN(c, 1, 10_000, { ack: false, invisibleMs: 10_000 });
    assert.ok(third, 'redelivered after the invisible time passed');
    assert.equal(third.messageId, sent.messageId);
    assert.equal(third.deliveryAttempt, 3);
    await c.ack(third);
    assert.equal(h.s.controller.popService.inflightCount('g-redeliver'), 0);
    assert.deepEqual(await receiveN(c, 1, 1500), [], 'an acked message is gone for good');
  });

  test('grpc simple consumer - a longer changeInvisibleDuration keeps the message hidden until then', async () => {
    await using h = await GrpcHarness.start();
    await createTopic(h.s, 'GExtend');
    await createGroup(h.s, 'g-extend');
    const c = await h.simpleConsumer('g-extend', { GExtend: '*' });
    const p = await h.producer('GExtend');
    await p.send({ topic: 'GExtend', body: Buffer.from('x') });
    const [m] = await receiveN(c, 1, 10_000, { ack: false, invisibleMs: 1000 });
    assert.ok(m);
    await c.changeInvisibleDuration(m, 60_000);
    // Past the original 1 s it must stay hidden.
    assert.deepEqual(await receiveN(c, 1, 2500), []);
    await c.ack(m);
    assert.equal(h.s.controller.popService.inflightCount('g-extend'), 0);
  });

  test('grpc simple consumer - acking a FIFO message wakes a receive parked on its blocked queue at once', async () => {
    // A long poll far beyond the assertion bound: the parked receive must not sleep it out.
    await using h = await GrpcHarness.start({}, { maxLongPollingTimeoutMs: 15_000 });
    await createTopic(h.s, 'GFifoWake', 'FIFO', 1);
    await createGroup(h.s, 'g-fifo-wake', { consumeMessageOrderly: true });
    const p = await h.producer('GFifoWake');
    await p.send({ topic: 'GFifoWake', messageGroup: 'w', body: Buffer.from('first') });
    await p.send({ topic: 'GFifoWake', messageGroup: 'w', body: Buffer.from('second') });
    const c = await h.simpleConsumer('g-fifo-wake', { GFifoWake: '*' }, 15_000);
    const [first] = await c.receive(1, 30_000);
    assert.equal(first?.body.toString(), 'first');
    // The queue is blocked while "first" is in flight, so this receive parks.
    const parked = c.receive(1, 30_000);
    // Give it time to reach the server and park; were it late, it would find the queue free and the test still hold.
    await new Promise((r) => setTimeout(r, 200));
    const ackedAt = Date.now();
    await c.ack(first);
    const [second] = await parked;
    assert.equal(second?.body.toString(), 'second');
    const waited = Date.now() - ackedAt;
    assert.ok(waited < 3000, `the parked receive answered ${waited} ms after the ack`);
    await c.ack(second);
  });

  test('grpc simple consumer - tag expression TagA || TagB gets only those tags', async () => {
    await using h = await GrpcHarness.start();
    await createTopic(h.s, 'GTags');
    await createGroup(h.s, 'g-tags');
    const c = await h.simpleConsumer('g-tags', { GTags: 'TagA || TagB' });
    const p = await h.producer('GTags');
    for (const tag of ['TagA', 'TagC', 'TagB', 'TagC', 'TagA']) await p.send({ topic: 'GTags', tag, body: Buffer.from(tag) });
    await p.send({ topic: 'GTags', body: Buffer.from('untagged') });
    const got = await receiveN(c, 3, 10_000);
    got.push(...(await receiveN(c, 1, 1200)));
    assert.deepEqual(got.map((m) => m.tag).sort(), ['TagA', 'TagA', 'TagB']);
  });

  test('grpc simple consumer - SQL92 filter selects by user properties and tag', async () => {
    await using h = await GrpcHarness.start();
    await createTopic(h.s, 'GSql');
    await createGroup(h.s, 'g-sql');
    const expr = new rmq.FilterExpression("(price > 10 AND region = 'eu') OR TAGS = 'vip'", pb.FilterType.SQL);
    const c = await h.simpleConsumer('g-sql', { GSql: expr });
    const p = await h.producer('GSql');
    const cases: [string, string, string, string][] = [
      ['cheap-eu', 'std', '5', 'eu'],
      ['dear-eu', 'std', '50', 'eu'],
      ['dear-us', 'std', '50', 'us'],
      ['vip-us', 'vip', '1', 'us'],
    ];
    for (const [body, tag, price, region] of cases) {
      await p.send({ topic: 'GSql', tag, body: Buffer.from(body), properties: new Map([['price', price], ['region', region]]) });
    }
    const got = await receiveN(c, 2, 10_000);
    got.push(...(await receiveN(c, 1, 1200)));
    assert.deepEqual(got.map((m) => m.body.toString()).sort(), ['dear-eu', 'vip-us']);
  });
});
