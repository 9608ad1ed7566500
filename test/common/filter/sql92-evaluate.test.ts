// Table of (expression, expected) against one message's properties. Expected values follow
// RocketMQ's Java evaluator (filter module ComparisonExpression / LogicExpression /
// UnaryExpression), including its quirks, each noted where it surprises.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSql92 } from '../../../src/common/filter/index.js';

const PROPS: Readonly<Record<string, string>> = {
  a: '3',
  b: '5',
  s: 'hello',
  t: 'true',
  f: '1.5',
  big: '3000000000',
  neg: '-7',
  TAGS: 'TagA',
  empty: '',
  q: "it's",
  nan: 'NaN',
  ws: ' 2.5 ',
  plus: '+3',
  fs: '2.5f',
  zeros: '0003',
};

function lookup(name: string): string | undefined {
  return Object.hasOwn(PROPS, name) ? PROPS[name] : undefined;
}

const CASES: ReadonlyArray<readonly [expression: string, expected: boolean, why?: string]> = [
  // numeric comparisons: the property is parsed as the literal's Java type
  ['a = 3', true],
  ['a = 4', false],
  ['a <> 4', true],
  ['a <> 3', false],
  ['a > 2', true],
  ['a > 3', false],
  ['a >= 3', true],
  ['a < 3', false],
  ['a < 4', true],
  ['a <= 3', true],
  ['a = 3.0', true, 'Double.valueOf("3") == 3.0'],
  ['a = 3.', true],
  ['a = 3L', true],
  ['zeros = 3', true, 'Integer.valueOf accepts leading zeros'],
  ['plus = 3', true, 'Integer.valueOf accepts a leading +'],
  ['f = 1.5', true],
  ['f = 15E-1', true],
  ['f = .15e1', true],
  ['f > 1.4', true],
  ['f > 1', false, 'Integer.valueOf("1.5") throws, so the message does not match'],
  ['ws = 2.5', true, 'Double.valueOf trims'],
  ['ws = 2', false, 'Integer.valueOf does not trim'],
  ['fs = 2.5', true, 'Double.valueOf accepts a type suffix'],
  ['nan > 1.5', true, 'Double.compareTo puts NaN above everything'],
  ['nan = 1.5', false],
  ['big > 5', false, 'the literal is an Integer and "3000000000" overflows an int'],
  ['big > 2147483648', true, 'a literal beyond int range is a Long'],
  ['big = 3000000000', true],
  ['big > 5.5', true],
  ['neg < 0', true],
  ['neg = -7', true],
  ['neg < -6', true],
  ['a > -1', true],
  ['a BETWEEN -1 AND 3', true],
  ['- -3 = a', true],
  ['+ a = 3', true],
  ['-a IS NULL', true, 'negating a string yields null'],
  ['-a = 3', false],
  // strings
  ["s = 'hello'", true],
  ["s = 'Hello'", false],
  ["s <> 'x'", true],
  ["a = '3'", true],
  ["a = '3.0'", false],
  ["q = 'it''s'", true],
  ["empty = ''", true],
  ['empty IS NULL', false],
  ['empty = 0', false, 'Integer.valueOf("") throws'],
  ["TAGS = 'TagA'", true],
  ["TAGS IN ('TagB', 'TagA')", true],
  // a non-numeric property against a number: Java throws, the whole message is filtered out
  ['s = 3', false],
  ['s <> 3', false],
  ['s > 3', false],
  ['s = 3 OR a = 3', false, 'the exception ends evaluation even inside OR'],
  ['a = 3 OR s = 3', true, 'OR stops at the first TRUE before reaching the exception'],
  ['a = 4 AND s = 3', false, 'AND stops at the first FALSE'],
  ['NOT (a = 4 AND s = 3)', true],
  // two properties: = compares strings, ordering compares them as doubles
  ['b > a', true],
  ['a > b', false],
  ['a = b', false],
  ['a > s', false, 'ordering two properties throws when one is not a number'],
  // null handling
  ['x = 1', false],
  ['x <> 1', false],
  ['x > 1', false],
  ['NOT (x = 1)', false],
  ['x IS NULL', true],
  ['x IS NOT NULL', false],
  ['a IS NULL', false],
  ['a IS NOT NULL', true],
  ['x = 1 OR a = 3', true],
  ['x = 1 AND a = 3', false],
  ['NOT (x = 1 AND a = 4)', true, 'null AND FALSE is FALSE'],
  ['NOT (x = 1 OR a = 4)', false, 'null OR FALSE is null'],
  ['NOT (x = 1 OR a = 3)', false],
  ['x = y', true, 'Java: two nulls are equal'],
  ['a <> x', true, 'Java: a value compared with a null on the right is FALSE'],
  ['x <> a', false, 'Java: a null on the left gives null'],
  // BETWEEN
  ['a BETWEEN 3 AND 5', true],
  ['a BETWEEN 4 AND 5', false],
  ['a NOT BETWEEN 4 AND 5', true],
  ['a NOT BETWEEN 1 AND 5', false],
  ['x BETWEEN 1 AND 5', false],
  ['x NOT BETWEEN 1 AND 5', false],
  ['f BETWEEN 1.0 AND 2.0', true],
  ['a BETWEEN 1 AND 2 OR b BETWEEN 5 AND 5', true],
  // IN
  ["s IN ('hello', 'x')", true],
  ["s IN ('x')", false],
  ["s NOT IN ('x')", true],
  ["s NOT IN ('hello')", false],
  ["x IN ('a')", false],
  ["x NOT IN ('a')", false],
  ["a IN ('3')", true],
  ["a IN ('1','2','4','5','6','3')", true],
  // CONTAINS / STARTSWITH / ENDSWITH
  ["s CONTAINS 'ell'", true],
  ["s NOT CONTAINS 'ell'", false],
  ["s STARTSWITH 'he'", true],
  ["s NOT STARTSWITH 'x'", true],
  ["s ENDSWITH 'lo'", true],
  ["s NOT ENDSWITH 'lo'", false],
  ["x CONTAINS 'a'", false],
  ["x NOT CONTAINS 'a'", false, 'a missing value is FALSE, not null, even under NOT'],
  ["NOT (x NOT CONTAINS 'a')", true],
  ["s CONTAINS ''", false],
  ["s NOT CONTAINS ''", false],
  ["'axb' CONTAINS 'x'", true],
  // booleans
  ['t = TRUE', true],
  ['t = FALSE', false],
  ['a = TRUE', false, 'Boolean.valueOf("3") is false'],
  ['TRUE = t', false, 'Java casts the Boolean to String and throws'],
  ['TRUE', true],
  ['FALSE', false],
  ['NOT TRUE', false],
  ['TRUE AND NOT FALSE', true],
  ['NULL IS NULL', true],
  ['t', false, 'a bare property is cast to boolean, and a string is not a Boolean'],
  ['NOT t', true],
  ['NOT x', false],
  ['(a = 3) = TRUE', true],
  ['(a = 3) = 1', false, 'Boolean against Integer compares as -1'],
  ['(a = 3) <> 1', true],
  // precedence: NOT > AND > OR, NOT applying to the operand only
  ['a = 3 OR a = 4 AND b = 6', true],
  ['a = 4 AND b = 6 OR s = \'hello\'', true],
  ['(a = 3 OR a = 4) AND b = 6', false],
  ['NOT a = 4 AND b = 5', false, 'parsed as ((NOT a) = 4) AND b = 5, as in Java'],
  ['NOT (a = 4) AND b = 5', true],
  ['NOT (a = 3) OR b = 5', true],
  ['NOT (a = 3 OR b = 5)', false],
  ['NOT NOT (a = 3)', true],
  // keywords in any case, comments
  ['a = 3 and b = 5', true],
  ['a = 3 AnD b = 5 oR x = 1', true],
  ["s in ('hello')", true],
  ["s Not In ('hello')", false],
  ['x is null', true],
  ['a Is Not nUll', true],
  ['a Between 1 And 5', true],
  ['a not between 1 and 5', false],
  ["s not contains 'z'", true],
  ["s startsWith 'h' and s endsWith 'o'", true],
  ['t = true', true],
  ['a = 3 /* comment */ AND b = 5', true],
  ['a = 3 -- comment\n AND b = 5', true],
  ['a = 3 -- comment to the end', true],
];

void describe('sql92 evaluate', () => {
  for (const [expression, expected, why] of CASES) {
    void test(`sql92 - ${JSON.stringify(expression)} is ${expected}${why ? ` (${why})` : ''}`, () => {
      assert.equal(compileSql92(expression).matches(lookup), expected);
    });
  }

  void test('sql92 - compiled filter keeps its expression and is reusable across messages', () => {
    const filter = compileSql92('price > 10 AND region = \'eu\'');
    assert.equal(filter.expression, "price > 10 AND region = 'eu'");
    const messages: Array<Record<string, string>> = [
      { price: '11', region: 'eu' },
      { price: '9', region: 'eu' },
      { price: '11', region: 'us' },
      { region: 'eu' },
    ];
    const results = messages.map((m) => filter.matches((n) => m[n]));
    assert.deepEqual(results, [true, false, false, false]);
  });

  void test('sql92 - a long AND chain evaluates without deep recursion', () => {
    const expression = Array.from({ length: 1000 }, (_, i) => `p${i % 7} IS NULL`).join(' AND ');
    assert.equal(compileSql92(expression).matches(() => undefined), true);
    assert.equal(compileSql92(expression).matches((n) => (n === 'p3' ? 'x' : undefined)), false);
  });
});
