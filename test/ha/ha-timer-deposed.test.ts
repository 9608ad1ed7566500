// Issue 12, controller mode: a master deposed while alive (cut off from etcd, still running and
// still reachable by the other members) stops its timer delivery. It holds the same pending
// timers as the new master, but when they come due only the new master delivers them: the old
// one, now a slave, writes nothing to its log, which stays the new master's byte for byte.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { startNamesrv } from '../../src/namesrv/index.js';
import { BrokerGroup, controllerArgs, masterOf } from '../helpers/broker-group.js';
import { checkFor } from '../helpers/check-for.js';
import { startEtcd, startTcpProxy, type TcpProxy } from '../helpers/etcd.js';
import type { Standalone } from '../helpers/standalone.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ons, OnsHarness, type OnsOutgoingMessage } from '../compat/helpers/ali-ons.js';
import { pullAll } from '../broker/fixtures/wire.js';

const TOPIC = 'HaTimerDeposed';
type TimedMessage = OnsOutgoingMessage & { setStartDeliverTime(ms: number): void };

function bodies(records: { body: Buffer }[]): string[] {
  return records.map((r) => r.body.toString()).sort();
}

void test('ha timer - issue 12: a master deposed while alive stops delivering timers; only the new master delivers them, the old one writes nothing', async () => {
  using dir = tempDir('apogee-ha-timer-deposed-');
  await using etcd = await startEtcd();
  const ns = await startNamesrv(loadConfig('namesrv', { flags: { listenPort: 0, host: '127.0.0.1' } }));
  // Each member reaches etcd through its own link, so one can be cut off alone.
  const links: TcpProxy[] = [];
  for (let i = 0; i < 3; i++) links.push(await startTcpProxy(etcd.endpoint));
  const common = controllerArgs(etcd.endpoint).filter((a) => !a.startsWith('--etcdEndpoints='));
  const group = new BrokerGroup(
    ns.addresses.namesrv,
    dir.path,
    [1, 2, 3].map((id) => ({ brokerId: id, brokerRole: 'SYNC_MASTER' as const, extra: [`--etcdEndpoints=${links[id - 1].endpoint}`] })),
    'ha-timer-deposed',
    common,
  );
  try {
    await group.startAll();
    const first = await checkFor(15_000, 100, () => masterOf(group, group.members), 'a master elected');
    await group.createTopic(first, TOPIC, 1);
    await checkFor(15_000, 100, async () => (await group.haStatus(first.addr)).syncStateSet.length === 3, 'all three in the stored in-sync set');
    const others = group.members.filter((m) => m !== first);
    await group.waitInSync(first, others.map((m) => m.spec.brokerId));

    // Due once the old master is back as a slave: the old code went on delivering them there.
    await using h = new OnsHarness({ namesrvAddr: ns.addresses.namesrv } as Standalone);
    const producer = await h.producer('GID_ha_timer_deposed_p');
    // 20 s: under a full suite's load, the cut, election and rejoin took over 10 s once.
    const dueAt = Date.now() + 20_000;
    const timers = Array.from({ length: 5 }, (_, i) => `deposed-${i}`);
    for (const body of timers) {
      const msg = new ons.Message(TOPIC, 'T', body) as TimedMessage;
      msg.setStartDeliverTime(dueAt);
      assert.equal((await producer.send(msg)).sendStatus, 'SEND_OK');
    }
    await group.waitInSync(first, others.map((m) => m.spec.brokerId));

    const cutAt = Date.now();
    links[first.spec.brokerId - 1].partition();
    const second = await checkFor(15_000, 50, () => masterOf(group, others), 'a new master elected');
    assert.equal((await group.haStatus(first.addr)).master, false, 'the cut-off master stepped down');
    links[first.spec.brokerId - 1].heal();
    await checkFor(15_000, 100, async () => (await group.haStatus(second.addr)).haConnectionInfo.some((c) => c.brokerId === first.spec.brokerId), 'the old master follows the new one');
    const rejoinedAt = Date.now();
    assert.ok(rejoinedAt < dueAt, `the old master was a slave before the timers were due (${dueAt - rejoinedAt} ms to spare; cut at -${dueAt - cutAt} ms)`);

    await checkFor(35_000, 100, async () => (await pullAll(group.rc, second.addr, TOPIC)).length >= timers.length, 'the new master delivered the timers');
    // The old master's timer loop looks every 100 ms: one second past the due time it has had
    // ten chances to deliver them itself.
    await checkFor(25_000, 50, () => Date.now() >= dueAt + 1000, 'one second past the due time');
    await group.waitInSync(second, [first.spec.brokerId]);
    const onNew = await pullAll(group.rc, second.addr, TOPIC);
    const onOld = await pullAll(group.rc, first.addr, TOPIC);
    assert.deepEqual(bodies(onNew), timers, 'the new master delivered each timer once');
    assert.deepEqual(bodies(onOld), timers, 'the old master holds the new master\'s deliveries and none of its own');
    assert.deepEqual(
      onOld.map((r) => r.commitLogOffset),
      onNew.map((r) => r.commitLogOffset),
      'the same records at the same offsets',
    );
    // And it keeps following: its log is the new master's (other writers, such as the broker's
    // trace of the pulls above, may add records meanwhile, so this polls).
    await group.waitInSync(second, [first.spec.brokerId]);
  } finally {
    await group.close();
    await ns.close();
    for (const l of links) await l.close();
  }
});
