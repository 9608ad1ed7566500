// Issue 10, part 2, as the real ali-ons client sees it: a broker whose store sits on a small
// tmpfs filled by a filler file refuses sends with SERVICE_NOT_AVAILABLE (14) and a remark
// saying the disk is full; consumption goes on; sends resume without a restart once the filler
// is removed; every acknowledged message is consumed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseCode } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone } from '../helpers/standalone.js';
import { mountTmpfs, tmpfsUnavailable } from '../store/tmpfs.js';
import { createTopic, ons, OnsHarness, type OnsSendResult } from './helpers/ali-ons.js';

const MiB = 1024 * 1024;
const TOPIC = 'OnsDiskFullTopic';

void test('ali-ons disk full - issue 10: sends are refused with code 14 "disk is full", consumption goes on, sends resume once space is freed', { skip: tmpfsUnavailable() }, async (t) => {
  using fs = mountTmpfs(48);
  await using s = await startStandalone(
    {
      mappedFileSizeCommitLog: MiB,
      // The highest level accepted: the filesystem runs out before the ratio check fires.
      diskSpaceWarningLevelRatio: 99,
      timerWheelEnable: false,
    },
    fs.path,
  );
  await using h = new OnsHarness(s);
  await createTopic(s, TOPIC, 4);
  const producer = await h.producer('GID_ons_diskfull_p');
  const consumed = new Set<string>();
  await h.consumer({ consumerGroup: 'GID_ons_diskfull_c' }, TOPIC, '*', async (m) => {
    consumed.add(m.body.toString());
  });

  const acked: string[] = [];
  const pad = 'p'.repeat(1000);
  const send = async (b: string): Promise<void> => {
    const r = (await producer.send(new ons.Message(TOPIC, 'DF', `${b}|${pad}`))) as OnsSendResult;
    assert.equal(r.sendStatus, 'SEND_OK');
    acked.push(`${b}|${pad}`);
  };
  for (let i = 0; i < 50; i++) await send(`before-${i}`);

  fs.fill(2 * MiB);
  // 2 MiB of headroom holds ~2,000 such messages; 20,000 bounds the loop if none is refused.
  let refused: Error | undefined;
  for (let i = 0; i < 20_000 && !refused; i++) {
    try {
      await send(`full-${i}`);
    } catch (err) {
      refused = err as Error;
    }
  }
  assert.ok(refused, 'a send is refused once the disk is full');
  // send() retries SERVICE_NOT_AVAILABLE (as the Java client does) and then gives up generically.
  assert.match(refused.message, /Send \[\d+\] times, still failed/);

  // Each attempt fails with the broker's code and remark, as ali-ons' send kernel raises them.
  const mq = producer._topicPublishInfoTable.get(TOPIC).messageQueueList[0];
  const attempt = await producer.sendKernelImpl(new ons.Message(TOPIC, 'DF', 'probe'), mq).then(
    () => undefined,
    (err: Error & { code?: number }) => err,
  );
  assert.ok(attempt, 'the probe send is refused too');
  assert.equal(attempt.name, 'MQClientException');
  assert.equal(attempt.code, ResponseCode.SERVICE_NOT_AVAILABLE);
  assert.match(attempt.message, /^service not available now: the broker's disk is full \[CL: /);
  t.diagnostic(`${acked.length} acknowledged; refusal: ${attempt.message}`);

  // Consumption goes on while the disk is full: everything acknowledged so far arrives.
  await checkFor(20_000, 50, () => acked.every((b) => consumed.has(b)), `all ${acked.length} acknowledged messages consumed while full`);

  fs.unfill();
  const freedAt = Date.now();
  await checkFor(10_000, 50, async () => {
    try {
      await send('resumed');
      return true;
    } catch {
      return false;
    }
  }, 'a send accepted after the filler is removed');
  t.diagnostic(`sends resumed ${Date.now() - freedAt} ms after the filler was removed`);
  for (let i = 0; i < 50; i++) await send(`after-${i}`);
  await checkFor(20_000, 50, () => acked.every((b) => consumed.has(b)), `all ${acked.length} acknowledged messages consumed`);
  assert.equal(s.controller.store.runtimeInfo().writeFailure, '', 'the store never gave up on writing');
});
