// Java number parsing and ordering used when a property meets a numeric literal.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareDouble, parseJavaDouble, parseJavaInt, parseJavaLong } from '../../../src/common/filter/sql92-values.js';

void describe('sql92 values', () => {
  void test('sql92 values - Integer.valueOf accepts exactly the int range and syntax', () => {
    const cases: Array<[string, number | null]> = [
      ['0', 0], ['-0', 0], ['+7', 7], ['0042', 42], ['2147483647', 2147483647], ['-2147483648', -2147483648],
      ['2147483648', null], ['-2147483649', null], ['99999999999999999999', null],
      ['', null], ['+', null], ['-', null], [' 1', null], ['1 ', null], ['1.0', null], ['1e3', null], ['0x10', null], ['1_0', null],
    ];
    for (const [s, v] of cases) assert.equal(parseJavaInt(s), v, JSON.stringify(s));
    assert.ok(Object.is(parseJavaInt('-0'), 0), '-0 parses to +0 as an int does');
  });

  void test('sql92 values - Long.valueOf accepts exactly the long range and syntax', () => {
    const cases: Array<[string, bigint | null]> = [
      ['9223372036854775807', 9223372036854775807n], ['-9223372036854775808', -9223372036854775808n],
      ['9223372036854775808', null], ['-9223372036854775809', null], ['000000000000000000000001', 1n],
      ['+5', 5n], ['', null], ['5L', null], ['1.5', null],
    ];
    for (const [s, v] of cases) assert.equal(parseJavaLong(s), v, JSON.stringify(s));
  });

  void test('sql92 values - Double.valueOf syntax: trim, suffixes, NaN and Infinity', () => {
    const cases: Array<[string, number | null]> = [
      ['1.5', 1.5], [' 1.5\t', 1.5], ['1.', 1], ['.5', 0.5], ['-.5e1', -5], ['1E+2', 100], ['2.5f', 2.5], ['2.5D', 2.5],
      ['Infinity', Infinity], ['-Infinity', -Infinity], ['+Infinity', Infinity],
      ['', null], ['.', null], ['1e', null], ['e5', null], ['0x10', null], ['infinity', null], ['1,5', null], ['1.5ff', null],
    ];
    for (const [s, v] of cases) assert.equal(parseJavaDouble(s), v, JSON.stringify(s));
    assert.ok(Number.isNaN(parseJavaDouble('NaN')));
    assert.ok(Number.isNaN(parseJavaDouble('-NaN')));
  });

  void test('sql92 values - Double.compare orders NaN last and -0.0 before 0.0', () => {
    assert.equal(compareDouble(1, 2), -1);
    assert.equal(compareDouble(2, 1), 1);
    assert.equal(compareDouble(NaN, Infinity), 1);
    assert.equal(compareDouble(Infinity, NaN), -1);
    assert.equal(compareDouble(NaN, NaN), 0);
    assert.equal(compareDouble(-0, 0), -1);
    assert.equal(compareDouble(0, -0), 1);
    assert.equal(compareDouble(-0, -0), 0);
  });
});
