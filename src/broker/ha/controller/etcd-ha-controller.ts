// One member of a broker group in controller mode: it holds a lease in etcd, publishes itself as a
// candidate, follows whoever holds the group's master key, and when the key is gone campaigns if
// it is in the in-sync set and the best live candidate. Roles change only from what etcd says (or
// from our own lease running out); every change is emitted as a 'role' event.
import { EventEmitter } from 'node:events';
import type { Etcd3, Watcher } from 'etcd3';
import type { Logger } from '../../../common/logger.js';
import { resolveControllerOptions, type ControllerOptions, type ResolvedControllerOptions } from './controller-options.js';
import { decideVacancy, type GroupSnapshot } from './election.js';
import { groupKeys, normalizeIds, type CandidateRecord, type GroupKeys } from './group-keys.js';
import { createEtcdClient, putCandidate, readGroup, tryElect, writeSyncStateSet } from './group-store.js';
import { MemberLease, monotonicMs } from './member-lease.js';

export type ControllerRole = 'MASTER' | 'SLAVE';

export interface RoleChange {
  role: ControllerRole;
  epoch: number;
  /** Undefined while the group has no master this member can follow. */
  masterId?: number;
  masterAddr?: string;
  masterHaAddr?: string;
}

export interface GroupState {
  epoch: number;
  masterId: number | undefined;
  masterAddr?: string;
  masterHaAddr?: string;
  syncStateSet: number[];
}

export interface ControllerStats {
  /** Election transactions tried, won, and lost to a concurrent campaigner or a changed epoch. */
  campaigns: number;
  won: number;
  lost: number;
  /** Times this member stopped being master (deposed, lease lost, or etcd out of reach). */
  stepDowns: number;
}

export class EtcdBrokerController extends EventEmitter<{ role: [RoleChange] }> {
  readonly stats: ControllerStats = { campaigns: 0, won: 0, lost: 0, stepDowns: 0 };
  private readonly o: ResolvedControllerOptions;
  private readonly log: Logger;
  private readonly keys: GroupKeys;
  private readonly ttlMs: number;
  /** Keep-alive period: three tries per TTL, as etcd's own clients do. */
  private readonly keepAliveMs: number;
  /**
   * A master stops acting once fewer than this many ms of its lease are left by its own clock.
   * etcd cannot expire the lease before then, so the old master is already silent when any other
   * member can see its key gone; the margin absorbs timer lateness and clock-rate differences.
   */
  private readonly marginMs: number;
  private client: Etcd3 | undefined;
  private lease: MemberLease | undefined;
  private watcher: Watcher | undefined;
  private current: RoleChange = { role: 'SLAVE', epoch: 0 };
  private group: GroupState = { epoch: 0, masterId: undefined, syncStateSet: [] };
  private vacantSince: number | undefined;
  private closed = false;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private warned = new Set<string>();
  private firstMaster: (() => void) | undefined;

  constructor(opts: ControllerOptions) {
    super();
    this.o = resolveControllerOptions(opts);
    this.log = opts.logger.child({ ha: 'controller', group: opts.brokerName, member: opts.brokerId });
    this.keys = groupKeys(this.o.clusterName, this.o.brokerName);
    this.ttlMs = this.o.leaseTtlSec * 1000;
    this.keepAliveMs = Math.floor(this.ttlMs / 3);
    this.marginMs = Math.max(500, Math.floor(this.ttlMs / 3));
  }

  /** Creates a member and joins its group; see start(). */
  static async start(opts: ControllerOptions): Promise<EtcdBrokerController> {
    const c = new EtcdBrokerController(opts);
    await c.start();
    return c;
  }

  /**
   * Joins the group: takes a lease, publishes this member, watches the group, and resolves once a
   * master is known (this member or another), or after about one TTL plus two settle windows when
   * none can be elected yet (the member is then a SLAVE without master until one appears). Rejects,
   * naming the endpoints, when etcd cannot be reached.
   */
  async start(): Promise<void> {
    const client = createEtcdClient(this.o.endpoints, this.o.callTimeoutMs);
    this.client = client;
    try {
      this.lease = await MemberLease.grant(client, this.o.leaseTtlSec, this.o.callTimeoutMs);
      await putCandidate(client, this.keys, this.lease.id, this.candidate(this.offset() ?? 0, 0));
      this.watcher = await client.watch().prefix(this.keys.prefix).create();
    } catch (err) {
      this.closed = true;
      client.close();
      throw new Error(`HA controller: etcd unreachable at ${this.o.endpoints.join(',')}: ${messageOf(err)}`, { cause: err });
    }
    this.watcher.on('put', () => this.kick());
    this.watcher.on('delete', () => this.kick());
    this.watcher.on('connected', () => this.kick());
    this.watcher.on('error', (err) => this.warn('watch', `watch on ${this.keys.prefix} failed: ${messageOf(err)}`));
    this.log.info({ endpoints: this.o.endpoints, lease: this.lease.id, ttlSec: this.lease.ttlSec }, 'joined the group in etcd');
    const known = new Promise<void>((resolve) => (this.firstMaster = resolve));
    this.schedule('keepAlive', this.keepAliveMs, () => void this.keepAliveTick());
    this.schedule('periodic', this.ttlMs, () => this.periodic());
    this.kick();
    await withTimeout(known, this.ttlMs + 2 * this.o.settleMs + 1000);
    this.firstMaster = undefined;
  }

  /** The role as last decided (the 'role' event reports each change of it). */
  get role(): RoleChange {
    return { ...this.current };
  }

  /** The group as last read from etcd. */
  get state(): GroupState {
    return { ...this.group, syncStateSet: [...this.group.syncStateSet] };
  }

  /**
   * True while this member is master and its lease is certainly alive in etcd. The write path
   * checks it before accepting a message: a master cut off from etcd turns false before any other
   * member could be elected, even when its timers run late.
   */
  canActAsMaster(): boolean {
    return !this.closed && this.current.role === 'MASTER' && this.lease !== undefined && this.lease.remainingMs() > this.marginMs;
  }

  /**
   * Master only: stores the in-sync set (member ids, this member included) with the current epoch.
   * Resolves false when this member is not (or no longer) master of that epoch, or etcd did not
   * answer; the previous set then stays in force.
   */
  async updateSyncStateSet(ids: number[]): Promise<boolean> {
    if (!ids.every((id) => Number.isSafeInteger(id) && id >= 0)) throw new TypeError(`in-sync set ${JSON.stringify(ids)}: ids are integers ≥ 0`);
    if (!ids.includes(this.o.brokerId)) throw new TypeError(`in-sync set ${JSON.stringify(ids)} lacks the master itself (${this.o.brokerId})`);
    const lease = this.lease;
    if (!this.canActAsMaster() || !this.client || !lease) return false;
    const epoch = this.current.epoch;
    // Callers may report the set on every check; an unchanged one costs no etcd write.
    if (this.group.epoch === epoch && this.group.syncStateSet.join() === normalizeIds(ids).join()) return true;
    try {
      const ok = await writeSyncStateSet(this.client, this.keys, lease.id, epoch, ids);
      this.warned.delete('syncStateSet');
      if (ok && this.group.epoch === epoch) this.group.syncStateSet = normalizeIds(ids);
      if (!ok) this.kick();
      return ok;
    } catch (err) {
      this.warn('syncStateSet', `could not store the in-sync set: ${messageOf(err)}`);
      return false;
    }
  }

  /** Leaves the group: revokes the lease, so a master's key goes at once and the others elect. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.firstMaster?.();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    const client = this.client;
    if (!client) return;
    try {
      await this.lease?.revoke(this.o.callTimeoutMs);
    } catch (err) {
      this.log.warn({ err: messageOf(err) }, 'could not revoke the lease; it lapses after its TTL');
    }
    this.lease = undefined;
    await withTimeout(this.watcher?.cancel(), this.o.callTimeoutMs);
    await this.running;
    client.close();
    this.log.info('left the group');
  }

  // --- keeping the lease -------------------------------------------------------------------

  private async keepAliveTick(): Promise<void> {
    const lease = this.lease;
    if (this.closed) return;
    if (!lease) return this.renewLease();
    const outcome = await lease.keepAlive(Math.min(this.o.callTimeoutMs, this.keepAliveMs));
    if (this.closed || lease !== this.lease) return;
    if (outcome === 'alive') {
      this.warned.delete('keepAlive');
      this.armStepDown();
      // Stepped down over a slow keep-alive but still holding the key: take the role back now
      // rather than at the next periodic read (nobody else can have been elected meanwhile).
      if (this.current.role !== 'MASTER' && this.group.masterId === this.o.brokerId) this.kick();
      this.schedule('keepAlive', this.keepAliveMs, () => void this.keepAliveTick());
    } else if (outcome === 'expired') {
      this.lease = undefined;
      this.stepDown('etcd no longer has our lease');
      await this.renewLease();
    } else {
      this.warn('keepAlive', `lease keep-alive failed (${Math.max(0, Math.round(lease.remainingMs()))} ms left): ${messageOf(lease.lastFailure)}`);
      this.schedule('keepAlive', Math.min(250, this.keepAliveMs), () => void this.keepAliveTick());
    }
  }

  /** While master, a timer makes us step down when the lease gets too close to its end. */
  private armStepDown(): void {
    if (this.current.role !== 'MASTER' || !this.lease) return;
    // A timer may fire a fraction of a millisecond before performance.now() says it is due.
    this.schedule('stepDown', Math.max(0, this.lease.remainingMs() - this.marginMs) + 1, () => {
      if (this.current.role !== 'MASTER') return;
      if (this.canActAsMaster()) this.armStepDown();
      else this.stepDown('no successful keep-alive in time: etcd out of reach');
    });
  }

  private async renewLease(): Promise<void> {
    const client = this.client;
    if (this.closed || !client) return;
    try {
      const lease = await MemberLease.grant(client, this.o.leaseTtlSec, this.o.callTimeoutMs);
      if (this.closed) return void lease.revoke(this.o.callTimeoutMs).catch(() => undefined);
      this.lease = lease;
      this.log.info({ lease: lease.id }, 'new lease granted');
      this.schedule('keepAlive', this.keepAliveMs, () => void this.keepAliveTick());
      // Our candidate key went with the old lease: others must see this member again.
      await this.publish(client, lease, this.candidate(this.offset() ?? 0, 0));
      this.kick();
    } catch (err) {
      this.warn('keepAlive', `could not get a new lease: ${messageOf(err)}`);
      this.schedule('keepAlive', Math.min(500, this.keepAliveMs), () => void this.keepAliveTick());
    }
  }

  // --- following etcd ----------------------------------------------------------------------

  /** Runs reconcile now, or once more right after the one in progress. */
  private kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    // finally() runs after the assignment even when drain finishes without waiting.
    this.running = this.drain().finally(() => (this.running = undefined));
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      await this.reconcile().catch((err: unknown) => this.log.error({ err }, 'reconcile failed'));
    } while (this.again && !this.closed);
  }

  /** A watch can miss events while it reconnects: read the group once per TTL regardless. */
  private periodic(): void {
    this.kick();
    this.schedule('periodic', this.ttlMs, () => this.periodic());
  }

  private async reconcile(): Promise<void> {
    const client = this.client;
    if (this.closed || !client) return;
    let snapshot: GroupSnapshot;
    try {
      const read = await readGroup(client, this.keys);
      for (const key of read.malformed) this.warn(`malformed ${key}`, `ignoring ${key}: its value does not parse`);
      snapshot = read.snapshot;
    } catch (err) {
      this.warn('read', `could not read the group: ${messageOf(err)}`);
      return;
    }
    if (this.closed) return;
    this.warned.delete('read');
    this.recordGroup(snapshot);
    if (snapshot.master) return this.follow(snapshot);
    return this.onVacancy(snapshot);
  }

  private recordGroup(s: GroupSnapshot): void {
    const m = s.master?.record;
    this.group = {
      epoch: s.epoch,
      masterId: m?.brokerId,
      ...(m ? { masterAddr: m.brokerAddr, masterHaAddr: m.haAddr } : {}),
      syncStateSet: s.syncState?.ids ?? [],
    };
  }

  private follow(s: GroupSnapshot): void {
    this.vacantSince = undefined;
    const { record, lease } = s.master!;
    if (record.brokerId === this.o.brokerId && lease === this.lease?.id) {
      if (this.lease.remainingMs() > this.marginMs) {
        this.setRole({ role: 'MASTER', epoch: record.epoch, masterId: record.brokerId, masterAddr: this.o.brokerAddr, masterHaAddr: this.o.haAddr });
        this.armStepDown();
      }
      return;
    }
    if (record.brokerId === this.o.brokerId) {
      // Left by our previous run (killed less than a TTL ago) or by a second process given our
      // id: not ours to delete. It lapses with that lease and the group elects again.
      this.warn('staleSelf', `the master key names this member (id ${record.brokerId}) under lease ${lease}, not ours; waiting for it to lapse`);
      this.setRole({ role: 'SLAVE', epoch: record.epoch });
      return;
    }
    this.warned.delete('staleSelf');
    this.setRole({ role: 'SLAVE', epoch: record.epoch, masterId: record.brokerId, masterAddr: record.brokerAddr, masterHaAddr: record.haAddr });
  }

  private async onVacancy(s: GroupSnapshot): Promise<void> {
    if (this.current.role === 'MASTER') this.stepDown('the master key is gone');
    else this.setRole({ role: 'SLAVE', epoch: s.epoch });
    const client = this.client!;
    const lease = this.lease;
    if (!lease) return; // renewLease kicks once a new lease is granted
    const now = monotonicMs();
    this.vacantSince ??= now;
    const offset = this.offset();
    if (offset === undefined) return;
    const mine = s.candidates.find((c) => c.brokerId === this.o.brokerId);
    // Publish once per vacancy, and again while settling if our log still grew (a slave may still
    // be applying what the old master sent); after that, decide on what was published rather
    // than chase a moving offset.
    const settling = now < this.vacantSince + this.o.settleMs;
    if (!mine || mine.forEpoch !== s.epoch + 1 || (settling && mine.offset !== offset)) {
      // Read again with our offset in it (the watch would tell too, unless it is reconnecting).
      if (await this.publish(client, lease, this.candidate(offset, s.epoch + 1))) this.again = true;
      return;
    }
    const d = decideVacancy({ snapshot: s, selfId: this.o.brokerId, vacantSinceMs: this.vacantSince, nowMs: now, settleMs: this.o.settleMs });
    this.log.debug({ epoch: s.epoch, decision: d, candidates: s.candidates.map((c) => [c.brokerId, c.offset, c.forEpoch]) }, 'vacancy');
    if (d.kind === 'settle') this.schedule('decide', Math.max(10, d.untilMs - now), () => this.kick());
    if (d.kind === 'blocked') this.warn('blocked', `no election while ${d.keys.join(', ')} cannot be read`);
    else this.warned.delete('blocked');
    if (d.kind !== 'campaign') return;
    this.stats.campaigns++;
    try {
      const won = await tryElect(client, this.keys, {
        observedEpoch: s.epoch,
        leaseId: lease.id,
        master: { brokerId: this.o.brokerId, brokerAddr: this.o.brokerAddr, haAddr: this.o.haAddr },
      });
      this.warned.delete('elect');
      this.log.info({ epoch: s.epoch + 1, offset, won }, won ? 'elected master' : 'lost the election transaction');
      if (won) {
        this.stats.won++;
        this.again = true; // read our master key back and take the role from it
        return;
      }
      this.stats.lost++;
    } catch (err) {
      // The transaction may have committed without our hearing it: the next read tells.
      this.warn('elect', `election transaction failed: ${messageOf(err)}`);
    }
    // The winner's put reaches us through the watch; this read is the fallback, paced so that a
    // transaction that keeps failing cannot spin.
    this.schedule('decide', Math.max(100, this.o.settleMs), () => this.kick());
  }

  private async publish(client: Etcd3, lease: MemberLease, c: CandidateRecord): Promise<boolean> {
    try {
      await putCandidate(client, this.keys, lease.id, c);
      this.warned.delete('publish');
      return true;
    } catch (err) {
      this.warn('publish', `could not publish this member: ${messageOf(err)}`);
      this.schedule('decide', Math.max(100, this.o.settleMs), () => this.kick());
      return false;
    }
  }

  private candidate(offset: number, forEpoch: number): CandidateRecord {
    return { brokerId: this.o.brokerId, brokerAddr: this.o.brokerAddr, haAddr: this.o.haAddr, offset, forEpoch };
  }

  private offset(): number | undefined {
    try {
      const v = this.o.replicatedOffset();
      if (Number.isSafeInteger(v) && v >= 0) return v;
      this.warn('offset', `replicatedOffset() returned ${v}; not campaigning`);
    } catch (err) {
      this.warn('offset', `replicatedOffset() threw: ${messageOf(err)}; not campaigning`);
    }
    return undefined;
  }

  // --- roles -------------------------------------------------------------------------------

  private stepDown(why: string): void {
    if (this.current.role !== 'MASTER') return;
    this.log.warn({ epoch: this.current.epoch }, `stepping down: ${why}`);
    this.setRole({ role: 'SLAVE', epoch: this.current.epoch });
  }

  private setRole(next: RoleChange): void {
    const c = this.current;
    if (
      c.role === next.role &&
      c.epoch === next.epoch &&
      c.masterId === next.masterId &&
      c.masterAddr === next.masterAddr &&
      c.masterHaAddr === next.masterHaAddr
    ) {
      return;
    }
    if (c.role === 'MASTER' && next.role !== 'MASTER') {
      this.stats.stepDowns++;
      this.clear('stepDown');
    }
    this.current = next;
    this.log.info(next, 'role');
    if (next.masterId !== undefined) this.firstMaster?.();
    this.emit('role', { ...next });
  }

  // --- plumbing ----------------------------------------------------------------------------

  private schedule(name: string, ms: number, fn: () => void): void {
    this.clear(name);
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(name);
      if (!this.closed) fn();
    }, ms);
    t.unref();
    this.timers.set(name, t);
  }

  private clear(name: string): void {
    const t = this.timers.get(name);
    if (t) clearTimeout(t);
    this.timers.delete(name);
  }

  /** Logs a recurring problem once until it clears, so an etcd outage is not a log flood. */
  private warn(topic: string, message: string): void {
    if (this.warned.has(topic)) return;
    this.warned.add(topic);
    this.log.warn(message);
  }
}

/** Waits for p (its failure ignored) at most ms. */
async function withTimeout(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (!p) return;
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((resolve) => (t = setTimeout(resolve, ms)))]);
  clearTimeout(t);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
