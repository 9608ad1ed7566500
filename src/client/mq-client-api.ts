// MQClientAPIImpl: one method per request the client sends, over one RemotingClient. Callers
// pick the address; name-server requests go to the namesrv list with failover.
import {
  bodyOf,
  createRequest,
  RemotingClient,
  RequestCode,
  ResponseCode,
  SerializeType,
  type Connection,
  type ExtInput,
  type RemotingCommand,
  type SerializeTypeValue,
} from '../remoting/index.js';
import {
  CONSUMER_GROUP_HEADER,
  CONSUMER_SEND_MSG_BACK_HEADER,
  decodeHeader,
  encodeHeader,
  END_TRANSACTION_HEADER,
  OFFSET_RESPONSE_HEADER,
  PULL_MESSAGE_HEADER,
  PULL_MESSAGE_RESPONSE_HEADER,
  QUERY_CONSUMER_OFFSET_HEADER,
  SEARCH_OFFSET_HEADER,
  TOPIC_QUEUE_HEADER,
  TOPIC_ROUTE_HEADER,
  UNREGISTER_CLIENT_HEADER,
  UPDATE_CONSUMER_OFFSET_HEADER,
  type EndTransactionRequestHeader,
  type PullMessageRequestHeader,
} from '../remoting/protocol/index.js';
import { silentLogger, type Logger } from '../common/logger.js';
import { MQBrokerError, MQClientError } from './client-error.js';
import { splitNamesrvAddr, type ClientOptions } from './client-options.js';
import type { MessageQueue } from './message.js';
import type { TopicRouteData } from './topic-route.js';

export { PullSysFlag, type CheckTransactionStateRequestHeader, type EndTransactionRequestHeader, type PullMessageRequestHeader } from '../remoting/protocol/index.js';

/** The pull response as it came: code, the four offsets, and the raw body of records. */
export interface RawPullResult {
  code: number;
  remark?: string;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  suggestWhichBrokerId: number;
  body: Buffer | undefined;
}

export class MQClientAPIImpl {
  readonly remoting: RemotingClient;
  readonly namesrvAddrs: string[];
  readonly timeoutMs: number;
  readonly logger: Logger;
  private nsIndex = 0;
  /** Connections seen open, by address: a hot path writes on one without awaiting connection(). */
  private readonly live = new Map<string, Connection>();
  private readonly serializeType: SerializeTypeValue;
  private readonly rpcHook?: (cmd: RemotingCommand) => void;

  constructor(opts: ClientOptions) {
    this.logger = opts.logger ?? silentLogger;
    this.namesrvAddrs = splitNamesrvAddr(opts.namesrvAddr);
    this.nsIndex = Math.floor(Math.random() * this.namesrvAddrs.length);
    this.timeoutMs = opts.requestTimeoutMs ?? 3000;
    this.serializeType = opts.serializeType === 'ROCKETMQ' ? SerializeType.ROCKETMQ : SerializeType.JSON;
    this.rpcHook = opts.rpcHook;
    this.remoting = new RemotingClient({
      logger: this.logger,
      serializeType: this.serializeType,
      rpcHook: opts.rpcHook,
      tls: opts.tls || opts.namesrvTls ? (addr) => (this.namesrvAddrs.includes(addr) ? (opts.namesrvTls ?? false) : (opts.tls ?? false)) : undefined,
    });
  }

  /** Sends to the current name server, moving on to the next on connection errors or timeouts. */
  async invokeNamesrv(code: number, ext?: ExtInput, body?: Buffer, timeoutMs = this.timeoutMs): Promise<RemotingCommand> {
    const n = this.namesrvAddrs.length;
    let lastErr: unknown;
    for (let i = 0; i < n; i++) {
      const idx = (this.nsIndex + i) % n;
      const addr = this.namesrvAddrs[idx];
      try {
        const resp = await this.remoting.invoke(addr, createRequest(code, ext, body), timeoutMs);
        this.nsIndex = idx;
        return resp;
      } catch (err) {
        lastErr = err;
      }
    }
    throw new MQClientError(`no name server answered (${this.namesrvAddrs.join(';')}): ${(lastErr as Error)?.message ?? lastErr}`, { cause: lastErr });
  }

  /** One request to one address; a non-success answer becomes MQBrokerError. */
  async invokeOk(addr: string, code: number, ext?: ExtInput, body?: Buffer, timeoutMs = this.timeoutMs): Promise<RemotingCommand> {
    const resp = await this.remoting.invoke(addr, createRequest(code, ext, body), timeoutMs);
    if (resp.code !== ResponseCode.SUCCESS) throw new MQBrokerError(resp.code, resp.remark ?? '', addr);
    return resp;
  }

  async invokeNamesrvOk(code: number, ext?: ExtInput, body?: Buffer): Promise<RemotingCommand> {
    const resp = await this.invokeNamesrv(code, ext, body);
    if (resp.code !== ResponseCode.SUCCESS) throw new MQBrokerError(resp.code, resp.remark ?? '', 'namesrv');
    return resp;
  }

  /** undefined when the name server does not know the topic (TOPIC_NOT_EXIST). */
  async getTopicRouteInfoFromNameServer(topic: string): Promise<TopicRouteData | undefined> {
    const resp = await this.invokeNamesrv(RequestCode.GET_ROUTEINFO_BY_TOPIC, encodeHeader(TOPIC_ROUTE_HEADER, { topic }));
    if (resp.code === ResponseCode.TOPIC_NOT_EXIST) return undefined;
    if (resp.code !== ResponseCode.SUCCESS) throw new MQBrokerError(resp.code, resp.remark ?? '', 'namesrv');
    const route = parseJson<TopicRouteData>(bodyOf(resp), 'topic route');
    route.queueDatas ??= [];
    route.brokerDatas ??= [];
    return route;
  }

  sendMessage(addr: string, code: number, header: ExtInput, body: Buffer, timeoutMs: number): Promise<RemotingCommand> {
    return this.invokeCommand(addr, createRequest(code, header, body), timeoutMs);
  }

  /**
   * remoting.invoke(addr, cmd) with one async hop less once the connection is open (a producer's
   * send path): the same preparation (serialize type, rpcHook) and the same connection.
   */
  invokeCommand(addr: string, cmd: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    const conn = this.live.get(addr);
    if (conn !== undefined && !conn.closed) return this.invokeOn(conn, cmd, timeoutMs);
    return this.invokeOpening(addr, cmd, timeoutMs);
  }

  private async invokeOpening(addr: string, cmd: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    const conn = await this.remoting.connection(addr);
    this.live.set(addr, conn);
    return this.invokeOn(conn, cmd, timeoutMs);
  }

  /** RemotingClient.invoke's preparation of a request (kept in step with it), then the write. */
  private invokeOn(conn: Connection, cmd: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    cmd.serializeType = this.serializeType;
    this.rpcHook?.(cmd);
    return conn.invoke(cmd, timeoutMs);
  }

  sendMessageOneway(addr: string, code: number, header: ExtInput, body: Buffer): Promise<void> {
    return this.remoting.invokeOneway(addr, createRequest(code, header, body));
  }

  async pullMessage(addr: string, h: PullMessageRequestHeader, timeoutMs: number): Promise<RawPullResult> {
    const resp = await this.invokeCommand(addr, createRequest(RequestCode.PULL_MESSAGE, encodeHeader(PULL_MESSAGE_HEADER, h)), timeoutMs);
    switch (resp.code) {
      case ResponseCode.SUCCESS:
      case ResponseCode.PULL_NOT_FOUND:
      case ResponseCode.PULL_RETRY_IMMEDIATELY:
      case ResponseCode.PULL_OFFSET_MOVED: {
        const e = decodeHeader(PULL_MESSAGE_RESPONSE_HEADER, resp.extFields);
        return {
          code: resp.code,
          remark: resp.remark,
          nextBeginOffset: e.nextBeginOffset,
          minOffset: e.minOffset,
          maxOffset: e.maxOffset,
          suggestWhichBrokerId: e.suggestWhichBrokerId ?? 0,
          body: resp.code === ResponseCode.SUCCESS ? bodyOf(resp) : undefined,
        };
      }
      default:
        throw new MQBrokerError(resp.code, resp.remark ?? '', addr);
    }
  }

  /** The stored offset, or -1 when the broker has none (QUERY_NOT_FOUND). */
  async queryConsumerOffset(addr: string, group: string, mq: MessageQueue): Promise<number> {
    const resp = await this.remoting.invoke(
      addr,
      createRequest(RequestCode.QUERY_CONSUMER_OFFSET, encodeHeader(QUERY_CONSUMER_OFFSET_HEADER, { consumerGroup: group, topic: mq.topic, queueId: mq.queueId })),
      this.timeoutMs,
    );
    if (resp.code === ResponseCode.QUERY_NOT_FOUND) return -1;
    if (resp.code !== ResponseCode.SUCCESS) throw new MQBrokerError(resp.code, resp.remark ?? '', addr);
    return offsetOf(resp);
  }

  async updateConsumerOffset(addr: string, group: string, mq: MessageQueue, offset: number, oneway: boolean): Promise<void> {
    const ext = encodeHeader(UPDATE_CONSUMER_OFFSET_HEADER, { consumerGroup: group, topic: mq.topic, queueId: mq.queueId, commitOffset: offset });
    if (oneway) await this.remoting.invokeOneway(addr, createRequest(RequestCode.UPDATE_CONSUMER_OFFSET, ext));
    else await this.invokeOk(addr, RequestCode.UPDATE_CONSUMER_OFFSET, ext);
  }

  async getMaxOffset(addr: string, mq: MessageQueue): Promise<number> {
    return offsetOf(await this.invokeOk(addr, RequestCode.GET_MAX_OFFSET, encodeHeader(TOPIC_QUEUE_HEADER, { topic: mq.topic, queueId: mq.queueId })));
  }

  async getMinOffset(addr: string, mq: MessageQueue): Promise<number> {
    return offsetOf(await this.invokeOk(addr, RequestCode.GET_MIN_OFFSET, encodeHeader(TOPIC_QUEUE_HEADER, { topic: mq.topic, queueId: mq.queueId })));
  }

  async searchOffset(addr: string, mq: MessageQueue, timestamp: number): Promise<number> {
    const ext = encodeHeader(SEARCH_OFFSET_HEADER, { topic: mq.topic, queueId: mq.queueId, timestamp });
    return offsetOf(await this.invokeOk(addr, RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, ext));
  }

  async getConsumerIdListByGroup(addr: string, group: string): Promise<string[]> {
    const r = await this.invokeOk(addr, RequestCode.GET_CONSUMER_LIST_BY_GROUP, encodeHeader(CONSUMER_GROUP_HEADER, { consumerGroup: group }));
    const body = parseJson<{ consumerIdList?: string[] }>(bodyOf(r), 'consumer id list');
    return body.consumerIdList ?? [];
  }

  async consumerSendMessageBack(
    addr: string,
    group: string,
    commitLogOffset: number,
    delayLevel: number,
    originMsgId: string,
    originTopic: string,
    maxReconsumeTimes: number,
  ): Promise<void> {
    await this.invokeOk(
      addr,
      RequestCode.CONSUMER_SEND_MSG_BACK,
      encodeHeader(CONSUMER_SEND_MSG_BACK_HEADER, { offset: commitLogOffset, group, delayLevel, originMsgId, originTopic, unitMode: false, maxReconsumeTimes }),
      undefined,
      5000,
    );
  }

  /** LOCK_BATCH_MQ: returns the queues of mqSet this client holds now (Java lockBatchMQ, 1 s timeout). */
  async lockBatchMQ(addr: string, body: LockBatchRequestBody, timeoutMs = 1000): Promise<MessageQueue[]> {
    const r = await this.invokeOk(addr, RequestCode.LOCK_BATCH_MQ, undefined, lockBody(body), timeoutMs);
    const parsed = parseJson<{ lockOKMQSet?: MessageQueue[] }>(bodyOf(r), 'lock batch response');
    return (parsed.lockOKMQSet ?? []).map((q) => ({ topic: String(q.topic), brokerName: String(q.brokerName), queueId: Number(q.queueId) }));
  }

  /** UNLOCK_BATCH_MQ; oneway from rebalance (Java), two-way at shutdown. */
  async unlockBatchMQ(addr: string, body: LockBatchRequestBody, timeoutMs: number, oneway: boolean): Promise<void> {
    if (oneway) await this.remoting.invokeOneway(addr, createRequest(RequestCode.UNLOCK_BATCH_MQ, undefined, lockBody(body)));
    else await this.invokeOk(addr, RequestCode.UNLOCK_BATCH_MQ, undefined, lockBody(body), timeoutMs);
  }

  /** END_TRANSACTION, oneway as the Java client sends it; a non-empty remark carries the local failure. */
  async endTransactionOneway(addr: string, header: EndTransactionRequestHeader, remark?: string): Promise<void> {
    const cmd = createRequest(RequestCode.END_TRANSACTION, encodeHeader(END_TRANSACTION_HEADER, header));
    if (remark) cmd.remark = remark;
    await this.remoting.invokeOneway(addr, cmd);
  }

  async sendHeartbeat(addr: string, heartbeatJson: string): Promise<void> {
    await this.invokeOk(addr, RequestCode.HEART_BEAT, undefined, Buffer.from(heartbeatJson, 'utf8'));
  }

  async unregisterClient(addr: string, clientID: string, producerGroup?: string, consumerGroup?: string): Promise<void> {
    await this.invokeOk(addr, RequestCode.UNREGISTER_CLIENT, encodeHeader(UNREGISTER_CLIENT_HEADER, { clientID, producerGroup, consumerGroup }));
  }

  close(): Promise<void> {
    this.live.clear();
    return this.remoting.close();
  }
}

/** LockBatchRequestBody / UnlockBatchRequestBody (onlyThisBroker is added as false). */
export interface LockBatchRequestBody {
  consumerGroup: string;
  clientId: string;
  mqSet: readonly MessageQueue[];
}

function lockBody(b: LockBatchRequestBody): Buffer {
  return Buffer.from(
    JSON.stringify({
      consumerGroup: b.consumerGroup,
      clientId: b.clientId,
      onlyThisBroker: false,
      mqSet: b.mqSet.map((q) => ({ topic: q.topic, brokerName: q.brokerName, queueId: q.queueId })),
    }),
    'utf8',
  );
}

/** The offset header of QUERY_CONSUMER_OFFSET, GET_MAX_OFFSET, GET_MIN_OFFSET and SEARCH_OFFSET_BY_TIMESTAMP answers. */
function offsetOf(resp: RemotingCommand): number {
  return decodeHeader(OFFSET_RESPONSE_HEADER, resp.extFields).offset;
}

export function parseJson<T>(body: Buffer, what: string): T {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch (err) {
    throw new MQClientError(`cannot parse ${what} body as JSON: ${(err as Error).message}`, { cause: err });
  }
}
