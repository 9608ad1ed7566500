// Issue 18: a lite receive reads its lite topics' next records from the commit log in batches.
// A batch whose records straddle a commit-log segment end was read only up to that end, and the
// lite topics whose records lay in the next segment were dropped from the ready set without a
// delivery: their messages stayed undelivered until another message was sent to them (a lite
// bench round lost 8 of 100,000 messages at the first 1 GiB boundary). Small segments here make
// every few sends cross one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGroup, type MessageView } from '../compat/helpers/grpc.js';
import { checkFor } from '../helpers/check-for.js';
import { ConsumeResult, createLiteParent, LiteHarness, litePushConsumer, OffsetOption, sendLite } from './lite-helpers.js';

test('lite topics - every message is delivered when a receive batch straddles a commit-log segment end, with no later send to wake its lite topic (issue 18)', async () => {
  await using h = await LiteHarness.start(undefined, { mappedFileSizeCommitLog: 64 * 1024, traceBrokerEnable: false });
  await createLiteParent(h.s, 'LiteSeg', { queues: 4 });
  await createGroup(h.s, 'g-lite-seg');
  const names = Array.from({ length: 20 }, (_, i) => `seg-${i}`);
  const p = await h.producer('LiteSeg');
  // Everything is stored before anyone reads: the receives then claim many lite topics at once
  // and read their records in batches that cross the 64 KiB segment ends.
  const body = 'x'.repeat(3000);
  const ROUNDS = 8;
  for (let r = 0; r < ROUNDS; r++) await Promise.all(names.map((n) => sendLite(p, 'LiteSeg', n, `${n}:${r}:${body}`)));
  const got: MessageView[] = [];
  const c = await litePushConsumer(h, 'g-lite-seg', 'LiteSeg', async (m) => {
    got.push(m);
    return ConsumeResult.SUCCESS;
  });
  for (const n of names) await c.subscribeLite(n, OffsetOption.MIN_OFFSET);
  const total = names.length * ROUNDS;
  await checkFor(30_000, 50, () => got.length >= total, `all ${total} messages delivered`);
  const per = new Map<string, number[]>();
  for (const m of got) {
    const [lite, seq] = m.body.toString().split(':');
    assert.equal(m.liteTopic, lite);
    per.set(lite, [...(per.get(lite) ?? []), Number(seq)]);
  }
  for (const n of names) assert.deepEqual(per.get(n), Array.from({ length: ROUNDS }, (_, i) => i), `lite topic ${n}: every message once, in order`);
});
