// ScheduleMessageService over a scripted store: a message parked while a delivery pass is
// reading its level must still be delivered (regression: the wake-up was lost).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage } from '../../src/common/message-codec.js';
import { silentLogger } from '../../src/common/logger.js';
import { ScheduleMessageService } from '../../src/broker/schedule/schedule-message-service.js';
import { GetMessageStatus, PutMessageStatus, type GetMessageResult, type MessageInput, type MessageStore } from '../../src/store/index.js';
import { checkFor } from '../helpers/check-for.js';
import { tempDir } from '../helpers/temp-dir.js';
import { propsString } from './fixtures/wire.js';

const HOST = { address: '127.0.0.1', port: 10911 };

function parked(queueOffset: number, storeTimestamp: number): Buffer {
  return encodeMessage({
    topic: 'SCHEDULE_TOPIC_XXXX',
    queueId: 0,
    flag: 0,
    body: Buffer.from(`m${queueOffset}`),
    properties: propsString({ DELAY: '1', REAL_TOPIC: 'Real', REAL_QID: '0' }),
    sysFlag: 0,
    bornTimestamp: storeTimestamp,
    bornHost: HOST,
    storeHost: HOST,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    queueOffset,
    commitLogOffset: queueOffset * 1000,
    storeTimestamp,
  });
}

function result(buffers: Buffer[], next: number): GetMessageResult {
  return {
    status: buffers.length > 0 ? GetMessageStatus.FOUND : GetMessageStatus.OFFSET_OVERFLOW_ONE,
    nextBeginOffset: next,
    minOffset: 0,
    maxOffset: next,
    buffers,
    messageCount: buffers.length,
    totalSize: buffers.reduce((n, b) => n + b.length, 0),
    queueOffsets: buffers.map((_, i) => next - buffers.length + i),
  };
}

void test('semantics schedule - a message parked while its level is being read is delivered (lost wake-up regression)', async () => {
  using dir = tempDir('apogee-sched-');
  const queue: Buffer[] = [];
  const put: MessageInput[] = [];
  let releaseFirstRead: (() => void) | undefined;
  let reads = 0;
  const store = {
    async getMessage(_topic: string, _q: number, offset: number): Promise<GetMessageResult> {
      // The first read sees the level empty but answers only after a message was parked.
      const snapshot = queue.slice(offset);
      if (reads++ === 0) await new Promise<void>((r) => (releaseFirstRead = r));
      return result(snapshot, offset + snapshot.length);
    },
    async putMessage(msg: MessageInput) {
      put.push(msg);
      return { status: PutMessageStatus.PUT_OK };
    },
  } as unknown as MessageStore;

  const svc = new ScheduleMessageService(store, [50], dir.path, silentLogger);
  svc.start(0);
  try {
    await checkFor(2000, 5, () => releaseFirstRead, 'the first delivery pass to read');
    queue.push(parked(0, Date.now()));
    svc.notifyArrived(0);
    releaseFirstRead!();
    await checkFor(2000, 10, () => put.length === 1, 'the parked message re-put to its real topic');
    assert.equal(put[0].topic, 'Real');
    assert.equal(put[0].body.toString(), 'm0');
    assert.equal(svc.offsetOf(1), 1);
  } finally {
    await svc.shutdown();
  }
});
