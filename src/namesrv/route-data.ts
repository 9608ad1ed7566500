// Route-registry data shapes, with RocketMQ's field names (they go over the wire as JSON).

import type { QueueData } from '../common/route-data.js';

export { PermName, type BrokerData, type QueueData, type TopicRouteData } from '../common/route-data.js';

export const MASTER_ID = 0;

/** KV namespace whose entries become a topic route's `orderTopicConf` ("brokerName:queueNum;…"). */
export const NAMESPACE_ORDER_TOPIC_CONFIG = 'ORDER_TOPIC_CONFIG';

export interface DataVersion {
  timestamp: number;
  counter: number;
  stateVersion: number;
}

export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
  order: boolean;
  topicFilterType: string;
  attributes?: Record<string, string>;
}

export interface RegisterBrokerBody {
  dataVersion: DataVersion;
  topicConfigTable: Map<string, TopicConfig>;
  filterServerList: string[];
}

export function sameDataVersion(a: DataVersion, b: DataVersion): boolean {
  return a.timestamp === b.timestamp && a.counter === b.counter && a.stateVersion === b.stateVersion;
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
