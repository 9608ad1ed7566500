// Issue 16: every /api/ route of the console with good input (data made by the real clients:
// ali-ons over remoting, rocketmq-client-nodejs over gRPC) and with bad input (a 4xx with a
// sentence, never a 500 or a stack), the login, and `apogee console -n` as a role of its own.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkFor } from '../helpers/check-for.js';
import { spawnApogee } from '../helpers/spawn-apogee.js';
import { ons, OnsHarness, sendAll, type OnsMessage } from '../compat/helpers/ali-ons.js';
import { GrpcClients } from '../compat/helpers/grpc.js';
import { GET_DLQ_RESEND_LOG, RESEND_DLQ_MESSAGES } from '../../src/broker/processor/dlq-resend-processor.js';
import { RESEND_DLQ_MESSAGES as CONSOLE_RESEND_DLQ_MESSAGES } from '../../src/console/message-view.js';
import { bodyOf, createRequest, RemotingClient } from '../../src/remoting/index.js';
import { ApiClient, startConsoleStandalone, type ConsoleStandalone } from './console-harness.js';

async function resendLog(brokerAddr: string, group: string): Promise<{ dlqOffsetMsgId: string }[]> {
  const rc = new RemotingClient();
  try {
    const r = await rc.invoke(brokerAddr, createRequest(GET_DLQ_RESEND_LOG, { consumerGroup: group }));
    return (JSON.parse(bodyOf(r).toString('utf8')) as { records: { dlqOffsetMsgId: string }[] }).records;
  } finally {
    await rc.close();
  }
}

/** A failure answer: JSON with a one-line error and no stack frames. */
function assertRefused(r: { status: number; body: any }, status: number, pattern: RegExp): void {
  assert.equal(r.status, status, `status of ${JSON.stringify(r.body)}`);
  assert.equal(typeof r.body?.error, 'string', 'a JSON {error} body');
  assert.match(r.body.error, pattern);
  assert.doesNotMatch(r.body.error, /\n|\bat .*\.(ts|js):\d+/, 'no stack trace');
}

void describe('console api', () => {
  let s: ConsoleStandalone;
  let api: ApiClient;
  let h: OnsHarness;
  let grpc: GrpcClients;

  before(async () => {
    s = await startConsoleStandalone();
    api = new ApiClient(s.base);
    h = new OnsHarness(s.asStandalone);
    grpc = new GrpcClients(s.grpc);
  });
  after(async () => {
    await grpc?.close();
    await h?.close();
    await s?.close();
  });

  void test('console api - session, cluster, TPS samples and alarms answer for a fresh standalone', async () => {
    assert.deepEqual((await api.get('/session')).body, { loginRequired: false, loggedIn: true, aclLogin: false });
    const c = await api.get('/cluster');
    assert.equal(c.status, 200);
    assert.deepEqual(c.body.namesrvs.map((n: any) => [n.addr, n.ok]), [[s.namesrvAddr, true]]);
    const m = c.body.groups[0].members[0];
    assert.deepEqual([m.brokerName, m.brokerId, m.addr, m.role], ['broker-a', 0, s.brokerAddr, 'MASTER']);
    assert.match(m.version, /^V\d/);
    assert.equal(typeof m.commitLogBytes, 'number');
    const tps = await checkFor(10_000, 100, async () => {
      const t = await api.get('/tps');
      return t.body.samples.length >= 2 ? t.body : undefined;
    }, 'two TPS samples');
    assert.equal(tps.intervalMs, 300);
    assert.ok(tps.samples.every((p: any) => p.put >= 0 && p.get >= 0 && p.t > 0));
    const alarms = await api.get('/alarms');
    assert.equal(alarms.status, 200);
    assert.equal(alarms.body.brokers[0].brokerName, 'broker-a');
    assert.ok(alarms.body.brokers[0].rules.length > 0, 'the default rules');
  });

  void test('console api - topics: create, list with filter and kind, detail with route and queue offsets, test message, delete', async () => {
    const created = await api.post('/topics', { topic: 'ConsoleApiTopic', readQueueNums: 4, writeQueueNums: 4, messageType: 'NORMAL' });
    assert.deepEqual(created.body, { ok: true, cluster: 'DefaultCluster' });
    await checkFor(5000, 50, async () => (await api.get('/topics/ConsoleApiTopic')).status === 200, 'the route');
    const list = await api.get('/topics?filter=consoleapi&kind=normal');
    assert.deepEqual(list.body.items.map((t: any) => [t.topic, t.kind, t.messageType, t.readQueueNums, t.perm]), [['ConsoleApiTopic', 'normal', 'NORMAL', 4, 'RW']]);
    const system = await api.get('/topics?kind=system&size=100');
    assert.ok(system.body.items.some((t: any) => t.topic === 'TBW102'));
    assert.ok(!system.body.items.some((t: any) => t.kind !== 'system'));
    const paged = await api.get('/topics?kind=all&size=2&page=2');
    assert.equal(paged.body.items.length, 2);
    assert.ok(paged.body.total > 4);
    const sent = await api.post('/topics/ConsoleApiTopic/messages', { body: 'hello', tags: 'T', keys: 'k1 k2' });
    assert.equal(sent.status, 200);
    assert.equal(sent.body.sendStatus, 'SEND_OK');
    const d = await api.get('/topics/ConsoleApiTopic');
    assert.deepEqual(d.body.route.brokerDatas.map((b: any) => b.brokerName), ['broker-a']);
    const queues = d.body.brokers[0].queues;
    assert.equal(queues.length, 4);
    assert.equal(queues.reduce((n: number, q: any) => n + q.maxOffset, 0), 1, 'the test message is stored');
    assert.equal((await api.del('/topics/ConsoleApiTopic')).status, 200);
    await checkFor(5000, 50, async () => (await api.get('/topics/ConsoleApiTopic')).status === 404, 'the topic gone');
  });

  void test('console api - groups: 4.x and 5.x consumers are online with their protocol and lag; create, update, delete', async () => {
    await api.post('/topics', { topic: 'ConsoleGroupTopic', readQueueNums: 2, writeQueueNums: 2 });
    await api.post('/groups', { group: 'GID_console_v4', retryMaxTimes: 3 });
    await api.post('/groups', { group: 'GID_console_v5' });
    await checkFor(5000, 50, async () => (await api.get('/topics/ConsoleGroupTopic')).status === 200, 'the route');
    const producer = await h.producer('GID_console_group_p');
    await sendAll(producer, 6, (i) => new ons.Message('ConsoleGroupTopic', 'T', `m-${i}`));
    const v4seen: string[] = [];
    await h.consumer({ consumerGroup: 'GID_console_v4' }, 'ConsoleGroupTopic', '*', async (m: OnsMessage) => void v4seen.push(m.body.toString()));
    await checkFor(15_000, 50, () => v4seen.length >= 6, 'the 4.x consumer read all');
    const v5 = await grpc.simpleConsumer('GID_console_v5', { ConsoleGroupTopic: '*' });
    const got = await v5.receive(2, 30_000);
    for (const m of got) await v5.ack(m);
    const g5 = await checkFor(10_000, 100, async () => {
      const r = (await api.get('/groups/GID_console_v5')).body;
      return r.clients?.length === 1 ? r : undefined;
    }, 'the 5.x consumer online');
    assert.deepEqual([g5.clients[0].protocol, g5.clients[0].language, g5.clients[0].clientType], ['grpc', 'NODE_JS', 'simple consumer']);
    assert.equal(g5.totalLag, 6 - got.length, 'lag of the 5.x group like a 4.x one');
    const g4 = await checkFor(10_000, 100, async () => {
      const r = (await api.get('/groups/GID_console_v4')).body;
      return r.totalLag === 0 && r.clients?.length === 1 ? r : undefined;
    }, 'the 4.x group caught up');
    assert.equal(g4.clients[0].protocol, 'remoting');
    assert.equal(g4.retryMaxTimes, 3);
    assert.ok(g4.queues.filter((q: any) => q.topic === 'ConsoleGroupTopic').every((q: any) => q.client === g4.clients[0].clientId), 'the only client holds every queue');
    const list = await api.get('/groups?filter=gid_console_v');
    assert.deepEqual(
      list.body.items.map((g: any) => [g.group, g.online, g.protocols, g.totalLag]),
      [
        ['GID_console_v4', 1, ['remoting'], 0],
        ['GID_console_v5', 1, ['grpc'], 6 - got.length],
      ],
    );
    assert.equal((await api.post('/groups', { group: 'GID_console_v4', retryMaxTimes: 5, orderly: true })).status, 200);
    const updated = (await api.get('/groups/GID_console_v4')).body;
    assert.deepEqual([updated.retryMaxTimes, updated.orderly], [5, true]);
    await api.post('/groups', { group: 'GID_console_gone' });
    assert.equal((await api.del('/groups/GID_console_gone?removeOffsets=true')).status, 200);
    assert.equal((await api.get('/groups/GID_console_gone')).status, 404);
  });

  void test('console api - messages by key, by id (client id with topic, offset id alone), by time; detail with body and trace; resend', async () => {
    await api.post('/topics', { topic: 'ConsoleMsgTopic', readQueueNums: 2, writeQueueNums: 2 });
    await checkFor(5000, 50, async () => (await api.get('/topics/ConsoleMsgTopic')).status === 200, 'the route');
    const producer = await h.producer('GID_console_msg_p');
    const msg = new ons.Message('ConsoleMsgTopic', 'TagM', JSON.stringify({ order: 42 }));
    msg.keys = ['order-42'];
    const sentAt = Date.now();
    // ali-ons reports the offsetMsgId as msgId; the unique key is in the stored message.
    const r = (await producer.send(msg)) as { msgId: string };
    const byKey = await checkFor(10_000, 100, async () => {
      const a = await api.get('/messages/by-key?topic=ConsoleMsgTopic&key=order-42');
      return a.status === 200 && a.body.items.length === 1 ? a.body.items[0] : undefined;
    }, 'the message indexed');
    assert.equal(byKey.offsetMsgId, r.msgId);
    assert.deepEqual(byKey.keys, ['order-42']);
    assert.notEqual(byKey.msgId, byKey.offsetMsgId, 'a unique key (UNIQ_KEY) besides the offset id');
    const byId = await api.get(`/messages/by-id?id=${byKey.msgId}&topic=ConsoleMsgTopic`);
    assert.equal(byId.body.items[0].offsetMsgId, byKey.offsetMsgId);
    const byOffsetId = await api.get(`/messages/by-id?id=${byKey.offsetMsgId}`);
    assert.equal(byOffsetId.body.items[0].msgId, byKey.msgId);
    const byOffsetIdInTopic = await api.get(`/messages/by-id?id=${byKey.offsetMsgId}&topic=ConsoleMsgTopic`);
    assert.equal(byOffsetIdInTopic.body.items[0].msgId, byKey.msgId);
    const byTime = await api.get(`/messages/by-time?topic=ConsoleMsgTopic&begin=${sentAt - 1000}&end=${Date.now() + 1000}`);
    assert.deepEqual(byTime.body.items.map((m: any) => m.msgId), [byKey.msgId]);
    assert.equal(byTime.body.capped, false);
    const none = await api.get(`/messages/by-time?topic=ConsoleMsgTopic&begin=${sentAt - 60_000}&end=${sentAt - 30_000}`);
    assert.equal(none.body.total, 0);
    const detail = await api.get(`/messages/${byKey.msgId}?topic=ConsoleMsgTopic`);
    assert.equal(detail.status, 200);
    assert.deepEqual(detail.body.body.json, { order: 42 });
    assert.equal(detail.body.message.tags, 'TagM');
    assert.equal(detail.body.message.properties.KEYS, 'order-42');
    assert.equal(detail.body.trace.available, true, 'the broker keeps a trace topic by default');
    // A message trace without any client setting: the broker's own records of it.
    const seen: string[] = [];
    await h.consumer({ consumerGroup: 'GID_console_msg_c' }, 'ConsoleMsgTopic', '*', async (m: OnsMessage) => void seen.push(m.body.toString()));
    const trace = await checkFor(15_000, 200, async () => {
      const t = (await api.get(`/messages/${byKey.msgId}?topic=ConsoleMsgTopic`)).body.trace;
      return t.events.some((e: any) => e.type === 'Consumed') ? t : undefined;
    }, 'stored, delivered and consumed in the trace');
    const kinds = trace.events.map((e: any) => `${e.type}:${e.group}`);
    assert.ok(kinds.includes('Stored:GID_console_msg_p'), kinds.join(' '));
    assert.ok(kinds.includes('Delivered:GID_console_msg_c'), kinds.join(' '));
    assert.ok(kinds.includes('Consumed:GID_console_msg_c'), kinds.join(' '));
    assert.deepEqual(seen, [JSON.stringify({ order: 42 })]);
    // The diagnosis, also when the message is named by its offset id alone.
    const diag = await checkFor(10_000, 200, async () => {
      const d = (await api.get(`/messages/${byKey.offsetMsgId}`)).body.diagnosis;
      return d.groups?.some((g: any) => g.group === 'GID_console_msg_c' && g.state === 'consumed') ? d : undefined;
    }, 'GID_console_msg_c consumed in the diagnosis');
    assert.equal(diag.available, true);
    assert.match(diag.verdict, /^stored on .* queue \d offset 0 at .*; consumed by GID_console_msg_c/);
    const resent = await api.post(`/messages/${byKey.offsetMsgId}/resend`, { topic: 'ConsoleMsgTopic' });
    assert.deepEqual(resent.body, { ok: true, resent: 1, failed: [] });
    await checkFor(10_000, 100, async () => (await api.get('/messages/by-key?topic=ConsoleMsgTopic&key=order-42')).body.items?.length === 2, 'the copy indexed');
  });

  void test('console api - dead letters: listed, exported as JSON Lines, resent selected and consumed again by the group', async () => {
    const topic = 'ConsoleDlqTopic';
    const group = 'GID_console_dlq';
    await api.post('/topics', { topic, readQueueNums: 1, writeQueueNums: 1 });
    await api.post('/groups', { group, retryMaxTimes: 0 });
    await checkFor(5000, 50, async () => (await api.get(`/topics/${topic}`)).status === 200, 'the route');
    const producer = await h.producer('GID_console_dlq_p');
    await sendAll(producer, 3, (i) => new ons.Message(topic, 'T', `dead-${i}`));
    let failing = true;
    const seen: string[] = [];
    const consumer = await h.consumer({ consumerGroup: group, maxReconsumeTimes: 0 }, topic, '*', async (m: OnsMessage) => {
      seen.push(m.body.toString());
      if (failing) throw new Error('fails on purpose');
    });
    const page = await checkFor(30_000, 200, async () => {
      const p = await api.get(`/dlq/${group}`);
      return p.status === 200 && p.body.total === 3 ? p.body : undefined;
    }, 'three dead letters');
    assert.deepEqual(page.items.map((m: any) => m.originTopic), [topic, topic, topic]);
    const groups = await api.get('/dlq');
    assert.deepEqual(groups.body.items.filter((g: any) => g.group === group), [{ group, messages: 3 }]);
    const exp = await api.get(`/dlq/${group}/export`);
    assert.equal(exp.status, 200);
    assert.match(exp.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    assert.match(exp.headers.get('content-disposition') ?? '', /attachment; filename="dlq-GID_console_dlq\.jsonl"/);
    const lines = (exp.body as string).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.body).sort(), ['dead-0', 'dead-1', 'dead-2']);
    failing = false;
    const before = seen.length;
    const pick = lines.find((l) => l.body === 'dead-1');
    const resent = await api.post(`/dlq/${group}/resend`, { ids: [pick.offsetMsgId] });
    assert.deepEqual(resent.body, { ok: true, resent: 1, failed: [] });
    await checkFor(20_000, 50, () => seen.slice(before).includes('dead-1'), 'the resent dead letter consumed again');
    assert.deepEqual(seen.slice(before), ['dead-1'], 'only the one picked');
    // Resent by the broker's own request, which logs it.
    assert.equal(CONSOLE_RESEND_DLQ_MESSAGES, RESEND_DLQ_MESSAGES);
    const log = await resendLog(s.brokerAddr, group);
    assert.deepEqual(log.map((r) => r.dlqOffsetMsgId), [pick.offsetMsgId]);
    await h.closeConsumer(consumer);
  });

  void test('console api - reset offset by time moves the group back to the first message at or after the time, or says it is not available yet', async () => {
    const topic = 'ConsoleResetTopic';
    const group = 'GID_console_reset';
    await api.post('/topics', { topic, readQueueNums: 1, writeQueueNums: 1 });
    await api.post('/groups', { group });
    await checkFor(5000, 50, async () => (await api.get(`/topics/${topic}`)).status === 200, 'the route');
    const producer = await h.producer('GID_console_reset_p');
    const t0 = Date.now() - 1;
    await sendAll(producer, 4, (i) => new ons.Message(topic, 'T', `r-${i}`));
    const seen: string[] = [];
    await h.consumer({ consumerGroup: group }, topic, '*', async (m: OnsMessage) => void seen.push(m.body.toString()));
    await checkFor(15_000, 50, () => seen.length >= 4, 'first read');
    await checkFor(10_000, 100, async () => (await api.get(`/groups/${group}`)).body.totalLag === 0, 'offsets committed');
    const r = await api.post(`/groups/${group}/reset-offset`, { topic, timestamp: t0 });
    if (r.status === 501) {
      assertRefused(r, 501, /^not available on this broker yet: /);
      return;
    }
    // The broker's answer: every queue back to the first message stored at or after t0. That the
    // consumer then re-reads is the browser test's (it takes ali-ons a rebalance or two).
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { ok: true, queues: [{ brokerName: 'broker-a', queueId: 0, offset: 0 }] });
  });

  void test('console api - bad input answers 4xx with a sentence naming the cause, never 500', async () => {
    const cases: [string, string, unknown, number, RegExp][] = [
      ['POST', '/topics', { topic: 'bad topic!' }, 400, /bad input: body\/topic must match pattern/],
      ['POST', '/topics', { topic: 'T1', readQueueNums: 0 }, 400, /readQueueNums must be >= 1/],
      ['POST', '/topics', { topic: 'T1', perm: 5 }, 400, /perm must be equal to one of the allowed values/],
      ['POST', '/topics', { topic: 'T1', messageType: 'WEIRD' }, 400, /messageType must be equal to one of the allowed values/],
      ['POST', '/topics', { topic: 'T1', cluster: 'NoSuchCluster' }, 404, /cluster NoSuchCluster is not registered/],
      ['POST', '/topics', {}, 400, /must have required property 'topic'/],
      ['GET', '/topics?kind=weird', undefined, 400, /kind must be equal to one of the allowed values/],
      ['GET', '/topics?page=0', undefined, 400, /page must be >= 1/],
      ['GET', '/topics?size=100000', undefined, 400, /size must be <= 500/],
      ['GET', '/topics/NoSuchTopic', undefined, 404, /topic NoSuchTopic has no route/],
      ['DELETE', '/topics/NoSuchTopic', undefined, 404, /topic NoSuchTopic has no route/],
      ['POST', '/topics/NoSuchTopic/messages', { body: 'x' }, 404, /topic NoSuchTopic has no route/],
      ['POST', '/topics/TBW102/messages', {}, 400, /must have required property 'body'/],
      ['POST', '/groups', { group: 'G', retryMaxTimes: 17 }, 400, /retryMaxTimes must be <= 16/],
      ['POST', '/groups', { group: '' }, 400, /group must match pattern/],
      ['GET', '/groups/NoSuchGroup', undefined, 404, /consumer group NoSuchGroup does not exist/],
      ['DELETE', '/groups/NoSuchGroup', undefined, 404, /consumer group NoSuchGroup does not exist/],
      ['POST', '/groups/G/reset-offset', { topic: 'TBW102' }, 400, /must have required property 'timestamp'/],
      ['POST', '/groups/G/reset-offset', { topic: 'NoSuchTopic', timestamp: 1 }, 404, /topic NoSuchTopic has no route/],
      ['GET', '/messages/by-key?topic=TBW102', undefined, 400, /must have required property 'key'/],
      ['GET', '/messages/by-key?topic=NoSuchTopic&key=k', undefined, 404, /topic NoSuchTopic has no route/],
      ['GET', '/messages/by-time?topic=TBW102&begin=10&end=5', undefined, 400, /end \(5\) is before begin \(10\)/],
      ['GET', '/messages/by-time?topic=TBW102&begin=x&end=5', undefined, 400, /begin must be integer/],
      ['GET', '/messages/by-id?id=nothex', undefined, 400, /id must match pattern/],
      ['GET', '/messages/by-id?id=0123456789ABCDEF0123456789ABCDEF', undefined, 400, /not an offset message id of a broker of this cluster; give the topic/],
      ['GET', '/messages/0123456789ABCDEF0123456789ABCDEF?topic=TBW102', undefined, 404, /no message 0123456789ABCDEF0123456789ABCDEF in topic TBW102/],
      ['POST', '/messages/0123456789ABCDEF0123456789ABCDEF/resend', { group: 'bad group' }, 400, /group must match pattern/],
      ['POST', '/dlq/G/resend', {}, 400, /give "ids" \(the dead letters to resend\) or "all": true/],
      ['POST', '/dlq/G/resend', { ids: ['zz'] }, 400, /ids\/0 must match pattern/],
      ['GET', '/dlq/G?size=0', undefined, 400, /size must be >= 1/],
      ['GET', '/nope', undefined, 404, /no API route GET \/api\/nope/],
      ['POST', '/login', { user: 'a', password: 'b' }, 400, /no login configured/],
    ];
    for (const [method, path, body, status, pattern] of cases) {
      const r = await api.call(method, path, body);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)} answered ${r.status} ${JSON.stringify(r.body)}`);
      assertRefused(r, status, pattern);
    }
    const badJson = await api.call('POST', '/topics', undefined, '{"topic": ');
    assertRefused(badJson, 400, /JSON/);
  });
});

void describe('console login', () => {
  void test('console login - issue 16: a wrong password is refused, the API needs the session cookie, logout ends it', async () => {
    await using s = await startConsoleStandalone({ consoleUser: 'admin', consolePassword: 's3cret' });
    assert.equal(s.addresses.consoleAccess, 'login');
    const api = new ApiClient(s.base);
    assert.deepEqual((await api.get('/session')).body, { loginRequired: true, loggedIn: false, aclLogin: false });
    assertRefused(await api.get('/cluster'), 401, /^login required$/);
    assertRefused(await api.post('/login', { user: 'admin', password: 'wrong' }), 401, /^wrong user or password$/);
    assertRefused(await api.post('/login', { user: 'admi', password: 's3cret' }), 401, /^wrong user or password$/);
    assertRefused(await api.post('/login', { user: 'admin' }), 400, /must have required property 'password'/);
    assert.equal(api.cookie, undefined, 'no cookie for a refused login');
    const ok = await api.post('/login', { user: 'admin', password: 's3cret' });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('set-cookie') ?? '', /^apogee_console=[\w-]{43}; Path=\/; HttpOnly; SameSite=Strict/);
    assert.equal((await api.get('/cluster')).status, 200);
    assert.equal((await api.get('/topics')).status, 200);
    const forged = new ApiClient(s.base);
    forged.cookie = 'apogee_console=forged';
    assertRefused(await forged.get('/topics'), 401, /login required/);
    await api.post('/logout');
    api.cookie = ok.headers.get('set-cookie')!.split(';')[0];
    assertRefused(await api.get('/cluster'), 401, /login required/);
    // Guessing: after ten wrong logins within a minute even the right one waits.
    for (let i = 0; i < 8; i++) assert.equal((await api.post('/login', { user: 'admin', password: `guess-${i}` })).status, 401);
    assertRefused(await api.post('/login', { user: 'admin', password: 's3cret' }), 429, /too many wrong logins from this address/);
    // The page itself loads (it shows the login form); only data needs the session.
    assert.equal((await fetch(`${s.base}/`)).status, 200);
  });

  void test('console login - only one of consoleUser and consolePassword is a configuration error naming both', async () => {
    await assert.rejects(startConsoleStandalone({ consoleUser: 'admin' }), /consoleUser and consolePassword must be set together/);
  });
});

void test('console - apogee console -n serves a cluster over remoting, loopback only without a login', async () => {
  await using s = await startConsoleStandalone();
  await using c = await spawnApogee(['console', '-n', s.namesrvAddr, '--httpPort=0', '--consoleSampleIntervalMs=1000']);
  assert.match(c.stdout(), /^apogee ready: http=127\.0\.0\.1:\d+ console=http:\/\/127\.0\.0\.1:\d+\/ consoleAccess=loopback-only$/m);
  const api = new ApiClient(`http://${c.addresses.http}`);
  const cluster = await api.get('/cluster');
  assert.equal(cluster.status, 200);
  assert.equal(cluster.body.groups[0].members[0].addr, s.brokerAddr);
  const page = await fetch(`http://${c.addresses.http}/`);
  assert.match(await page.text(), /<title>Apogee console<\/title>/);
  assert.equal((await fetch(`http://${c.addresses.http}/vendor/uPlot.iife.min.js`)).status, 200);
  assert.deepEqual(await c.stop('SIGTERM'), { code: 0, signal: null });
});
