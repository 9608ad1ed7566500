// The broker's admin views are still being written, so their request side is checked against a
// fake broker that records what arrives and answers as Java does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createResponse, RemotingServer, RequestCode, ResponseCode, SerializeType, type RemotingCommand } from '../../src/remoting/index.js';
import { encodeMessage } from '../../src/common/message-codec.js';
import { createMessageId } from '../../src/common/msg-id.js';
import { AdminClient, MQBrokerError } from '../../src/client/index.js';

function record(topic: string, body: string, commitLogOffset: number, port: number): Buffer {
  return encodeMessage({
    topic,
    queueId: 0,
    flag: 0,
    body: Buffer.from(body),
    properties: 'KEYS\u0001order-1\u0002UNIQ_KEY\u0001ABCDEF\u0002',
    sysFlag: 0,
    bornTimestamp: 1000,
    bornHost: { address: '127.0.0.1', port: 1 },
    storeHost: { address: '127.0.0.1', port },
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    queueOffset: 3,
    commitLogOffset,
    storeTimestamp: 2000,
  });
}

test('admin client - admin view requests carry Java header names and parse their bodies', async () => {
  const server = new RemotingServer({ host: '127.0.0.1' });
  const seen: RemotingCommand[] = [];
  const json = (v: unknown) => (req: RemotingCommand) => {
    seen.push(req);
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, Buffer.from(JSON.stringify(v)));
  };
  server.registerProcessor(RequestCode.GET_TOPIC_STATS_INFO, json({ offsetTable: {} }));
  server.registerProcessor(RequestCode.GET_CONSUME_STATS, json({ consumeTps: 1.5, offsetTable: {} }));
  server.registerProcessor(RequestCode.GET_BROKER_RUNTIME_INFO, json({ table: { brokerVersion: '479' } }));
  server.registerProcessor(RequestCode.GET_CONSUMER_CONNECTION_LIST, json({ connectionSet: [], consumeType: 'CONSUME_PASSIVELY' }));
  const { port } = await server.listen();
  const addr = `127.0.0.1:${port}`;
  server.registerProcessor(RequestCode.VIEW_MESSAGE_BY_ID, (req) => {
    seen.push(req);
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, record('ViewT', 'viewed', Number(req.extFields.offset), port));
  });
  server.registerProcessor(RequestCode.QUERY_MESSAGE, (req) => {
    seen.push(req);
    return createResponse(ResponseCode.SYSTEM_ERROR, 'index not ready');
  });
  // The namesrv is never asked here; any address will do.
  const admin = new AdminClient({ namesrvAddr: addr, serializeType: 'ROCKETMQ' });
  try {
    assert.deepEqual(await admin.getTopicStatsInfo(addr, 'T1'), { offsetTable: {} });
    assert.deepEqual(await admin.getConsumeStats(addr, 'g1', 'T1'), { consumeTps: 1.5, offsetTable: {} });
    assert.deepEqual(await admin.getBrokerRuntimeInfo(addr), { table: { brokerVersion: '479' } });
    assert.deepEqual(await admin.getConsumerConnectionList(addr, 'g1'), { connectionSet: [], consumeType: 'CONSUME_PASSIVELY' });
    const id = createMessageId({ address: '127.0.0.1', port }, 4242);
    const m = await admin.viewMessage(id);
    assert.equal(m.body.toString(), 'viewed');
    assert.equal(m.commitLogOffset, 4242);
    assert.equal(m.offsetMsgId, id);
    assert.equal(m.msgId, 'ABCDEF');
    assert.deepEqual(m.keys, ['order-1']);

    assert.deepEqual(seen[0].extFields, { topic: 'T1' });
    assert.deepEqual(seen[1].extFields, { consumerGroup: 'g1', topic: 'T1' });
    assert.deepEqual(seen[2].extFields, {});
    assert.deepEqual(seen[3].extFields, { consumerGroup: 'g1' });
    assert.deepEqual(seen[4].extFields, { offset: '4242' });
    assert.ok(seen.every((r) => r.serializeType === SerializeType.ROCKETMQ), 'binary headers on every request');

    await assert.rejects(admin.api.invokeOk(addr, RequestCode.QUERY_MESSAGE, { topic: 'T1', key: 'k' }), (e: unknown) => e instanceof MQBrokerError && e.code === ResponseCode.SYSTEM_ERROR && /index not ready/.test(e.message));
  } finally {
    await admin.shutdown();
    await server.close();
  }
});
