// Issue 15: TLS on the remoting port and the gRPC endpoint with RocketMQ's tlsServerMode:
// rocketmq-client-nodejs with sslEnabled against enforcing and permissive, plain clients refused
// by enforcing, the TypeScript client over TLS on remoting, client certificates, and a changed
// certificate picked up without a restart. Certificates are made at test time with openssl.
import { certs, opensslAvailable } from './tls-env.js';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { connect as connectTls } from 'node:tls';
import { Producer } from '../../src/client/index.js';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { createTopic, GrpcHarness, quietClientLogger, receiveN, rmq } from '../compat/helpers/grpc.js';

const skip = opensslAvailable ? false : 'the openssl command is not installed';

function tlsOverrides(mode: 'permissive' | 'enforcing', extra: Record<string, string | boolean> = {}): Record<string, string | boolean> {
  return { tlsServerMode: mode, tlsServerCertPath: certs!.serverCert, tlsServerKeyPath: certs!.serverKey, ...extra };
}

async function routeInfo(rc: RemotingClient, addr: string): Promise<number> {
  return (await rc.invoke(addr, createRequest(RequestCode.GET_BROKER_RUNTIME_INFO), 3000)).code;
}

async function grpcRoundTrip(h: GrpcHarness, topic: string, group: string, sslEnabled: boolean): Promise<void> {
  const p = new rmq.Producer({ endpoints: h.endpoints, namespace: '', logger: quietClientLogger, topic, sslEnabled });
  const c = new rmq.SimpleConsumer({ endpoints: h.endpoints, namespace: '', logger: quietClientLogger, consumerGroup: group, subscriptions: new Map([[topic, '*']]), awaitDuration: 1000, sslEnabled });
  try {
    await p.startup();
    await c.startup();
    const r = await p.send({ topic, body: Buffer.from(`over ${sslEnabled ? 'TLS' : 'plain'}`) });
    const [m] = await receiveN(c, 1, 10_000);
    assert.equal(m?.messageId, r.messageId);
  } finally {
    await Promise.all([p.shutdown().catch(() => undefined), c.shutdown().catch(() => undefined)]);
  }
}

async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  assert.fail('expected a failure');
}

void describe('tls', { skip }, () => {
  after(() => certs?.remove());

  void test('tls - enforcing: rocketmq-client-nodejs with sslEnabled sends and receives; plain gRPC and remoting clients are refused (issue 15)', async () => {
    await using h = await GrpcHarness.start(tlsOverrides('enforcing'));
    const admin = new RemotingClient({ tls: { ca: readFileSync(certs!.ca) } });
    const plain = new RemotingClient();
    try {
      const body = Buffer.from(JSON.stringify({ groupName: 'tls-g', retryMaxTimes: 16 }));
      const ok = await admin.invoke(h.s.brokerAddr, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: 'TlsTopic', readQueueNums: 2, writeQueueNums: 2, perm: 6, attributes: '+message.type=NORMAL' }));
      assert.equal(ok.code, ResponseCode.SUCCESS, ok.remark);
      assert.equal((await admin.invoke(h.s.brokerAddr, createRequest(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, body))).code, ResponseCode.SUCCESS);
      const refused = await rejects(routeInfo(plain, h.s.brokerAddr));
      assert.match(refused.message, /closed|reset|timed out|ECONNRESET/i);
      await grpcRoundTrip(h, 'TlsTopic', 'tls-g', true);
      const plainGrpc = new rmq.Producer({ endpoints: h.endpoints, namespace: '', logger: quietClientLogger, topic: 'TlsTopic', requestTimeout: 2000 });
      await rejects(plainGrpc.startup());
      await plainGrpc.shutdown().catch(() => undefined);
      // A client that does not trust the server's CA is refused by its own side.
      const untrusting = new RemotingClient({ tls: true });
      assert.match((await rejects(routeInfo(untrusting, h.s.brokerAddr))).message, /self.signed|unable to verify|certificate/i);
      await untrusting.close();
    } finally {
      await admin.close();
      await plain.close();
    }
  });

  void test('tls - permissive: TLS and plain clients share the ports (gRPC and remoting), and the TypeScript client sends over TLS (issue 15)', async () => {
    await using h = await GrpcHarness.start(tlsOverrides('permissive'));
    await createTopic(h.s, 'PermTopic', 'NORMAL');
    const body = Buffer.from(JSON.stringify({ groupName: 'perm-g', retryMaxTimes: 16 }));
    const plain = new RemotingClient();
    const secure = new RemotingClient({ tls: { ca: readFileSync(certs!.ca) } });
    try {
      assert.equal((await plain.invoke(h.s.brokerAddr, createRequest(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, body))).code, ResponseCode.SUCCESS);
      assert.equal(await routeInfo(secure, h.s.brokerAddr), ResponseCode.SUCCESS);
    } finally {
      await plain.close();
      await secure.close();
    }
    await grpcRoundTrip(h, 'PermTopic', 'perm-g', true);
    await grpcRoundTrip(h, 'PermTopic', 'perm-g', false);
    const p = new Producer({ namesrvAddr: h.s.namesrvAddr, producerGroup: 'pg-tls', tls: { ca: readFileSync(certs!.ca) } });
    await p.start();
    try {
      for (let i = 0; i < 3; i++) {
        const r = await p.send({ topic: 'PermTopic', body: `ts client over TLS ${i}` });
        assert.equal(r.sendStatus, 'SEND_OK');
      }
      const socket = [...h.s.controller.remotingServer.connections].find((c) => (c as unknown as { socket: { encrypted?: boolean } }).socket.encrypted);
      assert.ok(socket, 'the broker holds a TLS connection');
    } finally {
      await p.shutdown();
    }
  });

  void test('tls - client certificates are required with tlsServerNeedClientAuth, and a replaced server certificate is used without a restart (issue 15)', async () => {
    const live = { tlsServerCertPath: `${certs!.dir}/live.crt`, tlsServerKeyPath: `${certs!.dir}/live.key` };
    copyFileSync(certs!.serverCert, live.tlsServerCertPath);
    copyFileSync(certs!.serverKey, live.tlsServerKeyPath);
    await using h = await GrpcHarness.start(tlsOverrides('enforcing', { tlsServerNeedClientAuth: true, tlsServerTrustCertPath: certs!.ca, ...live }));
    const ca = readFileSync(certs!.ca);
    const withCert = { ca, cert: readFileSync(certs!.clientCert), key: readFileSync(certs!.clientKey) };
    const anonymous = new RemotingClient({ tls: { ca } });
    const authed = new RemotingClient({ tls: withCert });
    try {
      assert.equal(await routeInfo(authed, h.s.brokerAddr), ResponseCode.SUCCESS);
      await rejects(routeInfo(anonymous, h.s.brokerAddr));
    } finally {
      await anonymous.close();
      await authed.close();
    }
    // Swap in a certificate from another CA: new connections get it within the reload period.
    copyFileSync(certs!.otherCert, live.tlsServerCertPath);
    copyFileSync(certs!.otherKey, live.tlsServerKeyPath);
    const [host, port] = h.s.brokerAddr.split(':');
    const issuerNow = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = connectTls({ host, port: Number(port), rejectUnauthorized: false, cert: withCert.cert, key: withCert.key }, () => {
          const issuer = s.getPeerCertificate().issuer?.CN ?? '';
          s.destroy();
          resolve(String(issuer));
        });
        s.once('error', reject);
      });
    await checkFor(10_000, 200, async () => (await issuerNow()) === 'apogee test otherca', 'the new certificate served');
  });
});
