// Issue 13: every operator command given unknown ids, topics or groups, malformed ids or times, or
// a time range with nothing in it says what is wrong in one line and exits non-zero (2 for usage,
// 1 for "not found"), never with a stack trace; the real `apogee` process is spawned for a few.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GET_DLQ_RESEND_LOG, RESEND_DLQ_MESSAGES } from '../../src/broker/processor/dlq-resend-processor.js';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { createTopic, OnsHarness, ons, sendAll } from '../compat/helpers/ali-ons.js';
import { runApogee } from '../helpers/spawn-apogee.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';
import { admin } from './admin-run.js';

const TOPIC = 'OpsBadInputTopic';
/** 32 hex digits that name no broker and no unique key. */
const UNKNOWN_ID = '0A0B0C0D00002A2A00000000DEADBEEF';

describe('ops bad input', () => {
  let s: Standalone;
  let start = 0;
  before(async () => {
    s = await startStandalone();
    await createTopic(s, TOPIC, 1);
    await using h = new OnsHarness(s);
    const p = await h.producer('GID_ops_bad_p');
    start = Date.now();
    await sendAll(p, 2, (i) => new ons.Message(TOPIC, 't', `b-${i}`));
  });
  after(async () => {
    await s.close();
  });

  const cases: [name: string, args: () => string[], code: number, stderr: RegExp][] = [
    ['malformed id', () => ['queryMsgById', '-i', 'not-an-id!'], 2, /"not-an-id!" is not a message id: expected an offsetMsgId \(32 or 56 hex digits\) or a unique key/],
    ['unknown id', () => ['queryMsgById', '-i', UNKNOWN_ID], 1, /no message with id 0A0B0C0D00002A2A00000000DEADBEEF \(neither an offsetMsgId of a known broker nor a unique key in any topic\)/],
    ['unknown unique key in a topic', () => ['queryMsgByUniqueKey', '-t', TOPIC, '-i', UNKNOWN_ID], 1, /no message with unique key 0A0B0C0D00002A2A00000000DEADBEEF in topic OpsBadInputTopic/],
    ['unknown topic', () => ['queryMsgByKey', '-t', 'NoSuchTopicAtAll', '-k', 'k'], 1, /topic NoSuchTopicAtAll does not exist \(no route in the name server\)/],
    ['unknown key', () => ['queryMsgByKey', '-t', TOPIC, '-k', 'no-such-key'], 1, /no message with key no-such-key in topic OpsBadInputTopic/],
    ['end before begin', () => ['queryMsgByKey', '-t', TOPIC, '-k', 'k', '-b', '2000', '-e', '1000'], 2, /the time range is empty: -e endTimestamp \(1000\) is before -b beginTimestamp \(2000\)/],
    ['malformed time', () => ['printMsg', '-t', TOPIC, '-b', 'last tuesday'], 2, /option -b beginTimestamp: expected epoch milliseconds/],
    ['time range with nothing', () => ['printMsg', '-t', TOPIC, '-b', String(start - 3_600_000), '-e', String(start - 1_800_000)], 1, /no message of topic OpsBadInputTopic was stored between/],
    ['unknown broker name', () => ['queryMsgByOffset', '-t', TOPIC, '-b', 'broker-z', '-i', '0', '-o', '0'], 1, /topic OpsBadInputTopic has no queue 0 on broker broker-z \(brokers: broker-a\)/],
    ['offset past the end', () => ['queryMsgByOffset', '-t', TOPIC, '-b', 'broker-a', '-i', '0', '-o', '99'], 1, /no message at offset 99 of OpsBadInputTopic broker-a queue 0 \(it holds offsets 0\.\.1\)/],
    ['negative offset', () => ['queryMsgByOffset', '-t', TOPIC, '-b', 'broker-a', '-i', '0', '-o', '-3'], 2, /option -o offset: expected an integer/],
    ['export of a group without dead letters', () => ['exportDLQ', '-g', 'GID_no_dead', '-f', 'never-written.jsonl'], 1, /group GID_no_dead has no dead letters: topic %DLQ%GID_no_dead does not exist/],
    ['resend without -i or --all', () => ['resendDLQ', '-g', 'GID_no_dead'], 2, /give either -i msgId\[,msgId…\] or --all/],
    ['resend of a group without dead letters', () => ['resendDLQ', '-g', 'GID_no_dead', '--all'], 1, /group GID_no_dead has no dead letters/],
    ['reset of an unknown group', () => ['resetOffsetByTime', '-g', 'GID_unknown', '-t', TOPIC, '-s', 'now'], 1, /consumer group GID_unknown does not exist on broker broker-a/],
    ['connections of an unknown group', () => ['consumerConnection', '-g', 'GID_unknown'], 1, /no consumer of group GID_unknown is online/],
    ['direct consumption of a malformed id', () => ['consumeMessageDirectly', '-g', 'G', '-d', 'c', '-i', 'xyz'], 2, /"xyz" is not a message id/],
    ['direct consumption by an offline client', () => ['consumeMessageDirectly', '-g', 'GID_unknown', '-d', '1.2.3.4@x', '-i', UNKNOWN_ID, '-t', TOPIC], 1, /no message with id/],
  ];

  test('ops bad input - each command refuses bad input with a one-line cause and a non-zero exit', async () => {
    for (const [name, args, code, stderr] of cases) {
      const r = await admin(s.namesrvAddr, ...args());
      assert.equal(r.code, code, `${name}: exit ${r.code}, stderr ${r.stderr}`);
      assert.match(r.stderr, stderr, name);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: one line`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
      assert.equal(r.stdout, '', `${name}: nothing on stdout`);
    }
  });

  test('ops bad input - the spawned apogee process exits the same way, without a stack trace', async () => {
    const picks = [cases[0], cases[3], cases[11]];
    const runs = await Promise.all(picks.map(([, args]) => runApogee(['admin', ...args(), '-n', s.namesrvAddr])));
    runs.forEach((r, i) => {
      const [name, , code, stderr] = picks[i];
      assert.equal(r.code, code, `${name}: ${r.stderr}`);
      assert.match(r.stderr, stderr, name);
      assert.doesNotMatch(r.stderr, /\n\s+at |Error:/, name);
    });
  });

  test('ops bad input - the broker answers malformed operator requests with a code and a remark naming the cause', async () => {
    const rc = new RemotingClient();
    try {
      const call = (code: number, ext: Record<string, string>, body?: string) => rc.invoke(s.brokerAddr, createRequest(code, ext, body === undefined ? undefined : Buffer.from(body)));
      await call(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, JSON.stringify({ groupName: 'GID_ops_bad' }));
      const table: [string, Promise<Awaited<ReturnType<typeof call>>>, number, RegExp][] = [
        ['resend, body not JSON', call(RESEND_DLQ_MESSAGES, { consumerGroup: 'GID_ops_bad' }, 'nope'), ResponseCode.INVALID_PARAMETER, /the body is not JSON/],
        ['resend, offsets not integers', call(RESEND_DLQ_MESSAGES, { consumerGroup: 'GID_ops_bad' }, '{"offsets":["a"]}'), ResponseCode.INVALID_PARAMETER, /offsets must be a non-empty list of commit-log offsets/],
        ['resend, no group field', call(RESEND_DLQ_MESSAGES, {}, '{"offsets":[0]}'), ResponseCode.INVALID_PARAMETER, /consumerGroup field is missing/],
        ['resend, unknown group', call(RESEND_DLQ_MESSAGES, { consumerGroup: 'GID_ops_none' }, '{"offsets":[0]}'), ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, /subscription group not exist, GID_ops_none/],
        ['resend log, no group field', call(GET_DLQ_RESEND_LOG, {}), ResponseCode.INVALID_PARAMETER, /consumerGroup field is missing/],
        ['reset, no timestamp', call(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: TOPIC, group: 'GID_ops_bad' }), ResponseCode.INVALID_PARAMETER, /timestamp/],
        ['reset, unknown topic', call(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: 'NoSuchTopicAtAll', group: 'GID_ops_bad', timestamp: '0' }), ResponseCode.TOPIC_NOT_EXIST, /topic NoSuchTopicAtAll does not exist on broker broker-a/],
        ['direct, no client id', call(RequestCode.CONSUME_MESSAGE_DIRECTLY, { consumerGroup: 'GID_ops_bad', msgId: UNKNOWN_ID }), ResponseCode.INVALID_PARAMETER, /clientId/],
      ];
      for (const [name, pending, code, remark] of table) {
        const r = await pending;
        assert.equal(r.code, code, `${name}: ${r.code} ${r.remark}`);
        assert.match(r.remark ?? '', remark, name);
      }
      // A commit-log offset that holds a message of another topic is reported, not resent.
      const resend = await call(RESEND_DLQ_MESSAGES, { consumerGroup: 'GID_ops_bad' }, '{"offsets":[0, 7]}');
      assert.equal(resend.code, ResponseCode.SUCCESS, resend.remark);
      const results = (JSON.parse(String(resend.body)) as { results: { status: string; remark: string }[] }).results;
      assert.deepEqual(results.map((r) => r.status), ['NOT_IN_DLQ', 'NOT_FOUND']);
      assert.match(results[0].remark, /is in OpsBadInputTopic, not in %DLQ%GID_ops_bad/);
    } finally {
      await rc.close();
    }
  });
});
