// Issue 13: consumerConnection and producerConnection list remoting (ali-ons) and gRPC (5.x)
// clients with address, language, version and protocol; consumeMessageDirectly hands one stored
// message to one online consumer and prints its answer, and says so plainly when the client
// (ali-ons, which ignores broker requests) never answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessages } from '../../src/common/message-codec.js';
import { serveGrpcClientList } from '../../src/console/grpc-client-list.js';
import { bodyOf, createRequest, createResponse, RemotingClient, RequestCode, ResponseCode, type RemotingCommand } from '../../src/remoting/index.js';
import { createTopic as createOnsTopic, OnsHarness, ons, sendAll, type OnsMessage } from '../compat/helpers/ali-ons.js';
import { createGroup, GrpcHarness } from '../compat/helpers/grpc.js';
import { checkFor } from '../helpers/check-for.js';
import { admin, adminJson } from './admin-run.js';

interface Connections {
  connections: { clientId: string; clientAddr: string; language: string; version: string; protocol: string }[];
  subscriptions: { topic: string; subExpression: string }[];
}

void test('ops connections - consumerConnection and producerConnection show ali-ons and 5.x clients with protocol; consumeMessageDirectly', async () => {
  await using h = await GrpcHarness.start();
  const s = h.s;
  serveGrpcClientList(s.controller.remotingServer, h.g.context.clients);
  const topic = 'OpsConnTopic';
  const group = 'GID_ops_conn';
  await createOnsTopic(s, topic, 2);
  await createGroup(s, group);
  await using ons4 = new OnsHarness(s);
  const p = await ons4.producer('GID_ops_conn_p');
  const got: OnsMessage[] = [];
  const c = await ons4.consumer({ consumerGroup: group }, topic, 'TagA || TagB', async (m) => {
    got.push(m);
  });
  await h.simpleConsumer(group, { [topic]: '*' });
  await h.producer(topic);

  const cc = await adminJson<Connections>(s.namesrvAddr, 'consumerConnection', '-g', group);
  const byProtocol = (proto: string) => cc.connections.filter((x) => x.protocol === proto);
  assert.equal(byProtocol('remoting').length, 1);
  assert.equal(byProtocol('grpc').length, 1);
  const r4 = byProtocol('remoting')[0];
  assert.match(r4.clientId, /^127\.0\.0\.1@apogee-consumer-/, 'ali-ons clientId is ip@instanceName');
  assert.match(r4.clientAddr, /^127\.0\.0\.1:\d+$/);
  assert.equal(r4.language, 'JAVA', 'ali-ons announces itself as JAVA');
  assert.equal(r4.version, 'V3_4_9');
  assert.equal(byProtocol('grpc')[0].language, 'NODE_JS');
  assert.match(byProtocol('grpc')[0].version, /^\d+\.\d+\.\d+/);
  assert.deepEqual(cc.subscriptions.find((x) => x.topic === topic)?.subExpression, 'TagA || TagB');

  const text = await admin(s.namesrvAddr, 'consumerConnection', '-g', group);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^# +#ClientId +#ClientAddr +#Language +#Version +#Protocol$/m);
  assert.match(text.stdout, /^ConsumeType: CONSUME_PASSIVELY$/m);


  const [none, noProducer] = await Promise.all([
    admin(s.namesrvAddr, 'consumerConnection', '-g', 'GID_nobody_here'),
    admin(s.namesrvAddr, 'producerConnection', '-g', 'GID_nobody_here', '-t', 'NoSuchTopicX'),
  ]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no consumer of group GID_nobody_here is online/);
  assert.equal(noProducer.code, 1);
  assert.match(noProducer.stderr, /topic NoSuchTopicX does not exist/);

  const [sent] = await sendAll(p, 1, () => new ons.Message(topic, 'TagA', 'verify-me'));
  await checkFor(10_000, 50, () => got.length >= 1, 'the message consumed');

  // ali-ons beats to the brokers of the topics it published to: after its first send.
  const pc = await checkFor(5000, 100, async () => {
    const r = await adminJson<Connections>(s.namesrvAddr, 'producerConnection', '-g', 'GID_ops_conn_p', '-t', topic);
    return r.connections.length === 2 ? r : undefined;
  }, 'both producers listed');
  assert.deepEqual(pc.connections.map((x) => x.protocol).sort(), ['grpc', 'remoting']);
  // consumeMessageDirectly to ali-ons: it never answers a broker's request, and the tool says so.
  const silent = await admin(s.namesrvAddr, 'consumeMessageDirectly', '-g', group, '-d', r4.clientId, '-i', sent.msgId, '-t', topic, '--timeout', '300');
  assert.equal(silent.code, 1);
  assert.match(silent.stderr, /did not answer CONSUME_MESSAGE_DIRECTLY within 300 ms/);
  assert.match(silent.stderr, /ali-ons/);
  await ons4.closeConsumer(c);

  // A client that implements it, as Java's 4.x consumer does: HEART_BEAT, then answers 309 with a
  // ConsumeMessageDirectlyResult after decoding the stored record it was given.
  const java = new RemotingClient();
  try {
    let seen: { body: string; ext: Record<string, string> } | undefined;
    java.registerProcessor(RequestCode.CONSUME_MESSAGE_DIRECTLY, (req: RemotingCommand) => {
      const [rec] = decodeMessages(bodyOf(req));
      seen = { body: rec.body.toString(), ext: req.extFields };
      return createResponse(ResponseCode.SUCCESS, undefined, undefined, Buffer.from(JSON.stringify({ order: false, autoCommit: true, consumeResult: 'CR_SUCCESS', remark: 'consumed', spentTimeMills: 2 })));
    });
    const hb = {
      clientID: '127.0.0.1@java-like',
      producerDataSet: [],
      consumerDataSet: [{ groupName: group, consumeType: 'CONSUME_PASSIVELY', messageModel: 'CLUSTERING', consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET', subscriptionDataSet: [{ topic, subString: '*', subVersion: 1 }] }],
    };
    const r = await java.invoke(s.brokerAddr, createRequest(RequestCode.HEART_BEAT, undefined, Buffer.from(JSON.stringify(hb))));
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    const out = await adminJson<{ result: { consumeResult: string; remark: string } }>(s.namesrvAddr, 'consumeMessageDirectly', '-g', group, '-d', '127.0.0.1@java-like', '-i', sent.msgId, '-t', topic);
    assert.deepEqual([out.result.consumeResult, out.result.remark], ['CR_SUCCESS', 'consumed']);
    assert.equal(seen?.body, 'verify-me');
    assert.equal(seen?.ext.consumerGroup, group);
    assert.equal(seen?.ext.brokerName, 'broker-a');

    // mqadmin's queryMsgById -g -d does the same after printing the message.
    const viaQuery = await admin(s.namesrvAddr, 'queryMsgById', '-i', sent.msgId, '-t', topic, '-g', group, '-d', '127.0.0.1@java-like');
    assert.equal(viaQuery.code, 0, viaQuery.stderr);
    assert.match(viaQuery.stdout, /^Message Body: +verify-me$/m);
    assert.match(viaQuery.stdout, /^ConsumeMessageDirectlyResult \[order=false, autoCommit=true, consumeResult=CR_SUCCESS, remark=consumed, spentTimeMills=2\]$/m);

    const unknownClient = await admin(s.namesrvAddr, 'consumeMessageDirectly', '-g', group, '-d', '127.0.0.1@nobody', '-i', sent.msgId, '-t', topic);
    assert.equal(unknownClient.code, 1);
    assert.match(unknownClient.stderr, /CONSUMER_NOT_ONLINE.*the consumer 127\.0\.0\.1@nobody of group GID_ops_conn is not connected/);
  } finally {
    await java.close();
  }
});
