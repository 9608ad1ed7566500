// The diagnosis logic shared by `apogee admin diagnoseMsg` and the web console, over a lookup
// answering from tables: each state from the facts that make it, the verdict joining them, and a
// topic without a master refused. (The real clients drive it in test/trace and test/console.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diagnoseGroup, diagnoseReport, type DiagnosisLookup, type GroupConnection, type GroupConsumeStats } from '../../src/observability/trace/diagnosis.js';
import type { GroupFacts, StoredCopy, TraceReport } from '../../src/observability/trace/trace-timeline.js';

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);

function copy(over: Partial<StoredCopy> = {}): StoredCopy {
  return {
    brokerName: 'broker-a',
    topic: 'T',
    queueId: 1,
    queueOffset: 5,
    commitLogOffset: 1000,
    storeTimestamp: T0,
    bornTimestamp: T0 - 3,
    bornHost: '127.0.0.1:5000',
    storeHost: '127.0.0.1:10911',
    msgId: 'AC11000100002A9F0000000000000001',
    offsetMsgId: '7F00000100002A9F00000000000003E8',
    tags: 'TagA',
    keys: ['k1'],
    properties: { TAGS: 'TagA', KEYS: 'k1' },
    reconsumeTimes: 0,
    bodyLength: 3,
    ...over,
  };
}

function report(groups: GroupFacts[] = [], message: StoredCopy | undefined = copy()): TraceReport {
  return { id: 'x', uniqKey: message?.msgId ?? 'x', topic: 'T', message, held: [], steps: [], groups: new Map(groups.map((g) => [g.group, g])), clientRecords: [], skipped: 0 };
}

function facts(group: string, over: Partial<GroupFacts> = {}): GroupFacts {
  return { group, delivered: [], consumed: [], retries: [], retryCopies: [], ...over };
}

const online = (sub = '*'): GroupConnection => ({ connectionSet: [{ clientId: 'c1', clientAddr: '127.0.0.1:6000' }], subscriptionTable: { T: { subString: sub, expressionType: 'TAG' } } });
const stats = (consumerOffset: number, brokerOffset = 9): GroupConsumeStats => ({ offsetTable: [{ topic: 'T', brokerName: 'broker-a', queueId: 1, brokerOffset, consumerOffset }] });

void test('trace diagnosis - a group whose committed offset passed the delivered message has consumed it', () => {
  const f = facts('G', { delivered: [{ time: T0 + 5, client: '127.0.0.1:6000', kind: 'pull', topic: 'T', queueOffset: 5, reconsumeTimes: 0 }] });
  const d = diagnoseGroup(report([f]), 'G', f, { conn: online(), stats: stats(6) });
  assert.equal(d.state, 'consumed');
  assert.equal(d.committedOffset, 6);
  assert.equal(d.lag, 3);
  assert.match(d.reason, /^consumed by G \(client 127\.0\.0\.1:6000\), committed offset 6 is past it$/);
});

void test('trace diagnosis - a group without an online consumer and short of the message is noConsumer with its lag', () => {
  const d = diagnoseGroup(report(), 'G', undefined, { stats: stats(5) });
  assert.equal(d.state, 'noConsumer');
  assert.equal(d.online, false);
  assert.equal(d.reason, 'G has no online consumer, lag 4');
});

void test('trace diagnosis - a subscription that does not match the tag is filtered; a dead-lettered message is dlq', () => {
  assert.equal(diagnoseGroup(report(), 'G', undefined, { conn: online('TagB || TagC'), stats: stats(5) }).state, 'filtered');
  const f = facts('G', { dlqCopy: copy({ topic: '%DLQ%G', queueId: 0, queueOffset: 0 }) });
  const d = diagnoseGroup(report([f]), 'G', f, { conn: online() });
  assert.equal(d.state, 'dlq');
  assert.match(d.reason, /dead-lettered it into %DLQ%G/);
});

void test('trace diagnosis - the report asks the home broker for every group the trace or a master names, and joins the verdict', async () => {
  const asked: string[] = [];
  const lookup: DiagnosisLookup = {
    masters: async () => [
      { brokerName: 'broker-a', addr: 'a:1' },
      { brokerName: 'broker-b', addr: 'b:1' },
    ],
    groupsOf: async (addr) => (addr === 'b:1' ? ['G2'] : []),
    connection: async (addr, g) => (asked.push(`${addr} ${g}`), g === 'G1' ? online() : undefined),
    consumeStats: async (_addr, g) => (g === 'G1' ? stats(5) : undefined),
  };
  const d = await diagnoseReport(report([facts('G1')]), 'T', lookup);
  assert.deepEqual(asked, ['a:1 G1', 'a:1 G2']);
  assert.deepEqual(
    d.groups.map((g) => [g.group, g.state]),
    [
      ['G1', 'pending'],
      ['G2', 'noConsumer'],
    ],
  );
  assert.match(d.verdict, /^stored on broker-a queue 1 offset 5 at .*; G1 is online but has not received it yet, lag 4; G2 has no online consumer$/);
  const none = await diagnoseReport(report(), 'T', { ...lookup, groupsOf: async () => [] });
  assert.match(none.verdict, /; no subscription group consumes T$/);
  await assert.rejects(diagnoseReport(report(), 'T', { ...lookup, masters: async () => [] }), /topic T has no master broker online/);
});
