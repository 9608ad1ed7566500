// Route data as the name server sends it (RocketMQ field names, JSON on the wire), shared by the
// name server that builds it, the broker, and the clients, tools and proxy that read it.

/** Perm bits of a topic or broker (PermName). */
export const PermName = { PERM_PRIORITY: 8, PERM_READ: 4, PERM_WRITE: 2, PERM_INHERIT: 1 } as const;

export function isReadable(perm: number): boolean {
  return (perm & PermName.PERM_READ) !== 0;
}
export function isWriteable(perm: number): boolean {
  return (perm & PermName.PERM_WRITE) !== 0;
}
export function permToString(perm: number): string {
  return `${isReadable(perm) ? 'R' : '-'}${isWriteable(perm) ? 'W' : '-'}${perm & PermName.PERM_INHERIT ? 'X' : '-'}`;
}

/** brokerId of a group's master (MixAll.MASTER_ID); brokerAddrs keys it as "0". */
export const MASTER_ID = 0;

export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
}

export interface BrokerData {
  cluster: string;
  brokerName: string;
  /** brokerId (as a decimal string, "0" = master) → "ip:port". */
  brokerAddrs: Record<string, string>;
  enableActingMaster?: boolean;
  zoneName?: string;
}

export interface TopicRouteData {
  orderTopicConf?: string;
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
  filterServerTable?: Record<string, string[]>;
}

/** GET_BROKER_CLUSTER_INFO body. */
export interface ClusterInfo {
  brokerAddrTable: Record<string, BrokerData>;
  clusterAddrTable: Record<string, string[]>;
}

/** JSON with the keys in fastjson's sorted order, so bodies read like the Java name server's. */
export function queueDataJson(q: QueueData): QueueData {
  return {
    brokerName: q.brokerName,
    perm: q.perm,
    readQueueNums: q.readQueueNums,
    topicSysFlag: q.topicSysFlag,
    writeQueueNums: q.writeQueueNums,
  } as QueueData;
}
