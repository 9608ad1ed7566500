// What the broker metrics read at scrape time, as plain data. The broker implements this view over
// its managers and store (src/broker/metrics-view.ts); observability never sees those, and a test
// can hand the collectors a view of its own.

/** One (consumer group, topic) pair: a group's progress on one topic of this broker. */
export interface ConsumerProgress {
  group: string;
  /** The topic as consumed: a subscribed topic, or the group's retry topic. */
  topic: string;
  /** Messages stored and not yet consumed: queue ends minus committed offsets, summed over the queues. */
  lag: number;
  /** Store time (ms) of the oldest unconsumed message over the queues; 0 when nothing lags. */
  earliestUnconsumedMs: number;
  /** Handed out (pulled or popped) and not yet committed or acknowledged. */
  inflight: number;
  /** Store time (ms) of the oldest message not handed out yet; 0 when none waits. */
  earliestUnpulledMs: number;
  /** Stored and not handed out yet. */
  ready: number;
  /** Sums over the queues of the committed offsets and of the queue ends. */
  consumerOffset: number;
  brokerOffset: number;
  onlineConsumers: number;
  /** "CLUSTERING" or "BROADCASTING"; CLUSTERING when nobody is online. */
  messageModel: string;
}

/** Sums over a topic's queues on this broker. */
export interface TopicOffsets {
  topic: string;
  minOffset: number;
  maxOffset: number;
}

/** Client connections with the same group, language, version (and consume mode for consumers). */
export interface ConnectionCount {
  group: string;
  language: string;
  /** MQVersion ordinal as a remoting client announces it, or a 5.x client's version text ("5.0.3"). */
  version: number | string;
  /** Consumers only: "pull", "push" or "pop" as RocketMQ's ConsumeType labels them. */
  consumeMode?: string;
  protocol: 'remoting' | 'grpc';
  count: number;
}

export interface StoreNumbers {
  /** Bytes of the file system holding the store, and the part in use (rocketmq_storage_size is the used part, as Java). */
  diskTotalBytes: number;
  diskUsedBytes: number;
  /** diskUsedBytes / diskTotalBytes, 0..1. */
  diskUsageRatio: number;
  /** diskSpaceWarningLevelRatio as a fraction: above it writes are refused. */
  diskWarningRatio: number;
  commitLogMinOffset: number;
  commitLogMaxOffset: number;
  /** Written to the commit log and not yet fsynced. */
  flushBehindBytes: number;
  /** Written to the commit log and not yet in consume queues and index. */
  dispatchBehindBytes: number;
  /** Store time of the oldest message still kept; 0 when the store is empty. */
  earliestMessageMs: number;
}

export interface TimerNumbers {
  /** Timer messages accepted and not yet delivered (waiting in the wheel or to be enqueued into it). */
  backlog: number;
  /** Of those, stored in the wheel topic and not yet read into the timer log. */
  enqueueLag: number;
  /** Delivered since the broker started. */
  delivered: number;
}

export interface DelayLevelBacklog {
  /** 1-based, as messageDelayLevel counts. */
  level: number;
  backlog: number;
}

export interface HalfMessages {
  /** Transaction half messages neither committed nor rolled back. */
  count: number;
  /** Store time of the oldest of them; 0 when none. */
  oldestMs: number;
}

export interface BrokerIdentityView {
  cluster: string;
  brokerName: string;
  /** "ip:port" clients reach the broker at. */
  brokerAddr: string;
  bootTimestamp: number;
  /** RocketMQ's broker permission bits (brokerPermission). */
  permission: number;
}

/**
 * Scrape-time reads. Each call does its own bounded work; the collectors call each at most once per
 * scrape. `pullOffsetOf` gives the next offset a 4.x consumer will pull (tracked by the collectors
 * from delivered events), or undefined when nothing was pulled since start.
 */
export interface BrokerMetricsView {
  identity(): BrokerIdentityView;
  /** Every topic of this broker with its queue offsets, retry and DLQ topics included. */
  topicOffsets(): TopicOffsets[];
  topicCount(): number;
  groupCount(): number;
  /** "normal", "fifo", "delay", "transaction" or "mixed": the topic's +message.type, lower case. */
  topicMessageType(topic: string): string;
  consumerProgress(pullOffsetOf: (group: string, topic: string, queueId: number) => number | undefined): Promise<ConsumerProgress[]>;
  producerConnections(): ConnectionCount[];
  consumerConnections(): ConnectionCount[];
  store(): Promise<StoreNumbers>;
  /** Undefined when the timer wheel is off. */
  timer(): TimerNumbers | undefined;
  delayLevels(): DelayLevelBacklog[];
  halfMessages(): Promise<HalfMessages>;
}
