// `apogee proxy` in cluster mode: the gRPC endpoint as a process of its own, reaching the broker
// over remoting through the name server, driven by the real rocketmq-client-nodejs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.js';
import { startProxy } from '../../src/proxy/index.js';
import { startStandalone } from '../helpers/standalone.js';
import { spawnApogee } from '../helpers/spawn-apogee.js';
import { createGroup, createTopic, GrpcClients, receiveN, pb, type MessageView, type SimpleConsumer } from './helpers/grpc.js';

const { TransactionResolution } = pb;

describe('grpc cluster proxy', () => {
  test('grpc cluster proxy - send, receive, ack and a checked-back transaction through a separate proxy', async () => {
    await using s = await startStandalone({ transactionCheckInterval: 300, transactionTimeOut: 500 });
    await createTopic(s, 'CpNormal', 'NORMAL');
    await createTopic(s, 'CpTx', 'TRANSACTION');
    await createGroup(s, 'cp-group');
    const proxy = await startProxy(loadConfig('proxy', { flags: { namesrvAddr: s.namesrvAddr, grpcServerPort: 0, host: '127.0.0.1', proxyMode: 'cluster' } }));
    const clients = new GrpcClients(proxy.addresses.grpc);
    try {
      const producer = await clients.producer('CpNormal');
      const sent = await producer.send({ topic: 'CpNormal', tag: 'TagA', keys: ['k1'], body: Buffer.from('via cluster proxy') });
      // One topic per client: the client can hang at startup when it routes several topics at once.
      const consumerOf = (topic: string): Promise<SimpleConsumer> => clients.simpleConsumer('cp-group', { [topic]: '*' });
      const consumer = await consumerOf('CpNormal');
      const [m] = await receiveN(consumer, 1, 15_000);
      assert.ok(m, 'the message sent through the cluster proxy is received through it');
      assert.equal(m.messageId, sent.messageId);
      assert.equal(m.body.toString(), 'via cluster proxy');
      assert.equal(m.tag, 'TagA');
      assert.deepEqual(m.keys, ['k1']);

      const checked: MessageView[] = [];
      const txProducer = await clients.producer('CpTx', {
        checker: {
          check: (v: MessageView) => {
            checked.push(v);
            return Promise.resolve(TransactionResolution.COMMIT);
          },
        },
      });
      const tx = txProducer.beginTransaction();
      const r = await txProducer.send({ topic: 'CpTx', tag: 'orphan', body: Buffer.from('checked back remotely') }, tx);
      const got = await receiveN(await consumerOf('CpTx'), 1, 20_000);
      assert.equal(got.length, 1, 'the unknown transaction is checked back over remoting and Telemetry, then committed');
      assert.equal(got[0].messageId, r.messageId);
      assert.ok(checked.length >= 1 && checked[0].topic === 'CpTx', 'the producer checker was asked with the real topic');
    } finally {
      await clients.close();
      await proxy.close();
    }
  });

  test('grpc cluster proxy - apogee proxy prints its ready line and stops on SIGTERM', async () => {
    await using s = await startStandalone();
    await using p = await spawnApogee(['proxy', '-n', s.namesrvAddr, '--grpcServerPort=0', '--httpPort=0', '--host=127.0.0.1']);
    assert.match(p.addresses.grpc ?? '', /^127\.0\.0\.1:\d+$/);
    const exit = await p.stop('SIGTERM');
    assert.equal(exit.code, 0);
  });
});
