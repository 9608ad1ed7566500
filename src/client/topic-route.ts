// Route data as the name server returns it, and the queue lists producers and consumers derive
// from it (Java MQClientInstance.topicRouteData2TopicPublishInfo / ...SubscribeInfo).
import { compareMessageQueue, type MessageQueue } from './message.js';

import { isReadable, isWriteable, MASTER_ID, type TopicRouteData } from '../remoting/protocol/route.js';

export { PermName, type BrokerData, type ClusterInfo, type QueueData, type TopicRouteData } from '../remoting/protocol/route.js';

export interface TopicPublishInfo {
  orderTopic: boolean;
  /** Writable queues of brokers that have a master, sorted by broker name. */
  messageQueueList: MessageQueue[];
  route: TopicRouteData;
}

export function masterAddrOf(route: TopicRouteData, brokerName: string): string | undefined {
  for (const b of route.brokerDatas) if (b.brokerName === brokerName) return b.brokerAddrs[MASTER_ID];
  return undefined;
}

export function topicRouteData2TopicPublishInfo(topic: string, route: TopicRouteData): TopicPublishInfo {
  const list: MessageQueue[] = [];
  if (route.orderTopicConf) {
    for (const item of route.orderTopicConf.split(';')) {
      const [brokerName, nums] = item.split(':');
      const n = Number(nums);
      for (let i = 0; i < n; i++) list.push({ topic, brokerName, queueId: i });
    }
    return { orderTopic: true, messageQueueList: list, route };
  }
  const qds = [...route.queueDatas].sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0));
  for (const qd of qds) {
    if (!isWriteable(qd.perm) || !masterAddrOf(route, qd.brokerName)) continue;
    for (let i = 0; i < qd.writeQueueNums; i++) list.push({ topic, brokerName: qd.brokerName, queueId: i });
  }
  return { orderTopic: false, messageQueueList: list, route };
}

/** Readable queues, sorted (the order rebalancing relies on). */
export function topicRouteData2TopicSubscribeInfo(topic: string, route: TopicRouteData): MessageQueue[] {
  const out: MessageQueue[] = [];
  for (const qd of route.queueDatas) {
    if (!isReadable(qd.perm)) continue;
    for (let i = 0; i < qd.readQueueNums; i++) out.push({ topic, brokerName: qd.brokerName, queueId: i });
  }
  return out.sort(compareMessageQueue);
}
