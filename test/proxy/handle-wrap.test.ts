// Cluster-mode receipt handles: the broker's handle with its broker group in front.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unwrapHandle, wrapHandle } from '../../src/proxy/backend/remote-backend.js';

test('handle wrap - round trip keeps the group and the broker handle (spaces included)', () => {
  for (const [group, handle] of [
    ['broker-a', 'p1 TopicA 3 42 17 1763900060000'],
    ['b', ''],
    ['group_with-signs.1', 'x'],
  ]) {
    assert.deepEqual(unwrapHandle(wrapHandle(group, handle)), { brokerName: group, handle });
  }
});

test('handle wrap - text this proxy did not issue is refused', () => {
  for (const text of ['', 'p1 TopicA 3 42 17 1', 'b1', 'b1 ', 'b1  p1 x', 'B1 broker-a p1', 'b2 broker-a p1']) {
    assert.equal(unwrapHandle(text), undefined, JSON.stringify(text));
  }
});
