import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, decodeMessages, getPropertyFromString, messageProperties2String } from '../../src/common/index.js';
import { decodeMessageId } from '../../src/common/msg-id.js';
import { bodyOf, createRequest, RemotingClient, RequestCode, ResponseCode, type ExtInput, type RemotingCommand } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';

const TOPIC = 'AdminTopic';
const GROUP = 'admin_cg';
const PGROUP = 'admin_pg';

interface Ctx {
  s: Standalone;
  client: RemotingClient;
  call(code: number, ext?: ExtInput, body?: Buffer): Promise<RemotingCommand>;
  sent: { queueId: number; offset: number; key: string; body: string }[];
  t0: number;
}

async function setup(): Promise<Ctx & AsyncDisposable> {
  const s = await startStandalone();
  const client = new RemotingClient();
  const call = (code: number, ext?: ExtInput, body?: Buffer) => client.invoke(s.brokerAddr, createRequest(code, ext, body));
  const t0 = Date.now();
  const created = await call(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: TOPIC, readQueueNums: 4, writeQueueNums: 4, perm: 6 });
  assert.equal(created.code, ResponseCode.SUCCESS, created.remark);
  const sent: Ctx['sent'] = [];
  // 5 messages to queue 0 and 3 to queue 1, each with its own key.
  for (let i = 0; i < 8; i++) {
    const queueId = i < 5 ? 0 : 1;
    const key = `key-${i}`;
    const body = `body-${i}`;
    const r = await call(
      RequestCode.SEND_MESSAGE,
      { producerGroup: PGROUP, topic: TOPIC, queueId, sysFlag: 0, bornTimestamp: Date.now(), flag: 0, properties: messageProperties2String({ KEYS: key, TAGS: 'A' }) },
      Buffer.from(body),
    );
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    sent.push({ queueId, key, body, offset: decodeMessageId(r.extFields.msgId).offset });
  }
  for (const [queueId, commitOffset] of [
    [0, 2],
    [1, 3],
  ]) {
    const r = await call(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: GROUP, topic: TOPIC, queueId, commitOffset });
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  }
  return {
    s,
    client,
    call,
    sent,
    t0,
    [Symbol.asyncDispose]: async () => {
      await client.close();
      await s.close();
    },
  };
}

const parse = <T>(r: RemotingCommand): T => JSON.parse(bodyOf(r).toString('utf8')) as T;

function heartbeat(clientID: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      clientID,
      producerDataSet: [{ groupName: PGROUP }],
      consumerDataSet: [
        {
          groupName: GROUP,
          consumeType: 'CONSUME_PASSIVELY',
          messageModel: 'CLUSTERING',
          consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
          subscriptionDataSet: [{ topic: TOPIC, subString: 'A || B', expressionType: 'TAG', subVersion: 1 }],
        },
      ],
    }),
  );
}

describe('broker admin', () => {
  test('admin - GET_TOPIC_STATS_INFO gives min, max and last store time per queue; unknown topic is TOPIC_NOT_EXIST', async () => {
    await using c = await setup();
    const r = await c.call(RequestCode.GET_TOPIC_STATS_INFO, { topic: TOPIC });
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    const { offsetTable } = parse<{ offsetTable: { topic: string; brokerName: string; queueId: number; minOffset: number; maxOffset: number; lastUpdateTimestamp: number }[] }>(r);
    assert.deepEqual(
      offsetTable.map((e) => [e.topic, e.brokerName, e.queueId, e.minOffset, e.maxOffset]),
      [
        [TOPIC, 'broker-a', 0, 0, 5],
        [TOPIC, 'broker-a', 1, 0, 3],
        [TOPIC, 'broker-a', 2, 0, 0],
        [TOPIC, 'broker-a', 3, 0, 0],
      ],
    );
    assert.ok(offsetTable[0].lastUpdateTimestamp >= c.t0 && offsetTable[0].lastUpdateTimestamp <= Date.now(), String(offsetTable[0].lastUpdateTimestamp));
    assert.ok(offsetTable[1].lastUpdateTimestamp >= offsetTable[0].lastUpdateTimestamp, 'queue 1 got the later messages');
    assert.equal(offsetTable[2].lastUpdateTimestamp, 0);

    const missing = await c.call(RequestCode.GET_TOPIC_STATS_INFO, { topic: 'NoSuchTopic' });
    assert.equal(missing.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.match(missing.remark ?? '', /NoSuchTopic/);
    const noHeader = await c.call(RequestCode.GET_TOPIC_STATS_INFO, {});
    assert.equal(noHeader.code, ResponseCode.INVALID_PARAMETER);
    assert.match(noHeader.remark ?? '', /<topic>/);
  });

  test('admin - GET_CONSUME_STATS gives broker and consumer offsets per queue, with and without a topic', async () => {
    await using c = await setup();
    type Stats = { offsetTable: { topic: string; queueId: number; brokerOffset: number; consumerOffset: number; lastTimestamp: number }[]; consumeTps: number };
    const r = await c.call(RequestCode.GET_CONSUME_STATS, { consumerGroup: GROUP, topic: TOPIC });
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    const stats = parse<Stats>(r);
    assert.deepEqual(
      stats.offsetTable.map((e) => [e.queueId, e.brokerOffset, e.consumerOffset]),
      [
        [0, 5, 2],
        [1, 3, 3],
        [2, 0, 0],
        [3, 0, 0],
      ],
    );
    const lag = stats.offsetTable.reduce((n, e) => n + e.brokerOffset - e.consumerOffset, 0);
    assert.equal(lag, 3);
    assert.ok(stats.offsetTable[0].lastTimestamp >= c.t0, 'store time of the last consumed message');
    assert.equal(stats.offsetTable[2].lastTimestamp, 0);
    assert.equal(typeof stats.consumeTps, 'number');

    const all = parse<Stats>(await c.call(RequestCode.GET_CONSUME_STATS, { consumerGroup: GROUP }));
    assert.deepEqual([...new Set(all.offsetTable.map((e) => e.topic))], [TOPIC]);
    const none = parse<Stats>(await c.call(RequestCode.GET_CONSUME_STATS, { consumerGroup: 'nobody' }));
    assert.deepEqual(none.offsetTable, []);

    const missing = await c.call(RequestCode.GET_CONSUME_STATS, { consumerGroup: GROUP, topic: 'NoSuchTopic' });
    assert.equal(missing.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.match(missing.remark ?? '', /NoSuchTopic/);
  });

  test('admin - GET_BROKER_RUNTIME_INFO answers a table of strings with totals, offsets and rates', async () => {
    await using c = await setup();
    const r = await c.call(RequestCode.GET_BROKER_RUNTIME_INFO);
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    const { table } = parse<{ table: Record<string, unknown> }>(r);
    for (const [k, v] of Object.entries(table)) assert.equal(typeof v, 'string', `${k} is a string`);
    const t = table as Record<string, string>;
    assert.equal(t.msgPutTotalTodayNow, '8');
    assert.equal(t.msgGetTotalTodayNow, '0');
    assert.equal(t.commitLogMaxOffset, String(c.s.controller.store.getMaxPhyOffset()));
    assert.ok(Number(t.commitLogMaxOffset) > 0);
    assert.equal(t.commitLogMinOffset, '0');
    assert.match(t.putTps, /^\d+\.\d\d \d+\.\d\d \d+\.\d\d$/);
    assert.ok(Number(t.putTps.split(' ')[0]) > 0, 'messages were put moments ago');
    assert.match(t.getTransferedTps, /^\d+\.\d\d \d+\.\d\d \d+\.\d\d$/);
    assert.match(t.runtime, /^\[ 0 days, 0 hours, \d+ minutes, \d+ seconds \]$/);
    assert.equal(t.bootTimestamp, String(c.s.controller.stats.startTime));
    assert.ok(t.version && t.brokerVersionDesc);
    assert.equal(t.flushDiskType, 'ASYNC_FLUSH', 'store runtime info is merged in');
  });

  test('admin - connection lists: CONSUMER_NOT_ONLINE before a heartbeat, then connections and subscriptions', async () => {
    await using c = await setup();
    const before = await c.call(RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: GROUP });
    assert.equal(before.code, ResponseCode.CONSUMER_NOT_ONLINE);
    assert.match(before.remark ?? '', new RegExp(GROUP));
    const noProducer = await c.call(RequestCode.GET_PRODUCER_CONNECTION_LIST, { producerGroup: PGROUP });
    assert.equal(noProducer.code, ResponseCode.SYSTEM_ERROR);
    assert.match(noProducer.remark ?? '', new RegExp(PGROUP));

    const hb = await c.call(RequestCode.HEART_BEAT, undefined, heartbeat('127.0.0.1@admin-test'));
    assert.equal(hb.code, ResponseCode.SUCCESS, hb.remark);

    const cc = await c.call(RequestCode.GET_CONSUMER_CONNECTION_LIST, { consumerGroup: GROUP });
    assert.equal(cc.code, ResponseCode.SUCCESS, cc.remark);
    const conn = parse<{
      connectionSet: { clientId: string; clientAddr: string; language: string; version: number }[];
      subscriptionTable: Record<string, { topic: string; subString: string; tagsSet: string[]; expressionType: string }>;
      consumeType: string;
      messageModel: string;
      consumeFromWhere: string;
    }>(cc);
    assert.equal(conn.connectionSet.length, 1);
    assert.equal(conn.connectionSet[0].clientId, '127.0.0.1@admin-test');
    assert.match(conn.connectionSet[0].clientAddr, /^127\.0\.0\.1:\d+$/);
    assert.equal(conn.connectionSet[0].language, 'JAVA');
    assert.equal(typeof conn.connectionSet[0].version, 'number');
    assert.equal(conn.subscriptionTable[TOPIC].subString, 'A || B');
    assert.deepEqual(conn.subscriptionTable[TOPIC].tagsSet, ['A', 'B']);
    assert.equal(conn.consumeType, 'CONSUME_PASSIVELY');
    assert.equal(conn.messageModel, 'CLUSTERING');
    assert.equal(conn.consumeFromWhere, 'CONSUME_FROM_FIRST_OFFSET');

    const pc = await c.call(RequestCode.GET_PRODUCER_CONNECTION_LIST, { producerGroup: PGROUP });
    assert.equal(pc.code, ResponseCode.SUCCESS, pc.remark);
    assert.deepEqual(
      parse<{ connectionSet: { clientId: string }[] }>(pc).connectionSet.map((x) => x.clientId),
      ['127.0.0.1@admin-test'],
    );

    const who = parse<{ groupList: string[] }>(await c.call(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { topic: TOPIC }));
    assert.deepEqual(who.groupList, [GROUP]);
  });

  test('admin - GET_ALL_CONSUMER_OFFSET and GET_ALL_DELAY_OFFSET answer the offset tables', async () => {
    await using c = await setup();
    const off = parse<{ offsetTable: Record<string, Record<string, number>> }>(await c.call(RequestCode.GET_ALL_CONSUMER_OFFSET));
    assert.deepEqual(off.offsetTable[`${TOPIC}@${GROUP}`], { '0': 2, '1': 3 });
    const delay = parse<{ offsetTable: Record<string, number> }>(await c.call(RequestCode.GET_ALL_DELAY_OFFSET));
    assert.equal(Object.keys(delay.offsetTable).length, c.s.controller.delayLevelsMs.length);
    assert.equal(delay.offsetTable['1'], 0);
  });

  test('admin - QUERY_MESSAGE finds records by key; QUERY_NOT_FOUND otherwise', async () => {
    await using c = await setup();
    const ext = { topic: TOPIC, key: 'key-6', maxNum: 32, beginTimestamp: 0, endTimestamp: Date.now() + 60_000 };
    const r = await checkFor(5000, 20, async () => {
      const x = await c.call(RequestCode.QUERY_MESSAGE, ext);
      return x.code === ResponseCode.SUCCESS ? x : undefined;
    }, 'the index to hold key-6');
    const recs = decodeMessages(bodyOf(r));
    assert.equal(recs.length, 1);
    assert.equal(recs[0].topic, TOPIC);
    assert.equal(recs[0].body.toString(), 'body-6');
    assert.equal(getPropertyFromString(recs[0].properties, 'KEYS'), 'key-6');
    assert.ok(Number(r.extFields.indexLastUpdateTimestamp) >= c.t0);
    assert.ok(Number(r.extFields.indexLastUpdatePhyoffset) > 0);

    const none = await c.call(RequestCode.QUERY_MESSAGE, { ...ext, key: 'no-such-key' });
    assert.equal(none.code, ResponseCode.QUERY_NOT_FOUND);
    assert.match(none.remark ?? '', /can not find message/);
    assert.ok(none.extFields.indexLastUpdateTimestamp !== undefined);
    const wrongTopic = await c.call(RequestCode.QUERY_MESSAGE, { ...ext, topic: 'OtherTopic' });
    assert.equal(wrongTopic.code, ResponseCode.QUERY_NOT_FOUND);
    const bad = await c.call(RequestCode.QUERY_MESSAGE, { ...ext, maxNum: 0 });
    assert.equal(bad.code, ResponseCode.INVALID_PARAMETER);
    assert.match(bad.remark ?? '', /maxNum/);
  });

  test('admin - VIEW_MESSAGE_BY_ID answers the record at a commit-log offset', async () => {
    await using c = await setup();
    const m = c.sent[3];
    const r = await c.call(RequestCode.VIEW_MESSAGE_BY_ID, { offset: m.offset });
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    const rec = decodeMessage(bodyOf(r));
    assert.equal(rec.body.toString(), m.body);
    assert.equal(rec.commitLogOffset, m.offset);
    assert.equal(bodyOf(r).length, bodyOf(r).readInt32BE(0), "one whole record");

    const bad = await c.call(RequestCode.VIEW_MESSAGE_BY_ID, { offset: m.offset + 1 });
    assert.equal(bad.code, ResponseCode.SYSTEM_ERROR);
    assert.match(bad.remark ?? '', new RegExp(`offset, ${m.offset + 1}`));
  });

  test('admin - GET_TOPIC_CONFIG, GET_BROKER_CONFIG and GET_SYSTEM_TOPIC_LIST_FROM_BROKER', async () => {
    await using c = await setup();
    const tc = await c.call(RequestCode.GET_TOPIC_CONFIG, { topic: TOPIC });
    assert.equal(tc.code, ResponseCode.SUCCESS, tc.remark);
    const cfg = parse<{ topicName: string; readQueueNums: number; writeQueueNums: number; perm: number }>(tc);
    assert.deepEqual([cfg.topicName, cfg.readQueueNums, cfg.writeQueueNums, cfg.perm], [TOPIC, 4, 4, 6]);
    const missing = await c.call(RequestCode.GET_TOPIC_CONFIG, { topic: 'NoSuchTopic' });
    assert.equal(missing.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.match(missing.remark ?? '', /NoSuchTopic/);

    const bc = await c.call(RequestCode.GET_BROKER_CONFIG);
    assert.equal(bc.code, ResponseCode.SUCCESS, bc.remark);
    const lines = bodyOf(bc).toString('utf8').split('\n');
    assert.ok(lines.includes('brokerName=broker-a'), 'brokerName line');
    assert.ok(lines.includes('flushDiskType=ASYNC_FLUSH'), 'flushDiskType line');
    assert.ok(lines.includes(`listenPort=0`), 'the configured port, as given');
    assert.equal(typeof (JSON.parse(bc.extFields.version) as { counter: number }).counter, 'number');

    const sys = parse<{ topicList: string[]; brokerAddr: string }>(await c.call(RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_BROKER));
    for (const t of ['SCHEDULE_TOPIC_XXXX', 'TBW102', 'RMQ_SYS_TRANS_HALF_TOPIC', 'DefaultCluster', 'broker-a']) assert.ok(sys.topicList.includes(t), t);
    assert.ok(!sys.topicList.includes(TOPIC));
    assert.equal(sys.brokerAddr, c.s.brokerAddr);
  });
});
