// Recursive-descent parser for RocketMQ's SQL92 selector, following SelectorParser.jj level by
// level: or > and > equality (=, <>, IS [NOT] NULL) > comparison (<, >, BETWEEN, IN, CONTAINS,
// ...) > unary (+, -, NOT) > primary. NOT is unary and binds tightest, so `NOT a = 1` means
// `(NOT a) = 1` exactly as in Java; write `NOT (a = 1)`. The type checks Java makes while
// building expressions (ComparisonExpression.checkLessThanOperand and friends) are made here
// too, so an expression Java rejects is rejected at compile time with a position.
//
// One deliberate difference: Java's grammar does not require end of input and silently ignores
// trailing tokens (`a = 1 b = 2` means `a = 1`); here they are a syntax error.

import { FilterSyntaxError, TokenKind, describeNear, type Token } from './sql92-lexer.js';
import { COMPARE_ERROR, JavaNumber, LONG_MAX, compareValues, type Value } from './sql92-values.js';

export const Op = {
  CONST: 0,
  PROP: 1,
  NEGATE: 2,
  AND: 3,
  OR: 4,
  NOT: 5,
  BOOL_CAST: 6,
  EQ: 7,
  LT: 8,
  LE: 9,
  GT: 10,
  GE: 11,
  IN: 12,
  CONTAINS: 13,
  STARTS_WITH: 14,
  ENDS_WITH: 15,
} as const;

/**
 * A constant. `literal` is false for a negated constant folded at compile time: Java keeps
 * that as a UnaryExpression, which escapes the checks made on literal operands.
 */
export interface ConstNode { readonly op: typeof Op.CONST; readonly value: Value; readonly literal: boolean }
export interface PropNode { readonly op: typeof Op.PROP; readonly name: string }
/** NEGATE of a non-constant yields null (properties are strings), after evaluating its child. */
export interface UnaryNode {
  readonly op: typeof Op.NEGATE | typeof Op.NOT | typeof Op.BOOL_CAST;
  readonly child: ExprNode;
}
export interface LogicNode { readonly op: typeof Op.AND | typeof Op.OR; readonly children: readonly ExprNode[] }
export interface CompareNode {
  readonly op: typeof Op.EQ | typeof Op.LT | typeof Op.LE | typeof Op.GT | typeof Op.GE;
  readonly left: ExprNode;
  readonly right: ExprNode;
}
export interface InNode {
  readonly op: typeof Op.IN;
  readonly name: string;
  readonly values: ReadonlySet<string>;
  readonly negated: boolean;
}
export interface TextNode {
  readonly op: typeof Op.CONTAINS | typeof Op.STARTS_WITH | typeof Op.ENDS_WITH;
  readonly child: ExprNode;
  readonly search: string;
  readonly negated: boolean;
}
export type ExprNode = ConstNode | PropNode | UnaryNode | LogicNode | CompareNode | InNode | TextNode;

/** Deepest nesting of parentheses and unary operators; keeps parser recursion shallow. */
export const MAX_SQL92_DEPTH = 100;
/** Tallest expression tree (chains like `a = b = c` nest too); evaluation recurses this deep. */
export const MAX_SQL92_HEIGHT = 1000;

interface Parsed {
  readonly node: ExprNode;
  readonly start: number;
  readonly end: number;
  /** Height of node's tree, a leaf being 1. */
  readonly height: number;
}

const NULL_CONST: ConstNode = { op: Op.CONST, value: null, literal: true };
const TRUE_CONST: ConstNode = { op: Op.CONST, value: true, literal: true };
const FALSE_CONST: ConstNode = { op: Op.CONST, value: false, literal: true };
const DOUBLE_MIN_VALUE = 5e-324;

const RELATIONAL: ReadonlyMap<TokenKind, CompareNode['op']> = new Map<TokenKind, CompareNode['op']>([
  [TokenKind.GT, Op.GT],
  [TokenKind.GE, Op.GE],
  [TokenKind.LT, Op.LT],
  [TokenKind.LE, Op.LE],
]);

const TEXT_OPS: ReadonlyMap<TokenKind, TextNode['op']> = new Map<TokenKind, TextNode['op']>([
  [TokenKind.CONTAINS, Op.CONTAINS],
  [TokenKind.STARTSWITH, Op.STARTS_WITH],
  [TokenKind.ENDSWITH, Op.ENDS_WITH],
]);

/** Java's BooleanExpression: what AND/OR/NOT accept, and what relational operators refuse. */
function isBooleanNode(node: ExprNode): boolean {
  switch (node.op) {
    case Op.CONST:
      return node.literal && (node.value === null || typeof node.value === 'boolean');
    case Op.PROP:
    case Op.NEGATE:
      return false;
    default:
      return true;
  }
}

function isLiteral(node: ExprNode): node is ConstNode {
  return node.op === Op.CONST && node.literal;
}

function describeValue(node: ConstNode): string {
  const v = node.value;
  if (v === null) return 'NULL';
  if (typeof v === 'string') return `string '${v}'`;
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return v.toString();
}

/** Parses the tokens of `expression` into a boolean expression tree. Throws FilterSyntaxError. */
export function parseSql92(expression: string, tokens: readonly Token[]): ExprNode {
  return new Sql92Parser(expression, tokens).parse();
}

class Sql92Parser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly expression: string,
    private readonly tokens: readonly Token[],
  ) {}

  parse(): ExprNode {
    const result = this.orExpression();
    const next = this.peek();
    if (next.kind !== TokenKind.EOF) throw this.errorAt(next, 'expected AND, OR or end of input');
    return this.asBoolean(result).node;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== TokenKind.EOF) this.index++;
    return t;
  }

  private expect(kind: TokenKind, what: string): Token {
    const t = this.peek();
    if (t.kind !== kind) throw this.errorAt(t, `expected ${what}`);
    return this.next();
  }

  private errorAt(t: Token, reason: string): FilterSyntaxError {
    return new FilterSyntaxError(t.start, describeNear(this.expression, t.start, t.end), reason);
  }

  private errorOn(p: Parsed, reason: string): FilterSyntaxError {
    return new FilterSyntaxError(p.start, describeNear(this.expression, p.start, p.end), reason);
  }

  private asBoolean(p: Parsed): Parsed {
    if (isBooleanNode(p.node)) return p;
    if (p.node.op === Op.PROP) return this.build({ op: Op.BOOL_CAST, child: p.node }, p.start, p.end, p);
    throw this.errorOn(p, 'expression does not yield a boolean');
  }

  private build(node: ExprNode, start: number, end: number, ...parts: Parsed[]): Parsed {
    let height = 0;
    for (const part of parts) height = Math.max(height, part.height);
    return this.checked(node, start, end, height + 1);
  }

  private checked(node: ExprNode, start: number, end: number, height: number): Parsed {
    if (height > MAX_SQL92_HEIGHT) {
      throw new FilterSyntaxError(start, describeNear(this.expression, start, end), `expression nested deeper than ${MAX_SQL92_HEIGHT}`);
    }
    return { node, start, end, height };
  }

  private logic(op: LogicNode['op'], left: Parsed, right: Parsed): Parsed {
    // Chains are flattened: evaluation order and three-valued results are those of Java's
    // left-nested binary nodes, without recursion as deep as the chain is long.
    const children: ExprNode[] = [];
    let height = 0;
    for (const part of [left, right]) {
      if (part.node.op === op) {
        children.push(...part.node.children);
        height = Math.max(height, part.height);
      } else {
        children.push(part.node);
        height = Math.max(height, part.height + 1);
      }
    }
    return this.checked({ op, children }, left.start, right.end, height);
  }

  private orExpression(): Parsed {
    let left = this.andExpression();
    while (this.peek().kind === TokenKind.OR) {
      this.next();
      const right = this.andExpression();
      left = this.logic(Op.OR, this.asBoolean(left), this.asBoolean(right));
    }
    return left;
  }

  private andExpression(): Parsed {
    let left = this.equalityExpression();
    while (this.peek().kind === TokenKind.AND) {
      this.next();
      const right = this.equalityExpression();
      left = this.logic(Op.AND, this.asBoolean(left), this.asBoolean(right));
    }
    return left;
  }

  private equalityExpression(): Parsed {
    let left = this.comparisonExpression();
    for (;;) {
      const t = this.peek();
      if (t.kind === TokenKind.EQ || t.kind === TokenKind.NE) {
        this.next();
        const right = this.comparisonExpression();
        left = this.equal(left, right, t.kind === TokenKind.NE);
      } else if (t.kind === TokenKind.IS) {
        this.next();
        left = this.isNull(left);
      } else {
        return left;
      }
    }
  }

  private isNull(left: Parsed): Parsed {
    const negated = this.peek().kind === TokenKind.NOT;
    if (negated) this.next();
    const end = this.expect(TokenKind.NULL, negated ? 'NULL' : 'NULL or NOT NULL').end;
    // Java builds IS NULL as an equality with the NULL constant, bypassing the operand checks.
    return this.maybeNot(this.build({ op: Op.EQ, left: left.node, right: NULL_CONST }, left.start, end, left), negated);
  }

  private equal(left: Parsed, right: Parsed, negated: boolean): Parsed {
    for (const side of [left, right]) {
      if (isLiteral(side.node) && side.node.value === null) {
        throw this.errorOn(side, 'NULL cannot be compared with = or <>, use IS NULL');
      }
    }
    if (isLiteral(left.node) && isLiteral(right.node) && isBooleanNode(left.node) && !isBooleanNode(right.node)) {
      throw this.errorOn(right, `${describeValue(left.node)} cannot be compared with ${describeValue(right.node)}`);
    }
    return this.maybeNot(this.build({ op: Op.EQ, left: left.node, right: right.node }, left.start, right.end, left, right), negated);
  }

  private maybeNot(p: Parsed, negated: boolean): Parsed {
    return negated ? this.build({ op: Op.NOT, child: p.node }, p.start, p.end, p) : p;
  }

  private checkOrderable(p: Parsed, operator: string): void {
    if (isLiteral(p.node) && !(p.node.value instanceof JavaNumber)) {
      throw this.errorOn(p, `${describeValue(p.node)} cannot be compared with ${operator}, only numbers can`);
    }
    if (isBooleanNode(p.node)) throw this.errorOn(p, `a boolean expression cannot be compared with ${operator}`);
  }

  private relational(op: CompareNode['op'], left: Parsed, right: Parsed, operator: string): Parsed {
    this.checkOrderable(left, operator);
    this.checkOrderable(right, operator);
    return this.build({ op, left: left.node, right: right.node }, left.start, right.end, left, right);
  }

  private comparisonExpression(): Parsed {
    let left = this.unaryExpr();
    for (;;) {
      const t = this.peek();
      const relational = RELATIONAL.get(t.kind);
      if (relational !== undefined) {
        this.next();
        left = this.relational(relational, left, this.unaryExpr(), t.text);
        continue;
      }
      let negated = false;
      let op = t;
      if (t.kind === TokenKind.NOT) {
        const after = this.peek(1);
        if (!TEXT_OPS.has(after.kind) && after.kind !== TokenKind.BETWEEN && after.kind !== TokenKind.IN) return left;
        negated = true;
        this.next();
        op = after;
      }
      const textOp = TEXT_OPS.get(op.kind);
      if (textOp !== undefined) {
        this.next();
        const search = this.expect(TokenKind.STRING, 'a string literal');
        const node: TextNode = { op: textOp, child: left.node, search: search.text, negated };
        left = this.build(node, left.start, search.end, left);
      } else if (op.kind === TokenKind.BETWEEN) {
        this.next();
        left = this.between(left, negated);
      } else if (op.kind === TokenKind.IN) {
        this.next();
        left = this.inList(left, negated, op);
      } else {
        return left;
      }
    }
  }

  private between(value: Parsed, negated: boolean): Parsed {
    const low = this.unaryExpr();
    this.expect(TokenKind.AND, 'AND');
    const high = this.unaryExpr();
    if (!negated && isLiteral(low.node) && isLiteral(high.node)) {
      const lv = low.node.value;
      const hv = high.node.value;
      if (lv === null || hv === null) throw this.errorOn(lv === null ? low : high, 'BETWEEN bounds cannot be NULL');
      const c = compareValues(hv, lv);
      if (c === COMPARE_ERROR || c < 0) throw this.errorOn(high, 'the upper bound of BETWEEN is below the lower bound');
    }
    // Java expands BETWEEN into (v >= low AND v <= high), NOT BETWEEN into (v < low OR v > high).
    const a = this.relational(negated ? Op.LT : Op.GE, value, low, negated ? '<' : '>=');
    const b = this.relational(negated ? Op.GT : Op.LE, value, high, negated ? '>' : '<=');
    return this.logic(negated ? Op.OR : Op.AND, a, b);
  }

  private inList(left: Parsed, negated: boolean, opToken: Token): Parsed {
    if (left.node.op !== Op.PROP) throw this.errorOn(left, `${opToken.text.toUpperCase()} needs a property on its left`);
    this.expect(TokenKind.LPAREN, "'('");
    const values = new Set<string>([this.expect(TokenKind.STRING, 'a string literal').text]);
    while (this.peek().kind === TokenKind.COMMA) {
      this.next();
      values.add(this.expect(TokenKind.STRING, 'a string literal').text);
    }
    const end = this.expect(TokenKind.RPAREN, "',' or ')'").end;
    return this.build({ op: Op.IN, name: left.node.name, values, negated }, left.start, end, left);
  }

  private unaryExpr(): Parsed {
    const t = this.peek();
    if (t.kind !== TokenKind.PLUS && t.kind !== TokenKind.MINUS && t.kind !== TokenKind.NOT) return this.primaryExpr();
    if (++this.depth > MAX_SQL92_DEPTH) throw this.errorAt(t, `nesting deeper than ${MAX_SQL92_DEPTH}`);
    this.next();
    const operand = this.unaryExpr();
    this.depth--;
    if (t.kind === TokenKind.PLUS) return { ...operand, start: t.start };
    if (t.kind === TokenKind.NOT) {
      const child = this.asBoolean(operand);
      return this.build({ op: Op.NOT, child: child.node }, t.start, operand.end, child);
    }
    const negated = this.negate(operand.node);
    return this.build(negated, t.start, operand.end, ...(negated.op === Op.CONST ? [] : [operand]));
  }

  private negate(node: ExprNode): ExprNode {
    if (node.op === Op.CONST) {
      // Negating anything but a number yields null in Java; the result is no longer a literal.
      const value = node.value instanceof JavaNumber ? node.value.negate() : null;
      return { op: Op.CONST, value, literal: false };
    }
    return { op: Op.NEGATE, child: node };
  }

  private primaryExpr(): Parsed {
    const t = this.peek();
    switch (t.kind) {
      case TokenKind.LPAREN: {
        if (++this.depth > MAX_SQL92_DEPTH) throw this.errorAt(t, `nesting deeper than ${MAX_SQL92_DEPTH}`);
        this.next();
        const inner = this.orExpression();
        const close = this.expect(TokenKind.RPAREN, "')'");
        this.depth--;
        return { node: inner.node, start: t.start, end: close.end, height: inner.height };
      }
      case TokenKind.ID:
        this.next();
        return { node: { op: Op.PROP, name: t.text }, start: t.start, end: t.end, height: 1 };
      case TokenKind.STRING:
        return this.constant({ op: Op.CONST, value: t.text, literal: true });
      case TokenKind.DECIMAL:
        return this.constant({ op: Op.CONST, value: this.decimal(t), literal: true });
      case TokenKind.FLOAT:
        return this.constant({ op: Op.CONST, value: this.float(t), literal: true });
      case TokenKind.TRUE:
        return this.constant(TRUE_CONST);
      case TokenKind.FALSE:
        return this.constant(FALSE_CONST);
      case TokenKind.NULL:
        return this.constant(NULL_CONST);
      default:
        throw this.errorAt(t, 'expected a value');
    }
  }

  private constant(node: ConstNode): Parsed {
    const t = this.next();
    return { node, start: t.start, end: t.end, height: 1 };
  }

  // ConstantExpression.createFromDecimal: Integer when the value fits an int, else Long.
  private decimal(t: Token): JavaNumber {
    const last = t.text.charCodeAt(t.text.length - 1);
    const digits = last === 0x6c || last === 0x4c ? t.text.slice(0, -1) : t.text;
    const v = BigInt(digits);
    if (v > LONG_MAX) throw this.errorAt(t, 'integer literal out of the range of a Java long');
    return v <= 2147483647n ? JavaNumber.int(Number(v)) : JavaNumber.long(v);
  }

  // ConstantExpression.createFloat refuses infinities and anything below Double.MIN_VALUE,
  // which includes zero itself: Java rejects `a > 0.0`, so this does too (write `a > 0`).
  private float(t: Token): JavaNumber {
    const v = Number(t.text);
    if (!Number.isFinite(v)) throw this.errorAt(t, 'decimal literal out of the range of a Java double');
    if (v < DOUBLE_MIN_VALUE) throw this.errorAt(t, 'decimal literal below Double.MIN_VALUE (Java rejects 0.0)');
    return JavaNumber.double(v);
  }
}
