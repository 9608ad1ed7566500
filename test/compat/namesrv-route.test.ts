// The real ali-ons 4.x client reads a route from our name server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { loadConfig } from '../../src/config/index.js';
import { startNamesrv } from '../../src/namesrv/index.js';
import {
  RemotingClient,
  RemotingServer,
  RequestCode,
  ResponseCode,
  createResponse,
} from '../../src/remoting/index.js';
import { registerRequest } from '../namesrv/register-body.js';

const require = createRequire(import.meta.url);
// ali-ons ships no types; only the few members used below are touched.
const ons = require('ali-ons') as { Producer: any };

const quietLogger = { info() {}, debug() {}, warn() {}, error() {} };

void test('namesrv route - ali-ons gets broker name, master address and queues from the name server', async (t) => {
  const ns = await startNamesrv(loadConfig('namesrv', { flags: { listenPort: 0, host: '127.0.0.1' } }));
  t.after(() => ns.close());

  // A stand-in broker: ali-ons heartbeats and unregisters against the master it was routed to.
  const seen: number[] = [];
  const broker = new RemotingServer({ host: '127.0.0.1', port: 0 });
  for (const code of [RequestCode.HEART_BEAT, RequestCode.UNREGISTER_CLIENT]) {
    broker.registerProcessor(code, (req) => {
      seen.push(req.code);
      return createResponse(ResponseCode.SUCCESS);
    });
  }
  const { port } = await broker.listen();
  t.after(() => broker.close());
  const brokerAddr = `127.0.0.1:${port}`;

  const registrar = new RemotingClient();
  t.after(() => registrar.close());
  const topic = 'AliOnsRouteTopic';
  const reg = await registrar.invoke(
    ns.addresses.namesrv,
    registerRequest({
      brokerName: 'broker-ons',
      brokerAddr,
      topics: [{ topicName: topic, readQueueNums: 4, writeQueueNums: 3, perm: 6 }],
    }),
  );
  assert.equal(reg.code, ResponseCode.SUCCESS);

  // Short task intervals so ali-ons' background loops notice the close quickly and the process can exit.
  const interval = 200;
  const producer = new ons.Producer({
    nameSrv: ns.addresses.namesrv,
    producerGroup: 'GID_apogee_route_test',
    httpclient: {},
    logger: quietLogger,
    pollNameServerInteval: interval,
    heartbeatBrokerInterval: interval,
    persistConsumerOffsetInterval: interval,
    rebalanceInterval: interval,
  });
  try {
    await producer.ready();
    const info = await producer.tryToFindTopicPublishInfo(topic);
    assert.equal(info.haveTopicRouterInfo, true);
    assert.deepEqual(
      info.messageQueueList.map((mq: { brokerName: string; queueId: number }) => [mq.brokerName, mq.queueId]),
      [
        ['broker-ons', 0],
        ['broker-ons', 1],
        ['broker-ons', 2],
      ],
    );
    const routeData = producer._mqClient._topicRouteTable.get(topic);
    assert.equal(routeData.brokerDatas.length, 1);
    assert.equal(routeData.brokerDatas[0].brokerName, 'broker-ons');
    assert.equal(routeData.brokerDatas[0].brokerAddrs['0'], brokerAddr);
    assert.deepEqual(
      [routeData.queueDatas[0].readQueueNums, routeData.queueDatas[0].writeQueueNums, routeData.queueDatas[0].perm],
      [4, 3, 6],
    );
    assert.deepEqual(producer._mqClient._brokerAddrTable.get('broker-ons'), { '0': brokerAddr });
  } finally {
    await producer.close();
    // ali-ons keeps a process-wide inner producer with its own client; close it too so nothing keeps the loop alive.
    const inner = ons.Producer.defaultProducer;
    if (inner) {
      await inner.close();
      ons.Producer.defaultProducer = null;
    }
  }
  assert.ok(seen.includes(RequestCode.UNREGISTER_CLIENT), 'ali-ons unregistered from the broker it was routed to');
});
