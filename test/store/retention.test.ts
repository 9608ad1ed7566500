import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { decodeMessages } from '../../src/common/index.js';
import { GetMessageStatus, MessageStore, PutMessageStatus } from '../../src/store/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { msgInput } from './store-helpers.js';

const SEG = 16 * 1024;
const HOUR = 3600 * 1000;
const base = { mappedFileSizeCommitLog: SEG, mappedFileSizeConsumeQueue: 20 * 10, indexHashSlotNum: 16, indexNum: 40, flushIntervalCommitLog: 60_000, flushIntervalConsumeQueue: 60_000, cleanResourceInterval: 3_600_000 };

function hourOf(ms: number): string {
  return String(new Date(ms).getHours()).padStart(2, '0');
}

async function filled(dir: string, clock: { now: number; disk: number }, deleteWhen: string): Promise<MessageStore> {
  const store = await MessageStore.open({ storePathRootDir: dir, ...base, deleteWhen }, { now: () => clock.now, diskUsageRatio: () => clock.disk });
  for (let i = 0; i < 120; i++) {
    const r = await store.putMessage(msgInput('T', 0, Buffer.alloc(600, i), { KEYS: `k${i}` }));
    assert.equal(r.status, PutMessageStatus.PUT_OK);
  }
  assert.ok(store.commitLog.segments().length >= 5);
  return store;
}

describe('store retention', () => {
  test('store retention - expired segments go only at the deleteWhen hour, never the current one, queues and index follow', async () => {
    using dir = tempDir();
    const clock = { now: Date.now(), disk: 0.1 };
    const later = clock.now + 73 * HOUR;
    const store = await filled(dir.path, clock, hourOf(later));
    await store.flush();
    const segs = store.commitLog.segments().length;
    const cqFiles = fs.readdirSync(join(store.paths.consumeQueue, 'T', '0')).length;
    const indexFiles = fs.readdirSync(store.paths.index).length;
    assert.ok(cqFiles > 3 && indexFiles > 3);

    let r = await store.cleanExpiredFiles();
    assert.equal(r.reason, 'none');
    assert.equal(r.deletedCommitLogFiles.length, 0);
    r = await store.cleanExpiredFiles(true);
    assert.equal(r.deletedCommitLogFiles.length, 0, 'nothing is old enough yet');

    clock.now = later - 2 * HOUR;
    r = await store.cleanExpiredFiles();
    assert.equal(r.deletedCommitLogFiles.length, 0, 'old enough but not the deleteWhen hour');

    clock.now = later;
    r = await store.cleanExpiredFiles();
    assert.equal(r.reason, 'time');
    assert.equal(r.deletedCommitLogFiles.length, segs - 1);
    assert.equal(store.commitLog.segments().length, 1);
    assert.ok(r.deletedConsumeQueueFiles > 0);
    assert.ok(r.deletedIndexFiles > 0);
    assert.ok(fs.readdirSync(join(store.paths.consumeQueue, 'T', '0')).length < cqFiles);
    assert.ok(fs.readdirSync(store.paths.index).length < indexFiles);

    const min = store.getMinOffsetInQueue('T', 0);
    assert.ok(min > 0);
    const tooSmall = await store.getMessage('T', 0, 0, 1);
    assert.equal(tooSmall.status, GetMessageStatus.OFFSET_TOO_SMALL);
    assert.equal(tooSmall.nextBeginOffset, min);
    const first = await store.getMessage('T', 0, min, 1);
    assert.equal(first.status, GetMessageStatus.FOUND);
    assert.ok(decodeMessages(first.buffers[0])[0].commitLogOffset >= store.getMinPhyOffset());
    assert.equal((await store.queryMessage('T', 'k0', 5, 0, Number.MAX_SAFE_INTEGER)).buffers.length, 0);
    assert.equal((await store.queryMessage('T', 'k119', 5, 0, Number.MAX_SAFE_INTEGER)).buffers.length, 1);
    await store.shutdown();
    const again = await MessageStore.open({ storePathRootDir: dir.path, ...base });
    assert.equal(again.getMinOffsetInQueue('T', 0), min);
    await again.shutdown();
  });

  test('store retention - unflushed segments are kept', async () => {
    using dir = tempDir();
    const clock = { now: Date.now() + 100 * HOUR, disk: 0.1 };
    const store = await filled(dir.path, clock, hourOf(clock.now));
    const r = await store.cleanExpiredFiles(true);
    assert.equal(r.deletedCommitLogFiles.length, 0);
    await store.flush();
    const r2 = await store.cleanExpiredFiles(true);
    assert.ok(r2.deletedCommitLogFiles.length > 0);
    await store.shutdown();
  });

  test('store retention - disk pressure deletes oldest segments early; past the warning level puts get DISK_FULL', async () => {
    using dir = tempDir();
    const clock = { now: Date.now(), disk: 0.1 };
    const store = await filled(dir.path, clock, '99');
    await store.flush();
    const segs = store.commitLog.segments().length;
    // Usage drops as segments go: two deletions bring it under 75 %.
    let usage = 0.8;
    clock.disk = 0.8;
    Object.defineProperty(clock, 'disk', { get: () => usage });
    const orig = store.commitLog.deleteFirstSegment.bind(store.commitLog);
    store.commitLog.deleteFirstSegment = () => {
      usage -= 0.03;
      return orig();
    };
    const r = await store.cleanExpiredFiles();
    assert.equal(r.reason, 'disk');
    assert.equal(r.deletedCommitLogFiles.length, 2);
    assert.equal(store.commitLog.segments().length, segs - 2);

    store.commitLog.deleteFirstSegment = orig;
    usage = 0.95;
    await store.cleanExpiredFiles();
    const refused = await store.putMessage(msgInput('T', 0, 'x'));
    assert.equal(refused.status, PutMessageStatus.DISK_FULL);
    assert.match(refused.remark!, /diskSpaceWarningLevelRatio/);
    usage = 0.5;
    await store.cleanExpiredFiles();
    assert.equal((await store.putMessage(msgInput('T', 0, 'x'))).status, PutMessageStatus.PUT_OK);
    await store.shutdown();
  });
});
