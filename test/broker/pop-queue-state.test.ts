// The committed offset of a popped queue is its lowest in-flight offset: QueueState finds it in
// O(1) while offsets arrive in order and falls back to a scan when they do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueueState, type Inflight } from '../../src/broker/pop/pop-service.js';

function inflight(offset: number): Inflight {
  return { offset, nonce: offset, invisibleUntil: 0, firstPopTime: 0, commitLogOffset: 0, attempts: 1, autoRenew: false, clientId: 'c', maxAttempts: 17 };
}

test('pop queue state - lowest in-flight offset, in order and out of order', () => {
  const s = new QueueState('k', 'G', 'T', 0, false);
  assert.equal(s.lowestInflight(), undefined);
  for (const off of [10, 11, 12, 13]) s.addInflight(inflight(off));
  assert.equal(s.ordered, true);
  assert.equal(s.lowestInflight(), 10);
  s.inflight.delete(10);
  assert.equal(s.lowestInflight(), 11);
  s.addInflight(inflight(5)); // out of order: a scan from now on
  assert.equal(s.ordered, false);
  assert.equal(s.lowestInflight(), 5);
  s.inflight.delete(5);
  assert.equal(s.lowestInflight(), 11);
  for (const off of [11, 12, 13]) s.inflight.delete(off);
  s.addInflight(inflight(3)); // empty again: in order anew
  s.addInflight(inflight(4));
  assert.equal(s.ordered, true);
  assert.equal(s.lowestInflight(), 3);
});

test('pop queue state - random inserts and deletes agree with a full scan', () => {
  const s = new QueueState('k', 'G', 'T', 0, false);
  let seed = 7;
  const rnd = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  let next = 0;
  for (let i = 0; i < 5000; i++) {
    const r = rnd(10);
    if (r < 5) s.addInflight(inflight(next++));
    else if (r < 6) s.addInflight(inflight(rnd(next + 1)));
    else if (s.inflight.size > 0) s.inflight.delete([...s.inflight.keys()][rnd(s.inflight.size)]);
    const keys = [...s.inflight.keys()];
    assert.equal(s.lowestInflight(), keys.length ? Math.min(...keys) : undefined);
  }
});
