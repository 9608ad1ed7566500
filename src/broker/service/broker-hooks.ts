// Send and consume hook points of the service layer: trace, metrics and audit attach here and see
// every message event once, whichever protocol carried it. Listeners run synchronously after the
// event; with none registered an event costs one length check and builds nothing.
import type { MessageRecord } from '../../common/message-codec.js';

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

export interface DeadLetteredEvent {
  group: string;
  originTopic: string;
  dlqTopic: string;
  reconsumeTimes: number;
  commitLogOffset: number;
  msgId: string;
}

type Listener<E> = (e: E) => void;

export class BrokerHooks {
  readonly stored: Listener<StoredEvent>[] = [];
  readonly delivered: Listener<DeliveredEvent>[] = [];
  readonly acked: Listener<AckedEvent>[] = [];
  readonly retried: Listener<RetriedEvent>[] = [];
  readonly deadLettered: Listener<DeadLetteredEvent>[] = [];

  constructor(private readonly onListenerError: (err: unknown, hook: string) => void = () => undefined) {}

  /** Runs each listener; one that throws is reported and never fails the request. */
  emit<E>(name: string, listeners: readonly Listener<E>[], e: E): void {
    for (const l of listeners) {
      try {
        l(e);
      } catch (err) {
        this.onListenerError(err, name);
      }
    }
  }
}
