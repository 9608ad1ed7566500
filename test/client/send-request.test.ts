// The producer's send fast paths (issue 17) against the generic codec they stand in for: the same
// extFields in the same order, the same refusals, the same decoded answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRequest } from '../../src/remoting/index.js';
import { decodeHeader, encodeHeader, SEND_MESSAGE_HEADER_V2, SEND_MESSAGE_RESPONSE_HEADER, toSendHeaderV2 } from '../../src/remoting/protocol/index.js';
import { createSendRequest, decodeSendResponse, genericValues, sendHeaderV2Fields, type SendHeaderInput } from '../../src/client/send-request.js';

const BASE: SendHeaderInput = {
  producerGroup: 'pg',
  topic: 'T',
  queueId: 3,
  sysFlag: 0,
  bornTimestamp: 1_796_332_242_886,
  flag: 0,
  properties: 'TAGS\u0001bench\u0002WAIT\u0001true\u0002',
  reconsumeTimes: 0,
  maxReconsumeTimes: undefined,
  batch: false,
  brokerName: 'broker-a',
};

/** The generic path's result or its error text. */
function generic(h: SendHeaderInput): Record<string, string> | string {
  try {
    return encodeHeader(SEND_MESSAGE_HEADER_V2, toSendHeaderV2(genericValues(h)));
  } catch (err) {
    return (err as Error).message;
  }
}

function fast(h: SendHeaderInput): Record<string, string> | string {
  try {
    return sendHeaderV2Fields(h);
  } catch (err) {
    return (err as Error).message;
  }
}

function assertSame(h: SendHeaderInput): void {
  const want = generic(h);
  const got = fast(h);
  assert.deepEqual(got, want);
  if (typeof want !== 'string') assert.deepEqual(Object.keys(got as object), Object.keys(want), 'field order on the wire');
}

test('send request - SEND_MESSAGE_V2 fields equal the schema encoder, in order, for a table of headers', () => {
  const rows: Partial<SendHeaderInput>[] = [
    {},
    { maxReconsumeTimes: 16, reconsumeTimes: 2, topic: '%RETRY%g' },
    { batch: true, sysFlag: 1 | 8, flag: -5 },
    { queueId: 2147483647, flag: -2147483648 },
    { queueId: -0, bornTimestamp: -0 },
    { properties: '' },
  ];
  for (const r of rows) assertSame({ ...BASE, ...r });
  assert.deepEqual(Object.keys(sendHeaderV2Fields(BASE)), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'm', 'n']);
  assert.equal(sendHeaderV2Fields({ ...BASE, maxReconsumeTimes: 16 }).l, '16');
});

test('send request - values the schema encoder refuses are refused with its remark', () => {
  const bad: Partial<SendHeaderInput>[] = [
    { flag: Number.NaN },
    { flag: 2 ** 31 },
    { flag: 1.5 },
    { reconsumeTimes: Number.NaN },
    { maxReconsumeTimes: Number.POSITIVE_INFINITY },
    { bornTimestamp: 2 ** 53 },
    { queueId: -2147483649 },
  ];
  for (const b of bad) {
    const h = { ...BASE, ...b };
    assert.equal(typeof generic(h), 'string', `generic refuses ${JSON.stringify(b)}`);
    assertSame(h);
  }
  assert.throws(() => sendHeaderV2Fields({ ...BASE, flag: Number.NaN }), /the custom field <h> is not a number: "NaN"/);
});

test('send request - property: fields or refusal equal the schema encoder for any header', () => {
  const num = fc.oneof(fc.integer(), fc.integer({ min: -(2 ** 33), max: 2 ** 33 }), fc.double(), fc.constantFrom(-0, Number.NaN, 2 ** 53, 2 ** 31, -(2 ** 31)));
  fc.assert(
    fc.property(
      fc.record({
        producerGroup: fc.string(),
        topic: fc.string(),
        queueId: num,
        sysFlag: num,
        bornTimestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 42 }), num),
        flag: num,
        properties: fc.string(),
        reconsumeTimes: num,
        maxReconsumeTimes: fc.option(num, { nil: undefined }),
        batch: fc.boolean(),
        brokerName: fc.string(),
      }),
      (h) => assertSame(h),
    ),
    { numRuns: 2000 },
  );
});

test('send request - the command equals createRequest of the same fields, opaque aside', () => {
  const ext = sendHeaderV2Fields(BASE);
  const body = Buffer.from('x');
  const got = createSendRequest(310, ext, body);
  const want = createRequest(310, ext, body);
  assert.ok(got.opaque > 0 && got.opaque !== want.opaque);
  assert.deepEqual({ ...got, opaque: 0 }, { ...want, opaque: 0 });
});

function genericAnswer(ext: Record<string, string>): unknown {
  try {
    const e = decodeHeader(SEND_MESSAGE_RESPONSE_HEADER, ext);
    return { msgId: e.msgId, queueId: e.queueId, queueOffset: e.queueOffset, transactionId: e.transactionId };
  } catch (err) {
    return (err as Error).message;
  }
}

function fastAnswer(ext: Record<string, string>): unknown {
  try {
    const e = decodeSendResponse(ext);
    return { msgId: e.msgId, queueId: e.queueId, queueOffset: e.queueOffset, transactionId: e.transactionId };
  } catch (err) {
    return (err as Error).message;
  }
}

test('send request - answer fields equal the schema decoder for a table of answers, refusals included', () => {
  const ok = { msgId: '7F00000100002A9F0000000000000000', queueId: '3', queueOffset: '12345' };
  const rows: Record<string, string>[] = [
    ok,
    { ...ok, transactionId: 'tx' },
    { ...ok, transactionId: '' },
    { ...ok, msgId: '' },
    { ...ok, queueId: '2147483647', queueOffset: '999999999999999' },
    { ...ok, queueId: '2147483648' },
    { ...ok, queueOffset: '9007199254740993' },
    { ...ok, queueId: '+3', queueOffset: ' 7 ' },
    { ...ok, queueId: '-1' },
    { ...ok, queueId: 'x' },
    { ...ok, queueId: '' },
    { msgId: ok.msgId, queueId: '1' },
    { queueId: '1', queueOffset: '2' },
  ];
  for (const r of rows) assert.deepEqual(fastAnswer(r), genericAnswer(r), JSON.stringify(r));
});

test('send request - property: answer fields equal the schema decoder for any answer', () => {
  const value = fc.oneof(fc.stringMatching(/^\d{1,20}$/), fc.stringMatching(/^[ +-]?\d{0,12}[ x]?$/), fc.string());
  fc.assert(
    fc.property(fc.record({ msgId: fc.string(), queueId: value, queueOffset: value, transactionId: fc.string() }, { requiredKeys: [] }), (ext) => {
      const e = ext as Record<string, string>;
      assert.deepEqual(fastAnswer(e), genericAnswer(e));
    }),
    { numRuns: 2000 },
  );
});
