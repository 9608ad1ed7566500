// 4.x and 5.x on one broker: what ali-ons sends over remoting a 5.x SimpleConsumer receives over
// gRPC, and what the 5.x Producer sends ali-ons consumes, with tag, keys, properties and ids intact.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage } from '../../src/common/message-codec.js';
import { MessageConst } from '../../src/common/message-const.js';
import { getPropertyFromString } from '../../src/common/message-properties.js';
import { checkFor } from '../helpers/check-for.js';
import { createTopic as createRoutedTopic, ons, OnsHarness, type OnsMessage, type OnsSendResult } from './helpers/ali-ons.js';
import { createGroup, GrpcHarness, receiveN } from './helpers/grpc.js';

/** UNIQ_KEY of the stored record an offset message id (store host 8 bytes + commit-log offset 8 bytes) names. */
async function uniqKeyOf(h: GrpcHarness, offsetMsgId: string): Promise<string | undefined> {
  const rec = await h.s.controller.store.lookMessageByOffset(Number(BigInt(`0x${offsetMsgId.slice(16)}`)));
  if (!rec) return undefined;
  return getPropertyFromString(decodeMessage(rec, 0, { checkCrc: false }).properties, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
}

describe('grpc cross-protocol', () => {
  test('grpc cross-protocol - an ali-ons message reaches a 5.x simple consumer with tag, keys, properties and id', async () => {
    await using h = await GrpcHarness.start();
    await using onsH = new OnsHarness(h.s);
    await createRoutedTopic(h.s, 'GCrossIn', 4);
    await createGroup(h.s, 'g-cross-in');
    const c = await h.simpleConsumer('g-cross-in', { GCrossIn: '*' });
    const p = await onsH.producer('GID_cross_in_p');
    const msg = new ons.Message('GCrossIn', 'TagX', Buffer.from('from 4.x'));
    msg.keys = ['order-1', 'order-2'];
    msg.properties.region = 'eu';
    msg.properties['x-unicode'] = 'héllo ✓';
    const r = (await p.send(msg)) as OnsSendResult;
    assert.equal(r.sendStatus, 'SEND_OK');

    const [m] = await receiveN(c, 1, 10_000);
    assert.ok(m, 'the 4.x message arrives over gRPC');
    assert.equal(m.topic, 'GCrossIn');
    assert.equal(m.tag, 'TagX');
    assert.deepEqual(m.keys, ['order-1', 'order-2']);
    assert.equal(m.body.toString(), 'from 4.x');
    assert.equal(m.properties.get('region'), 'eu');
    assert.equal(m.properties.get('x-unicode'), 'héllo ✓');
    assert.equal(m.corrupted, undefined);
    // The 5.x id is the message's unique key, which the broker gave the stored record that r.msgId names.
    assert.equal(m.messageId, await uniqKeyOf(h, r.msgId));
    assert.equal(m.offset, r.queueOffset);
  });

  test('grpc cross-protocol - a 5.x producer message is consumed by ali-ons with tag, keys, properties and id', async () => {
    await using h = await GrpcHarness.start();
    await using onsH = new OnsHarness(h.s);
    await createRoutedTopic(h.s, 'GCrossOut', 4);
    const got: OnsMessage[] = [];
    await onsH.consumer({ consumerGroup: 'GID_cross_out' }, 'GCrossOut', '*', async (m) => {
      got.push(m);
    });
    const p = await h.producer('GCrossOut');
    const receipt = await p.send({
      topic: 'GCrossOut',
      tag: 'TagY',
      keys: ['k-a', 'k-b'],
      body: Buffer.from('from 5.x'),
      properties: new Map([['region', 'us']]),
    });
    await checkFor(15_000, 50, () => got.length >= 1, 'ali-ons to consume the 5.x message');
    const m = got[0];
    assert.equal(m.topic, 'GCrossOut');
    assert.equal(m.tags, 'TagY');
    assert.equal(m.keys, 'k-a k-b');
    assert.equal(m.body.toString(), 'from 5.x');
    assert.equal(m.properties.region, 'us');
    assert.equal(m.properties.UNIQ_KEY, receipt.messageId);
    assert.equal(m.queueOffset, receipt.offset);
    assert.equal(m.reconsumeTimes, 0);
    assert.equal(await uniqKeyOf(h, m.msgId), receipt.messageId);
  });
});
