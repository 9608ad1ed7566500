// Gauges computed at scrape time from one snapshot of the BrokerMetricsView: RocketMQ 5's names
// (BrokerMetricsConstant, DefaultStoreMetricsConstant) and Apogee's own additions (apogee_*).
import { Gauge, type Registry } from 'prom-client';
import type {
  BrokerIdentityView,
  ConnectionCount,
  ConsumerProgress,
  DelayLevelBacklog,
  HalfMessages,
  StoreNumbers,
  TimerNumbers,
  TopicOffsets,
} from './broker-view.js';
import { bool, groupOfRetryOrDlq, isDlqTopic, isRetryTopic, isSystemGroup, isSystemTopic, versionLabel } from './labels.js';

export interface Snapshot {
  at: number;
  identity: BrokerIdentityView;
  topicCount: number;
  groupCount: number;
  topicOffsets: TopicOffsets[];
  progress: ConsumerProgress[];
  producers: ConnectionCount[];
  consumers: ConnectionCount[];
  store: StoreNumbers | undefined;
  timer: TimerNumbers | undefined;
  delay: DelayLevelBacklog[];
  half: HalfMessages | undefined;
}

type Fill = (g: Gauge, s: Snapshot) => void;

/** A gauge whose values are replaced from the scrape's snapshot each time it is collected. */
export function snapshotGauge(r: Registry, snapshot: () => Promise<Snapshot>, name: string, help: string, labelNames: readonly string[], fill: Fill): Gauge {
  return new Gauge({
    name,
    help,
    labelNames,
    registers: [r],
    async collect() {
      const s = await snapshot();
      this.reset();
      fill(this, s);
    },
  });
}

/** Java's request processors (thread pools); Apogee runs every request on the event loop as it arrives. */
const PROCESSORS = ['send', 'async_put', 'pull', 'ack', 'query_message', 'client_manager', 'heartbeat', 'lite_pull', 'transaction', 'consumer_manager', 'admin', 'reply'];

const LAG_LABELS = ['consumer_group', 'topic', 'is_retry', 'is_system'];
const STORAGE = { storage_type: 'local', storage_medium: 'disk' };

/** Labels of a progress row as ConsumerLagCalculator reports them: a pop retry topic reports its origin topic. */
export function lagLabels(p: ConsumerProgress): Record<string, string> {
  let topic = p.topic;
  const retry = isRetryTopic(topic);
  const popRetryPrefix = `%RETRY%${p.group}_`;
  if (topic.startsWith(popRetryPrefix)) topic = topic.slice(popRetryPrefix.length);
  return { consumer_group: p.group, topic, is_retry: bool(retry), is_system: bool(isSystemTopic(topic) || isSystemGroup(p.group)) };
}

function ageMs(now: number, at: number): number {
  return at > 0 ? Math.max(0, now - at) : 0;
}

export function registerBrokerGauges(r: Registry, snapshot: () => Promise<Snapshot>): void {
  const g = (name: string, help: string, labels: readonly string[], fill: Fill): Gauge => snapshotGauge(r, snapshot, name, help, labels, fill);

  g('rocketmq_processor_watermark', 'Requests waiting for a request processor (always 0: requests run on the event loop as they arrive)', ['processor'], (m) => {
    for (const p of PROCESSORS) m.set({ processor: p }, 0);
  });
  g('rocketmq_broker_permission', 'Broker permission (brokerPermission bits)', [], (m, s) => m.set(s.identity.permission));
  g('rocketmq_topic_number', 'Active topic number', [], (m, s) => m.set(s.topicCount));
  g('rocketmq_consumer_group_number', 'Active subscription group number', [], (m, s) => m.set(s.groupCount));

  g('rocketmq_producer_connections', 'Producer connections', ['language', 'version', 'protocol_type'], (m, s) => {
    for (const [labels, n] of aggregate(s.producers, (c) => ({ language: c.language.toLowerCase(), version: versionLabel(c.version), protocol_type: c.protocol }))) m.set(labels, n);
  });
  g('rocketmq_consumer_connections', 'Consumer connections', ['consumer_group', 'language', 'version', 'consume_mode', 'protocol_type', 'is_system'], (m, s) => {
    const rows = aggregate(s.consumers, (c) => ({
      consumer_group: c.group,
      language: c.language.toLowerCase(),
      version: versionLabel(c.version),
      consume_mode: c.consumeMode ?? 'push',
      protocol_type: c.protocol,
      is_system: bool(isSystemGroup(c.group)),
    }));
    for (const [labels, n] of rows) m.set(labels, n);
  });

  g('rocketmq_consumer_lag_messages', 'Consumer lag messages: stored and not yet consumed', LAG_LABELS, (m, s) => {
    for (const p of s.progress) m.set(lagLabels(p), p.lag);
  });
  g('rocketmq_consumer_lag_latency', 'Consumer lag time, milliseconds: age of the oldest unconsumed message', LAG_LABELS, (m, s) => {
    for (const p of s.progress) m.set(lagLabels(p), p.lag > 0 ? ageMs(s.at, p.earliestUnconsumedMs) : 0);
  });
  g('rocketmq_consumer_inflight_messages', 'Consumer inflight messages: handed out and not yet committed or acknowledged', LAG_LABELS, (m, s) => {
    for (const p of s.progress) m.set(lagLabels(p), p.inflight);
  });
  g('rocketmq_consumer_queueing_latency', 'Consumer queueing time, milliseconds: age of the oldest message not handed out yet', LAG_LABELS, (m, s) => {
    for (const p of s.progress) m.set(lagLabels(p), p.ready > 0 ? ageMs(s.at, p.earliestUnpulledMs) : 0);
  });
  g('rocketmq_consumer_ready_messages', 'Consumer ready messages: stored and not handed out yet', LAG_LABELS, (m, s) => {
    for (const p of s.progress) m.set(lagLabels(p), p.ready);
  });

  g('rocketmq_half_messages', 'Transaction half messages neither committed nor rolled back', [], (m, s) => {
    if (s.half) m.set(s.half.count);
  });
  g('apogee_half_messages_oldest_age_ms', 'Age of the oldest undecided transaction half message, milliseconds (0 when none)', [], (m, s) => {
    if (s.half) m.set(ageMs(s.at, s.half.oldestMs));
  });

  g('rocketmq_storage_size', 'Bytes in use on the file system holding the store', ['storage_type', 'storage_medium'], (m, s) => {
    if (s.store) m.set(STORAGE, s.store.diskUsedBytes);
  });
  g('rocketmq_storage_flush_behind_bytes', 'Bytes written to the commit log and not yet flushed to disk', ['storage_type', 'storage_medium'], (m, s) => {
    if (s.store) m.set(STORAGE, s.store.flushBehindBytes);
  });
  g('rocketmq_storage_dispatch_behind_bytes', 'Bytes written to the commit log and not yet dispatched to consume queues and index', ['storage_type', 'storage_medium'], (m, s) => {
    if (s.store) m.set(STORAGE, s.store.dispatchBehindBytes);
  });
  g('rocketmq_storage_message_reserve_time', 'Age of the oldest message kept, milliseconds', ['storage_type', 'storage_medium'], (m, s) => {
    if (s.store) m.set(STORAGE, ageMs(s.at, s.store.earliestMessageMs));
  });
  g('apogee_disk_usage_ratio', 'Used part (0..1) of the file system holding the store; writes are refused above diskSpaceWarningLevelRatio', [], (m, s) => {
    if (s.store) m.set(s.store.diskUsageRatio);
  });
  g('apogee_disk_warning_ratio', 'diskSpaceWarningLevelRatio as a fraction (0..1): above it the store refuses writes', [], (m, s) => {
    if (s.store) m.set(s.store.diskWarningRatio);
  });

  g('rocketmq_timer_enqueue_lag', 'Timer messages stored in the wheel topic and not yet read into the timer log', [], (m, s) => {
    if (s.timer) m.set(s.timer.enqueueLag);
  });
  g('apogee_timer_backlog_messages', 'Timer messages accepted and not yet delivered', [], (m, s) => {
    if (s.timer) m.set(s.timer.backlog);
  });
  g('apogee_timer_delivered_messages', 'Timer messages delivered since the broker started', [], (m, s) => {
    if (s.timer) m.set(s.timer.delivered);
  });
  g('apogee_delay_backlog_messages', 'Delay-level messages not yet delivered, per level', ['delay_level'], (m, s) => {
    for (const d of s.delay) m.set({ delay_level: String(d.level) }, d.backlog);
  });
  g('apogee_dlq_messages', "Messages kept in a group's dead-letter topic (%DLQ%<group>)", ['consumer_group'], (m, s) => {
    for (const t of s.topicOffsets) if (isDlqTopic(t.topic)) m.set({ consumer_group: groupOfRetryOrDlq(t.topic) }, Math.max(0, t.maxOffset - t.minOffset));
  });
}

/** Sums counts of rows that map to the same labels. */
function aggregate(rows: readonly ConnectionCount[], labelsOf: (c: ConnectionCount) => Record<string, string>): [Record<string, string>, number][] {
  const out = new Map<string, [Record<string, string>, number]>();
  for (const c of rows) {
    const labels = labelsOf(c);
    const key = JSON.stringify(labels);
    const e = out.get(key);
    if (e) e[1] += c.count;
    else out.set(key, [labels, c.count]);
  }
  return [...out.values()];
}
