// Issue 12: the master-only writers of timers and delay levels follow the broker's role. They stop
// when it is deposed (nothing written after the stop resolves, also not the rest of a batch under
// way), come back when it is elected again, any number of times, and check before each write
// that the broker may still write (a master whose etcd lease is about to lapse may not).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../src/common/logger.js';
import { decodeMessage } from '../../src/common/message-codec.js';
import { ConsumerOffsetManager } from '../../src/broker/consumer-offset-manager.js';
import { ScheduleMessageService } from '../../src/broker/schedule/schedule-message-service.js';
import { TimerMessageService } from '../../src/broker/timer/timer-message-service.js';
import { BrokerError, ResponseCode } from '../../src/remoting/index.js';
import { MessageStore, type MessageStore as Store } from '../../src/store/index.js';
import { checkFor } from '../helpers/check-for.js';
import { tempDir } from '../helpers/temp-dir.js';
import { msgInput } from '../store/store-helpers.js';

const TOPIC = 'RoleTopic';

async function topicCount(store: Store): Promise<number> {
  return Math.max(0, store.getMaxOffsetInQueue(TOPIC, 0));
}

async function openTimers(dir: string, mayWrite: () => boolean): Promise<{ store: Store; timers: TimerMessageService; offsets: ConsumerOffsetManager }> {
  mkdirSync(join(dir, 'config'), { recursive: true });
  const store = await MessageStore.open({ storePathRootDir: dir });
  const offsets = new ConsumerOffsetManager(join(dir, 'config'), silentLogger);
  const timers = new TimerMessageService(
    store,
    offsets,
    { brokerName: 'role-test', timerMaxDelaySec: 3600, timerPrecisionMs: 100, storePathRootDir: dir, pollIntervalMs: 20 },
    silentLogger,
    Date.now,
    { mayWrite },
  );
  return { store, timers, offsets };
}

/** Stores a timer message due at `at` as the router would. */
async function putTimer(store: Store, timers: TimerMessageService, body: string, at: number): Promise<void> {
  const m = msgInput(TOPIC, 0, body, { TIMER_DELIVER_MS: String(at), UNIQ_KEY: `K-${body}` });
  timers.routeStage(m);
  await store.putMessage(m);
  timers.notifyArrived();
}

void test('ha timer roles - issue 12: timer delivery stops when deposed and starts again when elected, three times over; the role is checked before each write', async () => {
  using dir = tempDir('apogee-timer-roles-');
  let writable = true;
  const { store, timers } = await openTimers(dir.path, () => writable);
  try {
    timers.startEnqueue(20);
    for (let round = 0; round < 3; round++) {
      await timers.startDelivery(20);
      const before = await topicCount(store);
      await putTimer(store, timers, `as-master-${round}`, Date.now() + 150);
      await checkFor(5000, 20, async () => (await topicCount(store)) === before + 1, `round ${round}: delivered while master`);

      await timers.stopDelivery();
      const due = Date.now() + 150;
      await putTimer(store, timers, `as-slave-${round}`, due);
      await assert.rejects(timers.recall(`K-as-slave-${round}`, due), (e: BrokerError) => e.code === ResponseCode.SLAVE_NOT_AVAILABLE, 'a slave refuses recalls');
      await checkFor(5000, 20, () => Date.now() > due + 300, 'past the due time while a slave');
      assert.equal(await topicCount(store), before + 1, `round ${round}: nothing delivered while a slave`);
      // Elected again: what came due meanwhile is delivered at once.
      await timers.startDelivery(20);
      await checkFor(5000, 20, async () => (await topicCount(store)) === before + 2, `round ${round}: delivered after the election`);
      await timers.stopDelivery();
    }

    // Still master by role, but the lease is about to lapse: no write until it is renewed.
    await timers.startDelivery(20);
    writable = false;
    const due = Date.now() + 100;
    const before = await topicCount(store);
    await putTimer(store, timers, 'lease-lapsing', due);
    await checkFor(5000, 20, () => Date.now() > due + 300, 'past the due time');
    assert.equal(await topicCount(store), before, 'nothing written while the broker may not write');
    writable = true;
    await checkFor(5000, 20, async () => (await topicCount(store)) === before + 1, 'delivered once the broker may write again');
    assert.equal(timers.delivered, 7);
  } finally {
    await timers.shutdown();
    await store.shutdown();
  }
});

void test('ha timer roles - issue 12: delay levels stop when deposed and start again, three times over; the role is checked before each write', async () => {
  using dir = tempDir('apogee-delay-roles-');
  mkdirSync(join(dir.path, 'config'), { recursive: true });
  const store = await MessageStore.open({ storePathRootDir: dir.path });
  let writable = true;
  const schedule = new ScheduleMessageService(store, [200], join(dir.path, 'config'), silentLogger, Date.now, () => writable);
  const park = async (body: string): Promise<void> => {
    const m = msgInput('SCHEDULE_TOPIC_XXXX', 0, body, { REAL_TOPIC: TOPIC, REAL_QID: '0', DELAY: '1' });
    await store.putMessage(m);
    schedule.notifyArrived(0);
  };
  try {
    for (let round = 0; round < 3; round++) {
      schedule.start(0);
      const before = await topicCount(store);
      await park(`delay-master-${round}`);
      await checkFor(5000, 20, async () => (await topicCount(store)) === before + 1, `round ${round}: delivered while master`);
      await schedule.stop();
      await park(`delay-slave-${round}`);
      const parkedAt = Date.now();
      await checkFor(5000, 20, () => Date.now() > parkedAt + 600, 'three level delays later');
      assert.equal(await topicCount(store), before + 1, `round ${round}: nothing delivered while a slave`);
      assert.equal(schedule.offsetOf(1), 2 * round + 1, 'the cursor stayed');
      schedule.start(0);
      await checkFor(5000, 20, async () => (await topicCount(store)) === before + 2, `round ${round}: delivered after the election`);
      await schedule.stop();
    }
    schedule.start(0);
    writable = false;
    const before = await topicCount(store);
    await park('delay-lease-lapsing');
    const parkedAt = Date.now();
    await checkFor(5000, 20, () => Date.now() > parkedAt + 600, 'three level delays later');
    assert.equal(await topicCount(store), before, 'nothing written while the broker may not write');
    writable = true;
    await checkFor(5000, 20, async () => (await topicCount(store)) === before + 1, 'delivered once the broker may write again');
  } finally {
    await schedule.shutdown();
    await store.shutdown();
  }
});

void test('ha timer roles - issue 12: a slave drops only what its master delivered by the copied checkpoint, and takes in a cut and refilled wheel queue again', async () => {
  using dir = tempDir('apogee-timer-follow-');
  const { store, timers } = await openTimers(dir.path, () => true);
  try {
    timers.startEnqueue(20);
    const now = Date.now();
    const put = async (body: string, at: number): Promise<number> => {
      const phy = store.getMaxPhyOffset();
      await putTimer(store, timers, body, at);
      return phy;
    };
    await put('delivered-by-master', now + 100);
    const phyLate = await put('enqueued-after-checkpoint', now + 100);
    const phyCut = await put('cut-from-the-log', now + 600);
    await timers.enqueueNow();

    // Not applied while this member's log lacks the master's re-puts it counts.
    const ahead = { lastReadTimeMs: now + 200, lastEnqueuedPhyOffset: phyLate, lastTimerQueueOffset: 1, commitLogMaxOffset: store.getMaxPhyOffset() + 1 };
    assert.equal(timers.followMaster(ahead), 0);
    // Covered: the first timer is dropped; the second, which the master had not taken in, stays.
    assert.equal(timers.followMaster({ ...ahead, lastReadTimeMs: now + 201, commitLogMaxOffset: store.getMaxPhyOffset() }), 1);

    // The log is cut under the third timer and refilled at the same queue offset (a new master's records).
    await store.truncateTo(phyCut);
    await put('written-by-the-new-master', now + 300);
    await timers.enqueueNow();

    await timers.startDelivery(20);
    await checkFor(5000, 20, () => Date.now() > now + 900, 'past every due time');
    await checkFor(5000, 20, async () => (await topicCount(store)) >= 2, 'two delivered');
    const r = await store.getMessage(TOPIC, 0, 0, 10);
    const delivered = r.buffers.map((b) => decodeMessage(b, 0).body.toString()).sort();
    assert.deepEqual(delivered, ['enqueued-after-checkpoint', 'written-by-the-new-master']);
  } finally {
    await timers.shutdown();
    await store.shutdown();
  }
});
