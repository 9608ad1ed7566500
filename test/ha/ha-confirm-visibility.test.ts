// Issue 12: a SYNC_MASTER shows consumers only what its in-sync set holds (RocketMQ 5's
// confirmOffset). A message the master stored but its in-sync slave has not confirmed is not
// served, neither to a plain pull nor to a real ali-ons push consumer held in long polling; once
// the slave confirms it, the held pull wakes at once (not at its 15 s suspend timeout).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRequest, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { pullOnce, quietPeriod } from '../broker/fixtures/wire.js';
import { startClassicGroup } from '../helpers/broker-group.js';
import { checkFor } from '../helpers/check-for.js';
import type { Standalone } from '../helpers/standalone.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ons, OnsHarness, type OnsMessage, type OnsSendResult } from '../compat/helpers/ali-ons.js';

const TOPIC = 'HaConfirmTopic';

void test('ha confirm - issue 12: a SYNC_MASTER serves a message only once its in-sync slave holds it, and wakes held pulls then', async () => {
  using dir = tempDir('apogee-ha-confirm-');
  const g = await startClassicGroup({
    dir: dir.path,
    brokerName: 'ha-confirm',
    members: [
      { brokerId: 0, brokerRole: 'SYNC_MASTER' },
      { brokerId: 1, brokerRole: 'SLAVE' },
    ],
    // The frozen slave stays in the in-sync set for the whole check (10 s), and the send waits for it.
    flags: ['--haMaxTimeSlaveNotCatchup=10000', '--syncFlushTimeout=9000', '--haSlaveSyncMetadataIntervalMs=300'],
    topic: TOPIC,
    queues: 1,
  });
  const { ns, group, master } = g;
  try {
    const slave = group.member(1);

    await using h = new OnsHarness({ namesrvAddr: ns.addresses.namesrv } as Standalone);
    const producer = await h.producer('GID_ha_confirm_p');
    const seen = new Map<string, number>();
    await h.consumer({ consumerGroup: 'GID_ha_confirm_c' }, TOPIC, '*', async (m: OnsMessage) => {
      seen.set(m.body.toString(), Date.now());
    });
    const first = (await producer.send(new ons.Message(TOPIC, 'T', 'before'))) as OnsSendResult;
    assert.equal(first.sendStatus, 'SEND_OK');
    await checkFor(15_000, 50, () => seen.has('before'), 'the consumer reads a confirmed message');

    slave.freeze();
    let acked = 0;
    let pending: Promise<OnsSendResult> | undefined;
    const offset = first.queueOffset + 1;
    try {
      pending = (producer.send(new ons.Message(TOPIC, 'T', 'held')) as Promise<OnsSendResult>).then((r) => {
        acked = Date.now();
        return r;
      });
      // Stored on the master (its queue grew), not yet on the slave: nobody may read it.
      await checkFor(5000, 20, async () => {
        const m = await group.rc.invoke(master.addr, createRequest(RequestCode.GET_MAX_OFFSET, { topic: TOPIC, queueId: 0 }), 5000);
        return Number(m.extFields.offset) > offset;
      }, 'the master stored the message');
      const early = await pullOnce(group.rc, master.addr, { group: 'CG_ha_confirm_raw', topic: TOPIC, queueId: 0, offset });
      assert.equal(early.records.length, 0, 'a pull does not see the unconfirmed message');
      assert.equal(early.code, ResponseCode.PULL_NOT_FOUND, `the pull is told there is nothing new yet (${early.code} ${early.remark ?? ''})`);
      await quietPeriod(1500); // a window in which a leak would show
      assert.equal(seen.has('held'), false, 'the push consumer did not get it either');
      assert.equal(acked, 0, 'and the producer has no answer');
    } finally {
      // Thawed before anything else, even after a failed check: the pending send and the clients' close wait for it.
      slave.thaw();
    }
    const r = await pending!;
    assert.equal(r.sendStatus, 'SEND_OK');
    // The consumer's pull was held (15 s suspend): the confirmation must wake it.
    await checkFor(5000, 20, () => seen.has('held'), 'the consumer gets the message once the slave confirmed it');
    assert.ok(seen.get('held')! - acked < 3000, `delivered ${seen.get('held')! - acked} ms after the acknowledgement`);
    const late = await pullOnce(group.rc, master.addr, { group: 'CG_ha_confirm_raw', topic: TOPIC, queueId: 0, offset });
    assert.deepEqual(late.records.map((m) => m.body.toString()), ['held']);
  } finally {
    await g.close();
  }
});
