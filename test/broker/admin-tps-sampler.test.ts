import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TpsSampler } from '../../src/broker/processor/admin-tps-sampler.js';

test('admin tps - rate over each window, from the origin until samples are old enough', () => {
  const s = new TpsSampler(0);
  // 1000 msgs in the first 10 s: every window falls back to the origin.
  assert.deepEqual(s.rates('put', 1000, [10_000, 60_000], 10_000), [100, 100]);
  // 20 s later, 3000 more: the 10 s window uses the sample taken at 10 s.
  assert.deepEqual(s.rates('put', 4000, [10_000, 60_000], 30_000), [150, 4000 / 30]);
  // Keys are independent.
  assert.deepEqual(s.rates('get', 0, [10_000], 30_000), [0]);
});

test('admin tps - samples closer than a second are not kept, old ones are dropped', () => {
  const s = new TpsSampler(0, 20_000);
  s.rates('k', 100, [1000], 1000);
  s.rates('k', 150, [1000], 1500); // not kept: only 0.5 s after the last
  assert.deepEqual(s.rates('k', 300, [1000], 2000), [200]);
  s.rates('k', 1000, [1000], 60_000);
  // The origin and the 1 s sample are dropped (older than keepMs, with a newer one to cover the
  // window): a 100 s window starts at the oldest sample kept, the one taken at 2 s.
  assert.deepEqual(s.rates('k', 1600, [100_000], 62_000), [(1600 - 300) / 60]);
});
