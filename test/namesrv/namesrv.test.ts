import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type RawValue, type RoleHandle } from '../../src/config/index.js';
import { startNamesrv, type TopicRouteData } from '../../src/namesrv/index.js';
import {
  RemotingClient,
  RequestCode,
  ResponseCode,
  bodyOf,
  createRequest,
  type RemotingCommand,
} from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { tempDir } from '../helpers/temp-dir.js';
import { registerRequest, type BrokerSpec } from './register-body.js';

interface Fixture {
  ns: RoleHandle;
  addr: string;
  /** A fresh client (one connection = one broker channel); closed after the test. */
  client(): RemotingClient;
  call(code: number, ext?: Record<string, string | number | boolean | undefined>, body?: Buffer): Promise<RemotingCommand>;
}

async function setup(t: TestContext, flags: Record<string, RawValue> = {}, now?: () => number): Promise<Fixture> {
  const config = loadConfig('namesrv', { flags: { listenPort: 0, host: '127.0.0.1', ...flags } });
  const ns = await startNamesrv(config, { now });
  const clients: RemotingClient[] = [];
  t.after(async () => {
    for (const c of clients) await c.close();
    await ns.close();
  });
  const client = (): RemotingClient => {
    const c = new RemotingClient();
    clients.push(c);
    return c;
  };
  const shared = client();
  const addr = ns.addresses.namesrv;
  return {
    ns,
    addr,
    client,
    call: (code, ext, body) => shared.invoke(addr, createRequest(code, ext, body), 3000),
  };
}

const brokerA: BrokerSpec = {
  brokerName: 'broker-a',
  brokerAddr: '127.0.0.1:10911',
  topics: [
    { topicName: 'TopicA', readQueueNums: 8, writeQueueNums: 8, perm: 6 },
    { topicName: 'Shared', readQueueNums: 4, writeQueueNums: 4, perm: 6 },
  ],
};
const brokerB: BrokerSpec = {
  clusterName: 'OtherCluster',
  brokerName: 'broker-b',
  brokerAddr: '127.0.0.1:20911',
  topics: [
    { topicName: 'TopicB', readQueueNums: 2, writeQueueNums: 1, perm: 4 },
    { topicName: 'Shared', readQueueNums: 3, writeQueueNums: 3, perm: 6 },
  ],
};

function expectOk(res: RemotingCommand): RemotingCommand {
  assert.equal(res.code, ResponseCode.SUCCESS, `expected SUCCESS, got ${res.code} ${res.remark ?? ''}`);
  return res;
}

async function route(f: Fixture, topic: string): Promise<TopicRouteData> {
  const res = expectOk(await f.call(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }));
  return JSON.parse(bodyOf(res).toString()) as TopicRouteData;
}

async function register(f: Fixture, b: BrokerSpec, opts: { compressed?: boolean } = {}, c = f.client()): Promise<RemotingCommand> {
  return expectOk(await c.invoke(f.addr, registerRequest(b, opts), 3000));
}

void describe('namesrv', () => {
  void test('namesrv - a plain registration yields a route with quoted "0" keys and both lists', async (t) => {
    const f = await setup(t);
    await register(f, brokerA);
    const res = expectOk(await f.call(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicA' }));
    const text = bodyOf(res).toString();
    assert.match(text, /"brokerAddrs":\{"0":"127\.0\.0\.1:10911"\}/);
    assert.deepEqual(JSON.parse(text), {
      brokerDatas: [
        { brokerAddrs: { '0': '127.0.0.1:10911' }, brokerName: 'broker-a', cluster: 'DefaultCluster', enableActingMaster: false },
      ],
      filterServerTable: {},
      queueDatas: [{ brokerName: 'broker-a', perm: 6, readQueueNums: 8, topicSysFlag: 0, writeQueueNums: 8 }],
    });
  });

  void test('namesrv - a compressed registration (Java deflate form) is decoded', async (t) => {
    const f = await setup(t);
    await register(f, brokerA);
    await register(f, brokerB, { compressed: true });
    const r = await route(f, 'TopicB');
    assert.deepEqual(r.queueDatas, [{ brokerName: 'broker-b', perm: 4, readQueueNums: 2, topicSysFlag: 0, writeQueueNums: 1 }]);
    assert.equal(r.brokerDatas[0].cluster, 'OtherCluster');
    const shared = await route(f, 'Shared');
    assert.deepEqual(shared.queueDatas.map((q) => [q.brokerName, q.readQueueNums]).sort(), [
      ['broker-a', 4],
      ['broker-b', 3],
    ]);
    assert.equal(shared.brokerDatas.length, 2);
  });

  void test('namesrv - cluster info, topic list and topics by cluster', async (t) => {
    const f = await setup(t);
    await register(f, brokerA);
    await register(f, brokerB);
    const info = JSON.parse(bodyOf(expectOk(await f.call(RequestCode.GET_BROKER_CLUSTER_INFO))).toString());
    assert.deepEqual(info.clusterAddrTable, { DefaultCluster: ['broker-a'], OtherCluster: ['broker-b'] });
    assert.deepEqual(info.brokerAddrTable['broker-b'].brokerAddrs, { '0': '127.0.0.1:20911' });

    const all = JSON.parse(bodyOf(expectOk(await f.call(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER))).toString());
    assert.deepEqual(all.topicList.sort(), ['Shared', 'TopicA', 'TopicB']);

    const byCluster = async (cluster: string): Promise<string[]> =>
      JSON.parse(bodyOf(expectOk(await f.call(RequestCode.GET_TOPICS_BY_CLUSTER, { cluster }))).toString()).topicList.sort();
    assert.deepEqual(await byCluster('OtherCluster'), ['Shared', 'TopicB']);
    assert.deepEqual(await byCluster('DefaultCluster'), ['Shared', 'TopicA']);
    assert.deepEqual(await byCluster('NoCluster'), []);
  });

  void test('namesrv - unknown topic answers TOPIC_NOT_EXIST with RocketMQ\'s remark', async (t) => {
    const f = await setup(t);
    const res = await f.call(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'Nope' });
    assert.equal(res.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.equal(res.remark, 'No topic route info in name server for the topic: Nope');
  });

  void test('namesrv - delete topic everywhere or per cluster; register topic for a known broker', async (t) => {
    const f = await setup(t);
    await register(f, brokerA);
    await register(f, brokerB);
    expectOk(await f.call(RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic: 'Shared', clusterName: 'OtherCluster' }));
    assert.deepEqual((await route(f, 'Shared')).queueDatas.map((q) => q.brokerName), ['broker-a']);
    expectOk(await f.call(RequestCode.DELETE_TOPIC_IN_NAMESRV, { topic: 'TopicA' }));
    assert.equal((await f.call(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicA' })).code, ResponseCode.TOPIC_NOT_EXIST);

    const body = Buffer.from(
      JSON.stringify({
        queueDatas: [
          { brokerName: 'broker-b', readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 },
          { brokerName: 'ghost', readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 },
        ],
      }),
    );
    expectOk(await f.call(RequestCode.REGISTER_TOPIC_IN_NAMESRV, { topic: 'NewTopic' }, body));
    const r = await route(f, 'NewTopic');
    assert.deepEqual(r.queueDatas.map((q) => q.brokerName), ['broker-b'], 'queue data of unknown brokers is ignored');
    assert.equal(r.brokerDatas[0].brokerAddrs['0'], '127.0.0.1:20911');
  });

  void test('namesrv - a slave registration learns the master and its HA address', async (t) => {
    const f = await setup(t);
    await register(f, { ...brokerA, haServerAddr: '127.0.0.1:10912' });
    const res = await register(f, { ...brokerA, brokerAddr: '127.0.0.1:10921', brokerId: 1, topics: [] });
    assert.equal(res.extFields.masterAddr, '127.0.0.1:10911');
    assert.equal(res.extFields.haServerAddr, '127.0.0.1:10912');
    const r = await route(f, 'TopicA');
    assert.deepEqual(r.brokerDatas[0].brokerAddrs, { '0': '127.0.0.1:10911', '1': '127.0.0.1:10921' });
  });

  void test('namesrv - unregister removes the broker and its queues', async (t) => {
    const f = await setup(t);
    await register(f, brokerA);
    await register(f, brokerB);
    expectOk(
      await f.call(RequestCode.UNREGISTER_BROKER, {
        brokerName: 'broker-a',
        brokerAddr: '127.0.0.1:10911',
        clusterName: 'DefaultCluster',
        brokerId: 0,
      }),
    );
    assert.equal((await f.call(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicA' })).code, ResponseCode.TOPIC_NOT_EXIST);
    assert.deepEqual((await route(f, 'Shared')).queueDatas.map((q) => q.brokerName), ['broker-b']);
    const info = JSON.parse(bodyOf(expectOk(await f.call(RequestCode.GET_BROKER_CLUSTER_INFO))).toString());
    assert.deepEqual(Object.keys(info.clusterAddrTable), ['OtherCluster']);
  });

  void test('namesrv - a broker whose connection closes is dropped', async (t) => {
    const f = await setup(t);
    const conn = f.client();
    await register(f, brokerA, {}, conn);
    await register(f, brokerB);
    await conn.close();
    await checkFor(3000, 20, async () => (await f.call(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicA' })).code === ResponseCode.TOPIC_NOT_EXIST, 'broker-a dropped');
    assert.equal((await route(f, 'TopicB')).brokerDatas[0].brokerName, 'broker-b');
  });

  void test('namesrv - silent brokers expire after brokerChannelExpiredTime; heartbeats keep them', async (t) => {
    let clock = 1_000_000;
    const f = await setup(t, { brokerChannelExpiredTime: 1000, scanNotActiveBrokerInterval: 20 }, () => clock);
    await register(f, brokerA);
    await register(f, { ...brokerB, heartbeatTimeoutMillis: 5000 });
    clock += 900;
    expectOk(
      await f.call(RequestCode.BROKER_HEARTBEAT, { clusterName: 'DefaultCluster', brokerAddr: '127.0.0.1:10911', brokerName: 'broker-a' }),
    );
    clock += 900; // 1800 since registering, 900 since the heartbeat
    await new Promise((r) => setTimeout(r, 100)); // several scans run at this clock
    assert.equal((await route(f, 'TopicA')).brokerDatas.length, 1);
    clock += 200;
    await checkFor(3000, 20, async () => (await f.call(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicA' })).code === ResponseCode.TOPIC_NOT_EXIST, 'broker-a expired');
    assert.equal((await route(f, 'TopicB')).brokerDatas.length, 1, 'broker-b has its own 5 s timeout');
    clock += 5000;
    await checkFor(3000, 20, async () => (await f.call(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicB' })).code === ResponseCode.TOPIC_NOT_EXIST, 'broker-b expired');
  });

  void test('namesrv - QUERY_DATA_VERSION says whether the broker\'s topics changed', async (t) => {
    const f = await setup(t);
    await register(f, { ...brokerA, dataVersion: { timestamp: 5, counter: 7 } });
    const ask = (dv: object) =>
      f.call(RequestCode.QUERY_DATA_VERSION, { brokerName: 'broker-a', brokerAddr: '127.0.0.1:10911', clusterName: 'DefaultCluster', brokerId: 0 }, Buffer.from(JSON.stringify(dv)));
    const same = expectOk(await ask({ timestamp: 5, counter: 7, stateVersion: 0 }));
    assert.equal(same.extFields.changed, 'false');
    assert.deepEqual(JSON.parse(bodyOf(same).toString()), { timestamp: 5, counter: 7, stateVersion: 0 });
    assert.equal(expectOk(await ask({ timestamp: 5, counter: 8 })).extFields.changed, 'true');
  });

  void test('namesrv - re-registration with a new data version updates queues; the same version does not', async (t) => {
    const f = await setup(t);
    const conn = f.client();
    await register(f, { ...brokerA, dataVersion: { timestamp: 1, counter: 1 } }, {}, conn);
    const grown = { ...brokerA, topics: [{ topicName: 'TopicA', readQueueNums: 16, writeQueueNums: 16, perm: 6 }] };
    await register(f, { ...grown, dataVersion: { timestamp: 1, counter: 1 } }, {}, conn);
    assert.equal((await route(f, 'TopicA')).queueDatas[0].readQueueNums, 8);
    await register(f, { ...grown, dataVersion: { timestamp: 1, counter: 2 } }, { compressed: true }, conn);
    assert.equal((await route(f, 'TopicA')).queueDatas[0].readQueueNums, 16);
  });

  void test('namesrv - KV config put/get/list/delete, persisted across restarts, and orderTopicConf', async (t) => {
    using dir = tempDir();
    const kvConfigPath = join(dir.path, 'namesrv', 'kvConfig.json');
    {
      const f = await setup(t, { kvConfigPath, orderMessageEnable: true });
      expectOk(await f.call(RequestCode.PUT_KV_CONFIG, { namespace: 'ORDER_TOPIC_CONFIG', key: 'TopicA', value: 'broker-a:4' }));
      expectOk(await f.call(RequestCode.PUT_KV_CONFIG, { namespace: 'NS', key: 'k1', value: 'v1' }));
      expectOk(await f.call(RequestCode.PUT_KV_CONFIG, { namespace: 'NS', key: 'k2', value: 'v2' }));
      assert.equal(expectOk(await f.call(RequestCode.GET_KV_CONFIG, { namespace: 'NS', key: 'k1' })).extFields.value, 'v1');
      expectOk(await f.call(RequestCode.DELETE_KV_CONFIG, { namespace: 'NS', key: 'k1' }));
      const missing = await f.call(RequestCode.GET_KV_CONFIG, { namespace: 'NS', key: 'k1' });
      assert.equal(missing.code, ResponseCode.QUERY_NOT_FOUND);
      assert.equal(missing.remark, 'No config item, Namespace: NS Key: k1');
      const list = expectOk(await f.call(RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace: 'NS' }));
      assert.deepEqual(JSON.parse(bodyOf(list).toString()), { table: { k2: 'v2' } });
      assert.equal((await f.call(RequestCode.GET_KVLIST_BY_NAMESPACE, { namespace: 'Empty' })).code, ResponseCode.QUERY_NOT_FOUND);

      const reg = await register(f, brokerA);
      assert.deepEqual(JSON.parse(bodyOf(reg).toString()), { table: { TopicA: 'broker-a:4' } });
      assert.equal((await route(f, 'TopicA')).orderTopicConf, 'broker-a:4');
      assert.equal((await route(f, 'Shared')).orderTopicConf, undefined);
      await f.ns.close();
    }
    assert.ok(existsSync(kvConfigPath));
    assert.ok(!existsSync(`${kvConfigPath}.tmp`));
    assert.deepEqual(JSON.parse(readFileSync(kvConfigPath, 'utf8')), {
      configTable: { ORDER_TOPIC_CONFIG: { TopicA: 'broker-a:4' }, NS: { k2: 'v2' } },
    });
    const again = await setup(t, { kvConfigPath });
    assert.equal(expectOk(await again.call(RequestCode.GET_KV_CONFIG, { namespace: 'NS', key: 'k2' })).extFields.value, 'v2');
    await register(again, brokerA);
    assert.equal((await route(again, 'TopicA')).orderTopicConf, undefined, 'orderTopicConf only with orderMessageEnable');
  });

  void test('namesrv - two name servers keep independent state', async (t) => {
    const one = await setup(t);
    const two = await setup(t);
    assert.notEqual(one.addr, two.addr);
    await register(one, brokerA);
    await register(two, brokerB);
    assert.equal((await route(one, 'TopicA')).brokerDatas[0].brokerName, 'broker-a');
    assert.equal((await one.call(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicB' })).code, ResponseCode.TOPIC_NOT_EXIST);
    assert.equal((await two.call(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicA' })).code, ResponseCode.TOPIC_NOT_EXIST);
  });

  void test('namesrv - bad input gets a clear code and remark and the server stays up', async (t) => {
    const f = await setup(t);
    const c = f.client();
    const crc = await c.invoke(f.addr, registerRequest(brokerA, { crc: 12345 }), 3000);
    assert.equal(crc.code, ResponseCode.SYSTEM_ERROR);
    assert.equal(crc.remark, 'crc32 not match');

    const junk = await c.invoke(f.addr, registerRequest(brokerA, { body: Buffer.from('{"topicConfigSerializeWrapper":') }), 3000);
    assert.equal(junk.code, ResponseCode.INVALID_PARAMETER);
    assert.match(junk.remark ?? '', /malformed body: body is not valid JSON/);

    const notDeflate = await c.invoke(f.addr, registerRequest(brokerA, { compressed: true, body: Buffer.from('not zlib') }), 3000);
    assert.equal(notDeflate.code, ResponseCode.INVALID_PARAMETER);
    assert.match(notDeflate.remark ?? '', /does not inflate/);

    const noName = await f.call(RequestCode.REGISTER_BROKER, { brokerAddr: '1.2.3.4:1', clusterName: 'C', brokerId: 0 });
    assert.equal(noName.code, ResponseCode.INVALID_PARAMETER);
    assert.match(noName.remark ?? '', /brokerName/);

    const badId = await f.call(RequestCode.UNREGISTER_BROKER, { brokerName: 'b', brokerAddr: 'a:1', clusterName: 'C', brokerId: 'x' });
    assert.equal(badId.code, ResponseCode.INVALID_PARAMETER);
    assert.match(badId.remark ?? '', /brokerId/);

    const noTopic = await f.call(RequestCode.GET_ROUTEINFO_BY_TOPIC, {});
    assert.equal(noTopic.code, ResponseCode.INVALID_PARAMETER);

    const badTopicBody = await f.call(RequestCode.REGISTER_TOPIC_IN_NAMESRV, { topic: 'T' }, Buffer.from('[1,2'));
    assert.equal(badTopicBody.code, ResponseCode.INVALID_PARAMETER);

    // Nothing above registered anything, and the server still serves.
    assert.equal((await f.call(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: 'TopicA' })).code, ResponseCode.TOPIC_NOT_EXIST);
    await register(f, brokerA, {}, c);
    assert.equal((await route(f, 'TopicA')).queueDatas[0].writeQueueNums, 8);
  });
});
