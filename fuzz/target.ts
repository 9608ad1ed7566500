// What a fuzz target is, and how one tells a rejection (the decoder's documented refusal, with a
// message that names the cause) from a crash (anything else thrown, or a broken invariant).
import type { Rand } from './rand.js';

/** accepted: the input decoded; rejected: the decoder refused it in its documented way. */
export type Verdict = 'accepted' | 'rejected';

export interface FuzzTarget {
  readonly name: string;
  /** One line: what is fuzzed and what is checked. */
  readonly description: string;
  /** Relative share of a mixed run's iterations. */
  readonly weight: number;
  /** An input taking longer than this (twice in a row) is a hang. */
  readonly timeBoundMs: number;
  /** Inputs never grow past this. */
  readonly maxInputLength: number;
  /** Starts what the target needs (a server, a temp dir); called once before the first input. */
  setup?(): Promise<void> | void;
  /** Valid inputs the mutator starts from; called after setup. */
  seeds(): Buffer[];
  /** Tokens of the format for the mutator. */
  dictionary?(): Buffer[];
  /** A structure-aware input, for some share of the iterations. */
  generate?(r: Rand): Buffer;
  /**
   * Runs one input. Returns the verdict, throws for a crash: an error the decoder does not document,
   * a rejection whose message is unclear, or an invariant that does not hold.
   */
  run(input: Buffer): Verdict | Promise<Verdict>;
  /** Stops what setup started; called once, also after a crash. */
  teardown?(): Promise<void> | void;
}

/** A property of the decoder that did not hold: always a crash. */
export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

export function check(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new InvariantError(typeof message === 'string' ? message : message());
}

type ErrorClass = abstract new (...args: never[]) => Error;

export interface ClearOptions {
  /** Longest acceptable message (a remark that echoes a whole input is not clear). */
  maxLength?: number;
  /** The message must match this (e.g. name a field, a line or a position). */
  pattern?: RegExp;
  /** The message quotes input unquoted (config keys), so the accident check is skipped. */
  echoesInput?: boolean;
}

/**
 * Returns 'rejected' when err is one of the documented rejection types and its message is clear:
 * non-empty, bounded, and free of the marks of an accident ("undefined", "[object", "NaN" as a
 * size). Anything else is rethrown, which makes it a crash.
 */
export function rejection(err: unknown, types: readonly ErrorClass[], opts: ClearOptions = {}): Verdict {
  if (!(err instanceof Error) || !types.some((t) => err instanceof t)) throw err;
  const msg = err.message;
  const max = opts.maxLength ?? 512;
  check(msg.length > 0, `${err.name} with an empty message`);
  check(msg.length <= max, () => `${err.name} message of ${msg.length} chars (limit ${max}): ${msg.slice(0, 120)}...`);
  check(opts.echoesInput || !/\bundefined\b|\[object |\bNaN\b/.test(stripQuoted(msg)), () => `${err.name} message looks accidental: ${msg.slice(0, 200)}`);
  if (opts.pattern) check(opts.pattern.test(msg), () => `${err.name} message does not match ${opts.pattern}: ${msg.slice(0, 200)}`);
  return 'rejected';
}

/** Drops quoted input echoes, which may legitimately contain any text. */
function stripQuoted(msg: string): string {
  return msg.replace(/"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|<[^>]*>/g, '""');
}

/** Text of an input as a decoder of strings would see it. */
export function utf8(input: Buffer): string {
  return input.toString('utf8');
}
