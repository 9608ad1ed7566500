// The bench producer's dispatcher (issue 17: one timer for the window instead of a timer and a
// promise chain per send): it holds the rate and stops at --count or --duration with every started
// send answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStandalone } from '../helpers/standalone.js';
import { checkFor } from '../helpers/check-for.js';
import { AdminClient } from '../../src/client/index.js';
import { runProducerBench } from '../../src/cli/bench/bench-producer.js';

test('bench producer - a paced run holds its rate and stops at --count; a duration run stops in time with nothing left in flight', async () => {
  await using s = await startStandalone();
  const admin = new AdminClient({ namesrvAddr: s.namesrvAddr });
  try {
    await admin.createTopic(s.brokerAddr, 'PacedTopic', { readQueueNums: 4, writeQueueNums: 4 });
    await checkFor(5000, 20, () => admin.topicRoute('PacedTopic').then(() => true), 'route of PacedTopic');
  } finally {
    await admin.shutdown();
  }
  const lines: string[] = [];
  const base = { namesrvAddr: s.namesrvAddr, topic: 'PacedTopic', size: 128, headers: 'binary' as const, intervalSec: 3600, out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };

  // 150 sends at 250/s take at least 0.6 s less one slot: unpaced, a window of 16 sends them in
  // well under that.
  const t0 = performance.now();
  const paced = await runProducerBench({ ...base, window: 16, rate: 250, count: 150 });
  const ms = performance.now() - t0;
  assert.equal(paced.total.count, 150, lines.join(''));
  assert.equal(paced.failed, 0);
  assert.ok(ms >= 595, `150 sends at 250/s took ${ms.toFixed(0)} ms`);

  // Unpaced with a duration: it stops near the deadline, and every send it started was answered.
  const t1 = performance.now();
  const timed = await runProducerBench({ ...base, window: 4, durationSec: 0.5 });
  const el = performance.now() - t1;
  assert.ok(timed.total.count > 0 && timed.failed === 0, lines.join(''));
  assert.ok(el >= 500 && el < 5000, `a 0.5 s run took ${el.toFixed(0)} ms`);
});
