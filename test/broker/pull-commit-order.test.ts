// Regression (issue "Message semantics", orderly handover): a pull's commit offset was stored
// after the store read, so it could overwrite a newer UPDATE_CONSUMER_OFFSET from the same client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { startStandalone } from '../helpers/standalone.js';

test('pull - commit offset of a pull never overwrites a later offset update from the same client', async () => {
  await using s = await startStandalone();
  const rc = new RemotingClient();
  try {
    const created = await rc.invoke(s.brokerAddr, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: 'CommitOrder', readQueueNums: 1, writeQueueNums: 1, perm: 6 }));
    assert.equal(created.code, ResponseCode.SUCCESS);
    for (let i = 0; i < 10; i++) {
      const r = await rc.invoke(s.brokerAddr, createRequest(RequestCode.SEND_MESSAGE_V2, { a: 'P', b: 'CommitOrder', e: 0, i: 'TAGS\u0001t\u0002' }, Buffer.from(`m${i}`)));
      assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
    }
    for (let round = 0; round < 20; round++) {
      // Sent back to back on one connection, in this order, as a consumer does at a handover.
      const pull = rc.invoke(
        s.brokerAddr,
        createRequest(RequestCode.PULL_MESSAGE, {
          consumerGroup: 'G',
          topic: 'CommitOrder',
          queueId: 0,
          queueOffset: 0,
          maxMsgNums: 32,
          sysFlag: 1 | 4,
          commitOffset: 3,
          suspendTimeoutMillis: 0,
          subscription: '*',
          subVersion: 0,
        }),
      );
      const update = rc.invoke(
        s.brokerAddr,
        createRequest(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'G', topic: 'CommitOrder', queueId: 0, commitOffset: 7 + round }),
      );
      assert.equal((await pull).code, ResponseCode.SUCCESS);
      assert.equal((await update).code, ResponseCode.SUCCESS);
      const q = await rc.invoke(s.brokerAddr, createRequest(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'G', topic: 'CommitOrder', queueId: 0 }));
      assert.equal(q.extFields.offset, String(7 + round), `round ${round}: the older pull commit overwrote the update`);
    }
  } finally {
    await rc.close();
  }
});
