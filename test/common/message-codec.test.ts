import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BLANK_MAGIC_CODE,
  MESSAGE_MAGIC_CODE_V1,
  MESSAGE_MAGIC_CODE_V2,
  MessageSysFlag,
  calMsgLength,
  decodeMessage,
  decodeMessages,
  encodeMessage,
  encodeMessageInto,
  measureRecord,
  storeTimestampPos,
  bodyCrc,
  type MessageRecordInput,
} from '../../src/common/index.js';

function input(over: Partial<MessageRecordInput> = {}): MessageRecordInput {
  return {
    topic: 'TopicTest',
    queueId: 3,
    flag: 7,
    body: Buffer.from('Hello RocketMQ'),
    properties: 'TAGS\u0001TagA\u0002KEYS\u0001k1 k2\u0002',
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_123,
    bornHost: { address: '192.168.1.20', port: 51234 },
    storeTimestamp: 1_700_000_000_456,
    storeHost: { address: '10.1.2.3', port: 10911 },
    reconsumeTimes: 2,
    preparedTransactionOffset: 0,
    queueOffset: 42,
    commitLogOffset: 123_456_789_012,
    ...over,
  };
}

describe('message codec', () => {
  const cases: [string, Partial<MessageRecordInput>, { magic: number; v6Born: boolean; v6Store: boolean }][] = [
    ['V1 IPv4', {}, { magic: MESSAGE_MAGIC_CODE_V1, v6Born: false, v6Store: false }],
    ['empty body and properties', { body: Buffer.alloc(0), properties: '' }, { magic: MESSAGE_MAGIC_CODE_V1, v6Born: false, v6Store: false }],
    ['127-byte topic stays V1', { topic: 'x'.repeat(127) }, { magic: MESSAGE_MAGIC_CODE_V1, v6Born: false, v6Store: false }],
    ['128-byte topic is V2', { topic: 'y'.repeat(128) }, { magic: MESSAGE_MAGIC_CODE_V2, v6Born: false, v6Store: false }],
    ['IPv6 born host', { bornHost: { address: 'fe80::1:2', port: 1 } }, { magic: MESSAGE_MAGIC_CODE_V1, v6Born: true, v6Store: false }],
    ['IPv6 store host', { storeHost: { address: '2001:db8::7', port: 2 } }, { magic: MESSAGE_MAGIC_CODE_V1, v6Born: false, v6Store: true }],
    ['IPv4-mapped and ::1 fold to IPv4', { bornHost: { address: '::ffff:10.0.0.9', port: 3 }, storeHost: { address: '::1', port: 4 } }, { magic: MESSAGE_MAGIC_CODE_V1, v6Born: false, v6Store: false }],
    ['negative flag, large reconsume, transaction offsets', { flag: -5, reconsumeTimes: 16, preparedTransactionOffset: 2 ** 40, sysFlag: MessageSysFlag.TRANSACTION_COMMIT_TYPE }, { magic: MESSAGE_MAGIC_CODE_V1, v6Born: false, v6Store: false }],
    ['non-ASCII topic and properties', { topic: '主题', properties: 'TAGS\u0001标签\u0002' }, { magic: MESSAGE_MAGIC_CODE_V1, v6Born: false, v6Store: false }],
  ];
  for (const [name, over, exp] of cases) {
    test(`message codec - round-trips ${name}`, () => {
      const m = input(over);
      const buf = encodeMessage(m);
      const sizes = measureRecord(m);
      assert.equal(buf.length, sizes.totalSize);
      assert.equal(buf.readInt32BE(0), buf.length);
      assert.equal(buf.readInt32BE(4), exp.magic);
      const d = decodeMessage(buf);
      assert.equal((d.sysFlag & MessageSysFlag.BORNHOST_V6_FLAG) !== 0, exp.v6Born);
      assert.equal((d.sysFlag & MessageSysFlag.STOREHOSTADDRESS_V6_FLAG) !== 0, exp.v6Store);
      assert.equal(d.topic, m.topic);
      assert.deepEqual(d.body, m.body);
      assert.equal(d.properties, m.properties);
      for (const k of ['queueId', 'flag', 'queueOffset', 'commitLogOffset', 'bornTimestamp', 'storeTimestamp', 'reconsumeTimes', 'preparedTransactionOffset'] as const) {
        assert.equal(d[k], m[k], k);
      }
      assert.equal(d.bornHost.port, m.bornHost.port);
      assert.equal(d.storeHost.port, m.storeHost.port);
      assert.equal(d.bodyCrc, bodyCrc(m.body));
      assert.equal(d.storeTimestamp, Number(buf.readBigInt64BE(storeTimestampPos(d.sysFlag))));
    });
  }

  test('message codec - golden V1 layout matches the Java field order', () => {
    const m = input();
    const buf = encodeMessage(m);
    assert.equal(buf.length, 91 + m.body.length + 9 + Buffer.byteLength(m.properties));
    assert.equal(buf.readInt32BE(8), bodyCrc(m.body));
    assert.equal(buf.readInt32BE(12), 3);
    assert.equal(buf.readInt32BE(16), 7);
    assert.equal(buf.readBigInt64BE(20), 42n);
    assert.equal(buf.readBigInt64BE(28), 123456789012n);
    assert.equal(buf.readInt32BE(36), 0);
    assert.equal(buf.readBigInt64BE(40), 1700000000123n);
    assert.equal(buf.subarray(48, 52).toString('hex'), 'c0a80114');
    assert.equal(buf.readInt32BE(52), 51234);
    assert.equal(buf.readBigInt64BE(56), 1700000000456n);
    assert.equal(buf.subarray(64, 68).toString('hex'), '0a010203');
    assert.equal(buf.readInt32BE(68), 10911);
    assert.equal(buf.readInt32BE(72), 2);
    assert.equal(buf.readBigInt64BE(76), 0n);
    assert.equal(buf.readInt32BE(84), m.body.length);
    const t = 88 + m.body.length;
    assert.equal(buf[t], 9);
    assert.equal(buf.toString('utf8', t + 1, t + 10), 'TopicTest');
    assert.equal(buf.readInt16BE(t + 10), Buffer.byteLength(m.properties));
    assert.equal(buf.readInt32BE(4) >>> 0, 0xdaa320a7);
    assert.equal(BLANK_MAGIC_CODE >>> 0, 0xcbd43194);
  });

  test('message codec - calMsgLength counts IPv6 hosts and V2 topics', () => {
    assert.equal(calMsgLength(0, 10, 5, 3), 91 + 18);
    assert.equal(calMsgLength(MessageSysFlag.BORNHOST_V6_FLAG, 0, 0, 0), 91 + 12);
    assert.equal(calMsgLength(MessageSysFlag.BORNHOST_V6_FLAG | MessageSysFlag.STOREHOSTADDRESS_V6_FLAG, 0, 0, 0), 91 + 24);
    assert.equal(calMsgLength(0, 0, 200, 0), 91 + 1 + 200);
  });

  test('message codec - encodeMessageInto writes at an offset and leaves the rest alone', () => {
    const m = input();
    const sizes = measureRecord(m);
    const buf = Buffer.alloc(sizes.totalSize + 20, 0xee);
    const end = encodeMessageInto(buf, 10, m, sizes, 5, 99, 1234);
    assert.equal(end, 10 + sizes.totalSize);
    assert.equal(buf[9], 0xee);
    assert.equal(buf[end], 0xee);
    const d = decodeMessage(buf, 10);
    assert.equal(d.queueOffset, 5);
    assert.equal(d.commitLogOffset, 99);
    assert.equal(d.storeTimestamp, 1234);
  });

  test('message codec - decodeMessages walks concatenated records and rejects bad ones', () => {
    const a = encodeMessage(input({ queueOffset: 1 }));
    const b = encodeMessage(input({ queueOffset: 2, topic: 'z'.repeat(200) }));
    const c = encodeMessage(input({ queueOffset: 3, bornHost: { address: '::2', port: 9 } }));
    const all = Buffer.concat([a, b, c]);
    assert.deepEqual(decodeMessages(all).map((m) => m.queueOffset), [1, 2, 3]);
    const malformed: [string, (x: Buffer) => void][] = [
      ['bad magic', (x) => x.writeInt32BE(0x12345678, 4)],
      ['body CRC', (x) => (x[90] ^= 1)],
      ['total size too big', (x) => x.writeInt32BE(x.length + 1, 0)],
      ['body length too big', (x) => x.writeInt32BE(10_000, 84)],
      ['properties length off', (x) => x.writeInt16BE(1, x.length - Buffer.byteLength(input().properties) - 2)],
    ];
    for (const [name, spoil] of malformed) {
      const x = Buffer.from(a);
      spoil(x);
      assert.throws(() => decodeMessage(x), /bad record/, name);
    }
    assert.throws(() => decodeMessages(all.subarray(0, all.length - 1)), /bad record/);
  });

  test('message codec - property: encode then decode is the identity', () => {
    const host = fc.oneof(fc.ipV4(), fc.ipV6()).map((address) => ({ address, port: 1 }));
    const props = fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ maxLength: 8 })), { maxLength: 4 }).map((kv) =>
      kv
        .filter(([k, v]) => !(k + v).includes("\u0001") && !(k + v).includes("\u0002"))
        .map(([k, v]) => `${k}\u0001${v}\u0002`)
        .join(''),
    );
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 160 }).filter((t) => Buffer.byteLength(t) < 30000),
        fc.uint8Array({ maxLength: 300 }),
        props,
        host,
        host,
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        (topic, body, properties, bornHost, storeHost, off, flag) => {
          const m = input({ topic, body: Buffer.from(body), properties, bornHost, storeHost, commitLogOffset: off, queueOffset: off, flag });
          const d = decodeMessage(encodeMessage(m));
          assert.equal(d.topic, topic);
          assert.deepEqual(Buffer.from(d.body), Buffer.from(body));
          assert.equal(d.properties, properties);
          assert.equal(d.commitLogOffset, off);
          assert.equal(d.flag, flag);
        },
      ),
      { numRuns: 300 },
    );
  });
});
