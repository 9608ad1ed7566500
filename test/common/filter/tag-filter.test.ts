import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  javaStringHashCode,
  parseTagSubscription,
  tagMatches,
  tagsCodeMatches,
} from '../../../src/common/filter/index.js';

// Expected codes worked out by hand from Java's s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code
// units, wrapped to int32.
const HASHES: ReadonlyArray<readonly [string, number]> = [
  ['', 0],
  ['A', 65],
  ['TagA', 2598919], // 84*29791 + 97*961 + 103*31 + 65
  ['Aa', 2112], // 65*31 + 97
  ['BB', 2112], // 66*31 + 66: the classic collision with "Aa"
  ['é', 233],
  ['中文', 646394], // 0x4E2D*31 + 0x6587 = 20013*31 + 25991
  ['\u{1F600}', 1772899], // surrogates 0xD83D*31 + 0xDE00 = 55357*31 + 56832
  ['polygenelubricants', -2147483648], // known to hash to Integer.MIN_VALUE
];

void describe('tag filter', () => {
  for (const [s, code] of HASHES) {
    void test(`tag filter - hashCode of ${JSON.stringify(s)} is ${code}`, () => {
      assert.equal(javaStringHashCode(s), code);
    });
  }

  void test('tag filter - null, empty and * subscribe to all', () => {
    for (const sub of [null, undefined, '', '*']) {
      assert.deepEqual(parseTagSubscription(sub), { subAll: true, tagsSet: [], codeSet: [] });
    }
  });

  const PARSE: ReadonlyArray<readonly [string, string[]]> = [
    ['TagA', ['TagA']],
    ['TagA || TagB', ['TagA', 'TagB']],
    ['TagA||TagB||TagC', ['TagA', 'TagB', 'TagC']],
    ['  TagA  ||\tTagB\n', ['TagA', 'TagB']],
    ['TagA || || TagB ||', ['TagA', 'TagB']],
    ['TagA || TagA', ['TagA']],
    ['Tag A', ['Tag A']],
    ['a|b', ['a|b']],
    ['a|||b', ['a', '|b']],
    [' * ', ['*']],
    ['||', []],
  ];
  for (const [sub, tags] of PARSE) {
    void test(`tag filter - ${JSON.stringify(sub)} parses to ${JSON.stringify(tags)}`, () => {
      const parsed = parseTagSubscription(sub);
      assert.equal(parsed.subAll, false);
      assert.deepEqual(parsed.tagsSet, tags);
      assert.deepEqual(parsed.codeSet, tags.map(javaStringHashCode));
    });
  }

  void test('tag filter - colliding tags keep both names and one code', () => {
    const parsed = parseTagSubscription('Aa || BB');
    assert.deepEqual(parsed.tagsSet, ['Aa', 'BB']);
    assert.deepEqual(parsed.codeSet, [2112]);
  });

  void test('tag filter - matching by tag string and by consume-queue code', () => {
    const sub = parseTagSubscription('TagA || TagB');
    assert.equal(tagMatches(sub, 'TagA'), true);
    assert.equal(tagMatches(sub, 'TagC'), false);
    assert.equal(tagMatches(sub, undefined), false);
    assert.equal(tagsCodeMatches(sub, 2598919), true);
    assert.equal(tagsCodeMatches(sub, javaStringHashCode('TagC')), false);
    const all = parseTagSubscription('*');
    assert.equal(tagMatches(all, undefined), true);
    assert.equal(tagMatches(all, 'x'), true);
    assert.equal(tagsCodeMatches(all, 12345), true);
    const collide = parseTagSubscription('Aa');
    assert.equal(tagsCodeMatches(collide, javaStringHashCode('BB')), true, 'the code pre-filter lets collisions through');
    assert.equal(tagMatches(collide, 'BB'), false, 'the exact tag check removes them');
  });
});
