// Issue 11: the send answer's extFields stay a literal on the hot path (encodeHeader measured about
// 3x slower there), so this table holds the literal to SEND_MESSAGE_RESPONSE_HEADER: the same
// names, in the same order, each value of the schema's type, exactly what encodeHeader writes, and
// unchanged through the real frame codec.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { putStatusToResponse } from '../../src/broker/processor/put-status.js';
import { sendResponse } from '../../src/broker/processor/send-message-processor.js';
import type { SendResult } from '../../src/broker/service/send-service.js';
import { decodeCommand, encodeCommandToBuffer, ResponseCode, SerializeType } from '../../src/remoting/index.js';
import { decodeHeader, encodeHeader, SEND_MESSAGE_RESPONSE_HEADER } from '../../src/remoting/protocol/index.js';
import { PutMessageStatus, type PutMessageResult } from '../../src/store/index.js';

const SCHEMA = SEND_MESSAGE_RESPONSE_HEADER;

function result(put: Partial<PutMessageResult>, extra: Partial<SendResult> = {}): SendResult {
  const p: PutMessageResult = {
    status: PutMessageStatus.PUT_OK,
    wroteOffset: 4096,
    wroteBytes: 180,
    msgId: '7F00000100002A9F0000000000001000',
    queueOffset: 12,
    storeTimestamp: 1700000000000,
    msgNum: 1,
    ...put,
  };
  return { put: p, mapped: putStatusToResponse(p), queueId: 3, uniqKey: '7F000001A1B2C3D4E5F60000', ...extra };
}

const CASES: [string, SendResult][] = [
  ['a stored message', result({})],
  ['a timer message with its recall handle', result({}, { recallHandle: 'djEgVCBicm9rZXItYSAxNzAwMDAwMDYwMDAwIEFCQw' })],
  ['a batch: ids joined with commas', result({ msgId: 'AA,BB,CC', msgNum: 3 }, { uniqKey: 'K1,K2,K3' })],
  ['offsets at their edges', result({ queueOffset: Number.MAX_SAFE_INTEGER }, { queueId: 2147483647 })],
  ['a refused put (no id, offset -1)', result({ status: PutMessageStatus.DISK_FULL, msgId: '', queueOffset: -1, wroteOffset: -1 }, { queueId: -1 })],
  ['stored but the flush timed out', result({ status: PutMessageStatus.FLUSH_DISK_TIMEOUT })],
];

void describe('send response - issue 11: the hot-path literal matches SEND_MESSAGE_RESPONSE_HEADER', () => {
  for (const [name, r] of CASES) {
    void test(`send response - ${name}: fields, order and types are the schema's`, () => {
      const ext = sendResponse(r).extFields;
      const schemaNames = Object.keys(SCHEMA);
      for (const k of Object.keys(ext)) assert.ok(schemaNames.includes(k), `${k} is not a field of SEND_MESSAGE_RESPONSE_HEADER`);
      const expected = encodeHeader(SCHEMA, {
        msgId: r.put.msgId,
        queueId: r.queueId,
        queueOffset: r.put.queueOffset,
        transactionId: r.uniqKey,
        MSG_REGION: 'DefaultRegion',
        TRACE_ON: 'true',
        recallHandle: r.recallHandle,
      });
      assert.deepEqual(Object.keys(ext), Object.keys(expected), 'the same fields in schema order');
      assert.deepEqual(ext, expected);
      // Decoding by the schema checks every value's type (a non-number int field is refused) and
      // re-encoding what was decoded must give the same text.
      assert.deepEqual(encodeHeader(SCHEMA, decodeHeader(SCHEMA, ext)), ext);
    });
  }

  void test('send response - the code and remark come from the put status, the fields survive the frame codec', () => {
    for (const [, r] of CASES) {
      const resp = sendResponse(r);
      assert.equal(resp.code, r.mapped.code);
      assert.equal(resp.remark, r.mapped.remark);
      for (const st of [SerializeType.JSON, SerializeType.ROCKETMQ]) {
        const back = decodeCommand(encodeCommandToBuffer({ ...resp, serializeType: st }));
        assert.deepEqual(back.extFields, resp.extFields, `serialize type ${st}`);
      }
    }
    assert.equal(sendResponse(CASES[0][1]).code, ResponseCode.SUCCESS);
    assert.notEqual(sendResponse(CASES[4][1]).code, ResponseCode.SUCCESS);
  });
});
