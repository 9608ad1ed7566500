// Tokenizer for RocketMQ's SQL92 message selector. The token set follows the JavaCC grammar
// of the Java broker (filter module, SelectorParser.jj): keywords and identifiers are
// case-insensitive, identifiers are [A-Za-z_$][A-Za-z0-9_$]* (so no dots or dashes in property
// names), strings are single-quoted with '' as the escape, `--` and `/* */` are comments.

/** Longest expression accepted; Java has no limit, but a subscription is compiled per client. */
export const MAX_SQL92_LENGTH = 16 * 1024;

export const TokenKind = {
  EOF: 0,
  ID: 1,
  STRING: 2,
  DECIMAL: 3,
  FLOAT: 4,
  NOT: 5,
  AND: 6,
  OR: 7,
  BETWEEN: 8,
  IN: 9,
  TRUE: 10,
  FALSE: 11,
  NULL: 12,
  IS: 13,
  CONTAINS: 14,
  STARTSWITH: 15,
  ENDSWITH: 16,
  EQ: 17,
  NE: 18,
  GT: 19,
  GE: 20,
  LT: 21,
  LE: 22,
  LPAREN: 23,
  RPAREN: 24,
  COMMA: 25,
  PLUS: 26,
  MINUS: 27,
} as const;
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

const KEYWORDS: ReadonlyMap<string, TokenKind> = new Map<string, TokenKind>([
  ['NOT', TokenKind.NOT],
  ['AND', TokenKind.AND],
  ['OR', TokenKind.OR],
  ['BETWEEN', TokenKind.BETWEEN],
  ['IN', TokenKind.IN],
  ['TRUE', TokenKind.TRUE],
  ['FALSE', TokenKind.FALSE],
  ['NULL', TokenKind.NULL],
  ['IS', TokenKind.IS],
  ['CONTAINS', TokenKind.CONTAINS],
  ['STARTSWITH', TokenKind.STARTSWITH],
  ['ENDSWITH', TokenKind.ENDSWITH],
]);

export interface Token {
  readonly kind: TokenKind;
  /** UTF-16 offset of the first character in the expression. */
  readonly start: number;
  readonly end: number;
  /** Source text; for STRING the decoded value (quotes removed, '' unescaped). */
  readonly text: string;
}

/**
 * A malformed filter expression. `position` is the 0-based UTF-16 offset of the offending
 * token (the expression's length when the input ended too early).
 */
export class FilterSyntaxError extends Error {
  readonly position: number;
  constructor(position: number, near: string, reason: string) {
    super(`SQL92 syntax error at position ${position} near ${near}: ${reason}`);
    this.name = 'FilterSyntaxError';
    this.position = position;
  }
}

/** The "near ..." part of an error message for the source text at [start, end). */
export function describeNear(expression: string, start: number, end: number): string {
  if (start >= expression.length) return 'end of input';
  const text = expression.slice(start, Math.max(end, start + 1));
  return `'${text.length > 40 ? `${text.slice(0, 40)}...` : text}'`;
}

function isIdStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x24;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c;
}

/** Splits an expression into tokens, ending with one EOF token. Throws FilterSyntaxError. */
export function tokenize(expression: string): Token[] {
  if (expression.length > MAX_SQL92_LENGTH) {
    throw new FilterSyntaxError(
      MAX_SQL92_LENGTH,
      describeNear(expression, MAX_SQL92_LENGTH, MAX_SQL92_LENGTH + 1),
      `expression longer than ${MAX_SQL92_LENGTH} characters`,
    );
  }
  const tokens: Token[] = [];
  let i = 0;
  const n = expression.length;
  while (i < n) {
    const c = expression.charCodeAt(i);
    if (isSpace(c)) {
      i++;
    } else if (c === 0x2d && expression.charCodeAt(i + 1) === 0x2d) {
      i = skipLineComment(expression, i);
    } else if (c === 0x2f && expression.charCodeAt(i + 1) === 0x2a) {
      i = skipBlockComment(expression, i);
    } else {
      const token = readToken(expression, i);
      tokens.push(token);
      i = token.end;
    }
  }
  tokens.push({ kind: TokenKind.EOF, start: n, end: n, text: '' });
  return tokens;
}

// Java requires a line end after `--`; a comment running to the end of input is accepted here
// because Java would then lex it as two minus signs and silently ignore the rest.
function skipLineComment(s: string, i: number): number {
  const lf = s.indexOf('\n', i);
  const cr = s.indexOf('\r', i);
  if (lf < 0 && cr < 0) return s.length;
  return Math.min(lf < 0 ? s.length : lf, cr < 0 ? s.length : cr) + 1;
}

function skipBlockComment(s: string, i: number): number {
  const close = s.indexOf('*/', i + 2);
  if (close < 0) throw new FilterSyntaxError(i, describeNear(s, i, i + 2), 'unterminated comment');
  return close + 2;
}

function readToken(s: string, i: number): Token {
  const c = s.charCodeAt(i);
  if (isIdStart(c)) return readWord(s, i);
  if (isDigit(c) || (c === 0x2e && isDigit(s.charCodeAt(i + 1)))) return readNumber(s, i);
  if (c === 0x27) return readString(s, i);
  const op = readOperator(s, i);
  if (op !== null) return op;
  const cp = s.codePointAt(i) ?? c;
  const width = cp > 0xffff ? 2 : 1;
  throw new FilterSyntaxError(i, describeNear(s, i, i + width), 'unexpected character');
}

function readWord(s: string, i: number): Token {
  let j = i + 1;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (!isIdStart(c) && !isDigit(c)) break;
    j++;
  }
  const text = s.slice(i, j);
  const keyword = KEYWORDS.get(text.toUpperCase());
  return { kind: keyword ?? TokenKind.ID, start: i, end: j, text };
}

function skipDigits(s: string, j: number): number {
  while (isDigit(s.charCodeAt(j))) j++;
  return j;
}

// An exponent is taken only when complete ("5E" lexes as 5 then the identifier E, as in Java).
function skipExponent(s: string, j: number): number {
  const c = s.charCodeAt(j);
  if (c !== 0x45 && c !== 0x65) return j;
  let k = j + 1;
  const sign = s.charCodeAt(k);
  if (sign === 0x2b || sign === 0x2d) k++;
  return isDigit(s.charCodeAt(k)) ? skipDigits(s, k) : j;
}

function readNumber(s: string, i: number): Token {
  const intEnd = skipDigits(s, i);
  let j = intEnd;
  let isFloat = false;
  if (s.charCodeAt(j) === 0x2e) {
    isFloat = true;
    j = skipDigits(s, j + 1);
  }
  const expEnd = skipExponent(s, j);
  if (expEnd !== j) isFloat = true;
  j = expEnd;
  if (isFloat) return { kind: TokenKind.FLOAT, start: i, end: j, text: s.slice(i, j) };
  // DECIMAL_LITERAL is "0" or [1-9][0-9]*[lL]?: a leading zero ends the literal at once.
  if (s.charCodeAt(i) === 0x30) return { kind: TokenKind.DECIMAL, start: i, end: i + 1, text: '0' };
  const suffix = s.charCodeAt(j);
  if (suffix === 0x6c || suffix === 0x4c) j++;
  return { kind: TokenKind.DECIMAL, start: i, end: j, text: s.slice(i, j) };
}

function readString(s: string, i: number): Token {
  let value = '';
  let from = i + 1;
  for (;;) {
    const quote = s.indexOf("'", from);
    if (quote < 0) throw new FilterSyntaxError(i, describeNear(s, i, s.length), 'unterminated string literal');
    if (s.charCodeAt(quote + 1) === 0x27) {
      value += s.slice(from, quote + 1);
      from = quote + 2;
      continue;
    }
    value += s.slice(from, quote);
    return { kind: TokenKind.STRING, start: i, end: quote + 1, text: value };
  }
}

function readOperator(s: string, i: number): Token | null {
  const c = s.charCodeAt(i);
  const next = s.charCodeAt(i + 1);
  let kind: TokenKind;
  let len = 1;
  switch (c) {
    case 0x3d: kind = TokenKind.EQ; break;
    case 0x3e:
      if (next === 0x3d) { kind = TokenKind.GE; len = 2; } else kind = TokenKind.GT;
      break;
    case 0x3c:
      if (next === 0x3d) { kind = TokenKind.LE; len = 2; }
      else if (next === 0x3e) { kind = TokenKind.NE; len = 2; }
      else kind = TokenKind.LT;
      break;
    case 0x28: kind = TokenKind.LPAREN; break;
    case 0x29: kind = TokenKind.RPAREN; break;
    case 0x2c: kind = TokenKind.COMMA; break;
    case 0x2b: kind = TokenKind.PLUS; break;
    case 0x2d: kind = TokenKind.MINUS; break;
    default: return null;
  }
  return { kind, start: i, end: i + len, text: s.slice(i, i + len) };
}
