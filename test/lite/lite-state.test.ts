// The lite table and its journal (issue 18) without a broker: what a crash leaves on disk is read
// back whole (snapshot + change log, across a compaction), a log older than its snapshot and a torn
// last line are recognised, recovery's re-indexing counts nothing twice, and the recent ring hands
// out a lite topic's messages in order until it no longer holds them. Plus the delivery encoder's
// lite fields against the generic converter.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LiteTable, liteKey } from '../../src/broker/lite/index.js';
import { LiteJournal } from '../../src/broker/lite/lite-journal.js';
import { encodeDelivery } from '../../src/proxy/delivery-encoder.js';
import { convertForDelivery } from '../../src/proxy/message-converter.js';
import { receiveMessageResponseType } from '../../src/proxy/proto.js';

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apogee-lite-state-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

async function open(dir: string): Promise<{ table: LiteTable; journal: LiteJournal; loaded: Awaited<ReturnType<LiteJournal['load']>> }> {
  const table = new LiteTable();
  const journal = new LiteJournal(dir, table);
  const loaded = await journal.load();
  await journal.open();
  return { table, journal, loaded };
}

const state = (t: LiteTable): string[] => [...t.lines()].sort();

describe('lite state', () => {
  test(
    'lite topics - the change log and snapshot restore every lite topic, deletion, progress and mark after a crash, across a compaction',
    withDir(async (dir) => {
      const a = await open(dir);
      let q = 0;
      for (const n of ['s1', 's2', 's3', 'gone']) a.table.recordStored('P', n, 1, q++, 1000 + q, 4096 * q);
      a.table.recordStored('Q', 'other', 0, 0, 1500, 0);
      a.table.setProgress('g1', liteKey('P', 's1'), { nextQ: 1, nextIdx: 1 });
      await a.journal.flush();
      await a.journal.compact();
      assert.equal(a.journal.sizes().generation, 1);
      a.table.recordStored('P', 's2', 1, q++, 2000, 4096 * q);
      a.table.remove(a.table.get('P', 'gone')!);
      a.table.recordStored('P', 'gone', 1, q++, 2100, 4096 * q);
      a.table.remove(a.table.get('P', 's3')!);
      a.table.setProgress('g1', liteKey('P', 's2'), { nextQ: 2, nextIdx: 1 });
      await a.journal.flush();
      // No close: the process dies here.
      const b = await open(dir);
      assert.deepEqual(b.loaded, { lines: b.loaded.lines, bad: 0, staleLog: false });
      assert.deepEqual(state(b.table), state(a.table));
      assert.equal(b.table.get('P', 's3'), undefined);
      assert.equal(b.table.get('P', 'gone')?.count, 1, 'deleted and created again: one message');
      assert.equal(b.table.get('P', 's2')?.count, 2);
      assert.deepEqual([...b.table.idleSince('P', Number.MAX_SAFE_INTEGER)].map((t) => t.name), ['s1', 's2', 'gone'], 'store-time order survives');
      await b.journal.close();
      await a.journal.close();
    }),
  );

  test(
    'lite topics - a log older than its snapshot is ignored and a torn last line is skipped',
    withDir(async (dir) => {
      const a = await open(dir);
      a.table.recordStored('P', 'keep', 0, 0, 1000, 0);
      await a.journal.flush();
      await a.journal.compact();
      await a.journal.close();
      // As if the process died after renaming the new snapshot and before restarting the log.
      writeFileSync(a.journal.logPath, '# gen 0\nD\tP\tkeep\n');
      const b = await open(dir);
      assert.equal(b.loaded.staleLog, true);
      assert.equal(b.table.get('P', 'keep')?.count, 1);
      b.table.recordStored('P', 'keep', 0, 1, 1001, 100);
      await b.journal.flush();
      await b.journal.close();
      appendFileSync(b.journal.logPath, 'T\tP\ttorn\t0\t1');
      const c = await open(dir);
      assert.equal(c.loaded.bad, 1);
      assert.equal(c.table.get('P', 'keep')?.count, 2);
      assert.equal(c.table.get('P', 'torn'), undefined);
      await c.journal.close();
    }),
  );

  test('lite topics - recovery re-indexing from an older mark counts no message twice', () => {
    const t = new LiteTable();
    for (let q = 0; q < 5; q++) t.recordStored('P', 'x', 2, q * 3, 100 + q, q * 1000);
    for (let q = 0; q < 5; q++) assert.equal(t.recordStored('P', 'x', 2, q * 3, 100 + q, q * 1000), false);
    assert.equal(t.get('P', 'x')?.count, 5);
    assert.equal(t.indexed.get('P\u00012'), 13);
  });

  test('lite topics - the changes name each stored lite topic once, skip a deleted one and give its reused slot to the new one', () => {
    const t = new LiteTable();
    for (let i = 0; i < 3; i++) t.recordStored('P', 'a', 1, i, 100 + i);
    t.recordStored('P', 'b', 1, 3, 110);
    t.remove(t.get('P', 'a')!);
    // c takes a's freed slot within the same interval: one T line for c, a only deleted.
    t.recordStored('P', 'c', 1, 4, 120);
    t.recordStored('P', 'c', 1, 5, 121);
    const lines = t.takeChanges();
    assert.deepEqual(lines.filter((l) => !l.startsWith('I')), ['D\tP\ta', 'T\tP\tb\t1\t1\t3\t3\t110', 'T\tP\tc\t1\t2\t4\t5\t121']);
    assert.equal(t.dirty, false);
    assert.deepEqual(t.takeChanges(), []);
    t.recordStored('P', 'b', 1, 6, 130);
    assert.deepEqual(t.takeChanges().filter((l) => l.startsWith('T')), ['T\tP\tb\t1\t2\t3\t6\t130']);
  });

  test('lite topics - an append without topics keeps the stores and marks for later, unless a deletion would outrun the marks', () => {
    const t = new LiteTable();
    t.recordStored('P', 'a', 1, 0, 100);
    t.recordStored('P', 'b', 1, 1, 101);
    t.setProgress('g', liteKey('P', 'a'), { nextQ: 1, nextIdx: 1 });
    assert.deepEqual(t.takeChanges(false), ['O\tg\tP\ta\t1\t1']);
    t.recordStored('P', 'a', 1, 2, 102);
    assert.deepEqual(t.takeChanges(false), []);
    // A deletion takes the pending stores and marks with it.
    t.remove(t.get('P', 'b')!);
    assert.deepEqual(t.takeChanges(false), ['D\tP\tb', 'T\tP\ta\t1\t2\t0\t2\t102', 'I\tP\t1\t3']);
    t.recordStored('P', 'a', 1, 3, 103);
    assert.deepEqual(t.takeChanges(true), ['T\tP\ta\t1\t3\t0\t3\t103', 'I\tP\t1\t4']);
    assert.equal(t.dirty, false);
  });

  test('lite topics - the recent ring gives a lite topic its messages in order from an offset, and declines once it no longer holds them', () => {
    const t = new LiteTable();
    for (let i = 0; i < 40; i++) t.recordStored('P', i % 2 ? 'odd' : 'even', 0, i, 100 + i, i * 1000);
    const even = t.get('P', 'even')!;
    assert.deepEqual(t.recent(even, 10, 3), { q: [10, 12, 14], phy: [10_000, 12_000, 14_000] });
    assert.deepEqual(t.recent(even, 40, 3), { q: [], phy: [] }, 'nothing past its newest');
    // 2^19 newer stores of another lite topic overwrite every ring entry of "even".
    for (let i = 40; i < 40 + (1 << 19); i++) t.recordStored('P', 'busy', 0, i, 200, i * 1000);
    assert.equal(t.recent(t.get('P', 'even')!, 10, 3), undefined, 'the caller scans the queue instead');
    const last = 40 + (1 << 19) - 1;
    assert.deepEqual(t.recent(t.get('P', 'busy')!, last - 2, 2)?.q, [last - 2, last - 1]);
    assert.equal(t.recent(t.get('P', 'busy')!, 41, 2), undefined, 'a backlog deeper than the walk limit is scanned too');
  });

  test('lite topics - the delivery encoder writes lite_topic and message type LITE exactly as the generic converter', () => {
    const type = receiveMessageResponseType();
    const opts = { longs: Number, enums: Number, defaults: false, oneofs: true, bytes: Buffer } as const;
    const now = 1_763_900_000_000;
    const record = {
      topic: 'Chats',
      queueId: 3,
      flag: 0,
      body: Buffer.from('hello'),
      properties: 'UNIQ_KEY\u0001ID1\u0002TAGS\u0001mine\u0002a\u00011\u0002',
      sysFlag: 0,
      bornTimestamp: now - 10,
      bornHost: { address: '10.0.0.1', port: 1 },
      storeTimestamp: now - 5,
      storeHost: { address: '10.0.0.2', port: 10911 },
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
      queueOffset: 7,
      commitLogOffset: 1234,
      totalSize: 0,
      magicCode: 0,
      bodyCrc: 0,
    };
    const extra = { topic: 'Chats', receiptHandle: 'l1 session-1 7 9', deliveryAttempt: 1, invisibleUntil: now + 1000, queueId: 3, queueOffset: 7, liteTopic: 'session-1' };
    const fast = encodeDelivery(record, extra, now);
    assert.ok(fast);
    const a = type.toObject(type.decode(fast), opts) as { message: { systemProperties: Record<string, unknown> } };
    assert.equal(a.message.systemProperties.liteTopic, 'session-1');
    assert.equal(a.message.systemProperties.messageType, 5);
    assert.deepEqual(a, type.toObject(type.decode(type.encode({ message: convertForDelivery(record, extra, now) }).finish()), opts));
  });
});
