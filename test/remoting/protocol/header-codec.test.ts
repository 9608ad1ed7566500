// encodeHeader against decodeHeader: every header schema of src/remoting/protocol round-trips
// through the frame codec, and what the encoder refuses it refuses with the remark the decoder
// would give the same value on the receiving side.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  BrokerError,
  createRequest,
  decodeCommand,
  encodeCommandToBuffer,
  RequestCode,
  ResponseCode,
  SerializeType,
} from '../../../src/remoting/index.js';
import * as protocol from '../../../src/remoting/protocol/index.js';
import { decodeHeader, encodeHeader, type FieldSpec, type HeaderSchema } from '../../../src/remoting/protocol/index.js';

const SCHEMAS: [string, HeaderSchema][] = Object.entries(protocol)
  .filter(([name]) => name.endsWith('_HEADER') || name.endsWith('_HEADER_V2'))
  .map(([name, schema]) => [name, schema as HeaderSchema]);

const SAMPLE = {
  topic: { type: 'string', required: true },
  queueId: { type: 'int', required: true },
  offset: { type: 'long' },
  order: { type: 'bool' },
  tag: { type: 'string' },
} as const satisfies HeaderSchema;

function refusal(fn: () => unknown): { code: number; remark: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof BrokerError, `expected BrokerError, got ${String(err)}`);
    return { code: err.code, remark: err.remark };
  }
  assert.fail('expected a refusal');
}

function valueOf(spec: FieldSpec): fc.Arbitrary<unknown> {
  switch (spec.type) {
    case 'string':
      return fc.string({ unit: 'binary', maxLength: 40 });
    case 'bool':
      return fc.boolean();
    case 'int':
      return fc.integer({ min: -2147483648, max: 2147483647 });
    case 'long':
      return fc.maxSafeInteger();
  }
}

function valuesOf(schema: HeaderSchema): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, spec] of Object.entries(schema)) fields[name] = spec.required ? valueOf(spec) : fc.option(valueOf(spec), { nil: undefined });
  return fc.record(fields);
}

void describe('header codec', () => {
  void test('header codec - the protocol declares the headers of every group', () => {
    const names = SCHEMAS.map(([n]) => n);
    for (const n of ['SEND_MESSAGE_HEADER', 'SEND_MESSAGE_HEADER_V2', 'PULL_MESSAGE_HEADER', 'POP_MESSAGE_HEADER', 'ACK_MESSAGE_HEADER', 'CHANGE_INVISIBLE_TIME_HEADER', 'QUERY_CONSUMER_OFFSET_HEADER', 'END_TRANSACTION_HEADER', 'CHECK_TRANSACTION_STATE_HEADER', 'RECALL_MESSAGE_HEADER', 'UPDATE_AND_CREATE_TOPIC_HEADER', 'REGISTER_BROKER_HEADER']) {
      assert.ok(names.includes(n), `${n} is exported`);
    }
    assert.ok(SCHEMAS.length >= 40, `${SCHEMAS.length} schemas`);
  });

  void test('header codec - encodes every type in schema order and leaves absent optional fields out', () => {
    const ext = encodeHeader(SAMPLE, { order: false, queueId: -3, topic: 'T', offset: 9007199254740991, tag: null });
    assert.deepEqual(ext, { topic: 'T', queueId: '-3', offset: '9007199254740991', order: 'false' });
    assert.deepEqual(Object.keys(ext), ['topic', 'queueId', 'offset', 'order']);
    assert.deepEqual(decodeHeader(SAMPLE, ext), { topic: 'T', queueId: -3, offset: 9007199254740991, order: false, tag: undefined });
  });

  void test('header codec - an empty string is sent as a value', () => {
    assert.deepEqual(encodeHeader(SAMPLE, { topic: '', queueId: 0, tag: '' }), { topic: '', queueId: '0', tag: '' });
  });

  const BAD: [string, Record<string, unknown>, string][] = [
    ['a missing required field', { queueId: 1 }, 'the custom field <topic> is null'],
    ['a null required field', { topic: 'T', queueId: null }, 'the custom field <queueId> is null'],
    ['NaN', { topic: 'T', queueId: Number.NaN }, 'the custom field <queueId> is not a number: "NaN"'],
    ['Infinity', { topic: 'T', queueId: 1, offset: Infinity }, 'the custom field <offset> is not a number: "Infinity"'],
    ['a fraction', { topic: 'T', queueId: 1.5 }, 'the custom field <queueId> is not a number: "1.5"'],
    ['an int beyond int32', { topic: 'T', queueId: 2147483648 }, 'the custom field <queueId> is out of int range: 2147483648'],
    ['a long beyond safe integers', { topic: 'T', queueId: 1, offset: 2 ** 53 }, 'the custom field <offset> is not a number: "9007199254740992"'],
    ['a string for an int', { topic: 'T', queueId: '1' }, 'the custom field <queueId> is a string, expected int'],
    ['a number for a string', { topic: 7, queueId: 1 }, 'the custom field <topic> is a number, expected string'],
    ['a string for a bool', { topic: 'T', queueId: 1, order: 'true' }, 'the custom field <order> is a string, expected bool'],
  ];
  for (const [what, values, remark] of BAD) {
    void test(`header codec - ${what} is refused with INVALID_PARAMETER naming the field`, () => {
      assert.deepEqual(
        refusal(() => encodeHeader(SAMPLE, values as never)),
        { code: ResponseCode.INVALID_PARAMETER, remark },
      );
    });
  }

  void test('header codec - an int the encoder refuses is refused by the decoder with the same remark', () => {
    const sent = refusal(() => encodeHeader(SAMPLE, { topic: 'T', queueId: -2147483649 }));
    const received = refusal(() => decodeHeader(SAMPLE, { topic: 'T', queueId: '-2147483649' }));
    assert.deepEqual(sent, received);
  });

  for (const [name, schema] of SCHEMAS) {
    void test(`header codec - ${name} round-trips through the frame codec`, () => {
      fc.assert(
        fc.property(valuesOf(schema), fc.constantFrom(SerializeType.JSON, SerializeType.ROCKETMQ), (values, type) => {
          const req = createRequest(RequestCode.HEART_BEAT, encodeHeader(schema, values as never));
          req.serializeType = type;
          const got = decodeHeader(schema, decodeCommand(encodeCommandToBuffer(req)).extFields);
          assert.deepEqual(got, { ...values });
        }),
        { numRuns: 100 },
      );
    });
  }
});
