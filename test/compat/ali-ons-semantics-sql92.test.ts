// The real ali-ons consumer with a SQL92 subscription gets exactly the messages whose user
// properties match; the broker does the filtering (ali-ons filters tags only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone } from '../helpers/standalone.js';
import { quietPeriod } from '../broker/fixtures/wire.js';
import { createTopic, ons, OnsHarness, type OnsMessage } from './helpers/ali-ons.js';

void test('ali-ons semantics sql92 - "a > 5 AND b = \'x\'" delivers exactly the matching messages', async () => {
  await using s = await startStandalone({ enablePropertyFilter: true });
  await using h = new OnsHarness(s);
  const topic = 'OnsSqlTopic';
  await createTopic(s, topic, 4);
  const producer = await h.producer('GID_ons_sql_p');
  // a: numbers as strings (all properties are strings on the wire), a non-number and a missing one.
  const cases: { a?: string; b?: string }[] = [
    { a: '6', b: 'x' },
    { a: '5', b: 'x' },
    { a: '10', b: 'y' },
    { a: '100', b: 'x' },
    { a: 'abc', b: 'x' },
    { b: 'x' },
    { a: '7' },
    { a: '8', b: 'x' },
    { a: '-8', b: 'x' },
    { a: '9', b: 'X' },
  ];
  const want = ['m0', 'm3', 'm7'];
  const n = 40;
  for (let i = 0; i < n; i++) {
    const c = cases[i % cases.length];
    const msg = new ons.Message(topic, 'TagS', `m${i}`);
    if (c.a !== undefined) msg.properties.a = c.a;
    if (c.b !== undefined) msg.properties.b = c.b;
    await producer.send(msg);
  }
  const expected = Array.from({ length: n }, (_, i) => `m${i}`).filter((b) => want.includes(`m${Number(b.slice(1)) % cases.length}`));

  const got: OnsMessage[] = [];
  // ali-ons takes an { expressionType, subString } object in place of the tag expression.
  const sql = { expressionType: 'SQL92', subString: "a > 5 AND b = 'x'" } as unknown as string;
  await h.consumer({ consumerGroup: 'GID_ons_sql' }, topic, sql, async (m) => {
    got.push(m);
  });
  await checkFor(10_000, 50, () => got.length >= expected.length, `${expected.length} matching messages (have ${got.length})`);
  await quietPeriod(500);
  assert.deepEqual(got.map((m) => m.body.toString()).sort(), expected.sort());
  for (const m of got) {
    assert.ok(Number(m.properties.a) > 5 && m.properties.b === 'x', `a=${m.properties.a} b=${m.properties.b}`);
  }
  // The broker handed this group only the matches.
  assert.equal(s.controller.stats.groupGets.get(`${topic}@GID_ons_sql`), expected.length);
});
