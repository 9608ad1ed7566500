// One broker's part in its group's replication.
//
// Classic mode (static roles, as RocketMQ's): a master (brokerId 0) listens on haListenPort and
// streams its commit log to the slaves; under SYNC_MASTER a send is answered only once the
// in-sync slaves hold it. A slave (brokerId ≥ 1 or brokerRole SLAVE) refuses writes, applies the
// master's log and copies its metadata; it learns the master's addresses from the name servers.
//
// Controller mode (enableControllerMode): etcd elects the master (controller/). Every member binds
// its HA listener at start and stands by as a slave; an elected member cuts any half-received
// record, opens a new epoch at its log end, and starts serving; a deposed one stops writing at
// once and follows the new master, which orders it to cut what no one acknowledged. The in-sync
// set lives in etcd, and a record is acknowledged only once every member of that stored set
// holds it, so any member etcd may elect next holds everything acknowledged.
import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';
import type { BrokerConfig } from '../../config/index.js';
import { BrokerError, ResponseCode, type RemotingClient } from '../../remoting/index.js';
import { PutMessageStatus, type MessageStore, type PutMessageResult } from '../../store/index.js';
import { controllerOptionsFromConfig, EtcdBrokerController, type RoleChange } from './controller/index.js';
import { EpochTable } from './epoch-table.js';
import { HaMaster, type HaSourceLog, type SlaveView } from './ha-master.js';
import { HaSlave, type HaTargetLog } from './ha-slave.js';
import { SlaveSync, type SlaveSyncParts } from './slave-sync.js';

export type ReplicaRole = 'MASTER' | 'SLAVE';

export interface MasterAddresses {
  masterAddr?: string;
  haAddr?: string;
}

export interface ReplicationOptions {
  config: BrokerConfig;
  store: MessageStore;
  parts: SlaveSyncParts;
  client: RemotingClient;
  /** Classic mode: the master's addresses as the name servers last told this broker. */
  masterAddresses(): MasterAddresses;
  logger: Logger;
  /** Called after this member became master (start what only masters run) or stopped being one. */
  onRoleChange?(role: ReplicaRole): Promise<void>;
}

const ISR_CHECK_MS = 200;

export function roleOf(config: Pick<BrokerConfig, 'brokerId' | 'brokerRole'>): ReplicaRole {
  return config.brokerId > 0 || config.brokerRole === 'SLAVE' ? 'SLAVE' : 'MASTER';
}

export function haPortOf(config: Pick<BrokerConfig, 'haListenPort' | 'listenPort'>, listenPort: number): number {
  if (config.haListenPort >= 0) return config.haListenPort;
  return config.listenPort === 0 ? 0 : listenPort + 1;
}

export class Replication {
  role: ReplicaRole;
  readonly controllerMode: boolean;
  readonly epochs: EpochTable;
  master: HaMaster | undefined;
  slave: HaSlave | undefined;
  sync: SlaveSync | undefined;
  controller: EtcdBrokerController | undefined;
  private readonly syncMasterConfigured: boolean;
  /** Controller mode: the in-sync set as last stored in etcd (member ids). */
  private storedIsr = new Set<number>();
  private controllerMaster: MasterAddresses = {};
  private isrTimer: NodeJS.Timeout | undefined;
  private isrBusy = false;
  private transition: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: ReplicationOptions) {
    this.controllerMode = o.config.enableControllerMode;
    this.role = this.controllerMode ? 'SLAVE' : roleOf(o.config);
    this.syncMasterConfigured = o.config.brokerRole === 'SYNC_MASTER' || this.controllerMode;
    this.epochs = new EpochTable(join(o.config.storePathRootDir, 'config', 'epochs.json'));
  }

  /** The id this member is known by: its configured brokerId (a member id in controller mode). */
  get memberId(): number {
    return this.o.config.brokerId;
  }

  /** The brokerId to register with the name servers: 0 for whoever is master now. */
  get registrationId(): number {
    return this.role === 'MASTER' ? 0 : this.memberId;
  }

  /** Starts the role's side; returns the HA listener's port when this member has one. */
  async start(listenPort: number, brokerAddr: string, host: string): Promise<number | undefined> {
    const c = this.o.config;
    this.epochs.load();
    if (this.controllerMode && c.brokerId < 1) {
      throw new Error(`controller mode: brokerId ${c.brokerId} must be ≥ 1 (it names the member; the elected master registers as 0)`);
    }
    let haPort: number | undefined;
    if (this.controllerMode || this.role === 'MASTER') {
      this.master = new HaMaster({
        host: c.host,
        port: haPortOf(c, listenPort),
        brokerName: c.brokerName,
        log: sourceLog(this.o.store),
        epochs: this.epochs,
        haMaxTimeSlaveNotCatchup: c.haMaxTimeSlaveNotCatchup,
        inSyncReplicas: c.inSyncReplicas,
        logger: this.o.logger.child({ ha: 'master' }),
        selfId: this.controllerMode ? this.memberId : 0,
        ackSet: this.controllerMode ? () => this.storedIsr : undefined,
        active: !this.controllerMode,
        onConfirmed: this.syncMasterConfigured ? (offset) => this.o.store.setConfirmedOffset(offset) : undefined,
      });
      haPort = await this.master.listen();
      const master = this.master;
      this.o.store.addWriteListener(() => master.onWritten());
      this.o.store.setReplicationStream(master);
    }
    // An ASYNC_MASTER shows everything it holds. A slave keeps the confirmed offset its checkpoint
    // holds until its master tells it the current one (a slave that restarts while its master is
    // down must not show the tail a failover could cut).
    if (this.role === 'MASTER' && !this.syncMasterConfigured) this.o.store.clearConfirmedOffset();
    if (this.role === 'SLAVE') this.startSlave();
    if (this.controllerMode) {
      const opts = controllerOptionsFromConfig(c, {
        brokerAddr,
        haAddr: `${host}:${haPort}`,
        logger: this.o.logger.child({ ha: 'controller' }),
        replicatedOffset: () => this.o.store.getMaxPhyOffset(),
      })!;
      // Listening before joining: the first role is decided while start() runs.
      const controller = new EtcdBrokerController(opts);
      this.controller = controller;
      controller.on('role', (r) => {
        this.transition = this.transition.then(() => this.onRole(r)).catch((err: unknown) => this.o.logger.error({ err }, 'role change failed'));
      });
      await controller.start();
    }
    return haPort;
  }

  private startSlave(): void {
    const c = this.o.config;
    const store = this.o.store;
    const masterAddrs = (): MasterAddresses => (this.controllerMode ? this.controllerMaster : this.o.masterAddresses());
    this.slave = new HaSlave({
      brokerName: c.brokerName,
      brokerId: this.memberId,
      log: replicaTarget(store, this.epochs),
      masterHaAddr: () => masterAddrs().haAddr,
      lastEpoch: () => this.epochs.current(),
      onEpoch: (epoch, start) => void this.epochs.add(epoch, start),
      onConfirmed: (offset) => (offset < 0 ? store.clearConfirmedOffset() : store.setConfirmedOffset(offset)),
      reportOnWrite: store.config.flushDiskType !== 'SYNC_FLUSH',
      logger: this.o.logger.child({ ha: 'slave' }),
    });
    this.slave.start();
    this.sync = new SlaveSync(this.o.parts, this.o.client, () => masterAddrs().masterAddr, c.haSlaveSyncMetadataIntervalMs, this.o.logger);
    this.sync.start();
  }

  private async stopSlave(): Promise<void> {
    this.sync?.stop();
    this.sync = undefined;
    await this.slave?.stop();
    this.slave = undefined;
  }

  private async onRole(r: RoleChange): Promise<void> {
    if (this.stopped) return;
    if (r.role === 'SLAVE') {
      const moved = r.masterHaAddr !== this.controllerMaster.haAddr;
      this.controllerMaster = { masterAddr: r.masterAddr, haAddr: r.masterHaAddr };
      if (this.role === 'MASTER') await this.demote(r.epoch);
      else if (moved) this.slave?.retryNow();
      return;
    }
    if (this.role === 'MASTER') return;
    await this.promote(r.epoch);
  }

  private async promote(epoch: number): Promise<void> {
    const log = this.o.logger;
    await this.stopSlave();
    await this.o.store.endReplication();
    await this.epochs.add(epoch, this.o.store.getMaxPhyOffset());
    // Until slaves reconnect, the stored in-sync set is what etcd holds for the group; the ISR
    // loop shrinks it to those actually caught up before anything is acknowledged without them.
    this.storedIsr = new Set(this.controller?.state.syncStateSet ?? [this.memberId]);
    this.storedIsr.add(this.memberId);
    this.role = 'MASTER';
    // The elected log is the group's from now on: all of it may be read.
    this.o.store.setConfirmedOffset(this.o.store.getMaxPhyOffset());
    this.master!.activate(this.o.store.getMaxPhyOffset());
    this.isrTimer = setInterval(() => void this.maintainIsr(), ISR_CHECK_MS);
    this.isrTimer.unref();
    await this.maintainIsr();
    log.warn({ epoch, offset: this.o.store.getMaxPhyOffset() }, 'this member is now the master of its group');
    await this.o.onRoleChange?.('MASTER');
  }

  private async demote(epoch: number): Promise<void> {
    this.o.logger.warn({ epoch, master: this.controllerMaster.masterAddr }, 'this member is no longer the master; following the new one');
    this.role = 'SLAVE';
    if (this.isrTimer) clearInterval(this.isrTimer);
    this.master?.deactivate();
    // The confirmed offset it kept as master stays until the new master sends its own: the tail
    // past it may be cut, so no consumer of this member may see it meanwhile.
    await this.o.onRoleChange?.('SLAVE');
    this.startSlave();
  }

  /**
   * Controller mode, master only: shrink the stored in-sync set before acknowledging without a
   * member, grow it once a member has caught up.
   */
  private async maintainIsr(): Promise<void> {
    if (this.isrBusy || this.role !== 'MASTER' || !this.controller || !this.master) return;
    this.isrBusy = true;
    try {
      const local = new Set(this.master.syncStateSet());
      const next = [...local].sort((a, b) => a - b);
      const same = next.length === this.storedIsr.size && next.every((id) => this.storedIsr.has(id));
      if (same) return;
      if (await this.controller.updateSyncStateSet(next)) {
        this.storedIsr = local;
        this.o.logger.info({ syncStateSet: next }, 'in-sync set stored');
        this.master.recheck();
      }
    } finally {
      this.isrBusy = false;
    }
  }

  /** New log was written (a dispatch): the master sends it on. */
  notifyWritten(): void {
    this.master?.notifyWritten();
  }

  /** Refuses a send before it is stored: slaves never write, and too few in-sync members refuse. */
  beforePut(): void {
    const c = this.o.config;
    if (this.role === 'SLAVE') {
      throw new BrokerError(ResponseCode.SLAVE_NOT_AVAILABLE, `broker ${c.brokerName} member ${this.memberId} is a slave; send to the master (brokerId 0)`);
    }
    if (this.controller && !this.controller.canActAsMaster()) {
      throw new BrokerError(ResponseCode.SLAVE_NOT_AVAILABLE, `broker ${c.brokerName} member ${this.memberId} cannot confirm its mastership with etcd; not taking writes`);
    }
    const min = c.minInSyncReplicas;
    if (this.master && min > 1 && !this.master.hasInSync(min)) {
      throw new BrokerError(
        ResponseCode.SYSTEM_ERROR,
        `in-sync replicas not enough: ${this.master.syncStateSet().length} in sync, minInSyncReplicas=${min} (IN_SYNC_REPLICAS_NOT_ENOUGH)`,
      );
    }
  }

  /**
   * SYNC_MASTER (and every controller-mode master): waits until the put is held as the in-sync
   * set requires, else marks it FLUSH_SLAVE_TIMEOUT (stored here, not confirmed by the replicas).
   * Undefined (nothing to wait for) otherwise.
   */
  afterPut(put: PutMessageResult): Promise<void> | undefined {
    if (!this.syncMasterConfigured || this.role !== 'MASTER' || !this.master) return undefined;
    if (put.status !== PutMessageStatus.PUT_OK && put.status !== PutMessageStatus.FLUSH_DISK_TIMEOUT) return undefined;
    return this.master.waitReplicated(put.wroteOffset + put.wroteBytes, this.o.config.syncFlushTimeout).then((ok) => {
      if (!ok && put.status === PutMessageStatus.PUT_OK) {
        put.status = this.master!.syncStateSet().length > 1 ? PutMessageStatus.FLUSH_SLAVE_TIMEOUT : PutMessageStatus.SLAVE_NOT_AVAILABLE;
      }
    });
  }

  /**
   * slaveReadEnable: where a pull's client should read next (RocketMQ's suggestWhichBrokerId). A
   * read far behind the log end (slow) goes to a slave: the group's whichBrokerWhenConsumeSlowly
   * when that slave is connected and in sync, else the lowest such slave, else this master. A
   * slave keeps a slow reader and sends one that caught up back to the master (0).
   */
  suggestPullFrom(group: string, slow: boolean): number {
    if (!this.o.config.slaveReadEnable || !slow) return 0;
    if (this.role === 'SLAVE') return this.memberId;
    const inSync = this.master?.syncStateSet().filter((id) => id !== (this.controllerMode ? this.memberId : 0)) ?? [];
    if (inSync.length === 0) return 0;
    const wanted = this.o.parts.subscriptionGroupManager.findSubscriptionGroupConfig(group)?.whichBrokerWhenConsumeSlowly ?? 1;
    return inSync.includes(wanted) ? wanted : inSync[0];
  }

  epoch(): number {
    return this.epochs.current().epoch;
  }

  slaves(): SlaveView[] {
    return this.role === 'MASTER' ? (this.master?.slaves() ?? []) : [];
  }

  syncStateSet(): number[] {
    if (this.role !== 'MASTER') return this.controller?.state.syncStateSet ?? [];
    return this.controller ? [...this.storedIsr].sort((a, b) => a - b) : (this.master?.syncStateSet() ?? []);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.isrTimer) clearInterval(this.isrTimer);
    await this.transition;
    await this.controller?.close();
    await this.stopSlave();
    await this.master?.close();
  }
}

/** The slave's side of the store, with its epoch table kept in step on truncation. */
export function replicaTarget(store: MessageStore, epochs: EpochTable): HaTargetLog {
  return {
    maxOffset: () => store.getMaxPhyOffset(),
    append: (offset, data) => store.appendReplicated(offset, data),
    onWritten: (listener) => {
      store.addWriteListener(listener);
      return () => store.removeWriteListener(listener);
    },
    truncate: async (offset) => {
      await store.truncateTo(offset);
      await epochs.truncate(offset);
    },
    reset: async (offset, entries) => {
      await store.resetReplica(offset);
      await epochs.replace(entries);
    },
  };
}

/** The master's commit log as the HA stream reads it. */
function sourceLog(store: MessageStore): HaSourceLog {
  return {
    minOffset: () => store.getMinPhyOffset(),
    writtenOffset: () => store.getWrittenPhyOffset(),
    read: (offset, maxBytes) => store.readRawCommitLog(offset, maxBytes),
    readHot: (offset, maxBytes, into) => store.readRawCommitLogHot(offset, maxBytes, into),
  };
}
