// The consumer's fast paths over pulled records (issue 17) against the code they stand in for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MessageConst } from '../../src/common/message-const.js';
import { string2messageProperties } from '../../src/common/message-properties.js';
import { parsePulledProperties, toMessageExt } from '../../src/client/message.js';
import type { MessageRecord } from '../../src/common/message-codec.js';

function same(s: string): void {
  const got = parsePulledProperties(s);
  const want = string2messageProperties(s);
  assert.deepEqual(got, want, JSON.stringify(s));
  assert.deepEqual(Object.keys(got), Object.keys(want), 'entry order');
}

test('pulled message - properties equal string2messageProperties for a table of strings', () => {
  const rows = [
    '',
    'TAGS\u0001bench\u0002WAIT\u0001true\u0002UNIQ_KEY\u00017F0000010001\u0002',
    'TAGS\u0001a\u0002TAGS\u0001b\u0002',
    'TAGSX\u0001v\u0002TAG\u0001w\u0002',
    '\u0001v\u0002\u0002\u0002KEYS\u0001\u0002',
    'noSeparator',
    'KEYS\u0001k1 k2',
    '__proto__\u0001x\u0002color\u0001blue\u0002',
    'MIN_OFFSET\u00011\u0002MAX_OFFSET\u00012\u0002',
    'UNIQ_KEY\u0001a\u0001b\u0002',
  ];
  for (const r of rows) same(r);
});

test('pulled message - property: properties equal string2messageProperties for any string', () => {
  const names = fc.oneof(fc.constantFrom(...Object.values(MessageConst).filter((v) => typeof v === 'string')), fc.string({ maxLength: 12 }));
  const entry = fc.tuple(names, fc.string({ maxLength: 12 }), fc.constantFrom('\u0001', '', '\u0001\u0001')).map(([k, v, nv]) => `${k}${nv}${v}`);
  fc.assert(
    fc.property(fc.array(entry, { maxLength: 8 }), fc.constantFrom('\u0002', ''), (entries, tail) => same(entries.join('\u0002') + tail)),
    { numRuns: 3000 },
  );
  fc.assert(fc.property(fc.string(), (s) => same(s)), { numRuns: 1000 });
});

test('pulled message - host texts follow each record, cached or not', () => {
  const rec = (born: string, bornPort: number, store: string, storePort: number): MessageRecord =>
    ({
      totalSize: 0,
      magicCode: 0,
      bodyCrc: 0,
      queueId: 1,
      flag: 0,
      queueOffset: 5,
      commitLogOffset: 100,
      sysFlag: 0,
      bornTimestamp: 1,
      bornHost: { address: born, port: bornPort },
      storeTimestamp: 2,
      storeHost: { address: store, port: storePort },
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
      body: Buffer.from('x'),
      topic: 'T',
      properties: 'TAGS\u0001a\u0002',
    }) as MessageRecord;
  const seq: Array<[string, number, string, number]> = [
    ['10.0.0.1', 1, '10.0.0.9', 10911],
    ['10.0.0.1', 1, '10.0.0.9', 10911],
    ['10.0.0.1', 2, '10.0.0.9', 10911],
    ['10.0.0.2', 2, '10.0.0.8', 10911],
    ['10.0.0.2', 2, '10.0.0.8', 10912],
    ['10.0.0.1', 1, '10.0.0.9', 10911],
  ];
  for (const [b, bp, st, sp] of seq) {
    const m = toMessageExt(rec(b, bp, st, sp), 'broker-a');
    assert.equal(m.bornHost, `${b}:${bp}`);
    assert.equal(m.storeHost, `${st}:${sp}`);
    assert.equal(m.tags, 'a');
  }
});
