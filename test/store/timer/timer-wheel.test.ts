// The wheel file written in the background matches the synchronous save byte for byte, and
// links made while a background save runs go to the live wheel, not into the file being written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TimerWheel } from '../../../src/store/timer/timer-wheel.js';
import { tempDir } from '../../helpers/temp-dir.js';

const PRECISION = 1000;
const SLOTS = 100_000; // 2.4 MB image: several checksum chunks
const segments = [
  { start: 0, maxSlotMs: 5_000 },
  { start: 1 << 20, maxSlotMs: Infinity },
];

function wheelWithLinks(n: number): TimerWheel {
  const w = new TimerWheel(PRECISION, SLOTS);
  for (let i = 0; i < n; i++) w.link(1_700_000_000_000 + i * 7 * PRECISION, i * 64, i % 3 !== 0, i % 5 === 0);
  return w;
}

test('timer wheel - a background save writes the same bytes as a synchronous one', async () => {
  using dir = tempDir();
  const w = wheelWithLinks(2000);
  w.save(join(dir.path, 'sync'), 4242, segments);
  await w.saveInBackground(join(dir.path, 'async'), 4242, segments);
  assert.deepEqual(readFileSync(join(dir.path, 'async')), readFileSync(join(dir.path, 'sync')));
  const snap = TimerWheel.load(join(dir.path, 'async'), PRECISION, SLOTS);
  assert.ok(snap);
  assert.equal(snap.logOffset, 4242);
  assert.deepEqual(snap.segments, segments);
});

test('timer wheel - links during a background save stay out of the saved file', async () => {
  using dir = tempDir();
  const w = wheelWithLinks(100);
  const before = Buffer.from(w.image);
  const saving = w.saveInBackground(join(dir.path, 'wheel'), 99, segments);
  // The save yields between checksum chunks; link into the live wheel meanwhile.
  for (let i = 0; i < 50; i++) {
    w.link(1_800_000_000_000 + i * PRECISION, 10_000 + i, true, false);
    await new Promise((r) => setImmediate(r));
  }
  await saving;
  const snap = TimerWheel.load(join(dir.path, 'wheel'), PRECISION, SLOTS);
  assert.ok(snap, 'the file written during links does not load (checksum mismatch?)');
  // The saved image is the wheel as it was when the save began (header fields aside).
  assert.deepEqual(snap.wheel.image.subarray(32), before.subarray(32));
  assert.notDeepEqual(w.image.subarray(32), before.subarray(32));
});
