// `apogee proxy` (cluster mode) in front of a topic that lives on two broker groups, driven by the
// real rocketmq-client-nodejs: sends spread over both groups, a consumer receives and acks from
// both (receipt handles name their group), a message group stays on one group in order, and
// transactions are committed and checked back on the group that holds them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/logger.js';
import { loadConfig } from '../../src/config/index.js';
import { startBroker, type BrokerController } from '../../src/broker/index.js';
import { MQClientAPIImpl } from '../../src/client/index.js';
import { startProxy } from '../../src/proxy/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';
import { createGroup, createTopic, GrpcClients, receiveN, pb, type MessageView, type SimpleConsumer } from './helpers/grpc.js';

const { TransactionResolution } = pb;
const BROKER = { transactionCheckInterval: 300, transactionTimeOut: 500 };

/** Messages a broker stored for a topic, over its queues. */
function storedOn(c: BrokerController, topic: string, queues: number): number {
  let n = 0;
  for (let q = 0; q < queues; q++) n += c.store.getMaxOffsetInQueue(topic, q);
  return n;
}

describe('grpc cluster proxy over two broker groups', () => {
  test('grpc cluster two groups - send spreads, receive and ack reach both groups, FIFO keeps one group, transactions end where they are', async () => {
    await using a = await startStandalone({ ...BROKER, brokerName: 'broker-a' });
    const dirB = mkdtempSync(join(tmpdir(), 'apogee-b-'));
    const b = await startBroker(
      loadConfig('broker', {
        flags: { ...BROKER, brokerName: 'broker-b', brokerIP1: '127.0.0.1', host: '127.0.0.1', listenPort: 0, namesrvAddr: a.namesrvAddr, storePathRootDir: dirB, mappedFileSizeCommitLog: 64 * 1024 * 1024 },
      }),
      { logger: silentLogger },
    );
    const bAsStandalone = { brokerAddr: b.addresses.broker } as Standalone;
    let clients: GrpcClients | undefined;
    let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
    try {
      for (const s of [a, bAsStandalone]) {
        await createTopic(s, 'TgNormal', 'NORMAL', 2);
        await createTopic(s, 'TgFifo', 'FIFO', 2);
        await createTopic(s, 'TgTx', 'TRANSACTION', 2);
        await createGroup(s, 'tg-group');
        await createGroup(s, 'tg-fifo', { consumeMessageOrderly: true });
      }
      // Both groups registered for every topic before the proxy caches a route.
      const ns = new MQClientAPIImpl({ namesrvAddr: a.namesrvAddr, logger: silentLogger });
      try {
        for (const t of ['TgNormal', 'TgFifo', 'TgTx']) {
          await checkFor(10_000, 50, async () => (await ns.getTopicRouteInfoFromNameServer(t))?.queueDatas.length === 2);
        }
      } finally {
        await ns.close();
      }
      proxy = await startProxy(loadConfig('proxy', { flags: { namesrvAddr: a.namesrvAddr, grpcServerPort: 0, host: '127.0.0.1', proxyMode: 'cluster' } }));
      clients = new GrpcClients(proxy.addresses.grpc);
      // One topic per client: the client can hang at startup when it routes several topics at once.
      const consumerOf = (topic: string, group: string): Promise<SimpleConsumer> => clients!.simpleConsumer(group, { [topic]: '*' }, 500);

      // Normal messages: spread over both groups, all received once, all acks reach their group.
      const producer = await clients.producer('TgNormal');
      const sentIds = new Set<string>();
      for (let i = 0; i < 40; i++) sentIds.add((await producer.send({ topic: 'TgNormal', tag: 'T', body: Buffer.from(`n${i}`) })).messageId);
      const onA = storedOn(a.controller, 'TgNormal', 2);
      const onB = storedOn(b.controller, 'TgNormal', 2);
      assert.equal(onA + onB, 40);
      assert.ok(onA >= 10 && onB >= 10, `sends are spread over both groups (a ${onA}, b ${onB})`);
      const consumer = await consumerOf('TgNormal', 'tg-group');
      const got = await receiveN(consumer, 40, 30_000);
      assert.deepEqual(new Set(got.map((m) => m.messageId)), sentIds, 'every message received, from both groups');
      for (const m of got) assert.match(m.receiptHandle, /^b1 broker-[ab] /, 'the handle names its group');
      assert.equal(a.controller.popService.inflightCount('tg-group'), 0, 'acks reached broker-a');
      assert.equal(b.controller.popService.inflightCount('tg-group'), 0, 'acks reached broker-b');

      // FIFO: each message group lands on one group and one queue, and arrives in order.
      const fifoProducer = await clients.producer('TgFifo');
      for (let i = 0; i < 8; i++) {
        for (const g of ['order-1', 'order-2', 'order-3']) await fifoProducer.send({ topic: 'TgFifo', messageGroup: g, body: Buffer.from(`${g}:${i}`) });
      }
      const fifoConsumer = await consumerOf('TgFifo', 'tg-fifo');
      const fifo = await receiveN(fifoConsumer, 24, 30_000);
      assert.equal(fifo.length, 24);
      for (const g of ['order-1', 'order-2', 'order-3']) {
        const bodies = fifo.filter((m) => m.messageGroup === g).map((m) => m.body.toString());
        assert.deepEqual(bodies, Array.from({ length: 8 }, (_, i) => `${g}:${i}`), `message group ${g} in order`);
        const groups = new Set(fifo.filter((m) => m.messageGroup === g).map((m) => m.receiptHandle.split(' ')[1]));
        assert.equal(groups.size, 1, `message group ${g} stays on one broker group`);
      }

      // Transactions: four sends cover every write queue of both groups. Two are committed by the
      // producer (END_TRANSACTION to the group that holds each), two are left unknown and committed
      // when their group checks back (CHECK_TRANSACTION_STATE names it, bname).
      const checked: string[] = [];
      const txProducer = await clients.producer('TgTx', {
        checker: {
          check: (v: MessageView) => {
            checked.push(v.messageId);
            return Promise.resolve(TransactionResolution.COMMIT);
          },
        },
      });
      const txIds: string[] = [];
      for (let i = 0; i < 4; i++) {
        const tx = txProducer.beginTransaction();
        const r = await txProducer.send({ topic: 'TgTx', tag: i < 2 ? 'committed' : 'checked', body: Buffer.from(`tx${i}`) }, tx);
        txIds.push(r.messageId);
        if (i < 2) await tx.commit();
      }
      assert.equal(storedOn(a.controller, 'RMQ_SYS_TRANS_HALF_TOPIC', 1) + storedOn(b.controller, 'RMQ_SYS_TRANS_HALF_TOPIC', 1) >= 4, true);
      assert.ok(storedOn(a.controller, 'RMQ_SYS_TRANS_HALF_TOPIC', 1) >= 1 && storedOn(b.controller, 'RMQ_SYS_TRANS_HALF_TOPIC', 1) >= 1, 'half messages on both groups');
      const txConsumer = await consumerOf('TgTx', 'tg-group');
      const txGot = await receiveN(txConsumer, 4, 30_000);
      assert.deepEqual(new Set(txGot.map((m) => m.messageId)), new Set(txIds), 'committed and checked-back transactions are all delivered');
      for (const id of txIds.slice(2)) assert.ok(checked.includes(id), `transaction ${id} was checked back through the proxy`);
    } finally {
      await clients?.close();
      await proxy?.close();
      await b.close();
      rmSync(dirB, { recursive: true, force: true });
    }
  });
});
