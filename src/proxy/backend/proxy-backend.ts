// What the gRPC activities need from the brokers behind them. Two implementations: LocalBackend
// calls a BrokerController in the same process ("local" mode), RemoteBackend talks remoting to
// brokers found through the name servers ("cluster" mode, `apogee proxy -n namesrv`).
import type { MessageRecord } from '../../common/message-codec.js';
import type { HostPort } from '../../common/message-host.js';
import type { AckResult, PoppedMessage, PopRequestBase, SubscriptionGroupConfig, TopicConfig } from '../../remoting/protocol/index.js';

export type { AckResult, PoppedMessage, SubscriptionGroupConfig, TopicConfig };

/** A consumer's filter as the client gave it; each backend compiles it where the messages are. */
export interface FilterExpression {
  /** "TAG" (default) or "SQL92". */
  expressionType: string;
  /** "*" / "a || b" for TAG, the SQL92 text for SQL92. */
  expression: string;
}

export interface BackendSendRequest {
  topic: string;
  body: Buffer;
  /** The properties string as built by the converter (UNIQ_KEY, TAGS, ... already in it); sent as is. */
  properties: string;
  sysFlag: number;
  bornTimestamp: number;
  /** The gRPC peer. A remote broker stamps its own peer (the proxy) instead, as Java's proxy does. */
  bornHost: HostPort;
  /** FIFO: the queue is hash(messageGroup) mod writeQueueNums; otherwise round robin. */
  messageGroup?: string;
}

/** Outcomes that still count as sent; every other outcome is thrown (BrokerError or ProxyError). */
export const BackendSendStatus = { SEND_OK: 'SEND_OK', FLUSH_DISK_TIMEOUT: 'FLUSH_DISK_TIMEOUT' } as const;
export type BackendSendStatusValue = (typeof BackendSendStatus)[keyof typeof BackendSendStatus];

export interface BackendSendResult {
  status: BackendSendStatusValue;
  queueId: number;
  /** For a transaction message: the half-queue offset (tranStateTableOffset of END_TRANSACTION). */
  queueOffset: number;
  commitLogOffset: number;
  /** offsetMsgId (store host + commit-log offset). */
  msgId: string;
  /** Timer messages only: the handle RecallMessage takes. */
  recallHandle?: string;
  /** The broker group that stored it (cluster mode: a topic may live on several). */
  brokerName: string;
}

/** PopService's request, with the filter as the client gave it instead of a compiled subscription. */
export interface BackendPopRequest extends PopRequestBase {
  filter: FilterExpression;
  /** The broker group of the client's assignment: cluster mode pops there (else it picks one in turn). */
  brokerName?: string;
}

export interface BackendEndTransactionRequest {
  /** The real topic of the half message (picks the broker in cluster mode). */
  topic: string;
  producerGroup: string;
  tranStateTableOffset: number;
  commitLogOffset: number;
  commitOrRollback: 'COMMIT' | 'ROLLBACK';
  fromTransactionCheck: boolean;
  /** The transaction id (= UNIQ_KEY), for the broker's logs. */
  transactionId?: string;
  /** The broker group holding the half message (cluster mode); the topic's first group when absent. */
  brokerName?: string;
}

export interface BackendPullRequest {
  group: string;
  topic: string;
  queueId: number;
  offset: number;
  /** Clamped to 1..32. */
  maxNums: number;
  filter: FilterExpression;
  /** The broker group of the queue (cluster mode); the topic's first group when absent. */
  brokerName?: string;
}

export interface BackendPullResult {
  /** Records in queue order; bodies may be views on a response buffer the caller now owns. */
  messages: { record: MessageRecord; queueOffset: number }[];
  nextBeginOffset: number;
}

/** Called for every check-back of an undecided half message; realTopic is the topic it was sent to. */
export type TransactionCheckListener = (half: MessageRecord, realTopic: string, brokerName: string) => void;

/** One broker group serving a topic, as routes advertise it. */
export interface TopicBroker {
  name: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
}

export interface ProxyBackend {
  /** The home broker group (local mode: the broker itself; cluster mode: the first found at start). */
  readonly brokerName: string;
  /** Body size limit in bytes. */
  readonly maxMessageSize: number;
  /** Whether SQL92 filters are allowed. */
  readonly enablePropertyFilter: boolean;
  /** Longest timer delay in seconds. */
  readonly timerMaxDelaySec: number;
  /** Delay per level in ms (index 0 = level 1). */
  readonly delayLevelsMs: readonly number[];

  /** undefined when the topic does not exist. */
  getTopicConfig(topic: string): Promise<TopicConfig | undefined>;
  /** The broker groups serving a topic (with a master), by name; [] when none does. */
  brokersOf(topic: string): Promise<TopicBroker[]>;
  /** undefined when the group does not exist and the broker does not auto-create groups. */
  getGroupConfig(group: string): Promise<SubscriptionGroupConfig | undefined>;
  sendMessage(req: BackendSendRequest): Promise<BackendSendResult>;
  /** [] when nothing arrived within pollTimeMs, or when signal aborted the wait. */
  pop(req: BackendPopRequest, signal?: AbortSignal): Promise<PoppedMessage[]>;
  ack(group: string, topic: string, receiptHandle: string): Promise<AckResult>;
  /** 0 ms makes the message visible again now. */
  changeInvisibleTime(group: string, topic: string, receiptHandle: string, ms: number): Promise<{ handle: string; invisibleUntil: number } | AckResult>;
  /** To %DLQ%<group>, then acked. */
  forwardToDeadLetter(group: string, topic: string, receiptHandle: string): Promise<AckResult>;
  /** Throws (BrokerError) when the half message does not match; a repeated end is accepted. */
  endTransaction(req: BackendEndTransactionRequest): Promise<void>;
  /** Cancels a timer message; returns its unique key. */
  recallMessage(topic: string, recallHandle: string): Promise<string>;
  // Queue-addressed calls take the queue's broker group (cluster mode); the topic's first group when absent.
  /** -1 when the group has no offset there (cluster mode: the broker may answer 0 for a queue that still has its first message). */
  queryConsumerOffset(group: string, topic: string, queueId: number, brokerName?: string): Promise<number>;
  commitConsumerOffset(group: string, topic: string, queueId: number, offset: number, brokerName?: string): Promise<void>;
  getMinOffset(topic: string, queueId: number, brokerName?: string): Promise<number>;
  getMaxOffset(topic: string, queueId: number, brokerName?: string): Promise<number>;
  searchOffsetByTime(topic: string, queueId: number, timestampMs: number, brokerName?: string): Promise<number>;
  /** Reads by queue offset, tags filtered at the broker (PullMessage of 5.x pull consumers). */
  getMessage(req: BackendPullRequest): Promise<BackendPullResult>;
  onTransactionCheck(listener: TransactionCheckListener): void;
  /** Whether a gRPC client is still connected, for server-side auto-renew of its messages. */
  setClientAlive(fn: (clientId: string) => boolean): void;
  /**
   * A gRPC producer publishes to this topic. Cluster mode: the proxy then heartbeats as a producer
   * of group = topic, so the broker's transaction check-backs reach it. Local mode: nothing to do.
   */
  registerProducerTopic(topic: string): Promise<void>;
  close(): Promise<void>;
}
