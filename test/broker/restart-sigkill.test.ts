// Pending special messages survive a SIGKILL of the real `apogee standalone` process: a
// delay-level message, a timer message, a retry parked after send-back and an undecided half
// message are all delivered (or checked back) by the restarted broker over the same data dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { MessageRecord } from '../../src/common/message-codec.js';
import { RemotingClient, ResponseCode } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { spawnApogee, type ApogeeProcess } from '../helpers/spawn-apogee.js';
import { tempDir } from '../helpers/temp-dir.js';
import { TranState, TransactionProducer } from './fixtures/transaction-producer.js';
import { createTopicRaw, prop, pullAll, sendBack, sendOk, updateSubscriptionGroup } from './fixtures/wire.js';

// Level 3 (first retry) 4 s, level 4 5 s: long enough to kill the broker before they are due.
const LADDER = '1s 2s 4s 5s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s';
const DELAY_LEVEL_MS = 5000;
const RETRY_LEVEL_MS = 4000;
const TIMER_MS = 5000;

function start(dataDir: string): Promise<ApogeeProcess> {
  return spawnApogee([
    'standalone',
    '--listenPort=0',
    '--namesrvPort=0',
    '--grpcServerPort=0',
    '--httpPort=0',
    '--host=127.0.0.1',
    '--brokerIP1=127.0.0.1',
    '--storePathRootDir',
    dataDir,
    `--messageDelayLevel=${LADDER}`,
    // Checked back 2.5 s after the send: after the restart, never before the kill.
    '--transactionTimeOut=2500',
    '--transactionCheckInterval=300',
  ]);
}

function byBody(recs: MessageRecord[], body: string): MessageRecord[] {
  return recs.filter((m) => m.body.toString() === body);
}

void test('restart sigkill - delay, timer, retry and half messages pending at a SIGKILL are delivered after restart', async () => {
  using dir = tempDir('apogee-restart-');
  const dataDir = join(dir.path, 'data');
  const topic = 'RestartTopic';
  const group = 'CG_restart';
  const pgroup = 'PG_restart';

  let apogee = await start(dataDir);
  let rc = new RemotingClient();
  let sentAt: number;
  let timerAt: number;
  let retryAt: number;
  let halfTxId: string;
  try {
    const broker = apogee.addresses.broker!;
    await createTopicRaw(rc, broker, apogee.addresses.namesrv!, topic);
    await updateSubscriptionGroup(rc, broker, { groupName: group, retryMaxTimes: 16 });
    sentAt = Date.now();
    await sendOk(rc, broker, { topic, body: 'delayed', props: { DELAY: '4' } });
    timerAt = Date.now() + TIMER_MS;
    await sendOk(rc, broker, { topic, body: 'timed', props: { TIMER_DELIVER_MS: String(timerAt) } });
    await sendOk(rc, broker, { topic, body: 'failed-once' });
    const [orig] = byBody(await pullAll(rc, broker, topic), 'failed-once');
    retryAt = Date.now();
    const back = await sendBack(rc, broker, { group, offset: orig.commitLogOffset });
    assert.equal(back.code, ResponseCode.SUCCESS, back.remark);
    await using tp = new TransactionProducer(broker, pgroup);
    await tp.start();
    halfTxId = (await tp.sendHalf(topic, 'half-open')).transactionId;

    // Nothing special has been delivered yet: only the plain message is on the topic.
    assert.deepEqual(
      (await pullAll(rc, broker, topic)).map((m) => m.body.toString()),
      ['failed-once'],
    );
    assert.ok(Date.now() - sentAt < 2000, 'all sent well before anything is due');
  } finally {
    await rc.close();
    const exit = await apogee.stop('SIGKILL');
    assert.equal(exit.signal, 'SIGKILL');
  }

  apogee = await start(dataDir);
  rc = new RemotingClient();
  try {
    const broker = apogee.addresses.broker!;
    await using tp = new TransactionProducer(broker, pgroup);
    tp.decisions.set(halfTxId, TranState.COMMIT);
    await tp.start();

    const want = ['committed', 'delayed', 'timed'];
    const recs = await checkFor(
      20_000,
      100,
      async () => {
        const all = await pullAll(rc, broker, topic);
        const names = all.map((m) => (m.body.toString() === 'half-open' ? 'committed' : m.body.toString()));
        return want.every((w) => names.includes(w)) ? all : undefined;
      },
      'the delayed, timed and checked-back messages after restart',
    );
    // Exactly once each, plus the plain message from before.
    assert.deepEqual(recs.map((m) => m.body.toString()).sort(), ['delayed', 'failed-once', 'half-open', 'timed']);
    const [delayed] = byBody(recs, 'delayed');
    assert.ok(delayed.storeTimestamp >= sentAt + DELAY_LEVEL_MS, 'the delay level was not cut short by the restart');
    assert.equal(prop(delayed, 'REAL_TOPIC'), topic);
    const [timed] = byBody(recs, 'timed');
    assert.ok(timed.storeTimestamp >= timerAt, 'the timer was not cut short by the restart');
    const [committed] = byBody(recs, 'half-open');
    assert.equal(committed.sysFlag & 0x0c, 8);
    assert.ok(tp.checks.length >= 1 && tp.checks[0].header.transactionId === halfTxId, 'checked back with the restarted broker');

    const retry = await checkFor(
      10_000,
      100,
      async () => {
        const r = await pullAll(rc, broker, `%RETRY%${group}`);
        return r.length > 0 ? r : undefined;
      },
      'the retry message after restart',
    );
    assert.deepEqual(
      retry.map((m) => [m.body.toString(), m.reconsumeTimes, prop(m, 'RETRY_TOPIC')]),
      [['failed-once', 1, topic]],
    );
    assert.ok(retry[0].storeTimestamp >= retryAt + RETRY_LEVEL_MS);
  } finally {
    await rc.close();
    await apogee.stop('SIGTERM');
  }
});
