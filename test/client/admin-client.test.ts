import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStandalone } from '../helpers/standalone.js';
import { checkFor } from '../helpers/check-for.js';
import { AdminClient, MQBrokerError, Producer, PermName } from '../../src/client/index.js';

test('admin client - clusterList, createTopic by cluster and by address, topicList, topicRoute, deleteTopic', async () => {
  await using s = await startStandalone();
  const admin = new AdminClient({ namesrvAddr: s.namesrvAddr });
  try {
    const cluster = await admin.clusterList();
    const clusters = Object.keys(cluster.clusterAddrTable);
    assert.equal(clusters.length, 1);
    const [clusterName] = clusters;
    const [brokerName] = cluster.clusterAddrTable[clusterName];
    assert.equal(cluster.brokerAddrTable[brokerName].brokerAddrs['0'], s.brokerAddr);

    await admin.createTopic(clusterName, 'AdminByCluster', { readQueueNums: 3, writeQueueNums: 3, perm: PermName.PERM_READ | PermName.PERM_WRITE });
    await admin.createTopic(s.brokerAddr, 'AdminByAddr', { readQueueNums: 2, writeQueueNums: 2 });
    await checkFor(5000, 20, async () => {
      const list = await admin.topicList();
      return list.includes('AdminByCluster') && list.includes('AdminByAddr');
    }, 'both topics listed');
    const route = await admin.topicRoute('AdminByCluster');
    assert.deepEqual(
      route.queueDatas.map((q) => [q.brokerName, q.readQueueNums, q.writeQueueNums, q.perm]),
      [[brokerName, 3, 3, 6]],
    );
    assert.equal(route.brokerDatas[0].brokerAddrs['0'], s.brokerAddr);
    await assert.rejects(admin.createTopic('NoSuchCluster', 'X'), /cluster NoSuchCluster has no brokers/);

    await admin.deleteTopic(clusterName, 'AdminByAddr');
    await checkFor(5000, 20, async () => !(await admin.topicList()).includes('AdminByAddr'), 'topic gone from the name server');
    await assert.rejects(admin.topicRoute('AdminByAddr'), /no route info/);
  } finally {
    await admin.shutdown();
  }
});

test('admin client - subscription groups and offset searches', async () => {
  await using s = await startStandalone({ autoCreateSubscriptionGroup: false });
  const admin = new AdminClient({ namesrvAddr: s.namesrvAddr });
  const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-admin' });
  try {
    await admin.createTopic(s.brokerAddr, 'AdminOffsets', { readQueueNums: 1, writeQueueNums: 1 });
    await checkFor(5000, 20, () => admin.topicRoute('AdminOffsets').then(() => true), 'route');
    const route = await admin.topicRoute('AdminOffsets');
    const mq = { topic: 'AdminOffsets', brokerName: route.brokerDatas[0].brokerName, queueId: 0 };
    await producer.start();
    const before = Date.now();
    for (let i = 0; i < 3; i++) await producer.send({ topic: 'AdminOffsets', body: `x${i}` });
    assert.equal(await admin.getMaxOffset(mq), 3);
    assert.equal(await admin.getMinOffset(mq), 0);
    assert.equal(await admin.searchOffset(mq, before - 60_000), 0);

    // With auto-creation off, offsets of an unknown group are refused until the group exists.
    const pc = admin.api;
    await assert.rejects(pc.updateConsumerOffset(s.brokerAddr, 'cg-admin', mq, 2, false), (e: unknown) => e instanceof MQBrokerError && e.code === 26);
    await admin.createSubscriptionGroup(s.brokerAddr, { groupName: 'cg-admin', retryMaxTimes: 3 });
    await pc.updateConsumerOffset(s.brokerAddr, 'cg-admin', mq, 2, false);
    assert.equal(await admin.queryConsumerOffset('cg-admin', mq), 2);
    await admin.deleteSubscriptionGroup(s.brokerAddr, 'cg-admin');
    await assert.rejects(pc.updateConsumerOffset(s.brokerAddr, 'cg-admin', mq, 2, false), (e: unknown) => e instanceof MQBrokerError && e.code === 26);
  } finally {
    await producer.shutdown();
    await admin.shutdown();
  }
});
