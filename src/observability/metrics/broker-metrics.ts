// A broker's metrics: counters fed by the service layer's hook events and the remoting server's
// response hook, gauges read from a BrokerMetricsView when /metrics is scraped.
//
// Hot path (the `stored` listener runs once per acknowledged put, a batch included): one Map
// lookup by topic, then additions to series objects kept in that entry. No label object, string
// or closure is built per message once a topic has been seen.
import type { Registry } from 'prom-client';
import { TopicValidator } from '../../common/message-const.js';
import { readLong } from '../../common/message-bytes.js';
import { RecordPos } from '../../common/message-codec.js';
import type { DeadLetteredEvent, DeliveredEvent, RetriedEvent, StoredEvent } from '../broker-events.js';
import { registerBrokerGauges, type Snapshot } from './broker-gauges.js';
import type { BrokerMetricsView } from './broker-view.js';
import { registerExporterGauges } from './exporter-gauges.js';
import { bool, isRetryOrDlqTopic, isSystemGroup, isSystemTopic } from './labels.js';
import { RpcMetrics } from './rpc-metrics.js';
import { SeriesCounter, SeriesHistogram, type CounterSeries, type HistogramSeries } from './series.js';

type Listener<E> = (e: E) => void;

/** The listener arrays of the broker's BrokerHooks (structurally: observability does not import the broker). */
export interface BrokerHookLists {
  readonly stored: Listener<StoredEvent>[];
  readonly delivered: Listener<DeliveredEvent>[];
  readonly retried: Listener<RetriedEvent>[];
  readonly deadLettered: Listener<DeadLetteredEvent>[];
}

/** BrokerMetricsManager's message size view: 1 KiB, 4 KiB, 512 KiB, 1, 2, 4 MiB. */
export const MESSAGE_SIZE_BUCKETS = [1024, 4096, 512 * 1024, 1024 * 1024, 2 * 1024 * 1024, 4 * 1024 * 1024] as const;

type MessageType = 'normal' | 'fifo' | 'delay' | 'transaction';

interface InSeries {
  msgs: CounterSeries;
  bytes: CounterSeries;
  size: HistogramSeries;
}

/** Per addressed topic: totals for the exporter's rates, series per message type for RocketMQ 5's counters. */
export interface TopicIn {
  readonly topic: string;
  readonly since: number;
  msgs: number;
  bytes: number;
  /** Normal or FIFO by the topic's +message.type when first seen; delay and transaction by routing. */
  readonly base: InSeries | undefined;
  delay: InSeries | undefined;
  transaction: InSeries | undefined;
}

/** Per (consumer group, topic) handed out. */
export interface GroupOut {
  readonly group: string;
  readonly topic: string;
  readonly since: number;
  msgs: number;
  bytes: number;
  /** Absent for retry and DLQ topics, which RocketMQ leaves out of rocketmq_messages_out_total. */
  readonly counted: { msgs: CounterSeries; bytes: CounterSeries } | undefined;
  /** Per queue id: the next offset the group's pull consumer will ask for (in-flight counts). */
  readonly pullOffsets: number[];
}

export interface BrokerMetricsOptions {
  registry: Registry;
  view: BrokerMetricsView;
  now?: () => number;
  /** Told when a part of the view fails during a scrape (the rest is still served). */
  onError?: (err: unknown, part: string) => void;
}

const HALF = TopicValidator.RMQ_SYS_TRANS_HALF_TOPIC;
const SCHEDULE = TopicValidator.RMQ_SYS_SCHEDULE_TOPIC;
const WHEEL = TopicValidator.RMQ_SYS_WHEEL_TIMER;

export class BrokerMetrics {
  readonly registry: Registry;
  readonly rpc: RpcMetrics;
  readonly messagesIn: SeriesCounter;
  readonly throughputIn: SeriesCounter;
  readonly messageSize: SeriesHistogram;
  readonly messagesOut: SeriesCounter;
  readonly throughputOut: SeriesCounter;
  readonly sendToDlq: SeriesCounter;
  readonly retries: SeriesCounter;
  readonly topicsIn = new Map<string, TopicIn>();
  /** Per "group\u0001topic", for the scrape; the hot path goes through groupOut. */
  readonly groupsOut = new Map<string, GroupOut>();
  private readonly groupOut = new Map<string, Map<string, GroupOut>>();
  private readonly view: BrokerMetricsView;
  private readonly now: () => number;
  readonly startedAt: number;
  private pending: Promise<Snapshot> | undefined;
  private readonly onError: (err: unknown, part: string) => void;

  constructor(opts: BrokerMetricsOptions) {
    const r = (this.registry = opts.registry);
    this.view = opts.view;
    this.now = opts.now ?? Date.now;
    this.onError = opts.onError ?? (() => undefined);
    this.startedAt = this.now();
    this.rpc = new RpcMetrics(r);
    const inLabels = ['topic', 'message_type', 'is_system'];
    this.messagesIn = new SeriesCounter('rocketmq_messages_in_total', 'Total number of incoming messages', inLabels, r);
    this.throughputIn = new SeriesCounter('rocketmq_throughput_in_total', 'Total traffic of incoming messages, bytes', inLabels, r);
    this.messageSize = new SeriesHistogram('rocketmq_message_size', 'Incoming messages size, bytes', ['topic', 'message_type'], MESSAGE_SIZE_BUCKETS, r);
    const outLabels = ['topic', 'consumer_group', 'is_system'];
    this.messagesOut = new SeriesCounter('rocketmq_messages_out_total', 'Total number of outgoing messages', outLabels, r);
    this.throughputOut = new SeriesCounter('rocketmq_throughput_out_total', 'Total traffic of outgoing messages, bytes', outLabels, r);
    const dlqLabels = ['consumer_group', 'topic', 'is_system'];
    this.sendToDlq = new SeriesCounter('rocketmq_send_to_dlq_messages_total', 'Consumer send to DLQ messages', dlqLabels, r);
    this.retries = new SeriesCounter('apogee_consumer_retry_messages_total', 'Messages sent back for another delivery (retry topic), per group and origin topic', dlqLabels, r);
    const snapshot = (): Promise<Snapshot> => this.snapshot();
    registerBrokerGauges(r, snapshot);
    registerExporterGauges(r, snapshot, this);
  }

  /** Adds the listeners; the returned function removes them. */
  attach(hooks: BrokerHookLists): () => void {
    hooks.stored.push(this.onStored);
    hooks.delivered.push(this.onDelivered);
    hooks.retried.push(this.onRetried);
    hooks.deadLettered.push(this.onDeadLettered);
    return () => {
      remove(hooks.stored, this.onStored);
      remove(hooks.delivered, this.onDelivered);
      remove(hooks.retried, this.onRetried);
      remove(hooks.deadLettered, this.onDeadLettered);
    };
  }

  readonly onStored = (e: StoredEvent): void => {
    let t = this.topicsIn.get(e.topic);
    if (t === undefined) t = this.newTopicIn(e.topic);
    t.msgs += e.msgNum;
    t.bytes += e.wroteBytes;
    let s = t.base;
    if (e.storedTopic !== e.topic) {
      if (e.storedTopic === HALF) s = t.transaction ?? (t.transaction = this.inSeries(e.topic, 'transaction'));
      else if (e.storedTopic === SCHEDULE || e.storedTopic === WHEEL) s = t.delay ?? (t.delay = this.inSeries(e.topic, 'delay'));
    }
    if (s === undefined) return;
    s.msgs.value += e.msgNum;
    s.bytes.value += e.wroteBytes;
    // Java records one size per put: the average of a batch.
    this.messageSize.record(s.size, e.msgNum > 1 ? e.wroteBytes / e.msgNum : e.wroteBytes);
  };

  private newTopicIn(topic: string): TopicIn {
    const type = this.view.topicMessageType(topic) === 'fifo' ? 'fifo' : 'normal';
    const t: TopicIn = {
      topic,
      since: this.now(),
      msgs: 0,
      bytes: 0,
      base: isRetryOrDlqTopic(topic) ? undefined : this.inSeries(topic, type),
      delay: undefined,
      transaction: undefined,
    };
    this.topicsIn.set(topic, t);
    return t;
  }

  private inSeries(topic: string, type: MessageType): InSeries {
    const key = `${topic}\u0001${type}`;
    const labels = (): Record<string, string> => ({ topic, message_type: type, is_system: bool(isSystemTopic(topic)) });
    return {
      msgs: this.messagesIn.series(key, labels),
      bytes: this.throughputIn.series(key, labels),
      size: this.messageSize.series(key, () => ({ topic, message_type: type })),
    };
  }

  readonly onDelivered = (e: DeliveredEvent): void => {
    // Two lookups by the strings the event carries: no key is built per pull.
    const g = this.groupOut.get(e.group)?.get(e.topic) ?? this.newGroupOut(e.group, e.topic);
    g.msgs += e.count;
    g.bytes += e.bytes;
    if (g.counted) {
      g.counted.msgs.value += e.count;
      g.counted.bytes.value += e.bytes;
    }
    const records = e.records;
    if (e.kind === 'pull' && records !== undefined && records.length > 0 && e.queueId >= 0) {
      g.pullOffsets[e.queueId] = readLong(records[records.length - 1], RecordPos.QUEUEOFFSET) + 1;
    }
  };

  private newGroupOut(group: string, topic: string): GroupOut {
    const key = `${group}\u0001${topic}`;
    const labels = (): Record<string, string> => ({ topic, consumer_group: group, is_system: bool(isSystemTopic(topic) || isSystemGroup(group)) });
    const g: GroupOut = {
      group,
      topic,
      since: this.now(),
      msgs: 0,
      bytes: 0,
      counted: isRetryOrDlqTopic(topic) ? undefined : { msgs: this.messagesOut.series(key, labels), bytes: this.throughputOut.series(key, labels) },
      pullOffsets: [],
    };
    let byTopic = this.groupOut.get(group);
    if (!byTopic) this.groupOut.set(group, (byTopic = new Map()));
    byTopic.set(topic, g);
    this.groupsOut.set(key, g);
    return g;
  }

  readonly onRetried = (e: RetriedEvent): void => {
    this.retries.series(`${e.group}\u0001${e.originTopic}`, () => groupTopicLabels(e.group, e.originTopic)).value++;
  };

  readonly onDeadLettered = (e: DeadLetteredEvent): void => {
    this.sendToDlq.series(`${e.group}\u0001${e.originTopic}`, () => groupTopicLabels(e.group, e.originTopic)).value++;
  };

  /** The next offset a pull consumer of the group will read from the queue, if it pulled since start. */
  pullOffsetOf(group: string, topic: string, queueId: number): number | undefined {
    return this.groupOut.get(group)?.get(topic)?.pullOffsets[queueId];
  }

  /** Dead letters per group since start (alarm rules read this). */
  deadLettersOf(group: string): number {
    return this.sendToDlq.sum((l) => l.consumer_group === group);
  }

  /**
   * One read of the view per scrape: the registry starts every gauge's collect in the same tick, so
   * the first starts the read and the others share it while it is in flight.
   */
  snapshot(): Promise<Snapshot> {
    if (this.pending) return this.pending;
    const snap = this.read(this.now()).finally(() => {
      if (this.pending === snap) this.pending = undefined;
    });
    this.pending = snap;
    return snap;
  }

  private async read(now: number): Promise<Snapshot> {
    const v = this.view;
    const part = async <T>(name: string, f: () => T | Promise<T>, fallback: T): Promise<T> => {
      try {
        return await f();
      } catch (err) {
        this.onError(err, name);
        return fallback;
      }
    };
    const [progress, store, half] = await Promise.all([
      part('consumerProgress', () => v.consumerProgress((g, t, q) => this.pullOffsetOf(g, t, q)), []),
      part('store', () => v.store(), undefined),
      part('halfMessages', () => v.halfMessages(), undefined),
    ]);
    return {
      at: now,
      identity: v.identity(),
      topicCount: await part('topicCount', () => v.topicCount(), 0),
      groupCount: await part('groupCount', () => v.groupCount(), 0),
      topicOffsets: await part('topicOffsets', () => v.topicOffsets(), []),
      progress,
      producers: await part('producerConnections', () => v.producerConnections(), []),
      consumers: await part('consumerConnections', () => v.consumerConnections(), []),
      store,
      timer: await part('timer', () => v.timer(), undefined),
      delay: await part('delayLevels', () => v.delayLevels(), []),
      half,
    };
  }
}

function groupTopicLabels(group: string, topic: string): Record<string, string> {
  return { consumer_group: group, topic, is_system: bool(isSystemTopic(topic) || isSystemGroup(group)) };
}

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}
