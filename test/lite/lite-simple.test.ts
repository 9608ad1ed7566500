// LITE_SIMPLE_CONSUMER (issue 18), the broker side. rocketmq-client-nodejs 1.0.8 ships no lite
// simple consumer (only LitePushConsumer), so this drives the calls such a client makes over a raw
// gRPC stub of the package's own proto: SyncLiteSubscription, ReceiveMessage, ChangeInvisibleDuration,
// AckMessage. The lite topic limits come from broker.conf keys here, not parent attributes, and
// the lite gauges are read back from /metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { attachBrokerMetrics, startHttpServer } from '../../src/console/index.js';
import { loadMessagingService } from '../../src/proxy/proto.js';
import { createGroup } from '../compat/helpers/grpc.js';
import { one, scrape } from '../observability/metrics-helpers.js';
import { createLiteParent, LiteHarness, sendLite } from './lite-helpers.js';

const LITE_SIMPLE_CONSUMER = 6;
const LITE = 5;
const PARTIAL_ADD = 0;

interface Stub {
  unary(method: string, req: unknown): Promise<any>;
  receive(req: unknown): Promise<any[]>;
  close(): void;
}

function stub(address: string, clientId: string): Stub {
  const Ctor = grpc.makeGenericClientConstructor(loadMessagingService(), 'MessagingService');
  const c = new Ctor(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, any>;
  const md = new grpc.Metadata();
  md.set('x-mq-client-id', clientId);
  md.set('x-mq-protocol', 'v2');
  return {
    unary: (m, req) => new Promise((resolve, reject) => c[m].call(c, req, md, (err: Error | null, res: unknown) => (err ? reject(err) : resolve(res)))),
    receive: (req) =>
      new Promise((resolve, reject) => {
        const frames: any[] = [];
        const s = c.ReceiveMessage.call(c, req, md) as grpc.ClientReadableStream<any>;
        s.on('data', (f) => frames.push(f));
        s.on('error', reject);
        s.on('end', () => resolve(frames));
      }),
    close: () => c.close(),
  };
}

const receiveReq = (group: string, topic: string) => ({
  group: { name: group },
  messageQueue: { topic: { name: topic }, id: -1, broker: { name: '' } },
  filterExpression: { type: 1, expression: '*' },
  batchSize: 32,
  invisibleDuration: { seconds: 20, nanos: 0 },
  autoRenew: false,
  longPollingTimeout: { seconds: 1, nanos: 0 },
});

test('lite topics - a LITE_SIMPLE_CONSUMER over the raw gRPC stub receives its lite topics in order, one batch in flight per lite topic, acks and changes invisible time; broker.conf limits and /metrics gauges apply', async () => {
  await using h = await LiteHarness.start(undefined, { maxLiteTopicNum: 3, maxLiteSubscriptionCount: 3 });
  await createLiteParent(h.s, 'LiteSimple');
  await createGroup(h.s, 'g-lite-simple');
  const m = attachBrokerMetrics(h.s.controller, { processMetrics: false });
  const http = await startHttpServer({ host: '127.0.0.1', port: 0, registry: m.metrics.registry });
  const c = stub(h.endpoints, 'lite-simple-1');
  try {
    const settings = await new Promise<any>((resolve, reject) => {
      // The client announces itself as a lite simple consumer on Telemetry, as the 5.x clients do.
      const md = new grpc.Metadata();
      md.set('x-mq-client-id', 'lite-simple-1');
      const Ctor = grpc.makeGenericClientConstructor(loadMessagingService(), 'MessagingService');
      const t = new Ctor(h.endpoints, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, any>;
      const s = t.Telemetry.call(t, md) as grpc.ClientDuplexStream<any, any>;
      s.on('data', (f: any) => {
        s.end();
        t.close();
        resolve(f);
      });
      s.on('error', reject);
      s.write({ settings: { clientType: LITE_SIMPLE_CONSUMER, subscription: { group: { name: 'g-lite-simple' }, subscriptions: [{ topic: { name: 'LiteSimple' } }] } } });
    });
    assert.equal(settings.status?.code, 20000, JSON.stringify(settings.status));

    const sub = await c.unary('SyncLiteSubscription', { action: PARTIAL_ADD, topic: { name: 'LiteSimple' }, group: { name: 'g-lite-simple' }, liteTopicSet: ['a', 'b'] });
    assert.equal(sub.status.code, 20000, JSON.stringify(sub.status));
    const p = await h.producer('LiteSimple');
    for (let i = 0; i < 5; i++) for (const n of ['a', 'b']) await sendLite(p, 'LiteSimple', n, `${n}:${i}`);
    await sendLite(p, 'LiteSimple', 'c', 'c:0');
    // maxLiteTopicNum=3 from broker.conf: a fourth lite topic is refused.
    await assert.rejects(sendLite(p, 'LiteSimple', 'd', 'd:0'), (err: { code?: number; message: string }) => {
      assert.equal(err.code, 42901);
      assert.match(err.message, /holds 3 lite topics already/);
      return true;
    });

    const frames = await c.receive(receiveReq('g-lite-simple', 'LiteSimple'));
    assert.equal(frames[0].status?.code, 20000, JSON.stringify(frames[0].status));
    const msgs = frames.filter((f) => f.message).map((f) => f.message);
    assert.equal(msgs.length, 10, 'both subscribed lite topics, nothing of the unsubscribed c');
    const per = new Map<string, number[]>();
    for (const msg of msgs) {
      const sp = msg.systemProperties;
      assert.equal(sp.messageType, LITE);
      const [lite, seq] = msg.body.toString().split(':');
      assert.equal(sp.liteTopic, lite);
      per.set(lite, [...(per.get(lite) ?? []), Number(seq)]);
    }
    assert.deepEqual(Object.fromEntries(per), { a: [0, 1, 2, 3, 4], b: [0, 1, 2, 3, 4] });

    // In flight: a second receive gets nothing of a or b until the batch is acknowledged.
    await sendLite(p, 'LiteSimple', 'a', 'a:5');
    const held = await c.receive(receiveReq('g-lite-simple', 'LiteSimple'));
    assert.equal(held.filter((f) => f.message).length, 0);
    assert.equal(held[0].status?.code, 40401, 'MESSAGE_NOT_FOUND while the batch is in flight');

    const first = msgs[0];
    const changed = await c.unary('ChangeInvisibleDuration', {
      group: { name: 'g-lite-simple' },
      topic: { name: 'LiteSimple' },
      receiptHandle: first.systemProperties.receiptHandle,
      invisibleDuration: { seconds: 30, nanos: 0 },
      messageId: first.systemProperties.messageId,
    });
    assert.equal(changed.status.code, 20000);
    assert.notEqual(changed.receiptHandle, first.systemProperties.receiptHandle);
    const entries = msgs.map((msg, i) => ({ messageId: msg.systemProperties.messageId, receiptHandle: i === 0 ? changed.receiptHandle : msg.systemProperties.receiptHandle }));
    const acked = await c.unary('AckMessage', { group: { name: 'g-lite-simple' }, topic: { name: 'LiteSimple' }, entries });
    assert.equal(acked.status.code, 20000, JSON.stringify(acked.entries?.find((e: any) => e.status.code !== 20000)));
    const stale = await c.unary('AckMessage', { group: { name: 'g-lite-simple' }, topic: { name: 'LiteSimple' }, entries: [entries[1]] });
    assert.equal(stale.status.code, 40013, 'an acknowledged handle is invalid (INVALID_RECEIPT_HANDLE)');

    const next = await c.receive(receiveReq('g-lite-simple', 'LiteSimple'));
    assert.deepEqual(next.filter((f) => f.message).map((f) => f.message.body.toString()), ['a:5'], 'a resumes after its acknowledged batch');

    // maxLiteSubscriptionCount=3 from broker.conf.
    const over = await c.unary('SyncLiteSubscription', { action: PARTIAL_ADD, topic: { name: 'LiteSimple' }, group: { name: 'g-lite-simple' }, liteTopicSet: ['c', 'x'] });
    assert.equal(over.status.code, 42902);
    assert.match(over.status.message, /quota of 3/);

    const samples = await scrape(http.address);
    assert.equal(one(samples, 'apogee_lite_topics', { topic: 'LiteSimple' }).value, 3);
    assert.equal(one(samples, 'apogee_lite_subscriptions', { topic: 'LiteSimple', consumer_group: 'g-lite-simple' }).value, 2);
  } finally {
    c.close();
    await http.close();
    m.detach();
  }
});
