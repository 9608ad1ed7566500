// Issue 15 part A: ACL between cluster members and on `apogee proxy`. A name server and a broker
// run as processes of their own, with a cluster proxy, all with aclEnable: the broker registers with
// the cluster account, the proxy signs what it asks of both with it and checks the 5.x clients'
// own accounts (rocketmq-client-nodejs), and the name server refuses unsigned or non-admin writes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { startProxy } from '../../src/proxy/index.js';
import { createRequest, RequestCode, ResponseCode, type RemotingClient } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { runApogee, spawnApogee, type ApogeeProcess } from '../helpers/spawn-apogee.js';
import { tempDir } from '../helpers/temp-dir.js';
import { quietClientLogger, receiveN, rmq, type Producer, type SimpleConsumer } from '../compat/helpers/grpc.js';
import { OnsHarness, ons } from '../compat/helpers/ali-ons.js';
import type { Standalone } from '../helpers/standalone.js';
import { ADMIN, APP, BASE_ACL, OTHER, refusal, signedClient } from './helpers.js';

const UNAUTHORIZED = 40100;
const FORBIDDEN = 40300;

const CLUSTER = { accessKey: 'clusterKey01', secretKey: 'clusterSecret01' };
const CLUSTER_CREDENTIALS = `--innerClientAuthenticationCredentials=${JSON.stringify(CLUSTER)}`;
/** BASE_ACL plus the cluster account, admin with no lists: it may do anything on every member. */
const CLUSTER_ACL = `${BASE_ACL}  - accessKey: ${CLUSTER.accessKey}
    secretKey: ${CLUSTER.secretKey}
    admin: true
`;

type Creds = { accessKey: string; accessSecret: string } | undefined;
const credentials = (who: { accessKey: string; secretKey: string }, secret = who.secretKey): Creds => ({ accessKey: who.accessKey, accessSecret: secret });

async function brokerCount(rc: RemotingClient, namesrv: string): Promise<number> {
  const r = await rc.invoke(namesrv, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO));
  if (r.code !== ResponseCode.SUCCESS || !r.body) return 0;
  const info = JSON.parse((r.body as Buffer).toString('utf8')) as { brokerAddrTable?: Record<string, unknown> };
  return Object.keys(info.brokerAddrTable ?? {}).length;
}

async function createAll(admin: RemotingClient, app: RemotingClient, broker: string, namesrv: string): Promise<void> {
  for (const topic of ['TopicA', 'TopicSubOnly', 'TopicB']) {
    const ext = { topic, readQueueNums: 2, writeQueueNums: 2, perm: 6, attributes: '+message.type=NORMAL' };
    const r = await admin.invoke(broker, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, ext));
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  }
  const body = Buffer.from(JSON.stringify({ groupName: 'GroupA', retryMaxTimes: 16 }));
  const r = await admin.invoke(broker, createRequest(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, body));
  assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  // The topics reach the name server through the broker's signed incremental registration.
  for (const topic of ['TopicA', 'TopicSubOnly', 'TopicB']) {
    await checkFor(10_000, 100, async () => (await app.invoke(namesrv, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }))).code === ResponseCode.SUCCESS, `route of ${topic}`);
  }
}

void describe('acl cluster', () => {
  void test('acl cluster - name server, broker and apogee proxy with ACL on: signed members accept each other, the proxy checks 5.x accounts (issue 15)', async () => {
    using dir = tempDir('apogee-acl-cluster-');
    const aclFile = join(dir.path, 'plain_acl.yml');
    writeFileSync(aclFile, CLUSTER_ACL);
    const acl = ['--aclEnable=true', `--aclConfigFile=${aclFile}`];
    const procs: ApogeeProcess[] = [];
    // A test process that dies (an uncaught client error, the runner's force exit) would otherwise
    // leave the name server and broker running.
    const killLeft = (): void => {
      for (const proc of procs) proc.child.kill('SIGKILL');
    };
    process.once('exit', killLeft);
    const admin = signedClient(ADMIN);
    const app = signedClient(APP);
    const unsigned = signedClient(undefined);
    const opened: { shutdown(): Promise<void> }[] = [];
    let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
    try {
      const ns = await spawnApogee(['namesrv', '--listenPort=0', '--host=127.0.0.1', ...acl]);
      procs.push(ns);
      const namesrv = ns.addresses.namesrv!;
      const broker = await spawnApogee([
        'broker',
        '--listenPort=0',
        '--haListenPort=0',
        '--grpcServerPort=0',
        '--httpPort=0',
        '--host=127.0.0.1',
        '--brokerIP1=127.0.0.1',
        `--namesrvAddr=${namesrv}`,
        `--storePathRootDir=${join(dir.path, 'broker')}`,
        ...acl,
        CLUSTER_CREDENTIALS,
      ]);
      procs.push(broker);
      await checkFor(15_000, 100, async () => (await brokerCount(app, namesrv)) === 1, 'the broker registered with the cluster account');

      // What the name server lets through: reads for any valid account, writes for admins only.
      const register = createRequest(RequestCode.REGISTER_BROKER, { brokerName: 'intruder', brokerAddr: '127.0.0.1:1', clusterName: 'DefaultCluster', haServerAddr: '', brokerId: 0, compressed: false });
      const unsignedReg = await unsigned.invoke(namesrv, register);
      assert.equal(unsignedReg.code, ResponseCode.NO_PERMISSION, unsignedReg.remark);
      assert.match(unsignedReg.remark ?? '', /REGISTER_BROKER from 127\.0\.0\.1: no AccessKey \(the request is not signed\)/);
      const appReg = await app.invoke(namesrv, createRequest(RequestCode.REGISTER_BROKER, { brokerName: 'intruder', brokerAddr: '127.0.0.1:1', clusterName: 'DefaultCluster', haServerAddr: '', brokerId: 0, compressed: false }));
      assert.equal(appReg.code, ResponseCode.NO_PERMISSION, appReg.remark);
      assert.match(appReg.remark ?? '', /REGISTER_BROKER needs an admin account; accessKey appKey0001 is not admin/);
      const kv = await app.invoke(namesrv, createRequest(RequestCode.PUT_KV_CONFIG, { namespace: 'ns', key: 'k', value: 'v' }));
      assert.equal(kv.code, ResponseCode.NO_PERMISSION, kv.remark);
      const unsignedRead = await unsigned.invoke(namesrv, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO));
      assert.equal(unsignedRead.code, ResponseCode.NO_PERMISSION, unsignedRead.remark);
      const badSecret = signedClient({ accessKey: APP.accessKey, secretKey: 'notTheSecret' });
      try {
        const forged = await badSecret.invoke(namesrv, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO));
        assert.equal(forged.code, ResponseCode.NO_PERMISSION, forged.remark);
        assert.match(forged.remark ?? '', /GET_BROKER_CLUSTER_INFO: signature check failed for accessKey appKey0001/);
      } finally {
        await badSecret.close();
      }
      assert.equal(await brokerCount(app, namesrv), 1, 'no refused registration reached the route table');

      await createAll(admin, app, broker.addresses.broker!, namesrv);

      // A 4.x client signs its name-server requests as it signs the broker's: ali-ons routes and sends.
      {
        await using h = new OnsHarness({ namesrvAddr: namesrv } as Standalone);
        // TopicB (OTHER may publish anywhere) keeps TopicA for the 5.x round trip below.
        const onsProducer = await h.producer('PG_CLUSTER', { accessKeyId: OTHER.accessKey, accessKeySecret: OTHER.secretKey });
        const r = await onsProducer.send(new ons.Message('TopicB', 'tag', 'ali-ons through an ACL name server'));
        assert.equal(r.sendStatus, 'SEND_OK');
      }

      // Without the cluster account the proxy cannot even read the cluster table.
      const bare = await runApogee(['proxy', '-n', namesrv, '--grpcServerPort=0', '--httpPort=0', '--host=127.0.0.1', ...acl], { timeoutMs: 30_000 });
      assert.notEqual(bare.code, 0, 'an unsigned proxy does not start');
      assert.match(bare.stderr + bare.stdout, /no AccessKey/);

      // The signed proxy runs in this process (startProxy is what `apogee proxy` runs) so that its
      // refusal counters can be read and it closes only after the clients' streams have ended.
      const proxyConfig = loadConfig('proxy', {
        flags: { namesrvAddr: namesrv, grpcServerPort: 0, host: '127.0.0.1', aclEnable: true, aclConfigFile: aclFile, innerClientAuthenticationCredentials: JSON.stringify(CLUSTER) },
      });
      proxy = await startProxy(proxyConfig);
      const endpoints = proxy.addresses.grpc!;
      const producer = async (topic: string, sessionCredentials: Creds): Promise<Producer> => {
        const p = new rmq.Producer({ endpoints, namespace: '', logger: quietClientLogger, topic, sessionCredentials });
        opened.push(p);
        await p.startup();
        return p;
      };
      const p = await producer('TopicA', credentials(APP));
      const receipt = await p.send({ topic: 'TopicA', tag: 't', body: Buffer.from('through apogee proxy, signed') });
      const c = new rmq.SimpleConsumer({
        endpoints,
        namespace: '',
        logger: quietClientLogger,
        consumerGroup: 'GroupA',
        subscriptions: new Map([['TopicA', '*']]),
        awaitDuration: 1000,
        sessionCredentials: credentials(APP),
      });
      opened.push(c);
      await c.startup();
      const [m] = await receiveN(c as SimpleConsumer, 1, 15_000);
      assert.equal(m?.messageId, receipt.messageId, 'the signed consumer receives the signed message through the proxy');

      const wrong = await refusal(producer('TopicA', credentials(APP, 'notTheSecret')));
      assert.equal(wrong.code, UNAUTHORIZED, wrong.message);
      assert.match(wrong.message, /signature check failed for accessKey appKey0001/);
      const unknown = await refusal(producer('TopicA', { accessKey: 'nobodyKey01', accessSecret: 'nobodySecret01' }));
      assert.equal(unknown.code, UNAUTHORIZED, unknown.message);
      assert.match(unknown.message, /no ACL account for accessKey nobodyKey01/);
      const sendDenied = await refusal(p.send({ topic: 'TopicSubOnly', body: Buffer.from('x') }));
      assert.equal(sendDenied.code, FORBIDDEN, sendDenied.message);
      assert.match(sendDenied.message, /SendMessage: accessKey appKey0001 has no PUB permission on topic TopicSubOnly/);

      // The proxy re-reads its plain_acl.yml: PUB on TopicSubOnly is granted without a restart.
      writeFileSync(aclFile, CLUSTER_ACL.replace('      - TopicSubOnly=SUB', '      - TopicSubOnly=PUB|SUB'));
      await checkFor(10_000, 200, async () => {
        try {
          return Boolean((await p.send({ topic: 'TopicSubOnly', body: Buffer.from('granted') })).messageId);
        } catch {
          return false;
        }
      }, 'a send allowed by the edited plain_acl.yml');
      const counters = proxy.acl!.counters;
      assert.ok(counters.reloads >= 1, 'the proxy reloaded its plain_acl.yml');
      assert.ok(counters.unauthenticated >= 2 && counters.forbidden >= 1 && counters.refused.grpc === counters.unauthenticated + counters.forbidden, JSON.stringify(counters));
    } finally {
      await Promise.all(opened.map((o) => o.shutdown().catch(() => undefined)));
      await proxy?.close();
      await Promise.all([admin.close(), app.close(), unsigned.close()]);
      for (const proc of procs.reverse()) await proc.stop('SIGTERM', 10_000);
      process.off('exit', killLeft);
    }
  });
});
