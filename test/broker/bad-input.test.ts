// Bad input against a running broker: each case gets an exact response code and a remark naming
// the cause, and afterwards the broker (and the same connection) still serves a normal send and pull.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { encodeBatchBody } from '../../src/common/batch-codec.js';
import { decodeMessages } from '../../src/common/message-codec.js';
import {
  createRequest,
  RemotingClient,
  RequestCode,
  ResponseCode,
  responseCodeName,
  type Connection,
  type RemotingCommand,
} from '../../src/remoting/index.js';
import { startStandalone, type Standalone } from '../helpers/standalone.js';
import { createTopic, ons, OnsHarness } from '../compat/helpers/ali-ons.js';

const GOOD_TOPIC = 'BadInputHealthyTopic';
const MAX_MESSAGE_SIZE = 64 * 1024;

function sendRequest(topic: string, body: Buffer, ext: Record<string, string | number | boolean> = {}, code: number = RequestCode.SEND_MESSAGE_V2): RemotingCommand {
  return createRequest(
    code,
    { a: 'GID_bad_input_p', b: topic, c: 'TBW102', d: 4, e: 0, f: 0, g: Date.now(), h: 0, i: 'TAGS\u0001T\u0002', j: 0, k: false, ...ext },
    body,
  );
}

function pullRequest(topic: string, queueId: number, queueOffset: number, ext: Record<string, string | number> = {}): RemotingCommand {
  return createRequest(RequestCode.PULL_MESSAGE, {
    consumerGroup: 'GID_bad_input',
    topic,
    queueId,
    queueOffset,
    maxMsgNums: 32,
    sysFlag: 4, // SUBSCRIPTION only: no suspend, so an empty pull answers at once
    commitOffset: 0,
    suspendTimeoutMillis: 0,
    subscription: '*',
    subVersion: Date.now(),
    ...ext,
  });
}

function assertCode(resp: RemotingCommand, code: number, ...remarkParts: string[]): void {
  assert.equal(resp.code, code, `expected ${responseCodeName(code)}, got ${responseCodeName(resp.code)}: ${resp.remark ?? ''}`);
  for (const part of remarkParts) assert.ok(resp.remark?.includes(part), `remark "${resp.remark ?? ''}" names "${part}"`);
}

describe('broker bad input', () => {
  let s: Standalone;
  let rc: RemotingClient;
  let conn: Connection;
  let seq = 0;

  before(async () => {
    s = await startStandalone({ autoCreateTopicEnable: false, maxMessageSize: MAX_MESSAGE_SIZE });
    await createTopic(s, GOOD_TOPIC, 2);
    rc = new RemotingClient();
    conn = await rc.connection(s.brokerAddr);
  });
  after(async () => {
    await rc.close();
    await s.close();
  });

  /** A normal send and a pull of exactly that message, on the connection the bad request used. */
  async function assertStillServes(): Promise<void> {
    assert.equal(conn.closed, false, 'the connection that carried the bad request is still open');
    assert.equal(await rc.connection(s.brokerAddr), conn);
    const body = Buffer.from(`healthy-${++seq}`);
    const sent = await rc.invoke(s.brokerAddr, sendRequest(GOOD_TOPIC, body));
    assertCode(sent, ResponseCode.SUCCESS);
    const got = await rc.invoke(s.brokerAddr, pullRequest(GOOD_TOPIC, 0, Number(sent.extFields.queueOffset)));
    assertCode(got, ResponseCode.SUCCESS);
    const records = decodeMessages(got.body as Buffer);
    assert.equal(records[0].body.toString(), body.toString());
    assert.equal(records[0].topic, GOOD_TOPIC);
  }

  test('broker bad input - sending to an unknown topic with autoCreateTopicEnable=false is TOPIC_NOT_EXIST naming the topic', async () => {
    const resp = await rc.invoke(s.brokerAddr, sendRequest('NoSuchTopicHere', Buffer.from('x')));
    assertCode(resp, ResponseCode.TOPIC_NOT_EXIST, 'NoSuchTopicHere', 'autoCreateTopicEnable');
    const pull = await rc.invoke(s.brokerAddr, pullRequest('NoSuchTopicHere', 0, 0));
    assertCode(pull, ResponseCode.TOPIC_NOT_EXIST, 'NoSuchTopicHere');
    await assertStillServes();
  });

  test('broker bad input - a body over maxMessageSize is MESSAGE_ILLEGAL naming the limit', async () => {
    const resp = await rc.invoke(s.brokerAddr, sendRequest(GOOD_TOPIC, Buffer.alloc(MAX_MESSAGE_SIZE + 1, 1)));
    assertCode(resp, ResponseCode.MESSAGE_ILLEGAL, `MAX: ${MAX_MESSAGE_SIZE}`, String(MAX_MESSAGE_SIZE + 1));
    // Exactly at the limit is fine.
    const ok = await rc.invoke(s.brokerAddr, sendRequest(GOOD_TOPIC, Buffer.alloc(MAX_MESSAGE_SIZE, 2)));
    assertCode(ok, ResponseCode.SUCCESS);
    await assertStillServes();
  });

  test('broker bad input - properties over 32767 bytes are MESSAGE_ILLEGAL naming the limit', async () => {
    const props = `TAGS\u0001T\u0002big\u0001${'p'.repeat(33_000)}\u0002`;
    const resp = await rc.invoke(s.brokerAddr, sendRequest(GOOD_TOPIC, Buffer.from('x'), { i: props }));
    assertCode(resp, ResponseCode.MESSAGE_ILLEGAL, 'properties', '32767');
    await assertStillServes();
  });

  test('broker bad input - an illegal topic name is refused with the naming rule', async () => {
    // Java answers SYSTEM_ERROR here (which ali-ons would retry); we answer INVALID_PARAMETER, which it reports at once.
    const resp = await rc.invoke(s.brokerAddr, sendRequest('bad topic!', Buffer.from('x')));
    assertCode(resp, ResponseCode.INVALID_PARAMETER, 'bad topic!', '^[%|a-zA-Z0-9_-]+$');
    const long = await rc.invoke(s.brokerAddr, sendRequest('T'.repeat(128), Buffer.from('x')));
    assertCode(long, ResponseCode.INVALID_PARAMETER, 'max length 127');
    const system = await rc.invoke(s.brokerAddr, sendRequest('SCHEDULE_TOPIC_XXXX', Buffer.from('x')));
    assertCode(system, ResponseCode.NO_PERMISSION, 'SCHEDULE_TOPIC_XXXX', 'forbidden');
    await assertStillServes();
  });

  test('broker bad input - pulling or sending a queue id the topic does not have is INVALID_PARAMETER naming the queue', async () => {
    const pull = await rc.invoke(s.brokerAddr, pullRequest(GOOD_TOPIC, 7, 0));
    assertCode(pull, ResponseCode.INVALID_PARAMETER, 'queueId[7]', GOOD_TOPIC, 'readQueueNums:[2]');
    const negative = await rc.invoke(s.brokerAddr, pullRequest(GOOD_TOPIC, -1, 0));
    assertCode(negative, ResponseCode.INVALID_PARAMETER, 'queueId[-1]');
    const send = await rc.invoke(s.brokerAddr, sendRequest(GOOD_TOPIC, Buffer.from('x'), { e: 9 }));
    assertCode(send, ResponseCode.INVALID_PARAMETER, 'queueId[9]', 'writeQueueNums:2');
    await assertStillServes();
  });

  test('broker bad input - a pull far past the end of a queue is PULL_OFFSET_MOVED with the real bounds', async () => {
    const pull = await rc.invoke(s.brokerAddr, pullRequest(GOOD_TOPIC, 1, 1_000_000));
    assert.equal(pull.code, ResponseCode.PULL_OFFSET_MOVED);
    for (const k of ['nextBeginOffset', 'minOffset', 'maxOffset', 'suggestWhichBrokerId']) assert.match(pull.extFields[k] ?? '', /^\d+$/, k);
    await assertStillServes();
  });

  test('broker bad input - a heartbeat whose body is not JSON, or lacks a client id, is INVALID_PARAMETER', async () => {
    const notJson = await rc.invoke(s.brokerAddr, createRequest(RequestCode.HEART_BEAT, {}, Buffer.from('{"clientID": "a@1", consumerDataSet: [')));
    assertCode(notJson, ResponseCode.INVALID_PARAMETER, 'heartbeat body is not valid JSON');
    const empty = await rc.invoke(s.brokerAddr, createRequest(RequestCode.HEART_BEAT, {}));
    assertCode(empty, ResponseCode.INVALID_PARAMETER, 'heartbeat');
    const noId = await rc.invoke(s.brokerAddr, createRequest(RequestCode.HEART_BEAT, {}, Buffer.from('{"producerDataSet":[{"groupName":"g"}]}')));
    assertCode(noId, ResponseCode.INVALID_PARAMETER, 'clientID');
    const nullBody = await rc.invoke(s.brokerAddr, createRequest(RequestCode.HEART_BEAT, {}, Buffer.from('null')));
    assertCode(nullBody, ResponseCode.INVALID_PARAMETER, 'not a JSON object');
    await assertStillServes();
  });

  test('broker bad input - a heartbeat of the wrong shape is INVALID_PARAMETER naming the field', async () => {
    const cases: [string, string][] = [
      ['{"clientID":"a@1","consumerDataSet":"oops"}', 'consumerDataSet'],
      ['{"clientID":"a@1","consumerDataSet":[null]}', 'consumerDataSet'],
      ['{"clientID":"a@1","consumerDataSet":[{"groupName":"G","subscriptionDataSet":[null]}]}', 'subscriptionDataSet'],
      ['{"clientID":"a@1","consumerDataSet":[{"groupName":"G","subscriptionDataSet":[{"subString":"*"}]}]}', 'topic'],
      ['{"clientID":"a@1","producerDataSet":7}', 'producerDataSet'],
      ['{"clientID":"a@1","consumerDataSet":[{"groupName":"G","subscriptionDataSet":[{"topic":"T","subString":5}]}]}', 'subString'],
      ['{"clientID":42}', 'clientID'],
      ['[1,2]', 'not a JSON object'],
      ['{"clientID":"a@1","consumerDataSet":[{"groupName":7}]}', 'groupName'],
    ];
    for (const [body, field] of cases) {
      const resp = await rc.invoke(s.brokerAddr, createRequest(RequestCode.HEART_BEAT, {}, Buffer.from(body)));
      assertCode(resp, ResponseCode.INVALID_PARAMETER, field);
    }
    // None of them registered a consumer group.
    assert.equal(s.controller.consumerManager.getConsumerGroupInfo('G'), undefined);
    await assertStillServes();
  });

  test('broker bad input - missing or unparsable required header fields are INVALID_PARAMETER naming the field', async () => {
    const noTopic = createRequest(RequestCode.SEND_MESSAGE_V2, { a: 'GID_bad_input_p', e: 0 }, Buffer.from('x'));
    assertCode(await rc.invoke(s.brokerAddr, noTopic), ResponseCode.INVALID_PARAMETER, '<b>');
    const v1NoGroup = createRequest(RequestCode.SEND_MESSAGE, { topic: GOOD_TOPIC }, Buffer.from('x'));
    assertCode(await rc.invoke(s.brokerAddr, v1NoGroup), ResponseCode.INVALID_PARAMETER, '<producerGroup>');
    const pullNoQueue = pullRequest(GOOD_TOPIC, 0, 0);
    delete pullNoQueue.extFields.queueId;
    assertCode(await rc.invoke(s.brokerAddr, pullNoQueue), ResponseCode.INVALID_PARAMETER, '<queueId>');
    const badNumber = pullRequest(GOOD_TOPIC, 0, 0, { queueOffset: 'twelve' });
    assertCode(await rc.invoke(s.brokerAddr, badNumber), ResponseCode.INVALID_PARAMETER, '<queueOffset>', 'twelve');
    const offsetQuery = createRequest(RequestCode.QUERY_CONSUMER_OFFSET, { topic: GOOD_TOPIC, queueId: 0 });
    assertCode(await rc.invoke(s.brokerAddr, offsetQuery), ResponseCode.INVALID_PARAMETER, '<consumerGroup>');
    const unregister = createRequest(RequestCode.UNREGISTER_CLIENT, { producerGroup: 'g' });
    assertCode(await rc.invoke(s.brokerAddr, unregister), ResponseCode.INVALID_PARAMETER, '<clientID>');
    await assertStillServes();
  });

  test('broker bad input - a batch with a corrupt body is MESSAGE_ILLEGAL and stores nothing', async () => {
    const good = encodeBatchBody([
      { flag: 0, body: Buffer.from('b1'), properties: 'TAGS\u0001T\u0002' },
      { flag: 0, body: Buffer.from('b2'), properties: 'TAGS\u0001T\u0002' },
    ]);
    const maxBefore = s.controller.store.getMaxOffsetInQueue(GOOD_TOPIC, 1);
    const corrupt: [string, Buffer][] = [
      ['truncated', good.subarray(0, good.length - 3)],
      ['bad item size', Buffer.concat([Buffer.from([0x7f, 0xff, 0xff, 0xff]), good.subarray(4)])],
      ['bad body length', (() => {
        const b = Buffer.from(good);
        b.writeInt32BE(1000, 16);
        return b;
      })()],
      ['empty', Buffer.alloc(0)],
    ];
    for (const [what, body] of corrupt) {
      const resp = await rc.invoke(s.brokerAddr, sendRequest(GOOD_TOPIC, body, { e: 1, m: true }, RequestCode.SEND_BATCH_MESSAGE));
      assertCode(resp, ResponseCode.MESSAGE_ILLEGAL, 'malformed batch body');
      assert.ok(resp.remark, what);
    }
    assert.equal(s.controller.store.getMaxOffsetInQueue(GOOD_TOPIC, 1), maxBefore, 'no part of a bad batch was stored');
    // The well-formed batch goes through whole.
    const ok = await rc.invoke(s.brokerAddr, sendRequest(GOOD_TOPIC, good, { e: 1, m: true }, RequestCode.SEND_BATCH_MESSAGE));
    assertCode(ok, ResponseCode.SUCCESS);
    assert.equal(s.controller.store.getMaxOffsetInQueue(GOOD_TOPIC, 1), maxBefore + 2);
    await assertStillServes();
  });

  test('broker bad input - an unknown request code is REQUEST_CODE_NOT_SUPPORTED', async () => {
    const resp = await rc.invoke(s.brokerAddr, createRequest(99_999, {}));
    assertCode(resp, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, '99999');
    await assertStillServes();
  });

  test('broker bad input - a frame that cannot be decoded closes only that connection', async () => {
    const sock = connect(Number(s.brokerAddr.split(':')[1]), '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    sock.on('error', () => undefined);
    // total length 8, header length 0x7fffffff: the header cannot fit in the frame.
    sock.write(Buffer.from([0, 0, 0, 8, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4]));
    await closed;
    await assertStillServes();
  });

  test('broker bad input - ali-ons gets MESSAGE_ILLEGAL with the limit for an oversized body and can send again', async () => {
    await using h = new OnsHarness(s);
    const producer = await h.producer('GID_bad_input_ons');
    // Noise does not compress, so the body stays over the limit after ali-ons deflates it.
    const noise = Buffer.alloc(MAX_MESSAGE_SIZE + 4096);
    let x = 12345;
    for (let i = 0; i < noise.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
      noise[i] = x >>> 23;
    }
    await assert.rejects(producer.send(new ons.Message(GOOD_TOPIC, 'T', noise)), (err: Error & { code?: number }) => {
      assert.equal(err.code, ResponseCode.MESSAGE_ILLEGAL);
      assert.match(err.message, new RegExp(`MAX: ${MAX_MESSAGE_SIZE}`));
      return true;
    });
    const r = await producer.send(new ons.Message(GOOD_TOPIC, 'T', 'small after big'));
    assert.equal(r.sendStatus, 'SEND_OK');
    // An unknown topic fails at the route lookup: the name server has none, and ali-ons does not fall back to TBW102.
    await assert.rejects(producer.send(new ons.Message('OnsNoSuchTopic', 'T', 'x')), /OnsNoSuchTopic|route|TOPIC_NOT_EXIST|No topic route/i);
    await assertStillServes();
  });
});
