import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MessageClientIDSetter,
  createMessageId,
  createUniqID,
  decodeMessageId,
  getPropertyFromString,
  javaStringHashCode,
  messageProperties2String,
  string2messageProperties,
  tagsString2tagsCode,
  normalizeAddress,
  readLong,
  writeLong,
  writeAddress,
  isDispatchedToConsumeQueue,
  MessageSysFlag,
} from '../../src/common/index.js';

describe('message ids and small codecs', () => {
  test('tag hash - matches Java String.hashCode, UTF-16 code units included', () => {
    // Values printed by a JDK's String.hashCode.
    const table: [string, number][] = [
      ['', 0],
      ['a', 97],
      ['hello', 99162322],
      ['TagA', 2598919],
      ['中文', 646394],
      ['😀', 1772899],
      ['the quick brown fox jumps over the lazy dog', -2082818701],
      ['Ünïcödé tag', 282424271],
    ];
    for (const [s, h] of table) assert.equal(javaStringHashCode(s), h, s);
    assert.equal(tagsString2tagsCode(undefined), 0);
    assert.equal(tagsString2tagsCode('a'), 97);
  });

  test('properties - every entry ends with \\u0002 and parsing ignores empty pieces', () => {
    const s = messageProperties2String({ TAGS: 'A', KEYS: 'k1 k2', EMPTY: '' });
    assert.equal(s, 'TAGS\u0001A\u0002KEYS\u0001k1 k2\u0002EMPTY\u0001\u0002');
    assert.deepEqual(string2messageProperties(s), { TAGS: 'A', KEYS: 'k1 k2', EMPTY: '' });
    assert.deepEqual(string2messageProperties('\u0002\u0002A\u0001b\u0002junk\u0002'), { A: 'b' });
    assert.deepEqual(string2messageProperties('A\u0001b'), { A: 'b' });
    assert.equal(getPropertyFromString(s, 'KEYS'), 'k1 k2');
    assert.equal(getPropertyFromString(s, 'TAGS'), 'A');
    assert.equal(getPropertyFromString(s, 'AGS'), undefined);
    assert.equal(getPropertyFromString('XTAGS\u0001no\u0002', 'TAGS'), undefined);
  });

  test('properties - property: round trip and direct lookup agree', () => {
    const key = fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !k.includes("\u0001") && !k.includes("\u0002"));
    const val = fc.string({ maxLength: 6 }).filter((k) => !k.includes("\u0001") && !k.includes("\u0002"));
    fc.assert(
      fc.property(fc.dictionary(key, val), (d) => {
        const s = messageProperties2String(d);
        assert.deepEqual(string2messageProperties(s), { ...d });
        for (const k of Object.keys(d)) assert.equal(getPropertyFromString(s, k), d[k]);
      }),
      { numRuns: 300 },
    );
  });

  test('offset msg id - IPv4 is 32 uppercase hex and round-trips; IPv6 is 56', () => {
    const id = createMessageId({ address: '127.0.0.1', port: 10911 }, 0x1234);
    assert.equal(id, '7F00000100002A9F0000000000001234');
    assert.deepEqual(decodeMessageId(id), { address: '127.0.0.1', port: 10911, offset: 0x1234 });
    const v6 = createMessageId({ address: '2001:db8::1', port: 1 }, 2 ** 45);
    assert.equal(v6.length, 56);
    assert.deepEqual(decodeMessageId(v6), { address: '2001:db8:0:0:0:0:0:1', port: 1, offset: 2 ** 45 });
    assert.equal(createMessageId({ address: '::ffff:1.2.3.4', port: 5 }, 6).length, 32);
    assert.throws(() => decodeMessageId('XYZ'));
  });

  test('UNIQ_KEY - Java MessageClientIDSetter layout: ip, pid, loader hash, ms in month, counter', () => {
    const setter = new MessageClientIDSetter('10.0.0.5', 0x1234, 0x0badf00d);
    const now = new Date(2026, 4, 3, 12, 0, 0, 250).getTime();
    const a = setter.createUniqID(now);
    const b = setter.createUniqID(now);
    assert.match(a, /^[0-9A-F]{32}$/);
    assert.equal(a.slice(0, 20), '0A00000512340BADF00D');
    const monthStart = new Date(2026, 4, 1).getTime();
    assert.equal(parseInt(a.slice(20, 28), 16), now - monthStart);
    assert.equal(parseInt(b.slice(28), 16), parseInt(a.slice(28), 16) + 1);
    assert.notEqual(createUniqID(), createUniqID());
  });

  test('hosts and longs - normalization and int64 halves', () => {
    assert.equal(normalizeAddress('::ffff:192.168.0.1'), '192.168.0.1');
    assert.equal(normalizeAddress('::1'), '127.0.0.1');
    assert.equal(normalizeAddress('fe80::1'), 'fe80::1');
    const b = Buffer.alloc(8);
    for (const v of [0, 1, -1, 2 ** 32, -(2 ** 32) - 5, Number.MAX_SAFE_INTEGER, -1986311487]) {
      writeLong(b, v, 0);
      assert.equal(b.readBigInt64BE(0), BigInt(v));
      assert.equal(readLong(b, 0), v);
    }
  });

  test('sysflag - PREPARED and ROLLBACK are not dispatched', () => {
    assert.equal(isDispatchedToConsumeQueue(0), true);
    assert.equal(isDispatchedToConsumeQueue(MessageSysFlag.TRANSACTION_COMMIT_TYPE), true);
    assert.equal(isDispatchedToConsumeQueue(MessageSysFlag.TRANSACTION_PREPARED_TYPE | 1), false);
    assert.equal(isDispatchedToConsumeQueue(MessageSysFlag.TRANSACTION_ROLLBACK_TYPE), false);
  });
});

// Issue 17: the offsetMsgId is built in place from a reused character list; it must equal the
// string expression it replaced for every offset and store host, the host changing between calls.
void describe('message ids - issue 17: offsetMsgId built in place', () => {
  function previous(host: { address: string; port: number }, offset: number): string {
    const buf = Buffer.allocUnsafe(20);
    const n = writeAddress(buf, host.address, 0);
    buf.writeInt32BE(host.port, n);
    return buf.toString('hex', 0, n + 4).toUpperCase() + offset.toString(16).toUpperCase().padStart(16, '0');
  }
  const host = fc.oneof(
    fc.constantFrom({ address: '127.0.0.1', port: 10911 }, { address: '10.0.0.255', port: 0 }, { address: '2001:db8::1', port: 65535 }),
    fc.record({ address: fc.ipV4(), port: fc.integer({ min: 0, max: 65535 }) }),
  );
  const offset = fc.oneof(fc.constantFrom(0, 1, 15, 16, 2 ** 32 - 1, 2 ** 32, 2 ** 52, Number.MAX_SAFE_INTEGER), fc.maxSafeNat(), fc.nat());

  test('message ids - property: equals the previous expression, hosts interleaved', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(host, offset), { minLength: 1, maxLength: 8 }), (calls) => {
        for (const [h, o] of calls) assert.equal(createMessageId(h, o), previous(h, o));
      }),
      { numRuns: 2000 },
    );
  });
});
