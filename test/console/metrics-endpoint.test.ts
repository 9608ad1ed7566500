// Issue 14: GET /metrics of the real `apogee` roles. The ready line names the HTTP listener
// (http=host:port); a broker process serves broker metrics, `apogee proxy` its gRPC-side metrics
// (driven here by the real 5.x client through the proxy), and metricsEnable=false turns them off.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROLE_STARTERS } from '../../src/cli/roles.js';
import { silentLogger } from '../../src/common/logger.js';
import { loadConfig } from '../../src/config/index.js';
import { checkFor } from '../helpers/check-for.js';
import { spawnApogee } from '../helpers/spawn-apogee.js';
import { startStandalone } from '../helpers/standalone.js';
import { tempDir } from '../helpers/temp-dir.js';
import { createTopic, GrpcClients, receiveN } from '../compat/helpers/grpc.js';
import { find, one, scrape } from '../observability/metrics-helpers.js';

void test('console - apogee standalone names http in its ready line and serves broker metrics on /metrics', async () => {
  using dir = tempDir();
  await using apogee = await spawnApogee([
    'standalone',
    '--namesrvPort=0',
    '--listenPort=0',
    '--grpcServerPort=0',
    '--httpPort=0',
    '--host=127.0.0.1',
    '--brokerIP1=127.0.0.1',
    '--brokerName=broker-http',
    '--storePathRootDir',
    join(dir.path, 'data'),
  ]);
  const http = apogee.addresses.http;
  assert.match(http ?? '', /^127\.0\.0\.1:\d+$/);
  assert.match(apogee.stdout(), /^apogee ready: namesrv=\S+ broker=\S+ (ha=\S+ )?grpc=\S+ http=\S+( \S+)*$/m);
  const m = await scrape(http!);
  const topics = one(m, 'rocketmq_topic_number');
  assert.deepEqual([topics.labels.node_type, topics.labels.node_id, topics.labels.cluster], ['broker', 'broker-http', 'DefaultCluster']);
  assert.ok(topics.value > 0, 'system topics exist from the start');
  assert.ok(find(m, 'nodejs_heap_size_used_bytes').length === 1, 'Node process metrics');
  const notFound = await fetch(`http://${http}/nope`);
  assert.equal(notFound.status, 404);
  assert.deepEqual(await apogee.stop('SIGTERM'), { code: 0, signal: null });
});

void test('console - apogee proxy serves gRPC latency, proxy_up and the messages that went through it', async () => {
  await using s = await startStandalone();
  await createTopic(s, 'ProxyMetrics');
  await using proxy = await spawnApogee(['proxy', '-n', s.namesrvAddr, '--grpcServerPort=0', '--httpPort=0', '--host=127.0.0.1']);
  assert.match(proxy.stdout(), /^apogee ready: grpc=\S+ http=\S+$/m);
  const clients = new GrpcClients(proxy.addresses.grpc!);
  try {
    const producer = await clients.producer('ProxyMetrics');
    for (let i = 0; i < 3; i++) await producer.send({ topic: 'ProxyMetrics', tag: 't', body: Buffer.from(`via proxy ${i}`) });
    const consumer = await clients.simpleConsumer('GID_proxy_metrics', { ProxyMetrics: '*' });
    assert.equal((await receiveN(consumer, 3, 20_000)).length, 3);
  } finally {
    await clients.close();
  }
  const http = proxy.addresses.http!;
  const m = await checkFor(10_000, 100, async () => {
    const got = await scrape(http);
    return find(got, 'rocketmq_messages_out_total').length > 0 ? got : undefined;
  }, 'the acknowledgements counted');
  const up = one(m, 'rocketmq_proxy_up', { proxy_mode: 'cluster' });
  assert.deepEqual([up.value, up.labels.node_type], [1, 'proxy']);
  assert.equal(one(m, 'rocketmq_messages_in_total', { topic: 'ProxyMetrics', message_type: 'normal' }).value, 3);
  assert.ok(one(m, 'rocketmq_throughput_in_total', { topic: 'ProxyMetrics' }).value >= 3 * 'via proxy 0'.length);
  assert.equal(one(m, 'rocketmq_messages_out_total', { topic: 'ProxyMetrics', consumer_group: 'GID_proxy_metrics' }).value, 3);
  const sends = one(m, 'rocketmq_rpc_latency_count', { protocol_type: 'grpc', request_code: 'send_message', response_code: 'ok' });
  assert.equal(sends.value, 3);
  assert.equal(sends.labels.is_long_polling, 'false');
  assert.equal(find(m, 'rocketmq_rpc_latency_count', { protocol_type: 'grpc', request_code: 'receive_message', is_long_polling: 'true' }).length, 1);
  assert.ok(find(m, 'rocketmq_rpc_latency_count', { protocol_type: 'grpc', request_code: 'query_route' }).length > 0);
  assert.equal(find(m, 'rocketmq_consumer_lag_messages').length, 0, 'broker gauges are the brokers’ own');
});

void test('console - metricsEnable=false: the proxy role still serves httpPort, and /metrics says metrics are off', async () => {
  await using s = await startStandalone();
  const config = loadConfig('proxy', { flags: { namesrvAddr: s.namesrvAddr, grpcServerPort: 0, httpPort: 0, host: '127.0.0.1', metricsEnable: 'false' } });
  const handles = await ROLE_STARTERS.proxy(config, { logger: silentLogger });
  try {
    const http = handles.map((h) => h.addresses.http).find((a) => a !== undefined);
    assert.ok(http, 'the proxy role names its HTTP listener');
    const r = await fetch(`http://${http}/metrics`);
    assert.equal(r.status, 404);
    assert.match(await r.text(), /metrics are off on this node \(metricsEnable=false\)/);
  } finally {
    for (const h of handles.reverse()) await h.close();
  }
});
