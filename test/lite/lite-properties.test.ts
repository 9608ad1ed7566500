import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { liteStoredProperties, liteStoredPropertiesSlow } from '../../src/broker/lite/lite-names.js';
import { string2messageProperties } from '../../src/common/index.js';

const E = (k: string, v: string): string => `${k}\u0001${v}\u0002`;

describe('lite stored properties', () => {
  test('lite properties - the fast path gives the stored layout for the send path inputs', () => {
    const table: [string, string, string][] = [
      ['', 's1', E('TAGS', 's1') + E('__LITE_TOPIC', 's1')],
      [E('UNIQ_KEY', 'u1'), 's1', E('UNIQ_KEY', 'u1') + E('TAGS', 's1') + E('__LITE_TOPIC', 's1')],
      // The producer's tag moves to __LITE_TAG, wherever its entry was.
      [E('TAGS', 'tagA') + E('UNIQ_KEY', 'u1'), 's1', E('UNIQ_KEY', 'u1') + E('__LITE_TAG', 'tagA') + E('TAGS', 's1') + E('__LITE_TOPIC', 's1')],
      [E('k', 'v') + E('TAGS', 'tagA'), 'a.b', E('k', 'v') + E('__LITE_TAG', 'tagA') + E('TAGS', 'a.b') + E('__LITE_TOPIC', 'a.b')],
      // A last entry without its separator gets one before the appended entries.
      ['k\u0001v', 's1', E('k', 'v') + E('TAGS', 's1') + E('__LITE_TOPIC', 's1')],
      // A name that merely ends in TAGS is not the tag.
      [E('XTAGS', 'x'), 's1', E('XTAGS', 'x') + E('TAGS', 's1') + E('__LITE_TOPIC', 's1')],
      // A client's own __LITE_TOPIC never survives (general path).
      [E('__LITE_TOPIC', 'forged') + E('UNIQ_KEY', 'u1'), 's1', E('UNIQ_KEY', 'u1') + E('TAGS', 's1') + E('__LITE_TOPIC', 's1')],
      // Two TAGS entries: the last one is the tag (as the broker reads it), neither survives.
      [E('TAGS', 'a') + E('TAGS', 'b'), 's1', E('__LITE_TAG', 'b') + E('TAGS', 's1') + E('__LITE_TOPIC', 's1')],
    ];
    for (const [props, name, want] of table) {
      assert.equal(liteStoredProperties(props, name), want, JSON.stringify(props));
      assert.equal(liteStoredPropertiesSlow(props, name), want, JSON.stringify(props));
      const parsed = string2messageProperties(want);
      assert.equal(parsed.TAGS, name);
      assert.equal(parsed.__LITE_TOPIC, name);
    }
  });

  test('lite properties - the fast path equals the general rewrite on any input', () => {
    // Strings built from the pieces that matter (separators, TAGS, __LITE_ names) find the edges.
    const piece = fc.constantFrom('\u0001', '\u0002', 'TAGS', 'TAGS\u0001', '__LITE_TOPIC', '__LITE_TAG', '__LITE_', 'UNIQ_KEY', 'X', 'v', 'é', '');
    const props = fc.array(piece, { maxLength: 14 }).map((a) => a.join(''));
    const entries = fc
      .array(fc.tuple(fc.constantFrom('TAGS', 'KEYS', 'UNIQ_KEY', '__LITE_TAG', '__LITE_TOPIC', 'a', 'XTAGS'), fc.string({ maxLength: 6 })), { maxLength: 6 })
      .map((es) => es.map(([k, v]) => E(k, v)).join(''));
    const name = fc.stringMatching(/^[a-zA-Z0-9_\-.:@]{1,12}$/);
    fc.assert(
      fc.property(fc.oneof(props, entries), name, (p, n) => {
        assert.equal(liteStoredProperties(p, n), liteStoredPropertiesSlow(p, n));
      }),
      { numRuns: 3000 },
    );
  });
});
