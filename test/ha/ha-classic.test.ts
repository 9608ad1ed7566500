// Issue 12, classic mode (static roles): a SYNC_MASTER and two slaves as real `apogee broker`
// processes, driven by the real ali-ons client. Every acknowledged message is on both slaves;
// a frozen slave leaves the in-sync set while the master keeps acknowledging with the other,
// and rejoins; a killed slave restarted on its directory catches up; with the master gone,
// consumers read from a slave.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pullOnce } from '../broker/fixtures/wire.js';
import { startClassicGroup, type BrokerGroup } from '../helpers/broker-group.js';
import { runApogee } from '../helpers/spawn-apogee.js';
import { checkFor } from '../helpers/check-for.js';
import type { Standalone } from '../helpers/standalone.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ons, OnsHarness, sendAll, type OnsMessage, type OnsSendResult } from '../compat/helpers/ali-ons.js';

const TOPIC = 'HaTopic';

async function bodiesOn(group: BrokerGroup, addr: string, queues: number): Promise<string[]> {
  const out: string[] = [];
  for (let q = 0; q < queues; q++) {
    let offset = 0;
    for (let i = 0; i < 200; i++) {
      const r = await pullOnce(group.rc, addr, { group: 'CG_ha_reader', topic: TOPIC, queueId: q, offset });
      out.push(...r.records.map((m) => m.body.toString()));
      if (r.records.length === 0 || r.nextBeginOffset <= offset) break;
      offset = r.nextBeginOffset;
    }
  }
  return out.sort();
}

/** The commit-log end of the last acknowledged message, read back from the master. */
async function endOfLastAcked(group: BrokerGroup, addr: string, sent: OnsSendResult[]): Promise<number> {
  let end = 0;
  const lastPerQueue = new Map<number, number>();
  for (const r of sent) lastPerQueue.set(r.messageQueue.queueId, Math.max(lastPerQueue.get(r.messageQueue.queueId) ?? -1, r.queueOffset));
  for (const [queueId, offset] of lastPerQueue) {
    const r = await pullOnce(group.rc, addr, { group: 'CG_ha_reader', topic: TOPIC, queueId, offset });
    assert.ok(r.records.length > 0, `the master serves queue ${queueId} offset ${offset}`);
    end = Math.max(end, r.records[0].commitLogOffset + r.records[0].totalSize);
  }
  return end;
}

void test('ha classic - issue 12: SYNC_MASTER replicates to two slaves; a frozen slave leaves and rejoins the in-sync set; a killed slave catches up; slaves serve reads without the master', async () => {
  using dir = tempDir('apogee-ha-');
  const g = await startClassicGroup({
    dir: dir.path,
    brokerName: 'ha-classic',
    members: [
      { brokerId: 0, brokerRole: 'SYNC_MASTER' },
      { brokerId: 1, brokerRole: 'SLAVE' },
      { brokerId: 2, brokerRole: 'SLAVE' },
    ],
    // Broker trace stays on (the default): its records, written a moment after the sends and pulls
    // they describe, move the log's end, so the checks below compare the slaves with the end of
    // the last acknowledged message and read the operator's view once the log has settled.
    flags: ['--haMaxTimeSlaveNotCatchup=1500', '--haSlaveSyncMetadataIntervalMs=300', '--syncFlushTimeout=3000'],
    topic: TOPIC,
    queues: 2,
  });
  const { ns, group, master } = g;
  const fakeStandalone = { namesrvAddr: ns.addresses.namesrv } as Standalone;
  try {

    await using h = new OnsHarness(fakeStandalone);
    const producer = await h.producer('GID_ha_p');
    const first = await sendAll(producer, 200, (i) => new ons.Message(TOPIC, 'T', `a-${i}`), 16);
    assert.ok(first.every((r) => r.sendStatus === 'SEND_OK'), 'every send acknowledged with both slaves in sync');
    // SYNC_MASTER: acknowledged means on the slaves already, not eventually.
    const st = await group.haStatus(master.addr);
    assert.deepEqual(st.syncStateSet, [0, 1, 2]);
    const ackedEnd = await endOfLastAcked(group, master.addr, first);
    for (const c of st.haConnectionInfo) assert.ok(c.slaveAckOffset >= ackedEnd, `slave ${c.brokerId} holds everything acknowledged (${c.slaveAckOffset} >= ${ackedEnd})`);
    const want = first.map((_, i) => `a-${i}`).sort();
    // The operator's view: roles, epoch, offsets and lag, and the in-sync set, read once no trace
    // record is being written between the status and the listing.
    let cl: Awaited<ReturnType<typeof runApogee>> | undefined;
    let settled = 0;
    await checkFor(15_000, 300, async () => {
      settled = (await group.haStatus(master.addr)).masterCommitLogMaxOffset;
      cl = await runApogee(['admin', 'clusterList', '-n', ns.addresses.namesrv]);
      return cl.code === 0 && new RegExp(`^DefaultCluster +ha-classic +0 +${master.addr.replace(/\./g, '\\.')} .* MASTER +0 +${settled} +0$`, 'm').test(cl.stdout);
    }, 'clusterList shows the master at its log end');
    assert.ok(cl);
    assert.equal(cl.code, 0, cl.stderr);
    assert.ok(settled >= ackedEnd);
    assert.match(cl.stdout, /#Role +#Epoch +#MaxOffset +#LagBytes$/m);
    assert.equal((cl.stdout.match(/ SLAVE +0 +\d+ +\d+$/gm) ?? []).length, 2, cl.stdout);
    let ss: Awaited<ReturnType<typeof runApogee>> | undefined;
    await checkFor(15_000, 300, async () => {
      ss = await runApogee(['admin', 'getSyncStateSet', '-n', ns.addresses.namesrv, '-b', 'ha-classic']);
      return /^1 +\S+ +true +\d+ +0$/m.test(ss.stdout);
    }, 'getSyncStateSet shows slave 1 in sync with no lag');
    assert.ok(ss);
    assert.equal(ss.code, 0, ss.stderr);
    assert.match(ss.stdout, /^#syncStateSet 0,1,2$/m);
    await checkFor(10_000, 100, async () => (await bodiesOn(group, group.member(1).addr, 2)).length === 200, 'slave 1 dispatched every message');
    assert.deepEqual(await bodiesOn(group, group.member(1).addr, 2), want);
    assert.deepEqual(await bodiesOn(group, group.member(2).addr, 2), want);

    // A frozen slave falls out of the in-sync set; the master keeps acknowledging with the other.
    group.member(2).freeze();
    const during = await sendAll(producer, 50, (i) => new ons.Message(TOPIC, 'T', `b-${i}`), 8);
    assert.ok(during.every((r) => r.sendStatus === 'SEND_OK'));
    await checkFor(10_000, 100, async () => (await group.haStatus(master.addr)).syncStateSet.join() === '0,1', 'slave 2 out of the in-sync set');
    group.member(2).thaw();
    await group.waitInSync(master, [1, 2]);

    // A killed slave restarted on its own directory catches up from where it stopped.
    await group.member(1).kill();
    const whileDown = await sendAll(producer, 50, (i) => new ons.Message(TOPIC, 'T', `c-${i}`), 8);
    assert.ok(whileDown.every((r) => r.sendStatus === 'SEND_OK'));
    await group.member(1).start();
    await group.waitInSync(master, [1, 2]);
    const all = [...want, ...during.map((_, i) => `b-${i}`), ...whileDown.map((_, i) => `c-${i}`)].sort();
    await checkFor(10_000, 100, async () => (await bodiesOn(group, group.member(1).addr, 2)).length === all.length, 'slave 1 caught up');
    assert.deepEqual(await bodiesOn(group, group.member(1).addr, 2), all);

    // The master is gone: a consumer group reads everything from a slave.
    await master.kill();
    const seen = new Set<string>();
    await h.consumer({ consumerGroup: 'GID_ha_reader' }, TOPIC, '*', async (m: OnsMessage) => {
      seen.add(m.body.toString());
    });
    await checkFor(30_000, 200, () => seen.size === all.length, `all ${all.length} messages read from a slave (have ${seen.size})`);
  } finally {
    await g.close();
  }
});
