// Issue 13: RocketMQ's trace data encoding (TraceDataEncoder's field orders, operations-facts §1)
// decoded from hand-built bodies as the Java client writes them, including the older forms its
// decoder still accepts, and Apogee's broker records in the same framing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeTraceData,
  encodeTraceRecord,
  formatOffsetRanges,
  parseOffsetRanges,
  rangesContain,
  type TraceRecord,
} from '../../src/observability/trace/trace-codec.js';

const C = '\u0001';
const F = '\u0002';
const rec = (...fields: (string | number | boolean)[]): string => fields.map(String).join(C) + F;

const DECODE_CASES: [string, string, TraceRecord][] = [
  [
    'Pub, 14 fields (offsetMsgId, success)',
    rec('Pub', 1700000000000, 'DefaultRegion', 'PG', 'TopicA', 'UNIQ1', 'TagA', 'k1 k2', '10.0.0.1:10911', 12, 3, 0, 'OFF1', true),
    { type: 'Pub', timeStamp: 1700000000000, regionId: 'DefaultRegion', groupName: 'PG', topic: 'TopicA', msgId: 'UNIQ1', tags: 'TagA', keys: 'k1 k2', storeHost: '10.0.0.1:10911', bodyLength: 12, costTime: 3, msgType: 0, offsetMsgId: 'OFF1', success: true },
  ],
  [
    'Pub, 13 fields (the oldest form: no offsetMsgId)',
    rec('Pub', 1, 'R', 'PG', 'T', 'U', '', '', 'h:1', 5, 0, 3, false),
    { type: 'Pub', timeStamp: 1, regionId: 'R', groupName: 'PG', topic: 'T', msgId: 'U', tags: '', keys: '', storeHost: 'h:1', bodyLength: 5, costTime: 0, msgType: 3, success: false },
  ],
  [
    'Pub, 15 fields (client host)',
    rec('Pub', 1, 'R', 'PG', 'T', 'U', 'tg', 'k', 'h:1', 5, 2, 1, 'OFF', true, '10.1.1.1'),
    { type: 'Pub', timeStamp: 1, regionId: 'R', groupName: 'PG', topic: 'T', msgId: 'U', tags: 'tg', keys: 'k', storeHost: 'h:1', bodyLength: 5, costTime: 2, msgType: 1, offsetMsgId: 'OFF', success: true, clientHost: '10.1.1.1' },
  ],
  [
    'SubBefore',
    rec('SubBefore', 1700000000100, 'DefaultRegion', 'CG', 'REQ-1', 'UNIQ1', 2, 'k1'),
    { type: 'SubBefore', timeStamp: 1700000000100, regionId: 'DefaultRegion', groupName: 'CG', requestId: 'REQ-1', msgId: 'UNIQ1', retryTimes: 2, keys: 'k1' },
  ],
  [
    'SubAfter, 9 fields (contextCode, then the trailing timestamp and group)',
    rec('SubAfter', 'REQ-1', 'UNIQ1', 7, false, 'k1', 2, 1700000000200, 'CG'),
    { type: 'SubAfter', requestId: 'REQ-1', msgId: 'UNIQ1', costTime: 7, success: false, keys: 'k1', contextCode: 2, timeStamp: 1700000000200, groupName: 'CG' },
  ],
  [
    'SubAfter, 7 fields (CLOUD channel: no timestamp or group)',
    rec('SubAfter', 'REQ-1', 'UNIQ1', 7, true, 'k1', 0),
    { type: 'SubAfter', requestId: 'REQ-1', msgId: 'UNIQ1', costTime: 7, success: true, keys: 'k1', contextCode: 0 },
  ],
  [
    'EndTransaction',
    rec('EndTransaction', 5, 'R', 'TXG', 'T', 'U', 'tg', 'k', 'h:1', 2, 'TXID', 'COMMIT_MESSAGE', true),
    { type: 'EndTransaction', timeStamp: 5, regionId: 'R', groupName: 'TXG', topic: 'T', msgId: 'U', tags: 'tg', keys: 'k', storeHost: 'h:1', msgType: 2, transactionId: 'TXID', transactionState: 'COMMIT_MESSAGE', fromTransactionCheck: true },
  ],
  ['Recall', rec('Recall', 6, 'R', 'PG', 'T', 'U', true), { type: 'Recall', timeStamp: 6, regionId: 'R', groupName: 'PG', topic: 'T', msgId: 'U', success: true }],
  [
    'BrokerStored',
    rec('BrokerStored', 7, 'PG', 'T', 'SCHEDULE_TOPIC_XXXX', 2, '41-43', 540, '127.0.0.1:5000', 'remoting'),
    { type: 'BrokerStored', timeStamp: 7, producerGroup: 'PG', topic: 'T', storedTopic: 'SCHEDULE_TOPIC_XXXX', queueId: 2, offsets: '41-43', bytes: 540, clientHost: '127.0.0.1:5000', protocol: 'remoting' },
  ],
  [
    'BrokerDelivered',
    rec('BrokerDelivered', 8, 'CG', 'T', 1, '3-5,9', '127.0.0.1:5001', 'pop', 'grpc'),
    { type: 'BrokerDelivered', timeStamp: 8, group: 'CG', topic: 'T', queueId: 1, offsets: '3-5,9', clientHost: '127.0.0.1:5001', kind: 'pop', protocol: 'grpc' },
  ],
  ['BrokerConsumed', rec('BrokerConsumed', 9, 'CG', 'T', 1, -1, 6, 'offset'), { type: 'BrokerConsumed', timeStamp: 9, group: 'CG', topic: 'T', queueId: 1, fromOffset: -1, toOffset: 6, kind: 'offset' }],
  [
    'BrokerRetried',
    rec('BrokerRetried', 10, 'CG', 'T', '%RETRY%CG', 1, 3, 1010, 'OFF'),
    { type: 'BrokerRetried', timeStamp: 10, group: 'CG', originTopic: 'T', retryTopic: '%RETRY%CG', reconsumeTimes: 1, delayLevel: 3, nextDeliverTime: 1010, msgId: 'OFF' },
  ],
  [
    'BrokerTransaction',
    rec('BrokerTransaction', 12, 'TXG', 'RMQ_SYS_TRANS_HALF_TOPIC', 0, '17', 'ROLLBACK', true),
    { type: 'BrokerTransaction', timeStamp: 12, producerGroup: 'TXG', topic: 'RMQ_SYS_TRANS_HALF_TOPIC', queueId: 0, offsets: '17', state: 'ROLLBACK', fromTransactionCheck: true },
  ],
  ['BrokerRecalled', rec('BrokerRecalled', 13, 'T', 'U'), { type: 'BrokerRecalled', timeStamp: 13, topic: 'T', msgId: 'U' }],
  [
    'BrokerDeadLettered',
    rec('BrokerDeadLettered', 11, 'CG', 'T', '%DLQ%CG', 3, 'OFF'),
    { type: 'BrokerDeadLettered', timeStamp: 11, group: 'CG', originTopic: 'T', dlqTopic: '%DLQ%CG', reconsumeTimes: 3, msgId: 'OFF' },
  ],
];

void describe('trace codec - issue 13: decode', () => {
  for (const [name, text, want] of DECODE_CASES) {
    void test(`trace codec - decodes ${name}`, () => {
      assert.deepEqual(decodeTraceData(text), { records: [want], skipped: 0 });
    });
  }

  void test('trace codec - a body of many records decodes each, in order', () => {
    const body = DECODE_CASES.map(([, t]) => t).join('');
    const got = decodeTraceData(body);
    assert.equal(got.skipped, 0);
    assert.deepEqual(
      got.records.map((r) => r.type),
      DECODE_CASES.map(([, , w]) => w.type),
    );
  });

  const MALFORMED: [string, string][] = [
    ['an unknown type', rec('Teleport', 1, 2, 3)],
    ['a timestamp that is not a number', rec('SubBefore', 'soon', 'R', 'CG', 'REQ', 'U', 0, 'k')],
    ['too few fields', rec('Pub', 1, 'R', 'PG')],
    ['a bad offset range', rec('BrokerDelivered', 8, 'CG', 'T', 1, '9-3', 'h', 'pull', 'remoting')],
    ['an empty type', `${C}${C}${F}`],
    ['an unknown transaction state', rec('BrokerTransaction', 12, 'TXG', 'H', 0, '17', 'MAYBE', false)],
  ];
  for (const [name, text] of MALFORMED) {
    void test(`trace codec - skips ${name} and keeps the good records around it`, () => {
      const good = DECODE_CASES[3][1];
      const got = decodeTraceData(good + text + good);
      assert.equal(got.skipped, 1);
      assert.equal(got.records.length, 2);
    });
  }

  void test('trace codec - empty text and stray separators decode to nothing', () => {
    assert.deepEqual(decodeTraceData(''), { records: [], skipped: 0 });
    assert.deepEqual(decodeTraceData(`${F}${F}`), { records: [], skipped: 0 });
  });
});

void describe('trace codec - issue 13: encode', () => {
  for (const [name, text, want] of DECODE_CASES) {
    void test(`trace codec - round trip of ${name}`, () => {
      assert.deepEqual(decodeTraceData(encodeTraceRecord(want)).records, [want]);
      // The encoder writes the forms the Java client writes (the 15-field Pub is only read).
      if (!name.includes('15 fields')) assert.equal(encodeTraceRecord(want), text);
    });
  }
});

void describe('trace codec - offset ranges', () => {
  const CASES: [number[], string][] = [
    [[], ''],
    [[4], '4'],
    [[1, 2, 3], '1-3'],
    [[1, 2, 3, 7, 9, 10], '1-3,7,9-10'],
  ];
  for (const [offsets, text] of CASES) {
    void test(`trace codec - ranges ${JSON.stringify(offsets)} <-> "${text}"`, () => {
      assert.equal(formatOffsetRanges(offsets), text);
      const back = parseOffsetRanges(text).flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i));
      assert.deepEqual(back, offsets);
    });
  }
  void test('trace codec - rangesContain checks both ends and the gaps', () => {
    assert.equal(rangesContain('1-3,7', 1), true);
    assert.equal(rangesContain('1-3,7', 3), true);
    assert.equal(rangesContain('1-3,7', 5), false);
    assert.equal(rangesContain('1-3,7', 7), true);
    assert.equal(rangesContain('1-3,7', 8), false);
  });
});
