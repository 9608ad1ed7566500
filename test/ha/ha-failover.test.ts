// Issue 12, controller mode: three `apogee broker` processes elect their master in a real etcd.
// While the real ali-ons producer sends, the master is SIGKILLed; a slave becomes master within
// seconds, the same producer goes on, and a new consumer group reads every acknowledged message.
// The old master comes back as a slave, cuts the tail no one acknowledged, and catches up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { masterOf, startControllerGroup } from '../helpers/broker-group.js';
import { checkFor } from '../helpers/check-for.js';
import { startEtcd } from '../helpers/etcd.js';
import type { Standalone } from '../helpers/standalone.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ons, OnsHarness, type OnsMessage } from '../compat/helpers/ali-ons.js';

const TOPIC = 'FailoverTopic';

void test('ha failover - issue 12: SIGKILL of the master under ali-ons load: a slave takes over within 5 s, nothing acknowledged is lost, the old master rejoins as a slave', async () => {
  using dir = tempDir('apogee-failover-');
  await using etcd = await startEtcd();
  const g = await startControllerGroup({ dir: dir.path, brokerName: 'ha-failover', etcdEndpoint: etcd.endpoint, topic: TOPIC, queues: 2 });
  const { ns, group, master: first } = g;
  try {

    await using h = new OnsHarness({ namesrvAddr: ns.addresses.namesrv } as Standalone);
    const producer = await h.producer('GID_failover_p');
    const acked = new Set<string>();
    let killedAt = 0;
    let firstAckAfterKill = 0;
    const total = 600;
    let next = 0;
    const deadline = Date.now() + 60_000;
    const worker = async (): Promise<void> => {
      while (next < total && Date.now() < deadline) {
        const i = next++;
        const body = `f-${i}`;
        // Each message is sent until it is acknowledged (bounded by the deadline), as an
        // application would; a send that failed may still have been stored (a duplicate later).
        while (Date.now() < deadline) {
          try {
            const r = await producer.send(new ons.Message(TOPIC, 'F', body));
            if (r.sendStatus === 'SEND_OK') {
              acked.add(body);
              if (killedAt && !firstAckAfterKill) firstAckAfterKill = Date.now();
              break;
            }
          } catch {
            // the master is gone; retry
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, worker));
    await checkFor(20_000, 20, () => acked.size >= 200, '200 acknowledged before the kill');
    killedAt = Date.now();
    await first.kill();
    const survivors = group.members.filter((m) => m !== first);
    const second = await checkFor(15_000, 50, () => masterOf(group, survivors), 'a new master elected');
    const electedAfterMs = Date.now() - killedAt;
    await load;
    assert.equal(acked.size, total, 'every message was eventually acknowledged');
    assert.ok(electedAfterMs < 5000, `a slave became master within 5 s (took ${electedAfterMs} ms)`);
    const resumedAfterMs = firstAckAfterKill - killedAt;

    // A new consumer group reads everything acknowledged, before, during and after the kill.
    const seen = new Map<string, number>();
    await h.consumer({ consumerGroup: 'GID_failover_reader' }, TOPIC, '*', async (m: OnsMessage) => {
      seen.set(m.body.toString(), (seen.get(m.body.toString()) ?? 0) + 1);
    });
    await checkFor(30_000, 200, () => [...acked].every((b) => seen.has(b)), `every acknowledged message read (${seen.size} of ${acked.size})`);
    const lost = [...acked].filter((b) => !seen.has(b));
    assert.deepEqual(lost, []);

    // The old master restarts on its directory: it follows the new master and catches up.
    await first.start();
    await checkFor(20_000, 200, async () => {
      const st = await group.haStatus(second.addr);
      return st.haConnectionInfo.some((c) => c.brokerId === first.spec.brokerId && c.inSync && c.slaveAckOffset === st.masterCommitLogMaxOffset);
    }, 'the old master caught up as a slave');
    const old = await group.haStatus(first.addr);
    assert.equal(old.master, false);
    assert.ok(old.epoch > 1, `the old master took the new epoch (${old.epoch})`);
    const dupes = [...seen.values()].filter((n) => n > 1).length;
    console.log(`failover: elected after ${electedAfterMs} ms, first ack after ${resumedAfterMs} ms, acknowledged ${acked.size}, lost ${lost.length}, duplicates seen ${dupes}`);
  } finally {
    await g.close();
  }
});
