// Issue 17 (many topics): a topic change reaches the name servers as an incremental registration
// carrying only the changed topics, so creating n topics sends O(n) bytes, not O(n²); the periodic
// full registration (compressed) still brings a name server that missed increments up to date.
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { silentLogger } from '../../src/common/logger.js';
import { loadConfig } from '../../src/config/index.js';
import { startNamesrv } from '../../src/namesrv/index.js';
import { startBroker } from '../../src/broker/index.js';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { checkFor } from '../helpers/check-for.js';
import { startTcpProxy } from '../helpers/etcd.js';

/** A TCP relay that counts the bytes the broker sends to the name server. */
async function countingRelay(target: string): Promise<{ addr: string; bytesUp: () => number; close(): Promise<void> }> {
  const port = Number(target.slice(target.lastIndexOf(':') + 1));
  let up = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (d: Buffer) => (up += d.length));
    client.pipe(upstream).pipe(client);
    const end = () => (client.destroy(), upstream.destroy());
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    addr: `127.0.0.1:${(server.address() as { port: number }).port}`,
    bytesUp: () => up,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

async function setup(namesrvFor: (namesrv: string) => Promise<string>, period: number) {
  const dir = mkdtempSync(join(tmpdir(), 'apogee-reg-'));
  const ns = await startNamesrv(loadConfig('namesrv', { flags: { listenPort: 0, host: '127.0.0.1' } }), { logger: silentLogger });
  const viaAddr = await namesrvFor(ns.addresses.namesrv);
  const broker = await startBroker(
    loadConfig('broker', {
      flags: { brokerIP1: '127.0.0.1', host: '127.0.0.1', listenPort: 0, namesrvAddr: viaAddr, storePathRootDir: dir, registerNameServerPeriod: period },
    }),
    { logger: silentLogger },
  );
  const client = new RemotingClient();
  const createTopic = async (topic: string) => {
    const r = await client.invoke(
      broker.addresses.broker,
      createRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { topic, defaultTopic: 'TBW102', readQueueNums: 8, writeQueueNums: 8, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false }),
    );
    assert.equal(r.code, ResponseCode.SUCCESS, r.remark);
  };
  const routed = async (topic: string) => (await client.invoke(ns.addresses.namesrv, createRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }))).code === ResponseCode.SUCCESS;
  const close = async () => {
    await client.close();
    await broker.close();
    await ns.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { client, ns, createTopic, routed, close };
}

void describe('topic registration', () => {
  void test('topic registration - creating 1,000 topics sends the name server O(n) bytes, and every topic is routed (issue 17)', async (t) => {
    let relay: Awaited<ReturnType<typeof countingRelay>> | undefined;
    const f = await setup(async (ns) => (relay = await countingRelay(ns)).addr, 60_000);
    t.after(async () => {
      await f.close();
      await relay?.close();
    });
    await checkFor(5000, 20, () => f.routed('TBW102'), 'first registration');
    const n = 1000;
    const sentWhile = async (from: number, to: number) => {
      const before = relay!.bytesUp();
      for (let i = from; i < to; i++) await f.createTopic(`Reg_${i}`);
      await checkFor(5000, 20, () => f.routed(`Reg_${to - 1}`), `Reg_${to - 1} routed`);
      return relay!.bytesUp() - before;
    };
    const first = await sentWhile(0, n / 2);
    const second = await sentWhile(n / 2, n);
    // Linear: the second 500 creations cost what the first 500 did. Re-sending the whole table per
    // creation made the second half cost about 3 times the first (75 MB in all as plain JSON, 1.9 MB compressed).
    assert.ok(second < first * 1.5, `the second ${n / 2} creations sent ${second} bytes, the first ${first}`);
    assert.ok(first + second < 1_200_000, `the broker sent ${first + second} bytes to the name server for ${n} creations`);
    const list = await f.client.invoke(f.ns.addresses.namesrv, createRequest(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER));
    const topics = new Set<string>(JSON.parse(list.body!.toString()).topicList);
    for (let i = 0; i < n; i++) assert.ok(topics.has(`Reg_${i}`), `Reg_${i} is routed`);
  });

  void test('topic registration - a name server that missed incremental registrations catches up at the next full one (issue 17)', async (t) => {
    let proxy: Awaited<ReturnType<typeof startTcpProxy>> | undefined;
    const f = await setup(async (ns) => (proxy = await startTcpProxy(ns)).endpoint, 1000);
    t.after(async () => {
      await f.close();
      await proxy?.close();
    });
    await checkFor(5000, 20, () => f.routed('TBW102'), 'first registration');
    proxy!.partition();
    for (let i = 0; i < 5; i++) await f.createTopic(`Missed_${i}`);
    assert.equal(await f.routed('Missed_0'), false, 'the increment did not get through the partition');
    proxy!.heal();
    for (let i = 0; i < 5; i++) await checkFor(15_000, 50, () => f.routed(`Missed_${i}`), `Missed_${i} routed after the partition heals`);
  });
});
