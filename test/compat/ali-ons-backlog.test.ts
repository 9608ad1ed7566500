// A 50k-message backlog sent by ali-ons is consumed completely by an ali-ons consumer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone } from '../helpers/standalone.js';
import { createTopic, ons, OnsHarness, sendAll } from './helpers/ali-ons.js';

void test('ali-ons backlog - 50k messages sent 64 at a time are all consumed', async (t) => {
  await using s = await startStandalone();
  await using h = new OnsHarness(s);
  const topic = 'OnsBacklogTopic';
  await createTopic(s, topic, 8);
  const producer = await h.producer('GID_ons_backlog_p');
  const n = 50_000;

  const t0 = Date.now();
  const results = await sendAll(producer, n, (i) => new ons.Message(topic, 'Bk', `bk-${i}`), 64);
  const sendMs = Date.now() - t0;
  assert.equal(results.filter((r) => r.sendStatus === 'SEND_OK').length, n);

  const seen = new Set<string>();
  let deliveries = 0;
  const t1 = Date.now();
  await h.consumer({ consumerGroup: 'GID_ons_backlog', parallelConsumeLimit: 32 }, topic, '*', async (m) => {
    deliveries++;
    seen.add(m.body.toString());
  });
  await checkFor(60_000, 100, () => seen.size === n, `all ${n} consumed (have ${seen.size})`);
  const consumeMs = Date.now() - t1;
  t.diagnostic(`send ${n} in ${sendMs} ms (${Math.round(n / (sendMs / 1000))}/s), consume in ${consumeMs} ms (${Math.round(n / (consumeMs / 1000))}/s)`);
  assert.equal(seen.size, n);
  for (let i = 0; i < n; i += 997) assert.ok(seen.has(`bk-${i}`));
  assert.equal(deliveries, n, 'one clean consumer sees no duplicates');
});
