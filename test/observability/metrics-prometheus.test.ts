// Issue 14: a real Prometheus (Debian's package, installed by .ci/run) scrapes a broker driven by the
// real clients, ali-ons over remoting and rocketmq-client-nodejs over gRPC, and its HTTP API reads
// back what they did. promtool checks the shipped rules and scrape configuration, and every query of
// the shipped rules and Grafana dashboard is run against the live server.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { attachBrokerMetrics, startHttpServer } from '../../src/console/index.js';
import { checkFor } from '../helpers/check-for.js';
import { tempDir } from '../helpers/temp-dir.js';
import { createTopic, ons, OnsHarness } from '../compat/helpers/ali-ons.js';
import { GrpcHarness, receiveN } from '../compat/helpers/grpc.js';

const DEPLOY = fileURLToPath(new URL('../../deploy/prometheus/', import.meta.url));
const RULES = join(DEPLOY, 'rules.yml');

function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** The shipped scrape configuration pointed at one target, scraped and evaluated every second. */
function testConfig(target: string): string {
  const cfg = parse(readFileSync(join(DEPLOY, 'prometheus.yml'), 'utf8')) as {
    global: Record<string, string>;
    rule_files: string[];
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  cfg.global.scrape_interval = '1s';
  cfg.global.evaluation_interval = '1s';
  cfg.rule_files = cfg.rule_files.map((f) => join(DEPLOY, f));
  const broker = cfg.scrape_configs.find((j) => j.job_name === 'apogee-broker');
  assert.ok(broker, 'the shipped config has the apogee-broker job');
  broker.static_configs = [{ targets: [target] }];
  cfg.scrape_configs = [broker];
  return stringify(cfg);
}

interface Prometheus extends AsyncDisposable {
  query(expr: string): Promise<{ status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } }>;
  /** The value of a query that yields one sample, or undefined while it yields none. */
  scalar(expr: string): Promise<number | undefined>;
  get(path: string): Promise<unknown>;
}

async function startPrometheus(dir: string, config: string): Promise<Prometheus> {
  const cfgPath = join(dir, 'prometheus.yml');
  writeFileSync(cfgPath, config);
  const checked = await run('promtool', ['check', 'config', cfgPath]);
  assert.equal(checked.code, 0, checked.out);
  const addr = `127.0.0.1:${await freePort()}`;
  const child: ChildProcess = spawn('prometheus', [`--config.file=${cfgPath}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${addr}`, '--log.level=warn'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  };
  const get = async (path: string): Promise<unknown> => (await fetch(`http://${addr}${path}`)).json();
  const query = async (expr: string) => (await get(`/api/v1/query?query=${encodeURIComponent(expr)}`)) as Awaited<ReturnType<Prometheus['query']>>;
  try {
    await checkFor(30_000, 200, async () => (await fetch(`http://${addr}/-/ready`)).ok, `prometheus ready (stderr: ${stderr.slice(-500)})`);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    query,
    get,
    scalar: async (expr) => {
      const r = await query(expr);
      assert.equal(r.status, 'success', r.error);
      const v = r.data!.result[0]?.value[1];
      return v === undefined ? undefined : Number(v);
    },
    [Symbol.asyncDispose]: stop,
  };
}

void test('metrics - promtool accepts the shipped alerting rules and scrape config, and refuses a broken rule', async () => {
  const rules = await run('promtool', ['check', 'rules', RULES]);
  assert.equal(rules.code, 0, rules.out);
  assert.match(rules.out, /SUCCESS: 8 rules found/);
  const config = await run('promtool', ['check', 'config', join(DEPLOY, 'prometheus.yml')]);
  assert.equal(config.code, 0, config.out);
  using dir = tempDir();
  const broken = join(dir.path, 'broken.yml');
  writeFileSync(broken, readFileSync(RULES, 'utf8').replace('rocketmq_consumer_lag_messages{is_system="false"}) > 1000', 'rocketmq_consumer_lag_messages{is_system="false"} > 1000'));
  const bad = await run('promtool', ['check', 'rules', broken]);
  assert.notEqual(bad.code, 0, 'a rule with unbalanced parentheses is refused');
});

void test('metrics - a real Prometheus reads messages in per topic from ali-ons and 5.x sends, and consumer lag back to 0 after consumption', async () => {
  await using h = await GrpcHarness.start();
  await using onsH = new OnsHarness(h.s);
  const m = attachBrokerMetrics(h.s.controller, { grpc: h.g });
  const http = await startHttpServer({ host: '127.0.0.1', port: 0, registry: m.metrics.registry });
  using dir = tempDir();
  try {
    await using prom = await startPrometheus(dir.path, testConfig(http.address));
    const topic = 'PromTopic';
    await createTopic(h.s, topic, 4);
    const onsProducer = await onsH.producer('GID_prom_p');
    const grpcProducer = await h.producer(topic);
    const onsSend = async (n: number, tag: string): Promise<void> => {
      for (let i = 0; i < n; i++) assert.equal((await onsProducer.send(new ons.Message(topic, tag, Buffer.from(`${tag} ${i}`)))).sendStatus, 'SEND_OK');
    };
    await onsSend(20, 'first');
    for (let i = 0; i < 15; i++) await grpcProducer.send({ topic, tag: 'grpc', body: Buffer.from(`5.x ${i}`) });

    // Both groups consume everything there is: ali-ons pulls (remoting), the 5.x client pops (gRPC).
    const seen = new Set<string>();
    const onsConsumer = await onsH.consumer({ consumerGroup: 'GID_prom_ons' }, topic, '*', async (msg) => {
      seen.add(msg.body.toString());
    });
    await checkFor(20_000, 50, () => seen.size === 35, 'ali-ons consumed the 35 messages');
    const simple = await h.simpleConsumer('GID_prom_grpc', { [topic]: '*' });
    assert.equal((await receiveN(simple, 35, 20_000)).length, 35);

    // Connections of both protocols: the 5.x clients through the in-process gRPC endpoint.
    const conns = (sel: string) => prom.scalar(`sum(rocketmq_consumer_connections{${sel}})`);
    await checkFor(20_000, 250, async () => (await conns('consumer_group="GID_prom_ons", protocol_type="remoting", version="v3_4_9"')) === 1 && (await conns('consumer_group="GID_prom_grpc", protocol_type="grpc", consume_mode="pop", language="node_js"')) === 1, 'an ali-ons and a 5.x consumer connected');
    assert.ok(((await prom.scalar('sum(rocketmq_producer_connections{protocol_type="grpc", language="node_js"})')) ?? 0) >= 1, 'the 5.x producer is connected');

    const sent = `sum(rocketmq_messages_in_total{topic="${topic}"})`;
    await checkFor(20_000, 250, async () => (await prom.scalar(sent)) === 35, 'Prometheus reads 35 messages in');
    const lag = (group: string) => `sum(rocketmq_consumer_lag_messages{consumer_group="${group}", topic="${topic}"})`;
    await checkFor(20_000, 250, async () => (await prom.scalar(lag('GID_prom_ons'))) === 0 && (await prom.scalar(lag('GID_prom_grpc'))) === 0, 'both groups caught up');

    // With the consumers gone, new messages pile up: Prometheus sees the lag of both groups...
    await onsH.closeConsumer(onsConsumer);
    await h.shutdown(simple);
    await onsSend(10, 'second');
    await checkFor(20_000, 250, async () => (await prom.scalar(sent)) === 45, 'Prometheus reads 45 messages in');
    await checkFor(20_000, 250, async () => (await prom.scalar(lag('GID_prom_ons'))) === 10 && (await prom.scalar(lag('GID_prom_grpc'))) === 10, 'a lag of 10 for both groups');
    const latency = await prom.scalar(`max(rocketmq_consumer_lag_latency{consumer_group="GID_prom_ons"})`);
    assert.ok(latency !== undefined && latency > 0, `the oldest unconsumed message has an age (${latency} ms)`);

    // ...and back to 0 once consumers drain it.
    const again = new Set<string>();
    await onsH.consumer({ consumerGroup: 'GID_prom_ons' }, topic, '*', async (msg) => {
      again.add(msg.body.toString());
    });
    const simple2 = await h.simpleConsumer('GID_prom_grpc', { [topic]: '*' });
    assert.equal((await receiveN(simple2, 10, 20_000)).length, 10);
    await checkFor(20_000, 50, () => again.size === 10, 'ali-ons consumed the 10 new messages');
    await checkFor(20_000, 250, async () => (await prom.scalar(lag('GID_prom_ons'))) === 0 && (await prom.scalar(lag('GID_prom_grpc'))) === 0, 'the lag of both groups back to 0');
    assert.equal(await prom.scalar(`sum(rocketmq_messages_out_total{topic="${topic}", consumer_group="GID_prom_ons"})`), 45);
    assert.equal(await prom.scalar(`sum(rocketmq_rpc_latency_count{protocol_type="grpc", request_code="send_message", response_code="ok"})`), 15);
    assert.equal(await prom.scalar(`sum(rocketmq_messages_in_total{topic="${topic}", message_type="normal", is_system="false", cluster="DefaultCluster", node_type="broker", node_id="broker-a"})`), 45);
    assert.ok(((await prom.scalar('process_resident_memory_bytes')) ?? 0) > 0, 'Node process metrics are scraped too');

    // Every expression the shipped rules and dashboard use is valid PromQL for this Prometheus.
    const rules = (await prom.get('/api/v1/rules')) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    assert.equal(loaded.length, 8);
    await checkFor(10_000, 250, async () => {
      const r = (await prom.get('/api/v1/rules')) as typeof rules;
      return r.data.groups.flatMap((g) => g.rules).every((x) => x.health === 'ok');
    }, 'every rule evaluated without error');
    const dashboard = JSON.parse(readFileSync(join(DEPLOY, 'grafana-dashboard.json'), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr.replace(/\$(cluster|broker|topic)/g, '.*') })));
    assert.ok(exprs.length > 20);
    for (const { title, expr } of exprs) {
      const r = await prom.query(expr);
      assert.equal(r.status, 'success', `panel "${title}": ${expr}: ${r.error}`);
    }
  } finally {
    await http.close();
    m.detach();
  }
});
