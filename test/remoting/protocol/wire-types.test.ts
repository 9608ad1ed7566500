// The shared wire types: what the broker sends in REGISTER_BROKER is what the name server reads,
// TopicConfig's JSON form takes Java's defaults and names a bad field, and recall handles
// round-trip or are refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { BrokerError, ResponseCode } from '../../../src/remoting/index.js';
import {
  BodyFormatError,
  DataVersion,
  decodeRecallHandle,
  decodeRegisterBrokerBody,
  encodeCompressedRegisterBrokerBody,
  encodeRecallHandle,
  encodeRegisterBrokerBody,
  newTopicConfig,
  sameDataVersion,
  toDataVersion,
  topicConfigFromJson,
  type TopicConfig,
} from '../../../src/remoting/protocol/index.js';

void describe('wire types', () => {
  void test('wire types - a register-broker body the broker encodes decodes to the same table and data version', () => {
    const dv = new DataVersion();
    dv.next();
    dv.next();
    const fifo: TopicConfig = { ...newTopicConfig('Fifo', 4, 6), order: true, topicSysFlag: 1, topicFilterType: 'MULTI_TAG', attributes: { '+message.type': 'FIFO' } };
    const table = { Plain: newTopicConfig('Plain', 8), Fifo: fifo, '%RETRY%g': newTopicConfig('%RETRY%g', 1, 6) };
    const got = decodeRegisterBrokerBody(encodeRegisterBrokerBody({ topicConfigTable: table, dataVersion: dv.toJSON() }), false);
    assert.deepEqual(Object.fromEntries(got.topicConfigTable), table);
    assert.ok(sameDataVersion(got.dataVersion, dv));
    assert.equal(got.dataVersion.counter, 2);
    assert.deepEqual(got.filterServerList, []);
  });

  void test('wire types - the compressed register-broker body (issue 17) decodes to the same names, queues, perms, filter types and attributes', () => {
    const dv = new DataVersion();
    dv.next();
    const fifo: TopicConfig = { ...newTopicConfig('Fifo', 4, 6), topicFilterType: 'MULTI_TAG', attributes: { '+message.type': 'FIFO' } };
    const table: Record<string, TopicConfig> = { Plain: newTopicConfig('Plain', 8), Fifo: fifo, '%RETRY%g': { ...newTopicConfig('%RETRY%g', 1, 6), readQueueNums: 2 } };
    for (let i = 0; i < 500; i++) table[`Many_${i}`] = newTopicConfig(`Many_${i}`, 8);
    const body = encodeCompressedRegisterBrokerBody({ topicConfigTable: table, dataVersion: dv.toJSON() }, ['127.0.0.1:1']);
    const plain = encodeRegisterBrokerBody({ topicConfigTable: table, dataVersion: dv.toJSON() });
    assert.ok(body.length * 5 < plain.length, `compressed ${body.length} bytes vs plain ${plain.length}`);
    const got = decodeRegisterBrokerBody(body, true);
    assert.deepEqual(Object.fromEntries(got.topicConfigTable), table, 'the compact form keeps every field Java keeps (sysFlag and order are not among them; these are zero/false here)');
    assert.ok(sameDataVersion(got.dataVersion, dv));
    assert.deepEqual(got.filterServerList, ['127.0.0.1:1']);
  });

  void test('wire types - TopicConfig JSON takes Java defaults for absent fields and numeric strings for numbers', () => {
    assert.deepEqual(topicConfigFromJson({}, 'T'), { ...newTopicConfig('T', 16), perm: 6 });
    assert.deepEqual(topicConfigFromJson({ topicName: 'X', readQueueNums: '2', writeQueueNums: 3, perm: '4', order: 'true', attributes: { a: 1 } }, 'T'), {
      ...newTopicConfig('X', 2, 4),
      writeQueueNums: 3,
      order: true,
      attributes: { a: '1' },
    });
  });

  const BAD_CONFIGS: [unknown, RegExp][] = [
    [[], /topic config T is not an object/],
    [{ perm: 'rw' }, /topic config T perm is not a number/],
    [{ readQueueNums: {} }, /topic config T readQueueNums is not a number/],
    [{ attributes: 'x' }, /topic config T attributes is not an object/],
  ];
  for (const [json, why] of BAD_CONFIGS) {
    void test(`wire types - TopicConfig JSON ${JSON.stringify(json)} is refused naming the field`, () => {
      assert.throws(() => topicConfigFromJson(json, 'T'), (err: unknown) => err instanceof BodyFormatError && why.test(err.message));
    });
  }

  void test('wire types - DataVersion JSON: absent is zero, a non-number field is named', () => {
    assert.deepEqual(toDataVersion(undefined), { timestamp: 0, counter: 0, stateVersion: 0 });
    assert.deepEqual(toDataVersion({ timestamp: '5', counter: 2 }), { timestamp: 5, counter: 2, stateVersion: 0 });
    assert.throws(() => toDataVersion({ counter: 'x' }), /dataVersion.counter is not a number/);
  });

  void test('wire types - a recall handle round-trips', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[%|a-zA-Z0-9_-]{1,40}$/),
        fc.stringMatching(/^[a-zA-Z0-9_-]{0,20}$/),
        fc.maxSafeInteger(),
        fc.stringMatching(/^[0-9A-F]{1,40}$/),
        (topic, brokerName, deliverMs, uniqKey) => {
          const h = { topic, brokerName, deliverMs, uniqKey };
          assert.deepEqual(decodeRecallHandle(encodeRecallHandle(h)), h);
        },
      ),
    );
  });

  for (const bad of ['', 'not-base64!', Buffer.from('v2 T b 1 U').toString('base64url'), Buffer.from('v1 T b x U').toString('base64url'), 'x'.repeat(5000)]) {
    void test(`wire types - recall handle "${bad.slice(0, 20)}" is ILLEGAL_OPERATION`, () => {
      assert.throws(
        () => decodeRecallHandle(bad),
        (err: unknown) => err instanceof BrokerError && err.code === ResponseCode.ILLEGAL_OPERATION && err.remark.startsWith('recall handle is invalid'),
      );
    });
  }
});
