import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TimerStore, type DueTimer, type TimerStoreOptions } from '../../../src/store/timer/index.js';
import { tempDir } from '../../helpers/temp-dir.js';

const BASE = 1_700_000_000_000;

/** A store on an injected clock; tick() moves the clock. */
function openAt(dir: string, clock: { now: number }, opts: TimerStoreOptions = {}): TimerStore {
  return TimerStore.open(dir, { flushIntervalMs: 0, now: () => clock.now, ...opts });
}

function add(store: TimerStore, key: string, deliverAtMs: number): void {
  store.add({ deliverAtMs, commitLogOffset: deliverAtMs % 1_000_000, size: key.length, key });
}

function keys(due: DueTimer[]): string[] {
  return due.map((d) => d.key);
}

/** Polls in steps of stepMs up to untilMs, committing each time; returns [deliveredAt, timer] pairs. */
function drain(store: TimerStore, clock: { now: number }, untilMs: number, stepMs: number): Array<[number, DueTimer]> {
  const out: Array<[number, DueTimer]> = [];
  for (;;) {
    for (const t of store.pollDue(clock.now, 1_000_000)) out.push([clock.now, t]);
    store.commit();
    if (clock.now >= untilMs) return out;
    clock.now = Math.min(untilMs, clock.now + stepMs);
  }
}

describe('timer store', () => {
  test('timer store - hands out timers in time order, never before deliverAt and at once when polled on time', async () => {
    using dir = tempDir();
    const clock = { now: BASE };
    const store = openAt(dir.path, clock);
    const times: number[] = [];
    for (let i = 0; i < 500; i++) {
      const t = BASE + 1 + ((i * 7919) % 20_000);
      times.push(t);
      add(store, `k${i}`, t);
    }
    const got = drain(store, clock, BASE + 21_000, 1);
    assert.equal(got.length, 500);
    for (const [at, t] of got) assert.equal(at, t.deliverAtMs, `${t.key} delivered at ${at}, due ${t.deliverAtMs}`);
    const delivered = got.map(([, t]) => t.deliverAtMs);
    assert.deepEqual(delivered, [...times].sort((a, b) => a - b));
    await store.close();
  });

  test('timer store - precision: a slot is not handed out whole, each timer waits for its own time', async () => {
    using dir = tempDir();
    const clock = { now: BASE };
    const store = openAt(dir.path, clock, { precisionMs: 1000 });
    add(store, 'late', BASE + 10_800);
    add(store, 'early', BASE + 10_200);
    add(store, 'next', BASE + 11_000);
    assert.deepEqual(keys(store.pollDue(BASE + 10_199)), []);
    assert.deepEqual(keys(store.pollDue(BASE + 10_200)), ['early']);
    assert.deepEqual(keys(store.pollDue(BASE + 10_799)), []);
    assert.deepEqual(keys(store.pollDue(BASE + 10_999)), ['late']);
    assert.deepEqual(keys(store.pollDue(BASE + 11_000)), ['next']);
    assert.equal(store.slotOf(BASE + 10_800), BASE + 10_000);
    await store.close();
  });

  test('timer store - past times and times inside the loaded slot are due at once', async () => {
    using dir = tempDir();
    const clock = { now: BASE + 5_500 };
    const store = openAt(dir.path, clock);
    assert.deepEqual(store.pollDue(clock.now), []);
    add(store, 'hour-ago', BASE - 3_600_000);
    add(store, 'epoch', 0);
    add(store, 'just-now', BASE + 5_400);
    add(store, 'soon', BASE + 5_900);
    assert.deepEqual(keys(store.pollDue(clock.now)), ['epoch', 'hour-ago', 'just-now']);
    assert.deepEqual(keys(store.pollDue(BASE + 5_900)), ['soon']);
    await store.close();
  });

  test('timer store - max bounds one poll and the rest follows in order', async () => {
    using dir = tempDir();
    const clock = { now: BASE };
    const store = openAt(dir.path, clock);
    for (let i = 0; i < 10; i++) add(store, `k${i}`, BASE + 1000 + i);
    assert.deepEqual(keys(store.pollDue(BASE + 2000, 4)), ['k0', 'k1', 'k2', 'k3']);
    assert.deepEqual(keys(store.pollDue(BASE + 2000, 4)), ['k4', 'k5', 'k6', 'k7']);
    assert.deepEqual(keys(store.pollDue(BASE + 2000, 4)), ['k8', 'k9']);
    await store.close();
  });

  test('timer store - delays longer than the window roll forward and arrive on time', async () => {
    using dir = tempDir();
    const clock = { now: BASE };
    // A 1-minute window of 1 s slots: a day away rolls ~1440 times.
    const store = openAt(dir.path, clock, { precisionMs: 1000, slotsWindow: 60 });
    const wanted = new Map([
      ['day', BASE + 86_400_000 + 123],
      ['hour', BASE + 3_600_000],
      ['minute', BASE + 60_500],
    ]);
    for (const [k, t] of wanted) add(store, k, t);
    // Poll every 10 minutes and exactly at each deliver time.
    const polls = [...wanted.values(), ...Array.from({ length: 145 }, (_, i) => BASE + i * 600_000)].sort((a, b) => a - b);
    const got: Array<[string, number]> = [];
    for (const at of polls) {
      for (const t of store.pollDue(at)) got.push([t.key, at - t.deliverAtMs]);
      store.commit();
    }
    assert.deepEqual(got, [
      ['minute', 0],
      ['hour', 0],
      ['day', 0],
    ]);
    assert.equal(store.stats().pending, 0);
    await store.close();
  });

  test('timer store - a 365-day delay arrives, with the clock jumping a day at a time', async () => {
    using dir = tempDir();
    const clock = { now: BASE };
    const year = 365 * 86_400_000;
    const store = openAt(dir.path, clock, { precisionMs: 60_000, slotsWindow: 1440 });
    add(store, 'year', BASE + year);
    add(store, 'year-cancelled', BASE + year);
    assert.equal(store.cancel('year-cancelled', BASE + year), true);
    let got: DueTimer[] = [];
    while (clock.now < BASE + year + 86_400_000 && got.length === 0) {
      clock.now += 86_400_000;
      got = store.pollDue(clock.now);
      store.commit();
    }
    assert.deepEqual(keys(got), ['year']);
    assert.equal(clock.now - BASE, year);
    await store.close();
  });

  test('timer store - cancel before due: never handed out, whether loaded, in the window or parked', async () => {
    using dir = tempDir();
    const clock = { now: BASE };
    const store = openAt(dir.path, clock, { precisionMs: 1000, slotsWindow: 60 });
    add(store, 'loaded', BASE + 400);
    add(store, 'window', BASE + 30_000);
    add(store, 'parked', BASE + 600_000);
    add(store, 'kept', BASE + 600_000);
    add(store, 'same-slot', BASE + 30_999);
    assert.equal(store.cancel('loaded', BASE + 400), true);
    assert.equal(store.cancel('window', BASE + 30_000), true);
    assert.equal(store.cancel('parked', BASE + 600_000), true);
    const got = drain(store, clock, BASE + 700_000, 1000);
    assert.deepEqual(
      got.map(([, t]) => t.key),
      ['same-slot', 'kept'],
    );
    await store.close();
  });

  test('timer store - cancel matches the slot of deliverAt, not the exact millisecond', async () => {
    using dir = tempDir();
    const clock = { now: BASE };
    const store = openAt(dir.path, clock, { precisionMs: 1000 });
    add(store, 'a', BASE + 5_100);
    add(store, 'b', BASE + 6_100);
    assert.equal(store.cancel('a', BASE + 5_999), true);
    assert.equal(store.cancel('b', BASE + 7_000), true); // another slot: b survives
    assert.deepEqual(keys(store.pollDue(BASE + 10_000)), ['b']);
    await store.close();
  });

  test('timer store - cancel after delivery, of an unknown key, or twice is harmless', async () => {
    using dir = tempDir();
    const clock = { now: BASE };
    const store = openAt(dir.path, clock);
    add(store, 'x', BASE + 1_000);
    add(store, 'y', BASE + 2_000);
    add(store, 'z', BASE + 3_000);
    assert.deepEqual(keys(store.pollDue(BASE + 1_000)), ['x']);
    store.commit();
    assert.equal(store.cancel('x', BASE + 1_000), false, 'already handed out');
    assert.equal(store.cancel('nobody', BASE + 500), false, 'past and unknown');
    assert.equal(store.cancel('nobody', BASE + 2_000), true, 'future: a tombstone that matches nothing');
    assert.equal(store.cancel('z', BASE + 3_000), true);
    assert.equal(store.cancel('z', BASE + 3_000), true);
    // A tombstone only kills timers added before it.
    add(store, 'nobody', BASE + 2_000);
    assert.deepEqual(keys(store.pollDue(BASE + 10_000)), ['y', 'nobody']);
    assert.equal(store.cancel('z', BASE + 3_000), false);
    await store.close();
  });

  test('timer store - a clean restart keeps pending, parked and cancelled timers and does not repeat confirmed ones', async () => {
    using dir = tempDir();
    const clock = { now: BASE };
    const opts = { precisionMs: 1000, slotsWindow: 60 };
    let store = openAt(dir.path, clock, opts);
    for (let i = 0; i < 20; i++) add(store, `k${i}`, BASE + 1_000 + i * 10_000);
    add(store, 'far', BASE + 3_600_000);
    add(store, 'far-cancelled', BASE + 3_600_000);
    store.cancel('far-cancelled', BASE + 3_600_000);
    store.cancel('k19', BASE + 191_000);
    clock.now = BASE + 51_000;
    assert.deepEqual(keys(store.pollDue(clock.now)), ['k0', 'k1', 'k2', 'k3', 'k4', 'k5']);
    store.commit();
    clock.now = BASE + 61_000;
    assert.deepEqual(keys(store.pollDue(clock.now)), ['k6']); // not confirmed: comes again
    await store.close();

    store = openAt(dir.path, clock, opts);
    // An upper bound: tombstoned timers and rolls not yet confirmed count until their slot loads.
    assert.ok(store.stats().pending >= 14, `pending ${store.stats().pending}`);
    const got = drain(store, clock, BASE + 3_700_000, 5_000).map(([, t]) => t.key);
    assert.deepEqual(got, ['k6', 'k7', 'k8', 'k9', 'k10', 'k11', 'k12', 'k13', 'k14', 'k15', 'k16', 'k17', 'k18', 'far']);
    assert.equal(store.stats().pending, 0);
    await store.close();
  });

  test('timer store - a half-delivered slot is resumed after restart without repeats', async () => {
    using dir = tempDir();
    const clock = { now: BASE };
    let store = openAt(dir.path, clock);
    for (let i = 0; i < 10; i++) add(store, `k${i}`, BASE + 2_000 + i);
    assert.deepEqual(keys(store.pollDue(BASE + 3_000, 3)), ['k0', 'k1', 'k2']);
    store.commit();
    assert.deepEqual(keys(store.pollDue(BASE + 3_000, 2)), ['k3', 'k4']);
    await store.close();
    store = openAt(dir.path, clock);
    assert.deepEqual(keys(store.pollDue(BASE + 3_000)), ['k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9']);
    await store.close();
  });

  test('timer store - a missing wheel file is rebuilt from the log', async () => {
    using dir = tempDir();
    const clock = { now: BASE };
    const opts = { precisionMs: 100, slotsWindow: 50 };
    let store = openAt(dir.path, clock, opts);
    for (let i = 0; i < 300; i++) add(store, `k${i}`, BASE + 37 * i);
    for (let i = 0; i < 300; i += 3) store.cancel(`k${i}`, BASE + 37 * i);
    clock.now = BASE + 3_000;
    const first = keys(store.pollDue(clock.now));
    store.commit();
    await store.close();
    rmSync(join(dir.path, 'timerwheel'));
    store = openAt(dir.path, clock, opts);
    const rest = drain(store, clock, BASE + 20_000, 100).map(([, t]) => t.key);
    const want = Array.from({ length: 300 }, (_, i) => i)
      .filter((i) => i % 3 !== 0)
      .map((i) => `k${i}`);
    assert.deepEqual([...first, ...rest], want);
    await store.close();
  });

  test('timer store - a torn log tail is cut on open and earlier timers survive', async () => {
    using dir = tempDir();
    const clock = { now: BASE };
    let store = openAt(dir.path, clock);
    for (let i = 0; i < 50; i++) add(store, `k${i}`, BASE + 1_000 * (i + 1));
    await store.close();
    rmSync(join(dir.path, 'timerwheel'));
    const logDir = join(dir.path, 'timerlog');
    const seg = join(logDir, readdirSync(logDir)[0]);
    const size = statSync(seg).size;
    appendFileSync(seg, Buffer.from([0, 0, 0, 90, 0x54, 0x49, 0x4d, 0x52, 1, 2, 3]));
    store = openAt(dir.path, clock);
    assert.equal(statSync(seg).size, size);
    add(store, 'after', BASE + 100_000);
    const got = drain(store, clock, BASE + 100_000, 1_000).map(([, t]) => t.key);
    assert.deepEqual(got, [...Array.from({ length: 50 }, (_, i) => `k${i}`), 'after']);
    await store.close();
  });

  test('timer store - small segments roll, consumed ones are deleted, and the rest survives a restart', async () => {
    using dir = tempDir();
    const clock = { now: BASE };
    const opts = { precisionMs: 100, slotsWindow: 20, segmentSize: 8192, writeBufferSize: 1024 };
    let store = openAt(dir.path, clock, opts);
    for (let i = 0; i < 2_000; i++) add(store, `key-${i}`, BASE + 5 * i);
    const segments = store.stats().logSegments;
    assert.ok(segments > 10, `${segments} segments`);
    const got = drain(store, clock, BASE + 4_999, 50).map(([, t]) => t.key);
    assert.equal(got.length, 1_000);
    assert.ok(store.stats().logSegments < segments, 'consumed segments deleted');
    await store.close();
    store = openAt(dir.path, clock, opts);
    const rest = drain(store, clock, BASE + 10_000, 50).map(([, t]) => t.key);
    assert.deepEqual([...got, ...rest], Array.from({ length: 2_000 }, (_, i) => `key-${i}`));
    await store.close();
  });

  test('timer store - stats count pending timers and memory stays bounded by the wheel, not the timers', async () => {
    using dir = tempDir();
    const clock = { now: BASE };
    const store = openAt(dir.path, clock, { precisionMs: 1000, slotsWindow: 3600 });
    const empty = store.stats();
    for (let i = 0; i < 20_000; i++) add(store, `k${i}`, BASE + 10_000 + (i % 7200) * 1000);
    const full = store.stats();
    assert.equal(full.pending, 20_000);
    assert.ok(full.logBytes > 20_000 * 60);
    assert.equal(full.memoryBytes, empty.memoryBytes, 'no per-timer memory while timers wait in the wheel');
    await store.close();
  });

  test('timer store - rejects bad input', async () => {
    using dir = tempDir();
    const store = openAt(dir.path, { now: BASE });
    assert.throws(() => add(store, 'x', 1.5), RangeError);
    assert.throws(() => store.add({ deliverAtMs: BASE, commitLogOffset: -1, size: 1, key: 'x' }), RangeError);
    assert.throws(() => add(store, 'x'.repeat(5000), BASE), RangeError);
    assert.throws(() => TimerStore.open(join(dir.path, 'other'), { precisionMs: 0 }), RangeError);
    await store.close();
    assert.throws(() => store.pollDue(BASE), /closed/);
  });
  test('timer store - the wheel file is rewritten only after a change, not on a fresh or reopened idle store', async () => {
    using dir = tempDir();
    const wheelFile = join(dir.path, 'timerwheel');
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 200));
    const opts = { flushIntervalMs: 10, wheelSaveIntervalMs: 20 };
    let store = TimerStore.open(dir.path, opts);
    const fresh = statSync(wheelFile).ino;
    await settle();
    assert.equal(statSync(wheelFile).ino, fresh, 'an idle fresh store rewrote its wheel');
    add(store, 'k1', Date.now() + 3_600_000);
    await settle();
    const changed = statSync(wheelFile).ino;
    assert.notEqual(changed, fresh, 'a change was not saved');
    await store.close();
    store = TimerStore.open(dir.path, opts);
    const reopened = statSync(wheelFile).ino;
    await settle();
    assert.equal(statSync(wheelFile).ino, reopened, 'an idle reopened store rewrote its wheel');
    assert.equal(store.stats().pending, 1);
    await store.close();
  });
  test('timer store - issue 17: an idle store moves its saved checkpoint about once a minute, not at every slot, and a restart from it hands out nothing twice', async () => {
    using dir = tempDir();
    const clock = { now: BASE };
    let store = openAt(dir.path, clock, { precisionMs: 1000 });
    const start = store.stats().checkpointMs;
    const checkpointFile = join(dir.path, 'timercheck');
    const inode = (): number => statSync(checkpointFile).ino;
    const first = inode();
    // 30 idle seconds polled and committed every 100 ms, as the broker's delivery loop does.
    drain(store, clock, BASE + 30_000, 100);
    assert.equal(inode(), first, 'an idle store rewrote its checkpoint within a minute');
    assert.equal(store.stats().checkpointMs, start);
    drain(store, clock, BASE + 61_000, 100);
    assert.ok(store.stats().checkpointMs > start, 'the checkpoint never moved');
    assert.notEqual(inode(), first);
    // A hand-out is saved at once; idle slots after it are not.
    add(store, 'once', BASE + 65_000);
    const got = drain(store, clock, BASE + 80_000, 100);
    assert.deepEqual(keys(got.map(([, t]) => t)), ['once']);
    await store.close();
    store = openAt(dir.path, clock, { precisionMs: 1000 });
    assert.deepEqual(keys(drain(store, clock, BASE + 90_000, 100).map(([, t]) => t)), [], 'a restart handed a confirmed timer out again');
    await store.close();
  });
});
