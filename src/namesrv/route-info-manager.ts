// The name server's route registry (RocketMQ RouteInfoManager): which broker groups serve
// which topics, which brokers are alive, and which clusters they form. Pure state plus a
// clock; the request processors and the expiry timer drive it.
import {
  MASTER_ID,
  PermName,
  queueDataJson,
  sameDataVersion,
  type BrokerData,
  type DataVersionData,
  type QueueData,
  type RegisterBrokerBody,
  type TopicConfig,
  type TopicRouteData,
} from '../remoting/protocol/index.js';

/** A broker's connection as far as the registry cares: something that can be closed. */
export interface BrokerChannel {
  close(): void;
}

interface BrokerGroup {
  cluster: string;
  brokerName: string;
  brokerAddrs: Map<number, string>;
  enableActingMaster: boolean;
  zoneName?: string;
}

export interface BrokerLiveInfo {
  lastUpdateTimestamp: number;
  heartbeatTimeoutMillis: number;
  dataVersion: DataVersionData;
  channel: BrokerChannel | undefined;
  haServerAddr: string;
}

export interface RegisterBrokerRequest {
  clusterName: string;
  brokerAddr: string;
  brokerName: string;
  brokerId: number;
  haServerAddr: string;
  zoneName?: string;
  /** Broker-chosen expiry; the name server's brokerChannelExpiredTime when absent. */
  heartbeatTimeoutMillis?: number;
  /** Absent for brokers older than 5.x. */
  enableActingMaster?: boolean;
  body: RegisterBrokerBody;
  channel?: BrokerChannel;
}

export interface RegisterBrokerResult {
  masterAddr?: string;
  haServerAddr?: string;
}

export interface RouteInfoManagerOptions {
  now?: () => number;
  /** ms of silence after which a broker that gave no timeout of its own is dropped. */
  brokerChannelExpiredTime?: number;
}

export interface UnregisteredBroker {
  clusterName: string;
  brokerAddr: string;
  brokerName: string;
  brokerId: number;
}

const liveKey = (cluster: string, addr: string): string => `${cluster}\n${addr}`;

export class RouteInfoManager {
  /** topic → brokerName → queue data */
  private readonly topicQueueTable = new Map<string, Map<string, QueueData>>();
  /** brokerName → group */
  private readonly brokerAddrTable = new Map<string, BrokerGroup>();
  /** cluster → brokerNames */
  private readonly clusterAddrTable = new Map<string, Set<string>>();
  /** cluster+addr → liveness */
  private readonly brokerLiveTable = new Map<string, BrokerLiveInfo>();
  /** cluster+addr → filter servers (always empty lists in practice) */
  private readonly filterServerTable = new Map<string, string[]>();
  private readonly now: () => number;
  private readonly defaultTimeout: number;

  constructor(opts: RouteInfoManagerOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.defaultTimeout = opts.brokerChannelExpiredTime ?? 120_000;
  }

  registerBroker(req: RegisterBrokerRequest): RegisterBrokerResult | null {
    const { clusterName, brokerAddr, brokerName, brokerId, body } = req;
    let names = this.clusterAddrTable.get(clusterName);
    if (!names) this.clusterAddrTable.set(clusterName, (names = new Set()));
    names.add(brokerName);

    let group = this.brokerAddrTable.get(brokerName);
    let registerFirst = group === undefined;
    if (!group) {
      group = { cluster: clusterName, brokerName, brokerAddrs: new Map(), enableActingMaster: false };
      this.brokerAddrTable.set(brokerName, group);
    }
    const isOldVersionBroker = req.enableActingMaster === undefined;
    group.enableActingMaster = req.enableActingMaster ?? false;
    if (req.zoneName !== undefined) group.zoneName = req.zoneName;

    // One address has one id: a slave promoted to master re-registers under id 0.
    for (const [id, addr] of group.brokerAddrs) {
      if (addr === brokerAddr && id !== brokerId) group.brokerAddrs.delete(id);
    }
    // A stale registration for an id that a newer broker state already owns is refused.
    const oldAddr = group.brokerAddrs.get(brokerId);
    if (oldAddr !== undefined && oldAddr !== brokerAddr) {
      const old = this.brokerLiveTable.get(liveKey(clusterName, oldAddr));
      if (old && old.dataVersion.stateVersion > body.dataVersion.stateVersion) {
        this.brokerLiveTable.delete(liveKey(clusterName, brokerAddr));
        return null;
      }
    }
    group.brokerAddrs.set(brokerId, brokerAddr);
    registerFirst ||= oldAddr === undefined;

    const isMaster = brokerId === MASTER_ID;
    const isPrimeSlave = !isOldVersionBroker && !isMaster && brokerId === Math.min(...group.brokerAddrs.keys());
    if ((isMaster || isPrimeSlave) && (registerFirst || this.isBrokerTopicConfigChanged(clusterName, brokerAddr, body.dataVersion))) {
      for (const tc of body.topicConfigTable.values()) this.createAndUpdateQueueData(brokerName, tc);
    }

    const key = liveKey(clusterName, brokerAddr);
    this.brokerLiveTable.set(key, {
      lastUpdateTimestamp: this.now(),
      heartbeatTimeoutMillis: req.heartbeatTimeoutMillis ?? this.defaultTimeout,
      dataVersion: { ...body.dataVersion },
      channel: req.channel,
      haServerAddr: req.haServerAddr,
    });
    if (body.filterServerList.length > 0) this.filterServerTable.set(key, [...body.filterServerList]);
    else this.filterServerTable.delete(key);

    const result: RegisterBrokerResult = {};
    if (!isMaster) {
      const masterAddr = group.brokerAddrs.get(MASTER_ID);
      if (masterAddr !== undefined) {
        result.masterAddr = masterAddr;
        result.haServerAddr = this.brokerLiveTable.get(liveKey(clusterName, masterAddr))?.haServerAddr;
      }
    }
    return result;
  }

  private createAndUpdateQueueData(brokerName: string, tc: TopicConfig): void {
    let byBroker = this.topicQueueTable.get(tc.topicName);
    if (!byBroker) this.topicQueueTable.set(tc.topicName, (byBroker = new Map()));
    byBroker.set(brokerName, {
      brokerName,
      readQueueNums: tc.readQueueNums,
      writeQueueNums: tc.writeQueueNums,
      perm: tc.perm,
      topicSysFlag: tc.topicSysFlag,
    });
  }

  /** True when the registry holds no data version for this broker or a different one. */
  isBrokerTopicConfigChanged(clusterName: string, brokerAddr: string, dataVersion: DataVersionData): boolean {
    const prev = this.brokerLiveTable.get(liveKey(clusterName, brokerAddr))?.dataVersion;
    return prev === undefined || !sameDataVersion(prev, dataVersion);
  }

  queryBrokerTopicConfig(clusterName: string, brokerAddr: string): DataVersionData | undefined {
    return this.brokerLiveTable.get(liveKey(clusterName, brokerAddr))?.dataVersion;
  }

  /** A heartbeat: keeps the broker alive without re-sending its topics. Returns false for an unknown broker. */
  updateBrokerInfoUpdateTimestamp(clusterName: string, brokerAddr: string): boolean {
    const live = this.brokerLiveTable.get(liveKey(clusterName, brokerAddr));
    if (live) live.lastUpdateTimestamp = this.now();
    return live !== undefined;
  }

  unregisterBroker(req: UnregisteredBroker): void {
    const key = liveKey(req.clusterName, req.brokerAddr);
    this.brokerLiveTable.delete(key);
    this.filterServerTable.delete(key);

    let removeBrokerName = false;
    const group = this.brokerAddrTable.get(req.brokerName);
    if (group) {
      for (const [id, addr] of group.brokerAddrs) {
        if (addr === req.brokerAddr) group.brokerAddrs.delete(id);
      }
      if (group.brokerAddrs.size === 0) {
        this.brokerAddrTable.delete(req.brokerName);
        removeBrokerName = true;
      }
    }
    if (removeBrokerName) {
      const names = this.clusterAddrTable.get(req.clusterName);
      names?.delete(req.brokerName);
      if (names?.size === 0) this.clusterAddrTable.delete(req.clusterName);
      this.removeTopicsOfBroker(req.brokerName);
    } else if (group?.enableActingMaster && !group.brokerAddrs.has(MASTER_ID)) {
      // Without its master the group can still be read (acting master) but not written.
      for (const byBroker of this.topicQueueTable.values()) {
        const q = byBroker.get(req.brokerName);
        if (q) q.perm &= ~PermName.PERM_WRITE;
      }
    }
  }

  private removeTopicsOfBroker(brokerName: string): void {
    for (const [topic, byBroker] of this.topicQueueTable) {
      if (byBroker.delete(brokerName) && byBroker.size === 0) this.topicQueueTable.delete(topic);
    }
  }

  /** Finds the registration that used this channel and drops it. */
  onChannelDestroy(channel: BrokerChannel): UnregisteredBroker | undefined {
    for (const [key, live] of this.brokerLiveTable) {
      if (live.channel !== channel) continue;
      const found = this.brokerOf(key);
      if (found) this.unregisterBroker(found);
      else this.brokerLiveTable.delete(key);
      return found;
    }
    return undefined;
  }

  private brokerOf(key: string): UnregisteredBroker | undefined {
    const [clusterName, brokerAddr] = key.split('\n');
    for (const group of this.brokerAddrTable.values()) {
      if (group.cluster !== clusterName) continue;
      for (const [brokerId, addr] of group.brokerAddrs) {
        if (addr === brokerAddr) return { clusterName, brokerAddr, brokerName: group.brokerName, brokerId };
      }
    }
    return undefined;
  }

  /** Drops brokers silent for longer than their timeout and closes their channels. */
  scanNotActiveBroker(): UnregisteredBroker[] {
    const now = this.now();
    const dropped: UnregisteredBroker[] = [];
    for (const [key, live] of [...this.brokerLiveTable]) {
      if (live.lastUpdateTimestamp + live.heartbeatTimeoutMillis >= now) continue;
      const found = this.brokerOf(key);
      if (found) {
        this.unregisterBroker(found);
        dropped.push(found);
      } else {
        this.brokerLiveTable.delete(key);
      }
      live.channel?.close();
    }
    return dropped;
  }

  pickupTopicRouteData(topic: string): TopicRouteData | undefined {
    const byBroker = this.topicQueueTable.get(topic);
    if (!byBroker || byBroker.size === 0) return undefined;
    const queueDatas: QueueData[] = [];
    const brokerDatas: BrokerData[] = [];
    const filterServerTable: Record<string, string[]> = {};
    for (const [brokerName, q] of byBroker) {
      queueDatas.push(queueDataJson(q));
      const group = this.brokerAddrTable.get(brokerName);
      if (!group) continue;
      const data = brokerDataJson(group);
      brokerDatas.push(data);
      for (const addr of Object.values(data.brokerAddrs)) {
        const filters = this.filterServerTable.get(liveKey(group.cluster, addr));
        if (filters) filterServerTable[addr] = [...filters];
      }
    }
    if (brokerDatas.length === 0) return undefined;
    return { brokerDatas, filterServerTable, queueDatas };
  }

  getAllClusterInfo(): { brokerAddrTable: Record<string, BrokerData>; clusterAddrTable: Record<string, string[]> } {
    const brokerAddrTable: Record<string, BrokerData> = {};
    for (const [name, group] of this.brokerAddrTable) brokerAddrTable[name] = brokerDataJson(group);
    const clusterAddrTable: Record<string, string[]> = {};
    for (const [cluster, names] of this.clusterAddrTable) clusterAddrTable[cluster] = [...names];
    return { brokerAddrTable, clusterAddrTable };
  }

  getAllTopicList(): string[] {
    return [...this.topicQueueTable.keys()];
  }

  getTopicsByCluster(cluster: string): string[] {
    const names = this.clusterAddrTable.get(cluster);
    if (!names) return [];
    const out: string[] = [];
    for (const [topic, byBroker] of this.topicQueueTable) {
      for (const name of names) {
        if (byBroker.has(name)) {
          out.push(topic);
          break;
        }
      }
    }
    return out;
  }

  /** Removes a topic everywhere, or only from the brokers of one cluster. */
  deleteTopic(topic: string, clusterName?: string): void {
    if (clusterName === undefined || clusterName === '') {
      this.topicQueueTable.delete(topic);
      return;
    }
    const byBroker = this.topicQueueTable.get(topic);
    const names = this.clusterAddrTable.get(clusterName);
    if (!byBroker || !names) return;
    for (const name of names) byBroker.delete(name);
    if (byBroker.size === 0) this.topicQueueTable.delete(topic);
  }

  /** Adds queue data for brokers the registry already knows; others are ignored, as in Java. */
  registerTopic(topic: string, queueDatas: readonly QueueData[]): void {
    for (const q of queueDatas) {
      if (!this.brokerAddrTable.has(q.brokerName)) continue;
      let byBroker = this.topicQueueTable.get(topic);
      if (!byBroker) this.topicQueueTable.set(topic, (byBroker = new Map()));
      byBroker.set(q.brokerName, { ...q });
    }
  }

  /** Live entries, for admin views and tests. */
  liveBrokers(): { clusterName: string; brokerAddr: string; info: Readonly<BrokerLiveInfo> }[] {
    return [...this.brokerLiveTable].map(([key, info]) => {
      const [clusterName, brokerAddr] = key.split('\n');
      return { clusterName, brokerAddr, info };
    });
  }
}

function brokerDataJson(group: BrokerGroup): BrokerData {
  const brokerAddrs: Record<string, string> = {};
  for (const id of [...group.brokerAddrs.keys()].sort((a, b) => a - b)) brokerAddrs[String(id)] = group.brokerAddrs.get(id)!;
  const out: BrokerData = {
    brokerAddrs,
    brokerName: group.brokerName,
    cluster: group.cluster,
    enableActingMaster: group.enableActingMaster,
  };
  if (group.zoneName !== undefined) out.zoneName = group.zoneName;
  return out;
}
