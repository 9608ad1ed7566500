// Bad input on the gRPC endpoint, through the real 5.x client where it lets the request through
// and through a raw gRPC client where the real one validates first: each answer carries the
// right apache.rocketmq.v2.Code and a message that names the cause.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '../../src/proxy/index.js';
import { checkFor } from '../helpers/check-for.js';
import { createGroup, createTopic, GrpcHarness, rawClient, receiveN, type RawClient } from './helpers/grpc.js';

const MAX_BODY = 2048;
let seq = 0;

function rawMessage(topic: string, body: Buffer, messageType = 1, extra: Record<string, unknown> = {}): unknown {
  const id = `01AABBCCDDEEFF00112233445566${(++seq).toString(16).padStart(6, '0').toUpperCase()}`;
  const now = Date.now();
  return {
    topic: { name: topic },
    body,
    systemProperties: { messageId: id, messageType, bodyEncoding: 1, bornTimestamp: { seconds: Math.floor(now / 1000), nanos: 0 }, ...extra },
  };
}

/** What the real client throws for a non-OK Status: an exception that carries the code. */
async function rejectsWithCode(p: Promise<unknown>, code: number, text: RegExp): Promise<void> {
  await assert.rejects(p, (err: { code?: number; message?: string }) => {
    assert.equal(err.code, code, `code of ${err.message}`);
    assert.match(err.message ?? '', text);
    return true;
  });
}

describe('grpc bad input', () => {
  let h: GrpcHarness;
  let raw: RawClient;

  before(async () => {
    // No auto-created groups, so that an unknown group stays unknown.
    h = await GrpcHarness.start({ maxMessageSize: MAX_BODY, autoCreateSubscriptionGroup: false });
    await createTopic(h.s, 'GBadNormal', 'NORMAL');
    await createTopic(h.s, 'GBadFifo', 'FIFO');
    await createGroup(h.s, 'g-bad');
    raw = rawClient(h.endpoints);
  });

  after(async () => {
    raw.close();
    await h.close();
  });

  test('grpc bad input - unknown topic is TOPIC_NOT_FOUND (40402) naming the topic', async () => {
    const p = await h.producer('GBadNormal');
    await rejectsWithCode(p.send({ topic: 'GNoSuchTopic', body: Buffer.from('x') }), Code.TOPIC_NOT_FOUND, /GNoSuchTopic not found/);
    const r = await raw.unary('SendMessage', { messages: [rawMessage('GNoSuchTopic', Buffer.from('x'))] });
    assert.equal(r.entries[0].status.code, Code.TOPIC_NOT_FOUND);
    assert.match(r.entries[0].status.message, /GNoSuchTopic not found/);
    const route = await raw.unary('QueryRoute', { topic: { name: 'GNoSuchTopic' } });
    assert.equal(route.status.code, Code.TOPIC_NOT_FOUND);
  });

  test('grpc bad input - a message type the topic does not accept is 40014 (client-side and server-side)', async () => {
    const p = await h.producer('GBadFifo');
    // The nodejs client checks accept_message_types itself before sending.
    await assert.rejects(p.send({ topic: 'GBadFifo', body: Buffer.from('no group') }), /Current message type not match with topic accept message types/);
    const r = await raw.unary('SendMessage', { messages: [rawMessage('GBadFifo', Buffer.from('normal on fifo'), 1)] });
    assert.equal(r.status.code, Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE);
    assert.equal(r.entries[0].status.code, Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE);
    assert.match(r.entries[0].status.message, /topic GBadFifo is FIFO, message is NORMAL/);
    const fifoOnNormal = await raw.unary('SendMessage', { messages: [rawMessage('GBadNormal', Buffer.from('fifo on normal'), 2, { messageGroup: 'g1' })] });
    assert.equal(fifoOnNormal.entries[0].status.code, Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE);
    assert.match(fifoOnNormal.entries[0].status.message, /topic GBadNormal is NORMAL, message is FIFO/);
  });

  test('grpc bad input - an oversized body is MESSAGE_BODY_TOO_LARGE (41301) with the limit', async () => {
    const r = await raw.unary('SendMessage', { messages: [rawMessage('GBadNormal', Buffer.alloc(MAX_BODY + 1, 1))] });
    assert.equal(r.entries[0].status.code, Code.MESSAGE_BODY_TOO_LARGE);
    assert.match(r.entries[0].status.message, new RegExp(`size ${MAX_BODY + 1} exceeds the limit of ${MAX_BODY} bytes`));
    // The real client learns the limit from the settings reply and refuses before sending.
    const p = await h.producer('GBadNormal');
    assert.equal(p.publishingSettings.maxBodySizeBytes, MAX_BODY);
    await assert.rejects(p.send({ topic: 'GBadNormal', body: Buffer.alloc(MAX_BODY + 1) }), /exceeds the threshold, max size=2048/);
    const ok = await raw.unary('SendMessage', { messages: [rawMessage('GBadNormal', Buffer.alloc(MAX_BODY, 1))] });
    assert.equal(ok.entries[0].status.code, Code.OK, 'exactly the limit is fine');
  });

  test('grpc bad input - an unknown or superseded receipt handle is INVALID_RECEIPT_HANDLE (40013)', async () => {
    const garbage = await raw.unary('AckMessage', { group: { name: 'g-bad' }, topic: { name: 'GBadNormal' }, entries: [{ messageId: 'x', receiptHandle: 'not-a-handle' }] });
    assert.equal(garbage.status.code, Code.INVALID_RECEIPT_HANDLE);
    assert.match(garbage.entries[0].status.message, /receipt handle is invalid/);

    await createTopic(h.s, 'GBadHandle');
    const p = await h.producer('GBadHandle');
    const c = await h.simpleConsumer('g-bad', { GBadHandle: '*' });
    await p.send({ topic: 'GBadHandle', body: Buffer.from('h') });
    const [m] = await receiveN(c, 1, 10_000, { ack: false, invisibleMs: 30_000 });
    assert.ok(m);
    const old = m.receiptHandle;
    await c.changeInvisibleDuration(m, 30_000);
    const stale = await raw.unary('AckMessage', { group: { name: 'g-bad' }, topic: { name: 'GBadHandle' }, entries: [{ messageId: m.messageId, receiptHandle: old }] });
    assert.equal(stale.status.code, Code.INVALID_RECEIPT_HANDLE);
    assert.match(stale.status.message, /superseded/);
    await c.ack(m);
    await rejectsWithCode(c.ack(m), Code.INVALID_RECEIPT_HANDLE, /already acknowledged/);
  });

  test('grpc bad input - an expired receipt handle is 40013 saying it expired', async () => {
    await createTopic(h.s, 'GBadExpired');
    await createGroup(h.s, 'g-bad-expired');
    const p = await h.producer('GBadExpired');
    const c = await h.simpleConsumer('g-bad-expired', { GBadExpired: '*' });
    await p.send({ topic: 'GBadExpired', body: Buffer.from('late ack') });
    const [m] = await receiveN(c, 1, 10_000, { ack: false, invisibleMs: 1000 });
    assert.ok(m);
    // Revived (put back for redelivery) once its 1 s invisible time has passed.
    await checkFor(5000, 50, () => h.s.controller.popService.inflightCount('g-bad-expired') === 0, 'the message to be revived');
    await rejectsWithCode(c.ack(m), Code.INVALID_RECEIPT_HANDLE, /receipt handle has expired/);
    const [again] = await receiveN(c, 1, 10_000);
    assert.equal(again?.messageId, m.messageId, 'the late-acked message is redelivered');
  });

  test('grpc bad input - receive with an invisible time below the minimum is ILLEGAL_INVISIBLE_TIME (40011)', async () => {
    const frames = await raw.stream('ReceiveMessage', {
      group: { name: 'g-bad' },
      messageQueue: { topic: { name: 'GBadNormal' }, id: 0 },
      filterExpression: { type: 1, expression: '*' },
      batchSize: 1,
      invisibleDuration: { seconds: 0, nanos: 10_000_000 },
      longPollingTimeout: { seconds: 0 },
    });
    const st = frames.find((f) => f.status)?.status;
    assert.equal(st?.code, Code.ILLEGAL_INVISIBLE_TIME);
    assert.match(st?.message ?? '', /invisible duration 10 ms is out of range/);
  });

  test('grpc bad input - an unknown consumer group is CONSUMER_GROUP_NOT_FOUND (40403)', async () => {
    const frames = await raw.stream('ReceiveMessage', {
      group: { name: 'g-missing' },
      messageQueue: { topic: { name: 'GBadNormal' }, id: 0 },
      filterExpression: { type: 1, expression: '*' },
      batchSize: 1,
      invisibleDuration: { seconds: 10 },
      longPollingTimeout: { seconds: 0 },
    });
    const st = frames.find((f) => f.status)?.status;
    assert.equal(st?.code, Code.CONSUMER_GROUP_NOT_FOUND);
    assert.match(st?.message ?? '', /consumer group g-missing not found/);
  });
});
