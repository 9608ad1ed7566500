// The SEND_MESSAGE_V2 fast path (src/broker/send-message-header.ts) held to the schemas: whatever a
// sender encodes with SEND_MESSAGE_HEADER (V1) or SEND_MESSAGE_HEADER_V2 decodes to the same header,
// through the real frame codec, and what the fast path decodes encodes back to the same fields.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeSendHeader, type SendMessageRequestHeader } from '../../../src/broker/send-message-header.js';
import {
  createRequest,
  decodeCommand,
  encodeCommandToBuffer,
  RequestCode,
  SerializeType,
  type SerializeTypeValue,
} from '../../../src/remoting/index.js';
import {
  decodeHeader,
  encodeHeader,
  fromSendHeaderV2,
  SEND_MESSAGE_HEADER,
  SEND_MESSAGE_HEADER_V2,
  toSendHeaderV2,
  type SendMessageHeaderValues,
} from '../../../src/remoting/protocol/index.js';
import { readGolden } from '../golden.js';

type Form = { name: string; code: number; encode: (v: SendMessageHeaderValues) => Record<string, string> };

const FORMS: Form[] = [
  { name: 'V1 SEND_MESSAGE', code: RequestCode.SEND_MESSAGE, encode: (v) => encodeHeader(SEND_MESSAGE_HEADER, v) },
  { name: 'V2 SEND_MESSAGE_V2', code: RequestCode.SEND_MESSAGE_V2, encode: (v) => encodeHeader(SEND_MESSAGE_HEADER_V2, toSendHeaderV2(v)) },
  { name: 'V2 SEND_BATCH_MESSAGE', code: RequestCode.SEND_BATCH_MESSAGE, encode: (v) => encodeHeader(SEND_MESSAGE_HEADER_V2, toSendHeaderV2(v)) },
];

/** Java's defaults for fields a sender leaves out (bornTimestamp is always given here: its default is "now"). */
function expected(v: SendMessageHeaderValues, code: number): SendMessageRequestHeader {
  return {
    producerGroup: v.producerGroup,
    topic: v.topic,
    defaultTopic: v.defaultTopic || 'TBW102',
    defaultTopicQueueNums: v.defaultTopicQueueNums ?? 4,
    queueId: v.queueId ?? -1,
    sysFlag: v.sysFlag ?? 0,
    bornTimestamp: v.bornTimestamp!,
    flag: v.flag ?? 0,
    properties: v.properties ?? '',
    reconsumeTimes: v.reconsumeTimes ?? 0,
    unitMode: v.unitMode ?? false,
    maxReconsumeTimes: v.maxReconsumeTimes ?? undefined,
    batch: v.batch ?? code === RequestCode.SEND_BATCH_MESSAGE,
    brokerName: v.bname ?? undefined,
  };
}

/** Every field set, so re-encoding what was decoded must give the very same extFields. */
const FULL: SendMessageHeaderValues = {
  producerGroup: 'PG',
  topic: 'TopicTest',
  defaultTopic: 'TBW102',
  defaultTopicQueueNums: 8,
  queueId: 3,
  sysFlag: 0x104,
  bornTimestamp: 1700000000123,
  flag: 7,
  properties: 'TAGS\u0001a\u0002KEYS\u0001k 1\u0002UNIQ_KEY\u0001AC11\u0002',
  reconsumeTimes: 2,
  unitMode: true,
  maxReconsumeTimes: 16,
  batch: true,
  bname: 'broker-a',
};

const CASES: [string, SendMessageHeaderValues][] = [
  ['only the required fields', { producerGroup: 'PG', topic: 'T', bornTimestamp: 1 }],
  ['every field set', FULL],
  ['every field at its edge', { ...FULL, queueId: -1, sysFlag: 2147483647, flag: -2147483648, bornTimestamp: 9007199254740991, reconsumeTimes: 0, maxReconsumeTimes: 0, batch: false, unitMode: false }],
  ['empty strings', { ...FULL, producerGroup: '', topic: '', defaultTopic: '', properties: '', bname: '' }],
  ['non-ASCII properties and names', { ...FULL, topic: 'T_中', properties: 'KEYS\u0001ключ\u0002', bname: 'b-ü' }],
  ['batch left to the request code', { ...FULL, batch: undefined }],
];

const SERIALIZE: [string, SerializeTypeValue][] = [
  ['JSON', SerializeType.JSON],
  ['ROCKETMQ', SerializeType.ROCKETMQ],
];

/** Through the frame codec as the broker receives it. */
function overTheWire(code: number, ext: Record<string, string>, type: SerializeTypeValue) {
  const req = createRequest(code, ext, Buffer.from('body'));
  req.serializeType = type;
  return decodeCommand(encodeCommandToBuffer(req));
}

void describe('send header schema', () => {
  for (const [caseName, values] of CASES) {
    for (const form of FORMS) {
      for (const [typeName, type] of SERIALIZE) {
        void test(`send header schema - ${caseName}: ${form.name} (${typeName}) decodes by the fast path as encoded`, () => {
          const req = overTheWire(form.code, form.encode(values), type);
          assert.deepEqual(decodeSendHeader(req), expected(values, form.code));
        });
      }
    }
  }

  void test('send header schema - V1 and V2 forms of one header decode to the same result', () => {
    for (const [, values] of CASES) {
      const v1 = decodeSendHeader(createRequest(RequestCode.SEND_MESSAGE, FORMS[0].encode({ ...values, batch: values.batch ?? false })));
      const v2 = decodeSendHeader(createRequest(RequestCode.SEND_MESSAGE_V2, FORMS[1].encode(values)));
      assert.deepEqual(v2, v1);
    }
  });

  void test('send header schema - what the fast path decodes encodes back to the same V2 fields', () => {
    const ext = encodeHeader(SEND_MESSAGE_HEADER_V2, toSendHeaderV2(FULL));
    const h = decodeSendHeader(createRequest(RequestCode.SEND_MESSAGE_V2, ext));
    const back = encodeHeader(
      SEND_MESSAGE_HEADER_V2,
      toSendHeaderV2({ ...h, bname: h.brokerName, maxReconsumeTimes: h.maxReconsumeTimes }),
    );
    assert.deepEqual(back, ext);
    assert.deepEqual(Object.keys(ext), Object.keys(SEND_MESSAGE_HEADER_V2), 'every V2 field is sent, in schema order');
  });

  void test('send header schema - the V2 letters map one to one onto the V1 fields, in order', () => {
    const v2Keys = Object.keys(SEND_MESSAGE_HEADER_V2);
    const v1Keys = Object.keys(SEND_MESSAGE_HEADER);
    assert.equal(v2Keys.length, v1Keys.length);
    const v2 = toSendHeaderV2(FULL);
    assert.deepEqual(Object.keys(v2), v2Keys);
    for (let i = 0; i < v1Keys.length; i++) {
      const v1Spec = SEND_MESSAGE_HEADER[v1Keys[i] as keyof typeof SEND_MESSAGE_HEADER];
      const v2Spec = SEND_MESSAGE_HEADER_V2[v2Keys[i] as keyof typeof SEND_MESSAGE_HEADER_V2];
      assert.deepEqual(v2Spec, v1Spec, `${v2Keys[i]} ↔ ${v1Keys[i]}`);
      assert.equal((v2 as Record<string, unknown>)[v2Keys[i]], (FULL as Record<string, unknown>)[v1Keys[i]]);
    }
    assert.deepEqual(fromSendHeaderV2(decodeHeader(SEND_MESSAGE_HEADER_V2, encodeHeader(SEND_MESSAGE_HEADER_V2, v2))), FULL);
  });

  void test('send header schema - the ali-ons golden SEND_MESSAGE_V2 decodes alike by schema and fast path, and re-encodes to its fields', () => {
    const req = decodeCommand(readGolden('ali-ons-send-message-v2.hex'));
    const viaSchema = fromSendHeaderV2(decodeHeader(SEND_MESSAGE_HEADER_V2, req.extFields));
    assert.deepEqual(decodeSendHeader(req), expected(viaSchema, req.code));
    assert.deepEqual(encodeHeader(SEND_MESSAGE_HEADER_V2, toSendHeaderV2(viaSchema)), req.extFields);
  });

  const int32 = fc.integer({ min: -2147483648, max: 2147483647 });
  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
  const values: fc.Arbitrary<SendMessageHeaderValues> = fc.record({
    producerGroup: fc.string(),
    topic: fc.string(),
    defaultTopic: opt(fc.string()),
    defaultTopicQueueNums: opt(int32),
    queueId: opt(int32),
    sysFlag: opt(int32),
    bornTimestamp: fc.integer({ min: 0, max: 2 ** 50 }),
    flag: opt(int32),
    properties: opt(fc.string()),
    reconsumeTimes: opt(int32),
    unitMode: opt(fc.boolean()),
    maxReconsumeTimes: opt(int32),
    batch: opt(fc.boolean()),
    bname: opt(fc.string()),
  });

  void test('send header schema - any header encoded by either schema decodes by the fast path as encoded', () => {
    fc.assert(
      fc.property(values, fc.constantFrom(...FORMS), fc.constantFrom(SerializeType.JSON, SerializeType.ROCKETMQ), (v, form, type) => {
        assert.deepEqual(decodeSendHeader(overTheWire(form.code, form.encode(v), type)), expected(v, form.code));
      }),
      { numRuns: 2000 },
    );
  });
});
