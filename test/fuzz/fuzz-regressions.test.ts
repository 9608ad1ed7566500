// What the fuzz targets (fuzz/) found, each held down by a plain test (issue 10).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeMessage, encodeMessage, MessageDecodeError } from '../../src/common/message-codec.js';
import { getPropertyFromString, string2messageProperties } from '../../src/common/message-properties.js';
import { removePropertyFromString, setPropertyInString } from '../../src/common/property-edit.js';
import { MessageSysFlag } from '../../src/common/sys-flag.js';
import { decodeMessageId } from '../../src/common/msg-id.js';
import { Code } from '../../src/proxy/index.js';
import { createRequest, FrameDecoder, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { MessageStore, PutMessageStatus } from '../../src/store/index.js';
import { record } from '../../fuzz/targets/record-seeds.js';
import { GrpcHarness, rawClient } from '../compat/helpers/grpc.js';
import { startStandalone } from '../helpers/standalone.js';
import { tempDir } from '../helpers/temp-dir.js';
import { msgInput } from '../store/store-helpers.js';

void test('fuzz regressions - issue 10: a frame trickled in one byte at a time costs linear work, not quadratic', () => {
  // Before: every push re-concatenated all carried-over chunks; 64 KiB this way took minutes of
  // CPU, so a peer could stall the event loop by sending a frame slowly.
  const size = 1 << 20;
  const frame = Buffer.alloc(size, 0x61);
  frame.writeInt32BE(size - 4, 0);
  const d = new FrameDecoder();
  const got: Buffer[] = [];
  const started = Date.now();
  for (let i = 0; i < size; i++) {
    d.push(frame.subarray(i, i + 1), (f) => got.push(f));
    if (i === size / 2) assert.equal(d.buffered, i + 1, 'buffered counts the bytes received');
  }
  const ms = Date.now() - started;
  assert.equal(got.length, 1);
  assert.ok(got[0].equals(frame));
  assert.equal(d.buffered, 0);
  // Linear is well under a second here; the quadratic version needed hours for this size.
  assert.ok(ms < 20_000, `1 MiB one byte at a time took ${ms} ms`);
});

void test('fuzz regressions - issue 10: a frame split across chunks can still be followed by frames in the same chunk', () => {
  const one = Buffer.from([0, 0, 0, 6, 1, 2, 3, 4, 5, 6]);
  const two = Buffer.from([0, 0, 0, 4, 9, 9, 9, 9]);
  const all = Buffer.concat([one, two, one]);
  for (let cut = 1; cut < all.length; cut++) {
    for (let cut2 = cut; cut2 < all.length; cut2++) {
      const d = new FrameDecoder();
      const got: string[] = [];
      for (const part of [all.subarray(0, cut), all.subarray(cut, cut2), all.subarray(cut2)]) d.push(part, (f) => got.push(f.toString('hex')));
      assert.deepEqual(got, [one, two, one].map((b) => b.toString('hex')), `cuts at ${cut} and ${cut2}`);
    }
  }
});

void test('fuzz regressions - issue 10: a record too short for its IPv6 hosts is a MessageDecodeError, not a read past the buffer', () => {
  const v6 = encodeMessage(record({ bornHost: { address: 'fe80::1', port: 1 }, storeHost: { address: '2001:db8::2', port: 2 } }));
  // 91 bytes is the least an IPv4 record can be; with both hosts IPv6 the fixed part alone is 100.
  const short = Buffer.from(v6.subarray(0, 104));
  short.writeInt32BE(104, 0);
  assert.throws(() => decodeMessage(short), (err: unknown) => err instanceof MessageDecodeError && /total size 104 is too small for sysFlag 0x30/.test(err.message));
  assert.equal(v6.readInt32BE(36) & (MessageSysFlag.BORNHOST_V6_FLAG | MessageSysFlag.STOREHOSTADDRESS_V6_FLAG), 0x30);
  for (let n = 0; n < 8; n++) {
    assert.throws(() => decodeMessage(v6.subarray(0, n)), (err: unknown) => err instanceof MessageDecodeError && /truncated header/.test(err.message), `${n} bytes`);
  }
});

void test('fuzz regressions - issue 10: a property given twice reads as its last entry everywhere, and set/remove leave none of the old ones', () => {
  const props = 'TAGS\u0001first\u0002KEYS\u0001k\u0002TAGS\u0001last\u0002';
  assert.equal(string2messageProperties(props).TAGS, 'last');
  assert.equal(getPropertyFromString(props, 'TAGS'), 'last');
  // The broker's own REAL_TOPIC must win over any the client slipped in, however many.
  const routed = setPropertyInString('REAL_TOPIC\u0001Mine\u0002REAL_TOPIC\u0001Mine2\u0002', 'REAL_TOPIC', 'Real');
  assert.equal(getPropertyFromString(routed, 'REAL_TOPIC'), 'Real');
  assert.equal(string2messageProperties(routed).REAL_TOPIC, 'Real');
  assert.equal(removePropertyFromString(props, 'TAGS'), 'KEYS\u0001k\u0002');
  assert.equal(getPropertyFromString(removePropertyFromString(props, 'TAGS'), 'TAGS'), undefined);
});

void test('fuzz regressions - issue 10: setting a property on a string whose last entry lacks its separator keeps that entry', () => {
  const set = setPropertyInString('KEYS\u0001k\u0002TAGS\u0001t', 'DELAY', '3');
  assert.deepEqual(string2messageProperties(set), { KEYS: 'k', TAGS: 't', DELAY: '3' });
  assert.equal(getPropertyFromString(set, 'TAGS'), 't');
});

void test('fuzz regressions - issue 10: a consumer group that is not a valid name can neither write outside the store nor stop its writes (remoting)', async () => {
  await using s = await startStandalone();
  const rc = new RemotingClient();
  try {
    const send = (n: number) => rc.invoke(s.brokerAddr, createRequest(RequestCode.SEND_MESSAGE_V2, { a: 'PG', b: 'GroupNames', e: 0, i: '' }, Buffer.from(`m${n}`)));
    const first = await send(1);
    assert.equal(first.code, ResponseCode.SUCCESS);
    const offset = decodeMessageId(first.extFields.msgId).offset;
    // consumequeue/%DLQ%x/../../../escaped is the data directory's "escaped": the group climbed out
    // of the store before; a NUL made the consume queue's mkdir fail and the store refuse all writes.
    for (const group of ['x/../../../escaped', 'bad\u0000group', 'g'.repeat(300)]) {
      const back = await rc.invoke(s.brokerAddr, createRequest(RequestCode.CONSUMER_SEND_MSG_BACK, { offset, group, delayLevel: -1, originTopic: 'GroupNames' }));
      assert.equal(back.code, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `send-back for ${JSON.stringify(group.slice(0, 20))}: ${back.remark}`);
      const pop = await rc.invoke(s.brokerAddr, createRequest(RequestCode.POP_MESSAGE, { consumerGroup: group, topic: 'GroupNames', queueId: -1, maxMsgNums: 1, invisibleTime: 1000, pollTime: 0, bornTime: Date.now(), initMode: 0 }));
      assert.equal(pop.code, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `pop for ${JSON.stringify(group.slice(0, 20))}: ${pop.remark}`);
      const create = await rc.invoke(s.brokerAddr, createRequest(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, {}, Buffer.from(JSON.stringify({ groupName: group }))));
      assert.equal(create.code, ResponseCode.INVALID_PARAMETER);
      assert.match(create.remark ?? '', /group name .* (contains illegal characters|is longer than 255)/);
    }
    assert.equal(existsSync(join(s.dataDir, 'escaped')), false, 'a directory was created outside the store');
    assert.equal((await send(2)).code, ResponseCode.SUCCESS, 'the broker still takes writes');
  } finally {
    await rc.close();
  }
});

void test('fuzz regressions - issue 10: a gRPC receive for a group with a NUL in its name is refused and the broker keeps taking writes', async () => {
  await using h = await GrpcHarness.start();
  const raw = rawClient(h.endpoints);
  try {
    const message = (n: number) => ({ topic: { name: 'GNames' }, body: Buffer.from('x'), systemProperties: { messageId: `01AABBCCDDEEFF00112233445566${n}`, messageType: 1, bodyEncoding: 1, bornTimestamp: { seconds: 1, nanos: 0 } } });
    const admin = new RemotingClient();
    try {
      const r = await admin.invoke(h.s.brokerAddr, createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic: 'GNames', readQueueNums: 1, writeQueueNums: 1, perm: 6 }));
      assert.equal(r.code, ResponseCode.SUCCESS);
    } finally {
      await admin.close();
    }
    assert.equal((await raw.unary('SendMessage', { messages: [message(10)] })).status.code, Code.OK);
    const frames = await raw.stream('ReceiveMessage', {
      group: { name: 'bad\u0000group' },
      messageQueue: { topic: { name: 'GNames' } },
      filterExpression: { type: 1, expression: '*' },
      batchSize: 1,
      invisibleDuration: { seconds: 1 },
    });
    assert.equal(frames[0].status.code, Code.CONSUMER_GROUP_NOT_FOUND);
    // Before, the message popped for that group was revived into %RETRY%bad\0group_GNames after its
    // invisible time, and from then on every write failed.
    assert.equal((await raw.unary('SendMessage', { messages: [message(11)] })).status.code, Code.OK);
  } finally {
    raw.close();
  }
});

void test('fuzz regressions - issue 10: the store refuses a topic that cannot name a consume-queue directory, and goes on storing', async () => {
  using dir = tempDir();
  const store = await MessageStore.open({ storePathRootDir: dir.path });
  try {
    for (const topic of ['a/../../b', 'nul\u0000', '..', 'x'.repeat(256)]) {
      const r = await store.putMessage(msgInput(topic, 0, 'body'));
      assert.equal(r.status, PutMessageStatus.MESSAGE_ILLEGAL, JSON.stringify(topic.slice(0, 20)));
      assert.match(r.remark ?? '', /cannot name a consume queue/);
    }
    assert.equal((await store.putMessage(msgInput('Fine-Topic_1', 0, 'body'))).status, PutMessageStatus.PUT_OK);
  } finally {
    await store.shutdown();
  }
});
