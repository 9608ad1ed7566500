// Reads and writes of one group's keys in etcd. Every write that decides something is a
// transaction whose compares make it fail for a member that acts on an out-of-date view: etcd's
// serializable transactions are the only consensus Apogee relies on.
import { Etcd3, type IOptions } from 'etcd3';
import type { GroupSnapshot } from './election.js';
import {
  normalizeIds,
  parseCandidate,
  parseEpoch,
  parseMaster,
  parseSyncState,
  type CandidateRecord,
  type GroupKeys,
  type MasterRecord,
} from './group-keys.js';

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type HostPolicy = ReturnType<NonNullable<FaultHandling['host']>>;
type WatchBackoff = NonNullable<FaultHandling['watchBackoff']>;

/**
 * etcd3 wraps each endpoint in a circuit breaker that, after three failures, refuses calls for
 * 5 s, and retries each call three times. Our loops already pace their own retries against the
 * lease's deadline, and a breaker left open after an etcd restart would delay re-election by
 * those 5 s; so each call goes through once (to each endpoint in turn, as etcd3 does).
 */
function passThrough(): HostPolicy {
  const none = () => ({ dispose: () => undefined });
  const policy = {
    onSuccess: none,
    onFailure: none,
    execute: async <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> => fn({ signal: new AbortController().signal }),
  };
  return policy as unknown as HostPolicy;
}

/**
 * Watch reconnection delays doubling from 100 ms up to 1 s. etcd3's default grows to 30 s, so a
 * member would learn of a new master that late after an etcd outage, and the pending retry timer
 * would hold a closed member's process open for as long.
 */
function watchBackoff(ms = 100): WatchBackoff {
  const b = { duration: ms, next: () => watchBackoff(Math.min(ms * 2, 1000)) };
  return b as unknown as WatchBackoff;
}

export function createEtcdClient(endpoints: readonly string[], callTimeoutMs: number): Etcd3 {
  return new Etcd3({
    hosts: [...endpoints],
    // Unary calls get a deadline so that a blackholed endpoint fails in time; streams (watch,
    // keep-alive) set their own.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    faultHandling: { host: () => passThrough(), global: passThrough(), watchBackoff: watchBackoff() },
    grpcOptions: {
      // A channel of its own per client, with a short reconnect backoff: gRPC's default backs off
      // up to 120 s, which would keep a member away from etcd long after etcd came back.
      'grpc.use_local_subchannel_pool': 1,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    },
  });
}

export interface ReadResult {
  snapshot: GroupSnapshot;
  /** Keys whose value did not parse, for the log (see GroupSnapshot.unreadable). */
  malformed: string[];
}

export async function readGroup(client: Etcd3, keys: GroupKeys): Promise<ReadResult> {
  const res = await client.getAll().prefix(keys.prefix).exec();
  const snapshot: GroupSnapshot = { epoch: 0, candidates: [] };
  const malformed: string[] = [];
  const unreadable: NonNullable<GroupSnapshot['unreadable']> = [];
  for (const kv of res.kvs) {
    const key = kv.key.toString();
    const text = kv.value.toString();
    if (key === keys.master) {
      const record = parseMaster(text);
      if (record) snapshot.master = { record, lease: kv.lease };
      else unreadable.push('master');
    } else if (key === keys.epoch) {
      const epoch = parseEpoch(text);
      if (epoch !== undefined) snapshot.epoch = epoch;
      else unreadable.push('epoch');
    } else if (key === keys.syncStateSet) {
      snapshot.syncState = parseSyncState(text);
      if (!snapshot.syncState) unreadable.push('syncStateSet');
    } else if (key.startsWith(keys.candidatesPrefix)) {
      // An unreadable candidate only drops out of the election.
      const c = parseCandidate(text);
      if (c && keys.candidate(c.brokerId) === key) snapshot.candidates.push(c);
      else malformed.push(key);
    }
  }
  if (unreadable.length > 0) snapshot.unreadable = unreadable;
  malformed.push(...unreadable.map((k) => keys[k]));
  return { snapshot, malformed };
}

export async function putCandidate(client: Etcd3, keys: GroupKeys, leaseId: string, c: CandidateRecord): Promise<void> {
  await client.put(keys.candidate(c.brokerId)).value(JSON.stringify(c)).lease(leaseId).exec();
}

export interface ElectRequest {
  /** The epoch the campaigner saw as current; the election makes epoch + 1. */
  observedEpoch: number;
  leaseId: string;
  master: Omit<MasterRecord, 'epoch'>;
}

/**
 * Makes the caller master of epoch observedEpoch + 1 if, and only if, the group still has no
 * master and the epoch is still the one observed. Of any number of concurrent calls for the same
 * observed epoch at most one returns true. The new master's in-sync set is itself alone: the
 * others may hold records of the old epoch it does not have, and rejoin once they caught up (as
 * RocketMQ's controller does).
 */
export async function tryElect(client: Etcd3, keys: GroupKeys, r: ElectRequest): Promise<boolean> {
  const epoch = r.observedEpoch + 1;
  const txn = client.if(keys.master, 'Create', '==', 0);
  if (r.observedEpoch === 0) txn.and(keys.epoch, 'Version', '==', 0);
  else txn.and(keys.epoch, 'Value', '==', String(r.observedEpoch));
  const master: MasterRecord = { ...r.master, epoch };
  const res = await txn
    .then(
      client.put(keys.master).value(JSON.stringify(master)).lease(r.leaseId),
      client.put(keys.epoch).value(String(epoch)),
      client.put(keys.syncStateSet).value(JSON.stringify({ epoch, ids: [r.master.brokerId] })),
    )
    .commit();
  return res.succeeded;
}

/**
 * Stores the in-sync set if the caller still holds the master key with its lease at its epoch;
 * a deposed master's call does nothing and returns false.
 */
export async function writeSyncStateSet(client: Etcd3, keys: GroupKeys, leaseId: string, epoch: number, ids: readonly number[]): Promise<boolean> {
  const res = await client
    .if(keys.master, 'Lease', '==', leaseId)
    .and(keys.epoch, 'Value', '==', String(epoch))
    .then(client.put(keys.syncStateSet).value(JSON.stringify({ epoch, ids: normalizeIds(ids) })))
    .commit();
  return res.succeeded;
}
