// ProxyBackend over remoting ("cluster" mode): routes from the name servers, every call a
// request to a broker master. Each topic is served by ONE broker group: the first (by name) that
// has a master and serves the topic. Fanning a topic out over several broker groups (receipt
// handles naming their broker, sends spread over groups) is left for later.
import { hostname } from 'node:os';
import type { Logger } from '../../common/logger.js';
import { silentLogger } from '../../common/logger.js';
import { decodeMessage, decodeMessages, type MessageRecord } from '../../common/message-codec.js';
import { MessageConst } from '../../common/message-const.js';
import { getPropertyFromString } from '../../common/message-properties.js';
import { decodeMessageId } from '../../common/msg-id.js';
import { removePropertyFromString } from '../../common/property-edit.js';
import { javaStringHashCode } from '../../common/tag-hash.js';
import { newSubscriptionGroupConfig, type SubscriptionGroupConfig, type TopicConfig } from '../../broker/index.js';
import { AckResultHeader } from '../../broker/processor/pop-message-processor.js';
import { parseDelayLevels } from '../../broker/schedule/delay-levels.js';
import { MQClientAPIImpl, PullSysFlag, type ClusterInfo, type TopicRouteData } from '../../client/index.js';
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
  type TransactionCheckListener,
} from './proxy-backend.js';

export interface RemoteBackendOptions {
  /** Name servers, "host:port;host:port". */
  namesrvAddr: string;
  logger?: Logger;
  /** Timeout of ordinary requests to brokers (3 s). */
  requestTimeoutMs?: number;
  /** Producer heartbeats to brokers, which keep transaction check-backs coming (30 s). */
  heartbeatIntervalMs?: number;
  /** How long a topic's route and config are trusted (5 s): admin changes show up this late. */
  topicCacheMs?: number;
  /** How long the group table is trusted (5 s). */
  groupCacheMs?: number;
  /** Client id in heartbeats; the broker's producer table shows it. */
  clientId?: string;
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

interface TopicEntry {
  addr: string;
  config: TopicConfig;
  expires: number;
}

/** Extra wait on top of a pop's poll time before the request counts as lost. */
const POP_TIMEOUT_MARGIN_MS = 5000;
const MAX_PULL_BATCH = 32;
/** A missing group is looked up again at most this often (unknown groups must not flood the broker). */
const GROUP_MISS_REFRESH_MS = 1000;
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
  private homeAddr = '';
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private roundRobin = 0;
  private closed = false;

  private constructor(private readonly opts: RemoteBackendOptions) {
    this.logger = opts.logger ?? silentLogger;
    this.timeoutMs = opts.requestTimeoutMs ?? 3000;
    this.topicCacheMs = opts.topicCacheMs ?? 5000;
    this.groupCacheMs = opts.groupCacheMs ?? 5000;
    this.clientId = opts.clientId ?? `${hostname()}@proxy-${process.pid}`;
    this.api = new MQClientAPIImpl({ namesrvAddr: opts.namesrvAddr, logger: this.logger, requestTimeoutMs: this.timeoutMs });
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
      .filter((bd) => bd.brokerAddrs?.['0'])
      .sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0));
    if (masters.length === 0) throw new Error(`no broker master is registered with the name servers (${this.opts.namesrvAddr})`);
    this.homeAddr = masters[0].brokerAddrs['0'];
    const cfg = await this.call(this.homeAddr, RequestCode.GET_BROKER_CONFIG);
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

  // ---- topics and groups ----

  private async topicEntry(topic: string): Promise<TopicEntry | undefined> {
    const now = Date.now();
    const cached = this.topics.get(topic);
    if (cached && cached.expires > now) return cached;
    const route = await this.api.getTopicRouteInfoFromNameServer(topic);
    const addr = route ? firstMaster(route) : undefined;
    if (!addr) {
      this.topics.delete(topic);
      return undefined;
    }
    const resp = await this.api.remoting.invoke(addr, createRequest(RequestCode.GET_TOPIC_CONFIG, { topic }), this.timeoutMs);
    if (resp.code === ResponseCode.TOPIC_NOT_EXIST) {
      this.topics.delete(topic);
      return undefined;
    }
    if (resp.code !== ResponseCode.SUCCESS) throw new BrokerError(resp.code, resp.remark || `GET_TOPIC_CONFIG failed at ${addr}`);
    const entry = { addr, config: normalizeTopicConfig(topic, parseJson<Partial<TopicConfig>>(bodyOf(resp), 'topic config')), expires: now + this.topicCacheMs };
    this.topics.set(topic, entry);
    return entry;
  }

  private async brokerOf(topic: string): Promise<string> {
    const e = await this.topicEntry(topic);
    if (!e) throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `topic[${topic}] not exist: no broker serves it`);
    return e.addr;
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
    await this.call(this.homeAddr, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, Buffer.from(JSON.stringify(created)));
    this.groups.set(group, created);
    return created;
  }

  private async fetchGroups(): Promise<void> {
    const r = await this.call(this.homeAddr, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG);
    const table = parseJson<{ subscriptionGroupTable?: Record<string, Partial<SubscriptionGroupConfig>> }>(bodyOf(r), 'subscription groups');
    const next = new Map<string, SubscriptionGroupConfig>();
    for (const [name, g] of Object.entries(table.subscriptionGroupTable ?? {})) next.set(name, { ...newSubscriptionGroupConfig(name), ...g, groupName: name });
    this.groups = next;
    this.groupsFetchedAt = Date.now();
  }

  // ---- send ----

  async sendMessage(req: BackendSendRequest): Promise<BackendSendResult> {
    const e = await this.topicEntry(req.topic);
    if (!e) throw new ProxyError(Code.TOPIC_NOT_FOUND, `topic ${req.topic} not found`);
    const writeQueues = Math.max(1, e.config.writeQueueNums);
    const queueId = req.messageGroup ? Math.abs(javaStringHashCode(req.messageGroup)) % writeQueues : this.roundRobin++ % writeQueues;
    const header: ExtInput = {
      a: req.topic, // producer group: 5.x producers have none; Java's proxy and PGROUP use the topic
      b: req.topic,
      c: 'TBW102',
      d: 4,
      e: queueId,
      f: req.sysFlag,
      g: req.bornTimestamp,
      h: 0,
      i: req.properties,
      j: 0,
      k: false,
    };
    const resp = await this.api.remoting.invoke(e.addr, createRequest(RequestCode.SEND_MESSAGE_V2, header, req.body), this.timeoutMs);
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
        throw new BrokerError(resp.code, resp.remark || `send to ${e.addr} failed: ${responseCodeName(resp.code)}`);
    }
    const x = resp.extFields;
    const msgId = x.msgId ?? '';
    return {
      status,
      queueId: Number(x.queueId ?? queueId),
      queueOffset: Number(x.queueOffset ?? 0),
      commitLogOffset: decodeMessageId(msgId).offset,
      msgId,
      recallHandle: x.recallHandle || undefined,
    };
  }

  // ---- pop ----

  async pop(req: BackendPopRequest, signal?: AbortSignal): Promise<PoppedMessage[]> {
    const addr = await this.brokerOf(req.topic);
    const header: ExtInput = {
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
    };
    const sent = this.api.remoting.invoke(addr, createRequest(RequestCode.POP_MESSAGE, header), req.pollTimeMs + POP_TIMEOUT_MARGIN_MS);
    const resp = signal ? await raceAbort(sent, signal) : await sent;
    // Aborted (the gRPC call went away): what the broker hands out now stays invisible until it expires.
    if (!resp) return [];
    switch (resp.code) {
      case ResponseCode.SUCCESS:
        return popped(resp, req.topic);
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

  private async ackRequest(group: string, topic: string, handle: string, deadLetter: boolean): Promise<AckResult> {
    const addr = await this.brokerOf(topic);
    const ext: ExtInput = { consumerGroup: group, topic, extraInfo: handle, deadLetter: deadLetter || undefined };
    const resp = await this.api.remoting.invoke(addr, createRequest(RequestCode.ACK_MESSAGE, ext), this.timeoutMs);
    if (resp.code === ResponseCode.SUCCESS) return 'OK';
    if (resp.code === ResponseCode.NO_MESSAGE) return ackFailure(resp);
    throw new BrokerError(resp.code, resp.remark || `ACK_MESSAGE failed at ${addr}`);
  }

  async changeInvisibleTime(group: string, topic: string, receiptHandle: string, ms: number): Promise<{ handle: string; invisibleUntil: number } | AckResult> {
    const addr = await this.brokerOf(topic);
    const ext: ExtInput = { consumerGroup: group, topic, extraInfo: receiptHandle, invisibleTime: Math.max(0, ms) };
    const resp = await this.api.remoting.invoke(addr, createRequest(RequestCode.CHANGE_MESSAGE_INVISIBLETIME, ext), this.timeoutMs);
    if (resp.code === ResponseCode.NO_MESSAGE) return ackFailure(resp);
    if (resp.code !== ResponseCode.SUCCESS) throw new BrokerError(resp.code, resp.remark || `CHANGE_MESSAGE_INVISIBLETIME failed at ${addr}`);
    const x = resp.extFields;
    return { handle: x.extraInfo ?? '', invisibleUntil: Number(x.popTime) + Number(x.invisibleTime) };
  }

  // ---- transactions, recall ----

  async endTransaction(req: BackendEndTransactionRequest): Promise<void> {
    const addr = await this.brokerOf(req.topic);
    await this.call(addr, RequestCode.END_TRANSACTION, {
      topic: req.topic,
      producerGroup: req.producerGroup,
      tranStateTableOffset: req.tranStateTableOffset,
      commitLogOffset: req.commitLogOffset,
      commitOrRollback: req.commitOrRollback === 'COMMIT' ? 8 : 12,
      fromTransactionCheck: req.fromTransactionCheck,
      msgId: req.transactionId,
      transactionId: req.transactionId,
    });
  }

  async recallMessage(topic: string, recallHandle: string): Promise<string> {
    const addr = await this.brokerOf(topic);
    const r = await this.call(addr, RequestCode.RECALL_MESSAGE, { producerGroup: topic, topic, recallHandle });
    return r.extFields.msgId ?? '';
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
    try {
      m = decodeMessage(bodyOf(req), 0, { checkCrc: false, copyBody: true });
    } catch (err) {
      this.logger.warn({ err }, 'transaction check-back with an undecodable body; ignored');
      return null;
    }
    const x = req.extFields;
    const tranStateTableOffset = Number(x.tranStateTableOffset);
    const commitLogOffset = Number(x.commitLogOffset);
    if (Number.isSafeInteger(tranStateTableOffset)) m.queueOffset = tranStateTableOffset;
    if (Number.isSafeInteger(commitLogOffset)) m.commitLogOffset = commitLogOffset;
    const realTopic = x.topic || m.topic;
    for (const l of this.checkListeners) {
      try {
        l(m, realTopic);
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
        if (e) addrs.add(e.addr);
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

  async queryConsumerOffset(group: string, topic: string, queueId: number): Promise<number> {
    const addr = await this.brokerOf(topic);
    const resp = await this.api.remoting.invoke(addr, createRequest(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: group, topic, queueId }), this.timeoutMs);
    if (resp.code === ResponseCode.QUERY_NOT_FOUND) return -1;
    if (resp.code !== ResponseCode.SUCCESS) throw new BrokerError(resp.code, resp.remark || `QUERY_CONSUMER_OFFSET failed at ${addr}`);
    return Number(resp.extFields.offset);
  }

  async commitConsumerOffset(group: string, topic: string, queueId: number, offset: number): Promise<void> {
    await this.call(await this.brokerOf(topic), RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: group, topic, queueId, commitOffset: offset });
  }

  async getMinOffset(topic: string, queueId: number): Promise<number> {
    const r = await this.call(await this.brokerOf(topic), RequestCode.GET_MIN_OFFSET, { topic, queueId });
    return Number(r.extFields.offset);
  }

  async getMaxOffset(topic: string, queueId: number): Promise<number> {
    const r = await this.call(await this.brokerOf(topic), RequestCode.GET_MAX_OFFSET, { topic, queueId });
    return Number(r.extFields.offset);
  }

  async searchOffsetByTime(topic: string, queueId: number, timestampMs: number): Promise<number> {
    const r = await this.call(await this.brokerOf(topic), RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { topic, queueId, timestamp: timestampMs });
    return Number(r.extFields.offset);
  }

  async getMessage(req: BackendPullRequest): Promise<BackendPullResult> {
    const addr = await this.brokerOf(req.topic);
    const header: ExtInput = {
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
    };
    const resp = await this.api.remoting.invoke(addr, createRequest(RequestCode.PULL_MESSAGE, header), this.timeoutMs);
    const next = Number(resp.extFields.nextBeginOffset ?? req.offset);
    switch (resp.code) {
      case ResponseCode.SUCCESS:
        return { messages: decodeMessages(bodyOf(resp), { checkCrc: false }).map((record) => ({ record, queueOffset: record.queueOffset })), nextBeginOffset: next };
      case ResponseCode.PULL_NOT_FOUND:
      case ResponseCode.PULL_RETRY_IMMEDIATELY:
      case ResponseCode.PULL_OFFSET_MOVED:
        return { messages: [], nextBeginOffset: next };
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

function firstMaster(route: TopicRouteData): string | undefined {
  const names = route.queueDatas.map((q) => q.brokerName).sort();
  for (const name of names) {
    const addr = route.brokerDatas.find((b) => b.brokerName === name)?.brokerAddrs?.['0'];
    if (addr) return addr;
  }
  return undefined;
}

function normalizeTopicConfig(topic: string, raw: Partial<TopicConfig>): TopicConfig {
  return {
    topicName: raw.topicName ?? topic,
    readQueueNums: Number(raw.readQueueNums ?? 0),
    writeQueueNums: Number(raw.writeQueueNums ?? 0),
    perm: Number(raw.perm ?? 6),
    topicFilterType: raw.topicFilterType === 'MULTI_TAG' ? 'MULTI_TAG' : 'SINGLE_TAG',
    topicSysFlag: Number(raw.topicSysFlag ?? 0),
    order: !!raw.order,
    attributes: raw.attributes ?? {},
  };
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
function popped(resp: RemotingCommand, requestedTopic: string): PoppedMessage[] {
  const invisibleUntil = Number(resp.extFields.popTime) + Number(resp.extFields.invisibleTime);
  const out: PoppedMessage[] = [];
  for (const record of decodeMessages(bodyOf(resp), { checkCrc: false })) {
    const handle = getPropertyFromString(record.properties, MessageConst.PROPERTY_POP_CK) ?? '';
    record.properties = removePropertyFromString(record.properties, MessageConst.PROPERTY_POP_CK);
    const topic = record.topic === requestedTopic ? requestedTopic : (getPropertyFromString(record.properties, MessageConst.PROPERTY_RETRY_TOPIC) ?? requestedTopic);
    out.push({
      record,
      receiptHandle: handle,
      deliveryAttempt: record.reconsumeTimes + 1,
      topic,
      queueId: record.queueId,
      queueOffset: record.queueOffset,
      invisibleUntil,
    });
  }
  return out;
}

function ackFailure(resp: RemotingCommand): AckResult {
  return resp.extFields[AckResultHeader] === 'EXPIRED' ? 'EXPIRED' : 'INVALID';
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
