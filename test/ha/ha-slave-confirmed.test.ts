// Issue 12: a slave serves only what its master confirmed (every member of the in-sync set holds
// it), not everything it holds. A record that reached one slave while the other in-sync slave is
// frozen could still be cut after a failover, so no consumer of that slave may see it; once the
// in-sync set holds it, the slave serves it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRequest, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { pullOnce, quietPeriod } from '../broker/fixtures/wire.js';
import { startClassicGroup } from '../helpers/broker-group.js';
import { checkFor } from '../helpers/check-for.js';
import type { Standalone } from '../helpers/standalone.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ons, OnsHarness, type OnsSendResult } from '../compat/helpers/ali-ons.js';

const TOPIC = 'HaSlaveConfirmTopic';

void test('ha slave confirm - issue 12: a slave does not serve a record it holds until the in-sync set holds it', async () => {
  using dir = tempDir('apogee-ha-slave-confirm-');
  const g = await startClassicGroup({
    dir: dir.path,
    brokerName: 'ha-slave-confirm',
    members: [
      { brokerId: 0, brokerRole: 'SYNC_MASTER' },
      { brokerId: 1, brokerRole: 'SLAVE' },
      { brokerId: 2, brokerRole: 'SLAVE' },
    ],
    // The frozen slave stays in the in-sync set for the whole check, and the send waits for it.
    flags: ['--haMaxTimeSlaveNotCatchup=10000', '--syncFlushTimeout=9000', '--haSlaveSyncMetadataIntervalMs=300'],
    topic: TOPIC,
    queues: 1,
  });
  const { ns, group } = g;
  try {
    const reader = group.member(1);

    await using h = new OnsHarness({ namesrvAddr: ns.addresses.namesrv } as Standalone);
    const producer = await h.producer('GID_ha_slave_confirm_p');
    const first = (await producer.send(new ons.Message(TOPIC, 'T', 'before'))) as OnsSendResult;
    assert.equal(first.sendStatus, 'SEND_OK');
    await checkFor(10_000, 50, async () => (await pullOnce(group.rc, reader.addr, { group: 'CG_ha_slave_confirm', topic: TOPIC, queueId: 0, offset: first.queueOffset })).records.length === 1, 'the slave serves a confirmed record');

    const offset = first.queueOffset + 1;
    const maxOn = async (addr: string): Promise<number> => Number((await group.rc.invoke(addr, createRequest(RequestCode.GET_MAX_OFFSET, { topic: TOPIC, queueId: 0 }), 5000)).extFields.offset);
    group.member(2).freeze();
    let pending: Promise<OnsSendResult> | undefined;
    try {
      pending = producer.send(new ons.Message(TOPIC, 'T', 'held')) as Promise<OnsSendResult>;
      // Slave 1 wrote and dispatched it (its queue grew); slave 2 has not: it is not confirmed.
      await checkFor(5000, 20, async () => (await maxOn(reader.addr)) > offset, 'slave 1 holds the record');
      const early = await pullOnce(group.rc, reader.addr, { group: 'CG_ha_slave_confirm', topic: TOPIC, queueId: 0, offset });
      assert.equal(early.records.length, 0, 'the slave does not serve the unconfirmed record');
      assert.equal(early.code, ResponseCode.PULL_NOT_FOUND, `the pull is told there is nothing new yet (${early.code} ${early.remark ?? ''})`);
      await quietPeriod(1000); // a window in which a periodic report or metadata copy would leak it
      const still = await pullOnce(group.rc, reader.addr, { group: 'CG_ha_slave_confirm', topic: TOPIC, queueId: 0, offset });
      assert.equal(still.records.length, 0, 'nor a second later');
    } finally {
      // Thawed before anything else, even after a failed check: the pending send and the clients' close wait for it.
      group.member(2).thaw();
    }
    assert.equal((await pending!).sendStatus, 'SEND_OK');
    await checkFor(5000, 20, async () => (await pullOnce(group.rc, reader.addr, { group: 'CG_ha_slave_confirm', topic: TOPIC, queueId: 0, offset })).records.length === 1, 'the slave serves it once confirmed');
    const late = await pullOnce(group.rc, reader.addr, { group: 'CG_ha_slave_confirm', topic: TOPIC, queueId: 0, offset });
    assert.deepEqual(late.records.map((m) => m.body.toString()), ['held']);
  } finally {
    await g.close();
  }
});
