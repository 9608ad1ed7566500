// Issue 12, slaveReadEnable: a pull that finds its offset far behind the log end (RocketMQ: 40 %
// of RAM; here accessMessageInMemoryMaxBytes, small so that a small backlog triggers it) is told
// to pull from a slave next (suggestWhichBrokerId), and a real ali-ons consumer follows: the slave
// serves part of the backlog (counted on the slave), and every message is consumed once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRequest, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { pullOnce } from '../broker/fixtures/wire.js';
import { startClassicGroup, type BrokerGroup } from '../helpers/broker-group.js';
import { checkFor } from '../helpers/check-for.js';
import type { Standalone } from '../helpers/standalone.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ons, OnsHarness, sendAll, type OnsMessage } from '../compat/helpers/ali-ons.js';

const TOPIC = 'HaSlaveReadTopic';
const COUNT = 600;
const BODY = 'x'.repeat(1000);

async function pulledOn(group: BrokerGroup, addr: string): Promise<number> {
  const r = await group.rc.invoke(addr, createRequest(RequestCode.GET_BROKER_RUNTIME_INFO, {}), 5000);
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  const { table } = JSON.parse((r.body as Buffer).toString()) as { table: Record<string, string> };
  return Number(table.msgGetTotalTodayNow);
}

async function backlogOn(group: BrokerGroup, addr: string, queues: number): Promise<number> {
  let n = 0;
  for (let q = 0; q < queues; q++) {
    const r = await group.rc.invoke(addr, createRequest(RequestCode.GET_MAX_OFFSET, { topic: TOPIC, queueId: q }), 5000);
    n += r.code === ResponseCode.SUCCESS ? Number(r.extFields.offset) : 0;
  }
  return n;
}

void test('ha slave read - issue 12: with slaveReadEnable a consumer far behind is sent to a slave, which serves the backlog; every message is consumed once', async (t) => {
  using dir = tempDir('apogee-ha-slave-read-');
  const g = await startClassicGroup({
    dir: dir.path,
    brokerName: 'ha-slave-read',
    members: [
      { brokerId: 0, brokerRole: 'SYNC_MASTER' },
      { brokerId: 1, brokerRole: 'SLAVE' },
    ],
    // 64 KiB behind the log end counts as "no longer in memory": the 600 KB backlog is far behind.
    flags: ['--slaveReadEnable=true', '--accessMessageInMemoryMaxBytes=65536', '--haSlaveSyncMetadataIntervalMs=300', '--traceBrokerEnable=false'],
    topic: TOPIC,
    queues: 2,
  });
  const { ns, group, master } = g;
  try {
    const slave = group.member(1);

    await using h = new OnsHarness({ namesrvAddr: ns.addresses.namesrv } as Standalone);
    const producer = await h.producer('GID_ha_slave_read_p');
    const sent = await sendAll(producer, COUNT, (i) => new ons.Message(TOPIC, 'T', `${i}:${BODY}`), 32);
    assert.ok(sent.every((r) => r.sendStatus === 'SEND_OK'));
    // The slave has the topic (metadata copy) and every message before the consumer starts.
    await checkFor(15_000, 100, async () => (await backlogOn(group, slave.addr, 2)) === COUNT, 'the slave holds the backlog');
    await checkFor(10_000, 100, async () => (await pullOnce(group.rc, slave.addr, { group: 'CG_ha_probe', topic: TOPIC, queueId: 0, offset: 0 })).records.length > 0, 'the slave serves the topic');
    const probe = await pulledOn(group, slave.addr);

    const seen = new Map<number, number>();
    await h.consumer({ consumerGroup: 'GID_ha_slave_read' }, TOPIC, '*', async (m: OnsMessage) => {
      const i = Number(m.body.toString().split(':')[0]);
      seen.set(i, (seen.get(i) ?? 0) + 1);
    });
    await checkFor(60_000, 100, () => seen.size === COUNT, `all ${COUNT} consumed`);
    const fromSlave = (await pulledOn(group, slave.addr)) - probe;
    const fromMaster = await pulledOn(group, master.addr);
    assert.ok(fromSlave > 0, `the slave served pulls of the backlog (slave ${fromSlave}, master ${fromMaster})`);
    assert.ok(fromSlave >= COUNT / 2, `the slave served most of the backlog (slave ${fromSlave}, master ${fromMaster})`);
    t.diagnostic(`slave read: ${fromSlave} messages pulled from the slave, ${fromMaster} from the master`);
    const twice = [...seen].filter(([, n]) => n > 1).map(([i]) => i);
    assert.deepEqual(twice, [], 'no message consumed twice');
  } finally {
    await g.close();
  }
});
