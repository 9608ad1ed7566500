// The real ali-ons 4.x client against our broker: clustering delivery, tags, keys and properties, big bodies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone } from '../helpers/standalone.js';
import { createTopic, ons, OnsHarness, sendAll, type OnsMessage, type OnsSendResult } from './helpers/ali-ons.js';

void test('ali-ons send/consume - two clustering consumers share 8 queues and get every message once', async () => {
  await using s = await startStandalone();
  await using h = new OnsHarness(s);
  const topic = 'OnsClusterTopic';
  await createTopic(s, topic);

  const got = new Map<string, string[]>();
  const record = (who: string) => async (msg: OnsMessage) => {
    const list = got.get(msg.body.toString()) ?? [];
    list.push(who);
    got.set(msg.body.toString(), list);
  };
  const group = 'GID_ons_cluster';
  const c1 = await h.consumer({ consumerGroup: group }, topic, '*', record('c1'));
  const c2 = await h.consumer({ consumerGroup: group }, topic, '*', record('c2'));
  // Send only once the group has settled on 4 + 4 queues, so no rebalance hands a queue over mid-run.
  await checkFor(
    15_000,
    50,
    () => {
      const a = OnsHarness.assignedQueues(c1, topic);
      const b = OnsHarness.assignedQueues(c2, topic);
      return a.length === 4 && b.length === 4 && new Set([...a, ...b]).size === 8;
    },
    'both consumers to hold 4 distinct queues',
  );

  const producer = await h.producer('GID_ons_cluster_p');
  const n = 400;
  const results = await sendAll(producer, n, (i) => new ons.Message(topic, 'TagA', `cluster-${i}`), 32);
  assert.equal(results.length, n);
  assert.ok(results.every((r) => r.sendStatus === 'SEND_OK'));
  // Round robin over the 8 write queues.
  // ali-ons reads response header fields as the strings the broker sent, as it does against Java.
  assert.deepEqual(new Set(results.map((r) => Number(r.messageQueue.queueId))), new Set([0, 1, 2, 3, 4, 5, 6, 7]));

  await checkFor(20_000, 50, () => got.size === n, `all ${n} messages (have ${got.size})`);
  // Let any duplicate that is still on its way show up before counting.
  await new Promise((r) => setTimeout(r, 300));
  const expected = new Set(Array.from({ length: n }, (_, i) => `cluster-${i}`));
  assert.deepEqual(new Set(got.keys()), expected);
  const dups = [...got].filter(([, who]) => who.length !== 1);
  assert.deepEqual(dups, [], 'no message delivered twice');
  const byC1 = [...got.values()].filter((w) => w[0] === 'c1').length;
  assert.ok(byC1 > 0 && byC1 < n, `both consumers took part (c1 had ${byC1})`);
});

void test('ali-ons send/consume - a "TagA || TagB" subscription gets exactly the TagA and TagB messages', async () => {
  await using s = await startStandalone();
  await using h = new OnsHarness(s);
  const topic = 'OnsTagTopic';
  await createTopic(s, topic, 4);
  const producer = await h.producer('GID_ons_tag_p');
  const tags = ['TagA', 'TagB', 'TagC'];
  const n = 150;
  await sendAll(producer, n, (i) => new ons.Message(topic, tags[i % 3], `tag-${i}-${tags[i % 3]}`), 16);

  const got: OnsMessage[] = [];
  await h.consumer({ consumerGroup: 'GID_ons_tag' }, topic, 'TagA || TagB', async (m) => {
    got.push(m);
  });
  const want = Array.from({ length: n }, (_, i) => i)
    .filter((i) => i % 3 !== 2)
    .map((i) => `tag-${i}-${tags[i % 3]}`);
  await checkFor(15_000, 50, () => got.length >= want.length, `${want.length} tagged messages (have ${got.length})`);
  // A TagC message would be read after the last wanted one only if the filter let it through; give it time to show.
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(got.map((m) => m.body.toString()).sort(), want.sort());
  for (const m of got) assert.equal(m.body.toString().endsWith(m.tags ?? '?'), true, `tag ${m.tags} matches body`);
  // ali-ons also drops unmatched tags itself, so check the broker's side: it handed this group only the matches.
  assert.equal(s.controller.stats.groupGets.get(`${topic}@GID_ons_tag`), want.length);
});

void test('ali-ons send/consume - keys, tags and user properties come back; send results carry id, queue and offset', async () => {
  await using s = await startStandalone();
  await using h = new OnsHarness(s);
  const topic = 'OnsPropsTopic';
  await createTopic(s, topic, 2);
  const producer = await h.producer('GID_ons_props_p');

  const sent: OnsSendResult[] = [];
  for (let i = 0; i < 6; i++) {
    const msg = new ons.Message(topic, `T${i}`, `props-${i}`);
    msg.keys = [`key-${i}`, `alt-${i}`];
    msg.properties.orderId = `order-${i}`;
    msg.properties['x-unicode'] = 'héllo wörld ✓';
    sent.push(await producer.send(msg));
  }
  const [ip, port] = s.brokerAddr.split(':');
  const storeHostHex = (Buffer.from(ip.split('.').map(Number)).toString('hex') + Number(port).toString(16).padStart(8, '0')).toUpperCase();
  const offsetsByQueue = new Map<number, number[]>();
  for (const r of sent) {
    assert.equal(r.sendStatus, 'SEND_OK');
    // offsetMsgId: store host (4 bytes ip + 4 bytes port) then the commit-log offset, as 32 upper-case hex chars.
    assert.match(r.msgId, /^[0-9A-F]{32}$/);
    assert.equal(r.msgId.slice(0, 16), storeHostHex);
    assert.equal(r.messageQueue.topic, topic);
    const qid = Number(r.messageQueue.queueId);
    assert.ok(qid === 0 || qid === 1, `queue id ${qid}`);
    const list = offsetsByQueue.get(qid) ?? [];
    list.push(r.queueOffset);
    offsetsByQueue.set(qid, list);
  }
  // Fresh queues: offsets run 0, 1, 2 … per queue.
  for (const list of offsetsByQueue.values()) assert.deepEqual(list, list.map((_, i) => i));
  assert.equal(new Set(sent.map((r) => r.msgId)).size, sent.length);

  const got = new Map<string, OnsMessage>();
  await h.consumer({ consumerGroup: 'GID_ons_props' }, topic, '*', async (m) => {
    got.set(m.body.toString(), m);
  });
  await checkFor(15_000, 50, () => got.size === 6, 'the 6 messages');
  for (let i = 0; i < 6; i++) {
    const m = got.get(`props-${i}`);
    assert.ok(m);
    assert.equal(m.keys, `key-${i} alt-${i}`);
    assert.equal(m.tags, `T${i}`);
    assert.equal(m.properties.orderId, `order-${i}`);
    assert.equal(m.properties['x-unicode'], 'héllo wörld ✓');
    assert.equal(m.topic, topic);
    // The consumer sees the same broker-side id the producer was given.
    const r = sent[i];
    assert.equal(m.msgId, r.msgId);
    assert.equal(m.queueId, Number(r.messageQueue.queueId));
    assert.equal(m.queueOffset, r.queueOffset);
    assert.equal(m.storeHost, s.brokerAddr);
    assert.equal(m.reconsumeTimes, 0);
    // The broker adds a unique key when the producer (ali-ons never does) left it out.
    assert.match(m.properties.UNIQ_KEY ?? '', /^[0-9A-F]{32}$/);
  }
});

void test('ali-ons send/consume - bodies of 4 KiB and more (compressed by ali-ons) arrive intact', async () => {
  await using s = await startStandalone();
  await using h = new OnsHarness(s);
  const topic = 'OnsBigBodyTopic';
  await createTopic(s, topic, 2);
  const producer = await h.producer('GID_ons_big_p');
  // Sizes around the 4096-byte compression threshold and well beyond; pseudo-random bytes so zlib cannot shrink them to nothing.
  const sizes = [4095, 4096, 4097, 16 * 1024, 100 * 1024, 120 * 1024];
  let seed = 7;
  const bodies = sizes.map((size, k) => {
    const b = Buffer.alloc(size);
    for (let i = 0; i < size; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      // Half compressible text, half noise.
      b[i] = i % 2 === 0 ? 97 + (i % 26) : seed >>> 23;
    }
    b.write(`big-${k}:`, 0);
    return b;
  });
  for (const body of bodies) {
    const r = await producer.send(new ons.Message(topic, 'Big', body));
    assert.equal(r.sendStatus, 'SEND_OK');
  }
  const got = new Map<string, Buffer>();
  await h.consumer({ consumerGroup: 'GID_ons_big' }, topic, '*', async (m) => {
    got.set(m.body.subarray(0, 8).toString().split(':')[0], m.body);
  });
  await checkFor(15_000, 50, () => got.size === bodies.length, `${bodies.length} big messages (have ${got.size})`);
  bodies.forEach((b, k) => {
    const m = got.get(`big-${k}`);
    assert.ok(m, `big-${k} arrived`);
    assert.equal(m.length, b.length);
    assert.ok(m.equals(b), `big-${k} body is byte-identical`);
  });
});

void test('ali-ons send/consume - an idle consumer held in a long poll gets a new message at once, not after the 15 s hold', async () => {
  await using s = await startStandalone();
  await using h = new OnsHarness(s);
  const topic = 'OnsLongPollTopic';
  await createTopic(s, topic, 1);
  const arrivals: number[] = [];
  await h.consumer({ consumerGroup: 'GID_ons_longpoll' }, topic, '*', async () => {
    arrivals.push(Date.now());
  });
  // Two pulls park in the broker: the topic's one queue and the group's retry queue.
  const bothHeld = (): boolean => s.controller.pullRequestHoldService.size === 2;
  const producer = await h.producer('GID_ons_longpoll_p');
  for (let k = 0; k < 3; k++) {
    await checkFor(10_000, 20, bothHeld, 'both pulls held');
    const sentAt = Date.now();
    await producer.send(new ons.Message(topic, 'L', `lp-${k}`));
    await checkFor(3000, 10, () => arrivals.length === k + 1, `message ${k} within 3 s`);
    assert.ok(arrivals[k] - sentAt < 3000);
  }
});
