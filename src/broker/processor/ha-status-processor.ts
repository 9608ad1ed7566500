// GET_BROKER_HA_STATUS (RocketMQ's haStatus): this broker's replication as it sees it. A master
// lists its slaves with their confirmed offsets and whether each is in sync; a slave names the
// master it copies from and what it holds. Field names follow Java's HARuntimeInfo, plus the
// in-sync set and epoch that getSyncStateSet shows.
import { createResponse, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import type { MessageStore } from '../../store/index.js';
import type { Replication } from '../ha/replication.js';

export class HaStatusProcessor {
  constructor(
    private readonly replication: Replication,
    private readonly store: MessageStore,
    private readonly brokerName: string,
    private readonly brokerId: number,
  ) {}

  readonly process = (): RemotingCommand => {
    const r = this.replication;
    const max = this.store.getMaxPhyOffset();
    const slaves = r.slaves();
    const body = {
      brokerName: this.brokerName,
      brokerId: this.brokerId,
      master: r.role === 'MASTER',
      epoch: r.epoch(),
      masterCommitLogMaxOffset: max,
      inSyncSlaveNums: slaves.filter((s) => s.inSync).length,
      syncStateSet: r.syncStateSet(),
      haConnectionInfo: slaves.map((s) => ({ brokerId: s.brokerId, addr: s.address, slaveAckOffset: s.ackOffset, diff: s.lagBytes, inSync: s.inSync })),
      haClientRuntimeInfo: r.slave
        ? { masterAddr: r.slave.masterAddress ?? '', maxOffset: max, isActivated: r.slave.connected, appliedBytes: r.slave.applied, lastError: r.slave.lastError }
        : undefined,
    };
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, Buffer.from(JSON.stringify(body)));
  };
}
