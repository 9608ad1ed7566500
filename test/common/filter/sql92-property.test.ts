// Property tests: random AND/OR/NOT trees of simple comparisons, printed as text (fully
// parenthesized, and with only the parentheses precedence needs, in random keyword case), must
// evaluate as a naive reference evaluator of Java's rules says. And random token soup either
// compiles or throws FilterSyntaxError, never anything else.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FilterSyntaxError, compileSql92 } from '../../../src/common/filter/index.js';

type Props = Partial<Record<'a' | 'b' | 'c', string>>;
type Leaf =
  | { kind: 'cmp'; prop: keyof Props; op: '=' | '<>' | '<' | '<=' | '>' | '>='; n: number }
  | { kind: 'str'; prop: keyof Props; s: string }
  | { kind: 'null'; prop: keyof Props; not: boolean }
  | { kind: 'in'; prop: keyof Props; list: string[]; not: boolean }
  | { kind: 'between'; prop: keyof Props; lo: number; hi: number; not: boolean };
type Tree = Leaf | { kind: 'and' | 'or'; l: Tree; r: Tree } | { kind: 'not'; t: Tree };

// Reference results: true, false, null (SQL unknown) or 'error' (Java threw).
type R = boolean | null | 'error';

const VALUES = ['1', '2', '-3', '10', 'x', '2.5', '', undefined] as const;

function refNumber(v: string): number | 'error' {
  return /^-?[0-9]+$/.test(v) ? Number(v) : 'error';
}

function refCompare(v: string | undefined, op: string, n: number): R {
  if (v === undefined) return null;
  const x = refNumber(v);
  if (x === 'error') return 'error';
  switch (op) {
    case '=': return x === n;
    case '<>': return x !== n;
    case '<': return x < n;
    case '<=': return x <= n;
    case '>': return x > n;
    default: return x >= n;
  }
}

function refLeaf(leaf: Leaf, props: Props): R {
  const v = props[leaf.prop];
  switch (leaf.kind) {
    case 'cmp': return refCompare(v, leaf.op, leaf.n);
    case 'str': return v === undefined ? null : v === leaf.s;
    case 'null': return (v === undefined) !== leaf.not;
    case 'in': return v === undefined ? null : leaf.list.includes(v) !== leaf.not;
    case 'between': {
      if (v === undefined) return null;
      const x = refNumber(v);
      if (x === 'error') return 'error';
      return (x >= leaf.lo && x <= leaf.hi) !== leaf.not;
    }
  }
}

function refEval(t: Tree, props: Props): R {
  switch (t.kind) {
    case 'and': case 'or': {
      const stop = t.kind === 'or';
      const l = refEval(t.l, props);
      if (l === 'error' || l === stop) return l;
      const r = refEval(t.r, props);
      if (r === 'error' || r === stop) return r;
      return l === null || r === null ? null : !stop;
    }
    case 'not': {
      const v = refEval(t.t, props);
      return v === 'error' || v === null ? v : !v;
    }
    default:
      return refLeaf(t, props);
  }
}

function kw(word: string, upper: boolean[]): string {
  return [...word].map((c, i) => (upper[i % upper.length] ? c.toUpperCase() : c.toLowerCase())).join('');
}

function printLeaf(leaf: Leaf, upper: boolean[]): string {
  const k = (w: string): string => kw(w, upper);
  switch (leaf.kind) {
    case 'cmp': return `${leaf.prop} ${leaf.op} ${leaf.n}`;
    case 'str': return `${leaf.prop} = '${leaf.s}'`;
    case 'null': return `${leaf.prop} ${k('IS')} ${leaf.not ? `${k('NOT')} ` : ''}${k('NULL')}`;
    case 'in':
      return `${leaf.prop} ${leaf.not ? `${k('NOT')} ` : ''}${k('IN')} (${leaf.list.map((s) => `'${s}'`).join(', ')})`;
    case 'between':
      return `${leaf.prop} ${leaf.not ? `${k('NOT')} ` : ''}${k('BETWEEN')} ${leaf.lo} ${k('AND')} ${leaf.hi}`;
  }
}

function printFull(t: Tree, upper: boolean[]): string {
  switch (t.kind) {
    case 'and': case 'or': return `(${printFull(t.l, upper)} ${kw(t.kind, upper)} ${printFull(t.r, upper)})`;
    case 'not': return `${kw('NOT', upper)} (${printFull(t.t, upper)})`;
    default: return printLeaf(t, upper);
  }
}

// Only the parentheses precedence requires: an OR under an AND, and NOT's operand (NOT binds to
// a single operand in RocketMQ's grammar, so it always needs them around a comparison).
function printMinimal(t: Tree, upper: boolean[]): string {
  switch (t.kind) {
    case 'or': return `${printMinimal(t.l, upper)} ${kw('OR', upper)} ${printMinimal(t.r, upper)}`;
    case 'and': {
      const side = (s: Tree): string => (s.kind === 'or' ? `(${printMinimal(s, upper)})` : printMinimal(s, upper));
      return `${side(t.l)} ${kw('AND', upper)} ${side(t.r)}`;
    }
    case 'not': return `${kw('NOT', upper)} (${printMinimal(t.t, upper)})`;
    default: return printLeaf(t, upper);
  }
}

const propArb = fc.constantFrom<keyof Props>('a', 'b', 'c');
const numArb = fc.integer({ min: -4, max: 11 });
const leafArb: fc.Arbitrary<Leaf> = fc.oneof(
  fc.record({ kind: fc.constant('cmp' as const), prop: propArb, op: fc.constantFrom('=', '<>', '<', '<=', '>', '>=' as const), n: numArb }),
  fc.record({ kind: fc.constant('str' as const), prop: propArb, s: fc.constantFrom('1', 'x', '', '2.5') }),
  fc.record({ kind: fc.constant('null' as const), prop: propArb, not: fc.boolean() }),
  fc.record({
    kind: fc.constant('in' as const),
    prop: propArb,
    list: fc.array(fc.constantFrom('1', '2', 'x', '10', ''), { minLength: 1, maxLength: 6 }),
    not: fc.boolean(),
  }),
  fc.tuple(propArb, numArb, fc.nat({ max: 8 }), fc.boolean()).map(
    ([prop, lo, width, not]): Leaf => ({ kind: 'between', prop, lo, hi: lo + width, not }),
  ),
);
const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.record({ kind: fc.constantFrom('and' as const, 'or' as const), l: tie('tree'), r: tie('tree') }),
    fc.record({ kind: fc.constant('not' as const), t: tie('tree') }),
  ),
})).tree;
const valueArb = fc.constantFrom(...VALUES);
const propsArb: fc.Arbitrary<Props> = fc.record({ a: valueArb, b: valueArb, c: valueArb }).map((p) => {
  const out: Props = {};
  for (const k of ['a', 'b', 'c'] as const) if (p[k] !== undefined) out[k] = p[k];
  return out;
});

void describe('sql92 property', () => {
  void test('sql92 property - random trees match a naive reference evaluator', () => {
    fc.assert(
      fc.property(treeArb, fc.array(propsArb, { minLength: 1, maxLength: 8 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }), (tree, messages, upper) => {
        const full = compileSql92(printFull(tree, upper));
        const minimal = compileSql92(printMinimal(tree, upper));
        for (const props of messages) {
          const expected = refEval(tree, props) === true;
          const get = (n: string): string | undefined => props[n as keyof Props];
          assert.equal(full.matches(get), expected, full.expression);
          assert.equal(minimal.matches(get), expected, minimal.expression);
        }
      }),
      { numRuns: 2000 },
    );
  });

  void test('sql92 property - token soup compiles or throws FilterSyntaxError within the input', () => {
    const tokenArb = fc.constantFrom(
      'a', 'b', 'TAGS', '1', '2.5', '0', '9223372036854775807', "'x'", "''", 'TRUE', 'FALSE', 'NULL', 'NOT', 'AND', 'OR',
      'IS', 'IN', 'BETWEEN', 'CONTAINS', 'STARTSWITH', 'ENDSWITH', '=', '<>', '<', '<=', '>', '>=', '(', ')', ',', '+', '-',
      '--', '/*', '*/', '#', "'",
    );
    fc.assert(
      fc.property(fc.array(tokenArb, { maxLength: 14 }), fc.constantFrom(' ', '', '\n'), (tokens, sep) => {
        const expression = tokens.join(sep);
        let filter;
        try {
          filter = compileSql92(expression);
        } catch (err) {
          assert.ok(err instanceof FilterSyntaxError, String(err));
          assert.ok(err.position >= 0 && err.position <= expression.length, err.message);
          return;
        }
        for (const props of [{}, { a: '1', b: 'x', TAGS: 'x' }, { a: '2.5', b: '1' }] as Array<Record<string, string>>) {
          assert.equal(typeof filter.matches((n) => props[n]), 'boolean');
        }
      }),
      { numRuns: 5000 },
    );
  });
});
