// The next commit-log segment is created in the background (issue 17): after a roll the following
// file already exists, rolling into it keeps every message readable, and an empty prepared file
// left on disk (a crash, a truncation, a shutdown) never changes where the log ends on reopening.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MessageStore } from '../../src/store/index.js';
import { checkFor } from '../helpers/check-for.js';
import { tempDir } from '../helpers/temp-dir.js';
import { msgInput } from './store-helpers.js';

const SEG = 64 * 1024;
const SMALL = { mappedFileSizeCommitLog: SEG, mappedFileSizeConsumeQueue: 20 * 64, indexHashSlotNum: 16, indexNum: 400 };
const name = (start: number): string => String(start).padStart(20, '0');

async function put(store: MessageStore, n: number, from = 0): Promise<number[]> {
  const offsets: number[] = [];
  for (let i = from; i < from + n; i++) {
    const r = await store.putMessage(msgInput('T', i % 2, Buffer.alloc(900 + (i % 7) * 100, i % 251)));
    assert.equal(r.status, 'PUT_OK');
    offsets.push(r.wroteOffset);
  }
  return offsets;
}

async function bodies(store: MessageStore): Promise<number> {
  let n = 0;
  for (const q of [0, 1]) {
    for (let off = 0; ; ) {
      const r = await store.getMessage('T', q, off, 32);
      if (r.messageCount === 0) break;
      n += r.messageCount;
      off = r.nextBeginOffset;
    }
  }
  return n;
}

const segments = (root: string): string[] => readdirSync(join(root, 'commitlog')).filter((f) => /^\d{20}$/.test(f)).sort();

void test('segment preallocation - the next segment exists before the log reaches it, and rolling into it loses nothing', async () => {
  using dir = tempDir('apogee-prealloc-');
  const store = await MessageStore.open({ storePathRootDir: dir.path, ...SMALL });
  try {
    await put(store, 10);
    await checkFor(5000, 10, () => existsSync(join(dir.path, 'commitlog', name(SEG))), 'the second segment prepared');
    assert.equal(statSync(join(dir.path, 'commitlog', name(SEG))).size, 0, 'prepared, not written');
    const offsets = await put(store, 300, 10);
    assert.ok(offsets[offsets.length - 1] > 3 * SEG, 'the run crossed several boundaries');
    await store.flush();
    const last = Math.floor(store.getMaxPhyOffset() / SEG) * SEG;
    await checkFor(5000, 10, () => existsSync(join(dir.path, 'commitlog', name(last + SEG))), 'the segment after the current one prepared');
    assert.equal(await bodies(store), 310);
  } finally {
    await store.shutdown();
  }
  assert.equal(segments(dir.path).every((f) => statSync(join(dir.path, 'commitlog', f)).size > 0), true, 'shutdown removes the unused prepared file');
});

void test('segment preallocation - an empty prepared file left by a crash or a truncation is dropped on reopening; the log ends where it did; a cut across consume-queue files flushes (was EBADF)', async () => {
  using dir = tempDir('apogee-prealloc-');
  let store = await MessageStore.open({ storePathRootDir: dir.path, ...SMALL });
  await put(store, 200);
  await store.flush();
  const end = store.getMaxPhyOffset();
  await store.crashForTest();
  // What a kill leaves: the prepared successor, empty (and a stray one further on after a truncation).
  const cur = Math.floor((end - 1) / SEG) * SEG;
  writeFileSync(join(dir.path, 'commitlog', name(cur + SEG)), '');
  store = await MessageStore.open({ storePathRootDir: dir.path, ...SMALL });
  try {
    assert.equal(store.getMaxPhyOffset(), end);
    assert.equal(await bodies(store), 200);
    const more = await put(store, 100, 200);
    assert.ok(more[more.length - 1] > cur + SEG, 'the log rolled into the file it had dropped');
    // Back into an earlier segment: the prepared file past the new end goes with the cut.
    await store.truncateTo(more[0]);
    assert.equal(store.getMaxPhyOffset(), more[0]);
  } finally {
    await store.shutdown();
  }
  store = await MessageStore.open({ storePathRootDir: dir.path, ...SMALL });
  try {
    assert.equal(store.getMaxPhyOffset(), end);
    assert.equal(await bodies(store), 200);
  } finally {
    await store.shutdown();
  }
});
