// The hot unary methods skip proto-loader's object copies (issue 17): SendMessage and AckMessage
// answers are encoded by protobufjs directly and AckMessageRequest is decoded without toObject.
// Table and property tests: the same bytes as proto-loader's own serializer for every answer shape the handlers
// build, and the same fields the handlers read from a decoded request.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import * as protoLoader from '@grpc/proto-loader';
import { loadMessagingService } from '../../src/proxy/proto.js';
import { encodeAckMessageResponse, encodeSendMessageResponse } from '../../src/proxy/unary-encoder.js';

const require = createRequire(import.meta.url);
const root = join(dirname(require.resolve('rocketmq-client-nodejs/package.json')), 'proto');
const reference = protoLoader.loadSync(join(root, 'apache/rocketmq/v2/service.proto'), { includeDirs: [root], keepCase: false, longs: Number, enums: Number, defaults: false, oneofs: true });
const refService = reference['apache.rocketmq.v2.MessagingService'] as unknown as Record<string, grpc.MethodDefinition<unknown, unknown>>;
const service = loadMessagingService() as unknown as Record<string, grpc.MethodDefinition<unknown, unknown>>;

const ok = { code: 20000, message: 'OK' };
const answers: [string, unknown][] = [
  ['SendMessage', { status: ok, entries: [{ status: ok, messageId: '01ABC', transactionId: '01ABC', offset: 0, recallHandle: '' }] }],
  ['SendMessage', { status: ok, entries: [{ status: ok, messageId: '01ABC', transactionId: '01ABC', offset: 2 ** 40 + 7, recallHandle: 'djEgVCBiIDEgazE' }] }],
  ['SendMessage', { status: { code: 30000, message: 'the messages have different results' }, entries: [{ status: ok, messageId: 'a', transactionId: '', offset: 1, recallHandle: '' }, { status: { code: 40004, message: 'é' }, messageId: 'b', transactionId: '', offset: 0, recallHandle: '' }] }],
  ['SendMessage', { status: { code: 40001, message: 'SendMessage carries no message' } }],
  ['AckMessage', { status: ok, entries: [{ messageId: 'm', receiptHandle: 'p1 T 0 1 2 3', status: ok }] }],
  ['AckMessage', { status: { code: 40012, message: 'receipt handle is invalid' }, entries: [{ messageId: '', receiptHandle: '', status: { code: 40012, message: 'x' } }] }],
  ['AckMessage', { status: { code: 40401, message: 'consumer group g not found' } }],
];

void test('proto direct - SendMessage and AckMessage answers encode to the bytes proto-loader gives', () => {
  for (const [method, answer] of answers) {
    const hand = method === 'SendMessage' ? encodeSendMessageResponse(answer as never) : encodeAckMessageResponse(answer as never);
    assert.ok(hand, `the hand-written encoder takes ${JSON.stringify(answer)}`);
    const mine = service[method].responseSerialize(answer);
    const theirs = refService[method].responseSerialize(answer);
    assert.deepEqual(mine, theirs, `${method} ${JSON.stringify(answer)}`);
  }
});

void test('proto direct - a decoded AckMessageRequest gives the handlers the fields proto-loader gives', () => {
  const requests = [
    { group: { name: 'g' }, topic: { name: 't' }, entries: [{ messageId: 'm1', receiptHandle: 'h1' }] },
    { group: { name: 'g', resourceNamespace: 'ns' }, topic: { name: 't' }, entries: [{ messageId: 'm1', receiptHandle: 'h1' }, { messageId: 'm2', receiptHandle: 'h2', liteTopic: 'lt' }] },
    { topic: { name: 't' }, entries: [] },
    {},
  ];
  const view = (r: any) => ({
    group: r.group?.name || undefined,
    topic: r.topic?.name || undefined,
    entries: (r.entries ?? []).map((e: any) => [e.messageId ?? '', e.receiptHandle ?? '']),
  });
  for (const req of requests) {
    const bytes = refService.AckMessage.requestSerialize(req);
    assert.deepEqual(view(service.AckMessage.requestDeserialize(bytes)), view(refService.AckMessage.requestDeserialize(bytes)), JSON.stringify(req));
  }
});

void test('proto direct - property: hand-encoded answers equal proto-loader bytes for any status, entries, text and offset', () => {
  const text = fc.option(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constant('')), { nil: undefined });
  const status = fc.option(fc.record({ code: fc.option(fc.oneof(fc.integer({ min: 0, max: 60000 }), fc.integer({ min: -5, max: -1 })), { nil: undefined }), message: text }, { requiredKeys: [] }), { nil: undefined });
  const offset = fc.option(fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.maxSafeNat(), fc.integer({ min: -1000, max: -1 })), { nil: undefined });
  const sendEntry = fc.record({ status, messageId: text, transactionId: text, offset, recallHandle: text }, { requiredKeys: [] });
  const ackEntry = fc.record({ messageId: text, receiptHandle: text, status }, { requiredKeys: [] });
  fc.assert(
    fc.property(status, fc.option(fc.array(sendEntry, { maxLength: 4 }), { nil: undefined }), (st, entries) => {
      const answer = { status: st, entries };
      assert.deepEqual(service.SendMessage.responseSerialize(answer), refService.SendMessage.responseSerialize(answer));
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(status, fc.option(fc.array(ackEntry, { maxLength: 4 }), { nil: undefined }), (st, entries) => {
      const answer = { status: st, entries };
      assert.deepEqual(service.AckMessage.responseSerialize(answer), refService.AckMessage.responseSerialize(answer));
    }),
    { numRuns: 500 },
  );
});
