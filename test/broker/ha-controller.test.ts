// The HA controller against a real etcd (issue 12, part 5): elections, hand-over on close, on
// SIGKILL and on a partition from etcd, the in-sync rule, epoch fencing, and concurrent campaigns.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test, type TestContext } from 'node:test';
import { silentLogger } from '../../src/common/logger.js';
import { EtcdBrokerController, groupKeys, type RoleChange } from '../../src/broker/ha/controller/index.js';
import { createEtcdClient, tryElect } from '../../src/broker/ha/controller/group-store.js';
import { MemberLease } from '../../src/broker/ha/controller/member-lease.js';
import { checkFor } from '../helpers/check-for.js';
import { freePort, startEtcd, startTcpProxy, type EtcdServer } from '../helpers/etcd.js';

const CLUSTER = 'HaCluster';
const FIXTURE = fileURLToPath(new URL('./fixtures/ha-controller-member.ts', import.meta.url));
const brokerAddrOf = (id: number) => `127.0.0.1:${10911 + id * 10}`;
const haAddrOf = (id: number) => `127.0.0.1:${10912 + id * 10}`;

type Seen = RoleChange & { at: number };

interface Member {
  id: number;
  c: EtcdBrokerController;
  events: Seen[];
}

interface MemberOpts {
  offset?: number | (() => number);
  ttl?: number;
  settle?: number;
  endpoint?: string;
}

let etcd: EtcdServer;
const live: Member[] = [];
const children: ChildProcess[] = [];
let groups = 0;
const newGroup = () => `g${++groups}-${process.pid}`;

async function startMember(group: string, id: number, o: MemberOpts = {}): Promise<Member> {
  const m = newMember(group, id, o);
  await m.c.start();
  return m;
}

function newMember(group: string, id: number, o: MemberOpts = {}): Member {
  const offset = o.offset ?? 0;
  const c = new EtcdBrokerController({
    endpoints: [o.endpoint ?? etcd.endpoint],
    clusterName: CLUSTER,
    brokerName: group,
    brokerId: id,
    brokerAddr: brokerAddrOf(id),
    haAddr: haAddrOf(id),
    leaseTtlSec: o.ttl ?? 2,
    settleMs: o.settle ?? 200,
    logger: silentLogger,
    replicatedOffset: typeof offset === 'function' ? offset : () => offset,
  });
  const m: Member = { id, c, events: [] };
  c.on('role', (r) => m.events.push({ ...r, at: performance.now() }));
  live.push(m);
  return m;
}

const isMaster = (m: Member) => m.c.role.role === 'MASTER';
const masterEvent = (m: Member, after = 0) => m.events.find((e) => e.role === 'MASTER' && e.at >= after);

/** Fails if fn turns true at any poll during ms: the way to show that something does not happen. */
async function stays(ms: number, fn: () => boolean, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    assert.ok(!fn(), what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A member in a child process; resolves with its output lines so far (parsed) as they come. */
function spawnMember(group: string, id: number, extra: Record<string, unknown>) {
  const args = { endpoints: [etcd.endpoint], clusterName: CLUSTER, brokerName: group, brokerId: id, ...extra };
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
      buf = buf.slice(i + 1);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  return { child, lines, stderr: () => err };
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(child.pid!, 'SIGKILL');
  await exited;
}

describe('ha controller', { timeout: 120_000 }, () => {
  before(async () => {
    etcd = await startEtcd();
  });

  after(async () => {
    for (const m of live) await m.c.close();
    for (const c of children) await killChild(c);
    await etcd?.stop();
  });

  void test('ha controller - three members elect exactly one master of epoch 1; the others follow it', async () => {
    const g = newGroup();
    const ms = await Promise.all([0, 1, 2].map((id) => startMember(g, id)));
    const masters = ms.filter(isMaster);
    assert.equal(masters.length, 1, 'exactly one master');
    const master = masters[0];
    assert.deepEqual(master.c.role, { role: 'MASTER', epoch: 1, masterId: master.id, masterAddr: brokerAddrOf(master.id), masterHaAddr: haAddrOf(master.id) });
    for (const m of ms.filter((x) => x !== master)) {
      assert.deepEqual(m.c.role, { role: 'SLAVE', epoch: 1, masterId: master.id, masterAddr: brokerAddrOf(master.id), masterHaAddr: haAddrOf(master.id) });
      assert.equal(m.c.canActAsMaster(), false);
    }
    assert.equal(master.c.canActAsMaster(), true);
    // A new master's in-sync set is itself alone until it adds caught-up slaves.
    assert.deepEqual(master.c.state.syncStateSet, [master.id]);
  });

  void test('ha controller - a cleanly closed master hands over at once to the in-sync member with the highest offset, epoch 2', async (t: TestContext) => {
    const g = newGroup();
    const m0 = await startMember(g, 0, { offset: 1000 });
    assert.equal(m0.c.role.role, 'MASTER');
    const m1 = await startMember(g, 1, { offset: 500 });
    const m2 = await startMember(g, 2, { offset: 700 });
    assert.equal(await m0.c.updateSyncStateSet([0, 1, 2]), true);
    await checkFor(3000, 10, () => m1.c.state.syncStateSet.length === 3 && m2.c.state.syncStateSet.length === 3, 'slaves to see the in-sync set');
    const t0 = performance.now();
    await m0.c.close();
    await checkFor(5000, 5, () => isMaster(m2), 'member 2 to become master');
    const took = masterEvent(m2, t0)!.at - t0;
    t.diagnostic(`clean hand-over: ${took.toFixed(0)} ms (settle 200 ms)`);
    assert.equal(m2.c.role.epoch, 2);
    // The lease was revoked, so nobody waited for it to lapse (TTL 2 s).
    assert.ok(took < 1500, `hand-over took ${took} ms`);
    await checkFor(3000, 10, () => m1.c.role.masterId === 2 && m1.c.role.epoch === 2, 'member 1 to follow member 2');
    assert.equal(masterEvent(m1), undefined, 'member 1 never became master');
    assert.deepEqual(m1.c.role, { role: 'SLAVE', epoch: 2, masterId: 2, masterAddr: brokerAddrOf(2), masterHaAddr: haAddrOf(2) });
    assert.deepEqual(m2.c.state.syncStateSet, [2]);
  });

  void test('ha controller - a member outside the in-sync set is never elected, even with the highest offset', async () => {
    const g = newGroup();
    const m0 = await startMember(g, 0, { offset: 100 });
    const m1 = await startMember(g, 1, { offset: 200 });
    const m2 = await startMember(g, 2, { offset: 900 });
    assert.equal(await m0.c.updateSyncStateSet([0, 1]), true);
    await checkFor(3000, 10, () => m2.c.state.syncStateSet.join() === '0,1', 'member 2 to see the in-sync set');
    await m0.c.close();
    await checkFor(5000, 10, () => isMaster(m1), 'member 1 to become master');
    assert.equal(m1.c.role.epoch, 2);
    await checkFor(3000, 10, () => m2.c.role.masterId === 1, 'member 2 to follow member 1');
    // Member 1's in-sync set is now {1}: with it gone, member 2 has no claim at all.
    await m1.c.close();
    await stays(1000, () => isMaster(m2), 'member 2 must not campaign');
    assert.deepEqual(m2.c.role, { role: 'SLAVE', epoch: 2 });
    assert.equal(m2.c.stats.campaigns, 0);
    assert.equal(masterEvent(m2), undefined);
    // The in-sync member comes back and is elected; member 2 follows it.
    const back = await startMember(g, 1, { offset: 200 });
    assert.deepEqual(back.c.role, { role: 'MASTER', epoch: 3, masterId: 1, masterAddr: brokerAddrOf(1), masterHaAddr: haAddrOf(1) });
    await checkFor(3000, 10, () => m2.c.role.masterId === 1 && m2.c.role.epoch === 3, 'member 2 to follow the returned member 1');
  });

  void test('ha controller - a SIGKILLed master is replaced within 5 s; restarted, it sees the newer epoch and is SLAVE', async (t: TestContext) => {
    const g = newGroup();
    // Defaults: TTL 3 s, settle 500 ms.
    const old = spawnMember(g, 0, { offset: 1000, syncStateSet: [0, 1, 2] });
    await checkFor(15_000, 20, () => old.lines.some((l) => l.syncStateSet === true), `the child master to publish its in-sync set (${old.stderr()})`);
    assert.deepEqual(old.lines[0], { role: 'MASTER', epoch: 1, masterId: 0, masterAddr: brokerAddrOf(0), masterHaAddr: haAddrOf(0) });
    const m1 = await startMember(g, 1, { offset: 800, ttl: 3, settle: 500 });
    const m2 = await startMember(g, 2, { offset: 900, ttl: 3, settle: 500 });
    await checkFor(3000, 10, () => m1.c.state.syncStateSet.length === 3 && m2.c.state.syncStateSet.length === 3, 'slaves to see the in-sync set');
    assert.equal(m2.c.role.masterId, 0);
    const t0 = performance.now();
    await killChild(old.child);
    await checkFor(8000, 5, () => isMaster(m2), 'member 2 to become master');
    const took = masterEvent(m2, t0)!.at - t0;
    t.diagnostic(`failover after SIGKILL: ${took.toFixed(0)} ms (TTL 3 s, settle 500 ms)`);
    assert.ok(took < 5000, `failover took ${took} ms`);
    assert.equal(m2.c.role.epoch, 2);
    await checkFor(3000, 10, () => m1.c.role.masterId === 2, 'member 1 to follow member 2');
    assert.equal(masterEvent(m1), undefined);

    const back = spawnMember(g, 0, { offset: 1000 });
    await checkFor(15_000, 20, () => back.lines.length > 0, `the restarted member to report its role (${back.stderr()})`);
    assert.deepEqual(back.lines[0], { role: 'SLAVE', epoch: 2, masterId: 2, masterAddr: brokerAddrOf(2), masterHaAddr: haAddrOf(2) });
    await stays(500, () => back.lines.some((l) => l.role === 'MASTER'), 'the old master must not take over again');
    assert.equal(m2.c.role.role, 'MASTER');
    await killChild(back.child);
  });

  void test('ha controller - a master restarted before its old lease lapsed leaves its old key alone and is elected once it lapses', async () => {
    const g = newGroup();
    const keys = groupKeys(CLUSTER, g);
    const client = createEtcdClient([etcd.endpoint], 2000);
    try {
      // What a SIGKILLed master leaves behind: its key under a lease nobody renews any more.
      const old = await MemberLease.grant(client, 30, 2000);
      await client.put(keys.epoch).value('1');
      await client.put(keys.syncStateSet).value(JSON.stringify({ epoch: 1, ids: [0, 1] }));
      await client.put(keys.master).value(JSON.stringify({ brokerId: 0, epoch: 1, brokerAddr: brokerAddrOf(0), haAddr: haAddrOf(0) })).lease(old.id);
      const m0 = newMember(g, 0, { offset: 100 });
      const starting = m0.c.start();
      await checkFor(3000, 10, () => m0.events.length > 0, 'the restarted member to take a role');
      assert.deepEqual(m0.c.role, { role: 'SLAVE', epoch: 1 }, 'not master under a lease that is not its own, nor a slave of itself');
      assert.equal(await client.get(keys.master).exists(), true, 'the old key is left alone');
      await old.revoke(2000);
      await starting;
      assert.deepEqual(m0.c.role, { role: 'MASTER', epoch: 2, masterId: 0, masterAddr: brokerAddrOf(0), masterHaAddr: haAddrOf(0) });
    } finally {
      client.close();
    }
  });

  void test('ha controller - a master cut off from etcd steps down before anyone else can be elected, then follows the new epoch', async (t: TestContext) => {
    const g = newGroup();
    const ttl = 2;
    await using proxy = await startTcpProxy(etcd.endpoint);
    const m0 = await startMember(g, 0, { offset: 1000, ttl, endpoint: proxy.endpoint });
    assert.equal(m0.c.role.role, 'MASTER');
    const m1 = await startMember(g, 1, { offset: 800, ttl });
    const m2 = await startMember(g, 2, { offset: 900, ttl });
    assert.equal(await m0.c.updateSyncStateSet([0, 1, 2]), true);
    await checkFor(3000, 10, () => m1.c.state.syncStateSet.length === 3 && m2.c.state.syncStateSet.length === 3, 'slaves to see the in-sync set');
    const t0 = performance.now();
    proxy.partition();
    await checkFor(10_000, 5, () => isMaster(m2), 'member 2 to become master');
    const down = m0.events.find((e) => e.at >= t0 && e.role === 'SLAVE');
    assert.ok(down, 'the cut-off master stepped down');
    const up = masterEvent(m2, t0)!;
    t.diagnostic(`cut off at 0: old master stepped down at ${(down.at - t0).toFixed(0)} ms, new master at ${(up.at - t0).toFixed(0)} ms (TTL ${ttl} s)`);
    assert.ok(down.at < up.at, 'two masters at once');
    assert.ok(down.at - t0 < ttl * 1000, 'stepped down before its lease could lapse');
    assert.equal(m0.c.canActAsMaster(), false);
    assert.equal(await m0.c.updateSyncStateSet([0]), false, 'a deposed master cannot write the in-sync set');
    assert.equal(up.epoch, 2);

    proxy.heal();
    await checkFor(10_000, 20, () => m0.c.role.masterId === 2, 'the old master to follow the new one');
    assert.deepEqual(m0.c.role, { role: 'SLAVE', epoch: 2, masterId: 2, masterAddr: brokerAddrOf(2), masterHaAddr: haAddrOf(2) });
    assert.equal(masterEvent(m0, t0), undefined, 'the old master never came back as master');
    assert.equal(m0.c.canActAsMaster(), false);
    assert.deepEqual(m2.c.state.syncStateSet, [2]);
  });

  void test('ha controller - concurrent election transactions for one epoch: exactly one wins, round after round', async () => {
    const g = newGroup();
    const keys = groupKeys(CLUSTER, g);
    const client = createEtcdClient([etcd.endpoint], 2000);
    try {
      const leases = await Promise.all([0, 1, 2, 3, 4, 5].map(() => MemberLease.grant(client, 10, 2000)));
      for (let round = 0; round < 25; round++) {
        const won = await Promise.all(
          leases.map((l, id) => tryElect(client, keys, { observedEpoch: round, leaseId: l.id, master: { brokerId: id, brokerAddr: brokerAddrOf(id), haAddr: haAddrOf(id) } })),
        );
        assert.equal(won.filter(Boolean).length, 1, `round ${round}: ${JSON.stringify(won)}`);
        assert.equal(await client.get(keys.epoch).string(), String(round + 1));
        // A late campaigner that saw the old epoch loses even with the master key gone.
        await client.delete().key(keys.master);
        assert.equal(await tryElect(client, keys, { observedEpoch: round, leaseId: leases[0].id, master: { brokerId: 0, brokerAddr: 'x:1', haAddr: 'x:2' } }), false);
      }
      for (const l of leases) await l.revoke(2000);
    } finally {
      client.close();
    }
  });

  void test('ha controller - racing members never give one epoch two masters', async (t: TestContext) => {
    const g = newGroup();
    // Five members behind jittery links (0-5 ms each way), no settle window, logs that grow with
    // every read, every member in the in-sync set, and the deposed master rejoining while the
    // others elect: views differ from member to member as much as they can in one etcd.
    const proxies = await Promise.all([0, 1, 2, 3, 4].map(() => startTcpProxy(etcd.endpoint, { jitterMs: 5 })));
    let log = 0;
    const opts = (id: number): MemberOpts => ({ offset: () => ++log, settle: 0, endpoint: proxies[id].endpoint });
    const all: Member[] = await Promise.all([0, 1, 2, 3, 4].map((id) => startMember(g, id, opts(id))));
    const current = new Map(all.map((m) => [m.id, m]));
    const seen: { epoch: number; id: number }[] = [];
    const deadline = performance.now() + 15_000;
    let rejoining: Promise<Member> | undefined;
    try {
      for (let round = 0; round < 10 && performance.now() < deadline; round++) {
        const master = await checkFor(5000, 2, () => [...current.values()].find(isMaster), `a master in round ${round}`);
        if (rejoining) all.push(await rejoining);
        const members = [...current.values()];
        // Never two; and one within a moment (a loaded machine may delay the winner's first
        // keep-alive so that it pauses writing until the next one lands).
        assert.ok(members.filter((m) => m.c.canActAsMaster()).length <= 1, `round ${round}: two members acting as master`);
        await checkFor(5000, 2, () => members.filter((m) => m.c.canActAsMaster()).length === 1, `round ${round}: one member acting as master`);
        seen.push({ epoch: master.c.role.epoch, id: master.id });
        assert.equal(await master.c.updateSyncStateSet([0, 1, 2, 3, 4]), true);
        await master.c.close();
        current.delete(master.id);
        rejoining = startMember(g, master.id, opts(master.id)).then((m) => (current.set(m.id, m), m));
      }
      if (rejoining) all.push(await rejoining);
    } finally {
      for (const m of all) await m.c.close();
      for (const p of proxies) await p.close();
    }
    const byEpoch = new Map<number, Set<number>>();
    for (const m of all) for (const e of m.events) if (e.role === 'MASTER') byEpoch.set(e.epoch, (byEpoch.get(e.epoch) ?? new Set()).add(m.id));
    for (const [epoch, ids] of byEpoch) assert.equal(ids.size, 1, `epoch ${epoch} had masters ${[...ids].join(',')}`);
    assert.ok(seen.length >= 5, `only ${seen.length} rounds`);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i].epoch > seen[i - 1].epoch, `epochs ${JSON.stringify(seen)}`);
    const stats = all.reduce((s, m) => ({ campaigns: s.campaigns + m.c.stats.campaigns, lost: s.lost + m.c.stats.lost }), { campaigns: 0, lost: 0 });
    t.diagnostic(`${seen.length} elections, ${stats.campaigns} campaigns, ${stats.lost} lost to a concurrent winner`);
  });

  void test('ha controller - a member whose election transaction meets a concurrent winner loses it and follows the winner', async () => {
    const g = newGroup();
    const keys = groupKeys(CLUSTER, g);
    const client = createEtcdClient([etcd.endpoint], 2000);
    const rogueLease = await MemberLease.grant(client, 10, 2000);
    const rogue = { brokerId: 9, brokerAddr: brokerAddrOf(9), haAddr: haAddrOf(9) };
    // The rival campaigns from inside member 1's decision: replicatedOffset() is read on each
    // pass over a vacancy, the second time right before the member's own transaction. Member 1's
    // link to etcd then gets 100 ms slower than the rival's, so the rival's transaction lands
    // first and member 1's must fail on the changed epoch.
    await using slow = await startTcpProxy(etcd.endpoint);
    let b: Member | undefined;
    let passes = 0;
    let rival: Promise<boolean> | undefined;
    const offset = () => {
      if (b?.c.role.masterId !== undefined) passes = 0;
      else if (b && ++passes === 2 && !rival) {
        rival = tryElect(client, keys, { observedEpoch: b.c.state.epoch, leaseId: rogueLease.id, master: rogue });
      }
      return 100;
    };
    try {
      const a = await startMember(g, 0, { offset: 100, settle: 0 });
      b = await startMember(g, 1, { offset, settle: 0, endpoint: slow.endpoint });
      assert.equal(await a.c.updateSyncStateSet([0, 1, 9]), true);
      slow.setLatency({ delayMs: 100 });
      await a.c.close();
      await checkFor(5000, 5, () => rival !== undefined, 'the rival to campaign');
      assert.equal(await rival, true, 'the rival, first on the wire, wins epoch 2');
      await checkFor(5000, 5, () => b!.c.role.masterId === 9, 'member 1 to follow the rival');
      assert.deepEqual(b.c.role, { role: 'SLAVE', epoch: 2, masterId: 9, masterAddr: brokerAddrOf(9), masterHaAddr: haAddrOf(9) });
      assert.deepEqual(b.c.stats, { campaigns: 1, won: 0, lost: 1, stepDowns: 0 });
      assert.equal(masterEvent(b), undefined);
    } finally {
      await rogueLease.revoke(2000);
      client.close();
    }
  });

  void test('ha controller - an unreadable in-sync set blocks elections instead of crashing or electing anyone', async () => {
    const g = newGroup();
    const keys = groupKeys(CLUSTER, g);
    const m0 = await startMember(g, 0, { offset: 100 });
    const m1 = await startMember(g, 1, { offset: 100 });
    const client = createEtcdClient([etcd.endpoint], 2000);
    try {
      await client.put(keys.syncStateSet).value('{"epoch":1,"ids":"not a list"}');
      await m0.c.close();
      await stays(800, () => isMaster(m1), 'member 1 must not be elected over an unreadable in-sync set');
      assert.deepEqual(m1.c.role, { role: 'SLAVE', epoch: 1 });
      assert.equal(m1.c.stats.campaigns, 0);
      await client.put(keys.syncStateSet).value(JSON.stringify({ epoch: 1, ids: [1] }));
      await checkFor(3000, 10, () => isMaster(m1), 'member 1 to be elected once the set is readable');
      assert.equal(m1.c.role.epoch, 2);
    } finally {
      client.close();
    }
  });

  void test('ha controller - etcd unreachable at start is an error naming the endpoints', async () => {
    // Ports nobody listens on.
    const endpoints = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    const t0 = performance.now();
    await assert.rejects(
      EtcdBrokerController.start({
        endpoints,
        clusterName: CLUSTER,
        brokerName: newGroup(),
        brokerId: 0,
        brokerAddr: brokerAddrOf(0),
        haAddr: haAddrOf(0),
        logger: silentLogger,
        replicatedOffset: () => 0,
      }),
      (err: Error) => err.message.startsWith(`HA controller: etcd unreachable at ${endpoints.join(',')}: `),
    );
    assert.ok(performance.now() - t0 < 5000, 'the refusal came quickly');
  });
});
