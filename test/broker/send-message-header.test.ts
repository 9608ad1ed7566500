// The hand-written SEND_MESSAGE_V2 fast path must agree with the generic schema decoder on
// every input: same values, same error remarks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BrokerError, createRequest, decodeHeader, RequestCode } from '../../src/remoting/index.js';
import { decodeSendHeader } from '../../src/broker/send-message-header.js';
import { SEND_MESSAGE_HEADER_V2 as V2 } from '../../src/remoting/protocol/index.js';

function viaSchema(ext: Record<string, string>, code: number): unknown {
  const h = decodeHeader(V2, ext);
  return {
    producerGroup: h.a,
    topic: h.b,
    defaultTopic: h.c || 'TBW102',
    defaultTopicQueueNums: h.d ?? 4,
    queueId: h.e ?? -1,
    sysFlag: h.f ?? 0,
    bornTimestamp: h.g,
    flag: h.h ?? 0,
    properties: h.i ?? '',
    reconsumeTimes: h.j ?? 0,
    unitMode: h.k ?? false,
    maxReconsumeTimes: h.l,
    batch: h.m ?? code === RequestCode.SEND_BATCH_MESSAGE,
    brokerName: h.n,
  };
}

function outcome(fn: () => unknown): unknown {
  try {
    return { ok: fn() };
  } catch (err) {
    assert.ok(err instanceof BrokerError, `unexpected ${String(err)}`);
    return { code: err.code, remark: err.remark };
  }
}

const numberish = fc.oneof(
  fc.integer({ min: -5, max: 1 << 30 }).map(String),
  fc.constantFrom('', ' 7', '+3', '-0', '1.5', 'x', '99999999999', '4294967296', '9007199254740993', '1e3'),
);
const field = (arb: fc.Arbitrary<string>) => fc.option(arb, { nil: undefined });

test('send header - the V2 fast path agrees with the schema decoder', () => {
  fc.assert(
    fc.property(
      fc.record({
        a: field(fc.constantFrom('', 'PG')),
        b: field(fc.constantFrom('', 'Topic')),
        c: field(fc.constantFrom('', 'TBW102', 'Other')),
        d: field(numberish),
        e: field(numberish),
        f: field(numberish),
        g: field(numberish),
        h: field(numberish),
        i: field(fc.constantFrom('', 'TAGS\u0001t\u0002')),
        j: field(numberish),
        k: field(fc.constantFrom('', 'true', 'False', 'x')),
        l: field(numberish),
        m: field(fc.constantFrom('', 'true', 'TRUE', 'false', 'x')),
        n: field(fc.constantFrom('', 'broker-a')),
      }),
      fc.constantFrom(RequestCode.SEND_MESSAGE_V2, RequestCode.SEND_BATCH_MESSAGE),
      (fields, code) => {
        const ext: Record<string, string> = {};
        for (const [k, v] of Object.entries(fields)) if (v !== undefined) ext[k] = v;
        const req = createRequest(code, ext);
        const fast = outcome(() => {
          const h = decodeSendHeader(req);
          // bornTimestamp defaults to now when absent; compare it separately.
          return { ...h, bornTimestamp: ext.g === undefined || ext.g === '' ? undefined : h.bornTimestamp };
        });
        const slow = outcome(() => viaSchema(ext, code));
        assert.deepEqual(fast, slow);
      },
    ),
    { numRuns: 3000 },
  );
});
