// Issue 15: ACL on the gRPC v2 endpoint with the real 5.x client (rocketmq-client-nodejs):
// good sessionCredentials send and receive, bad or missing ones get UNAUTHORIZED, a topic without
// PUB gets FORBIDDEN, and the messages name account and resource.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequest, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { aclServiceOf } from '../../src/broker/index.js';
import { GrpcHarness, quietClientLogger, receiveN, rmq, type Producer, type SimpleConsumer } from '../compat/helpers/grpc.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ADMIN, APP, BASE_ACL, refusal, signedClient } from './helpers.js';

const UNAUTHORIZED = 40100;
const FORBIDDEN = 40300;

type Creds = { accessKey: string; accessSecret: string } | undefined;
const credentials = (who: { accessKey: string; secretKey: string }, secret = who.secretKey): Creds => ({ accessKey: who.accessKey, accessSecret: secret });

async function setup(h: GrpcHarness): Promise<void> {
  const rc = signedClient(ADMIN);
  try {
    for (const topic of ['TopicA', 'TopicSubOnly', 'TopicB']) {
      const ext = { topic, readQueueNums: 2, writeQueueNums: 2, perm: 6, attributes: '+message.type=NORMAL' };
      const r = await rc.invoke(h.s.brokerAddr, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, ext));
      assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    }
    const body = Buffer.from(JSON.stringify({ groupName: 'GroupA', retryMaxTimes: 16 }));
    const r = await rc.invoke(h.s.brokerAddr, createRequest(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, body));
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  } finally {
    await rc.close();
  }
}

void describe('acl grpc', () => {
  void test('acl grpc - good sessionCredentials send and receive; bad or missing ones are UNAUTHORIZED; a topic without PUB is FORBIDDEN (issue 15)', async () => {
    using dir = tempDir();
    const aclFile = join(dir.path, 'plain_acl.yml');
    writeFileSync(aclFile, BASE_ACL);
    await using h = await GrpcHarness.start({ aclEnable: true, aclConfigFile: aclFile });
    await setup(h);
    const opened: { shutdown(): Promise<void> }[] = [];
    const producer = async (topic: string, sessionCredentials: Creds): Promise<Producer> => {
      const p = new rmq.Producer({ endpoints: h.endpoints, namespace: '', logger: quietClientLogger, topic, sessionCredentials });
      opened.push(p);
      await p.startup();
      return p;
    };
    const consumer = async (sessionCredentials: Creds): Promise<SimpleConsumer> => {
      const c = new rmq.SimpleConsumer({
        endpoints: h.endpoints,
        namespace: '',
        logger: quietClientLogger,
        consumerGroup: 'GroupA',
        subscriptions: new Map([['TopicA', '*']]),
        awaitDuration: 1000,
        sessionCredentials,
      });
      opened.push(c);
      await c.startup();
      return c;
    };
    try {
      const p = await producer('TopicA', credentials(APP));
      const receipt = await p.send({ topic: 'TopicA', tag: 't', body: Buffer.from('signed 5.x') });
      const c = await consumer(credentials(APP));
      const [m] = await receiveN(c, 1, 10_000);
      assert.equal(m?.messageId, receipt.messageId, 'the signed consumer receives the signed message');
      const acl = aclServiceOf(h.s.controller)!;
      assert.equal(acl.counters.refused.grpc, 0, 'nothing refused on the happy path');

      const wrong = await refusal(producer('TopicA', credentials(APP, 'notTheSecret')));
      assert.equal(wrong.code, UNAUTHORIZED, wrong.message);
      assert.match(wrong.message, /signature check failed for accessKey appKey0001/);
      const none = await refusal(producer('TopicA', undefined));
      assert.equal(none.code, UNAUTHORIZED, none.message);
      assert.match(none.message, /no AccessKey/);
      const noRoute = await refusal(producer('TopicB', credentials(APP)));
      assert.equal(noRoute.code, FORBIDDEN, noRoute.message);
      assert.match(noRoute.message, /QueryRoute: accessKey appKey0001 has no PUB or SUB permission on topic TopicB/);
      // TopicSubOnly may be routed (SUB) but not published to.
      const sendDenied = await refusal(p.send({ topic: 'TopicSubOnly', body: Buffer.from('x') }));
      assert.equal(sendDenied.code, FORBIDDEN, sendDenied.message);
      assert.match(sendDenied.message, /SendMessage: accessKey appKey0001 has no PUB permission on topic TopicSubOnly/);
      assert.ok(acl.counters.refused.grpc >= 4 && acl.counters.unauthenticated >= 2 && acl.counters.forbidden >= 2, JSON.stringify(acl.counters));
    } finally {
      await Promise.all(opened.map((c) => c.shutdown().catch(() => undefined)));
    }
  });
});
