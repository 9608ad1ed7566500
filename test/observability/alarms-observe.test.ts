// Issue 14: how rule types turn the broker's figures into observations — rates and growth over a
// window, brokers remembered once listed, no data when no name server answers, one read of the
// name servers per evaluation however many rules ask.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Observer, Round } from '../../src/observability/alarms/observe.js';
import { parseAlarmRules, type AlarmRule } from '../../src/observability/alarms/rules.js';
import type { AlarmView, BrokerEntry, HalfMessages, ReplicaLag, TopicProgress } from '../../src/observability/alarms/view.js';

class Figures implements AlarmView {
  cluster = 'C';
  brokerName = 'broker-a';
  brokerId = 0;
  brokerAddr = '127.0.0.1:1';
  failures = 0;
  dlq = new Map<string, number>();
  listed: BrokerEntry[] | undefined = [];
  brokerReads = 0;
  master = true;
  isMaster(): boolean {
    return this.master;
  }
  groups(): string[] {
    return [...this.dlq.keys()];
  }
  progress(): Promise<TopicProgress[]> {
    return Promise.resolve([]);
  }
  dlqMessages(group: string): number {
    return this.dlq.get(group) ?? 0;
  }
  diskUsagePercent(): number {
    return 0;
  }
  sendFailuresTotal(): number {
    return this.failures;
  }
  brokers(): Promise<BrokerEntry[] | undefined> {
    this.brokerReads++;
    return Promise.resolve(this.listed);
  }
  replicationLag(): ReplicaLag[] | undefined {
    return undefined;
  }
  halfMessages(): Promise<HalfMessages> {
    return Promise.resolve({ count: 0, oldestAgeMs: 0, truncated: false });
  }
}

function rules(yaml: string): AlarmRule[] {
  return [...parseAlarmRules(yaml, 'x').rules];
}

const entry = (brokerName: string, brokerId: number): BrokerEntry => ({ cluster: 'C', brokerName, brokerId, addr: `10.0.0.${brokerId}:10911` });

void test('alarms observe - sendFailures is a rate over its window; dlqMessages the growth over its window', async () => {
  const v = new Figures();
  const o = new Observer(v);
  const [fails, dead] = rules('rules:\n  - { name: f, type: sendFailures, threshold: 1, window: 10s }\n  - { name: d, type: dlqMessages, threshold: 0, window: 10s }\n');
  v.failures = 100;
  v.dlq.set('G', 4);
  assert.deepEqual((await o.observe(fails, new Round(0)))?.map((x) => [x.value, x.active]), [[0, false]], 'what failed before the first look does not count');
  assert.deepEqual((await o.observe(dead, new Round(0)))?.map((x) => [x.key, x.value, x.active]), [['group=G', 0, false]]);
  v.failures = 130;
  v.dlq.set('G', 5);
  const f1 = (await o.observe(fails, new Round(10_000)))![0];
  assert.deepEqual([f1.value, f1.active], [3, true]);
  assert.match(f1.summary, /^broker-a refused 3 sends per second over the last 10s \(threshold 1\/s\)$/);
  const d1 = (await o.observe(dead, new Round(10_000)))![0];
  assert.deepEqual([d1.value, d1.active], [1, true]);
  // Nothing new for a whole window: both calm down.
  assert.deepEqual((await o.observe(fails, new Round(20_000)))!.map((x) => x.value), [0]);
  assert.deepEqual((await o.observe(dead, new Round(20_000)))!.map((x) => x.value), [0]);
});

void test('alarms observe - brokerDown: a broker once listed and now missing is down; no answer is no data; named brokers are expected', async () => {
  const v = new Figures();
  const o = new Observer(v);
  const [every, named] = rules('rules:\n  - { name: all, type: brokerDown }\n  - { name: b, type: brokerDown, broker: broker-b }\n');
  v.listed = [entry('broker-a', 0), entry('broker-a', 1)];
  const round = new Round(0);
  const first = await o.observe(every, round);
  assert.deepEqual(first?.map((x) => [x.key, x.active]), [
    ['broker=broker-a brokerId=0', false],
    ['broker=broker-a brokerId=1', false],
  ]);
  // broker-b was never listed, but the rule names it: missing.
  const b = await o.observe(named, round);
  assert.deepEqual(b?.map((x) => [x.key, x.active, x.labels.broker, x.labels.brokerId]), [['broker=broker-b brokerId=0', true, 'broker-b', '0']]);
  assert.equal(v.brokerReads, 1, 'one read of the name servers per round');

  v.listed = [entry('broker-a', 0)];
  const later = await o.observe(every, new Round(1000));
  assert.deepEqual(later?.map((x) => [x.key, x.active, x.value]), [
    ['broker=broker-a brokerId=0', false, 0],
    ['broker=broker-a brokerId=1', true, 1],
  ]);
  assert.match(later![1].summary, /^broker broker-a \(id 1, 10\.0\.0\.1:10911\) of cluster C is missing from the name servers$/);

  v.listed = undefined;
  assert.equal(await o.observe(every, new Round(2000)), undefined, 'no name server answered: no data');
});

void test('alarms observe - a slave leaves consumer-side rules to its master (its offsets are a copy); broker-wide rules name the member', async () => {
  const v = new Figures();
  const o = new Observer(v);
  const [dead, fails] = rules('rules:\n  - { name: d, type: dlqMessages, threshold: 0 }\n  - { name: f, type: sendFailures, threshold: 1 }\n');
  v.dlq.set('G', 1);
  v.brokerId = 1;
  v.master = false;
  assert.deepEqual(await o.observe(dead, new Round(0)), []);
  assert.deepEqual((await o.observe(fails, new Round(0)))!.map((x) => x.labels), [{ brokerId: '1' }]);
  v.master = true;
  assert.deepEqual((await o.observe(dead, new Round(1)))!.map((x) => x.labels), [{ group: 'G' }]);
});
