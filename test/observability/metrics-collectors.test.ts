// Issue 14: the broker's collectors, read back by scraping GET /metrics and parsing the text format.
// The broker runs in-process; traffic comes from the TypeScript remoting client, which gives exact
// control over pulls and committed offsets (lag, in flight and ready are checked step by step).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { AdminClient, Producer, PullConsumer, type MessageQueue } from '../../src/client/index.js';
import { attachBrokerMetrics, startBrokerConsole, startHttpServer } from '../../src/console/index.js';
import { BrokerMetrics, versionDesc, type BrokerMetricsView, type ConsumerProgress } from '../../src/observability/metrics/index.js';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';
import { find, one, parseMetrics, scrape, total, type Sample } from './metrics-helpers.js';

async function withMetrics(s: Standalone) {
  const m = attachBrokerMetrics(s.controller, { processMetrics: false });
  const http = await startHttpServer({ host: '127.0.0.1', port: 0, registry: m.metrics.registry });
  return {
    m,
    http,
    scrape: () => scrape(http.address),
    [Symbol.asyncDispose]: async () => {
      await http.close();
      m.detach();
    },
  };
}

async function createTopic(s: Standalone, admin: AdminClient, topic: string, queues: number): Promise<void> {
  await admin.createTopic(s.brokerAddr, topic, { readQueueNums: queues, writeQueueNums: queues });
  await checkFor(5000, 20, () => admin.topicRoute(topic).then(() => true), `route of ${topic}`);
}

void test('metrics - sends, batches, delays and transactions are counted per topic and message type', async () => {
  await using s = await startStandalone();
  await using h = await withMetrics(s);
  const admin = new AdminClient({ namesrvAddr: s.namesrvAddr });
  const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-metrics' });
  try {
    await createTopic(s, admin, 'MetricsIn', 2);
    await producer.start();
    for (let i = 0; i < 7; i++) await producer.send({ topic: 'MetricsIn', body: Buffer.alloc(100 + i) });
    const batch = Array.from({ length: 5 }, (_, i) => ({ topic: 'MetricsIn', body: `batch ${i}` }));
    await producer.sendBatch(batch);
    await producer.send({ topic: 'MetricsIn', body: 'later', delayTimeLevel: 2 });
    await producer.send({ topic: 'MetricsIn', body: 'half', properties: { TRAN_MSG: 'true' } });

    const m = await h.scrape();
    const normal = { topic: 'MetricsIn', message_type: 'normal', is_system: 'false' };
    assert.equal(one(m, 'rocketmq_messages_in_total', normal).value, 12, 'seven single sends and a batch of five');
    assert.equal(one(m, 'rocketmq_messages_in_total', { topic: 'MetricsIn', message_type: 'delay' }).value, 1);
    assert.equal(one(m, 'rocketmq_messages_in_total', { topic: 'MetricsIn', message_type: 'transaction' }).value, 1);
    assert.ok(one(m, 'rocketmq_throughput_in_total', normal).value > 7 * 100 + 5 * 7, 'stored bytes, bodies and headers');
    // One size per put, as RocketMQ records it: eight puts, all under 1 KiB.
    assert.equal(one(m, 'rocketmq_message_size_count', { topic: 'MetricsIn', message_type: 'normal' }).value, 8);
    assert.equal(one(m, 'rocketmq_message_size_bucket', { topic: 'MetricsIn', message_type: 'normal', le: '1024' }).value, 8);
    // Every series carries RocketMQ's common labels.
    for (const sample of find(m, 'rocketmq_messages_in_total')) {
      assert.deepEqual([sample.labels.cluster, sample.labels.node_type, sample.labels.node_id], ['DefaultCluster', 'broker', 'broker-a']);
    }
    const sends = total(m, 'rocketmq_rpc_latency_count', { protocol_type: 'remoting', request_code: 'send_message_v2', response_code: 'success', is_long_polling: 'false', result: 'success' });
    assert.equal(sends, 9, 'single sends answered SUCCESS (the batch is its own code)');
    assert.equal(total(m, 'rocketmq_rpc_latency_count', { request_code: 'send_batch_message', response_code: 'success' }), 1);
    assert.equal(one(m, 'apogee_delay_backlog_messages', { delay_level: '2' }).value, 1);
    assert.equal(one(m, 'rocketmq_half_messages').value, 1);
    assert.ok(one(m, 'apogee_half_messages_oldest_age_ms').value >= 0);
    assert.equal(one(m, 'rocketmq_producer_offset', { topic: 'MetricsIn', broker: 'broker-a' }).value, 12);
    assert.ok(one(m, 'rocketmq_producer_tps', { topic: 'MetricsIn' }).value > 0);
    assert.equal(one(m, 'rocketmq_brokeruntime_msg_put_total_today_now').value, 14);
    assert.equal(total(m, 'rocketmq_brokeruntime_pmdt_0ms') + total(m, 'rocketmq_brokeruntime_pmdt_0to10ms') + total(m, 'rocketmq_brokeruntime_pmdt_10to50ms') + total(m, 'rocketmq_brokeruntime_pmdt_50to100ms') + total(m, 'rocketmq_brokeruntime_pmdt_100to200ms') + total(m, 'rocketmq_brokeruntime_pmdt_200to500ms') + total(m, 'rocketmq_brokeruntime_pmdt_500to1s') + total(m, 'rocketmq_brokeruntime_pmdt_1to2s') + total(m, 'rocketmq_brokeruntime_pmdt_2to3s') + total(m, 'rocketmq_brokeruntime_pmdt_3to4s') + total(m, 'rocketmq_brokeruntime_pmdt_4to5s') + total(m, 'rocketmq_brokeruntime_pmdt_5to10s') + total(m, 'rocketmq_brokeruntime_pmdt_10stomore'), 10, 'every send in one put-latency band');
  } finally {
    await producer.shutdown();
    await admin.shutdown();
  }
});

void test('metrics - lag, in flight and ready follow pulls and committed offsets; DLQ and retries per group', async () => {
  await using s = await startStandalone();
  await using h = await withMetrics(s);
  const admin = new AdminClient({ namesrvAddr: s.namesrvAddr });
  const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-lag' });
  const consumer = new PullConsumer({ namesrvAddr: s.namesrvAddr, consumerGroup: 'cg-lag' });
  try {
    await createTopic(s, admin, 'MetricsLag', 1);
    await producer.start();
    await consumer.start();
    for (let i = 0; i < 10; i++) await producer.send({ topic: 'MetricsLag', body: `m${i}` });
    const [mq] = (await consumer.fetchSubscribeMessageQueues('MetricsLag')) as MessageQueue[];
    await consumer.updateConsumeOffset(mq, 0);
    const lagLabels = { consumer_group: 'cg-lag', topic: 'MetricsLag', is_retry: 'false', is_system: 'false' };
    const progress = (m: Sample[]) => ({
      lag: one(m, 'rocketmq_consumer_lag_messages', lagLabels).value,
      inflight: one(m, 'rocketmq_consumer_inflight_messages', lagLabels).value,
      ready: one(m, 'rocketmq_consumer_ready_messages', lagLabels).value,
    });

    let m = await h.scrape();
    assert.deepEqual(progress(m), { lag: 10, inflight: 0, ready: 10 });
    assert.equal(one(m, 'rocketmq_group_diff', { group: 'cg-lag', topic: 'MetricsLag', msgModel: '1' }).value, 10);
    await checkFor(2000, 10, async () => one(await h.scrape(), 'rocketmq_consumer_lag_latency', lagLabels).value > 0, 'the oldest unconsumed message ages');

    const first = await consumer.pull(mq, '*', 0, 4);
    assert.equal(first.msgs.length, 4);
    m = await h.scrape();
    assert.deepEqual(progress(m), { lag: 10, inflight: 4, ready: 6 });
    assert.equal(one(m, 'rocketmq_messages_out_total', { topic: 'MetricsLag', consumer_group: 'cg-lag' }).value, 4);
    // The first pull sent the client's heartbeat: its consumer is connected now.
    const consumers = one(m, 'rocketmq_consumer_connections', { consumer_group: 'cg-lag' });
    assert.deepEqual([consumers.value, consumers.labels.consume_mode, consumers.labels.is_system, consumers.labels.version], [1, 'pull', 'false', 'v5_3_3']);
    assert.equal(one(m, 'rocketmq_group_diff', { group: 'cg-lag', topic: 'MetricsLag', countOfOnlineConsumers: '1' }).value, 10);

    await consumer.updateConsumeOffset(mq, 4);
    m = await h.scrape();
    assert.deepEqual(progress(m), { lag: 6, inflight: 0, ready: 6 });
    assert.equal(one(m, 'rocketmq_consumer_offset', { topic: 'MetricsLag', group: 'cg-lag' }).value, 4);

    // The first pulled message goes back once for a retry and once past its maximum: to the DLQ.
    const back = (maxReconsumeTimes: number) =>
      rc.invoke(
        s.brokerAddr,
        createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, {
          offset: first.msgs[0].commitLogOffset,
          group: 'cg-lag',
          delayLevel: 0,
          originMsgId: first.msgs[0].msgId,
          originTopic: 'MetricsLag',
          maxReconsumeTimes,
        }),
      );
    const rc = new RemotingClient();
    try {
      assert.equal((await back(16)).code, ResponseCode.SUCCESS);
      assert.equal((await back(0)).code, ResponseCode.SUCCESS);
      // A producer announcing itself as ali-ons does (V3_4_9 = 121).
      const beat = createRequest(RequestCode.HEART_BEAT, {}, Buffer.from(JSON.stringify({ clientID: 'raw@1', producerDataSet: [{ groupName: 'pg-raw' }], consumerDataSet: [] })));
      beat.version = 121;
      assert.equal((await rc.invoke(s.brokerAddr, beat)).code, ResponseCode.SUCCESS);
      const producers = one(await h.scrape(), 'rocketmq_producer_connections', { version: 'v3_4_9' });
      assert.deepEqual([producers.value, producers.labels.language, producers.labels.protocol_type], [1, 'java', 'remoting']);
      assert.equal(one(await h.scrape(), 'rocketmq_producer_count', { group: 'pg-raw' }).value, 1);
    } finally {
      await rc.close();
    }
    const rest = await consumer.pull(mq, '*', 4, 32);
    assert.equal(rest.msgs.length, 6);
    await consumer.updateConsumeOffset(mq, 10);
    m = await h.scrape();
    assert.deepEqual(progress(m), { lag: 0, inflight: 0, ready: 0 });
    assert.equal(one(m, 'rocketmq_consumer_lag_latency', lagLabels).value, 0);
    assert.equal(one(m, 'rocketmq_messages_out_total', { topic: 'MetricsLag', consumer_group: 'cg-lag' }).value, 10);
    assert.equal(one(m, 'rocketmq_send_to_dlq_messages_total', { consumer_group: 'cg-lag', topic: 'MetricsLag' }).value, 1);
    assert.equal(one(m, 'apogee_consumer_retry_messages_total', { consumer_group: 'cg-lag', topic: 'MetricsLag' }).value, 1);
    assert.equal(one(m, 'apogee_dlq_messages', { consumer_group: 'cg-lag' }).value, 1);
    assert.equal(one(m, 'rocketmq_group_dlqdiff', { group: 'cg-lag', topic: '%DLQ%cg-lag' }).value, 1);
    assert.equal(one(m, 'rocketmq_topic_dlq_offset', { group: 'cg-lag' }).value, 1);
    assert.equal(one(m, 'apogee_delay_backlog_messages', { delay_level: '3' }).value, 1, 'the retry waits at level 3 (10 s)');
    assert.equal(h.m.metrics.deadLettersOf('cg-lag'), 1);
  } finally {
    await consumer.shutdown();
    await producer.shutdown();
    await admin.shutdown();
  }
});

void test('metrics - request latency names request and response codes as RocketMQ, unknown codes bounded', async () => {
  await using s = await startStandalone();
  await using h = await withMetrics(s);
  const rc = new RemotingClient();
  try {
    for (const code of [9999, 12345, 777]) assert.equal((await rc.invoke(s.brokerAddr, createRequest(code, {}))).code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    assert.equal((await rc.invoke(s.brokerAddr, createRequest(RequestCode.GET_BROKER_RUNTIME_INFO, {}))).code, ResponseCode.SUCCESS);
    // A pull allowed to wait is long polling; it is answered when its timeout passes.
    const pull = await rc.invoke(
      s.brokerAddr,
      createRequest(RequestCode.PULL_MESSAGE, { consumerGroup: 'cg-rpc', topic: 'TBW102', queueId: 0, queueOffset: 0, maxMsgNums: 1, sysFlag: 2, commitOffset: 0, suspendTimeoutMillis: 200, subVersion: 0 }),
      5000,
    );
    assert.notEqual(pull.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
  } finally {
    await rc.close();
  }
  const m = await h.scrape();
  const unknown = one(m, 'rocketmq_rpc_latency_count', { request_code: 'unknown' });
  assert.equal(unknown.value, 3, 'three unknown codes share one series');
  assert.equal(unknown.labels.response_code, 'request_code_not_supported');
  assert.equal(one(m, 'rocketmq_rpc_latency_count', { request_code: 'get_broker_runtime_info', response_code: 'success' }).value, 1);
  const pulls = find(m, 'rocketmq_rpc_latency_count', { request_code: 'pull_message' });
  assert.equal(pulls.length, 1);
  assert.equal(pulls[0].labels.is_long_polling, 'true');
  // Buckets are cumulative and end with +Inf = count.
  const buckets = find(m, 'rocketmq_rpc_latency_bucket', { request_code: 'get_broker_runtime_info' }).map((b) => b.value);
  assert.deepEqual([...buckets].sort((a, b) => a - b), buckets);
  assert.equal(buckets.at(-1), 1);
});

void test('metrics - metricsEnable=false adds no hook and /metrics says metrics are off', async () => {
  await using s = await startStandalone();
  const hooks = s.controller.hooks;
  // Other features (the broker-side trace) may listen too: what metrics adds is the difference.
  const counts = (): number[] => [hooks.stored.length, hooks.delivered.length, hooks.retried.length, hooks.deadLettered.length];
  const before = counts();
  const c = await startBrokerConsole(s.controller, { host: '127.0.0.1', httpPort: 0, metricsEnable: false, logger: s.controller.logger });
  try {
    assert.deepEqual(counts(), before);
    const r = await fetch(`http://${c.addresses.http}/metrics`);
    assert.equal(r.status, 404);
    assert.match(await r.text(), /metricsEnable=false/);
  } finally {
    await c.close();
  }
  // And with metrics on, closing the console takes its hooks away again.
  const on = await startBrokerConsole(s.controller, { host: '127.0.0.1', httpPort: 0, metricsEnable: true, logger: s.controller.logger });
  assert.deepEqual(counts(), before.map((n) => n + 1));
  await on.close();
  assert.deepEqual(counts(), before);
});

/** A view with fixed numbers: the gauge and exporter collectors alone, no broker. */
function fakeView(rows: ConsumerProgress[]): BrokerMetricsView {
  // Fixed when the view is made: a scrape takes its time before it reads the store, so a value
  // computed inside store() could be younger than 60 s by the milliseconds between the two.
  const earliestMessageMs = Date.now() - 60_000;
  return {
    identity: () => ({ cluster: 'C1', brokerName: 'b1', brokerAddr: '10.0.0.1:10911', bootTimestamp: 1700000000000, permission: 6 }),
    topicOffsets: () => [
      { topic: 'Orders', minOffset: 0, maxOffset: 50 },
      { topic: '%RETRY%g-pop', minOffset: 0, maxOffset: 3 },
      { topic: '%DLQ%g-pop', minOffset: 2, maxOffset: 9 },
    ],
    topicCount: () => 3,
    groupCount: () => 2,
    topicMessageType: (t) => (t === 'Fifo' ? 'fifo' : 'normal'),
    consumerProgress: () => Promise.resolve(rows),
    producerConnections: () => [
      { group: 'p', language: 'JAVA', version: 401, protocol: 'remoting', count: 2 },
      { group: 'q', language: 'JAVA', version: 401, protocol: 'remoting', count: 1 },
    ],
    consumerConnections: () => [{ group: 'CID_RMQ_SYS_X', language: 'GO', version: 212, consumeMode: 'pop', protocol: 'remoting', count: 1 }],
    store: () =>
      Promise.resolve({
        diskTotalBytes: 1000,
        diskUsedBytes: 250,
        diskUsageRatio: 0.25,
        diskWarningRatio: 0.9,
        commitLogMinOffset: 0,
        commitLogMaxOffset: 4096,
        flushBehindBytes: 96,
        dispatchBehindBytes: 0,
        earliestMessageMs,
      }),
    timer: () => ({ backlog: 7, enqueueLag: 2, delivered: 11 }),
    delayLevels: () => [{ level: 1, backlog: 4 }],
    halfMessages: () => Promise.resolve({ count: 0, oldestMs: 0 }),
  };
}

void test('metrics - collectors over a view: pop retry rows, exporter diffs, connections and store gauges', async () => {
  const now = Date.now();
  const row = (topic: string, lag: number): ConsumerProgress => ({
    group: 'g-pop',
    topic,
    lag,
    earliestUnconsumedMs: lag > 0 ? now - 5000 : 0,
    inflight: 1,
    earliestUnpulledMs: 0,
    ready: 0,
    consumerOffset: 40,
    brokerOffset: 50,
    onlineConsumers: 2,
    messageModel: 'CLUSTERING',
  });
  const registry = new Registry();
  registry.setDefaultLabels({ cluster: 'C1', node_type: 'broker', node_id: 'b1' });
  const metrics = new BrokerMetrics({ registry, view: fakeView([row('Orders', 10), row('%RETRY%g-pop_Orders', 3), row('%RETRY%g-pop', 0)]) });
  const m = parseMetrics(await registry.metrics());

  // A pop retry topic reports its origin topic with is_retry=true (ConsumerLagCalculator).
  assert.equal(one(m, 'rocketmq_consumer_lag_messages', { consumer_group: 'g-pop', topic: 'Orders', is_retry: 'false' }).value, 10);
  assert.equal(one(m, 'rocketmq_consumer_lag_messages', { consumer_group: 'g-pop', topic: 'Orders', is_retry: 'true' }).value, 3);
  assert.equal(one(m, 'rocketmq_consumer_lag_messages', { consumer_group: 'g-pop', topic: '%RETRY%g-pop', is_retry: 'true' }).value, 0);
  const latency = one(m, 'rocketmq_consumer_lag_latency', { topic: 'Orders', is_retry: 'false' }).value;
  assert.ok(latency >= 5000 && latency < 60_000, `lag latency ${latency} ms`);
  assert.equal(one(m, 'rocketmq_group_diff', { group: 'g-pop', topic: 'Orders', countOfOnlineConsumers: '2', msgModel: '1' }).value, 10);
  assert.equal(one(m, 'rocketmq_group_retrydiff', { group: 'g-pop', topic: '%RETRY%g-pop_Orders' }).value, 3);
  assert.equal(one(m, 'rocketmq_group_dlqdiff', { group: 'g-pop', topic: '%DLQ%g-pop', countOfOnlineConsumers: '2' }).value, 7);
  assert.equal(one(m, 'rocketmq_topic_retry_offset', { topic: '%RETRY%g-pop' }).value, 3);
  assert.equal(find(m, 'rocketmq_producer_offset', { topic: '%RETRY%g-pop' }).length, 0, 'retry topics are not producer offsets');
  assert.equal(one(m, 'rocketmq_producer_connections', { language: 'java', version: 'v4_9_4' }).value, 3);
  assert.equal(one(m, 'rocketmq_producer_count', { group: 'p' }).value, 2);
  const sys = one(m, 'rocketmq_consumer_connections', { consumer_group: 'CID_RMQ_SYS_X' });
  assert.deepEqual([sys.labels.is_system, sys.labels.consume_mode, sys.labels.version, sys.labels.language], ['true', 'pop', 'v4_0_0_snapshot', 'go']);
  assert.equal(one(m, 'rocketmq_storage_size', { storage_type: 'local', storage_medium: 'disk' }).value, 250);
  assert.equal(one(m, 'rocketmq_storage_flush_behind_bytes').value, 96);
  assert.equal(one(m, 'apogee_disk_usage_ratio').value, 0.25);
  assert.equal(one(m, 'rocketmq_brokeruntime_commitlogdir_capacity_free', { brokerIP: '10.0.0.1:10911', des: 'V5_3_3', boottime: '1700000000000' }).value, 750);
  assert.equal(one(m, 'apogee_timer_backlog_messages').value, 7);
  assert.equal(one(m, 'rocketmq_timer_enqueue_lag').value, 2);
  assert.equal(one(m, 'apogee_delay_backlog_messages', { delay_level: '1' }).value, 4);
  assert.equal(one(m, 'rocketmq_topic_number').value, 3);
  assert.ok(one(m, 'rocketmq_storage_message_reserve_time').value >= 60_000);
  assert.equal(metrics.rpc.sendFailures(), 0);
  assert.equal(versionDesc(479), 'v5_3_3');
  assert.equal(versionDesc(121), 'v3_4_9', "ali-ons' version");
  assert.equal(versionDesc(7), 'v3_0_0_beta6_snapshot');
  assert.equal(versionDesc(5000), '5000', 'past V5_9_9 the number itself');
});

void test('metrics - a failing part of the view is reported and the rest is still served', async () => {
  const registry = new Registry();
  const failed: string[] = [];
  const view = fakeView([]);
  view.store = () => Promise.reject(new Error('statfs failed'));
  new BrokerMetrics({ registry, view, onError: (_err, part) => failed.push(part) });
  const m = parseMetrics(await registry.metrics());
  assert.deepEqual(failed, ['store']);
  assert.equal(find(m, 'rocketmq_storage_size').length, 0);
  assert.equal(one(m, 'rocketmq_topic_number').value, 3);
});
