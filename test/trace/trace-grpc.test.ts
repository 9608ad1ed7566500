// Issue 13: the broker-side trace on the 5.x pop path (rocketmq-client-nodejs writes no trace
// records of its own): a received and acked message shows Stored, Delivered (pop) and Consumed
// (acked); one received and not acked is inflight for diagnoseMsg, then consumed once acked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdminApi } from '../../src/cli/admin/admin-api.js';
import type { AdminContext } from '../../src/cli/admin/admin-context.js';
import { diagnose } from '../../src/cli/admin/diagnose-command.js';
import { traceReportOf } from '../../src/cli/admin/trace-commands.js';
import { checkFor } from '../helpers/check-for.js';
import { createGroup, createTopic, GrpcHarness, pb, receiveN } from '../compat/helpers/grpc.js';

const TOPIC = 'TraceGrpcTopic';
const GROUP = 'g-trace-pop';

void test('trace grpc - issue 13: pop deliveries and acks of the 5.x client are traced; diagnoseMsg tells inflight from consumed', async () => {
  await using h = await GrpcHarness.start({ traceFlushIntervalMs: 50 });
  await createTopic(h.s, TOPIC, 'NORMAL', 1);
  await createGroup(h.s, GROUP);
  const c = await h.simpleConsumer(GROUP, { [TOPIC]: '*' });
  const p = await h.producer(TOPIC);
  const acked = await p.send({ topic: TOPIC, tag: 'TagA', keys: ['k1'], body: Buffer.from('one') });
  const held = await p.send({ topic: TOPIC, tag: 'TagA', keys: ['k2'], body: Buffer.from('two') });
  const got = await receiveN(c, 2, 10_000, { ack: false, invisibleMs: 60_000 });
  assert.equal(got.length, 2);
  const first = got.find((m) => m.messageId === acked.messageId);
  const second = got.find((m) => m.messageId === held.messageId);
  assert.ok(first && second);
  await c.ack(first);

  const api = new AdminApi(h.s.namesrvAddr);
  const ctx: AdminContext = { api, out: () => undefined };
  try {
    const stateOf = async (id: string): Promise<string | undefined> => (await diagnose(ctx, id, TOPIC)).groups.find((g) => g.group === GROUP)?.state;
    await checkFor(10_000, 100, async () => (await stateOf(acked.messageId)) === 'consumed', 'the acked message is consumed');
    assert.equal(await stateOf(held.messageId), 'inflight');
    const d = await diagnose(ctx, held.messageId, TOPIC);
    const g = d.groups.find((x) => x.group === GROUP);
    assert.ok(g?.deliveredAt && g.deliveredAt >= Date.now() - 60_000);
    assert.match(d.verdict, new RegExp(`${GROUP} received it at .* and has not confirmed it yet`));

    const r = await traceReportOf(ctx, acked.messageId, undefined, 'RMQ_SYS_TRACE_TOPIC');
    const steps = r.steps.map((s) => s.step);
    assert.deepEqual(steps, ['Stored', 'Delivered', 'Consumed'], JSON.stringify(r.steps));
    assert.match(r.steps[0].detail, /TraceGrpcTopic queue 0 offset 0, 3 B body, tags TagA, grpc/);
    assert.match(r.steps[1].detail, /^pop of TraceGrpcTopic offset 0/);
    assert.match(r.steps[2].detail, /^acked TraceGrpcTopic offset 0/);
    assert.ok(r.steps[1].time >= r.steps[0].time && r.steps[2].time >= r.steps[1].time);

    await c.ack(second);
    await checkFor(10_000, 100, async () => (await stateOf(held.messageId)) === 'consumed', 'consumed once acked');
  } finally {
    await api.close();
  }
});

void test('trace grpc - issue 13: a timer message fired, a recalled one, a committed and a rolled back transaction', async () => {
  await using h = await GrpcHarness.start({ traceFlushIntervalMs: 50 });
  await createTopic(h.s, 'TraceGrpcDelay', 'DELAY', 1);
  await createTopic(h.s, 'TraceGrpcTx', 'TRANSACTION', 1);
  await createGroup(h.s, 'g-trace-delay');
  const c = await h.simpleConsumer('g-trace-delay', { TraceGrpcDelay: '*' });
  const p = await h.producer('TraceGrpcDelay');
  const fired = await p.send({ topic: 'TraceGrpcDelay', delay: 1000, body: Buffer.from('later') });
  const doomed = await p.send({ topic: 'TraceGrpcDelay', delay: 60_000, body: Buffer.from('never') });
  await p.recallMessage('TraceGrpcDelay', doomed.recallHandle);
  const [m] = await receiveN(c, 1, 10_000);
  assert.equal(m?.messageId, fired.messageId);

  const tp = await h.producer('TraceGrpcTx', { checker: { check: () => Promise.resolve(pb.TransactionResolution.ROLLBACK) } });
  const t1 = tp.beginTransaction();
  const committed = await tp.send({ topic: 'TraceGrpcTx', body: Buffer.from('yes') }, t1);
  await t1.commit();
  const t2 = tp.beginTransaction();
  const rolledBack = await tp.send({ topic: 'TraceGrpcTx', body: Buffer.from('no') }, t2);
  await t2.rollback();

  const api = new AdminApi(h.s.namesrvAddr);
  const ctx: AdminContext = { api, out: () => undefined };
  try {
    const stepsOf = async (id: string, topic: string): Promise<string[]> => (await traceReportOf(ctx, id, topic, 'RMQ_SYS_TRACE_TOPIC')).steps.map((s) => s.step);
    await checkFor(10_000, 100, async () => (await stepsOf(fired.messageId, 'TraceGrpcDelay')).includes('Consumed'), 'the fired message acked');
    assert.deepEqual(await stepsOf(fired.messageId, 'TraceGrpcDelay'), ['Stored', 'TimerFired', 'Delivered', 'Consumed']);
    await checkFor(10_000, 100, async () => (await stepsOf(doomed.messageId, 'TraceGrpcDelay')).includes('Recalled'), 'the recall traced');
    const doomedTrace = await traceReportOf(ctx, doomed.messageId, 'TraceGrpcDelay', 'RMQ_SYS_TRACE_TOPIC');
    assert.deepEqual(
      doomedTrace.steps.map((s) => s.step),
      ['Stored', 'Recalled'],
    );
    assert.match(doomedTrace.steps[0].detail, /^held in rmq_sys_wheel_timer queue 0 \(for TraceGrpcDelay\) offset \d+, 5 B body/);
    const dr = await diagnose(ctx, doomed.messageId, 'TraceGrpcDelay');
    assert.match(dr.verdict, /^recalled at .*: it will never be delivered/);

    await checkFor(10_000, 100, async () => (await stepsOf(rolledBack.messageId, 'TraceGrpcTx')).includes('RolledBack'), 'the rollback traced');
    assert.deepEqual(await stepsOf(committed.messageId, 'TraceGrpcTx'), ['Stored', 'Committed']);
    const dc = await diagnose(ctx, committed.messageId, 'TraceGrpcTx');
    assert.equal(dc.message.transaction, 'committed');
    const dx = await diagnose(ctx, rolledBack.messageId, 'TraceGrpcTx');
    assert.equal(dx.message.transaction, 'rolled back');
    assert.match(dx.verdict, /^its transaction was rolled back at .*: it will never be delivered/);
  } finally {
    await api.close();
  }
});
