// RemoteBackend over a topic on two broker groups when one of them goes away (closed, so it has
// also left the name server's route, but the proxy's cached route still names it): pops and plain
// sends move to the group that is left, a message group fails while the cached route names its group
// (order first), and an ack for the missing group fails rather than going elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/common/logger.js';
import { javaStringHashCode } from '../../src/common/tag-hash.js';
import { createUniqID } from '../../src/common/msg-id.js';
import { loadConfig } from '../../src/config/index.js';
import { startBroker, type BrokerController } from '../../src/broker/index.js';
import { MQClientAPIImpl } from '../../src/client/index.js';
import { RemotingClient } from '../../src/remoting/index.js';
import type { BackendSendRequest } from '../../src/proxy/backend/proxy-backend.js';
import type { RemoteBackend } from '../../src/proxy/backend/remote-backend.js';
import { createRemoteBackend } from '../../src/proxy/cluster-proxy.js';
import { checkFor } from '../helpers/check-for.js';
import { startStandalone } from '../helpers/standalone.js';
import { createTopicRaw, propsString } from '../broker/fixtures/wire.js';

const TOPIC = 'RbGroups';
const POP = { topic: TOPIC, invisibleTimeMs: 60_000, autoRenew: false, clientId: 'c', filter: { expressionType: 'TAG', expression: '*' }, fifo: false, pollTimeMs: 0, maxDeliveryAttempts: 17 };

function msg(body: string, messageGroup?: string): BackendSendRequest {
  const props: Record<string, string> = { UNIQ_KEY: createUniqID() };
  if (messageGroup) props.__SHARDINGKEY = messageGroup;
  return { topic: TOPIC, body: Buffer.from(body), properties: propsString(props), sysFlag: 0, bornTimestamp: Date.now(), bornHost: { address: '127.0.0.1', port: 40000 }, messageGroup };
}

/** broker-a (with the name server) and broker-b serving TOPIC with 2 queues each, and a backend with a long route cache. */
async function withTwoGroups(body: (x: { a: BrokerController; backend: RemoteBackend; closeB: () => Promise<void> }) => Promise<void>): Promise<void> {
  await using a = await startStandalone({ brokerName: 'broker-a' });
  const dirB = mkdtempSync(join(tmpdir(), 'apogee-b-'));
  const b = await startBroker(
    loadConfig('broker', { flags: { brokerName: 'broker-b', brokerIP1: '127.0.0.1', host: '127.0.0.1', listenPort: 0, namesrvAddr: a.namesrvAddr, storePathRootDir: dirB } }),
    { logger: silentLogger },
  );
  const rc = new RemotingClient();
  const ns = new MQClientAPIImpl({ namesrvAddr: a.namesrvAddr, logger: silentLogger });
  let backend: RemoteBackend | undefined;
  let bClosed = false;
  try {
    for (const addr of [a.brokerAddr, b.addresses.broker]) await createTopicRaw(rc, addr, a.namesrvAddr, TOPIC, 2);
    await checkFor(10_000, 50, async () => (await ns.getTopicRouteInfoFromNameServer(TOPIC))?.queueDatas.length === 2, 'both groups in the route');
    // A long route cache: the group that leaves stays in the proxy's route until a send to it fails.
    backend = await createRemoteBackend({ namesrvAddr: a.namesrvAddr, topicCacheMs: 60_000 });
    assert.deepEqual((await backend.brokersOf(TOPIC)).map((x) => x.name), ['broker-a', 'broker-b']);
    await body({
      a: a.controller,
      backend,
      closeB: async () => {
        await b.close();
        bClosed = true;
      },
    });
  } finally {
    await backend?.close();
    await ns.close();
    await rc.close();
    if (!bClosed) await b.close();
    rmSync(dirB, { recursive: true, force: true });
  }
}

const storedOnA = (a: BrokerController): number => a.store.getMaxOffsetInQueue(TOPIC, 0) + a.store.getMaxOffsetInQueue(TOPIC, 1);

test('remote backend groups - plain sends move to the group that is left, none fails; an ack for the missing group fails', async () => {
  await withTwoGroups(async ({ a, backend, closeB }) => {
    // Slots in turn: a0 a1 b0 b1. Ten sends leave the next one on b0.
    const before = [];
    for (let i = 0; i < 10; i++) before.push((await backend.sendMessage(msg(`before-${i}`))).brokerName);
    assert.deepEqual(before.slice(0, 4), ['broker-a', 'broker-a', 'broker-b', 'broker-b'], 'round robin over both groups');
    const [fromB] = await backend.pop({ ...POP, group: 'rb-h', maxNums: 1, brokerName: 'broker-b' });
    assert.match(fromB.receiptHandle, /^b1 broker-b /);
    await closeB();
    const after = [];
    for (let i = 0; i < 8; i++) after.push((await backend.sendMessage(msg(`after-${i}`))).brokerName);
    assert.deepEqual(after, Array(8).fill('broker-a'), 'the first send, due on broker-b, moved to broker-a; none failed');
    assert.equal(storedOnA(a), 6 + 8);
    assert.equal(await backend.ack('rb-h', TOPIC, fromB.receiptHandle).catch(() => 'FAILED'), 'FAILED', 'an ack for the missing group is not sent elsewhere');
  });
});

test('remote backend groups - a message group fails rather than move while the route names its group', async () => {
  await withTwoGroups(async ({ a, backend, closeB }) => {
    // A message group whose slot is on broker-b (slots: a0 a1 b0 b1).
    const groupOnB = Array.from({ length: 100 }, (_, i) => `order-${i}`).find((g) => Math.abs(javaStringHashCode(g)) % 4 >= 2)!;
    assert.equal((await backend.sendMessage(msg('fifo-1', groupOnB))).brokerName, 'broker-b');
    await closeB();
    await assert.rejects(backend.sendMessage(msg('fifo-2', groupOnB)), /connect|closed|ECONNREFUSED/);
    // The failure dropped the cached route; broker-b unregistered when it closed, so the group now
    // hashes over broker-a's queues (as RocketMQ rehashes when a route changes).
    assert.equal((await backend.sendMessage(msg('fifo-3', groupOnB))).brokerName, 'broker-a');
    assert.equal(storedOnA(a), 1);
  });
});

test('remote backend groups - a pop whose assignment names the missing group is made on the group that is left', async () => {
  await withTwoGroups(async ({ backend, closeB }) => {
    for (let i = 0; i < 4; i++) await backend.sendMessage(msg(`m-${i}`));
    await closeB();
    const moved = await backend.pop({ ...POP, group: 'rb-x', maxNums: 32, brokerName: 'broker-b' });
    assert.equal(moved.length, 2, 'broker-a\'s two messages');
    for (const p of moved) assert.match(p.receiptHandle, /^b1 broker-a /);
  });
});
