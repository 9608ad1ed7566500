// The client's UNIQ_KEY generator (issue 17) against the common MessageClientIDSetter it stands in for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MessageClientIDSetter } from '../../src/common/msg-id.js';
import { ClientUniqIdGenerator } from '../../src/client/uniq-id.js';

test('uniq id - property: the same ids as MessageClientIDSetter for any host, pid, hash and clock sequence', () => {
  const month = Date.UTC(2026, 11, 1);
  const now = fc.oneof(
    fc.integer({ min: 0, max: 2 ** 42 }),
    fc.integer({ min: month - 5000, max: month + 5000 }),
    fc.constantFrom(0, month, month - 1, Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1) - 1),
  );
  fc.assert(
    fc.property(
      fc.oneof(fc.ipV4(), fc.constantFrom('127.0.0.1', '::1', 'fe80::1')),
      fc.integer({ min: 0, max: 0x7fffffff }),
      fc.integer({ min: 0, max: 0x7fffffff }),
      fc.array(now, { minLength: 1, maxLength: 40 }),
      (ip, pid, hash, clock) => {
        const want = new MessageClientIDSetter(ip, pid, hash);
        const got = new ClientUniqIdGenerator(ip, pid, hash);
        for (const t of clock) assert.equal(got.create(t), want.createUniqID(t), `${ip} ${pid} ${hash} at ${t}`);
      },
    ),
    { numRuns: 500 },
  );
});

test('uniq id - the counter wraps at 65536 as the common generator does', () => {
  const want = new MessageClientIDSetter('10.0.0.5', 0x1234, 0x0badf00d);
  const got = new ClientUniqIdGenerator('10.0.0.5', 0x1234, 0x0badf00d);
  const t = Date.UTC(2026, 11, 3, 12);
  for (let i = 0; i < 70_000; i++) {
    const a = got.create(t + (i >> 8));
    const b = want.createUniqID(t + (i >> 8));
    if (a !== b) assert.equal(a, b, `id ${i}`);
  }
  assert.match(got.create(t), /^[0-9A-F]{32}$/);
});
