// Evaluation of a compiled SQL92 filter against one message's properties: a switch over the
// tree built by the parser, allocation-free for everything but Long comparisons.
//
// Three-valued logic is Java's (LogicExpression, ComparisonExpression, UnaryExpression): a
// missing property is null, comparisons with null are null, AND is false if any side is false,
// OR true if any side is true, NOT null is null; a message matches only when the result is
// TRUE. Where Java throws while evaluating (a property that is not a number compared with a
// number, a Boolean compared with a String) the broker logs and treats the whole message as not
// matching, even inside an OR; EVAL_ERROR carries that to the top.

import { tokenize } from './sql92-lexer.js';
import { Op, parseSql92, type ExprNode } from './sql92-parser.js';
import { COMPARE_ERROR, compareDouble, compareValues, parseJavaDouble, type Value } from './sql92-values.js';

/** Looks a message property up by name; undefined when the message does not have it. */
export type PropertyLookup = (name: string) => string | undefined;

export interface CompiledFilter {
  /** The expression as the subscription gave it. */
  readonly expression: string;
  /**
   * Whether a message with these properties passes the filter. `props` must expose every
   * message property under its stored name, TAGS included (the tag is visible as `TAGS`).
   */
  matches(props: PropertyLookup): boolean;
}

const EVAL_ERROR: unique symbol = Symbol('sql92 evaluation error');
type Result = Value | typeof EVAL_ERROR;

function evaluateLogic(children: readonly ExprNode[], props: PropertyLookup, isAnd: boolean): Result {
  // AND stops at the first FALSE, OR at the first TRUE; a null among the rest makes it null.
  const decisive = !isAnd;
  let sawNull = false;
  for (let i = 0; i < children.length; i++) {
    const v = evaluate(children[i], props);
    if (v === EVAL_ERROR || v === decisive) return v;
    if (v === null) sawNull = true;
  }
  return sawNull ? null : !decisive;
}

function evaluateEqual(left: ExprNode, right: ExprNode, props: PropertyLookup): Result {
  const lv = evaluate(left, props);
  if (lv === EVAL_ERROR) return lv;
  const rv = evaluate(right, props);
  if (rv === EVAL_ERROR) return rv;
  // Java: both null is TRUE (IS NULL relies on it), only the left null is null, only the right
  // null is FALSE.
  if (lv === null) return rv === null ? true : null;
  if (rv === null) return false;
  const c = compareValues(lv, rv);
  return c === COMPARE_ERROR ? EVAL_ERROR : c === 0;
}

function evaluateOrder(node: ExprNode & { left: ExprNode; right: ExprNode }, props: PropertyLookup): Result {
  const lv = evaluate(node.left, props);
  if (lv === EVAL_ERROR || lv === null) return lv;
  const rv = evaluate(node.right, props);
  if (rv === EVAL_ERROR || rv === null) return rv;
  let c: number;
  if (typeof lv === 'string' && typeof rv === 'string') {
    // Two properties: Java orders them as doubles and throws when either is not a number.
    const a = parseJavaDouble(lv);
    const b = parseJavaDouble(rv);
    if (a === null || b === null) return EVAL_ERROR;
    c = compareDouble(a, b);
  } else {
    c = compareValues(lv, rv);
    if (c === COMPARE_ERROR) return EVAL_ERROR;
  }
  switch (node.op) {
    case Op.LT: return c < 0;
    case Op.LE: return c <= 0;
    case Op.GT: return c > 0;
    default: return c >= 0;
  }
}

function evaluateText(op: ExprNode['op'], text: string, search: string): boolean {
  if (op === Op.CONTAINS) return text.includes(search);
  if (op === Op.STARTS_WITH) return text.startsWith(search);
  return text.endsWith(search);
}

function evaluate(node: ExprNode, props: PropertyLookup): Result {
  switch (node.op) {
    case Op.CONST:
      return node.value;
    case Op.PROP:
      return props(node.name) ?? null;
    case Op.NEGATE: {
      const v = evaluate(node.child, props);
      return v === EVAL_ERROR ? v : null;
    }
    case Op.NOT: {
      const v = evaluate(node.child, props);
      return v === EVAL_ERROR || v === null ? v : v !== true;
    }
    case Op.BOOL_CAST: {
      const v = evaluate(node.child, props);
      return v === EVAL_ERROR || v === null ? v : v === true;
    }
    case Op.AND:
      return evaluateLogic(node.children, props, true);
    case Op.OR:
      return evaluateLogic(node.children, props, false);
    case Op.EQ:
      return evaluateEqual(node.left, node.right, props);
    case Op.LT:
    case Op.LE:
    case Op.GT:
    case Op.GE:
      return evaluateOrder(node, props);
    case Op.IN: {
      const v = props(node.name);
      return v === undefined ? null : node.values.has(v) !== node.negated;
    }
    case Op.CONTAINS:
    case Op.STARTS_WITH:
    case Op.ENDS_WITH: {
      // Java answers FALSE (not null) for an empty search, a missing or non-string value, even
      // under NOT: so `a NOT CONTAINS 'x'` is false when a is missing.
      if (node.search.length === 0) return false;
      const v = evaluate(node.child, props);
      if (v === EVAL_ERROR) return v;
      if (typeof v !== 'string') return false;
      return evaluateText(node.op, v, node.search) !== node.negated;
    }
  }
}

class Sql92Filter implements CompiledFilter {
  constructor(
    readonly expression: string,
    private readonly root: ExprNode,
  ) {}

  matches(props: PropertyLookup): boolean {
    return evaluate(this.root, props) === true;
  }
}

/**
 * Compiles a SQL92 filter expression as RocketMQ's broker accepts it. Compile once per
 * subscription; matches() is then safe to call per message. Throws FilterSyntaxError for a
 * malformed expression, one longer than MAX_SQL92_LENGTH, or one Java's type checks reject
 * (`a > 'x'`, `a = NULL`, `a BETWEEN 5 AND 1`, ...).
 */
export function compileSql92(expression: string): CompiledFilter {
  return new Sql92Filter(expression, parseSql92(expression, tokenize(expression)));
}
