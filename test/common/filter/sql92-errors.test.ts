// Malformed expressions: each must throw FilterSyntaxError pointing at the offending token
// (0-based UTF-16 offset), with that position and token in the message.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FilterSyntaxError, MAX_SQL92_LENGTH, compileSql92 } from '../../../src/common/filter/index.js';

const MALFORMED: ReadonlyArray<readonly [expression: string, position: number, near: string]> = [
  ['', 0, 'end of input'],
  ['   ', 3, 'end of input'],
  ['a = ', 4, 'end of input'],
  ['a = 1 AND', 9, 'end of input'],
  ['a = 1 AND AND b = 2', 10, "'AND'"],
  ['a = 1 OR OR b = 2', 9, "'OR'"],
  ['(a = 1', 6, 'end of input'],
  ['a = 1)', 5, "')'"],
  ['a = 1 b = 2', 6, "'b'"],
  ['a + 1 = 2', 2, "'+'"],
  ['a = 1 # b', 6, "'#'"],
  ['a != 1', 2, "'!'"],
  ['a.b = 1', 1, "'.'"],
  ["a = 'abc", 4, "''abc'"],
  ['a = 1 /* open', 6, "'/*'"],
  // Java's type checks on operands
  ["a > 'x'", 4, "''x''"],
  ["'x' < a", 0, "''x''"],
  ['a > TRUE', 4, "'TRUE'"],
  ['a <= NULL', 5, "'NULL'"],
  ['a = NULL', 4, "'NULL'"],
  ['NULL <> a', 0, "'NULL'"],
  ['TRUE = 1', 7, "'1'"],
  ['NOT a > 1', 0, "'NOT a'"],
  ['(a = 1) > 1', 0, "'(a = 1)'"],
  ['5', 0, "'5'"],
  ["'x'", 0, "''x''"],
  ['NOT 5', 4, "'5'"],
  ['a = 1 AND 5', 10, "'5'"],
  ['-TRUE OR a = 1', 0, "'-TRUE'"],
  // literals
  ['a > 0.0', 4, "'0.0'"],
  ['a > 1e-400', 4, "'1e-400'"],
  ['a > 1e400', 4, "'1e400'"],
  ['a > 9223372036854775808', 4, "'9223372036854775808'"],
  ['a = 007', 5, "'0'"],
  // BETWEEN
  ['a BETWEEN 10 AND 0', 17, "'0'"],
  ["a BETWEEN 'x' AND 'y'", 10, "''x''"],
  ['a BETWEEN NULL AND 5', 10, "'NULL'"],
  ['a BETWEEN 1 OR 2', 12, "'OR'"],
  ['a BETWEEN 1', 11, 'end of input'],
  // IN
  ['a IN (1, 2)', 6, "'1'"],
  ['a IN ()', 6, "')'"],
  ["a IN ('x'", 9, 'end of input'],
  ["a IN ('x' 'y')", 10, "''y''"],
  ["a IN 'x'", 5, "''x''"],
  ["5 IN ('x')", 0, "'5'"],
  ["a NOT IN ('x',)", 14, "')'"],
  // IS, CONTAINS
  ['a IS 5', 5, "'5'"],
  ['a IS NOT 5', 9, "'5'"],
  ['a CONTAINS 1', 11, "'1'"],
  ['a NOT STARTSWITH b', 17, "'b'"],
  ["a ENDSWITH", 10, 'end of input'],
];

void describe('sql92 errors', () => {
  for (const [expression, position, near] of MALFORMED) {
    void test(`sql92 errors - ${JSON.stringify(expression)} fails at ${position}`, () => {
      assert.throws(
        () => compileSql92(expression),
        (err: unknown) => {
          assert.ok(err instanceof FilterSyntaxError, `not a FilterSyntaxError: ${String(err)}`);
          assert.equal(err.position, position, err.message);
          assert.ok(
            err.message.startsWith(`SQL92 syntax error at position ${position} near ${near}: `),
            err.message,
          );
          return true;
        },
      );
    });
  }

  void test('sql92 errors - an expression longer than the limit is refused', () => {
    const ok = `a = '${'x'.repeat(MAX_SQL92_LENGTH - 6)}'`;
    assert.equal(ok.length, MAX_SQL92_LENGTH);
    assert.equal(compileSql92(ok).matches(() => 'x'.repeat(MAX_SQL92_LENGTH - 6)), true);
    assert.throws(() => compileSql92(`${ok} `), (err: unknown) => err instanceof FilterSyntaxError && err.position === MAX_SQL92_LENGTH);
  });

  void test('sql92 errors - nesting deeper than the limit is refused, not a stack overflow', () => {
    const ok = `${'('.repeat(100)}a = 1${')'.repeat(100)}`;
    assert.equal(compileSql92(ok).matches(() => '1'), true);
    const deep = `${'('.repeat(101)}a = 1${')'.repeat(101)}`;
    assert.throws(() => compileSql92(deep), (err: unknown) => err instanceof FilterSyntaxError && err.position === 100);
    const nots = `${'NOT '.repeat(101)}TRUE`;
    assert.throws(() => compileSql92(nots), (err: unknown) => err instanceof FilterSyntaxError && err.position === 400);
    const chain = `a${' IS NULL'.repeat(1000)}`;
    assert.throws(() => compileSql92(chain), (err: unknown) => err instanceof FilterSyntaxError && err.position === 0);
    assert.equal(compileSql92(`a${' IS NULL'.repeat(999)}`).matches(() => undefined), false);
  });
});
