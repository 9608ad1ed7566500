// Issue 14: notifications in Alertmanager's webhook format (version 4) to a real HTTP server on
// 127.0.0.1, retried with doubling waits when the server fails, given up after maxAttempts, not
// retried when the server refuses the request itself (4xx); the log gets every transition.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { AlarmEngine } from '../../src/observability/alarms/engine.js';
import { parseAlarmRules, type WebhookConfig } from '../../src/observability/alarms/rules.js';
import type { AlarmView, BrokerEntry, HalfMessages, ReplicaLag, TopicProgress } from '../../src/observability/alarms/view.js';
import { alertmanagerPayload, alertOf, WebhookSender, ZERO_TIME } from '../../src/observability/alarms/webhook.js';
import { checkFor } from '../helpers/check-for.js';
import { startHookServer } from './alarms-hook-server.js';

/** The view of a broker whose figures the test sets (the real one is tested end to end). */
class ScriptedView implements AlarmView {
  cluster = 'DefaultCluster';
  brokerName = 'broker-a';
  brokerId = 0;
  brokerAddr = '127.0.0.1:10911';
  disk = 10;
  isMaster(): boolean {
    return true;
  }
  groups(): string[] {
    return [];
  }
  progress(): Promise<TopicProgress[]> {
    return Promise.resolve([]);
  }
  dlqMessages(): number {
    return 0;
  }
  diskUsagePercent(): number {
    return this.disk;
  }
  sendFailuresTotal(): number {
    return 0;
  }
  brokers(): Promise<BrokerEntry[] | undefined> {
    return Promise.resolve(undefined);
  }
  replicationLag(): ReplicaLag[] | undefined {
    return undefined;
  }
  halfMessages(): Promise<HalfMessages> {
    return Promise.resolve({ count: 0, oldestAgeMs: 0, truncated: false });
  }
}

/** A pino logger whose lines the test reads. */
function memoryLogger(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk.toString());
      cb();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  return { logger, lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const webhook = (url: string, over: Partial<WebhookConfig> = {}): WebhookConfig => ({
  name: 'ops',
  url,
  sendResolved: true,
  maxAttempts: 5,
  backoffMs: 50,
  timeoutMs: 2000,
  line: 1,
  ...over,
});

const samplePayload = (summary: string) =>
  alertmanagerPayload('ops', 'disk', [alertOf('firing', { alertname: 'disk', broker: 'broker-a' }, { summary }, Date.UTC(2025, 0, 2, 3, 4, 5), undefined)]);

void test('alarms webhook - firing then resolved reach the server as Alertmanager v4 payloads; the log has both', async () => {
  await using server = await startHookServer();
  const view = new ScriptedView();
  const rules = parseAlarmRules(
    `webhooks:
  - name: ops
    url: ${server.url}/hook
  - name: quiet
    url: ${server.url}/quiet
    sendResolved: false
rules:
  - name: disk-full
    type: diskUsage
    threshold: 80
    for: 10s
    notify: [ops, quiet]
    labels: { severity: page }
`,
    'alarms.yml',
  );
  let now = Date.UTC(2025, 5, 1, 12, 0, 0);
  const log = memoryLogger();
  const engine = new AlarmEngine({ view, rules, evaluateIntervalMs: 60_000, logger: log.logger, now: () => now });
  try {
    view.disk = 91.24;
    await engine.evaluateNow();
    assert.equal(engine.status().rules[0].alarms[0].state, 'pending');
    now += 10_000;
    await engine.evaluateNow();
    await engine.idle();
    const firedAt = now;
    assert.deepEqual(engine.status().rules[0].alarms[0].state, 'firing');
    view.disk = 50;
    now += 5_000;
    await engine.evaluateNow();
    now += 10_000;
    await engine.evaluateNow();
    await engine.idle();
    const resolvedAt = now;

    const got = server.requests;
    assert.deepEqual(got.map((r) => [r.path, r.body.status]), [
      ['/hook', 'firing'],
      ['/quiet', 'firing'],
      ['/hook', 'resolved'],
    ], 'sendResolved: false gets no resolved notice');
    assert.equal(got[0].headers['content-type'], 'application/json');
    const labels = { alertname: 'disk-full', alarmtype: 'diskUsage', cluster: 'DefaultCluster', broker: 'broker-a', brokerId: '0', severity: 'page' };
    const summary = "the store's disk on broker-a is 91.2% full (threshold 80%)";
    assert.deepEqual(got[0].body, {
      version: '4',
      groupKey: '{}:{alertname="disk-full"}',
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'ops',
      groupLabels: { alertname: 'disk-full' },
      commonLabels: labels,
      commonAnnotations: { summary, value: '91.2', threshold: '80' },
      externalURL: '',
      alerts: [
        {
          status: 'firing',
          labels,
          annotations: { summary, value: '91.2', threshold: '80' },
          startsAt: new Date(firedAt).toISOString(),
          endsAt: ZERO_TIME,
          generatorURL: '',
          fingerprint: got[0].body.alerts[0].fingerprint,
        },
      ],
    });
    assert.match(got[0].body.alerts[0].fingerprint, /^[0-9a-f]{16}$/);
    const resolved = got[2].body;
    assert.equal(resolved.receiver, 'ops');
    assert.equal(resolved.alerts[0].status, 'resolved');
    assert.equal(resolved.alerts[0].startsAt, new Date(firedAt).toISOString());
    assert.equal(resolved.alerts[0].endsAt, new Date(resolvedAt).toISOString());
    assert.equal(resolved.alerts[0].fingerprint, got[0].body.alerts[0].fingerprint, 'the same alert, the same fingerprint');
    assert.equal(resolved.alerts[0].annotations.summary, summary, 'what fired is what resolved');
    assert.equal(resolved.alerts[0].annotations.value, '50');

    const lines = log.lines();
    const firing = lines.find((l) => l.msg === `alarm firing: ${summary}`);
    assert.ok(firing, 'a warn line for the firing alarm');
    assert.equal(firing.level, 40);
    assert.deepEqual(firing.labels, labels);
    assert.ok(lines.some((l) => l.msg === `alarm resolved: ${summary}` && l.level === 30));
  } finally {
    await engine.stop();
  }
});

void test('alarms webhook - a failing webhook is retried with doubling waits until it answers 200', async () => {
  await using server = await startHookServer({ failFirst: 2 });
  const sender = new WebhookSender(webhook(`${server.url}/hook`), pino({ level: 'silent' }));
  sender.send(samplePayload('one'));
  await sender.idle();
  assert.deepEqual(server.requests.map((r) => r.answered), [500, 500, 200]);
  assert.ok(server.requests.every((r) => r.raw === server.requests[0].raw), 'every try sends the same notification');
  const [a, b, c] = server.requests.map((r) => r.at);
  assert.ok(b - a >= 45, `first retry after the backoff (${b - a} ms)`);
  assert.ok(c - b >= 95, `second retry after twice the backoff (${c - b} ms)`);
  assert.deepEqual([sender.delivered, sender.failed], [1, 0]);
  await sender.close();
});

void test('alarms webhook - tries are bounded; a 4xx is not retried; later notifications still go, in order', async () => {
  await using down = await startHookServer({ failFirst: 1000, failStatus: 503 });
  const log = memoryLogger();
  const sender = new WebhookSender(webhook(`${down.url}/hook`, { maxAttempts: 3, backoffMs: 10 }), log.logger);
  sender.send(samplePayload('lost'));
  await sender.idle();
  assert.equal(down.requests.length, 3, 'maxAttempts tries, then given up');
  assert.deepEqual([sender.delivered, sender.failed], [0, 1]);
  assert.equal(log.lines().filter((l) => l.msg === 'webhook failed; retrying').length, 2);
  assert.ok(log.lines().some((l) => l.msg === 'webhook failed; notification given up' && l.cause === 'HTTP 503' && l.attempts === 3));
  await sender.close();

  await using refusing = await startHookServer({ failFirst: 1, failStatus: 400 });
  const s2 = new WebhookSender(webhook(`${refusing.url}/hook`), pino({ level: 'silent' }));
  s2.send(samplePayload('first'));
  s2.send(samplePayload('second'));
  await s2.idle();
  assert.deepEqual(refusing.requests.map((r) => [r.body.alerts[0].annotations.summary, r.answered]), [
    ['first', 400],
    ['second', 200],
  ]);
  await s2.close();

  // Nobody listening at all: connection errors are retried too, then given up.
  const port = new URL(down.url).port;
  await down.close();
  const s3 = new WebhookSender(webhook(`http://127.0.0.1:${port}/hook`, { maxAttempts: 2, backoffMs: 10 }), pino({ level: 'silent' }));
  s3.send(samplePayload('nobody'));
  await s3.idle();
  assert.deepEqual([s3.delivered, s3.failed], [0, 1]);
  await s3.close();
});

void test('alarms webhook - close aborts a notification waiting for its retry', async () => {
  await using server = await startHookServer({ failFirst: 1000 });
  const sender = new WebhookSender(webhook(`${server.url}/hook`, { backoffMs: 30_000 }), pino({ level: 'silent' }));
  sender.send(samplePayload('x'));
  await checkFor(5000, 10, () => server.requests.length === 1, 'the first try');
  const started = Date.now();
  await sender.close();
  assert.ok(Date.now() - started < 5000, 'close did not wait for the 30 s backoff');
  assert.equal(server.requests.length, 1);
});
