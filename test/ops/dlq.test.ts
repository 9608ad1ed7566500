// Issue 13: exportDLQ writes a group's dead letters as JSON Lines (bodies byte-exact, 10,000 of
// them streamed), resendDLQ copies chosen ones back to %RETRY%<group> where a real ali-ons
// consumer of the group receives them again, and the broker's resend log marks them in the next
// export.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Producer } from '../../src/client/index.js';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { createTopic, OnsHarness, ons, sendAll, type OnsMessage } from '../compat/helpers/ali-ons.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';
import { tempDir } from '../helpers/temp-dir.js';
import { admin, adminJson } from './admin-run.js';
import type { DlqExportLine } from '../../src/cli/admin/dlq-commands.js';

const readLines = (file: string): DlqExportLine[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as DlqExportLine);

async function createGroup(s: Standalone, groupName: string): Promise<void> {
  const rc = new RemotingClient();
  try {
    const r = await rc.invoke(s.brokerAddr, createRequest(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, Buffer.from(JSON.stringify({ groupName }))));
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  } finally {
    await rc.close();
  }
}

void test('ops dlq - real dead letters from ali-ons are exported, one is resent, consumed again and marked resent', async () => {
  await using s = await startStandalone();
  await using h = new OnsHarness(s);
  using dir = tempDir('apogee-dlq-');
  const topic = 'OpsDlqTopic';
  const group = 'GID_ops_dlq';
  await createTopic(s, topic, 2);
  const p = await h.producer('GID_ops_dlq_p');
  await sendAll(p, 6, (i) => {
    const m = new ons.Message(topic, 'T', Buffer.from(`dead-${i}`));
    m.keys = [`dk-${i}`];
    return m;
  });
  const deliveries: OnsMessage[] = [];
  let failFirstThree = true;
  // maxReconsumeTimes 0: the first failure dead-letters the message (the broker's rule).
  await h.consumer({ consumerGroup: group, maxReconsumeTimes: 0 }, topic, '*', async (m) => {
    deliveries.push(m);
    if (failFirstThree && Number(m.body.toString().split('-')[1]) < 3) throw new Error('fail to dead-letter');
  });
  const dlq = `%DLQ%${group}`;
  await checkFor(20_000, 100, () => s.controller.store.getMaxOffsetInQueue(dlq, 0) >= 3, '3 dead letters');
  failFirstThree = false;
  await s.controller.registerBrokerAll();

  const file = join(dir.path, 'dlq.jsonl');
  const exp = await admin(s.namesrvAddr, 'exportDLQ', '-g', group, '-f', file);
  assert.equal(exp.code, 0, exp.stderr);
  assert.match(exp.stdout, /^exported 3 dead letters of group GID_ops_dlq to /);
  const lines = readLines(file);
  assert.deepEqual(lines.map((l) => Buffer.from(l.body, 'base64').toString()).sort(), ['dead-0', 'dead-1', 'dead-2']);
  for (const l of lines) {
    assert.equal(l.topic, topic, 'the topic of origin');
    assert.equal(l.dlqTopic, dlq);
    assert.deepEqual(l.keys, [`dk-${Buffer.from(l.body, 'base64').toString().split('-')[1]}`]);
    assert.equal(l.tags, 'T');
    assert.equal(l.reconsumeTimes, 1);
    assert.deepEqual(l.resent, []);
    const first = deliveries.find((d) => d.body.toString() === Buffer.from(l.body, 'base64').toString());
    // ali-ons' msgId is the offsetMsgId of what it pulled; the unique key rides in UNIQ_KEY.
    assert.equal(l.msgId, first?.properties.UNIQ_KEY, 'the unique key the producer set');
    assert.equal(l.properties.ORIGIN_MESSAGE_ID, first?.msgId, 'the first delivery id');
    assert.ok(l.storeTimestamp > 0);
  }

  // A file that cannot be opened is a usage error; one that fails while written (Linux's
  // /dev/full answers every write with ENOSPC) is reported with what was written.
  const noDir = await admin(s.namesrvAddr, 'exportDLQ', '-g', group, '-f', join(dir.path, 'no-such-dir', 'x.jsonl'));
  assert.equal(noDir.code, 2);
  assert.match(noDir.stderr, /cannot write .*no-such-dir.*ENOENT/);
  const full = await admin(s.namesrvAddr, 'exportDLQ', '-g', group, '-f', '/dev/full');
  assert.equal(full.code, 1, full.stderr);
  assert.match(full.stderr, /writing \/dev\/full failed after \d+ dead letters: .*ENOSPC/);

  const pick = lines.find((l) => Buffer.from(l.body, 'base64').toString() === 'dead-1')!;
  const before = deliveries.length;
  const resend = await adminJson<{ resent: number; results: { status: string; msgId: string; retryOffsetMsgId: string }[] }>(s.namesrvAddr, 'resendDLQ', '-g', group, '-i', pick.msgId);
  assert.equal(resend.resent, 1);
  assert.deepEqual(resend.results.map((r) => [r.status, r.msgId]), [['OK', pick.msgId]]);
  await s.controller.registerBrokerAll();
  await checkFor(20_000, 100, () => deliveries.length > before, 'the resent dead letter consumed again');
  const again = deliveries.slice(before);
  assert.equal(again.length, 1);
  assert.equal(again[0].body.toString(), 'dead-1');
  assert.equal(again[0].properties.UNIQ_KEY, pick.msgId, 'the same unique key as before');
  assert.equal(again[0].topic, topic, 'ali-ons restores the topic of origin');
  assert.equal(again[0].reconsumeTimes, 0, 'a fresh retry budget');
  assert.equal(again[0].properties.DLQ_RESEND_FROM, pick.offsetMsgId);

  const exp2 = await adminJson<{ count: number; resentBefore: number }>(s.namesrvAddr, 'exportDLQ', '-g', group, '-f', file);
  assert.deepEqual([exp2.count, exp2.resentBefore], [3, 1]);
  const marked = readLines(file).find((l) => l.offsetMsgId === pick.offsetMsgId)!;
  assert.equal(marked.resent.length, 1);
  assert.equal(marked.resent[0].retryOffsetMsgId, resend.results[0].retryOffsetMsgId);

  // --all resends every dead letter of the group (the one resent before again).
  const before2 = deliveries.length;
  const all = await adminJson<{ resent: number; failed: number }>(s.namesrvAddr, 'resendDLQ', '-g', group, '--all');
  assert.deepEqual([all.resent, all.failed], [3, 0]);
  await checkFor(20_000, 100, () => deliveries.length >= before2 + 3, 'the 3 dead letters consumed again');
  assert.deepEqual(deliveries.slice(before2).map((m) => m.body.toString()).sort(), ['dead-0', 'dead-1', 'dead-2']);

  // The resend log survives a restart. The clients go first: an ali-ons client whose broker
  // moved to another port keeps reconnect timers alive after its close, and the file never exits.
  await h.close();
  await s.restartBroker();
  await s.controller.registerBrokerAll();
  const exp3 = await adminJson<{ resentBefore: number }>(s.namesrvAddr, 'exportDLQ', '-g', group, '-f', file);
  assert.equal(exp3.resentBefore, 3);
  assert.equal(readLines(file).find((l) => l.offsetMsgId === pick.offsetMsgId)!.resent.length, 2);
});

void test('ops dlq - 10,000 dead letters export byte-exact; some are resent and an ali-ons consumer of the group gets them', async () => {
  await using s = await startStandalone();
  using dir = tempDir('apogee-dlq-bulk-');
  const group = 'GID_ops_dlq_bulk';
  const origin = 'OpsBulkOrigin';
  const dlq = `%DLQ%${group}`;
  await createTopic(s, origin, 1);
  await createTopic(s, dlq, 1);
  await createGroup(s, group);
  const n = 10_000;
  const bodies = Array.from({ length: n }, (_, i) => randomBytes(1 + ((i * 7919) % 600)));
  const producer = new Producer({ namesrvAddr: s.namesrvAddr, producerGroup: 'pg-dlq-bulk' });
  await producer.start();
  const t0 = Date.now();
  try {
    // Dead letters as the broker writes them: in %DLQ%<group>, with the topic of origin in RETRY_TOPIC.
    for (let i = 0; i < n; i += 100) {
      await producer.sendBatch(
        bodies.slice(i, i + 100).map((body, j) => ({
          topic: dlq,
          body,
          tags: 'bulk',
          keys: `bk-${i + j}`,
          properties: { RETRY_TOPIC: origin, ORIGIN_MESSAGE_ID: `origin-${i + j}` },
        })),
      );
    }
  } finally {
    await producer.shutdown();
  }
  const sent = Date.now() - t0;
  await s.controller.registerBrokerAll();

  const file = join(dir.path, 'bulk.jsonl');
  const t1 = Date.now();
  const exp = await adminJson<{ count: number }>(s.namesrvAddr, 'exportDLQ', '-g', group, '-f', file);
  const exported = Date.now() - t1;
  assert.equal(exp.count, n);
  const lines = readLines(file);
  assert.equal(lines.length, n);
  const seen = new Set<number>();
  for (const l of lines) {
    const i = Number(l.keys[0].slice(3));
    assert.ok(Buffer.from(l.body, 'base64').equals(bodies[i]), `body of bk-${i} byte-exact`);
    assert.equal(l.topic, origin);
    assert.equal(l.properties.ORIGIN_MESSAGE_ID, `origin-${i}`);
    seen.add(i);
  }
  assert.equal(seen.size, n, 'each dead letter once');
  process.stdout.write(`# 10,000 dead letters: sent in ${sent} ms, exported in ${exported} ms\n`);

  // A time range with nothing in it is an error, and writes no file.
  const empty = await admin(s.namesrvAddr, 'exportDLQ', '-g', group, '-f', join(dir.path, 'none.jsonl'), '--begin', String(t0 - 120_000), '--end', String(t0 - 60_000));
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /group GID_ops_dlq_bulk has no dead letters stored between .* nothing written to/);

  const chosen = [17, 4242, 9999].map((i) => lines.find((l) => l.keys[0] === `bk-${i}`)!);
  const resend = await admin(s.namesrvAddr, 'resendDLQ', '-g', group, '-i', chosen.map((l) => l.offsetMsgId).join(','));
  assert.equal(resend.code, 0, resend.stderr);
  assert.match(resend.stdout, /resent 3 of 3 dead letters of group GID_ops_dlq_bulk to %RETRY%GID_ops_dlq_bulk/);
  await s.controller.registerBrokerAll();

  await using h = new OnsHarness(s);
  const got: OnsMessage[] = [];
  await h.consumer({ consumerGroup: group }, origin, '*', async (m) => {
    got.push(m);
  });
  await checkFor(20_000, 100, () => got.length >= 3, 'the 3 resent dead letters consumed');
  assert.deepEqual(got.map((m) => m.keys).sort(), ['bk-17', 'bk-4242', 'bk-9999']);
  for (const m of got) {
    const i = Number(m.keys!.slice(3));
    assert.ok(m.body.equals(bodies[i]));
    assert.equal(m.topic, origin);
  }
});
