// Issue 12, controller mode: timer messages across a failover. Each member takes the wheel queue
// of its replicated log into its own timer store, copies the master's timer checkpoint, and sees
// recalls as markers in the log. So after a SIGKILL of the master, the new master delivers every
// timer that was pending, never one recalled before the kill, and not again those its old master
// had delivered before its last checkpoint was copied.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createRequest, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { masterOf, startControllerGroup, type BrokerGroup, type Member } from '../helpers/broker-group.js';
import { checkFor } from '../helpers/check-for.js';
import { startEtcd } from '../helpers/etcd.js';
import type { Standalone } from '../helpers/standalone.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ons, OnsHarness, type OnsMessage, type OnsOutgoingMessage } from '../compat/helpers/ali-ons.js';
import { pullAll, sendOk } from '../broker/fixtures/wire.js';

const TOPIC = 'HaTimerTopic';
type TimedMessage = OnsOutgoingMessage & { setStartDeliverTime(ms: number): void };
type DelayedMessage = OnsOutgoingMessage & { delayTimeLevel: number };

async function timerCheckpoint(group: BrokerGroup, m: Member): Promise<{ lastReadTimeMs: number }> {
  const resp = await group.rc.invoke(m.addr, createRequest(RequestCode.GET_TIMER_CHECK_POINT, {}), 3000);
  assert.equal(resp.code, ResponseCode.SUCCESS, resp.remark);
  const body = Array.isArray(resp.body) ? Buffer.concat(resp.body) : resp.body!;
  return JSON.parse(body.toString()) as { lastReadTimeMs: number };
}

async function delayCursor(group: BrokerGroup, m: Member, level: number): Promise<number> {
  const resp = await group.rc.invoke(m.addr, createRequest(RequestCode.GET_ALL_DELAY_OFFSET, {}), 3000);
  assert.equal(resp.code, ResponseCode.SUCCESS, resp.remark);
  const body = Array.isArray(resp.body) ? Buffer.concat(resp.body) : resp.body!;
  return (JSON.parse(body.toString()) as { offsetTable: Record<string, number> }).offsetTable[String(level)] ?? 0;
}

void test('ha timer - issue 12: after a SIGKILL of the master, the new master delivers every pending timer, never a recalled one, and not again those delivered before; delay levels too', async () => {
  using dir = tempDir('apogee-ha-timer-');
  await using etcd = await startEtcd();
  const g = await startControllerGroup({ dir: dir.path, brokerName: 'ha-timer', etcdEndpoint: etcd.endpoint, topic: TOPIC, queues: 1 });
  const { ns, group, master: first, slaves } = g;
  try {

    await using h = new OnsHarness({ namesrvAddr: ns.addresses.namesrv } as Standalone);
    const producer = await h.producer('GID_ha_timer_p');
    const send = async (body: string, at: number): Promise<void> => {
      const msg = new ons.Message(TOPIC, 'T', body) as TimedMessage;
      msg.setStartDeliverTime(at);
      assert.equal((await producer.send(msg)).sendStatus, 'SEND_OK');
    };

    const sendDelayed = async (body: string, level: number): Promise<void> => {
      const msg = new ons.Message(TOPIC, 'D', body) as DelayedMessage;
      msg.delayTimeLevel = level;
      assert.equal((await producer.send(msg)).sendStatus, 'SEND_OK');
    };

    // Delivered by the first master before the kill: timers and delay level 1 (1 s).
    const earlyAt = Date.now() + 1000;
    const early = ['early-0', 'early-1', 'early-2'];
    for (const b of early) await send(b, earlyAt);
    const earlyDelayed = ['early-delay-0', 'early-delay-1'];
    for (const b of earlyDelayed) await sendDelayed(b, 1);
    const before = early.length + earlyDelayed.length;
    await checkFor(10_000, 50, async () => (await pullAll(group.rc, first.addr, TOPIC)).length === before, 'the early messages delivered by the first master');
    // The slaves hold the re-puts and have taken the timer checkpoint and delay cursor that count them.
    await checkFor(10_000, 50, async () => {
      for (const s of slaves) if ((await timerCheckpoint(group, s)).lastReadTimeMs < earlyAt || (await delayCursor(group, s, 1)) < earlyDelayed.length) return false;
      return true;
    }, 'both slaves took a timer checkpoint and delay cursor past the early messages');

    // Pending at the kill: due 3-8 s from now. The first is sent as 4.x Java clients send (with a
    // UNIQ_KEY, which ali-ons does not set) so that it has a recall handle, and is recalled.
    const base = Date.now() + 3000;
    const pending = Array.from({ length: 8 }, (_, i) => ({ body: `pending-${i}`, at: base + i * 700 }));
    const doomed = pending[0];
    const sent = await sendOk(group.rc, first.addr, {
      producerGroup: 'GID_ha_timer_p',
      topic: TOPIC,
      body: doomed.body,
      props: { UNIQ_KEY: randomBytes(16).toString('hex').toUpperCase(), __STARTDELIVERTIME: String(doomed.at) },
    });
    const handle = sent.extFields.recallHandle;
    assert.ok(handle, 'the send answer carries a recall handle');
    for (const p of pending.slice(1)) await send(p.body, p.at);
    // Delay level 2 (5 s): due after the failover.
    const pendingDelayed = ['pending-delay-0', 'pending-delay-1'];
    for (const b of pendingDelayed) await sendDelayed(b, 2);
    const recall = await group.rc.invoke(first.addr, createRequest(RequestCode.RECALL_MESSAGE, { producerGroup: 'GID_ha_timer_p', topic: TOPIC, recallHandle: handle }));
    assert.equal(recall.code, ResponseCode.SUCCESS, recall.remark);
    assert.ok(Date.now() < doomed.at, 'the recall was made before the message was due');

    await first.kill();
    const killedAt = Date.now();
    assert.ok(killedAt < pending[1].at, `the master was killed before the first kept timer was due (${pending[1].at - killedAt} ms to spare)`);
    const second = await checkFor(15_000, 50, () => masterOf(group, slaves), 'a new master elected');
    const electedAfterMs = Date.now() - killedAt;

    const seen = new Map<string, number>();
    await h.consumer({ consumerGroup: 'GID_ha_timer_reader' }, TOPIC, '*', async (m: OnsMessage) => {
      seen.set(m.body.toString(), (seen.get(m.body.toString()) ?? 0) + 1);
    });
    const kept = [...pending.slice(1).map((p) => p.body), ...pendingDelayed];
    await checkFor(20_000, 100, () => kept.every((b) => seen.has(b)), `every kept timer delivered (${[...seen.keys()].join(',')})`);
    // Everything the new master holds in the topic has reached the consumer: nothing more is to come.
    const stored = await pullAll(group.rc, second.addr, TOPIC);
    await checkFor(10_000, 100, () => [...seen.values()].reduce((a, b) => a + b, 0) >= stored.length, 'the consumer read all the topic holds');

    assert.equal(seen.get(doomed.body), undefined, 'the recalled timer is never delivered');
    assert.equal(stored.filter((r) => r.body.toString() === doomed.body).length, 0, 'the recalled timer is not in the topic');
    for (const b of [...early, ...earlyDelayed]) assert.equal(stored.filter((r) => r.body.toString() === b).length, 1, `${b} is stored once: the new master did not deliver it again`);
    for (const b of kept) assert.equal(stored.filter((r) => r.body.toString() === b).length, 1, `${b} is stored once`);
    for (const p of pending.slice(1)) {
      const rec = stored.find((r) => r.body.toString() === p.body)!;
      assert.ok(rec.storeTimestamp >= p.at, `${p.body} was not delivered early (${rec.storeTimestamp - p.at} ms)`);
    }
    const dupes = [...seen.values()].filter((n) => n > 1).length;
    console.log(`ha timer: elected ${electedAfterMs} ms after the kill; ${kept.length} pending timers and delays delivered once, recalled 0, ${before} early ones re-delivered 0, consumer duplicates ${dupes}`);
  } finally {
    await g.close();
  }
});
