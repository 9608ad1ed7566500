// The replication connection's frames: round trips, any chunking, and refusals of bad lengths.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  decodePayload,
  encodeConfirm,
  encodeDataHead,
  encodeHello,
  encodeRefuse,
  encodeReport,
  encodeReset,
  encodeTruncate,
  HaFrameError,
  HaFrameReader,
  HaFrameType,
  HA_MAX_DATA_BYTES,
  type HaFrame,
} from '../../src/broker/ha/ha-frames.js';

const data = Buffer.from('raw commit log bytes');
const CASES: { name: string; bytes: Buffer; frame: HaFrame }[] = [
  {
    name: 'hello',
    bytes: encodeHello({ brokerId: 2, maxOffset: 123456789012, epoch: 3, epochStart: 4096, brokerName: 'broker-a' }),
    frame: { type: HaFrameType.HELLO, brokerId: 2, maxOffset: 123456789012, epoch: 3, epochStart: 4096, brokerName: 'broker-a' },
  },
  { name: 'report', bytes: encodeReport(2 ** 40), frame: { type: HaFrameType.REPORT, maxOffset: 2 ** 40 } },
  { name: 'truncate', bytes: encodeTruncate(77), frame: { type: HaFrameType.TRUNCATE, offset: 77 } },
  {
    name: 'data',
    bytes: Buffer.concat([encodeDataHead(1000, 1, 0, data.length), data]),
    frame: { type: HaFrameType.DATA, offset: 1000, epoch: 1, epochStart: 0, data },
  },
  { name: 'refuse', bytes: encodeRefuse('not your group'), frame: { type: HaFrameType.REFUSE, reason: 'not your group' } },
  {
    name: 'reset (issue 12)',
    bytes: encodeReset(3 * 65536, [{ epoch: 1, start: 0 }, { epoch: 4, start: 2 ** 33 }]),
    frame: { type: HaFrameType.RESET, offset: 3 * 65536, epochs: [{ epoch: 1, start: 0 }, { epoch: 4, start: 2 ** 33 }] },
  },
  { name: 'confirm (issue 12)', bytes: encodeConfirm(2 ** 35 + 7), frame: { type: HaFrameType.CONFIRM, offset: 2 ** 35 + 7 } },
  { name: 'confirm of a master that keeps none', bytes: encodeConfirm(-1), frame: { type: HaFrameType.CONFIRM, offset: -1 } },
  { name: 'reset without epochs', bytes: encodeReset(65536, []), frame: { type: HaFrameType.RESET, offset: 65536, epochs: [] } },
];

for (const c of CASES) {
  void test(`ha frames - ${c.name} round-trips whole and split at every offset`, () => {
    assert.deepEqual(new HaFrameReader().push(c.bytes), [c.frame]);
    for (let cut = 1; cut < c.bytes.length; cut++) {
      const r = new HaFrameReader();
      const got = [...r.push(c.bytes.subarray(0, cut)), ...r.push(c.bytes.subarray(cut))];
      assert.deepEqual(got, [c.frame], `split at ${cut}`);
    }
  });
}

/** A frame assembled from several reads is valid until the next push: the caller copies what it keeps. */
function owned(frames: HaFrame[]): HaFrame[] {
  return frames.map((f) => (f.type === HaFrameType.DATA ? { ...f, data: Buffer.from(f.data) } : f));
}

void test('ha frames - many frames fed one byte at a time come out in order', () => {
  const all = Buffer.concat(CASES.map((c) => c.bytes));
  const r = new HaFrameReader();
  const got: HaFrame[] = [];
  for (const b of all) got.push(...owned(r.push(Buffer.from([b]))));
  assert.deepEqual(got, CASES.map((c) => c.frame));
});

void test('ha frames - data frames of every size split at random points come out whole and in order (one scratch buffer, reused)', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 10 }), (bodies, cuts) => {
      const frames = bodies.map((b, i) => ({ type: HaFrameType.DATA, offset: i * 1000, epoch: 1, epochStart: 0, data: Buffer.from(b) }) as HaFrame);
      const all = Buffer.concat(frames.map((f) => (f.type === HaFrameType.DATA ? Buffer.concat([encodeDataHead(f.offset, 1, 0, f.data.length), f.data]) : Buffer.alloc(0))));
      const r = new HaFrameReader();
      const got: HaFrame[] = [];
      for (let pos = 0, k = 0; pos < all.length; k++) {
        const n = cuts[k % cuts.length];
        got.push(...owned(r.push(all.subarray(pos, pos + n))));
        pos += n;
      }
      assert.deepEqual(got, frames);
    }),
    { numRuns: 300 },
  );
});

const BAD: { name: string; bytes: Buffer; error: RegExp }[] = [
  { name: 'length past the limit', bytes: Buffer.from([HaFrameType.DATA, 0xff, 0xff, 0xff, 0xff]), error: /exceeds/ },
  { name: 'unknown type', bytes: Buffer.from([9, 0, 0, 0, 0]), error: /unknown HA frame type 9/ },
  { name: 'short report', bytes: Buffer.from([HaFrameType.REPORT, 0, 0, 0, 4, 1, 2, 3, 4]), error: /report frame of 4 bytes, needs 8/ },
  { name: 'negative offset', bytes: Buffer.from([HaFrameType.REPORT, 0, 0, 0, 8, 0xff, 0, 0, 0, 0, 0, 0, 0]), error: /out of range/ },
  { name: 'short data', bytes: Buffer.from([HaFrameType.DATA, 0, 0, 0, 3, 1, 2, 3]), error: /data frame of 3 bytes, needs 20/ },
  // A reset frame claiming more epochs than it carries (issue 12).
  { name: 'reset with a wrong epoch count', bytes: Buffer.concat([Buffer.from([HaFrameType.RESET, 0, 0, 0, 24]), Buffer.alloc(8), Buffer.from([0, 0, 0, 2]), Buffer.alloc(12)]), error: /reset frame of 24 bytes does not hold 2 epochs/ },
  { name: 'confirm below -1', bytes: Buffer.from([HaFrameType.CONFIRM, 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]), error: /confirmed offset -2 is out of range/ },
  { name: 'short confirm', bytes: Buffer.from([HaFrameType.CONFIRM, 0, 0, 0, 2, 0, 0]), error: /confirm frame of 2 bytes, needs 8/ },
  { name: 'short reset', bytes: Buffer.from([HaFrameType.RESET, 0, 0, 0, 4, 0, 0, 0, 0]), error: /reset frame of 4 bytes, needs 12/ },
];
for (const b of BAD) {
  void test(`ha frames - refuses ${b.name}`, () => {
    assert.throws(() => new HaFrameReader().push(b.bytes), (e: unknown) => e instanceof HaFrameError && b.error.test(e.message));
  });
}

void test('ha frames - a data frame over the limit is refused when encoded', () => {
  assert.throws(() => encodeDataHead(0, 0, 0, HA_MAX_DATA_BYTES + 1), /at most/);
});

void test('ha frames - random bytes never throw anything but HaFrameError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      try {
        new HaFrameReader().push(Buffer.from(bytes));
      } catch (e) {
        assert.ok(e instanceof HaFrameError, String(e));
      }
    }),
    { numRuns: 2000 },
  );
  for (const t of Object.values(HaFrameType)) {
    assert.throws(() => decodePayload(t === HaFrameType.REFUSE ? 99 : t, Buffer.alloc(2)), HaFrameError);
  }
});
