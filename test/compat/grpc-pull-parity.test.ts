// Issue 11 regression: the local gRPC pull path (LocalBackend.getMessage) skipped the group and
// permission checks of PULL_MESSAGE and passed every message to an SQL92 subscription. Both
// backends now go through the broker's one pull service: the real 5.x client's PullMessage and
// receive, through the local endpoint and through the cluster proxy, deliver exactly what a
// remoting PULL_MESSAGE with the same subscription delivers.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { loadConfig } from '../../src/config/index.js';
import { startGrpcProxy, startProxy } from '../../src/proxy/index.js';
import { RemotingClient } from '../../src/remoting/index.js';
import { pullOnce } from '../broker/fixtures/wire.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';
import { createGroup, createTopic, GrpcClients, receiveN, rmq } from './helpers/grpc.js';

const require = createRequire(import.meta.url);
const def = require('rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js');
const svc = require('rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js');
const { RpcClient } = require('rocketmq-client-nodejs/dist/client/RpcClient.js');
const { Endpoints } = require('rocketmq-client-nodejs/dist/route/Endpoints.js');

const TOPIC = 'PullParity';
const GROUP = 'pp-group';
const SQL = 2;
const TAG = 1;

/** Six messages: tags A/B/C and a colour property, one queue so offsets are one sequence. */
const SENT = [
  { body: 'm0', tag: 'A', color: 'red' },
  { body: 'm1', tag: 'B', color: 'red' },
  { body: 'm2', tag: 'A', color: 'blue' },
  { body: 'm3', tag: 'C', color: 'red' },
  { body: 'm4', tag: 'B', color: 'blue' },
  { body: 'm5', tag: 'A', color: 'green' },
];

const FILTERS: { type: number; expression: string; expect: string[] }[] = [
  { type: TAG, expression: 'A', expect: ['m0', 'm2', 'm5'] },
  { type: TAG, expression: 'A || B', expect: ['m0', 'm1', 'm2', 'm4', 'm5'] },
  { type: SQL, expression: "color = 'red'", expect: ['m0', 'm1', 'm3'] },
  { type: SQL, expression: "color = 'blue' AND TAGS = 'B'", expect: ['m4'] },
];

interface GrpcPull {
  code: number;
  message: string;
  bodies: string[];
}

async function grpcPull(endpoint: string, group: string, f: { type: number; expression: string }): Promise<GrpcPull> {
  const rpc = new RpcClient(new Endpoints(endpoint), false);
  const req = new svc.PullMessageRequest()
    .setGroup(new def.Resource().setName(group))
    .setMessageQueue(new def.MessageQueue().setTopic(new def.Resource().setName(TOPIC)).setId(0))
    .setOffset(0)
    .setBatchSize(32)
    .setFilterExpression(new def.FilterExpression().setType(f.type).setExpression(f.expression));
  try {
    const responses = (await rpc.pullMessage(req, new Metadata(), 10_000)) as { getStatus(): any; getMessage(): any }[];
    const st = responses.map((r) => r.getStatus()).find(Boolean);
    const bodies = responses.map((r) => r.getMessage()).filter(Boolean).map((m) => Buffer.from(m.getBody_asU8()).toString());
    return { code: st?.getCode() ?? -1, message: st?.getMessage() ?? '', bodies };
  } finally {
    rpc.close?.();
  }
}

async function remotingPull(s: Standalone, group: string, f: { type: number; expression: string }): Promise<{ code: number; bodies: string[] }> {
  const rc = new RemotingClient();
  try {
    const r = await pullOnce(rc, s.brokerAddr, { group, topic: TOPIC, queueId: 0, offset: 0, subscription: f.expression, expressionType: f.type === SQL ? 'SQL92' : 'TAG' });
    return { code: r.code, bodies: r.records.map((m) => m.body.toString()) };
  } finally {
    await rc.close();
  }
}

async function setUp(s: Standalone, endpoint: string): Promise<GrpcClients> {
  await createTopic(s, TOPIC, 'NORMAL', 1);
  await createGroup(s, GROUP);
  await createGroup(s, 'pp-disabled');
  const clients = new GrpcClients(endpoint);
  const producer = await clients.producer(TOPIC);
  for (const m of SENT) await producer.send({ topic: TOPIC, tag: m.tag, body: Buffer.from(m.body), properties: new Map([['color', m.color]]) });
  return clients;
}

async function checkParity(s: Standalone, endpoint: string, clients: GrpcClients): Promise<void> {
  for (const f of FILTERS) {
    const viaGrpc = await grpcPull(endpoint, GROUP, f);
    const viaRemoting = await remotingPull(s, GROUP, f);
    assert.equal(viaGrpc.code, def.Code.OK, `${f.expression}: ${viaGrpc.message}`);
    assert.deepEqual(viaGrpc.bodies, f.expect, `gRPC PullMessage with ${f.expression}`);
    assert.deepEqual(viaRemoting.bodies, f.expect, `PULL_MESSAGE with ${f.expression}`);
  }
  // The same refusals as PULL_MESSAGE: an unknown group, and a group that may not consume.
  const unknown = await grpcPull(endpoint, 'pp-nobody', FILTERS[0]);
  assert.equal(unknown.code, def.Code.CONSUMER_GROUP_NOT_FOUND, unknown.message);
  assert.deepEqual(unknown.bodies, []);
  const rc = new RemotingClient();
  try {
    const resp = await rc.invoke(
      s.brokerAddr,
      (await import('../../src/remoting/index.js')).createRequest(
        (await import('../../src/remoting/index.js')).RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
        {},
        Buffer.from(JSON.stringify({ groupName: 'pp-disabled', consumeEnable: false })),
      ),
    );
    assert.equal(resp.code, 0, resp.remark);
  } finally {
    await rc.close();
  }
  const disabled = await grpcPull(endpoint, 'pp-disabled', FILTERS[0]);
  assert.equal(disabled.code, def.Code.FORBIDDEN, disabled.message);
  assert.match(disabled.message, /pp-disabled/);

  // The receive path with an SQL92 filter delivers the same set.
  const consumer = await clients.simpleConsumer(GROUP, { [TOPIC]: new rmq.FilterExpression("color = 'red'", SQL) });
  const got = await receiveN(consumer, 3, 15_000);
  assert.deepEqual(got.map((m) => m.body.toString()).sort(), ['m0', 'm1', 'm3']);
  assert.deepEqual(await receiveN(consumer, 1, 1500), [], 'nothing outside the filter is received');
}

describe('grpc pull parity', () => {
  test('grpc pull parity - issue 11: local endpoint: gRPC pull and receive apply the same checks and tag/SQL92 filters as PULL_MESSAGE', async () => {
    await using s = await startStandalone({ enablePropertyFilter: true, autoCreateSubscriptionGroup: false });
    const g = await startGrpcProxy(s.controller, { host: '127.0.0.1', port: 0, minInvisibleTimeMsForReceive: 1000, maxLongPollingTimeoutMs: 1000 });
    const clients = await setUp(s, g.address);
    try {
      await checkParity(s, g.address, clients);
    } finally {
      await clients.close();
      await g.close();
    }
  });

  test('grpc pull parity - issue 11: cluster proxy: the same deliveries and refusals through apogee proxy', async () => {
    await using s = await startStandalone({ enablePropertyFilter: true, autoCreateSubscriptionGroup: false });
    const proxy = await startProxy(loadConfig('proxy', { flags: { namesrvAddr: s.namesrvAddr, grpcServerPort: 0, host: '127.0.0.1', proxyMode: 'cluster' } }));
    const clients = await setUp(s, proxy.addresses.grpc!);
    try {
      await checkParity(s, proxy.addresses.grpc!, clients);
    } finally {
      await clients.close();
      await proxy.close();
    }
  });
});
