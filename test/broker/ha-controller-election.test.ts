// The HA controller's pure parts, without etcd: who may be elected from one read of the group,
// the stored values' parsing, and the options read from broker.conf keys (issue 12, part 5).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { silentLogger } from '../../src/common/logger.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { controllerOptionsFromConfig, EtcdBrokerController, groupKeys } from '../../src/broker/ha/controller/index.js';
import { bestCandidate, decideVacancy, type GroupSnapshot } from '../../src/broker/ha/controller/election.js';
import { parseCandidate, parseEpoch, parseMaster, parseSyncState, type CandidateRecord } from '../../src/broker/ha/controller/group-keys.js';

const cand = (brokerId: number, offset: number, forEpoch: number): CandidateRecord => ({
  brokerId,
  offset,
  forEpoch,
  brokerAddr: `h:${brokerId}`,
  haAddr: `h:${brokerId + 1}`,
});

const arbSnapshot = fc
  .record({
    epoch: fc.integer({ min: 0, max: 5 }),
    offsets: fc.dictionary(fc.integer({ min: 0, max: 6 }).map(String), fc.record({ offset: fc.integer({ min: 0, max: 4 }), fresh: fc.boolean() })),
    sync: fc.option(fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { maxLength: 4 }), { nil: undefined }),
  })
  .map(({ epoch, offsets, sync }): GroupSnapshot => ({
    epoch,
    candidates: Object.entries(offsets).map(([id, o]) => cand(Number(id), o.offset, o.fresh ? epoch + 1 : epoch)),
    ...(sync ? { syncState: { epoch, ids: sync } } : {}),
  }));

describe('ha controller election', () => {
  void test('ha controller election - from one read, at most one member campaigns, and only an eligible one with the best offset', () => {
    fc.assert(
      fc.property(arbSnapshot, fc.integer({ min: 0, max: 300 }), (s, settle) => {
        // Well past every wait: each member decides on this same read.
        const decisions = s.candidates.map((c) => ({ c, d: decideVacancy({ snapshot: s, selfId: c.brokerId, vacantSinceMs: 0, nowMs: 10_000, settleMs: settle }) }));
        const campaigners = decisions.filter((x) => x.d.kind === 'campaign');
        assert.ok(campaigners.length <= 1, JSON.stringify(decisions));
        const sync = s.syncState?.ids ?? [];
        for (const { c, d } of decisions) {
          const eligible = sync.length === 0 || sync.includes(c.brokerId);
          if (!eligible) assert.equal(d.kind, 'ineligible');
          if (d.kind === 'campaign') {
            for (const o of s.candidates) {
              if (o === c || (sync.length > 0 && !sync.includes(o.brokerId))) continue;
              assert.ok(o.offset < c.offset || (o.offset === c.offset && o.brokerId > c.brokerId), `${o.brokerId} beats ${c.brokerId}`);
            }
          }
        }
        // Someone eligible and present always ends up campaigning.
        if (s.candidates.some((c) => sync.length === 0 || sync.includes(c.brokerId))) assert.equal(campaigners.length, 1);
      }),
    );
  });

  void test('ha controller election - the highest offset wins, ties go to the lowest id, members outside the in-sync set never', () => {
    const s: GroupSnapshot = { epoch: 3, candidates: [cand(4, 90, 4), cand(2, 70, 4), cand(1, 70, 4)], syncState: { epoch: 3, ids: [1, 2] } };
    assert.equal(bestCandidate(s)?.brokerId, 1);
    assert.equal(bestCandidate({ ...s, syncState: undefined })?.brokerId, 4);
    assert.deepEqual(decideVacancy({ snapshot: s, selfId: 4, vacantSinceMs: 0, nowMs: 5000, settleMs: 100 }), { kind: 'ineligible' });
    assert.deepEqual(decideVacancy({ snapshot: s, selfId: 2, vacantSinceMs: 0, nowMs: 5000, settleMs: 100 }), { kind: 'defer', bestId: 1 });
    assert.deepEqual(decideVacancy({ snapshot: s, selfId: 1, vacantSinceMs: 0, nowMs: 5000, settleMs: 100 }), { kind: 'campaign' });
  });

  void test('ha controller election - candidates settle first, and wait one more window for a peer that has not republished', () => {
    const fresh: GroupSnapshot = { epoch: 1, candidates: [cand(0, 5, 2), cand(1, 9, 2)] };
    assert.deepEqual(decideVacancy({ snapshot: fresh, selfId: 1, vacantSinceMs: 1000, nowMs: 1200, settleMs: 500 }), { kind: 'settle', untilMs: 1500 });
    assert.deepEqual(decideVacancy({ snapshot: fresh, selfId: 1, vacantSinceMs: 1000, nowMs: 1500, settleMs: 500 }), { kind: 'campaign' });
    const stale: GroupSnapshot = { epoch: 1, candidates: [cand(0, 5, 2), cand(1, 9, 1)] };
    assert.deepEqual(decideVacancy({ snapshot: stale, selfId: 0, vacantSinceMs: 1000, nowMs: 1500, settleMs: 500 }), { kind: 'settle', untilMs: 2000 });
    // After that, the stale peer's published offset counts as it is.
    assert.deepEqual(decideVacancy({ snapshot: stale, selfId: 0, vacantSinceMs: 1000, nowMs: 2000, settleMs: 500 }), { kind: 'defer', bestId: 1 });
    // A member whose own key is missing from the read publishes before deciding.
    assert.equal(decideVacancy({ snapshot: fresh, selfId: 2, vacantSinceMs: 0, nowMs: 9000, settleMs: 0 }).kind, 'settle');
  });

  void test('ha controller election - an unreadable master, epoch or in-sync set blocks every election', () => {
    for (const key of ['master', 'epoch', 'syncStateSet'] as const) {
      const s: GroupSnapshot = { epoch: 1, candidates: [cand(0, 5, 2)], unreadable: [key] };
      assert.deepEqual(decideVacancy({ snapshot: s, selfId: 0, vacantSinceMs: 0, nowMs: 9000, settleMs: 0 }), { kind: 'blocked', keys: [key] });
    }
  });

  void test('ha controller election - stored values that do not parse are refused, never thrown on', () => {
    const bad = ['', 'null', '[]', '{', '"x"', '{"brokerId":-1,"epoch":1,"brokerAddr":"a","haAddr":"b"}', '{"brokerId":1.5}', '{"ids":[1,"2"],"epoch":1}'];
    for (const text of bad) {
      assert.equal(parseMaster(text), undefined, text);
      assert.equal(parseSyncState(text), undefined, text);
      assert.equal(parseCandidate(text), undefined, text);
    }
    fc.assert(
      fc.property(fc.string(), (text) => {
        parseMaster(text);
        parseSyncState(text);
        parseCandidate(text);
        parseEpoch(text);
      }),
    );
    assert.deepEqual(parseSyncState('{"epoch":2,"ids":[3,1,3]}'), { epoch: 2, ids: [1, 3] });
    for (const text of ['-1', '1.0', ' 1', '2147483648', 'x']) assert.equal(parseEpoch(text), undefined, text);
    assert.equal(parseEpoch('2147483647'), 2147483647);
  });

  void test('ha controller election - each group has keys of its own, whatever its name', () => {
    assert.notEqual(groupKeys('c', 'a/b').prefix, groupKeys('c/a', 'b').prefix);
    assert.ok(groupKeys('c', 'b').candidate(2).startsWith(groupKeys('c', 'b').candidatesPrefix));
  });
});

describe('ha controller options', () => {
  const runtime = { brokerAddr: 'h:10911', haAddr: 'h:10912', logger: silentLogger, replicatedOffset: () => 0 };

  void test('ha controller options - read from the broker keys; none without enableControllerMode', () => {
    assert.equal(controllerOptionsFromConfig(loadConfig('broker'), runtime), undefined);
    const config = loadConfig('broker', {
      flags: {
        enableControllerMode: 'true',
        etcdEndpoints: 'http://10.0.0.1:2379,10.0.0.2:2379;10.0.0.3:2379',
        controllerLeaseTtlSec: '5',
        controllerElectionSettleMs: '250',
        brokerClusterName: 'C1',
        brokerName: 'broker-b',
        brokerId: '2',
      },
    });
    const o = controllerOptionsFromConfig(config, runtime)!;
    assert.deepEqual(
      { ...o, logger: undefined, replicatedOffset: undefined },
      {
        endpoints: ['10.0.0.1:2379', '10.0.0.2:2379', '10.0.0.3:2379'],
        clusterName: 'C1',
        brokerName: 'broker-b',
        brokerId: 2,
        leaseTtlSec: 5,
        settleMs: 250,
        brokerAddr: 'h:10911',
        haAddr: 'h:10912',
        logger: undefined,
        replicatedOffset: undefined,
      },
    );
  });

  void test('ha controller options - bad keys are refused naming the key', () => {
    for (const [key, value] of [
      ['etcdEndpoints', 'localhost'],
      ['etcdEndpoints', ''],
      ['etcdEndpoints', 'a:99999'],
      ['controllerLeaseTtlSec', '1'],
      ['controllerElectionSettleMs', '-5'],
    ]) {
      assert.throws(
        () => loadConfig('broker', { flags: { [key]: value } }),
        (err: unknown) => err instanceof ConfigError && err.message.includes(key),
        `${key}=${value}`,
      );
    }
  });

  void test('ha controller options - a member built with bad options names every problem at once', () => {
    assert.throws(
      () =>
        new EtcdBrokerController({
          endpoints: ['nope'],
          clusterName: 'c',
          brokerName: '',
          brokerId: -1,
          leaseTtlSec: 1,
          ...runtime,
        }),
      (err: Error) =>
        err.message.includes('etcd endpoint "nope" is not host:port') &&
        err.message.includes('brokerId -1') &&
        err.message.includes('brokerName is empty') &&
        err.message.includes('leaseTtlSec 1'),
    );
  });
});
