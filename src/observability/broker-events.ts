// Message events of the broker's service layer, as hook listeners receive them. They sit below
// the broker so that observability (metrics, trace, alarms) can read them without seeing the
// broker itself.
import type { MessageRecord } from '../common/message-codec.js';

/** What a pop handed out (the pop service's PoppedMessage has this shape). */
export interface PoppedView {
  record: MessageRecord;
  receiptHandle: string;
  deliveryAttempt: number;
  queueId: number;
  queueOffset: number;
}

export type Protocol = 'remoting' | 'grpc' | 'internal';

export interface StoredEvent {
  protocol: Protocol;
  producerGroup: string;
  /** The topic the producer addressed; `storedTopic` differs for delay, timer and transaction routing. */
  topic: string;
  storedTopic: string;
  queueId: number;
  /** First queue offset of the put; a batch holds msgNum consecutive offsets. */
  queueOffset: number;
  msgNum: number;
  commitLogOffset: number;
  /** Offset message id(s) as the producer is told them, comma separated for a batch. */
  msgId: string;
  /** Unique client key(s), comma separated for a batch. */
  uniqKey: string;
  wroteBytes: number;
  client: string;
}

export interface DeliveredEvent {
  kind: 'pull' | 'pop';
  protocol: Protocol;
  group: string;
  topic: string;
  /** -1 for a pop that read several queues. */
  queueId: number;
  count: number;
  bytes: number;
  client: string;
  /** Pull: the stored records as sent (views, not copies). */
  records?: readonly Buffer[];
  /** Pop: what was handed out, with receipt handles. */
  popped?: readonly PoppedView[];
}

export interface AckedEvent {
  /** 'ack': a pop receipt handle; 'offset': a committed consumer offset passing earlier messages. */
  kind: 'ack' | 'offset';
  group: string;
  topic: string;
  queueId: number;
  queueOffset: number;
}

export interface RetriedEvent {
  group: string;
  originTopic: string;
  retryTopic: string;
  /** Deliveries so far, counting the one that failed. */
  reconsumeTimes: number;
  delayLevel: number;
  commitLogOffset: number;
  msgId: string;
}

/** END_TRANSACTION (or its gRPC form) committed or rolled back a half message. */
export interface TransactionEndedEvent {
  producerGroup: string;
  /** The half message's queue offset in RMQ_SYS_TRANS_HALF_TOPIC (queue 0). */
  halfQueueOffset: number;
  commitLogOffset: number;
  commit: boolean;
  fromTransactionCheck: boolean;
}

/** A timer message cancelled before it was due. */
export interface RecalledEvent {
  topic: string;
  uniqKey: string;
}

export interface DeadLetteredEvent {
  group: string;
  originTopic: string;
  dlqTopic: string;
  reconsumeTimes: number;
  commitLogOffset: number;
  msgId: string;
}
