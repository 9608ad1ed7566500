// The hand-written ReceiveMessageResponse encoder against the generic path (convertForDelivery +
// protobufjs): over a table of records and random property strings, both decode to the same
// response, and records the encoder does not cover are declined rather than encoded wrong.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { MessageSysFlag, string2messageProperties, type MessageRecord } from '../../src/common/index.js';
import { encodeDelivery } from '../../src/proxy/delivery-encoder.js';
import { convertForDelivery, SYSTEM_KEYS, type DeliveryExtras } from '../../src/proxy/message-converter.js';
import { receiveMessageResponseType } from '../../src/proxy/proto.js';

const type = receiveMessageResponseType();
const NOW = 1_763_900_000_000;
const P = (...pairs: [string, string][]): string => pairs.map(([k, v]) => `${k}\u0001${v}\u0002`).join('');

function record(over: Partial<MessageRecord> = {}): MessageRecord {
  return {
    topic: 'TopicA',
    queueId: 3,
    flag: 0,
    body: Buffer.from('hello apogee'),
    properties: P(['UNIQ_KEY', '0A0B0C0D00002A9F0000000000000001'], ['TAGS', 'TagA'], ['__BORNHOST', '10.0.0.9'], ['CLUSTER', 'DefaultCluster']),
    sysFlag: 0,
    bornTimestamp: 1_763_899_999_123,
    bornHost: { address: '192.168.1.20', port: 51234 },
    storeTimestamp: 1_763_899_999_456,
    storeHost: { address: '10.1.2.3', port: 10911 },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    queueOffset: 42,
    commitLogOffset: 123_456_789_012,
    totalSize: 0,
    magicCode: 0,
    bodyCrc: 0,
    ...over,
  };
}

const extras: DeliveryExtras = {
  topic: 'TopicA',
  receiptHandle: 'TopicA 3 42 17 1763900060000',
  deliveryAttempt: 1,
  invisibleUntil: NOW + 60_000,
  queueId: 3,
  queueOffset: 42,
};

/** What the encoder may decline in an ASCII record: a repeated user name, or a fractional delivery time. */
function shouldDecline(props: string): boolean {
  const seen = new Set<string>();
  for (const piece of props.split('\u0002')) {
    const nv = piece.indexOf('\u0001');
    if (nv <= 0) continue;
    const name = piece.slice(0, nv);
    if (SYSTEM_KEYS.has(name)) continue;
    if (seen.has(name)) return true;
    seen.add(name);
  }
  const map = string2messageProperties(props);
  const deliver = map.TIMER_DELIVER_MS ?? map.TIMER_OUT_MS;
  return !!deliver && Number.isFinite(Number(deliver)) && !Number.isInteger(Number(deliver));
}

const OPTS = { longs: Number, enums: Number, defaults: false, oneofs: true, bytes: Buffer } as const;

function decoded(bytes: Uint8Array): Record<string, unknown> {
  return type.toObject(type.decode(bytes), OPTS);
}

function generic(m: MessageRecord, e: DeliveryExtras): Record<string, unknown> {
  return decoded(type.encode({ message: convertForDelivery(m, e, NOW) }).finish());
}

function assertSame(m: MessageRecord, e: DeliveryExtras = extras): void {
  const fast = encodeDelivery(m, e, NOW);
  assert.ok(fast, 'the encoder declined a record it covers');
  assert.deepEqual(decoded(fast), generic(m, e));
}

describe('delivery encoder', () => {
  const same: [string, Partial<MessageRecord>, Partial<DeliveryExtras>?][] = [
    ['a typical 5.x message', {}],
    ['keys with repeated spaces and user properties', { properties: P(['KEYS', ' k1 k2  k3 '], ['a', '1'], ['b', ''], ['x.y', 'z'], ['UNIQ_KEY', 'ID1']) }],
    ['a FIFO message', { properties: P(['UNIQ_KEY', 'ID2'], ['__SHARDINGKEY', 'order-17']) }],
    ['a timer message', { properties: P(['TIMER_DELIVER_MS', '1763900123456'], ['UNIQ_KEY', 'ID3']) }],
    ['TIMER_OUT_MS only', { properties: P(['TIMER_OUT_MS', '1763900123000']) }],
    ['an empty TIMER_DELIVER_MS hides TIMER_OUT_MS', { properties: P(['TIMER_DELIVER_MS', ''], ['TIMER_OUT_MS', '1763900123000']) }],
    ['a delivery time that is not a number', { properties: P(['TIMER_DELIVER_MS', 'soon']) }],
    ['a negative delivery time', { properties: P(['TIMER_DELIVER_MS', '-5']) }],
    ['a delay level', { properties: P(['DELAY', '3'], ['REAL_TOPIC', 'TopicA']) }],
    ['a prepared transaction', { properties: P(['TRAN_MSG', 'true'], ['PGROUP', 'pg']) }],
    ['TRAN_MSG other than true', { properties: P(['TRAN_MSG', 'false']) }],
    ['a transaction by sys flag', { sysFlag: MessageSysFlag.TRANSACTION_COMMIT_TYPE }],
    ['no UNIQ_KEY and no born host property', { properties: P(['TAGS', 't']) }],
    ['empty UNIQ_KEY and born host', { properties: P(['UNIQ_KEY', ''], ['__BORNHOST', '']) }],
    ['a trace context', { properties: P(['TRACE_CONTEXT', '00-abc-def-01']) }],
    ['a repeated system name keeps the last value', { properties: P(['TAGS', 'first'], ['TAGS', 'second']) }],
    ['an empty properties string', { properties: '' }],
    ['pieces without a name or a separator', { properties: '\u0001orphan\u0002noseparator\u0002TAGS\u0001t\u0002tail' }],
    ['no trailing separator', { properties: 'TAGS\u0001t\u0002k\u0001v' }],
    ['an empty body', { body: Buffer.alloc(0) }],
    ['a 1 MiB body', { body: Buffer.alloc(1 << 20, 9) }],
    ['a retried message counts its reconsumes', { reconsumeTimes: 4 }, { deliveryAttempt: undefined }],
    ['no handle and no invisible time', {}, { receiptHandle: undefined, invisibleUntil: undefined }],
    ['an invisible time already past', {}, { invisibleUntil: NOW - 5 }],
    ['offsets beyond 32 bits', { commitLogOffset: 2 ** 45 + 3 }, { queueOffset: 2 ** 40 + 7, queueId: 300 }],
    ['born at time zero', { bornTimestamp: 0, storeTimestamp: 999 }],
    ['IPv6 hosts', { storeHost: { address: '::1', port: 10911 }, bornHost: { address: 'fe80::1', port: 4000 }, properties: P(['TAGS', 't']) }],
    ['another origin topic (a retry copy)', { topic: '%RETRY%G_TopicA' }, { topic: 'TopicA' }],
    ['many user properties', { properties: P(...Array.from({ length: 200 }, (_, i): [string, string] => [`key${i}`, `value${i}`])) }],
  ];
  for (const [name, rec, extra] of same) {
    test(`same as the generic path: ${name}`, () => assertSame(record(rec), { ...extras, ...extra }));
  }

  const declined: [string, Partial<MessageRecord>, Partial<DeliveryExtras>?][] = [
    ['a compressed body', { body: deflateSync(Buffer.from('x'.repeat(100))), sysFlag: MessageSysFlag.COMPRESSED_FLAG }],
    ['non-ASCII properties', { properties: P(['TAGS', 'étiquette']) }],
    ['a lone surrogate in the properties', { properties: P(['k', 'a\ud800']) }],
    ['a repeated user property', { properties: P(['a', '1'], ['a', '2']) }],
    ['more user properties than the scratch holds', { properties: P(...Array.from({ length: 257 }, (_, i): [string, string] => [`k${i}`, 'v'])) }],
    ['a fractional delivery time', { properties: P(['TIMER_DELIVER_MS', '12.5']) }],
    ['a non-ASCII topic', {}, { topic: 'Thème' }],
  ];
  for (const [name, rec, extra] of declined) {
    test(`declined, left to the generic path: ${name}`, () => {
      const m = record(rec);
      const e = { ...extras, ...extra };
      assert.equal(encodeDelivery(m, e, NOW), undefined);
      // The generic path still delivers it.
      assert.ok(generic(m, e).message);
    });
  }

  test('random property strings: same as the generic path or declined', () => {
    const names = ['TAGS', 'KEYS', 'UNIQ_KEY', '__BORNHOST', '__SHARDINGKEY', 'TIMER_DELIVER_MS', 'TIMER_OUT_MS', 'TRACE_CONTEXT', 'TRAN_MSG', 'DELAY', 'CLUSTER', 'WAIT', 'a', 'b', 'k1'];
    const text = fc.stringMatching(/^[ -~]{0,12}$/);
    const piece = fc.oneof(fc.tuple(fc.constantFrom(...names), text).map(([k, v]) => `${k}\u0001${v}\u0002`), text.map((t) => `${t}\u0002`), fc.constant('\u0001x\u0002'));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), fc.nat({ max: 5 }), fc.integer({ min: 0, max: 2 ** 50 }), (pieces, attempts, offset) => {
        const m = record({ properties: pieces.join(''), reconsumeTimes: attempts });
        const e = { ...extras, queueOffset: offset, deliveryAttempt: attempts % 2 === 0 ? undefined : attempts };
        const fast = encodeDelivery(m, e, NOW);
        if (fast) assert.deepEqual(decoded(fast), generic(m, e));
        else assert.ok(shouldDecline(m.properties), `declined without a reason: ${JSON.stringify(m.properties)}`);
      }),
      { numRuns: 500 },
    );
  });
});
