// Route data as the name server sends it (RocketMQ field names, JSON on the wire), shared by the
// name server that builds it, the broker, and the clients and tools that read it.

/** Perm bits of a topic or broker (PermName). */
export const PermName = { PERM_PRIORITY: 8, PERM_READ: 4, PERM_WRITE: 2, PERM_INHERIT: 1 } as const;

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
