import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeMessage, decodeMessages } from '../../src/common/index.js';
import { MessageStore, offset2FileName, PutMessageStatus } from '../../src/store/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { msgInput } from './store-helpers.js';

const SEG = 16 * 1024;
const cfg = { mappedFileSizeCommitLog: SEG, mappedFileSizeConsumeQueue: 20 * 16, indexHashSlotNum: 32, indexNum: 128 };

function bodyFor(i: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let k = 0; k < size; k++) b[k] = (i * 31 + k) & 0xff;
  return b;
}

interface Written {
  i: number;
  queueId: number;
  offset: number;
  size: number;
  body: Buffer;
}

async function fill(dir: string, sizes: number[]): Promise<Written[]> {
  const store = await MessageStore.open({ storePathRootDir: dir, ...cfg });
  const results = await Promise.all(sizes.map((s, i) => store.putMessage(msgInput('R', i % 2, bodyFor(i, s), { KEYS: `key${i}` }))));
  await store.crashForTest();
  return results.map((r, i) => {
    assert.equal(r.status, PutMessageStatus.PUT_OK);
    return { i, queueId: i % 2, offset: r.wroteOffset, size: r.wroteBytes, body: bodyFor(i, sizes[i]) };
  });
}

function truncateAt(dir: string, p: number): void {
  const cl = join(dir, 'commitlog');
  for (const name of fs.readdirSync(cl)) {
    const start = Number(name);
    if (start >= p && start > 0 && start !== p - (p % SEG)) fs.rmSync(join(cl, name));
    else if (start <= p && p < start + SEG) fs.truncateSync(join(cl, name), Math.min(p - start, fs.statSync(join(cl, name)).size));
  }
}

function flipByte(dir: string, p: number): void {
  const start = p - (p % SEG);
  const path = join(dir, 'commitlog', offset2FileName(start));
  const fd = fs.openSync(path, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, p - start);
  b[0] ^= 0x5a;
  fs.writeSync(fd, b, 0, 1, p - start);
  fs.closeSync(fd);
}

/** Opens the store and checks that exactly `intact` is there, readable by queue and by key. */
async function checkIntact(dir: string, all: Written[], intact: Written[]): Promise<void> {
  const store = await MessageStore.open({ storePathRootDir: dir, ...cfg });
  try {
    assert.equal(store.recovery.abnormal, true);
    for (const q of [0, 1]) {
      const mine = intact.filter((w) => w.queueId === q);
      assert.equal(store.getMaxOffsetInQueue('R', q), mine.length, `queue ${q} max offset`);
      const got = await store.getMessage('R', q, 0, 1000, 1 << 30);
      const msgs = got.buffers.length ? decodeMessages(Buffer.concat(got.buffers)) : [];
      assert.deepEqual(msgs.map((m) => m.commitLogOffset), mine.map((w) => w.offset));
      msgs.forEach((m, k) => assert.deepEqual(Buffer.from(m.body), mine[k].body));
    }
    for (const w of all) {
      const r = await store.queryMessage('R', `key${w.i}`, 4, 0, Number.MAX_SAFE_INTEGER);
      const found = r.buffers.map((b) => decodeMessage(b).commitLogOffset);
      assert.deepEqual(found, intact.includes(w) ? [w.offset] : [], `key${w.i}`);
    }
    const end = intact.length ? intact[intact.length - 1].offset + intact[intact.length - 1].size : 0;
    assert.ok(store.getMaxPhyOffset() >= end && store.getMaxPhyOffset() <= end + SEG);
    const after = await store.putMessage(msgInput('R', 0, 'after'));
    assert.equal(after.status, PutMessageStatus.PUT_OK);
    assert.equal(after.queueOffset, intact.filter((w) => w.queueId === 0).length);
    const back = await store.getMessage('R', 0, after.queueOffset, 1);
    assert.equal(decodeMessage(back.buffers[0]).body.toString(), 'after');
  } finally {
    await store.shutdown();
  }
}

const sizesArb = fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 40 });

describe('store recovery', () => {
  test('store recovery - a truncated tail keeps exactly the records that end before the cut', async () => {
    await fc.assert(
      fc.asyncProperty(sizesArb, fc.double({ min: 0, max: 1, noNaN: true }), async (sizes, frac) => {
        using dir = tempDir();
        const all = await fill(dir.path, sizes);
        const total = all[all.length - 1].offset + all[all.length - 1].size;
        const cut = Math.floor(frac * total);
        truncateAt(dir.path, cut);
        await checkIntact(dir.path, all, all.filter((w) => w.offset + w.size <= cut));
      }),
      { numRuns: 80 },
    );
  });

  test('store recovery - a corrupted byte cuts from the damaged record on', async () => {
    // BODYCRC covers only the body; RocketMQ's format has no checksum over the other header
    // fields, so corruption is placed where a check can see it: size, magic, CRC, physical
    // offset, the length fields, or the body.
    const where = fc.constantFrom('size', 'magic', 'crc', 'phy', 'bodylen', 'body', 'props');
    await fc.assert(
      fc.asyncProperty(sizesArb, fc.nat(), where, fc.nat(), async (sizes, pick, field, inBody) => {
        using dir = tempDir();
        const all = await fill(dir.path, sizes);
        const victim = all[pick % all.length];
        const bodyStart = victim.offset + 88;
        const bodyLen = victim.body.length;
        if (field === 'body' && bodyLen === 0) return;
        const pos = {
          size: victim.offset + 2,
          magic: victim.offset + 5,
          crc: victim.offset + 9,
          phy: victim.offset + 33,
          bodylen: victim.offset + 86,
          body: bodyStart + (inBody % Math.max(1, bodyLen)),
          props: bodyStart + bodyLen + 2 + 1, // low byte of the properties length (topic is 'R')
        }[field];
        flipByte(dir.path, pos);
        await checkIntact(dir.path, all, all.filter((w) => w.offset < victim.offset));
      }),
      { numRuns: 80 },
    );
  });

  test('store recovery - consume queue entries past the commit log are cut; missing ones rebuilt', async () => {
    using dir = tempDir();
    const all = await fill(dir.path, Array.from({ length: 30 }, () => 500));
    // Drop the queue files entirely: the commit log alone must rebuild them.
    fs.rmSync(join(dir.path, 'consumequeue'), { recursive: true });
    fs.writeFileSync(join(dir.path, 'checkpoint'), Buffer.alloc(4096));
    await checkIntact(dir.path, all, all);
  });

  test('store recovery - a torn consume-queue entry is cut and rebuilt from the commit log', async () => {
    using dir = tempDir();
    const all = await fill(dir.path, Array.from({ length: 30 }, (_, i) => 100 + i));
    const qdir = join(dir.path, 'consumequeue', 'R', '0');
    const last = fs.readdirSync(qdir).sort().pop()!;
    const size = fs.statSync(join(qdir, last)).size;
    fs.truncateSync(join(qdir, last), size - 7);
    await checkIntact(dir.path, all, all);
  });
});
