import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { messageProperties2String } from '../../src/common/index.js';
import { createRequest, RemotingClient, RequestCode, ResponseCode, type ExtInput } from '../../src/remoting/index.js';
import { runApogee } from '../helpers/spawn-apogee.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';

const TOPIC = 'CliAdminTopic';
const GROUP = 'cli_admin_cg';

describe('apogee admin', () => {
  let s: Standalone;
  let client: RemotingClient;
  const call = async (code: number, ext?: ExtInput, body?: Buffer) => {
    const r = await client.invoke(s.brokerAddr, createRequest(code, ext, body));
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    return r;
  };
  const admin = (...args: string[]) => runApogee(['admin', ...args]);

  before(async () => {
    s = await startStandalone();
    client = new RemotingClient();
  });
  after(async () => {
    await client.close();
    await s.close();
  });

  test('admin cli - usage errors exit 2 and name what is wrong', async () => {
    const [noTopic, noTarget, noNamesrv, badNumber] = await Promise.all([
      admin('updateTopic', '-n', s.namesrvAddr, '-c', 'DefaultCluster'),
      admin('updateTopic', '-n', s.namesrvAddr, '-t', TOPIC),
      runApogee(['admin', 'topicList'], { env: { NAMESRV_ADDR: '' } }),
      admin('updateTopic', '-n', s.namesrvAddr, '-b', s.brokerAddr, '-t', TOPIC, '-r', 'many'),
    ]);
    assert.equal(noTopic.code, 2);
    assert.match(noTopic.stderr, /--topic/);
    assert.equal(noTarget.code, 2);
    assert.match(noTarget.stderr, /-c clusterName or -b brokerAddr/);
    assert.equal(noNamesrv.code, 2);
    assert.match(noNamesrv.stderr, /no name server/);
    assert.equal(badNumber.code, 2);
    assert.match(badNumber.stderr, /-r readQueueNums: expected an integer 1\.\.1024, got "many"/);
  });

  test('admin cli - updateTopic on a cluster, then topicList, topicRoute, topicStatus', async () => {
    const up = await admin('updateTopic', '-n', s.namesrvAddr, '-c', 'DefaultCluster', '-t', TOPIC, '-r', '3', '-w', '3');
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, new RegExp(`create topic to ${s.brokerAddr} success\\.`));
    assert.match(up.stdout, /TopicConfig \[topicName=CliAdminTopic, readQueueNums=3, writeQueueNums=3, perm=RW-/);
    const tc = s.controller.topicConfigManager.selectTopicConfig(TOPIC);
    assert.deepEqual([tc?.readQueueNums, tc?.writeQueueNums, tc?.perm], [3, 3, 6]);
    await s.controller.registerBrokerAll();

    // 4 messages to queue 0, 1 to queue 1; the group has consumed 1 and 1.
    for (const queueId of [0, 0, 0, 0, 1]) {
      await call(
        RequestCode.SEND_MESSAGE,
        { producerGroup: 'pg', topic: TOPIC, queueId, sysFlag: 0, bornTimestamp: Date.now(), flag: 0, properties: messageProperties2String({ TAGS: 'a' }) },
        Buffer.from('hello'),
      );
    }
    await call(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: GROUP, topic: TOPIC, queueId: 0, commitOffset: 1 });
    await call(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: GROUP, topic: TOPIC, queueId: 1, commitOffset: 1 });

    const [list, route, status, missing] = await Promise.all([
      admin('topicList', '-n', s.namesrvAddr),
      admin('topicRoute', '-n', s.namesrvAddr, '-t', TOPIC),
      admin('topicStatus', '-n', s.namesrvAddr, '-t', TOPIC),
      admin('topicStatus', '-n', s.namesrvAddr, '-t', 'NoSuchTopic'),
    ]);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(list.stdout.split('\n').includes(TOPIC), list.stdout);

    assert.equal(route.code, 0, route.stderr);
    const r = JSON.parse(route.stdout) as { queueDatas: { brokerName: string; readQueueNums: number }[]; brokerDatas: { brokerAddrs: Record<string, string> }[] };
    assert.deepEqual(r.queueDatas.map((q) => [q.brokerName, q.readQueueNums]), [['broker-a', 3]]);
    assert.equal(r.brokerDatas[0].brokerAddrs['0'], s.brokerAddr);

    assert.equal(status.code, 0, status.stderr);
    const lines = status.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^#Broker Name +#QID +#Min Offset +#Max Offset +#Last Updated$/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 4)),
      [
        ['broker-a', '0', '0', '4'],
        ['broker-a', '1', '0', '1'],
        ['broker-a', '2', '0', '0'],
      ],
    );
    assert.match(lines[1], /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.match(lines[3], / -$/, 'an empty queue was never updated');
    // Columns line up: every row starts its QID where the header does.
    const qidAt = lines[0].indexOf('#QID');
    for (const l of lines.slice(1)) assert.match(l.slice(qidAt), /^\d/);

    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /TOPIC_NOT_EXIST \(code 17\)/);
  });

  test('admin cli - consumerProgress, brokerStatus and clusterList', async () => {
    if (!s.controller.topicConfigManager.selectTopicConfig(TOPIC)) assert.fail('runs after the updateTopic test');
    const [progress, status, clusters] = await Promise.all([
      admin('consumerProgress', '-n', s.namesrvAddr, '-g', GROUP),
      admin('brokerStatus', '-n', s.namesrvAddr, '-b', s.brokerAddr),
      admin('clusterList', '-n', s.namesrvAddr),
    ]);
    assert.equal(progress.code, 0, progress.stderr);
    const rows = progress.stdout.split('\n').filter((l) => l.startsWith(TOPIC)).map((l) => l.split(/\s{2,}/).slice(0, 6));
    assert.deepEqual(rows, [
      [TOPIC, 'broker-a', '0', '4', '1', '3'],
      [TOPIC, 'broker-a', '1', '1', '1', '0'],
      [TOPIC, 'broker-a', '2', '0', '0', '0'],
    ]);
    assert.match(progress.stdout, /^#Topic +#Broker Name +#QID +#Broker Offset +#Consumer Offset +#Diff +#LastTime$/m);
    assert.match(progress.stdout, /^Diff Total: 3$/m);
    assert.match(progress.stdout, /^Consume TPS: \d+\.\d\d$/m);

    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^msgPutTotalTodayNow +: 5$/m);
    assert.match(status.stdout, /^brokerVersionDesc +: V\d/m);
    assert.match(status.stdout, /^putTps +: [\d.]+ [\d.]+ [\d.]+$/m);

    assert.equal(clusters.code, 0, clusters.stderr);
    assert.match(clusters.stdout, /^#Cluster Name +#Broker Name +#BID +#Addr +#Version/m);
    assert.match(clusters.stdout, new RegExp(`^DefaultCluster +broker-a +0 +${s.brokerAddr.replace(/\./g, '\\.')} +V\\d`, 'm'));
  });

  test('admin cli - updateSubGroup and deleteSubGroup change the broker; bad values exit 2', async () => {
    const up = await admin('updateSubGroup', '-n', s.namesrvAddr, '-b', s.brokerAddr, '-g', 'cli_group', '-r', '3', '-o', 'true');
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, new RegExp(`create subscription group to ${s.brokerAddr} success\\.`));
    const g = s.controller.subscriptionGroupManager.get('cli_group');
    assert.deepEqual([g?.retryMaxTimes, g?.consumeMessageOrderly, g?.consumeEnable], [3, true, true]);

    const bad = await admin('updateSubGroup', '-n', s.namesrvAddr, '-b', s.brokerAddr, '-g', 'cli_group', '-r', '99');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-r retryMaxTimes: expected an integer 0\.\.16, got "99"/);

    const del = await admin('deleteSubGroup', '-n', s.namesrvAddr, '-c', 'DefaultCluster', '-g', 'cli_group');
    assert.equal(del.code, 0, del.stderr);
    assert.equal(s.controller.subscriptionGroupManager.get('cli_group'), undefined);
  });

  test('admin cli - unknown cluster and unreachable broker exit 1 naming the cause', async () => {
    const [cluster, broker] = await Promise.all([
      admin('updateTopic', '-n', s.namesrvAddr, '-c', 'NoCluster', '-t', 'X'),
      admin('brokerStatus', '-n', s.namesrvAddr, '-b', '127.0.0.1:1'),
    ]);
    assert.equal(cluster.code, 1);
    assert.match(cluster.stderr, /cluster NoCluster is not registered in the name server \(known: DefaultCluster\)/);
    assert.equal(broker.code, 1);
    assert.match(broker.stderr, /connect to 127\.0\.0\.1:1 failed/);
  });

  test('admin cli - deleteTopic removes the topic from the brokers and the name server', async () => {
    const created = await admin('updateTopic', '-n', s.namesrvAddr, '-b', s.brokerAddr, '-t', 'CliDoomed');
    assert.equal(created.code, 0, created.stderr);
    await s.controller.registerBrokerAll();
    const del = await admin('deleteTopic', '-n', s.namesrvAddr, '-c', 'DefaultCluster', '-t', 'CliDoomed');
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /delete topic \[CliDoomed\] from cluster \[DefaultCluster\] success\./);
    assert.match(del.stdout, /delete topic \[CliDoomed\] from NameServer success\./);
    assert.equal(s.controller.topicConfigManager.selectTopicConfig('CliDoomed'), undefined);
    const route = await admin('topicRoute', '-n', s.namesrvAddr, '-t', 'CliDoomed');
    assert.equal(route.code, 1);
    assert.match(route.stderr, /TOPIC_NOT_EXIST \(code 17\)/);
  });
});
