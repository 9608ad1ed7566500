// Issue 14, end to end with the real 4.x client (ali-ons): a group with no consumer fires its
// consumerLag alarm after `for` and the webhook gets firing, then resolved once a consumer drains
// the lag; a dead letter fires the dlqMessages alarm; an undecided transaction (our own client's
// transaction producer: ali-ons has none) fires halfMessages. The broker evaluates every 200 ms.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GET_ALARM_LIST, type AlarmListBody } from '../../src/observability/alarms/index.js';
import { bodyOf, createRequest, RemotingClient } from '../../src/remoting/index.js';
import { updateSubscriptionGroup } from '../broker/fixtures/wire.js';
import { createTopic, ons, OnsHarness, sendAll } from '../compat/helpers/ali-ons.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';
import { tempDir } from '../helpers/temp-dir.js';
import { startHookServer, type HookServer } from './alarms-hook-server.js';
import { TransactionProducer, type LocalTransactionState } from '../../src/client/index.js';

const LAG_GROUP = 'GID_alarm_lag';
const LAG_TOPIC = 'AlarmLagTopic';
const DLQ_GROUP = 'GID_alarm_dlq';
const DLQ_TOPIC = 'AlarmDlqTopic';
const FOR_MS = 1000;

describe('alarms broker', () => {
  const dir = tempDir('apogee-alarms-');
  let hooks: HookServer;
  let s: Standalone;
  const rc = new RemotingClient();

  const alarmList = async (): Promise<AlarmListBody> => JSON.parse(bodyOf(await rc.invoke(s.brokerAddr, createRequest(GET_ALARM_LIST))).toString()) as AlarmListBody;
  const alarmsOf = async (rule: string) => (await alarmList()).rules.find((r) => r.name === rule)?.alarms ?? [];
  const received = (rule: string) => hooks.accepted().filter((p) => p.groupLabels.alertname === rule);

  before(async () => {
    hooks = await startHookServer();
    const file = join(dir.path, 'alarms.yml');
    writeFileSync(
      file,
      `webhooks:
  - name: ops
    url: ${hooks.url}/hook
    backoff: 50ms
rules:
  - name: lag
    type: consumerLag
    group: ${LAG_GROUP}
    topic: ${LAG_TOPIC}     # the group never consumed: the rule names the topic it is behind on
    threshold: 5
    for: ${FOR_MS}ms
    notify: [ops]
  - name: dead-letters
    type: dlqMessages
    group: ${DLQ_GROUP}
    threshold: 0
    for: 200ms
    notify: [ops]
  - name: waiting
    type: consumerLagLatency
    group: ${LAG_GROUP}
    topic: ${LAG_TOPIC}
    threshold: 0
  - name: undecided
    type: halfMessages
    threshold: 1            # second
    notify: [ops]
`,
    );
    // Every retry level 1 s, so a dead letter takes a second, not the real ladder's 10 s.
    s = await startStandalone({
      alarmRulesFile: file,
      alarmEvaluateIntervalMs: 200,
      messageDelayLevel: Array(18).fill('1s').join(' '),
      transactionTimeOut: 500,
      transactionCheckInterval: 300,
    });
  });
  after(async () => {
    await rc.close();
    await s.close();
    await hooks.close();
    dir[Symbol.dispose]();
  });

  test('alarms broker - issue 14: a group without a consumer fires consumerLag after `for`; firing then resolved once ali-ons drains it', async () => {
    await createTopic(s, LAG_TOPIC, 2);
    await updateSubscriptionGroup(rc, s.brokerAddr, { groupName: LAG_GROUP, retryMaxTimes: 16 });
    await using h = new OnsHarness(s);
    const producer = await h.producer('GID_alarm_lag_p');
    await sendAll(producer, 10, (i) => new ons.Message(LAG_TOPIC, 'T', `lag-${i}`));

    const pending = await checkFor(5000, 20, async () => (await alarmsOf('lag')).find((a) => a.state === 'pending'), 'the lag alarm pending');
    assert.equal(pending.value, 10);
    assert.equal(pending.scope, `group=${LAG_GROUP} topic=${LAG_TOPIC}`);
    assert.equal(received('lag').length, 0, 'nothing sent while pending');

    const [firing] = await checkFor(10_000, 20, () => (received('lag').length > 0 ? received('lag') : undefined), 'the firing notice');
    assert.equal(firing.status, 'firing');
    const alert = firing.alerts[0];
    assert.deepEqual(
      { ...alert.labels },
      { alertname: 'lag', alarmtype: 'consumerLag', cluster: 'DefaultCluster', broker: 'broker-a', group: LAG_GROUP, topic: LAG_TOPIC },
    );
    assert.equal(alert.annotations.summary, `consumer group ${LAG_GROUP} is 10 messages behind on topic ${LAG_TOPIC} (threshold 5)`);
    assert.ok(Date.parse(alert.startsAt) - pending.since >= FOR_MS, `fired ${Date.parse(alert.startsAt) - pending.since} ms after it went pending`);
    assert.equal((await alarmsOf('lag'))[0].state, 'firing');
    const waiting = (await alarmsOf('waiting'))[0];
    assert.equal(waiting.state, 'firing', 'the oldest unconsumed message is older than 0 s');
    assert.ok(waiting.value !== undefined && waiting.value >= FOR_MS / 1000, `its age in seconds (${waiting.value})`);

    const consumed = new Set<string>();
    let lastConsumedAt = 0;
    await h.consumer({ consumerGroup: LAG_GROUP }, LAG_TOPIC, '*', async (m) => {
      consumed.add(m.body.toString());
      lastConsumedAt = Date.now();
    });
    await checkFor(15_000, 20, () => consumed.size === 10, 'ali-ons consumed the 10 messages');
    const resolved = await checkFor(15_000, 20, () => received('lag').find((p) => p.status === 'resolved'), 'the resolved notice');
    const r = resolved.alerts[0];
    assert.equal(r.status, 'resolved');
    assert.equal(r.startsAt, alert.startsAt);
    assert.equal(r.fingerprint, alert.fingerprint);
    // The offset is committed after the handler returns, and the condition must then be false for `for`.
    const after = Date.parse(r.endsAt) - lastConsumedAt;
    assert.ok(after >= FOR_MS, `resolved ${after} ms after the last message was consumed`);
    assert.deepEqual(received('lag').map((p) => p.status), ['firing', 'resolved'], 'once each: no flapping');
    const now = (await alarmsOf('lag'))[0];
    assert.equal(now.state, 'ok');
    assert.equal(now.value, 0);
    assert.equal(now.lastResolvedAt, Date.parse(r.endsAt));
    assert.deepEqual((await alarmsOf('waiting')).map((a) => [a.state, a.value]), [['ok', 0]], 'nothing unconsumed, nothing waiting');
  });

  test('alarms broker - issue 14: a dead letter from an always failing ali-ons consumer fires dlqMessages', async () => {
    await createTopic(s, DLQ_TOPIC, 2);
    await updateSubscriptionGroup(rc, s.brokerAddr, { groupName: DLQ_GROUP, retryMaxTimes: 1 });
    await using h = new OnsHarness(s);
    const producer = await h.producer('GID_alarm_dlq_p');
    await sendAll(producer, 3, (i) => new ons.Message(DLQ_TOPIC, 'T', `dlq-${i}`));
    assert.equal(received('dead-letters').length, 0, 'no dead letter yet, no alarm');
    await h.consumer({ consumerGroup: DLQ_GROUP, maxReconsumeTimes: 1 }, DLQ_TOPIC, '*', async (m) => {
      if (m.body.toString() === 'dlq-1') throw new Error('always fails');
    });
    const [firing] = await checkFor(30_000, 50, () => (received('dead-letters').length > 0 ? received('dead-letters') : undefined), 'the dlqMessages notice');
    assert.equal(firing.status, 'firing');
    assert.deepEqual({ ...firing.alerts[0].labels }, { alertname: 'dead-letters', alarmtype: 'dlqMessages', cluster: 'DefaultCluster', broker: 'broker-a', group: DLQ_GROUP });
    assert.equal(firing.alerts[0].annotations.value, '1');
    assert.match(firing.alerts[0].annotations.summary, new RegExp(`^1 new dead letter in %DLQ%${DLQ_GROUP} over the last 5m \\(threshold 0\\)$`));
    // The lag rule's group is untouched by this: its alarm stays resolved.
    assert.deepEqual(received('lag').map((p) => p.status), ['firing', 'resolved']);
  });

  test('alarms broker - issue 14: an undecided transaction fires halfMessages, and resolves once its check-back commits it', async () => {
    const topic = 'AlarmTxTopic';
    await createTopic(s, topic, 1);
    let decide: LocalTransactionState = 'UNKNOW';
    const checks: number[] = [];
    const producer = new TransactionProducer({
      namesrvAddr: s.namesrvAddr,
      producerGroup: 'GID_alarm_tx',
      transactionListener: {
        executeLocalTransaction: () => 'UNKNOW',
        checkLocalTransaction: () => {
          checks.push(Date.now());
          return decide;
        },
      },
    });
    await producer.start();
    try {
      const sentAt = Date.now();
      const sent = await producer.sendMessageInTransaction({ topic, body: 'tx-1' });
      assert.equal(sent.localTransactionState, 'UNKNOW');
      const [firing] = await checkFor(10_000, 20, () => (received('undecided').length > 0 ? received('undecided') : undefined), 'the halfMessages notice');
      assert.equal(firing.status, 'firing');
      assert.deepEqual({ ...firing.alerts[0].labels }, { alertname: 'undecided', alarmtype: 'halfMessages', cluster: 'DefaultCluster', broker: 'broker-a', brokerId: '0' });
      assert.match(firing.alerts[0].annotations.summary, /^1 undecided transaction half message\(s\) on broker-a, the oldest \d+(\.\d)?s old \(threshold 1s\)$/);
      // Check-backs re-append the half message; its age counts from its birth, not from the copy.
      await checkFor(10_000, 20, () => checks.length >= 2, 'two check-backs');
      // Counted from the copy, the age would be at least transactionTimeOut (500 ms) short.
      const body = await alarmList();
      const still = body.rules.find((r) => r.name === 'undecided')!.alarms[0];
      assert.equal(still.state, 'firing');
      const sinceSent = body.lastEvaluatedAt - sentAt;
      assert.ok(still.value! * 1000 >= sinceSent - 150, `age ${still.value} s, sent ${sinceSent} ms before the evaluation`);
      decide = 'COMMIT_MESSAGE';
      const resolved = await checkFor(10_000, 20, () => received('undecided').find((p) => p.status === 'resolved'), 'resolved once committed');
      assert.equal(resolved.alerts[0].annotations.value, '0');
    } finally {
      await producer.shutdown();
    }
  });
});
