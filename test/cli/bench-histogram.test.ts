import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LatencyHistogram } from '../../src/cli/bench/latency-histogram.js';

test('bench histogram - percentiles match a sorted list within the bucket resolution', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0, max: 5000, noNaN: true }), { minLength: 1, maxLength: 400 }), fc.constantFrom(0.5, 0.9, 0.99, 0.999, 1), (values, q) => {
      const h = new LatencyHistogram();
      for (const v of values) h.record(v);
      const sorted = values.map((v) => Math.round(v * 1000) / 1000).sort((a, b) => a - b);
      const exact = sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
      const got = h.percentileMs(q);
      assert.ok(Math.abs(got - exact) <= exact / 50 + 0.001, `q=${q} exact=${exact} got=${got}`);
      assert.equal(h.count, values.length);
      assert.ok(Math.abs(h.maxMs() - Math.max(...sorted)) <= 0.001);
    }),
  );
});

test('bench histogram - average, reset and add', () => {
  const a = new LatencyHistogram();
  a.record(1);
  a.record(3);
  assert.equal(a.avgMs(), 2);
  const b = new LatencyHistogram();
  b.record(10);
  b.add(a);
  assert.equal(b.count, 3);
  assert.equal(b.maxMs(), 10);
  assert.ok(Math.abs(b.avgMs() - 14 / 3) < 1e-9);
  a.reset();
  assert.deepEqual([a.count, a.avgMs(), a.maxMs(), a.percentileMs(0.99)], [0, 0, 0, 0]);
});
