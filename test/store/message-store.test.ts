import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as fs from 'node:fs';
import { BLANK_MAGIC_CODE, decodeMessage, decodeMessages, MessageSysFlag, javaStringHashCode } from '../../src/common/index.js';
import { GetMessageStatus, MessageStore, PutMessageStatus, type DispatchRequest, type MessageStoreConfig } from '../../src/store/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { msgInput } from './store-helpers.js';

const variants: [string, Partial<MessageStoreConfig>][] = [
  ['async flush, 64 KiB segments', { flushDiskType: 'ASYNC_FLUSH', mappedFileSizeCommitLog: 64 * 1024, mappedFileSizeConsumeQueue: 20 * 50 }],
  ['sync flush, 64 KiB segments', { flushDiskType: 'SYNC_FLUSH', mappedFileSizeCommitLog: 64 * 1024, mappedFileSizeConsumeQueue: 20 * 50 }],
  ['async flush, 1 MiB segments', { flushDiskType: 'ASYNC_FLUSH', mappedFileSizeCommitLog: 1024 * 1024 }],
  ['sync flush, blocking batch writes, 4 KiB batch buffers', { flushDiskType: 'SYNC_FLUSH', writeBatchSync: true, writeBufferSize: 4096, mappedFileSizeCommitLog: 64 * 1024 }],
];
const small = { indexHashSlotNum: 64, indexNum: 256 };

for (const [name, cfg] of variants) {
  describe(`message store (${name})`, () => {
    test('message store - puts get consecutive queue offsets and read back whole records', async () => {
      using dir = tempDir();
      const store = await MessageStore.open({ storePathRootDir: dir.path, ...small, ...cfg });
      const n = 600;
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) => store.putMessage(msgInput('T', i % 3, Buffer.alloc(100 + (i % 50), i % 256), { TAGS: `t${i % 4}` }))),
      );
      for (let i = 0; i < n; i++) {
        assert.equal(results[i].status, PutMessageStatus.PUT_OK);
        assert.equal(results[i].queueOffset, Math.floor(i / 3));
      }
      assert.ok(store.commitLog.segments().length > 1 || cfg.mappedFileSizeCommitLog! > 100_000);
      for (let q = 0; q < 3; q++) {
        assert.equal(store.getMaxOffsetInQueue('T', q), n / 3);
        let off = 0;
        const seen: number[] = [];
        while (off < n / 3) {
          const r = await store.getMessage('T', q, off, 32);
          assert.equal(r.status, GetMessageStatus.FOUND);
          for (const m of decodeMessages(Buffer.concat(r.buffers))) {
            assert.equal(m.queueId, q);
            assert.equal(m.queueOffset, seen.length);
            seen.push(m.queueOffset);
            const i = m.queueOffset * 3 + q;
            assert.deepEqual(m.body, Buffer.alloc(100 + (i % 50), i % 256));
            assert.equal(m.commitLogOffset, results[i].wroteOffset);
          }
          off = r.nextBeginOffset;
        }
        assert.deepEqual(seen, Array.from({ length: n / 3 }, (_, i) => i));
      }
      // Every full segment ends with a blank record that fills it exactly; no record spans two.
      const segSize = store.config.mappedFileSizeCommitLog;
      for (const seg of store.commitLog.segments().slice(0, -1)) {
        const data = fs.readFileSync(seg.path);
        let p = 0;
        while (data.readInt32BE(p + 4) !== BLANK_MAGIC_CODE) p += decodeMessage(data, p).totalSize;
        assert.equal(data.readInt32BE(p), segSize - p);
        assert.ok(segSize - p >= 8);
      }
      const d = decodeMessage((await store.lookMessageByOffset(results[7].wroteOffset))!);
      assert.equal(d.body[0], 7);
      assert.equal(await store.lookMessageByOffset(results[7].wroteOffset + 1), null);
      await store.shutdown();
      const again = await MessageStore.open({ storePathRootDir: dir.path, ...small, ...cfg });
      assert.equal(again.recovery.abnormal, false);
      assert.equal(again.recovery.commitLog.truncatedBytes, 0);
      assert.equal(again.getMaxOffsetInQueue('T', 2), n / 3);
      const r = await again.putMessage(msgInput('T', 2, 'after restart'));
      assert.equal(r.queueOffset, n / 3);
      await again.shutdown();
    });

    test('message store - getMessage statuses, filter and byte budget', async () => {
      using dir = tempDir();
      const store = await MessageStore.open({ storePathRootDir: dir.path, ...small, ...cfg });
      assert.equal((await store.getMessage('none', 0, 0, 1)).status, GetMessageStatus.NO_MATCHED_LOGIC_QUEUE);
      for (let i = 0; i < 10; i++) await store.putMessage(msgInput('S', 0, Buffer.alloc(200), { TAGS: i % 2 ? 'odd' : 'even' }));
      const over1 = await store.getMessage('S', 0, 10, 5);
      assert.equal(over1.status, GetMessageStatus.OFFSET_OVERFLOW_ONE);
      assert.equal(over1.nextBeginOffset, 10);
      const bad = await store.getMessage('S', 0, 50, 5);
      assert.equal(bad.status, GetMessageStatus.OFFSET_OVERFLOW_BADLY);
      assert.equal(bad.nextBeginOffset, 0);
      const odd = javaStringHashCode('odd');
      const f = await store.getMessage('S', 0, 0, 32, undefined, (code) => code === odd);
      assert.deepEqual(f.queueOffsets, [1, 3, 5, 7, 9]);
      assert.equal(f.nextBeginOffset, 10);
      const none = await store.getMessage('S', 0, 0, 32, undefined, () => false);
      assert.equal(none.status, GetMessageStatus.NO_MATCHED_MESSAGE);
      assert.equal(none.nextBeginOffset, 10);
      const budget = await store.getMessage('S', 0, 0, 32, 700);
      assert.equal(budget.messageCount, 2);
      assert.ok(budget.totalSize <= 700);
      const one = await store.getMessage('S', 0, 0, 32, 1);
      assert.equal(one.messageCount, 1, 'at least one message even past the byte budget');
      await store.shutdown();
    });
  });
}

describe('message store', () => {
  test('message store - batch puts share one result with consecutive offsets', async () => {
    using dir = tempDir();
    const store = await MessageStore.open({ storePathRootDir: dir.path, ...small });
    await store.putMessage(msgInput('B', 1, 'first'));
    const r = await store.putMessages([msgInput('B', 1, 'a'), msgInput('B', 1, 'b'), msgInput('B', 1, 'c')]);
    assert.equal(r.status, PutMessageStatus.PUT_OK);
    assert.equal(r.msgNum, 3);
    assert.equal(r.queueOffset, 1);
    assert.equal(r.msgId.split(',').length, 3);
    const g = await store.getMessage('B', 1, 1, 10);
    assert.deepEqual(decodeMessages(Buffer.concat(g.buffers)).map((m) => m.body.toString()), ['a', 'b', 'c']);
    const mixed = await store.putMessages([msgInput('B', 1, 'a'), msgInput('B', 2, 'b')]);
    assert.equal(mixed.status, PutMessageStatus.MESSAGE_ILLEGAL);
    await store.shutdown();
  });

  test('message store - PREPARED and ROLLBACK skip the consume queue; tagsCode override; onDispatch', async () => {
    using dir = tempDir();
    const seen: DispatchRequest[] = [];
    const store = await MessageStore.open({ storePathRootDir: dir.path, ...small }, { onDispatch: (d) => seen.push(d) });
    const p = await store.putMessage(msgInput('X', 0, 'half', {}, { sysFlag: MessageSysFlag.TRANSACTION_PREPARED_TYPE }));
    const rb = await store.putMessage(msgInput('X', 0, 'rb', {}, { sysFlag: MessageSysFlag.TRANSACTION_ROLLBACK_TYPE }));
    const c = await store.putMessage(msgInput('X', 0, 'commit', { TAGS: 'x' }, { sysFlag: MessageSysFlag.TRANSACTION_COMMIT_TYPE }));
    const s = await store.putMessage(msgInput('SCHEDULE_TOPIC_XXXX', 2, 'later', { TAGS: 'x' }, { tagsCode: 1_800_000_000_000 }));
    assert.equal(p.queueOffset, 0);
    assert.equal(rb.queueOffset, 0);
    assert.equal(c.queueOffset, 0);
    assert.equal(store.getMaxOffsetInQueue('X', 0), 1);
    assert.equal(decodeMessage((await store.lookMessageByOffset(p.wroteOffset))!).body.toString(), 'half');
    const g = await store.getMessage('SCHEDULE_TOPIC_XXXX', 2, 0, 1, undefined, (code) => code === 1_800_000_000_000);
    assert.equal(g.messageCount, 1);
    assert.deepEqual(
      seen.map((d) => [d.topic, d.queueOffset, d.tagsCode]),
      [
        ['X', 0, javaStringHashCode('x')],
        ['SCHEDULE_TOPIC_XXXX', 0, 1_800_000_000_000],
      ],
    );
    assert.equal(s.status, PutMessageStatus.PUT_OK);
    await store.shutdown();
  });

  test('message store - rejects oversized properties and messages with clear statuses', async () => {
    using dir = tempDir();
    const store = await MessageStore.open({ storePathRootDir: dir.path, ...small, maxMessageSize: 4096 });
    const big = await store.putMessage(msgInput('V', 0, 'x', { K: 'v'.repeat(40_000) }));
    assert.equal(big.status, PutMessageStatus.PROPERTIES_SIZE_EXCEEDED);
    const huge = await store.putMessage(msgInput('V', 0, Buffer.alloc(5000)));
    assert.equal(huge.status, PutMessageStatus.MESSAGE_ILLEGAL);
    assert.match(huge.remark!, /maxMessageSize/);
    const bad = await store.putMessage(msgInput('V', 0, 'x', {}, { bornHost: { address: 'nope', port: 1 } }));
    assert.equal(bad.status, PutMessageStatus.MESSAGE_ILLEGAL);
    assert.equal(store.getMaxPhyOffset(), 0);
    await store.shutdown();
  });

  test('message store - SYNC_FLUSH reports FLUSH_DISK_TIMEOUT when fsync is too slow', async () => {
    using dir = tempDir();
    let release: () => void = () => undefined;
    const slow = new Promise<void>((r) => (release = r));
    const store = await MessageStore.open(
      { storePathRootDir: dir.path, ...small, flushDiskType: 'SYNC_FLUSH', syncFlushTimeout: 100 },
      { fsync: () => slow },
    );
    const t0 = Date.now();
    const r = await store.putMessage(msgInput('F', 0, 'slow'));
    assert.equal(r.status, PutMessageStatus.FLUSH_DISK_TIMEOUT);
    assert.ok(Date.now() - t0 >= 90);
    const noWait = await store.putMessage(msgInput('F', 0, 'nowait', { WAIT: 'false' }));
    assert.equal(noWait.status, PutMessageStatus.PUT_OK);
    release();
    await store.shutdown();
  });

  test('message store - a failed fsync makes the store refuse writes until restart', async () => {
    using dir = tempDir();
    let fail = true;
    const store = await MessageStore.open(
      { storePathRootDir: dir.path, ...small, flushDiskType: 'SYNC_FLUSH' },
      { fsync: () => (fail ? Promise.reject(new Error('EIO: injected')) : Promise.resolve()) },
    );
    const r = await store.putMessage(msgInput('F', 0, 'x'));
    assert.equal(r.status, PutMessageStatus.UNKNOWN_ERROR);
    assert.match(r.remark!, /EIO: injected/);
    const next = await store.putMessage(msgInput('F', 0, 'y'));
    assert.equal(next.status, PutMessageStatus.SERVICE_NOT_AVAILABLE);
    assert.match(next.remark!, /restart/);
    fail = false;
    await store.shutdown();
    const again = await MessageStore.open({ storePathRootDir: dir.path, ...small, flushDiskType: 'SYNC_FLUSH' });
    assert.equal((await again.putMessage(msgInput('F', 0, 'z'))).status, PutMessageStatus.PUT_OK);
    await again.shutdown();
  });

  test('message store - lookups by time match a linear scan', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 60 }), fc.array(fc.integer({ min: -5, max: 200 }), { minLength: 1, maxLength: 10 }), async (steps, probes) => {
        using dir = tempDir();
        let clock = 1_000;
        const store = await MessageStore.open({ storePathRootDir: dir.path, ...small, mappedFileSizeConsumeQueue: 20 * 7 }, { now: () => clock });
        const times: number[] = [];
        for (const s of steps) {
          clock += s;
          times.push(clock);
          await store.putMessage(msgInput('Q', 0, 'm'));
        }
        for (const p of probes) {
          const ts = 1_000 + p;
          let expect = times.findIndex((t) => t >= ts);
          if (expect < 0) expect = times.length;
          assert.equal(await store.getOffsetInQueueByTime('Q', 0, ts), expect, `ts ${ts} in ${times.join(',')}`);
        }
        assert.equal(await store.getEarliestMessageTime('Q', 0), times[0]);
        await store.shutdown();
      }),
      { numRuns: 25 },
    );
  });

  test('message store - index finds keys and unique keys within the time range', async () => {
    using dir = tempDir();
    let clock = 1_700_000_000_000;
    const store = await MessageStore.open({ storePathRootDir: dir.path, indexHashSlotNum: 8, indexNum: 40 }, { now: () => clock });
    const offsets = new Map<number, number>();
    for (let i = 0; i < 100; i++) {
      clock += 1000;
      const r = await store.putMessage(msgInput(i % 2 ? 'A' : 'B', 0, `m${i}`, { KEYS: `k${i % 10} all`, UNIQ_KEY: `U${i}` }));
      offsets.set(i, r.wroteOffset);
    }
    const bodies = async (topic: string, key: string, max: number, begin = 0, end = Number.MAX_SAFE_INTEGER): Promise<string[]> =>
      (await store.queryMessage(topic, key, max, begin, end)).buffers.map((b) => decodeMessage(b).body.toString()).sort();
    assert.deepEqual(await bodies('A', 'U51', 10), ['m51']);
    assert.deepEqual(await bodies('B', 'U51', 10), []);
    assert.deepEqual(await bodies('A', 'k3', 100), ['m13', 'm23', 'm3', 'm33', 'm43', 'm53', 'm63', 'm73', 'm83', 'm93']);
    assert.equal((await bodies('B', 'all', 100)).length, 50);
    assert.equal((await bodies('B', 'all', 7)).length, 7);
    const t20 = 1_700_000_000_000 + 21 * 1000;
    assert.deepEqual(await bodies('B', 'all', 100, t20, t20 + 4000), ['m20', 'm22', 'm24']);
    const files = (await import('node:fs')).readdirSync(store.paths.index);
    assert.ok(files.length > 1, 'index rolled over to new files');
    const r = await store.queryMessage('A', 'k3', 1, 0, Number.MAX_SAFE_INTEGER);
    assert.equal(r.indexLastUpdatePhyoffset, offsets.get(99));
    await store.shutdown();
    const again = await MessageStore.open({ storePathRootDir: dir.path, indexHashSlotNum: 8, indexNum: 40 }, { now: () => clock });
    assert.deepEqual((await again.queryMessage('A', 'U99', 5, 0, Number.MAX_SAFE_INTEGER)).buffers.length, 1);
    await again.shutdown();
  });

  test('message store - deleteTopics drops the queues', async () => {
    using dir = tempDir();
    const store = await MessageStore.open({ storePathRootDir: dir.path, ...small });
    await store.putMessage(msgInput('D', 0, 'x'));
    await store.putMessage(msgInput('E', 0, 'x'));
    assert.deepEqual(store.getTopics().sort(), ['D', 'E']);
    await store.deleteTopics(['D']);
    assert.deepEqual(store.getTopics(), ['E']);
    assert.equal(store.getMaxOffsetInQueue('D', 0), 0);
    await store.shutdown();
  });

  test('message store - a second open of the same directory is refused', async () => {
    using dir = tempDir();
    const store = await MessageStore.open({ storePathRootDir: dir.path, ...small });
    await assert.rejects(MessageStore.open({ storePathRootDir: dir.path, ...small }), /already open/);
    await store.shutdown();
  });
});
