// One broker's part in its group's replication, by role. A master (brokerId 0) listens on
// haListenPort and streams its commit log to the slaves; under SYNC_MASTER a send is answered
// only once the in-sync slaves hold it. A slave (brokerId ≥ 1 or brokerRole SLAVE) refuses
// writes, applies the master's log, and copies its metadata; the master's addresses come from the
// name servers' answer to its registration.
import type { Logger } from '../../common/logger.js';
import type { BrokerConfig } from '../../config/index.js';
import { BrokerError, ResponseCode, type RemotingClient } from '../../remoting/index.js';
import { PutMessageStatus, type MessageStore, type PutMessageResult } from '../../store/index.js';
import { HaMaster, type EpochView, type HaSourceLog, type SlaveView } from './ha-master.js';
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
  /** The master's addresses as the name servers last told this broker. */
  masterAddresses(): MasterAddresses;
  /** The slave's side of the store (append at an offset, truncate). */
  targetLog(): HaTargetLog;
  logger: Logger;
}

/** Classic mode has one epoch, 0, starting at offset 0. */
const CLASSIC_EPOCHS: EpochView = { current: () => ({ epoch: 0, start: 0 }), endOf: () => undefined };

export function roleOf(config: Pick<BrokerConfig, 'brokerId' | 'brokerRole'>): ReplicaRole {
  return config.brokerId > 0 || config.brokerRole === 'SLAVE' ? 'SLAVE' : 'MASTER';
}

export function haPortOf(config: Pick<BrokerConfig, 'haListenPort' | 'listenPort'>, listenPort: number): number {
  if (config.haListenPort >= 0) return config.haListenPort;
  return config.listenPort === 0 ? 0 : listenPort + 1;
}

export class Replication {
  readonly role: ReplicaRole;
  master: HaMaster | undefined;
  slave: HaSlave | undefined;
  sync: SlaveSync | undefined;
  private readonly syncMaster: boolean;

  constructor(private readonly o: ReplicationOptions) {
    this.role = roleOf(o.config);
    this.syncMaster = this.role === 'MASTER' && o.config.brokerRole === 'SYNC_MASTER';
  }

  /** Starts the role's side; returns the HA listener's port (masters) or undefined. */
  async start(listenPort: number): Promise<number | undefined> {
    const c = this.o.config;
    if (this.role === 'MASTER') {
      this.master = new HaMaster({
        host: c.host,
        port: haPortOf(c, listenPort),
        brokerName: c.brokerName,
        log: sourceLog(this.o.store),
        epochs: CLASSIC_EPOCHS,
        haMaxTimeSlaveNotCatchup: c.haMaxTimeSlaveNotCatchup,
        inSyncReplicas: c.inSyncReplicas,
        logger: this.o.logger.child({ ha: 'master' }),
      });
      return this.master.listen();
    }
    this.slave = new HaSlave({
      brokerName: c.brokerName,
      brokerId: c.brokerId,
      log: this.o.targetLog(),
      masterHaAddr: () => this.o.masterAddresses().haAddr,
      lastEpoch: () => ({ epoch: 0, start: 0 }),
      onEpoch: () => undefined,
      logger: this.o.logger.child({ ha: 'slave' }),
    });
    this.slave.start();
    this.sync = new SlaveSync(this.o.parts, this.o.client, () => this.o.masterAddresses().masterAddr, c.haSlaveSyncMetadataIntervalMs, this.o.logger);
    this.sync.start();
    return undefined;
  }

  /** New log was written (a dispatch): masters send it on. */
  notifyWritten(): void {
    this.master?.notifyWritten();
  }

  /** Refuses a send before it is stored: slaves never write, and too few in-sync members refuse. */
  beforePut(): void {
    if (this.role === 'SLAVE') {
      throw new BrokerError(ResponseCode.SLAVE_NOT_AVAILABLE, `broker ${this.o.config.brokerName} id ${this.o.config.brokerId} is a slave; send to the master (brokerId 0)`);
    }
    const min = this.o.config.minInSyncReplicas;
    if (this.master && min > 1 && !this.master.hasInSync(min)) {
      throw new BrokerError(
        ResponseCode.SYSTEM_ERROR,
        `in-sync replicas not enough: ${this.master.syncStateSet().length} in sync, minInSyncReplicas=${min} (IN_SYNC_REPLICAS_NOT_ENOUGH)`,
      );
    }
  }

  /**
   * SYNC_MASTER: waits until the put is held by the in-sync set, else marks it FLUSH_SLAVE_TIMEOUT
   * (stored here, not confirmed by the replicas). Undefined (nothing to wait for) otherwise.
   */
  afterPut(put: PutMessageResult): Promise<void> | undefined {
    if (!this.syncMaster || !this.master) return undefined;
    if (put.status !== PutMessageStatus.PUT_OK && put.status !== PutMessageStatus.FLUSH_DISK_TIMEOUT) return undefined;
    return this.master.waitReplicated(put.wroteOffset + put.wroteBytes, this.o.config.syncFlushTimeout).then((ok) => {
      if (!ok && put.status === PutMessageStatus.PUT_OK) {
        put.status = this.master!.syncStateSet().length > 1 ? PutMessageStatus.FLUSH_SLAVE_TIMEOUT : PutMessageStatus.SLAVE_NOT_AVAILABLE;
      }
    });
  }

  epoch(): number {
    return CLASSIC_EPOCHS.current().epoch;
  }

  slaves(): SlaveView[] {
    return this.master?.slaves() ?? [];
  }

  syncStateSet(): number[] {
    return this.master?.syncStateSet() ?? [];
  }

  async stop(): Promise<void> {
    this.sync?.stop();
    await this.slave?.stop();
    await this.master?.close();
  }
}

/** The store's replication API, as the slave side uses it. */
export function replicaTarget(store: MessageStore): HaTargetLog {
  return {
    maxOffset: () => store.getMaxPhyOffset(),
    append: async (offset, data) => {
      await store.appendReplicated(offset, data);
    },
    truncate: async (offset) => {
      await store.truncateTo(offset);
    },
  };
}

/** The master's commit log as the HA stream reads it. */
function sourceLog(store: MessageStore): HaSourceLog {
  return {
    minOffset: () => store.getMinPhyOffset(),
    writtenOffset: () => store.getWrittenPhyOffset(),
    read: (offset, maxBytes) => store.readRawCommitLog(offset, maxBytes),
  };
}
