// ProxyBackend over remoting ("cluster" mode): routes from the name servers, every call a
// request to a broker master. A topic may live on several broker groups: sends spread over all
// their write queues (a message group always lands on the same one), a receive pops the group its
// assignment names, receipt handles carry their group ("b1 <brokerName> <broker's handle>"), and
// queue-addressed calls go to the queue's group.
import { hostname } from 'node:os';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from '../../common/logger.js';
import { silentLogger } from '../../common/logger.js';
import { decodeMessage, decodeMessages, type MessageRecord } from '../../common/message-codec.js';
import { MessageConst } from '../../common/message-const.js';
import { getPropertyFromString } from '../../common/message-properties.js';
import { decodeMessageId } from '../../common/msg-id.js';
import { removePropertyFromString } from '../../common/property-edit.js';
import { javaStringHashCode } from '../../common/tag-hash.js';
import { parseDelayLevels } from '../../common/delay-levels.js';
import { MQClientAPIImpl } from '../../client/index.js';
import { parseJson } from '../../client/mq-client-api.js';
import {
  bodyOf,
  BrokerError,
  createRequest,
  RequestCode,
  ResponseCode,
  responseCodeName,
  type ExtInput,
  type RemotingCommand,
} from '../../remoting/index.js';
import {
  ACK_MESSAGE_HEADER,
  ackFailureOf,
  CHANGE_INVISIBLE_TIME_HEADER,
  CHANGE_INVISIBLE_TIME_RESPONSE_HEADER,
  CHECK_TRANSACTION_STATE_HEADER,
  decodeHeader,
  decodeRecallHandle,
  encodeHeader,
  END_TRANSACTION_HEADER,
  isReadable,
  isWriteable,
  MASTER_ID,
  newSubscriptionGroupConfig,
  OFFSET_RESPONSE_HEADER,
  POP_MESSAGE_HEADER,
  POP_MESSAGE_RESPONSE_HEADER,
  PULL_MESSAGE_HEADER,
  PULL_MESSAGE_RESPONSE_HEADER,
  PullSysFlag,
  QUERY_CONSUMER_OFFSET_HEADER,
  RECALL_MESSAGE_HEADER,
  RECALL_MESSAGE_RESPONSE_HEADER,
  SEARCH_OFFSET_HEADER,
  SEND_MESSAGE_HEADER_V2,
  SEND_MESSAGE_RESPONSE_HEADER,
  toSendHeaderV2,
  TOPIC_HEADER,
  TOPIC_QUEUE_HEADER,
  topicConfigFromJson,
  TransactionType,
  UPDATE_CONSUMER_OFFSET_HEADER,
  type ClusterInfo,
  type SubscriptionGroupConfig,
  type SubscriptionGroupWrapper,
  type TopicConfig,
  type TopicRouteData,
} from '../../remoting/protocol/index.js';
import { Code, ProxyError } from '../grpc-code.js';
import {
  BackendSendStatus,
  type AckResult,
  type BackendEndTransactionRequest,
  type BackendPopRequest,
  type BackendPullRequest,
  type BackendPullResult,
  type BackendSendRequest,
  type BackendSendResult,
  type PoppedMessage,
  type ProxyBackend,
  type TopicBroker,
  type TransactionCheckListener,
} from './proxy-backend.js';

export interface RemoteBackendOptions {
  /** Name servers, "host:port;host:port". */
  namesrvAddr: string;
  logger?: Logger;
  /** Timeout of ordinary requests to brokers (3 s). */
  requestTimeoutMs?: number;
  /** TLS to name servers and brokers (tlsEnable); absent = plain. */
  tls?: ConnectionOptions;
  /** Producer heartbeats to brokers, which keep transaction check-backs coming (30 s). */
  heartbeatIntervalMs?: number;
  /** How long a topic's route and config are trusted (5 s): admin changes show up this late. */
  topicCacheMs?: number;
  /** How long the group table is trusted (5 s). */
  groupCacheMs?: number;
  /** Client id in heartbeats; the broker's producer table shows it. */
  clientId?: string;
  /** Runs on every request before it is sent: the cluster account's signature (ACL). */
  rpcHook?: (cmd: RemotingCommand) => void;
}

/** The broker settings the activities read, from the first broker's GET_BROKER_CONFIG. */
interface BrokerSettings {
  brokerName: string;
  maxMessageSize: number;
  enablePropertyFilter: boolean;
  timerMaxDelaySec: number;
  delayLevelsMs: number[];
  autoCreateSubscriptionGroup: boolean;
}

interface RouteBroker extends TopicBroker {
  addr: string;
}

interface TopicEntry {
  /** Groups with a master serving the topic, by name. */
  brokers: RouteBroker[];
  /** The topic's config on the first group (types, attributes). */
  config: TopicConfig;
  expires: number;
}

const HANDLE_PREFIX = 'b1 ';

/** A broker's receipt handle with the name of its broker group in front. */
export function wrapHandle(brokerName: string, handle: string): string {
  return `${HANDLE_PREFIX}${brokerName} ${handle}`;
}

/** undefined when the text is not a handle this proxy issued. */
export function unwrapHandle(text: string): { brokerName: string; handle: string } | undefined {
  if (!text.startsWith(HANDLE_PREFIX)) return undefined;
  const end = text.indexOf(' ', HANDLE_PREFIX.length);
  if (end <= HANDLE_PREFIX.length) return undefined;
  return { brokerName: text.slice(HANDLE_PREFIX.length, end), handle: text.slice(end + 1) };
}

/** Extra wait on top of a pop's poll time before the request counts as lost. */
const POP_TIMEOUT_MARGIN_MS = 5000;
const MAX_PULL_BATCH = 32;
/** A missing group is looked up again at most this often (unknown groups must not flood the broker). */
const GROUP_MISS_REFRESH_MS = 1000;
/** An unknown broker group name is looked up in the cluster table at most this often. */
const BROKER_MISS_REFRESH_MS = 1000;
/** How long sends avoid a broker group that could not be reached. */
const BROKER_FAULT_MS = 10_000;
const DEFAULT_DELAY_LEVELS = '1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h';

export class RemoteBackend implements ProxyBackend {
  readonly api: MQClientAPIImpl;
  readonly clientId: string;
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private readonly topicCacheMs: number;
  private readonly groupCacheMs: number;
  private readonly topics = new Map<string, TopicEntry>();
  private groups = new Map<string, SubscriptionGroupConfig>();
  private groupsFetchedAt = 0;
  private readonly producerTopics = new Set<string>();
  private readonly checkListeners: TransactionCheckListener[] = [];
  private settings!: BrokerSettings;
  /** The broker group whose master answers group and settings requests (the first by name). */
  private homeBroker = '';
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private roundRobin = 0;
  private popRobin = 0;
  /** Master address of every broker group seen in a route or the cluster table. */
  private readonly brokerAddrs = new Map<string, string>();
  /** Broker group → when sends may go there again after it could not be reached. */
  private readonly faultUntil = new Map<string, number>();
  private clusterFetchedAt = 0;
  private closed = false;

  private constructor(private readonly opts: RemoteBackendOptions) {
    this.logger = opts.logger ?? silentLogger;
    this.timeoutMs = opts.requestTimeoutMs ?? 3000;
    this.topicCacheMs = opts.topicCacheMs ?? 5000;
    this.groupCacheMs = opts.groupCacheMs ?? 5000;
    this.clientId = opts.clientId ?? `${hostname()}@proxy-${process.pid}`;
    this.api = new MQClientAPIImpl({ namesrvAddr: opts.namesrvAddr, logger: this.logger, requestTimeoutMs: this.timeoutMs, rpcHook: opts.rpcHook, tls: opts.tls, namesrvTls: opts.tls });
    this.api.remoting.registerProcessor(RequestCode.CHECK_TRANSACTION_STATE, (req) => this.onCheckTransactionState(req));
  }

  /** Finds a broker through the name servers and reads its settings; fails when none is registered. */
  static async create(opts: RemoteBackendOptions): Promise<RemoteBackend> {
    const b = new RemoteBackend(opts);
    try {
      await b.init();
    } catch (err) {
      await b.api.close();
      throw err;
    }
    return b;
  }

  private async init(): Promise<void> {
    const r = await this.api.invokeNamesrvOk(RequestCode.GET_BROKER_CLUSTER_INFO);
    const info = parseJson<ClusterInfo>(bodyOf(r), 'cluster info');
    const masters = Object.values(info.brokerAddrTable ?? {})
      .filter((bd) => bd.brokerAddrs?.[MASTER_ID])
      .sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0));
    if (masters.length === 0) throw new Error(`no broker master is registered with the name servers (${this.opts.namesrvAddr})`);
    this.homeBroker = masters[0].brokerName;
    this.brokerAddrs.set(this.homeBroker, masters[0].brokerAddrs[MASTER_ID]);
    const cfg = await this.callHome(RequestCode.GET_BROKER_CONFIG);
    this.settings = parseBrokerSettings(bodyOf(cfg).toString('utf8'), masters[0].brokerName);
    const every = this.opts.heartbeatIntervalMs ?? 30_000;
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), every);
    this.heartbeatTimer.unref();
  }

  get brokerName(): string {
    return this.settings.brokerName;
  }
  get maxMessageSize(): number {
    return this.settings.maxMessageSize;
  }
  get enablePropertyFilter(): boolean {
    return this.settings.enablePropertyFilter;
  }
  get timerMaxDelaySec(): number {
    return this.settings.timerMaxDelaySec;
  }
  get delayLevelsMs(): readonly number[] {
    return this.settings.delayLevelsMs;
  }

  /** One request; any answer but SUCCESS becomes a BrokerError with the broker's code and remark. */
  private async call(addr: string, code: number, ext?: ExtInput, body?: Buffer, timeoutMs = this.timeoutMs): Promise<RemotingCommand> {
    const resp = await this.api.remoting.invoke(addr, createRequest(code, ext, body), timeoutMs);
    if (resp.code !== ResponseCode.SUCCESS) throw new BrokerError(resp.code, resp.remark || `${responseCodeName(resp.code)} from broker ${addr}`);
    return resp;
  }

  /**
   * A request to the home group's master. The master may have changed since it was looked up (a
   * failover): an unreachable one is forgotten and the group's current master asked once more.
   */
  private async callHome(code: number, ext?: ExtInput, body?: Buffer): Promise<RemotingCommand> {
    const addr = await this.addrByName(this.homeBroker);
    try {
      if (!addr) throw new Error(`broker group ${this.homeBroker} has no master registered`);
      return await this.call(addr, code, ext, body);
    } catch (err) {
      if (err instanceof BrokerError) throw err;
      this.brokerAddrs.delete(this.homeBroker);
      this.clusterFetchedAt = 0;
      const again = await this.addrByName(this.homeBroker);
      if (!again) throw new BrokerError(ResponseCode.SYSTEM_ERROR, `broker group ${this.homeBroker} has no master now (${(err as Error).message})`);
      return this.call(again, code, ext, body);
    }
  }

  // ---- topics and groups ----

  private async topicEntry(topic: string): Promise<TopicEntry | undefined> {
    const now = Date.now();
    const cached = this.topics.get(topic);
    if (cached && cached.expires > now) return cached;
    const route = await this.api.getTopicRouteInfoFromNameServer(topic);
    const brokers = route ? routeBrokers(route) : [];
    for (const b of brokers) this.brokerAddrs.set(b.name, b.addr);
    if (brokers.length === 0) {
      this.topics.delete(topic);
      return undefined;
    }
    const addr = brokers[0].addr;
    const resp = await this.api.remoting.invoke(addr, createRequest(RequestCode.GET_TOPIC_CONFIG, encodeHeader(TOPIC_HEADER, { topic })), this.timeoutMs);
    if (resp.code === ResponseCode.TOPIC_NOT_EXIST) {
      this.topics.delete(topic);
      return undefined;
    }
    if (resp.code !== ResponseCode.SUCCESS) throw new BrokerError(resp.code, resp.remark || `GET_TOPIC_CONFIG failed at ${addr}`);
    const entry = { brokers, config: topicConfigFromJson(parseJson<unknown>(bodyOf(resp), 'topic config'), topic), expires: now + this.topicCacheMs };
    this.topics.set(topic, entry);
    return entry;
  }

  /** The master of brokerName for this topic, or of the topic's first group when no name is given. */
  private async brokerOf(topic: string, brokerName?: string): Promise<string> {
    const e = await this.topicEntry(topic);
    if (!e) throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `topic[${topic}] not exist: no broker serves it`);
    if (!brokerName) return e.brokers[0].addr;
    const b = e.brokers.find((x) => x.name === brokerName);
    if (!b) throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `broker group ${brokerName} does not serve topic ${topic}`);
    return b.addr;
  }

  /** The master of a broker group by name (from routes seen, else the cluster table); undefined when unknown. */
  private async addrByName(brokerName: string): Promise<string | undefined> {
    const known = this.brokerAddrs.get(brokerName);
    if (known || Date.now() - this.clusterFetchedAt < BROKER_MISS_REFRESH_MS) return known;
    this.clusterFetchedAt = Date.now();
    const r = await this.api.invokeNamesrvOk(RequestCode.GET_BROKER_CLUSTER_INFO);
    const info = parseJson<ClusterInfo>(bodyOf(r), 'cluster info');
    for (const bd of Object.values(info.brokerAddrTable ?? {})) {
      const master = bd.brokerAddrs?.[MASTER_ID];
      if (master) this.brokerAddrs.set(bd.brokerName, master);
    }
    return this.brokerAddrs.get(brokerName);
  }

  async brokersOf(topic: string): Promise<TopicBroker[]> {
    const e = await this.topicEntry(topic);
    return (e?.brokers ?? []).map(({ name, readQueueNums, writeQueueNums, perm }) => ({ name, readQueueNums, writeQueueNums, perm }));
  }

  async getTopicConfig(topic: string): Promise<TopicConfig | undefined> {
    return (await this.topicEntry(topic))?.config;
  }

  async getGroupConfig(group: string): Promise<SubscriptionGroupConfig | undefined> {
    const now = Date.now();
    const stale = now - this.groupsFetchedAt > this.groupCacheMs;
    if (stale || (!this.groups.has(group) && now - this.groupsFetchedAt > GROUP_MISS_REFRESH_MS)) await this.fetchGroups();
    const g = this.groups.get(group);
    if (g || !this.settings.autoCreateSubscriptionGroup) return g;
    // The broker would create it on first use; create it now so the activities see it at once.
    const created = newSubscriptionGroupConfig(group);
    await this.callHome(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, Buffer.from(JSON.stringify(created)));
    this.groups.set(group, created);
    return created;
  }

  private async fetchGroups(): Promise<void> {
    const r = await this.callHome(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG);
    const table = parseJson<Partial<SubscriptionGroupWrapper>>(bodyOf(r), 'subscription groups');
    const next = new Map<string, SubscriptionGroupConfig>();
    for (const [name, g] of Object.entries(table.subscriptionGroupTable ?? {})) next.set(name, { ...newSubscriptionGroupConfig(name), ...g, groupName: name });
    this.groups = next;
    this.groupsFetchedAt = Date.now();
  }

  // ---- send ----

  async sendMessage(req: BackendSendRequest): Promise<BackendSendResult> {
    const e = await this.topicEntry(req.topic);
    if (!e) throw new ProxyError(Code.TOPIC_NOT_FOUND, `topic ${req.topic} not found`);
    const writable = e.brokers.filter((b) => isWriteable(b.perm) && b.writeQueueNums > 0);
    if (writable.length === 0) throw new ProxyError(Code.FORBIDDEN, `topic ${req.topic} has no writable queue on any broker group`);
    // A message group keeps its slot whatever the groups' health (order before availability);
    // other sends skip groups that failed recently, and move to another group once if the chosen
    // one cannot be reached (as RocketMQ producers retry elsewhere).
    let candidates = req.messageGroup ? writable : this.preferReachable(writable);
    let target: RouteBroker;
    let queueId: number;
    let resp: RemotingCommand;
    for (;;) {
      ({ target, queueId } = this.pickWriteQueue(candidates, req.messageGroup));
      const header = encodeHeader(
        SEND_MESSAGE_HEADER_V2,
        toSendHeaderV2({
          producerGroup: req.topic, // 5.x producers have none; Java's proxy and PGROUP use the topic
          topic: req.topic,
          defaultTopic: 'TBW102',
          defaultTopicQueueNums: 4,
          queueId,
          sysFlag: req.sysFlag,
          bornTimestamp: req.bornTimestamp,
          flag: 0,
          properties: req.properties,
          reconsumeTimes: 0,
          unitMode: false,
          bname: target.name,
        }),
      );
      try {
        resp = await this.api.remoting.invoke(target.addr, createRequest(RequestCode.SEND_MESSAGE_V2, header, req.body), this.timeoutMs);
        break;
      } catch (err) {
        this.markUnreachable(req.topic, target);
        const failed = target;
        candidates = candidates.filter((b) => b !== failed);
        if (req.messageGroup || candidates.length === 0) throw err;
        this.logger.warn({ err, broker: failed.name, topic: req.topic }, 'send to a broker group failed; trying another group');
      }
    }
    let status: BackendSendResult['status'];
    switch (resp.code) {
      case ResponseCode.SUCCESS:
        status = BackendSendStatus.SEND_OK;
        break;
      case ResponseCode.FLUSH_DISK_TIMEOUT:
        status = BackendSendStatus.FLUSH_DISK_TIMEOUT;
        break;
      case ResponseCode.FLUSH_SLAVE_TIMEOUT:
        throw new ProxyError(Code.SLAVE_PERSISTENCE_TIMEOUT, `store refused the message: FLUSH_SLAVE_TIMEOUT ${resp.remark ?? ''}`.trim());
      default:
        throw new BrokerError(resp.code, resp.remark || `send to ${target.addr} failed: ${responseCodeName(resp.code)}`);
    }
    const x = decodeHeader(SEND_MESSAGE_RESPONSE_HEADER, resp.extFields);
    return {
      status,
      queueId: x.queueId,
      queueOffset: x.queueOffset,
      commitLogOffset: decodeMessageId(x.msgId).offset,
      msgId: x.msgId,
      recallHandle: x.recallHandle || undefined,
      brokerName: target.name,
    };
  }

  /** A group that did not answer: its route is forgotten (it may have left) and it is avoided for a while. */
  private markUnreachable(topic: string, b: RouteBroker): void {
    this.topics.delete(topic);
    this.faultUntil.set(b.name, Date.now() + BROKER_FAULT_MS);
  }

  private isAvoided(b: RouteBroker): boolean {
    return (this.faultUntil.get(b.name) ?? 0) > Date.now();
  }

  /** The groups not avoided after a failure, or all of them when every one is. */
  private preferReachable(groups: RouteBroker[]): RouteBroker[] {
    const reachable = groups.filter((b) => !this.isAvoided(b));
    return reachable.length > 0 ? reachable : groups;
  }

  /** Every write queue of the given groups in one row: a message group hashes to one slot of it, other sends go round. */
  private pickWriteQueue(groups: RouteBroker[], messageGroup: string | undefined): { target: RouteBroker; queueId: number } {
    const slots = groups.reduce((n, b) => n + b.writeQueueNums, 0);
    let slot = messageGroup ? Math.abs(javaStringHashCode(messageGroup)) % slots : this.roundRobin++ % slots;
    for (const b of groups) {
      if (slot < b.writeQueueNums) return { target: b, queueId: slot };
      slot -= b.writeQueueNums;
    }
    return { target: groups[0], queueId: 0 };
  }

  // ---- pop ----

  async pop(req: BackendPopRequest, signal?: AbortSignal): Promise<PoppedMessage[]> {
    const e = await this.topicEntry(req.topic);
    if (!e) throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `topic[${req.topic}] not exist: no broker serves it`);
    const readable = e.brokers.filter((b) => isReadable(b.perm) && b.readQueueNums > 0);
    if (readable.length === 0) return [];
    // The group the client's assignment names; without one (or a stale or unreachable one), the
    // reachable groups take turns.
    const pool = this.preferReachable(readable);
    let target = pool.find((b) => b.name === req.brokerName) ?? pool[this.popRobin++ % pool.length];
    const header = encodeHeader(POP_MESSAGE_HEADER, {
      consumerGroup: req.group,
      topic: req.topic,
      queueId: -1,
      maxMsgNums: req.maxNums,
      invisibleTime: req.invisibleTimeMs,
      pollTime: req.pollTimeMs,
      bornTime: Date.now(),
      initMode: 0,
      expType: req.filter.expressionType || 'TAG',
      exp: req.filter.expression || '*',
      order: req.fifo,
      autoRenew: req.autoRenew,
      clientId: req.clientId,
      maxDeliveryAttempts: req.maxDeliveryAttempts,
    });
    let resp: RemotingCommand | undefined;
    for (;;) {
      const sent = this.api.remoting.invoke(target.addr, createRequest(RequestCode.POP_MESSAGE, header), req.pollTimeMs + POP_TIMEOUT_MARGIN_MS);
      try {
        resp = signal ? await raceAbort(sent, signal) : await sent;
        break;
      } catch (err) {
        this.markUnreachable(req.topic, target);
        const failed = target;
        // Only groups not avoided: each failure marks one, so this ends.
        const next = readable.find((b) => b !== failed && !this.isAvoided(b));
        if (!next) throw err;
        this.logger.warn({ err, broker: failed.name, topic: req.topic }, 'pop from a broker group failed; trying another group');
        target = next;
      }
    }
    const addr = target.addr;
    // Aborted (the gRPC call went away): what the broker hands out now stays invisible until it expires.
    if (!resp) return [];
    switch (resp.code) {
      case ResponseCode.SUCCESS:
        return popped(resp, req.topic, target.name);
      case ResponseCode.POLLING_TIMEOUT:
      case ResponseCode.PULL_NOT_FOUND:
      case ResponseCode.NO_MESSAGE:
        return [];
      default:
        throw new BrokerError(resp.code, resp.remark || `POP_MESSAGE failed at ${addr}: ${responseCodeName(resp.code)}`);
    }
  }

  ack(group: string, topic: string, receiptHandle: string): Promise<AckResult> {
    return this.ackRequest(group, topic, receiptHandle, false);
  }

  forwardToDeadLetter(group: string, topic: string, receiptHandle: string): Promise<AckResult> {
    return this.ackRequest(group, topic, receiptHandle, true);
  }

  /** The broker group's master and the broker's own handle, or undefined for a handle not issued here. */
  private async handleTarget(text: string): Promise<{ addr: string; brokerName: string; handle: string } | undefined> {
    const h = unwrapHandle(text);
    if (!h) return undefined;
    const addr = await this.addrByName(h.brokerName);
    return addr ? { addr, ...h } : undefined;
  }

  private async ackRequest(group: string, topic: string, text: string, deadLetter: boolean): Promise<AckResult> {
    const t = await this.handleTarget(text);
    if (!t) return 'INVALID';
    const addr = t.addr;
    const ext = encodeHeader(ACK_MESSAGE_HEADER, { consumerGroup: group, topic, extraInfo: t.handle, deadLetter: deadLetter || undefined });
    const resp = await this.api.remoting.invoke(addr, createRequest(RequestCode.ACK_MESSAGE, ext), this.timeoutMs);
    if (resp.code === ResponseCode.SUCCESS) return 'OK';
    if (resp.code === ResponseCode.NO_MESSAGE) return ackFailureOf(resp.extFields);
    throw new BrokerError(resp.code, resp.remark || `ACK_MESSAGE failed at ${addr}`);
  }

  async changeInvisibleTime(group: string, topic: string, receiptHandle: string, ms: number): Promise<{ handle: string; invisibleUntil: number } | AckResult> {
    const t = await this.handleTarget(receiptHandle);
    if (!t) return 'INVALID';
    const addr = t.addr;
    const ext = encodeHeader(CHANGE_INVISIBLE_TIME_HEADER, { consumerGroup: group, topic, extraInfo: t.handle, invisibleTime: Math.max(0, ms) });
    const resp = await this.api.remoting.invoke(addr, createRequest(RequestCode.CHANGE_MESSAGE_INVISIBLETIME, ext), this.timeoutMs);
    if (resp.code === ResponseCode.NO_MESSAGE) return ackFailureOf(resp.extFields);
    if (resp.code !== ResponseCode.SUCCESS) throw new BrokerError(resp.code, resp.remark || `CHANGE_MESSAGE_INVISIBLETIME failed at ${addr}`);
    const x = decodeHeader(CHANGE_INVISIBLE_TIME_RESPONSE_HEADER, resp.extFields);
    return { handle: wrapHandle(t.brokerName, x.extraInfo), invisibleUntil: x.popTime + x.invisibleTime };
  }

  // ---- transactions, recall ----

  async endTransaction(req: BackendEndTransactionRequest): Promise<void> {
    const addr = (req.brokerName ? await this.addrByName(req.brokerName) : undefined) ?? (await this.brokerOf(req.topic));
    await this.call(
      addr,
      RequestCode.END_TRANSACTION,
      encodeHeader(END_TRANSACTION_HEADER, {
        topic: req.topic,
        producerGroup: req.producerGroup,
        tranStateTableOffset: req.tranStateTableOffset,
        commitLogOffset: req.commitLogOffset,
        commitOrRollback: req.commitOrRollback === 'COMMIT' ? TransactionType.COMMIT : TransactionType.ROLLBACK,
        fromTransactionCheck: req.fromTransactionCheck,
        msgId: req.transactionId,
        transactionId: req.transactionId,
      }),
    );
  }

  async recallMessage(topic: string, recallHandle: string): Promise<string> {
    // The handle names the broker group that holds the timer (and is checked there again).
    const addr = (await this.addrByName(decodeRecallHandle(recallHandle).brokerName)) ?? (await this.brokerOf(topic));
    const r = await this.call(addr, RequestCode.RECALL_MESSAGE, encodeHeader(RECALL_MESSAGE_HEADER, { producerGroup: topic, topic, recallHandle }));
    return decodeHeader(RECALL_MESSAGE_RESPONSE_HEADER, r.extFields).msgId;
  }

  onTransactionCheck(listener: TransactionCheckListener): void {
    this.checkListeners.push(listener);
  }

  /**
   * CHECK_TRANSACTION_STATE (oneway from a broker that found us in its producer table). The body
   * is the half message with its real topic and queue; the header's offsets are the ones
   * END_TRANSACTION must name, so they win over whatever the body carries.
   */
  private onCheckTransactionState(req: RemotingCommand): null {
    let m: MessageRecord;
    let x;
    try {
      x = decodeHeader(CHECK_TRANSACTION_STATE_HEADER, req.extFields);
      m = decodeMessage(bodyOf(req), 0, { checkCrc: false, copyBody: true });
    } catch (err) {
      this.logger.warn({ err }, 'transaction check-back with an undecodable header or body; ignored');
      return null;
    }
    m.queueOffset = x.tranStateTableOffset;
    m.commitLogOffset = x.commitLogOffset;
    const realTopic = x.topic || m.topic;
    // bname: the checking broker's group, where END_TRANSACTION must go.
    const brokerName = x.bname || this.settings.brokerName;
    for (const l of this.checkListeners) {
      try {
        l(m, realTopic, brokerName);
      } catch (err) {
        this.logger.error({ err, topic: realTopic }, 'transaction check listener failed');
      }
    }
    return null;
  }

  /** Auto-renew liveness is judged by the broker from this proxy's open connection and recent pops. */
  setClientAlive(_fn: (clientId: string) => boolean): void {
    // Nothing to forward: see PopMessageProcessor (a client popping through an open proxy connection is alive).
  }

  async registerProducerTopic(topic: string): Promise<void> {
    if (this.producerTopics.has(topic) || this.closed) return;
    this.producerTopics.add(topic);
    await this.heartbeat();
  }

  /** Beats every broker that serves a producer topic, as a producer of group = each such topic. */
  private async heartbeat(): Promise<void> {
    if (this.producerTopics.size === 0 || this.closed) return;
    const json = JSON.stringify({
      clientID: this.clientId,
      producerDataSet: [...this.producerTopics].map((groupName) => ({ groupName })),
      consumerDataSet: [],
    });
    const addrs = new Set<string>();
    for (const t of this.producerTopics) {
      try {
        const e = await this.topicEntry(t);
        for (const b of e?.brokers ?? []) addrs.add(b.addr);
      } catch (err) {
        this.logger.warn({ err, topic: t }, 'route lookup for a producer heartbeat failed');
      }
    }
    await Promise.all(
      [...addrs].map((addr) =>
        this.call(addr, RequestCode.HEART_BEAT, undefined, Buffer.from(json)).catch((err: unknown) => {
          this.logger.warn({ err, addr }, 'producer heartbeat to broker failed');
        }),
      ),
    );
  }

  // ---- offsets, pull ----

  async queryConsumerOffset(group: string, topic: string, queueId: number, brokerName?: string): Promise<number> {
    const addr = await this.brokerOf(topic, brokerName);
    const ext = encodeHeader(QUERY_CONSUMER_OFFSET_HEADER, { consumerGroup: group, topic, queueId });
    const resp = await this.api.remoting.invoke(addr, createRequest(RequestCode.QUERY_CONSUMER_OFFSET, ext), this.timeoutMs);
    if (resp.code === ResponseCode.QUERY_NOT_FOUND) return -1;
    if (resp.code !== ResponseCode.SUCCESS) throw new BrokerError(resp.code, resp.remark || `QUERY_CONSUMER_OFFSET failed at ${addr}`);
    return offsetOf(resp);
  }

  async commitConsumerOffset(group: string, topic: string, queueId: number, offset: number, brokerName?: string): Promise<void> {
    const ext = encodeHeader(UPDATE_CONSUMER_OFFSET_HEADER, { consumerGroup: group, topic, queueId, commitOffset: offset });
    await this.call(await this.brokerOf(topic, brokerName), RequestCode.UPDATE_CONSUMER_OFFSET, ext);
  }

  async getMinOffset(topic: string, queueId: number, brokerName?: string): Promise<number> {
    return offsetOf(await this.call(await this.brokerOf(topic, brokerName), RequestCode.GET_MIN_OFFSET, encodeHeader(TOPIC_QUEUE_HEADER, { topic, queueId })));
  }

  async getMaxOffset(topic: string, queueId: number, brokerName?: string): Promise<number> {
    return offsetOf(await this.call(await this.brokerOf(topic, brokerName), RequestCode.GET_MAX_OFFSET, encodeHeader(TOPIC_QUEUE_HEADER, { topic, queueId })));
  }

  async searchOffsetByTime(topic: string, queueId: number, timestampMs: number, brokerName?: string): Promise<number> {
    const ext = encodeHeader(SEARCH_OFFSET_HEADER, { topic, queueId, timestamp: timestampMs });
    return offsetOf(await this.call(await this.brokerOf(topic, brokerName), RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, ext));
  }

  async getMessage(req: BackendPullRequest): Promise<BackendPullResult> {
    const addr = await this.brokerOf(req.topic, req.brokerName);
    const header = encodeHeader(PULL_MESSAGE_HEADER, {
      consumerGroup: req.group,
      topic: req.topic,
      queueId: req.queueId,
      queueOffset: req.offset,
      maxMsgNums: Math.min(Math.max(1, req.maxNums), MAX_PULL_BATCH),
      sysFlag: PullSysFlag.SUBSCRIPTION,
      commitOffset: 0,
      suspendTimeoutMillis: 0,
      subscription: req.filter.expression || '*',
      subVersion: Date.now(),
      expressionType: req.filter.expressionType || 'TAG',
    });
    const resp = await this.api.remoting.invoke(addr, createRequest(RequestCode.PULL_MESSAGE, header), this.timeoutMs);
    switch (resp.code) {
      case ResponseCode.SUCCESS: {
        const next = decodeHeader(PULL_MESSAGE_RESPONSE_HEADER, resp.extFields).nextBeginOffset;
        return { messages: decodeMessages(bodyOf(resp), { checkCrc: false }).map((record) => ({ record, queueOffset: record.queueOffset })), nextBeginOffset: next };
      }
      case ResponseCode.PULL_NOT_FOUND:
      case ResponseCode.PULL_RETRY_IMMEDIATELY:
      case ResponseCode.PULL_OFFSET_MOVED:
        return { messages: [], nextBeginOffset: decodeHeader(PULL_MESSAGE_RESPONSE_HEADER, resp.extFields).nextBeginOffset };
      default:
        throw new BrokerError(resp.code, resp.remark || `PULL_MESSAGE failed at ${addr}`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await this.api.close();
  }
}

/** The route's broker groups that have a master, by name. */
function routeBrokers(route: TopicRouteData): RouteBroker[] {
  const out: RouteBroker[] = [];
  for (const q of route.queueDatas) {
    const addr = route.brokerDatas.find((b) => b.brokerName === q.brokerName)?.brokerAddrs?.[MASTER_ID];
    if (addr) out.push({ name: q.brokerName, addr, readQueueNums: q.readQueueNums, writeQueueNums: q.writeQueueNums, perm: q.perm });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function offsetOf(resp: RemotingCommand): number {
  return decodeHeader(OFFSET_RESPONSE_HEADER, resp.extFields).offset;
}

/** GET_BROKER_CONFIG body: Java properties text, "key=value" per line. */
export function parseBrokerSettings(text: string, fallbackName: string): BrokerSettings {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const num = (k: string, d: number): number => {
    const v = Number(kv.get(k));
    return Number.isFinite(v) && kv.has(k) ? v : d;
  };
  const bool = (k: string, d: boolean): boolean => (kv.has(k) ? kv.get(k)!.toLowerCase() === 'true' : d);
  let delayLevelsMs: number[];
  try {
    delayLevelsMs = parseDelayLevels(kv.get('messageDelayLevel') || DEFAULT_DELAY_LEVELS);
  } catch {
    delayLevelsMs = parseDelayLevels(DEFAULT_DELAY_LEVELS);
  }
  return {
    brokerName: kv.get('brokerName') || fallbackName,
    maxMessageSize: num('maxMessageSize', 4 * 1024 * 1024),
    enablePropertyFilter: bool('enablePropertyFilter', true),
    timerMaxDelaySec: num('timerMaxDelaySec', 31_536_000),
    delayLevelsMs,
    autoCreateSubscriptionGroup: bool('autoCreateSubscriptionGroup', true),
  };
}

/** The pop response's records as PoppedMessages: the handle from POP_CK, which is then dropped. */
function popped(resp: RemotingCommand, requestedTopic: string, brokerName: string): PoppedMessage[] {
  const x = decodeHeader(POP_MESSAGE_RESPONSE_HEADER, resp.extFields);
  const invisibleUntil = x.popTime + x.invisibleTime;
  const out: PoppedMessage[] = [];
  for (const record of decodeMessages(bodyOf(resp), { checkCrc: false })) {
    const handle = getPropertyFromString(record.properties, MessageConst.PROPERTY_POP_CK) ?? '';
    record.properties = removePropertyFromString(record.properties, MessageConst.PROPERTY_POP_CK);
    const topic = record.topic === requestedTopic ? requestedTopic : (getPropertyFromString(record.properties, MessageConst.PROPERTY_RETRY_TOPIC) ?? requestedTopic);
    out.push({
      record,
      receiptHandle: wrapHandle(brokerName, handle),
      deliveryAttempt: record.reconsumeTimes + 1,
      topic,
      queueId: record.queueId,
      queueOffset: record.queueOffset,
      invisibleUntil,
    });
  }
  return out;
}

/** Resolves undefined as soon as the signal aborts; a late answer is then dropped. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.resolve(undefined);
  }
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}
