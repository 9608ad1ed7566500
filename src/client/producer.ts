// Producer (Java DefaultMQProducer): SEND_MESSAGE_V2 with single-letter headers, client-side
// UNIQ_KEY, zlib compression of bodies ≥ 4 KiB, round-robin queues, and up to two retries on
// another broker for retryable failures.
import { deflateSync } from 'node:zlib';
import { encodeBatchBody, type BatchItem } from '../common/batch-codec.js';
import { MessageConst, MixAll, TopicValidator } from '../common/message-const.js';
import { MessageSysFlag } from '../common/sys-flag.js';
import { javaStringHashCode } from '../common/tag-hash.js';
import { RequestCode, ResponseCode, type RemotingCommand } from '../remoting/index.js';
import { MQBrokerError, MQClientError } from './client-error.js';
import type { ClientOptions } from './client-options.js';
import { checkTopic, createClientUniqID, encodeSendProperties, type Message, type MessageQueue } from './message.js';
import { MQClientInstance } from './mq-client-instance.js';
import { createSendRequest, decodeSendResponse, sendHeaderV2Fields } from './send-request.js';
import type { TopicPublishInfo } from './topic-route.js';

export interface ProducerOptions extends ClientOptions {
  producerGroup?: string;
  /** Whole-call budget of one send, retries included (Java sendMsgTimeout, 3 s). */
  sendMsgTimeoutMs?: number;
  /** Extra attempts of a synchronous send on another queue (Java retryTimesWhenSendFailed, 2). */
  retryTimesWhenSendFailed?: number;
  /** Bodies at least this long are zlib-compressed (Java compressMsgBodyOverHowmuch, 4096). */
  compressMsgBodyOverHowmuch?: number;
  compressLevel?: number;
  maxMessageSize?: number;
  /** Also retry when the broker stored the message but did not flush/replicate it in time. */
  retryAnotherBrokerWhenNotStoreOK?: boolean;
}

export type SendStatus = 'SEND_OK' | 'FLUSH_DISK_TIMEOUT' | 'FLUSH_SLAVE_TIMEOUT' | 'SLAVE_NOT_AVAILABLE';

export interface SendResult {
  sendStatus: SendStatus;
  /** UNIQ_KEY, generated here (for a batch: the ids joined by ","). */
  msgId: string;
  /** The broker's id: store host + commit-log offset. */
  offsetMsgId: string;
  messageQueue: MessageQueue;
  queueOffset: number;
  transactionId?: string;
}

export type MessageQueueSelector = (mqs: MessageQueue[], msg: Message) => MessageQueue;

export interface SendOptions {
  /** Ordered send: picks the queue; no retry on another queue (as Java's send with a selector). */
  selector?: MessageQueueSelector;
  /** Ordered send by key: queue = |javaHash(key)| mod queue count (Java SelectMessageQueueByHash). */
  shardingKey?: string;
  /** Send to exactly this queue. */
  messageQueue?: MessageQueue;
  timeoutMs?: number;
}

/** Java's default retryResponseCodes. */
const RETRY_CODES = new Set<number>([
  ResponseCode.TOPIC_NOT_EXIST,
  ResponseCode.SERVICE_NOT_AVAILABLE,
  ResponseCode.SYSTEM_ERROR,
  ResponseCode.NO_PERMISSION,
  ResponseCode.NO_BUYER_ID,
  ResponseCode.NOT_IN_CURRENT_UNIT,
]);

const STATUS_BY_CODE: Readonly<Record<number, SendStatus>> = {
  [ResponseCode.SUCCESS]: 'SEND_OK',
  [ResponseCode.FLUSH_DISK_TIMEOUT]: 'FLUSH_DISK_TIMEOUT',
  [ResponseCode.FLUSH_SLAVE_TIMEOUT]: 'FLUSH_SLAVE_TIMEOUT',
  [ResponseCode.SLAVE_NOT_AVAILABLE]: 'SLAVE_NOT_AVAILABLE',
};

type Mode = 'SYNC' | 'ONEWAY';

/** Where a send's retry loop resumes after an attempt made outside it (the first one of Producer.send). */
interface Resume {
  begin: number;
  attempt: number;
  lastBroker: string;
  lastErr: unknown;
}

const NO_OPTIONS: SendOptions = Object.freeze({});

interface Prepared {
  topic: string;
  body: Buffer;
  properties: string;
  sysFlag: number;
  flag: number;
  uniqKey: string;
  reconsumeTimes?: number;
  maxReconsumeTimes?: number;
  batch: boolean;
}

export class Producer {
  readonly group: string;
  protected readonly instance: MQClientInstance;
  private readonly ownsInstance: boolean;
  private sendWhichQueue = Math.floor(Math.random() * 1024);
  private lastTopicOk = '';
  private state: 'CREATED' | 'RUNNING' | 'SHUTDOWN' = 'CREATED';
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly compressOver: number;
  private readonly compressLevel: number;
  private readonly maxMessageSize: number;

  /** `instance` lets a consumer share its client for its internal producer. */
  constructor(
    private readonly opts: ProducerOptions,
    instance?: MQClientInstance,
  ) {
    this.group = opts.producerGroup ?? 'DEFAULT_PRODUCER';
    this.instance = instance ?? new MQClientInstance(opts);
    this.ownsInstance = instance === undefined;
    this.timeoutMs = opts.sendMsgTimeoutMs ?? 3000;
    this.retries = opts.retryTimesWhenSendFailed ?? 2;
    this.compressOver = opts.compressMsgBodyOverHowmuch ?? 4096;
    this.compressLevel = opts.compressLevel ?? 5;
    this.maxMessageSize = opts.maxMessageSize ?? 4 * 1024 * 1024;
  }

  get clientId(): string {
    return this.instance.clientId;
  }

  async start(): Promise<void> {
    if (this.state !== 'CREATED') throw new MQClientError(`producer ${this.group} cannot start: it is ${this.state}`);
    this.instance.registerProducer(this);
    this.state = 'RUNNING';
    this.instance.start();
    await this.instance.sendHeartbeatToAllBrokers();
  }

  async shutdown(): Promise<void> {
    if (this.state !== 'RUNNING') {
      this.state = 'SHUTDOWN';
      return;
    }
    this.state = 'SHUTDOWN';
    await this.instance.unregisterProducer(this.group);
    if (this.ownsInstance) await this.instance.shutdown();
  }

  /**
   * Errors come back as rejections, never thrown. The first attempt of a plain send (no options,
   * route and connection known) is made here without the retry loop's awaits (one promise per
   * send besides the request's own: issue 17, the producer's CPU per message); any failure of it
   * resumes the loop at its second attempt, as if the loop had made the first.
   */
  send(msg: Message, opts: SendOptions = NO_OPTIONS): Promise<SendResult> {
    try {
      this.checkRunning();
      const p = this.prepare(msg);
      if (opts === NO_OPTIONS) {
        const fast = this.trySendFirst(p, msg);
        if (fast !== undefined) return fast;
      }
      return this.sendDefault(p, msg, opts, 'SYNC') as Promise<SendResult>;
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** undefined when the route or the connection is not there yet (the loop then does it all). */
  private trySendFirst(p: Prepared, msg: Message): Promise<SendResult> | undefined {
    const info = this.instance.cachedPublishInfo(p.topic);
    if (info === undefined) return undefined;
    const mq = this.selectOneMessageQueue(info, undefined);
    const addr = this.instance.findBrokerAddressInPublish(mq.brokerName);
    if (addr === undefined) return undefined;
    const begin = Date.now();
    const cmd = this.sendRequest(p, mq);
    // One closure for both outcomes: the connection rejects with Errors only, answers are commands.
    const settled = (answer: RemotingCommand | Error): Promise<SendResult> | SendResult => this.afterFirst(answer, p, msg, mq, addr, begin);
    return this.instance.api.invokeCommand(addr, cmd, this.timeoutMs).then(settled, settled);
  }

  /** The first attempt's answer or failure: a SendResult, or the retry loop from its second attempt. */
  private afterFirst(answer: RemotingCommand | Error, p: Prepared, msg: Message, mq: MessageQueue, addr: string, begin: number): Promise<SendResult> | SendResult {
    let err: unknown = answer;
    if (!(answer instanceof Error)) {
      const status = STATUS_BY_CODE[answer.code];
      if (status === undefined) err = new MQBrokerError(answer.code, answer.remark ?? '', addr);
      else if (status !== 'SEND_OK' && this.opts.retryAnotherBrokerWhenNotStoreOK && this.retries > 0) err = undefined;
      else {
        try {
          return this.sendResult(answer, status, mq, p);
        } catch (e) {
          // A malformed answer header: the loop would retry it too.
          err = e;
        }
      }
    }
    if (err !== undefined && ((err instanceof MQBrokerError && !RETRY_CODES.has(err.code)) || this.retries === 0)) return Promise.reject(err as Error);
    if (err !== undefined) this.instance.logger.debug({ err, topic: p.topic, broker: mq.brokerName, attempt: 0 }, 'send failed, retrying');
    return this.sendDefault(p, msg, NO_OPTIONS, 'SYNC', { begin, attempt: 1, lastBroker: mq.brokerName, lastErr: err }) as Promise<SendResult>;
  }

  /** Fire and forget: one attempt, the oneway flag set, no answer expected. */
  async sendOneway(msg: Message, opts: SendOptions = {}): Promise<void> {
    this.checkRunning();
    await this.sendDefault(this.prepare(msg), msg, opts, 'ONEWAY');
  }

  /** SEND_BATCH_MESSAGE: all messages of one topic, stored in one queue, no delay, no retry topic. */
  async sendBatch(msgs: Message[], opts: SendOptions = {}): Promise<SendResult> {
    this.checkRunning();
    if (msgs.length === 0) throw new MQClientError('sendBatch needs at least one message');
    const topic = msgs[0].topic;
    const items: BatchItem[] = [];
    const ids: string[] = [];
    for (const m of msgs) {
      if (m.topic !== topic) throw new MQClientError(`the topic of the messages in one batch should be the same: ${topic} vs ${m.topic}`);
      if (m.delayTimeLevel !== undefined && m.delayTimeLevel > 0) throw new MQClientError('TimeDelayLevel is not supported for batching');
      if (topic.startsWith(MixAll.RETRY_GROUP_TOPIC_PREFIX)) throw new MQClientError('retry group topics are not supported for batching');
      const body = this.bodyOf(m);
      const uniq = createClientUniqID(this.instance.clientIP);
      ids.push(uniq);
      items.push({ flag: m.flag ?? 0, body, properties: encodeSendProperties(m, uniq) });
    }
    const body = encodeBatchBody(items);
    if (body.length > this.maxMessageSize) throw new MQClientError(`the batch body is ${body.length} bytes, over the maximum ${this.maxMessageSize}`);
    const p: Prepared = {
      topic,
      body,
      properties: `${MessageConst.PROPERTY_WAIT_STORE_MSG_OK}\u0001true\u0002`,
      sysFlag: 0,
      flag: 0,
      uniqKey: ids.join(','),
      batch: true,
    };
    return (await this.sendDefault(p, msgs[0], opts, 'SYNC')) as SendResult;
  }

  protected checkRunning(): void {
    if (this.state !== 'RUNNING') throw new MQClientError(`producer ${this.group} is not running (${this.state}); call start() first`);
  }

  private bodyOf(m: Message): Buffer {
    // A producer sends to few topics: the last one that passed is not checked again (a regular expression per send).
    if (m.topic !== this.lastTopicOk) {
      const err = checkTopic(m.topic);
      if (err) throw new MQClientError(err);
      if (m.topic === TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC) throw new MQClientError(`the topic[${m.topic}] is a system topic; sending is not allowed`);
      this.lastTopicOk = m.topic;
    }
    const body = typeof m.body === 'string' ? Buffer.from(m.body, 'utf8') : m.body;
    if (!body || body.length === 0) throw new MQClientError('the message body is empty');
    if (body.length > this.maxMessageSize) throw new MQClientError(`the message body is ${body.length} bytes, over the maximum ${this.maxMessageSize}`);
    return body;
  }

  /** Ids, properties, compression and retry-topic header fields, once per message (not per attempt). */
  private prepare(m: Message): Prepared {
    let body = this.bodyOf(m);
    const uniqKey = m.properties?.[MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX] || createClientUniqID(this.instance.clientIP);
    let sysFlag = 0;
    if (body.length >= this.compressOver) {
      body = deflateSync(body, { level: this.compressLevel });
      sysFlag |= MessageSysFlag.COMPRESSED_FLAG | MessageSysFlag.COMPRESSION_ZLIB_TYPE;
    }
    if (m.properties?.[MessageConst.PROPERTY_TRANSACTION_PREPARED] === 'true') sysFlag |= MessageSysFlag.TRANSACTION_PREPARED_TYPE;
    let reconsumeTimes: number | undefined;
    let maxReconsumeTimes: number | undefined;
    let msg = m;
    if (m.topic.startsWith(MixAll.RETRY_GROUP_TOPIC_PREFIX) && m.properties) {
      // Java moves these two into header fields j and l and drops them from the properties.
      const { [MessageConst.PROPERTY_RECONSUME_TIME]: rt, [MessageConst.PROPERTY_MAX_RECONSUME_TIMES]: mrt, ...rest } = m.properties;
      if (rt !== undefined) reconsumeTimes = Number(rt);
      if (mrt !== undefined) maxReconsumeTimes = Number(mrt);
      msg = { ...m, properties: rest };
    }
    return {
      topic: m.topic,
      body,
      properties: encodeSendProperties(msg, uniqKey),
      sysFlag,
      flag: m.flag ?? 0,
      uniqKey,
      reconsumeTimes,
      maxReconsumeTimes,
      batch: false,
    };
  }

  private async sendDefault(p: Prepared, msg: Message, opts: SendOptions, mode: Mode, resume?: Resume): Promise<SendResult | undefined> {
    const begin = resume?.begin ?? Date.now();
    const timeout = opts.timeoutMs ?? this.timeoutMs;
    const info = await this.instance.topicPublishInfo(p.topic);
    if (!info || info.messageQueueList.length === 0) {
      throw new MQClientError(`no route info of this topic: ${p.topic} (create it first, or enable autoCreateTopicEnable on the broker)`);
    }
    const fixed = opts.messageQueue ?? this.selectFixed(info, msg, opts);
    const times = fixed || mode === 'ONEWAY' ? 1 : 1 + this.retries;
    let lastBroker: string | undefined = resume?.lastBroker;
    let lastErr: unknown = resume?.lastErr;
    for (let attempt = resume?.attempt ?? 0; attempt < times; attempt++) {
      const left = timeout - (Date.now() - begin);
      if (left <= 0) break;
      const mq = fixed ?? this.selectOneMessageQueue(info, lastBroker);
      lastBroker = mq.brokerName;
      try {
        const r = await this.sendKernel(p, mq, mode, left);
        if (r && r.sendStatus !== 'SEND_OK' && this.opts.retryAnotherBrokerWhenNotStoreOK && attempt + 1 < times) continue;
        return r;
      } catch (err) {
        lastErr = err;
        if (err instanceof MQBrokerError && !RETRY_CODES.has(err.code)) throw err;
        this.instance.logger.debug({ err, topic: p.topic, broker: mq.brokerName, attempt }, 'send failed, retrying');
      }
    }
    if (lastErr) throw lastErr;
    throw new MQClientError(`send to ${p.topic} timed out after ${timeout} ms`);
  }

  private selectFixed(info: TopicPublishInfo, msg: Message, opts: SendOptions): MessageQueue | undefined {
    const mqs = info.messageQueueList;
    if (opts.selector) {
      const mq = opts.selector(mqs, msg);
      if (!mq) throw new MQClientError('the message queue selector returned no queue');
      return mq;
    }
    if (opts.shardingKey !== undefined) return mqs[Math.abs(javaStringHashCode(opts.shardingKey) % mqs.length)];
    return undefined;
  }

  /** Round robin, avoiding the broker that just failed when another one exists. */
  private selectOneMessageQueue(info: TopicPublishInfo, lastBroker: string | undefined): MessageQueue {
    const mqs = info.messageQueueList;
    if (lastBroker !== undefined) {
      for (let i = 0; i < mqs.length; i++) {
        const mq = mqs[this.nextIndex() % mqs.length];
        if (mq.brokerName !== lastBroker) return mq;
      }
    }
    return mqs[this.nextIndex() % mqs.length];
  }

  private nextIndex(): number {
    this.sendWhichQueue = (this.sendWhichQueue + 1) & 0x7fffffff;
    return this.sendWhichQueue;
  }

  private async sendKernel(p: Prepared, mq: MessageQueue, mode: Mode, timeoutMs: number): Promise<SendResult | undefined> {
    let addr = this.instance.findBrokerAddressInPublish(mq.brokerName);
    if (!addr) {
      await this.instance.updateTopicRoute(p.topic).catch(() => false);
      addr = this.instance.findBrokerAddressInPublish(mq.brokerName);
    }
    if (!addr) throw new MQClientError(`the broker[${mq.brokerName}] does not exist`);
    const cmd = this.sendRequest(p, mq);
    if (mode === 'ONEWAY') {
      await this.instance.api.remoting.invokeOneway(addr, cmd);
      return undefined;
    }
    const resp = await this.instance.api.invokeCommand(addr, cmd, timeoutMs);
    return this.processSendResponse(resp, mq, p, addr);
  }

  /** SEND_MESSAGE_V2 (or SEND_BATCH_MESSAGE) of a prepared message to one queue, born now. */
  private sendRequest(p: Prepared, mq: MessageQueue): RemotingCommand {
    const ext = sendHeaderV2Fields({
      producerGroup: this.group,
      topic: p.topic,
      queueId: mq.queueId,
      sysFlag: p.sysFlag,
      bornTimestamp: Date.now(),
      flag: p.flag,
      properties: p.properties,
      reconsumeTimes: p.reconsumeTimes ?? 0,
      maxReconsumeTimes: p.maxReconsumeTimes,
      batch: p.batch,
      brokerName: mq.brokerName,
    });
    return createSendRequest(p.batch ? RequestCode.SEND_BATCH_MESSAGE : RequestCode.SEND_MESSAGE_V2, ext, p.body);
  }

  private processSendResponse(resp: RemotingCommand, mq: MessageQueue, p: Prepared, addr: string): SendResult {
    const status = STATUS_BY_CODE[resp.code];
    if (status === undefined) throw new MQBrokerError(resp.code, resp.remark ?? '', addr);
    return this.sendResult(resp, status, mq, p);
  }

  private sendResult(resp: RemotingCommand, status: SendStatus, mq: MessageQueue, p: Prepared): SendResult {
    const e = decodeSendResponse(resp.extFields);
    return {
      sendStatus: status,
      msgId: p.uniqKey,
      offsetMsgId: e.msgId,
      messageQueue: { topic: mq.topic, brokerName: mq.brokerName, queueId: e.queueId },
      queueOffset: e.queueOffset,
      transactionId: e.transactionId,
    };
  }
}
