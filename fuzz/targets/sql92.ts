// RocketMQ's SQL92 message selector as a consumer subscribes with it: compileSql92 either refuses
// with a FilterSyntaxError that names a position inside the expression, or returns a filter whose
// matches() answers a boolean for any message (never throws). Through buildSubscriptionData the
// refusal becomes SUBSCRIPTION_PARSE_FAILED with the parser's message.
import { buildSubscriptionData } from '../../src/broker/clients/subscription-data.js';
import { compileSql92, FilterSyntaxError, type CompiledFilter } from '../../src/common/filter/index.js';
import { BrokerError, ResponseCode } from '../../src/remoting/index.js';
import { tokens } from '../mutator.js';
import type { Rand } from '../rand.js';
import { check, rejection, type FuzzTarget, type Verdict } from '../target.js';

const SEEDS = [
  'a = 1',
  "TAGS IN ('TagA', 'TagB') AND a BETWEEN 1 AND 10",
  "NOT (a = 3 OR b = 5) AND s IS NOT NULL OR s CONTAINS 'x' AND t STARTSWITH 'a''b'",
  'a >= 1.5E3 AND b <> -2147483649 OR c < 9223372036854775808L',
  "((x = 'y')) AND z IS NULL AND w NOT IN ('1') AND v NOT BETWEEN -1 AND +1 /* c */ -- tail\n",
  'a + 1 = 2 OR TRUE = t OR NOT FALSE',
  "s ENDSWITH 'end' AND s NOT CONTAINS 'mid' AND .5 < a",
];

/** Properties every input is matched against: numbers, texts, the edge values of Java's parsers. */
const MESSAGES: Record<string, string>[] = [
  {},
  { a: '1', b: '5', c: '3.5', s: 'xendmid', t: "a'b", TAGS: 'TagA', x: 'y', z: 'true', v: '0', w: '1' },
  { a: '-2147483649', b: '9223372036854775808', c: 'NaN', s: '', t: '1e400', TAGS: '', x: ' 1 ', z: 'TRUE', v: '-0', w: 'Infinity' },
];

function matchesAll(f: CompiledFilter): void {
  for (const props of MESSAGES) {
    const r = f.matches((name) => (Object.hasOwn(props, name) ? props[name] : undefined));
    check(typeof r === 'boolean', () => `matches returned ${String(r)}`);
  }
}

const WORDS = ['a', 'b', 'c', 's', 'TAGS', 'NOT', 'AND', 'OR', 'IN', 'IS', 'NULL', 'BETWEEN', 'TRUE', 'FALSE', 'CONTAINS', 'STARTSWITH', 'ENDSWITH', '=', '<>', '<', '<=', '>', '>=', '+', '-', '(', ')', ',', "'x'", "''", '1', '0', '1.5', '2E9', '9223372036854775807L', '.5'];

export const sql92Target: FuzzTarget = {
  name: 'sql92',
  description: 'SQL92 selector: FilterSyntaxError at a position inside the text, or a filter that answers a boolean',
  weight: 8,
  timeBoundMs: 200,
  maxInputLength: 20_000,
  seeds: () => SEEDS.map((s) => Buffer.from(s)),
  dictionary: () => tokens(...WORDS.map((w) => ` ${w} `), '/*', '*/', '--', '\n', "'", '((((((((((', '))))))))))', 'NOT NOT NOT NOT '),
  generate(r: Rand): Buffer {
    const parts: string[] = [];
    for (let n = 1 + r.int(40); n > 0; n--) parts.push(r.pick(WORDS));
    // Deep nesting and long chains: the parser's recursion and the evaluator's depth limits.
    if (r.chance(0.1)) return Buffer.from(`${'('.repeat(r.int(150))}${parts.join(' ')}${')'.repeat(r.int(150))}`);
    if (r.chance(0.1)) return Buffer.from(Array.from({ length: r.int(1500) }, () => r.pick(['a = 1', 'NOT a', '-1', 'a'])).join(r.pick([' AND ', ' OR ', ' = '])));
    return Buffer.from(parts.join(' '));
  },
  run(input: Buffer): Verdict {
    const text = input.toString('utf8');
    let verdict: Verdict;
    try {
      matchesAll(compileSql92(text));
      verdict = 'accepted';
    } catch (err) {
      verdict = rejection(err, [FilterSyntaxError], { pattern: /^SQL92 syntax error at position \d+ near (end of input|'[^]*'): \S/ });
      const pos = (err as FilterSyntaxError).position;
      check(pos >= 0 && pos <= text.length, () => `error position ${pos} outside the ${text.length}-character expression`);
    }
    // What a consumer's subscription goes through (trimmed, wrapped into a remoting error).
    try {
      const sub = buildSubscriptionData('T', text, 'SQL92');
      check(sub.sql !== undefined, 'an SQL92 subscription without a compiled filter');
    } catch (err) {
      rejection(err, [BrokerError], { maxLength: 20_000 + 200 });
      check((err as BrokerError).code === ResponseCode.SUBSCRIPTION_PARSE_FAILED, () => `subscription refused with code ${(err as BrokerError).code}`);
    }
    return verdict;
  },
};
