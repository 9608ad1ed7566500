import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteInfoManager, PermName, type RegisterBrokerBody } from '../../src/namesrv/index.js';
import { newTopicConfig } from '../../src/remoting/protocol/index.js';

function body(counter: number, stateVersion = 0, topics: [string, number][] = [['T', 4]]): RegisterBrokerBody {
  const topicConfigTable = new Map(topics.map(([topicName, n]) => [topicName, newTopicConfig(topicName, n)]));
  return { dataVersion: { timestamp: 1, counter, stateVersion }, topicConfigTable, filterServerList: [] };
}

const base = { clusterName: 'C', brokerName: 'b', haServerAddr: '' };

void describe('route info manager', () => {
  void test('route info manager - losing the master of an acting-master group removes write permission', () => {
    const m = new RouteInfoManager();
    m.registerBroker({ ...base, brokerAddr: 'm:1', brokerId: 0, enableActingMaster: true, body: body(1) });
    m.registerBroker({ ...base, brokerAddr: 's:1', brokerId: 1, enableActingMaster: true, body: body(1) });
    m.unregisterBroker({ clusterName: 'C', brokerName: 'b', brokerAddr: 'm:1', brokerId: 0 });
    const r = m.pickupTopicRouteData('T')!;
    assert.equal(r.queueDatas[0].perm & PermName.PERM_WRITE, 0);
    assert.equal(r.queueDatas[0].perm & PermName.PERM_READ, PermName.PERM_READ);
    assert.deepEqual(r.brokerDatas[0].brokerAddrs, { '1': 's:1' });
  });

  void test('route info manager - without acting master, losing the master keeps the slave-only route as is', () => {
    const m = new RouteInfoManager();
    m.registerBroker({ ...base, brokerAddr: 'm:1', brokerId: 0, body: body(1) });
    m.registerBroker({ ...base, brokerAddr: 's:1', brokerId: 1, body: body(1) });
    m.unregisterBroker({ clusterName: 'C', brokerName: 'b', brokerAddr: 'm:1', brokerId: 0 });
    assert.equal(m.pickupTopicRouteData('T')!.queueDatas[0].perm, 6);
  });

  void test('route info manager - a slave promoted to master keeps one entry per address', () => {
    const m = new RouteInfoManager();
    m.registerBroker({ ...base, brokerAddr: 's:1', brokerId: 1, body: body(1) });
    m.registerBroker({ ...base, brokerAddr: 's:1', brokerId: 0, body: body(2) });
    assert.deepEqual(m.getAllClusterInfo().brokerAddrTable.b.brokerAddrs, { '0': 's:1' });
  });

  void test('route info manager - an old-state broker cannot take an id held by a newer state', () => {
    const m = new RouteInfoManager();
    assert.ok(m.registerBroker({ ...base, brokerAddr: 'new:1', brokerId: 0, body: body(1, 5) }));
    assert.equal(m.registerBroker({ ...base, brokerAddr: 'old:1', brokerId: 0, body: body(1, 3) }), null);
    assert.deepEqual(m.getAllClusterInfo().brokerAddrTable.b.brokerAddrs, { '0': 'new:1' });
  });

  void test('route info manager - expiry uses the injected clock and the broker\'s own timeout', () => {
    let now = 0;
    const closed: string[] = [];
    const m = new RouteInfoManager({ now: () => now, brokerChannelExpiredTime: 100 });
    m.registerBroker({ ...base, brokerAddr: 'a:1', brokerId: 0, body: body(1), channel: { close: () => closed.push('a') } });
    m.registerBroker({ ...base, brokerName: 'c', brokerAddr: 'c:1', brokerId: 0, heartbeatTimeoutMillis: 1000, body: body(1) });
    now = 100;
    assert.deepEqual(m.scanNotActiveBroker(), []);
    now = 101;
    assert.deepEqual(m.scanNotActiveBroker().map((b) => b.brokerAddr), ['a:1']);
    assert.deepEqual(closed, ['a']);
    assert.deepEqual(m.pickupTopicRouteData('T')!.brokerDatas.map((b) => b.brokerName), ['c']);
  });
});
