// MQClientInstance: what producers and consumers of one client id share: the connections, the
// route cache (refreshed every 30 s), heartbeats to every known broker (every 30 s),
// rebalancing (every 20 s and when a broker says the group changed), and offset persistence.
import { silentLogger, type Logger } from '../common/logger.js';
import { TopicValidator } from '../common/message-const.js';
import { decodeMessage } from '../common/message-codec.js';
import { MessageConst } from '../common/message-const.js';
import { bodyOf, RequestCode, type RemotingChannel, type RemotingCommand } from '../remoting/index.js';
import { CHECK_TRANSACTION_STATE_HEADER, decodeHeader } from '../remoting/protocol/index.js';
import { defaultInstanceName, localIPv4, type ClientOptions } from './client-options.js';
import { MQClientAPIImpl, type CheckTransactionStateRequestHeader } from './mq-client-api.js';
import { toMessageExt, type MessageExt, type MessageQueue } from './message.js';
import type { SubscriptionData } from './subscription-data.js';
import {
  topicRouteData2TopicPublishInfo,
  topicRouteData2TopicSubscribeInfo,
  type TopicPublishInfo,
  type TopicRouteData,
} from './topic-route.js';

export type MessageModel = 'CLUSTERING' | 'BROADCASTING';
export type ConsumeFromWhere = 'CONSUME_FROM_LAST_OFFSET' | 'CONSUME_FROM_FIRST_OFFSET' | 'CONSUME_FROM_TIMESTAMP';

export interface MQProducerInner {
  readonly group: string;
  /** Transactional producers answer the broker's CHECK_TRANSACTION_STATE; addr is the broker that asked. */
  checkTransactionState?(addr: string, msg: MessageExt, header: CheckTransactionStateRequestHeader): void;
}

export interface MQConsumerInner {
  readonly group: string;
  readonly messageModel: MessageModel;
  readonly consumeType: 'CONSUME_PASSIVELY' | 'CONSUME_ACTIVELY';
  readonly consumeFromWhere: ConsumeFromWhere;
  subscriptions(): SubscriptionData[];
  updateTopicSubscribeInfo(topic: string, mqs: MessageQueue[]): void;
  doRebalance(): Promise<void>;
  persistConsumerOffset(): Promise<void>;
}

const DEFAULT_TOPIC_QUEUE_NUMS = 4;
const REBALANCE_INTERVAL_MS = 20_000;
const PERSIST_OFFSET_INTERVAL_MS = 5_000;

export class MQClientInstance {
  readonly clientIP: string;
  readonly instanceName: string;
  readonly clientId: string;
  readonly api: MQClientAPIImpl;
  readonly logger: Logger;
  private readonly routeTable = new Map<string, TopicRouteData>();
  private readonly publishTable = new Map<string, TopicPublishInfo>();
  /** brokerName → brokerId → address, from every route seen. */
  private readonly brokerAddrTable = new Map<string, Record<string, string>>();
  private readonly producers = new Map<string, MQProducerInner>();
  private readonly consumers = new Map<string, MQConsumerInner>();
  private readonly timers: NodeJS.Timeout[] = [];
  private started = false;
  private closed = false;
  private rebalancePending = false;
  private readonly laterTimers = new Set<NodeJS.Timeout>();
  /** Broker addresses that accepted a heartbeat from this client. */
  private readonly heartbeated = new Set<string>();

  constructor(readonly options: ClientOptions) {
    this.logger = options.logger ?? silentLogger;
    this.clientIP = options.clientIP ?? localIPv4();
    this.instanceName = options.instanceName ?? defaultInstanceName();
    this.clientId = `${this.clientIP}@${this.instanceName}`;
    this.api = new MQClientAPIImpl(options);
    this.api.remoting.registerProcessor(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, (req) => {
      this.logger.info({ group: req.extFields.consumerGroup }, 'consumer ids changed, rebalancing now');
      this.rebalanceImmediately();
      return null;
    });
    this.api.remoting.registerProcessor(RequestCode.CHECK_TRANSACTION_STATE, (req, ch) => this.checkTransactionState(req, ch));
  }

  /**
   * CHECK_TRANSACTION_STATE (oneway from the broker): the body is the half message as stored, with
   * its real topic; the producer of its PGROUP answers later with END_TRANSACTION to that broker.
   */
  private checkTransactionState(req: RemotingCommand, ch: RemotingChannel): null {
    let e: CheckTransactionStateRequestHeader;
    let msg: MessageExt;
    try {
      e = decodeHeader(CHECK_TRANSACTION_STATE_HEADER, req.extFields);
      msg = toMessageExt(decodeMessage(bodyOf(req), 0, { checkCrc: false }), e.bname ?? '');
    } catch (err) {
      this.logger.warn({ err }, 'checkTransactionState: cannot decode the request');
      return null;
    }
    const uniq = msg.properties[MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX];
    if (uniq) msg.transactionId = uniq;
    const group = msg.properties[MessageConst.PROPERTY_PRODUCER_GROUP];
    const producer = group === undefined ? undefined : this.producers.get(group);
    if (!producer?.checkTransactionState) {
      this.logger.debug({ group }, 'checkTransactionState: no transactional producer of this group here');
      return null;
    }
    producer.checkTransactionState(ch.remoteAddress, msg, e);
    return null;
  }

  registerProducer(p: MQProducerInner): void {
    if (this.producers.has(p.group)) throw new Error(`producer group ${p.group} is already registered in client ${this.clientId}`);
    this.producers.set(p.group, p);
  }

  registerConsumer(c: MQConsumerInner): void {
    if (this.consumers.has(c.group)) throw new Error(`consumer group ${c.group} is already registered in client ${this.clientId}`);
    this.consumers.set(c.group, c);
  }

  /** Starts the periodic tasks once; later calls do nothing. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const o = this.options;
    this.every(o.pollNameServerIntervalMs ?? 30_000, () => this.updateTopicRouteInfoFromNameServer());
    this.every(o.heartbeatBrokerIntervalMs ?? 30_000, () => this.sendHeartbeatToAllBrokers());
    this.every(PERSIST_OFFSET_INTERVAL_MS, () => this.persistAllConsumerOffset());
    this.every(REBALANCE_INTERVAL_MS, () => this.doRebalance());
  }

  private every(ms: number, fn: () => Promise<unknown>): void {
    const t = setInterval(() => {
      fn().catch((err: unknown) => this.logger.warn({ err }, 'periodic client task failed'));
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  /** Refreshes the routes of every topic producers or consumers use. */
  async updateTopicRouteInfoFromNameServer(): Promise<void> {
    const topics = new Set<string>(this.publishTable.keys());
    for (const c of this.consumers.values()) for (const s of c.subscriptions()) topics.add(s.topic);
    await Promise.all([...topics].map((t) => this.updateTopicRoute(t).catch((err: unknown) => this.logger.warn({ err, topic: t }, 'route refresh failed'))));
  }

  /** Fetches one topic's route; false when the name server does not know it. */
  async updateTopicRoute(topic: string): Promise<boolean> {
    const route = await this.api.getTopicRouteInfoFromNameServer(topic);
    if (!route) return false;
    this.applyRoute(topic, route);
    return true;
  }

  private applyRoute(topic: string, route: TopicRouteData): void {
    this.routeTable.set(topic, route);
    for (const b of route.brokerDatas) this.brokerAddrTable.set(b.brokerName, { ...b.brokerAddrs });
    if (this.publishTable.has(topic)) this.publishTable.set(topic, topicRouteData2TopicPublishInfo(topic, route));
    const mqs = topicRouteData2TopicSubscribeInfo(topic, route);
    for (const c of this.consumers.values()) {
      if (c.subscriptions().some((s) => s.topic === topic)) c.updateTopicSubscribeInfo(topic, mqs);
    }
  }

  getRoute(topic: string): TopicRouteData | undefined {
    return this.routeTable.get(topic);
  }

  /**
   * Publish queues of a topic. An unknown topic borrows TBW102's brokers (at most 4 queues each),
   * as Java does, so a broker with autoCreateTopicEnable creates it on the first send.
   */
  /** The publish info already known for topic (with at least one queue), without asking anyone. */
  cachedPublishInfo(topic: string): TopicPublishInfo | undefined {
    const cached = this.publishTable.get(topic);
    return cached !== undefined && cached.messageQueueList.length > 0 ? cached : undefined;
  }

  async topicPublishInfo(topic: string, createTopicKey: string = TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC): Promise<TopicPublishInfo | undefined> {
    const cached = this.cachedPublishInfo(topic);
    if (cached) return cached;
    const route = await this.api.getTopicRouteInfoFromNameServer(topic);
    if (route) {
      this.publishTable.set(topic, topicRouteData2TopicPublishInfo(topic, route));
      this.applyRoute(topic, route);
      return this.publishTable.get(topic);
    }
    const def = await this.api.getTopicRouteInfoFromNameServer(createTopicKey);
    if (!def) return undefined;
    for (const b of def.brokerDatas) this.brokerAddrTable.set(b.brokerName, { ...b.brokerAddrs });
    const adapted: TopicRouteData = {
      ...def,
      queueDatas: def.queueDatas.map((q) => ({
        ...q,
        readQueueNums: Math.min(DEFAULT_TOPIC_QUEUE_NUMS, q.readQueueNums),
        writeQueueNums: Math.min(DEFAULT_TOPIC_QUEUE_NUMS, q.writeQueueNums),
      })),
    };
    // Not cached under the topic: the next call asks the name server again and gets the real route.
    return topicRouteData2TopicPublishInfo(topic, adapted);
  }

  findBrokerAddressInPublish(brokerName: string): string | undefined {
    return this.brokerAddrTable.get(brokerName)?.['0'];
  }

  /** The master if known, else any replica. */
  findBrokerAddressInSubscribe(brokerName: string): string | undefined {
    const addrs = this.brokerAddrTable.get(brokerName);
    if (!addrs) return undefined;
    return addrs['0'] ?? Object.values(addrs)[0];
  }

  /** A broker serving the topic (any of them, masters preferred), for group-wide queries. */
  findBrokerAddrByTopic(topic: string): string | undefined {
    const route = this.routeTable.get(topic);
    if (!route || route.brokerDatas.length === 0) return undefined;
    const b = route.brokerDatas[Math.floor(Math.random() * route.brokerDatas.length)];
    return b.brokerAddrs['0'] ?? Object.values(b.brokerAddrs)[0];
  }

  heartbeatJson(): string {
    return JSON.stringify({
      clientID: this.clientId,
      producerDataSet: [...this.producers.keys()].map((groupName) => ({ groupName })),
      consumerDataSet: [...this.consumers.values()].map((c) => ({
        groupName: c.group,
        consumeType: c.consumeType,
        messageModel: c.messageModel,
        consumeFromWhere: c.consumeFromWhere,
        subscriptionDataSet: c.subscriptions().map((s) => ({
          classFilterMode: s.classFilterMode,
          topic: s.topic,
          subString: s.subString,
          tagsSet: s.tagsSet,
          codeSet: s.codeSet,
          subVersion: s.subVersion,
          expressionType: s.expressionType,
        })),
        unitMode: false,
      })),
    });
  }

  /** Producer-only clients beat only masters; consumers beat every replica (they may pull from slaves). */
  async sendHeartbeatToAllBrokers(): Promise<void> {
    if (this.producers.size === 0 && this.consumers.size === 0) return;
    const json = this.heartbeatJson();
    const mastersOnly = this.consumers.size === 0;
    const jobs: Promise<void>[] = [];
    for (const [brokerName, addrs] of this.brokerAddrTable) {
      for (const [id, addr] of Object.entries(addrs)) {
        if (mastersOnly && id !== '0') continue;
        jobs.push(
          this.api.sendHeartbeat(addr, json).then(
            () => void this.heartbeated.add(addr),
            (err: unknown) => this.logger.warn({ err, brokerName, addr }, 'heartbeat failed'),
          ),
        );
      }
    }
    await Promise.all(jobs);
  }

  /** Coalesces requests made in the same tick into one rebalance round. */
  rebalanceImmediately(): void {
    if (this.rebalancePending || this.closed) return;
    this.rebalancePending = true;
    setImmediate(() => {
      this.rebalancePending = false;
      this.doRebalance().catch((err: unknown) => this.logger.warn({ err }, 'rebalance failed'));
    });
  }

  /**
   * Heartbeats now unless addr already had one: a broker must know a producer group's channel
   * before it can check a transaction back, and the periodic beat may be 30 s away.
   */
  async ensureHeartbeat(addr: string): Promise<void> {
    if (!this.heartbeated.has(addr)) await this.sendHeartbeatToAllBrokers();
  }

  /** Java rebalanceLater: one more round after ms (e.g. when a queue lock was refused). */
  rebalanceLater(ms: number): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.laterTimers.delete(t);
      this.rebalanceImmediately();
    }, ms);
    t.unref();
    this.laterTimers.add(t);
  }

  async doRebalance(): Promise<void> {
    for (const c of this.consumers.values()) await c.doRebalance();
  }

  async persistAllConsumerOffset(): Promise<void> {
    for (const c of this.consumers.values()) await c.persistConsumerOffset();
  }

  /** UNREGISTER_CLIENT for the group at every broker, then forgets the group. */
  async unregisterConsumer(group: string): Promise<void> {
    this.consumers.delete(group);
    await this.unregisterClient(undefined, group);
  }

  async unregisterProducer(group: string): Promise<void> {
    this.producers.delete(group);
    await this.unregisterClient(group, undefined);
  }

  private async unregisterClient(producerGroup: string | undefined, consumerGroup: string | undefined): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const addrs of this.brokerAddrTable.values()) {
      for (const addr of Object.values(addrs)) {
        jobs.push(
          this.api
            .unregisterClient(addr, this.clientId, producerGroup, consumerGroup)
            .catch((err: unknown) => this.logger.warn({ err, addr }, 'unregister client failed')),
        );
      }
    }
    await Promise.all(jobs);
  }

  get hasClients(): boolean {
    return this.producers.size > 0 || this.consumers.size > 0;
  }

  /** Stops the timers and closes every connection. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    for (const t of this.laterTimers) clearTimeout(t);
    this.laterTimers.clear();
    await this.api.close();
  }
}
