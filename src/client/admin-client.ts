// AdminClient (the mqadmin side of Java's MQAdminExt): topics, subscription groups, offsets,
// and thin wrappers over the broker's admin requests that return their parsed bodies.
import { decodeMessages } from '../common/message-codec.js';
import { decodeMessageId } from '../common/msg-id.js';
import { bodyOf, RequestCode, type ExtInput } from '../remoting/index.js';
import {
  DELETE_SUBSCRIPTIONGROUP_HEADER,
  DELETE_TOPIC_IN_NAMESRV_HEADER,
  encodeHeader,
  GET_CONSUME_STATS_HEADER,
  CONSUMER_GROUP_HEADER,
  QUERY_MESSAGE_HEADER,
  TOPIC_HEADER,
  UPDATE_AND_CREATE_TOPIC_HEADER,
  VIEW_MESSAGE_BY_ID_HEADER,
  type SubscriptionGroupUpdate,
} from '../remoting/protocol/index.js';
import { MQClientError } from './client-error.js';
import type { ClientOptions } from './client-options.js';
import { toMessageExt, type MessageExt, type MessageQueue } from './message.js';
import { MQClientAPIImpl, parseJson } from './mq-client-api.js';
import { masterAddrOf, PermName, type ClusterInfo, type TopicRouteData } from './topic-route.js';

export interface CreateTopicOptions {
  readQueueNums?: number;
  writeQueueNums?: number;
  perm?: number;
  order?: boolean;
  /** e.g. { '+message.type': 'FIFO' }. */
  attributes?: Record<string, string>;
  topicSysFlag?: number;
}

/** Java SubscriptionGroupConfig; fields left out take the broker's defaults. */
export type SubscriptionGroupConfig = SubscriptionGroupUpdate;

export class AdminClient {
  readonly api: MQClientAPIImpl;

  constructor(opts: ClientOptions) {
    this.api = new MQClientAPIImpl(opts);
  }

  async shutdown(): Promise<void> {
    await this.api.close();
  }

  // ---- name server ----

  async clusterList(): Promise<ClusterInfo> {
    const r = await this.api.invokeNamesrvOk(RequestCode.GET_BROKER_CLUSTER_INFO);
    const info = parseJson<ClusterInfo>(bodyOf(r), 'cluster info');
    info.brokerAddrTable ??= {};
    info.clusterAddrTable ??= {};
    return info;
  }

  async topicList(): Promise<string[]> {
    const r = await this.api.invokeNamesrvOk(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
    return parseJson<{ topicList?: string[] }>(bodyOf(r), 'topic list').topicList ?? [];
  }

  async topicRoute(topic: string): Promise<TopicRouteData> {
    const route = await this.api.getTopicRouteInfoFromNameServer(topic);
    if (!route) throw new MQClientError(`no route info of this topic: ${topic}`);
    return route;
  }

  /**
   * "ip:port" means that broker; anything else is a cluster name and means every master of it
   * (found with GET_BROKER_CLUSTER_INFO).
   */
  async resolveBrokers(brokerAddrOrCluster: string): Promise<string[]> {
    if (/:\d+$/.test(brokerAddrOrCluster)) return [brokerAddrOrCluster];
    const info = await this.clusterList();
    const names = info.clusterAddrTable[brokerAddrOrCluster];
    if (!names || names.length === 0) throw new MQClientError(`cluster ${brokerAddrOrCluster} has no brokers (or does not exist)`);
    const out: string[] = [];
    for (const n of names) {
      const master = info.brokerAddrTable[n]?.brokerAddrs['0'];
      if (master) out.push(master);
    }
    if (out.length === 0) throw new MQClientError(`cluster ${brokerAddrOrCluster} has no master broker online`);
    return out;
  }

  // ---- topics ----

  async createTopic(brokerAddrOrCluster: string, topic: string, o: CreateTopicOptions = {}): Promise<void> {
    const ext = encodeHeader(UPDATE_AND_CREATE_TOPIC_HEADER, {
      topic,
      defaultTopic: 'TBW102',
      readQueueNums: o.readQueueNums ?? 8,
      writeQueueNums: o.writeQueueNums ?? 8,
      perm: o.perm ?? PermName.PERM_READ | PermName.PERM_WRITE,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: o.topicSysFlag ?? 0,
      order: o.order ?? false,
      attributes: o.attributes ? Object.entries(o.attributes).map(([k, v]) => `${k}=${v}`).join(',') : undefined,
    });
    for (const addr of await this.resolveBrokers(brokerAddrOrCluster)) {
      await this.api.invokeOk(addr, RequestCode.UPDATE_AND_CREATE_TOPIC, ext);
    }
  }

  /** DELETE_TOPIC_IN_BROKER on the brokers, then DELETE_TOPIC_IN_NAMESRV. */
  async deleteTopic(brokerAddrOrCluster: string, topic: string): Promise<void> {
    for (const addr of await this.resolveBrokers(brokerAddrOrCluster)) {
      await this.api.invokeOk(addr, RequestCode.DELETE_TOPIC_IN_BROKER, encodeHeader(TOPIC_HEADER, { topic }));
    }
    const clusterName = /:\d+$/.test(brokerAddrOrCluster) ? undefined : brokerAddrOrCluster;
    await this.api.invokeNamesrvOk(RequestCode.DELETE_TOPIC_IN_NAMESRV, encodeHeader(DELETE_TOPIC_IN_NAMESRV_HEADER, { topic, clusterName }));
  }

  // ---- subscription groups ----

  async createSubscriptionGroup(brokerAddrOrCluster: string, config: SubscriptionGroupConfig): Promise<void> {
    const body = Buffer.from(JSON.stringify(config), 'utf8');
    for (const addr of await this.resolveBrokers(brokerAddrOrCluster)) {
      await this.api.invokeOk(addr, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, body);
    }
  }

  async deleteSubscriptionGroup(brokerAddrOrCluster: string, groupName: string, cleanOffset = false): Promise<void> {
    for (const addr of await this.resolveBrokers(brokerAddrOrCluster)) {
      await this.api.invokeOk(addr, RequestCode.DELETE_SUBSCRIPTIONGROUP, encodeHeader(DELETE_SUBSCRIPTIONGROUP_HEADER, { groupName, cleanOffset }));
    }
  }

  // ---- offsets ----

  private async masterOf(mq: MessageQueue): Promise<string> {
    const addr = masterAddrOf(await this.topicRoute(mq.topic), mq.brokerName);
    if (!addr) throw new MQClientError(`the broker[${mq.brokerName}] has no master for topic ${mq.topic}`);
    return addr;
  }

  async getMaxOffset(mq: MessageQueue): Promise<number> {
    return this.api.getMaxOffset(await this.masterOf(mq), mq);
  }

  async getMinOffset(mq: MessageQueue): Promise<number> {
    return this.api.getMinOffset(await this.masterOf(mq), mq);
  }

  async searchOffset(mq: MessageQueue, timestamp: number): Promise<number> {
    return this.api.searchOffset(await this.masterOf(mq), mq, timestamp);
  }

  /** -1 when the broker has no offset for the group. */
  async queryConsumerOffset(group: string, mq: MessageQueue): Promise<number> {
    return this.api.queryConsumerOffset(await this.masterOf(mq), group, mq);
  }

  // ---- broker admin views (bodies parsed as the broker sends them) ----

  async getTopicStatsInfo(brokerAddr: string, topic: string): Promise<unknown> {
    return this.json(brokerAddr, RequestCode.GET_TOPIC_STATS_INFO, encodeHeader(TOPIC_HEADER, { topic }), 'topic stats');
  }

  async getConsumeStats(brokerAddr: string, consumerGroup: string, topic?: string): Promise<unknown> {
    return this.json(brokerAddr, RequestCode.GET_CONSUME_STATS, encodeHeader(GET_CONSUME_STATS_HEADER, { consumerGroup, topic }), 'consume stats');
  }

  async getBrokerRuntimeInfo(brokerAddr: string): Promise<unknown> {
    return this.json(brokerAddr, RequestCode.GET_BROKER_RUNTIME_INFO, undefined, 'broker runtime info');
  }

  async getConsumerConnectionList(brokerAddr: string, consumerGroup: string): Promise<unknown> {
    return this.json(brokerAddr, RequestCode.GET_CONSUMER_CONNECTION_LIST, encodeHeader(CONSUMER_GROUP_HEADER, { consumerGroup }), 'consumer connection list');
  }

  /**
   * QUERY_MESSAGE by key (or by UNIQ_KEY with uniqKey) on every master serving the topic. The
   * answer body is stored records, not JSON, so they come back decoded.
   */
  async queryMessage(topic: string, key: string, maxNum = 32, beginTimestamp = 0, endTimestamp = Date.now(), uniqKey = false): Promise<MessageExt[]> {
    const route = await this.topicRoute(topic);
    const out: MessageExt[] = [];
    for (const b of route.brokerDatas) {
      const addr = b.brokerAddrs['0'];
      if (!addr) continue;
      const r = await this.api.invokeOk(
        addr,
        RequestCode.QUERY_MESSAGE,
        encodeHeader(QUERY_MESSAGE_HEADER, { topic, key, maxNum, beginTimestamp, endTimestamp, _UNIQUE_KEY_QUERY: uniqKey }),
      );
      for (const rec of decodeMessages(bodyOf(r), { checkCrc: false, copyBody: true })) out.push(toMessageExt(rec, b.brokerName));
    }
    return out;
  }

  /** VIEW_MESSAGE_BY_ID with an offsetMsgId: the store address and commit-log offset are in the id. */
  async viewMessage(offsetMsgId: string): Promise<MessageExt> {
    const id = decodeMessageId(offsetMsgId);
    const addr = id.address.includes(':') ? `[${id.address}]:${id.port}` : `${id.address}:${id.port}`;
    const r = await this.api.invokeOk(addr, RequestCode.VIEW_MESSAGE_BY_ID, encodeHeader(VIEW_MESSAGE_BY_ID_HEADER, { offset: id.offset }));
    const recs = decodeMessages(bodyOf(r), { checkCrc: false, copyBody: true });
    if (recs.length === 0) throw new MQClientError(`no message at ${offsetMsgId}`);
    return toMessageExt(recs[0], '');
  }

  private async json(addr: string, code: number, ext: ExtInput | undefined, what: string): Promise<unknown> {
    const r = await this.api.invokeOk(addr, code, ext);
    return parseJson<unknown>(bodyOf(r), what);
  }
}
