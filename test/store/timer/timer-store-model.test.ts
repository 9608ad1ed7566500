// The timer store against a naive model (an array scanned and sorted on every poll), over
// random adds, cancels, clock advances, polls with and without commit, and restarts
// (some without the wheel file, which is then rebuilt from the log). A
// tiny wheel (10 ms slots, 64-slot window) makes rolls, wrap-around of the ring, segment
// rolls and deletion all happen within a few seconds of simulated time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { TimerStore, type TimerStoreOptions } from '../../../src/store/timer/index.js';
import { tempDir } from '../../helpers/temp-dir.js';

interface ModelTimer {
  key: string;
  deliverAtMs: number;
  seq: number;
}

type Op =
  | { t: 'add'; offset: number }
  | { t: 'cancel'; pick: number; hit: boolean; offset: number }
  | { t: 'poll'; delta: number; max: number; commit: boolean }
  | { t: 'reopen'; dropWheel: boolean };

const PRECISION = 10;

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('add' as const), offset: fc.integer({ min: -300, max: 3_000 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('cancel' as const),
      pick: fc.nat(),
      hit: fc.boolean(),
      offset: fc.integer({ min: -100, max: 1_000 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('poll' as const),
      delta: fc.integer({ min: 0, max: 200 }),
      max: fc.integer({ min: 1, max: 30 }),
      commit: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reopen' as const), dropWheel: fc.boolean() }) },
);

const slotOf = (ms: number): number => Math.floor(ms / PRECISION) * PRECISION;

function modelPoll(pending: ModelTimer[], now: number, max: number): ModelTimer[] {
  const due = pending
    .filter((m) => m.deliverAtMs <= now)
    .sort((a, b) => a.deliverAtMs - b.deliverAtMs || a.seq - b.seq)
    .slice(0, max);
  for (const d of due) pending.splice(pending.indexOf(d), 1);
  return due;
}

async function run(ops: Op[]): Promise<void> {
  using dir = tempDir();
  const clock = { now: 1_000_003 };
  const opts: TimerStoreOptions = {
    precisionMs: PRECISION,
    slotsWindow: 64,
    segmentSize: 8192,
    writeBufferSize: 512,
    flushIntervalMs: 0,
    now: () => clock.now,
  };
  let store = TimerStore.open(dir.path, opts);
  const pending: ModelTimer[] = [];
  let uncommitted: ModelTimer[] = [];
  const added: ModelTimer[] = [];
  let pollsSinceCommit = 0;
  const poll = (max: number, commit: boolean): void => {
    const want = modelPoll(pending, clock.now, max);
    const got = store.pollDue(clock.now, max);
    assert.deepEqual(
      got.map((g) => [g.key, g.deliverAtMs]),
      want.map((w) => [w.key, w.deliverAtMs]),
      `poll at ${clock.now}`,
    );
    uncommitted.push(...want);
    // Unconfirmed hand-outs may not span the window (the store then waits for commit()).
    if (commit || ++pollsSinceCommit >= 2) {
      store.commit();
      uncommitted = [];
      pollsSinceCommit = 0;
    }
  };
  try {
    for (const op of ops) {
      if (op.t === 'add') {
        const m = { key: `k${added.length}`, deliverAtMs: clock.now + op.offset, seq: added.length };
        added.push(m);
        pending.push(m);
        store.add({ deliverAtMs: m.deliverAtMs, commitLogOffset: m.seq * 100, size: 10, key: m.key });
      } else if (op.t === 'cancel') {
        const target =
          op.hit && added.length > 0
            ? added[op.pick % added.length]
            : { key: `ghost${op.pick}`, deliverAtMs: clock.now + op.offset };
        const before = pending.length;
        for (let i = pending.length - 1; i >= 0; i--) {
          const p = pending[i];
          if (p.key === target.key && slotOf(p.deliverAtMs) === slotOf(target.deliverAtMs)) pending.splice(i, 1);
        }
        const res = store.cancel(target.key, target.deliverAtMs);
        if (pending.length < before) assert.equal(res, true, `cancel ${target.key} of a pending timer`);
      } else if (op.t === 'poll') {
        clock.now += op.delta;
        poll(op.max, op.commit);
      } else {
        await store.close();
        if (op.dropWheel) rmSync(join(dir.path, 'timerwheel'));
        store = TimerStore.open(dir.path, opts);
        // What was handed out but not confirmed comes again.
        pending.push(...uncommitted);
        uncommitted = [];
        pollsSinceCommit = 0;
      }
    }
    clock.now += 10_000;
    poll(1_000_000, true);
    assert.equal(pending.length, 0);
    assert.equal(store.stats().pending, 0);
  } finally {
    await store.close();
  }
}

test('timer store model - random add/cancel/poll/restart sequences match a sorted-array model', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 120 }), (ops) => run(ops)),
    { numRuns: 150 },
  );
});

test('timer store model - regression: past-due add into a half-polled slot keeps time order', async () => {
  await run([
    { t: 'add', offset: 15 },
    { t: 'add', offset: 12 },
    { t: 'poll', delta: 13, max: 1, commit: false },
    { t: 'add', offset: -50 },
    { t: 'poll', delta: 0, max: 5, commit: true },
    { t: 'reopen', dropWheel: false },
    { t: 'poll', delta: 5, max: 5, commit: true },
  ]);
});
