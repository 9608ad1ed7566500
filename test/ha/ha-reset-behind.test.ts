// Issue 12: a slave whose log ends before the master's oldest segment (a new, empty member, or one
// that was away while the master's retention deleted what it lacked) starts its log at the
// master's oldest segment instead of being refused. Real `apogee broker` processes with 64 KiB
// segments and a master that deletes every segment but its newest at once; the real ali-ons
// client sends, and, with the master killed, reads everything still held back from the slaves.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { startNamesrv } from '../../src/namesrv/index.js';
import { createRequest, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { BrokerGroup, type Member } from '../helpers/broker-group.js';
import { checkFor } from '../helpers/check-for.js';
import type { Standalone } from '../helpers/standalone.js';
import { tempDir } from '../helpers/temp-dir.js';
import { ons, OnsHarness, sendAll, type OnsMessage, type OnsSendResult } from '../compat/helpers/ali-ons.js';

const TOPIC = 'HaResetTopic';
const QUEUES = 4;
const SEG = 65536;
const BODY = 'x'.repeat(900);
const ALL_HOURS = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0')).join(';');

async function queueOffset(group: BrokerGroup, addr: string, code: number, queueId: number): Promise<number> {
  const r = await group.rc.invoke(addr, createRequest(code, { topic: TOPIC, queueId }), 5000);
  if (r.code !== ResponseCode.SUCCESS) throw new Error(`offset request ${code} on ${addr}: ${r.code} ${r.remark ?? ''}`);
  return Number(r.extFields.offset);
}

async function queueRanges(group: BrokerGroup, m: Member): Promise<{ min: number; max: number }[]> {
  const out: { min: number; max: number }[] = [];
  for (let q = 0; q < QUEUES; q++) out.push({ min: await queueOffset(group, m.addr, RequestCode.GET_MIN_OFFSET, q), max: await queueOffset(group, m.addr, RequestCode.GET_MAX_OFFSET, q) });
  return out;
}

function segments(m: Member): string[] {
  return readdirSync(join(m.dataDir, 'commitlog')).filter((n) => /^\d{20}$/.test(n)).sort();
}

void test('ha reset - issue 12: an empty slave and one left behind by retention restart their logs at the master\'s oldest segment, replicate byte for byte, and serve ali-ons consumers from there', async () => {
  using dir = tempDir('apogee-ha-reset-');
  const ns = await startNamesrv(loadConfig('namesrv', { flags: { listenPort: 0, host: '127.0.0.1' } }));
  const group = new BrokerGroup(
    ns.addresses.namesrv,
    dir.path,
    [
      // Retention on the master only: it keeps just its newest segment, checked every 10 s.
      { brokerId: 0, brokerRole: 'ASYNC_MASTER', extra: ['--fileReservedTime=0', `--deleteWhen=${ALL_HOURS}`] },
      { brokerId: 1, brokerRole: 'SLAVE' },
      { brokerId: 2, brokerRole: 'SLAVE' },
    ],
    'ha-reset',
    [`--mappedFileSizeCommitLog=${SEG}`, '--haMaxTimeSlaveNotCatchup=3000', '--haSlaveSyncMetadataIntervalMs=300'],
  );
  try {
    const master = group.member(0);
    const slave1 = group.member(1);
    const slave2 = group.member(2);
    await master.start();
    await slave2.start();
    await group.createTopic(master, TOPIC, QUEUES);
    await group.waitInSync(master, [2]);

    await using h = new OnsHarness({ namesrvAddr: ns.addresses.namesrv } as Standalone);
    const producer = await h.producer('GID_ha_reset_p');
    const sent: OnsSendResult[] = [];
    const send = async (from: number, n: number): Promise<void> => {
      const r = await sendAll(producer, n, (i) => new ons.Message(TOPIC, 'T', `m-${from + i}-${BODY}`), 16);
      assert.ok(r.every((x) => x.sendStatus === 'SEND_OK'));
      sent.push(...r);
    };
    await send(0, 30);
    const before = await group.waitInSync(master, [2]);
    const slave2End = before.haConnectionInfo.find((c) => c.brokerId === 2)!.slaveAckOffset;
    assert.equal(segments(slave2)[0], '00000000000000000000', 'slave 2 holds the master\'s first segment');

    // Slave 2 goes away; the master writes ~9 more segments and its retention deletes the stretch
    // slave 2 would need next.
    await slave2.kill();
    await send(30, 570);
    await checkFor(30_000, 200, () => Number(segments(master)[0]) > slave2End, 'the master deleted the segments after slave 2\'s end');
    const masterRanges = await queueRanges(group, master);
    assert.ok(masterRanges.every((r) => r.min > 0), `the master's queues lost their first entries: ${JSON.stringify(masterRanges)}`);

    // A new empty member and the one left behind: both start at the master's oldest segment.
    await slave1.start();
    await slave2.start();
    const st = await group.waitInSync(master, [1, 2], 30_000);
    for (const s of [slave1, slave2]) {
      const segs = segments(s);
      const first = Number(segs[0]);
      assert.ok(first > slave2End && first % SEG === 0, `slave ${s.spec.brokerId} starts at a master segment past slave 2's old end: ${segs[0]}`);
      // Byte for byte: every segment both hold (the slave's closed segments are padded with zeros to their end).
      const shared = segments(master).filter((n) => segs.includes(n));
      assert.ok(shared.length >= 1, 'the slave holds the master\'s newest segment');
      for (const name of shared) {
        const mb = readFileSync(join(master.dataDir, 'commitlog', name));
        const sb = readFileSync(join(s.dataDir, 'commitlog', name));
        assert.ok(sb.subarray(0, mb.length).equals(mb), `segment ${name} on slave ${s.spec.brokerId} equals the master's`);
        assert.ok(sb.subarray(mb.length).every((b) => b === 0));
      }
    }

    // The slaves' queues start where the records they hold do: min > 0, max as the master's.
    // (The offset requests answer once the slave copied the topic from the master.)
    let ranges1: { min: number; max: number }[] = [];
    let ranges2: { min: number; max: number }[] = [];
    await checkFor(10_000, 200, async () => {
      ranges1 = await queueRanges(group, slave1);
      ranges2 = await queueRanges(group, slave2);
      return [...ranges1, ...ranges2].every((r) => r.max > 0);
    }, 'the slaves answer for the topic');
    for (let q = 0; q < QUEUES; q++) {
      for (const r of [ranges1, ranges2]) {
        assert.ok(r[q].min > 0 && r[q].min <= masterRanges[q].min + 1000, `queue ${q} on a slave starts after 0: ${JSON.stringify(r)}`);
        assert.equal(r[q].max, masterRanges[q].max, `queue ${q} ends as the master's`);
      }
      assert.deepEqual(ranges1[q], ranges2[q]);
    }

    // A restart keeps the new start (the checkpoint and the segments name it), and the slave stays in sync.
    await slave1.kill();
    await slave1.start();
    await group.waitInSync(master, [1, 2], 30_000);
    assert.deepEqual(await queueRanges(group, slave1), ranges1);
    assert.equal(st.masterCommitLogMaxOffset, (await group.haStatus(master.addr)).masterCommitLogMaxOffset);

    // The master is gone: a new consumer group reads from the slaves exactly what they hold.
    await master.kill();
    const want = new Set(sent.filter((r) => r.queueOffset >= ranges1[r.messageQueue.queueId].min).map((r) => sent.indexOf(r)));
    assert.ok(want.size > 0 && want.size < sent.length, `some messages were deleted, some are held (${want.size} of ${sent.length})`);
    const seen = new Map<number, number>();
    await h.consumer({ consumerGroup: 'GID_ha_reset_reader' }, TOPIC, '*', async (m: OnsMessage) => {
      const i = Number(/^m-(\d+)-/.exec(m.body.toString())![1]);
      seen.set(i, (seen.get(i) ?? 0) + 1);
    });
    await checkFor(30_000, 200, () => seen.size >= want.size, `all ${want.size} held messages read from a slave (have ${seen.size})`);
    assert.deepEqual([...seen.keys()].sort((a, b) => a - b), [...want].sort((a, b) => a - b));
  } finally {
    await group.close();
    await ns.close();
  }
});
