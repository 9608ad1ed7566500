// Issue 12, controller mode with the 5.x client: the real rocketmq-client-nodejs producer and
// simple consumer talk to `apogee proxy` (cluster mode) in front of a three-member broker group.
// The master is SIGKILLed while the producer sends; the proxy follows the new master through the
// name server, the same producer goes on, and everything acknowledged is received.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { startNamesrv } from '../../src/namesrv/index.js';
import { startProxy } from '../../src/proxy/index.js';
import { BrokerGroup, controllerArgs, masterOf } from '../helpers/broker-group.js';
import { checkFor } from '../helpers/check-for.js';
import { startEtcd } from '../helpers/etcd.js';
import { tempDir } from '../helpers/temp-dir.js';
import { GrpcClients } from '../compat/helpers/grpc.js';
import { createRequest, RequestCode } from '../../src/remoting/index.js';

const TOPIC = 'GrpcFailoverTopic';

void test('ha failover grpc - issue 12: the 5.x client through apogee proxy keeps sending across a master SIGKILL; nothing acknowledged is lost', async () => {
  using dir = tempDir('apogee-failover-grpc-');
  await using etcd = await startEtcd();
  const ns = await startNamesrv(loadConfig('namesrv', { flags: { listenPort: 0, host: '127.0.0.1' } }));
  const group = new BrokerGroup(ns.addresses.namesrv, dir.path, [1, 2, 3].map((id) => ({ brokerId: id, brokerRole: 'SYNC_MASTER' as const })), 'ha-grpc', controllerArgs(etcd.endpoint));
  let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
  let clients: GrpcClients | undefined;
  try {
    await group.startAll();
    const first = await checkFor(15_000, 100, () => masterOf(group, group.members), 'a master elected');
    await group.createTopic(first, TOPIC, 2);
    const sub = Buffer.from(JSON.stringify({ groupName: 'ha-grpc-readers', retryMaxTimes: 16 }));
    await group.rc.invoke(first.addr, createRequest(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, sub));
    await group.waitInSync(first, group.members.filter((m) => m !== first).map((m) => m.spec.brokerId));
    proxy = await startProxy(loadConfig('proxy', { flags: { namesrvAddr: ns.addresses.namesrv, grpcServerPort: 0, host: '127.0.0.1', proxyMode: 'cluster' } }));
    clients = new GrpcClients(proxy.addresses.grpc!);
    const producer = await clients.producer(TOPIC);

    const acked = new Set<string>();
    const total = 300;
    let next = 0;
    let killedAt = 0;
    let firstAckAfterKill = 0;
    const deadline = Date.now() + 60_000;
    const worker = async (): Promise<void> => {
      while (next < total && Date.now() < deadline) {
        const body = `g-${next++}`;
        while (Date.now() < deadline) {
          try {
            await producer.send({ topic: TOPIC, tag: 'G', body: Buffer.from(body) });
            acked.add(body);
            if (killedAt && !firstAckAfterKill) firstAckAfterKill = Date.now();
            break;
          } catch {
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      }
    };
    const load = Promise.all(Array.from({ length: 4 }, worker));
    await checkFor(30_000, 20, () => acked.size >= 100, '100 acknowledged before the kill');
    killedAt = Date.now();
    await first.kill();
    const survivors = group.members.filter((m) => m !== first);
    await checkFor(15_000, 50, () => masterOf(group, survivors), 'a new master elected');
    const electedAfterMs = Date.now() - killedAt;
    await load;
    assert.equal(acked.size, total, 'every message was eventually acknowledged');
    assert.ok(electedAfterMs < 5000, `a slave became master within 5 s (took ${electedAfterMs} ms)`);

    const consumer = await clients.simpleConsumer('ha-grpc-readers', { [TOPIC]: '*' });
    const seen = new Set<string>();
    const until = Date.now() + 30_000;
    while ([...acked].some((b) => !seen.has(b)) && Date.now() < until) {
      for (const m of await consumer.receive(32, 10_000)) {
        seen.add(m.body.toString());
        await consumer.ack(m);
      }
    }
    const lost = [...acked].filter((b) => !seen.has(b));
    assert.deepEqual(lost, [], 'every acknowledged message received');
    console.log(`grpc failover: elected after ${electedAfterMs} ms, first ack after ${firstAckAfterKill - killedAt} ms, acknowledged ${acked.size}, lost ${lost.length}`);
  } finally {
    await clients?.close();
    await proxy?.close();
    await group.close();
    await ns.close();
  }
});
