// Issue 16: 5.x clients of a separate `apogee proxy` show in `apogee console -n` like those of a
// broker's own gRPC endpoint: the proxy reports them to every master (REPORT_GRPC_CLIENTS), the
// console reads them with GET_GRPC_CLIENT_LIST. Name server and broker run through their role
// starters in this process; the proxy and the console are processes of their own; the client is
// rocketmq-client-nodejs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROLE_STARTERS } from '../../src/cli/roles.js';
import { silentLogger } from '../../src/common/logger.js';
import { loadConfig, type RoleHandle } from '../../src/config/index.js';
import { REPORT_GRPC_CLIENTS } from '../../src/console/grpc-client-list.js';
import { createRequest, RemotingClient, ResponseCode } from '../../src/remoting/index.js';
import { GrpcClients } from '../compat/helpers/grpc.js';
import { checkFor } from '../helpers/check-for.js';
import { spawnApogee } from '../helpers/spawn-apogee.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ApiClient } from './console-harness.js';

void test('console - issue 16: a 5.x consumer of a separate apogee proxy is online with protocol gRPC and its lag in apogee console -n', async () => {
  using dir = tempDir('apogee-console-proxy-');
  const handles: RoleHandle[] = [];
  const rc = new RemotingClient();
  let grpc: GrpcClients | undefined;
  try {
    handles.push(...(await ROLE_STARTERS.namesrv(loadConfig('namesrv', { flags: { listenPort: 0, host: '127.0.0.1' } }), { logger: silentLogger })));
    const namesrv = handles[0].addresses.namesrv;
    const brokerConfig = loadConfig('broker', {
      flags: { namesrvAddr: namesrv, listenPort: 0, grpcServerPort: 0, httpPort: 0, host: '127.0.0.1', brokerIP1: '127.0.0.1', storePathRootDir: join(dir.path, 'broker'), mappedFileSizeCommitLog: 64 * 1024 * 1024 },
    });
    handles.push(...(await ROLE_STARTERS.broker(brokerConfig, { logger: silentLogger })));
    const brokerAddr = handles.find((h) => h.addresses.broker)!.addresses.broker;

    // Bad reports are refused with a remark naming the cause.
    const bad = await rc.invoke(brokerAddr, createRequest(REPORT_GRPC_CLIENTS, undefined, Buffer.from('{"proxy":"p","ttlMs":0,"clients":[]}')));
    assert.equal(bad.code, ResponseCode.INVALID_PARAMETER);
    assert.match(bad.remark ?? '', /"ttlMs" must be a number/);
    const notJson = await rc.invoke(brokerAddr, createRequest(REPORT_GRPC_CLIENTS, undefined, Buffer.from('nope')));
    assert.deepEqual([notJson.code, notJson.remark], [ResponseCode.INVALID_PARAMETER, 'REPORT_GRPC_CLIENTS: the body is not JSON']);

    await using proxy = await spawnApogee(['proxy', '-n', namesrv, '--grpcServerPort=0', '--httpPort=0', '--host=127.0.0.1']);
    await using consoleProc = await spawnApogee(['console', '-n', namesrv, '--httpPort=0', '--host=127.0.0.1']);
    const api = new ApiClient(`http://${consoleProc.addresses.http}`);
    assert.equal((await api.post('/topics', { topic: 'ProxyGrpcTopic', readQueueNums: 2, writeQueueNums: 2 })).status, 200);
    assert.equal((await api.post('/groups', { group: 'GID_proxy_v5' })).status, 200);
    await checkFor(10_000, 100, async () => (await api.get('/topics/ProxyGrpcTopic')).status === 200, 'the route');

    grpc = new GrpcClients(proxy.addresses.grpc!);
    const producer = await grpc.producer('ProxyGrpcTopic');
    const sent = 6;
    for (let i = 0; i < sent; i++) await producer.send({ topic: 'ProxyGrpcTopic', body: Buffer.from(`via proxy ${i}`) });
    const consumer = await grpc.simpleConsumer('GID_proxy_v5', { ProxyGrpcTopic: '*' });
    const got = await consumer.receive(2, 30_000);
    assert.ok(got.length >= 1, 'the consumer received through the proxy');
    for (const m of got) await consumer.ack(m);

    const group = await checkFor(20_000, 200, async () => {
      const g = (await api.get('/groups/GID_proxy_v5')).body;
      return g.clients?.some((c: any) => c.protocol === 'grpc') && g.totalLag === sent - got.length ? g : undefined;
    }, 'the 5.x consumer online with its lag');
    const client = group.clients.find((c: any) => c.protocol === 'grpc');
    assert.equal(client.language, 'NODE_JS');
    assert.equal(client.clientType, 'simple consumer');
    assert.equal(group.clients.filter((c: any) => c.protocol === 'grpc').length, 1, 'one client, however many brokers report it');
    const row = (await api.get('/groups?filter=GID_proxy_v5')).body.items[0];
    assert.deepEqual([row.group, row.online, row.protocols, row.totalLag], ['GID_proxy_v5', 1, ['grpc'], sent - got.length]);

    // A client that leaves the proxy leaves the console within the proxy's next check.
    await grpc.close();
    grpc = undefined;
    await checkFor(15_000, 200, async () => (await api.get('/groups?filter=GID_proxy_v5')).body.items[0]?.online === 0, 'the client gone');
  } finally {
    await grpc?.close();
    await rc.close();
    for (const h of handles.reverse()) await h.close();
  }
});
