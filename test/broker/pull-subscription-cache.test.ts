// Issue 17: PULL_MESSAGE reuses the subscription it parsed for a group and topic while pulls send the
// same one. A pull that sends another expression (same version: a raw client may never bump it),
// another type, or that another group sends, must be filtered by its own; a malformed one is still
// refused, and does not replace the good one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RemotingClient, ResponseCode } from '../../src/remoting/index.js';
import { startStandalone } from '../helpers/standalone.js';
import { createTopicRaw, pullOnce, sendOk } from './fixtures/wire.js';

void test('pull subscription cache - issue 17: each pull is filtered by the subscription it sends', async () => {
  await using s = await startStandalone({ enablePropertyFilter: true });
  const rc = new RemotingClient();
  try {
    const topic = 'SubCacheTopic';
    await createTopicRaw(rc, s.brokerAddr, s.namesrvAddr, topic);
    for (const [tag, n] of [['A', '1'], ['B', '2'], ['A', '3'], ['C', '4']]) {
      await sendOk(rc, s.brokerAddr, { topic, body: `${tag}${n}`, props: { TAGS: tag, n } });
    }
    const bodies = async (group: string, subscription: string, expressionType?: string): Promise<string[]> => {
      const r = await pullOnce(rc, s.brokerAddr, { group, topic, queueId: 0, offset: 0, subscription, expressionType });
      assert.equal(r.code, ResponseCode.SUCCESS, `${group} ${subscription}: ${r.code} ${r.remark ?? ''}`);
      return r.records.map((m) => m.body.toString());
    };
    assert.deepEqual(await bodies('G1', 'A'), ['A1', 'A3']);
    assert.deepEqual(await bodies('G1', 'A'), ['A1', 'A3'], 'the same subscription again');
    assert.deepEqual(await bodies('G1', 'B || C'), ['B2', 'C4'], 'another expression, same version');
    assert.deepEqual(await bodies('G2', 'C'), ['C4'], 'another group on the topic');
    assert.deepEqual(await bodies('G1', 'n > 2', 'SQL92'), ['A3', 'C4'], 'another expression type');
    const bad = await pullOnce(rc, s.brokerAddr, { group: 'G1', topic, queueId: 0, offset: 0, subscription: 'n > AND', expressionType: 'SQL92' });
    assert.equal(bad.code, ResponseCode.SUBSCRIPTION_PARSE_FAILED, `a malformed expression is refused: ${bad.code} ${bad.remark ?? ''}`);
    assert.deepEqual(await bodies('G1', 'n > 2', 'SQL92'), ['A3', 'C4'], 'the last good one still applies');
    assert.deepEqual(await bodies('G1', '*'), ['A1', 'B2', 'A3', 'C4']);
  } finally {
    await rc.close();
  }
});
