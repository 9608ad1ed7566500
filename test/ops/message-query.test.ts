// Issue 13: queryMsgById / ByKey / ByUniqueKey / ByOffset and printMsg find messages a real
// ali-ons producer sent, print mqadmin's layout or --json, and still find them after a restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTopic, OnsHarness, ons, sendAll } from '../compat/helpers/ali-ons.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';
import { admin, adminJson } from './admin-run.js';

const TOPIC = 'OpsQueryTopic';
const N = 20;

interface Msg {
  msgId: string;
  offsetMsgId: string;
  topic: string;
  tags: string | null;
  keys: string[];
  brokerName: string;
  queueId: number;
  queueOffset: number;
  storeTimestamp: number;
  body: string;
}

describe('ops message queries', () => {
  let s: Standalone;
  let sentAt = 0;
  let doneAt = 0;
  const body = (i: number): Buffer => Buffer.from(`query-body-${i}-\u00e9\u4e2d`, 'utf8');

  before(async () => {
    s = await startStandalone();
    await createTopic(s, TOPIC, 2);
    await using h = new OnsHarness(s);
    const p = await h.producer('GID_ops_query_p');
    sentAt = Date.now();
    await sendAll(
      p,
      N,
      (i) => {
        const m = new ons.Message(TOPIC, i % 2 ? 'TagB' : 'TagA', body(i));
        m.keys = [`qk-${i}`, 'shared-key'];
        return m;
      },
      1,
    );
    doneAt = Date.now();
  });
  after(async () => {
    await s.close();
  });

  test('ops query - queryMsgByKey lists every match; ById, ByUniqueKey and ByOffset return the same message', async () => {
    const byKey = await adminJson<Msg[]>(s.namesrvAddr, 'queryMsgByKey', '-t', TOPIC, '-k', 'qk-7');
    assert.equal(byKey.length, 1);
    const m = byKey[0];
    assert.deepEqual(m.keys, ['qk-7', 'shared-key']);
    assert.equal(m.tags, 'TagB');
    assert.ok(Buffer.from(m.body, 'base64').equals(body(7)));
    assert.ok(m.storeTimestamp >= sentAt && m.storeTimestamp <= doneAt, 'store time within the send window');
    assert.notEqual(m.msgId, m.offsetMsgId, 'ali-ons sets a unique key');

    const shared = await adminJson<Msg[]>(s.namesrvAddr, 'queryMsgByKey', '-t', TOPIC, '-k', 'shared-key');
    assert.equal(shared.length, N);

    const [byOffsetId, byUniq, byUniqAnyTopic, byUniqCmd, byOffset] = await Promise.all([
      adminJson<Msg[]>(s.namesrvAddr, 'queryMsgById', '-i', m.offsetMsgId),
      adminJson<Msg[]>(s.namesrvAddr, 'queryMsgById', '-i', m.msgId, '-t', TOPIC),
      adminJson<Msg[]>(s.namesrvAddr, 'queryMsgById', '-i', m.msgId),
      adminJson<Msg[]>(s.namesrvAddr, 'queryMsgByUniqueKey', '-t', TOPIC, '-i', m.msgId.toLowerCase()),
      adminJson<Msg[]>(s.namesrvAddr, 'queryMsgByOffset', '-t', TOPIC, '-b', m.brokerName, '-i', String(m.queueId), '-o', String(m.queueOffset)),
    ]);
    for (const [name, list] of Object.entries({ byOffsetId, byUniq, byUniqAnyTopic, byUniqCmd, byOffset })) {
      assert.equal(list.length, 1, name);
      assert.equal(list[0].offsetMsgId, m.offsetMsgId, name);
      assert.equal(list[0].msgId, m.msgId, name);
      assert.equal(list[0].body, m.body, name);
    }
  });

  test('ops query - the text layout is mqadmin-like', async () => {
    const byKey = await admin(s.namesrvAddr, 'queryMsgByKey', '-t', TOPIC, '-k', 'qk-3');
    assert.equal(byKey.code, 0, byKey.stderr);
    assert.match(byKey.stdout, /^#Message ID +#Offset ID +#Broker Name +#QID +#Offset +#Store Time/);
    const id = byKey.stdout.split('\n')[1].split(/ +/)[0];
    const detail = await admin(s.namesrvAddr, 'queryMsgById', '-i', id, '-t', TOPIC);
    assert.equal(detail.code, 0, detail.stderr);
    assert.match(detail.stdout, /^OffsetID: +[0-9A-F]{32}$/m);
    assert.match(detail.stdout, /^Topic: +OpsQueryTopic$/m);
    assert.match(detail.stdout, /^Keys: +\[qk-3 shared-key\]$/m);
    assert.match(detail.stdout, /^Message Body: +query-body-3-\u00e9\u4e2d$/m);
  });

  test('ops query - printMsg lists the time range, bounded by --max and filtered by tag', async () => {
    const all = await adminJson<{ messages: Msg[]; count: number; truncated: boolean }>(s.namesrvAddr, 'printMsg', '-t', TOPIC, '-b', String(sentAt), '-e', String(doneAt));
    assert.equal(all.count, N);
    assert.equal(all.truncated, false);
    assert.deepEqual(new Set(all.messages.map((m) => Buffer.from(m.body, 'base64').toString())), new Set(Array.from({ length: N }, (_, i) => body(i).toString())));

    const capped = await admin(s.namesrvAddr, 'printMsg', '-t', TOPIC, '--max', '5');
    assert.equal(capped.code, 0, capped.stderr);
    assert.equal(capped.stdout.split('\n').filter((l) => l.startsWith('MSGID: ')).length, 5);
    assert.match(capped.stdout, /5 messages printed; stopped at --max 5, more are in the range/);

    const tagged = await adminJson<{ messages: Msg[] }>(s.namesrvAddr, 'printMsg', '-t', TOPIC, '-s', 'TagA');
    assert.equal(tagged.messages.length, N / 2);
    assert.ok(tagged.messages.every((m) => m.tags === 'TagA'));

    const relative = await adminJson<{ count: number }>(s.namesrvAddr, 'printMsg', '-t', TOPIC, '-b', '-1h', '-e', 'now');
    assert.equal(relative.count, N);

    const before = await admin(s.namesrvAddr, 'printMsg', '-t', TOPIC, '-b', String(sentAt - 60_000), '-e', String(sentAt - 1));
    assert.equal(before.code, 1);
    assert.match(before.stderr, /no message of topic OpsQueryTopic was stored between/);
  });

  test('ops query - the queries still find the messages after a broker restart', async () => {
    const [m] = await adminJson<Msg[]>(s.namesrvAddr, 'queryMsgByKey', '-t', TOPIC, '-k', 'qk-11');
    const port = Number(s.brokerAddr.split(':')[1]);
    // The same port: an offsetMsgId names the broker's address, as in a real deployment. The HA
    // port stays free-picked: left at its default it would become listenPort + 1, which another
    // test's socket may hold by now (EADDRINUSE in a clean-clone run).
    await s.restartBroker({ listenPort: port, haListenPort: 0 });
    await s.controller.registerBrokerAll();
    const [byKey, byId, byUniq, byOffset] = await Promise.all([
      adminJson<Msg[]>(s.namesrvAddr, 'queryMsgByKey', '-t', TOPIC, '-k', 'qk-11'),
      adminJson<Msg[]>(s.namesrvAddr, 'queryMsgById', '-i', m.offsetMsgId),
      adminJson<Msg[]>(s.namesrvAddr, 'queryMsgByUniqueKey', '-t', TOPIC, '-i', m.msgId),
      adminJson<Msg[]>(s.namesrvAddr, 'queryMsgByOffset', '-t', TOPIC, '-b', m.brokerName, '-i', String(m.queueId), '-o', String(m.queueOffset)),
    ]);
    for (const list of [byKey, byId, byUniq, byOffset]) assert.deepEqual(list.map((x) => [x.offsetMsgId, x.body]), [[m.offsetMsgId, m.body]]);
  });
});
