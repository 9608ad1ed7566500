// Issue 15 part B: TLS on the name server (tlsServerMode as on a broker), brokers that reach TLS
// name servers with tlsEnable, and `apogee admin --tls`. Certificates are made at test time.
import { certs, opensslAvailable } from './tls-env.js';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { startNamesrv } from '../../src/namesrv/index.js';
import { startBroker } from '../../src/broker/index.js';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { runApogee } from '../helpers/spawn-apogee.js';
import { startProxy } from '../../src/proxy/cluster-proxy.js';
import { quietClientLogger, rmq } from '../compat/helpers/grpc.js';

const skip = opensslAvailable ? false : 'the openssl command is not installed';

void describe('tls name server and admin cli', { skip }, () => {
  after(() => certs?.remove());

  void test('tls namesrv - an enforcing name server takes a broker and apogee proxy with tlsEnable, apogee proxy serves 5.x clients over TLS, and apogee admin --tls; plain clients are refused (issue 15)', async () => {
    const c = certs!;
    const tls = { tlsServerMode: 'enforcing', tlsServerCertPath: c.serverCert, tlsServerKeyPath: c.serverKey };
    const ns = await startNamesrv(loadConfig('namesrv', { flags: { listenPort: 0, host: '127.0.0.1', ...tls } }));
    const dir = mkdtempSync(join(tmpdir(), 'apogee-tls-ns-'));
    const secure = new RemotingClient({ tls: { ca: readFileSync(c.ca) } });
    const plain = new RemotingClient();
    try {
      const broker = await startBroker(
        loadConfig('broker', {
          flags: { brokerIP1: '127.0.0.1', host: '127.0.0.1', listenPort: 0, namesrvAddr: ns.addresses.namesrv, storePathRootDir: dir, ...tls, tlsEnable: true, tlsClientTrustCertPath: c.ca },
        }),
      );
      try {
        const clusterInfo = async (): Promise<string> => {
          const r = await secure.invoke(ns.addresses.namesrv, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO), 3000);
          return r.code === ResponseCode.SUCCESS ? (r.body?.toString() ?? '') : '';
        };
        await checkFor(10_000, 100, async () => (await clusterInfo()).includes(broker.addresses.broker), 'the broker registered over TLS');
        await assert.rejects(plain.invoke(ns.addresses.namesrv, createRequest(RequestCode.GET_BROKER_CLUSTER_INFO), 3000), /closed|reset|timed out/i);

        const n = ['-n', ns.addresses.namesrv];
        const verified = await runApogee(['admin', 'clusterList', ...n, '--tls', '--tlsTrustCertPath', c.ca]);
        assert.equal(verified.code, 0, verified.stderr);
        assert.ok(verified.stdout.includes(broker.addresses.broker), verified.stdout);
        const byEnv = await runApogee(['admin', 'topicList', ...n], { env: { APOGEE_TLS: 'true', APOGEE_TLS_TRUST_CERT_PATH: c.ca } });
        assert.equal(byEnv.code, 0, byEnv.stderr);
        const insecure = await runApogee(['admin', 'clusterList', ...n, '--tlsInsecure']);
        assert.equal(insecure.code, 0, insecure.stderr);
        // Without the CA the server is not trusted; without TLS the name server closes the connection.
        const untrusted = await runApogee(['admin', 'clusterList', ...n, '--tls']);
        assert.equal(untrusted.code, 1);
        assert.match(untrusted.stderr, /self.signed|unable to verify|certificate/i);
        const plainCli = await runApogee(['admin', 'clusterList', ...n]);
        assert.equal(plainCli.code, 1);
        const missing = await runApogee(['admin', 'clusterList', ...n, '--tlsTrustCertPath', join(dir, 'nope.pem')]);
        assert.equal(missing.code, 2);
        assert.match(missing.stderr, /option --tlsTrustCertPath: cannot read .*nope\.pem: ENOENT/);

        // apogee proxy with tlsEnable finds the broker through the TLS name server and relays to it
        // over TLS; its own gRPC port is enforcing too, so the 5.x client needs sslEnabled.
        const created = await secure.invoke(broker.addresses.broker, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: 'TlsProxyTopic', readQueueNums: 2, writeQueueNums: 2, perm: 6 }), 3000);
        assert.equal(created.code, ResponseCode.SUCCESS, created.remark);
        const proxy = await startProxy(
          loadConfig('proxy', { flags: { namesrvAddr: ns.addresses.namesrv, host: '127.0.0.1', grpcServerPort: 0, ...tls, tlsEnable: true, tlsClientTrustCertPath: c.ca } }),
        );
        const p = new rmq.Producer({ endpoints: proxy.addresses.grpc!, namespace: '', logger: quietClientLogger, topic: 'TlsProxyTopic', sslEnabled: true });
        const plainGrpc = new rmq.Producer({ endpoints: proxy.addresses.grpc!, namespace: '', logger: quietClientLogger, topic: 'TlsProxyTopic', requestTimeout: 2000 });
        try {
          await p.startup();
          const r = await p.send({ topic: 'TlsProxyTopic', body: Buffer.from('through a TLS cluster') });
          assert.ok(r.messageId);
          await assert.rejects(plainGrpc.startup());
        } finally {
          await plainGrpc.shutdown().catch(() => undefined);
          await p.shutdown().catch(() => undefined);
          await proxy.close();
        }
      } finally {
        await broker.close();
      }
    } finally {
      await secure.close();
      await plain.close();
      await ns.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
