// SQL92 subscriptions refused over raw remoting: a syntax error at heartbeat (the remark points
// at the position), and any SQL92 use while enablePropertyFilter=false (Java: SYSTEM_ERROR,
// "The broker does not support consumer to filter message by SQL92").
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { startStandalone } from '../helpers/standalone.js';
import { createTopicRaw, heartbeat, pullOnce, sendOk } from './fixtures/wire.js';

const NOT_SUPPORTED = /The broker does not support consumer to filter message by SQL92/;

void describe('semantics sql92', { concurrency: true }, () => {
  void test('semantics sql92 - a heartbeat with a malformed expression is SUBSCRIPTION_PARSE_FAILED pointing at the position', async () => {
    await using s = await startStandalone({ enablePropertyFilter: true });
    const rc = new RemotingClient();
    try {
      const expr = "a > 5 AND AND b = 'x'";
      const r = await heartbeat(rc, s.brokerAddr, {
        clientID: '127.0.0.1@sql-bad',
        consumerGroup: 'CG_sql_bad',
        subs: [{ topic: 'SqlBadTopic', subString: expr, expressionType: 'SQL92' }],
      });
      assert.equal(r.code, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
      assert.ok((r.remark ?? '').includes(expr), `remark quotes the expression: ${r.remark}`);
      // The second AND starts at column 11 (1-based) / offset 10.
      assert.match(r.remark ?? '', /\b(10|11)\b/, `remark names the position: ${r.remark}`);
      assert.match(r.remark ?? '', /AND/);
      // A refused heartbeat registers nothing.
      assert.equal(s.controller.consumerManager.getConsumerGroupInfo('CG_sql_bad'), undefined);

      const unterminated = await heartbeat(rc, s.brokerAddr, {
        clientID: '127.0.0.1@sql-bad2',
        consumerGroup: 'CG_sql_bad2',
        subs: [{ topic: 'SqlBadTopic', subString: "b = 'x", expressionType: 'SQL92' }],
      });
      assert.equal(unterminated.code, ResponseCode.SUBSCRIPTION_PARSE_FAILED);
      assert.match(unterminated.remark ?? '', /\b(4|5)\b/, `remark names where the string starts: ${unterminated.remark}`);

      const good = await heartbeat(rc, s.brokerAddr, {
        clientID: '127.0.0.1@sql-good',
        consumerGroup: 'CG_sql_good',
        subs: [{ topic: 'SqlBadTopic', subString: "a > 5 AND b = 'x'", expressionType: 'SQL92' }],
      });
      assert.equal(good.code, ResponseCode.SUCCESS, good.remark);
    } finally {
      await rc.close();
    }
  });

  void test('semantics sql92 - with enablePropertyFilter=false SQL92 pulls and client checks are refused; tags still work', async () => {
    await using s = await startStandalone({ enablePropertyFilter: false });
    const rc = new RemotingClient();
    try {
      const topic = 'SqlOffTopic';
      await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, topic);
      await sendOk(rc, s.brokerAddr, { topic, body: 'm', props: { a: '9', TAGS: 'T' } });
      const pull = await pullOnce(rc, s.brokerAddr, { group: 'CG_sql_off', topic, queueId: 0, offset: 0, subscription: 'a > 5', expressionType: 'SQL92' });
      assert.equal(pull.code, ResponseCode.SYSTEM_ERROR);
      assert.match(pull.remark ?? '', NOT_SUPPORTED);
      assert.deepEqual(pull.records, []);

      const check = await rc.invoke(
        s.brokerAddr,
        createRequest(
          RequestCode.CHECK_CLIENT_CONFIG,
          {},
          Buffer.from(JSON.stringify({ group: 'CG_sql_off', subscriptionData: { topic, subString: 'a > 5', expressionType: 'SQL92' } })),
        ),
      );
      assert.equal(check.code, ResponseCode.SYSTEM_ERROR);
      assert.match(check.remark ?? '', NOT_SUPPORTED);

      const hb = await heartbeat(rc, s.brokerAddr, {
        clientID: '127.0.0.1@sql-off',
        consumerGroup: 'CG_sql_off',
        subs: [{ topic, subString: 'a > 5', expressionType: 'SQL92' }],
      });
      // Java does not look at heartbeats here; refusing them is ours, with the same code as the other two.
      assert.equal(hb.code, ResponseCode.SYSTEM_ERROR, 'a SQL92 consumer is refused at heartbeat');
      assert.match(hb.remark ?? '', NOT_SUPPORTED);

      const tags = await pullOnce(rc, s.brokerAddr, { group: 'CG_sql_off', topic, queueId: 0, offset: 0, subscription: 'T' });
      assert.equal(tags.code, ResponseCode.SUCCESS);
      assert.deepEqual(
        tags.records.map((m) => m.body.toString()),
        ['m'],
      );
    } finally {
      await rc.close();
    }
  });
});
