// Java value semantics of RocketMQ's SQL92 filter. Message properties are always strings;
// numbers only come from literals, typed as Java does (Integer when the literal fits an int,
// else Long; Double for decimals), and a property compared with a number is parsed with that
// number's Java type (Integer.valueOf, Long.valueOf, Double.valueOf). The rules mirror
// ComparisonExpression.__compare with convertStringExpressions on, which the Java parser
// always sets.

export const NumberKind = { INT: 0, LONG: 1, DOUBLE: 2 } as const;
export type NumberKind = (typeof NumberKind)[keyof typeof NumberKind];

/** A numeric constant, built once at compile time so evaluation never boxes numbers. */
export class JavaNumber {
  readonly kind: NumberKind;
  /** The value as a double (for LONG rounded to nearest, as Java's long-to-double is). */
  readonly num: number;
  /** Exact integer value for INT and LONG; 0n for DOUBLE. */
  readonly big: bigint;
  constructor(kind: NumberKind, num: number, big: bigint) {
    this.kind = kind;
    this.num = num;
    this.big = big;
  }
  static int(v: number): JavaNumber {
    return new JavaNumber(NumberKind.INT, v, BigInt(v));
  }
  static long(v: bigint): JavaNumber {
    return new JavaNumber(NumberKind.LONG, Number(v), v);
  }
  static double(v: number): JavaNumber {
    return new JavaNumber(NumberKind.DOUBLE, v, 0n);
  }
  negate(): JavaNumber {
    // Java keeps the boxed type on negation (a negated Long literal stays a Long).
    if (this.kind === NumberKind.DOUBLE) return JavaNumber.double(-this.num);
    if (this.kind === NumberKind.LONG) return JavaNumber.long(-this.big);
    return JavaNumber.int(-this.num);
  }
  toString(): string {
    return this.kind === NumberKind.LONG ? this.big.toString() : String(this.num);
  }
}

/** A runtime value: Java null, String, Boolean or a numeric constant. */
export type Value = null | string | boolean | JavaNumber;

/** compare() result when Java would throw (NumberFormatException, ClassCastException). */
export const COMPARE_ERROR = 2;

export const INT_MIN = -2147483648;
export const INT_MAX = 2147483647;
export const LONG_MIN = -(2n ** 63n);
export const LONG_MAX = 2n ** 63n - 1n;

/** Java String.trim: strips every char <= U+0020 at both ends. */
export function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

const INTEGER_TEXT = /^[+-]?[0-9]+$/;
// Java's FloatingDecimal decimal syntax after trim: optional sign, NaN, Infinity, or digits with
// an optional point and exponent, and an optional f/F/d/D type suffix. Hex floats are not
// accepted here (Java does); a property holding one compares as a format error.
const DOUBLE_TEXT = /^[+-]?(?:NaN|Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[fFdD]?)$/;

/** Integer.valueOf(s), or null where Java throws NumberFormatException. */
export function parseJavaInt(s: string): number | null {
  // Hand-rolled because this runs per message for every `prop <op> integer` comparison.
  const n = s.length;
  let i = 0;
  let negative = false;
  const first = s.charCodeAt(0);
  if (first === 0x2d || first === 0x2b) {
    negative = first === 0x2d;
    i = 1;
  }
  if (i >= n) return null;
  let v = 0;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
    if (v > 2147483648) return null;
  }
  if (negative) return v === 0 ? 0 : -v;
  return v <= INT_MAX ? v : null;
}

/** Long.valueOf(s), or null where Java throws NumberFormatException. */
export function parseJavaLong(s: string): bigint | null {
  if (!INTEGER_TEXT.test(s)) return null;
  // Leading zeros are legal in Java; past 19 significant digits the value cannot fit a long,
  // and checking that first keeps BigInt from parsing an arbitrarily long property.
  let first = s.charCodeAt(0) === 0x2b || s.charCodeAt(0) === 0x2d ? 1 : 0;
  while (first < s.length - 1 && s.charCodeAt(first) === 0x30) first++;
  if (s.length - first > 19) return null;
  const v = BigInt(s);
  return v >= LONG_MIN && v <= LONG_MAX ? v : null;
}

/** Double.valueOf(s), or null where Java throws NumberFormatException. */
export function parseJavaDouble(s: string): number | null {
  const t = javaTrim(s);
  if (!DOUBLE_TEXT.test(t)) return null;
  const last = t.charCodeAt(t.length - 1);
  // Strip a type suffix, but not the final letter of "Infinity"/"NaN" (neither ends in f/d).
  const body = last === 0x66 || last === 0x46 || last === 0x64 || last === 0x44 ? t.slice(0, -1) : t;
  if (body.endsWith('NaN')) return NaN;
  return Number(body);
}

/** Double.compare: NaN above everything and equal to itself, -0.0 below 0.0. */
export function compareDouble(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) {
    if (a !== 0) return 0;
    const an = Object.is(a, -0);
    const bn = Object.is(b, -0);
    return an === bn ? 0 : an ? -1 : 1;
  }
  const aNaN = Number.isNaN(a);
  const bNaN = Number.isNaN(b);
  return aNaN === bNaN ? 0 : aNaN ? 1 : -1;
}

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function compareNumbers(a: JavaNumber, b: JavaNumber): number {
  if (a.kind === NumberKind.DOUBLE || b.kind === NumberKind.DOUBLE) return compareDouble(a.num, b.num);
  if (a.kind === NumberKind.INT && b.kind === NumberKind.INT) return sign(a.num - b.num);
  return a.big < b.big ? -1 : a.big > b.big ? 1 : 0;
}

// The string side is parsed with the number's type; `flip` when the string was on the right.
function compareStringWithNumber(s: string, n: JavaNumber, flip: boolean): number {
  let r: number;
  if (n.kind === NumberKind.INT) {
    const v = parseJavaInt(s);
    if (v === null) return COMPARE_ERROR;
    r = sign(v - n.num);
  } else if (n.kind === NumberKind.LONG) {
    const v = parseJavaLong(s);
    if (v === null) return COMPARE_ERROR;
    r = v < n.big ? -1 : v > n.big ? 1 : 0;
  } else {
    const v = parseJavaDouble(s);
    if (v === null) return COMPARE_ERROR;
    r = compareDouble(v, n.num);
  }
  return flip ? -r : r;
}

function compareBoolean(a: boolean, b: boolean): number {
  return a === b ? 0 : a ? 1 : -1;
}

function compareString(a: string, b: string): number {
  // JS string order is UTF-16 code-unit order, as Java's String.compareTo.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Boolean.valueOf(String): true only for "true" in any letter case. */
function javaBooleanValueOf(s: string): boolean {
  return s.length === 4 && s.toLowerCase() === 'true';
}

/**
 * ComparisonExpression.__compare for two non-null values: -1, 0, 1, or COMPARE_ERROR where
 * Java throws. Mismatched types that Java cannot convert compare as -1, which is why
 * `(a = 1) = 5` is false while `(a = 1) <> 5` is true, as in Java.
 */
export function compareValues(lv: Exclude<Value, null>, rv: Exclude<Value, null>): number {
  if (typeof lv === 'string') {
    if (typeof rv === 'string') return compareString(lv, rv);
    if (typeof rv === 'boolean') return compareBoolean(javaBooleanValueOf(lv), rv);
    return compareStringWithNumber(lv, rv, false);
  }
  if (typeof lv === 'boolean') {
    if (typeof rv === 'boolean') return compareBoolean(lv, rv);
    // Java casts the Boolean to String here and throws ClassCastException.
    return typeof rv === 'string' ? COMPARE_ERROR : -1;
  }
  if (typeof rv === 'string') return compareStringWithNumber(rv, lv, true);
  if (typeof rv === 'boolean') return -1;
  return compareNumbers(lv, rv);
}
