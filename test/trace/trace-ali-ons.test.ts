// Issue 13: the broker-side trace and the two commands built on it, with ali-ons (4.x remoting):
// a message consumed by group A, one retried twice then dead-lettered, one filtered out for group
// B; queryMsgTraceById shows each step in order with plausible times, diagnoseMsg gives each
// group's state, before and after a broker restart; a Java client's trace records written to the
// trace topic are merged in; bad input exits non-zero with one clear line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdminApi } from '../../src/cli/admin/admin-api.js';
import type { AdminContext } from '../../src/cli/admin/admin-context.js';
import { diagnose, type Diagnosis } from '../../src/cli/admin/diagnose-command.js';
import { traceReportOf } from '../../src/cli/admin/trace-commands.js';
import { encodeTraceRecord } from '../../src/observability/trace/trace-codec.js';
import type { TraceReport } from '../../src/observability/trace/trace-timeline.js';
import { createTopic, ons, OnsHarness, type OnsMessage } from '../compat/helpers/ali-ons.js';
import { checkFor } from '../helpers/check-for.js';
import { runApogee } from '../helpers/spawn-apogee.js';
import { startStandalone } from '../helpers/standalone.js';

const TOPIC = 'TraceOnsTopic';
const GA = 'GID_trace_a';
const GB = 'GID_trace_b';
const TRACE_TOPIC = 'RMQ_SYS_TRACE_TOPIC';

function stepsOf(r: TraceReport): string[] {
  return r.steps.map((s) => `${s.step}${s.group ? `:${s.group}` : ''}`);
}

/** Whether `want` appears in `have` in this order (other steps may come between). */
function inOrder(have: readonly string[], want: readonly string[]): boolean {
  let i = 0;
  for (const h of have) if (i < want.length && h === want[i]) i++;
  return i === want.length;
}

function stateOf(d: Diagnosis, group: string): string | undefined {
  return d.groups.find((g) => g.group === group)?.state;
}

void test('trace ali-ons - issue 13: queryMsgTraceById and diagnoseMsg for consumed, dead-lettered and filtered messages, also after a restart', async () => {
  // Every delay level 1 s so the two retries come quickly; trace batches every 50 ms.
  await using s = await startStandalone({ messageDelayLevel: Array(18).fill('1s').join(' '), traceFlushIntervalMs: 50 });
  await using h = new OnsHarness(s);
  await createTopic(s, TOPIC, 2);
  const t0 = Date.now();
  const producer = await h.producer('GID_trace_p');
  const send = async (tag: string, body: string, key: string): Promise<string> => {
    const m = new ons.Message(TOPIC, tag, body);
    m.keys = [key];
    return ((await producer.send(m)) as { msgId: string }).msgId;
  };
  const consumedId = await send('TagA', 'ok-1', 'k-ok');
  const dlqId = await send('TagA', 'fail-2', 'k-fail');
  const bothId = await send('TagB', 'ok-3', 'k-both');

  const seenA: OnsMessage[] = [];
  const seenB: OnsMessage[] = [];
  const a = await h.consumer({ consumerGroup: GA, maxReconsumeTimes: 2 }, TOPIC, '*', async (m) => {
    seenA.push(m);
    if (m.body.toString().startsWith('fail')) throw new Error('this one always fails');
  });
  const b = await h.consumer({ consumerGroup: GB }, TOPIC, 'TagB', async (m) => {
    seenB.push(m);
  });

  const api = new AdminApi(s.namesrvAddr);
  const out: string[] = [];
  const ctx: AdminContext = { api, out: (t) => out.push(t) };
  try {
    const want: [string, string, string][] = [
      [consumedId, GA, 'consumed'],
      [consumedId, GB, 'filtered'],
      [dlqId, GA, 'dlq'],
      [dlqId, GB, 'filtered'],
      [bothId, GA, 'consumed'],
      [bothId, GB, 'consumed'],
    ];
    const settled = async (): Promise<boolean> => {
      for (const [id, g, st] of want) if (stateOf(await diagnose(ctx, id, TOPIC), g) !== st) return false;
      return true;
    };
    await checkFor(30_000, 250, settled, 'every group in its final state');
    assert.equal(seenA.filter((m) => m.body.toString() === 'fail-2').length, 3, 'the failing message was delivered 3 times to A');
    assert.deepEqual(
      seenB.map((m) => m.body.toString()),
      ['ok-3'],
    );

    // A Java 4.x client with enableMsgTrace writes its records to the trace topic keyed by the
    // message id; ali-ons has no trace, so write what such a client would.
    const ok = await traceReportOf(ctx, consumedId, TOPIC, TRACE_TOPIC);
    const m = ok.message;
    assert.ok(m, 'the consumed message is found');
    assert.equal(m.properties.MSG_REGION, 'DefaultRegion', 'stored messages carry MSG_REGION');
    assert.equal(m.properties.TRACE_ON, 'true', 'stored messages carry TRACE_ON');
    const pubAt = m.storeTimestamp - 2;
    const body =
      encodeTraceRecord({ type: 'Pub', timeStamp: pubAt, regionId: 'DefaultRegion', groupName: 'GID_trace_p', topic: TOPIC, msgId: ok.uniqKey, tags: 'TagA', keys: 'k-ok', storeHost: s.brokerAddr, bodyLength: 4, costTime: 2, msgType: 0, offsetMsgId: m.offsetMsgId, success: true }) +
      encodeTraceRecord({ type: 'SubBefore', timeStamp: pubAt + 50, regionId: 'DefaultRegion', groupName: GA, requestId: 'req-1', msgId: ok.uniqKey, retryTimes: 0, keys: 'k-ok' }) +
      encodeTraceRecord({ type: 'SubAfter', requestId: 'req-1', msgId: ok.uniqKey, costTime: 3, success: true, keys: 'k-ok', contextCode: 0, timeStamp: pubAt + 53, groupName: GA });
    const traceProducer = await h.producer('_INNER_TRACE_PRODUCER-GID_trace_p');
    const tm = new ons.Message(TRACE_TOPIC, '', Buffer.from(body));
    tm.keys = [ok.uniqKey, 'k-ok'];
    await traceProducer.send(tm);

    const checkTimelines = async (afterRestart: boolean): Promise<void> => {
      const okR = await traceReportOf(ctx, consumedId, TOPIC, TRACE_TOPIC);
      const okSteps = stepsOf(okR);
      assert.ok(inOrder(okSteps, ['Pub:GID_trace_p', 'Stored:GID_trace_p', `Delivered:${GA}`, `Consumed:${GA}`]), okSteps.join(' '));
      assert.ok(inOrder(okSteps, ['Pub:GID_trace_p', `SubBefore:${GA}`, `SubAfter:${GA}`]), okSteps.join(' '));
      assert.ok(okSteps.includes(`Passed:${GB}`), `B's offset passed the TagA message: ${okSteps.join(' ')}`);
      assert.ok(!okSteps.includes(`Delivered:${GB}`), 'B never received the TagA message');

      const dlqR = await traceReportOf(ctx, dlqId, TOPIC, TRACE_TOPIC);
      const dlqSteps = stepsOf(dlqR);
      const chain = [`Stored:GID_trace_p`, `Delivered:${GA}`, `Retried:${GA}`, `RetryStored:${GA}`, `Delivered:${GA}`, `Retried:${GA}`, `RetryStored:${GA}`, `Delivered:${GA}`, `DeadLettered:${GA}`];
      assert.ok(inOrder(dlqSteps, chain), dlqSteps.join(' '));
      assert.equal(dlqSteps.filter((x) => x === `Retried:${GA}`).length, 2);
      const retries = dlqR.steps.filter((x) => x.step === 'Retried');
      assert.match(retries[0].detail, /reconsume 1, level 3, due /);
      // Plausible times: in order, none before the test began, none in the future, a retry at
      // least ~1 s (its delay level) after the failure that caused it.
      for (const r of [okR, dlqR]) {
        for (let i = 0; i < r.steps.length; i++) {
          if (r.steps[i].source === 'client') continue;
          assert.ok(r.steps[i].time >= t0 - 1000 && r.steps[i].time <= Date.now(), `${r.steps[i].step} at a plausible time`);
          if (i > 0) assert.ok(r.steps[i].time >= r.steps[i - 1].time && r.steps[i].sincePrevMs >= 0);
        }
      }
      const rs = dlqR.steps.filter((x) => x.step === 'RetryStored');
      assert.ok(rs[0].time - retries[0].time >= 900, `the first retry waited its delay (${rs[0].time - retries[0].time} ms)`);

      const d1 = await diagnose(ctx, consumedId, TOPIC);
      assert.match(d1.verdict, new RegExp(`consumed by ${GA} at `));
      assert.match(d1.verdict, afterRestart ? new RegExp(`${GB}'s offset passed it without a delivery`) : new RegExp(`${GB}'s subscription \`TagB\` does not match tag \`TagA\``));
      const d2 = await diagnose(ctx, dlqId, TOPIC);
      const a2 = d2.groups.find((g) => g.group === GA);
      assert.equal(a2?.state, 'dlq');
      assert.equal(a2?.dlqTopic, `%DLQ%${GA}`);
      assert.equal(a2?.retries, 2);
      assert.match(d2.verdict, new RegExp(`${GA} dead-lettered it into %DLQ%${GA} after 3 deliveries`));
      const d3 = await diagnose(ctx, bothId, TOPIC);
      assert.deepEqual(
        d3.groups.map((g) => [g.group, g.state]),
        [
          [GA, 'consumed'],
          [GB, 'consumed'],
        ],
      );
      assert.deepEqual(Object.keys(d3).sort(), ['groups', 'message', 'verdict']);
    };
    await checkTimelines(false);

    // Clients gone (the consumers persisted their offsets), broker restarted: everything comes
    // from the store.
    await h.closeConsumer(a);
    await h.closeConsumer(b);
    await h.close();
    await s.restartBroker();
    await checkFor(10_000, 100, async () => (await api.clusterInfo()).brokerAddrTable['broker-a']?.brokerAddrs['0'] === s.brokerAddr, 'the restarted broker registered');
    await checkTimelines(true);
    const d = await diagnose(ctx, consumedId, TOPIC);
    assert.equal(d.groups.find((g) => g.group === GA)?.online, false);
  } finally {
    await api.close();
  }
});

void test('trace cli - issue 13: the real command prints the timeline table and the diagnosis; bad input exits non-zero with one line', async () => {
  await using s = await startStandalone({ traceFlushIntervalMs: 50 });
  await using h = new OnsHarness(s);
  await createTopic(s, TOPIC, 1);
  const producer = await h.producer('GID_trace_cli_p');
  const id = ((await producer.send(new ons.Message(TOPIC, 'TagA', 'hello'))) as { msgId: string }).msgId;
  const admin = (...args: string[]) => runApogee(['admin', ...args, '-n', s.namesrvAddr], { timeoutMs: 60_000 });
  const api = new AdminApi(s.namesrvAddr);
  try {
    const ctx: AdminContext = { api, out: () => undefined };
    await checkFor(10_000, 100, async () => (await traceReportOf(ctx, id, undefined, TRACE_TOPIC)).stored !== undefined, 'the Stored record is written');
  } finally {
    await api.close();
  }

  // One at a time: each is a cold `apogee` process, and the box is shared.
  const trace = await admin('queryMsgTraceById', '-i', id);
  const diagJson = await admin('diagnoseMsg', '-t', TOPIC, '-i', id, '--json');
  const unknown = await admin('queryMsgTraceById', '-i', '0A0B0C0D00002A9F00000000DEADBEEF');
  const malformed = await admin('diagnoseMsg', '-t', TOPIC, '-i', 'not an id!');
  const unknownTopic = await admin('diagnoseMsg', '-t', 'NoSuchTopicHere', '-i', id);
  assert.equal(trace.code, 0, trace.stderr);
  assert.match(trace.stdout, /#Time +#Step +#Source +#Group +#Client +#Since Prev +#Detail/);
  assert.match(trace.stdout, /Stored +broker +GID_trace_cli_p +127\.0\.0\.1:\d+ +- +TraceOnsTopic queue 0 offset 0, 5 B body, tags TagA, remoting/);
  assert.equal(diagJson.code, 0, diagJson.stderr);
  const dj = JSON.parse(diagJson.stdout) as { message: { topic: string; queueOffset: number }; groups: unknown[]; verdict: string };
  assert.deepEqual(Object.keys(dj).sort(), ['groups', 'message', 'verdict']);
  assert.equal(dj.message.topic, TOPIC);
  assert.equal(dj.message.queueOffset, 0);
  assert.deepEqual(dj.groups, []);
  assert.match(dj.verdict, /^stored on broker-a queue 0 offset 0 at .*; no subscription group consumes TraceOnsTopic$/);

  for (const [r, code, pattern] of [
    [unknown, 1, /no trace record and no stored message for id 0A0B0C0D00002A9F00000000DEADBEEF/],
    [malformed, 2, /-i: malformed message id "not an id!"/],
    [unknownTopic, 1, /TOPIC_NOT_EXIST|NoSuchTopicHere/],
  ] as const) {
    assert.equal(r.code, code, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
});
