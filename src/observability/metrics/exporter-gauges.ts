// The gauges rocketmq-exporter serves (RMQMetricsCollector), with its names and label names, so the
// dashboards built on it (Grafana 10477 "RocketMQ Exporter Overview") work against Apogee as they
// are. The exporter polls brokers once a minute with admin requests; here the same numbers come
// from the broker's own counters and view at scrape time.
import type { Gauge, Registry } from 'prom-client';
import { CLIENT_VERSION } from '../../remoting/remoting-command.js';
import { snapshotGauge, type Snapshot } from './broker-gauges.js';
import { groupOfRetryOrDlq, isDlqTopic, isRetryOrDlqTopic, isRetryTopic, versionDesc } from './labels.js';
import { RateWindow } from './rate.js';
import { PUT_LATENCY_BANDS } from './rpc-metrics.js';

/** What the broker metrics count on the hot path, read here at scrape time. */
export interface HotCounts {
  readonly startedAt: number;
  readonly topicsIn: ReadonlyMap<string, { readonly topic: string; readonly since: number; readonly msgs: number; readonly bytes: number }>;
  readonly groupsOut: ReadonlyMap<string, { readonly group: string; readonly topic: string; readonly since: number; readonly msgs: number; readonly bytes: number }>;
  readonly rpc: { readonly putLatencyBands: Float64Array };
}

const MSG_MODEL_ORDINAL: Record<string, string> = { BROADCASTING: '0', CLUSTERING: '1' };
const TOPIC_LABELS = ['cluster', 'broker', 'topic'];
const GROUP_LABELS = ['cluster', 'broker', 'topic', 'group'];
const DIFF_LABELS = ['group', 'topic', 'countOfOnlineConsumers', 'msgModel'];
const RUNTIME_LABELS = ['cluster', 'brokerIP', 'brokerHost', 'des', 'boottime', 'broker_version'];

function ageMs(now: number, at: number): number {
  return at > 0 ? Math.max(0, now - at) : 0;
}

export function registerExporterGauges(r: Registry, snapshot: () => Promise<Snapshot>, hot: HotCounts): void {
  const g = (name: string, help: string, labels: readonly string[], fill: (m: Gauge, s: Snapshot) => void): Gauge => snapshotGauge(r, snapshot, name, help, labels, fill);
  // One window per gauge family: each is read once per scrape.
  const minute = { brokerPut: new RateWindow(), brokerGet: new RateWindow(), topicMsgs: new RateWindow(), topicBytes: new RateWindow(), groupMsgs: new RateWindow(), groupBytes: new RateWindow() };
  const tenSeconds = { put: new RateWindow(10_000), get: new RateWindow(10_000), found: new RateWindow(10_000) };
  const totals = (): { putMsgs: number; putBytes: number; getMsgs: number } => {
    let putMsgs = 0;
    let putBytes = 0;
    let getMsgs = 0;
    for (const t of hot.topicsIn.values()) {
      putMsgs += t.msgs;
      putBytes += t.bytes;
    }
    for (const o of hot.groupsOut.values()) getMsgs += o.msgs;
    return { putMsgs, putBytes, getMsgs };
  };
  const broker = (s: Snapshot): Record<string, string> => ({ cluster: s.identity.cluster, brokerIP: s.identity.brokerAddr, broker: s.identity.brokerName });
  const topicOf = (s: Snapshot, topic: string): Record<string, string> => ({ cluster: s.identity.cluster, broker: s.identity.brokerName, topic });
  const groupOf = (s: Snapshot, topic: string, group: string): Record<string, string> => ({ ...topicOf(s, topic), group });

  g('rocketmq_broker_tps', 'Messages put per second over the last minute (rocketmq-exporter BrokerPutNums)', ['cluster', 'brokerIP', 'broker'], (m, s) => {
    m.set(broker(s), minute.brokerPut.rate('all', totals().putMsgs, hot.startedAt));
  });
  g('rocketmq_broker_qps', 'Messages handed to consumers per second over the last minute (rocketmq-exporter BrokerGetNums)', ['cluster', 'brokerIP', 'broker'], (m, s) => {
    m.set(broker(s), minute.brokerGet.rate('all', totals().getMsgs, hot.startedAt));
  });
  g('rocketmq_producer_tps', 'Messages put per second to the topic over the last minute', TOPIC_LABELS, (m, s) => {
    for (const t of hot.topicsIn.values()) m.set(topicOf(s, t.topic), minute.topicMsgs.rate(t.topic, t.msgs, t.since));
  });
  g('rocketmq_producer_message_size', 'Bytes put per second to the topic over the last minute', TOPIC_LABELS, (m, s) => {
    for (const t of hot.topicsIn.values()) m.set(topicOf(s, t.topic), minute.topicBytes.rate(t.topic, t.bytes, t.since));
  });
  g('rocketmq_producer_offset', "Sum of the topic's queue end offsets on this broker", TOPIC_LABELS, (m, s) => {
    for (const t of s.topicOffsets) if (!isRetryOrDlqTopic(t.topic)) m.set(topicOf(s, t.topic), t.maxOffset);
  });
  g('rocketmq_topic_retry_offset', "Sum of a retry topic's queue end offsets on this broker", TOPIC_LABELS, (m, s) => {
    for (const t of s.topicOffsets) if (isRetryTopic(t.topic)) m.set(topicOf(s, t.topic), t.maxOffset);
  });
  g('rocketmq_topic_dlq_offset', "Sum of a group's dead-letter topic queue end offsets on this broker", ['cluster', 'broker', 'group'], (m, s) => {
    for (const t of s.topicOffsets) if (isDlqTopic(t.topic)) m.set({ cluster: s.identity.cluster, broker: s.identity.brokerName, group: groupOfRetryOrDlq(t.topic) }, t.maxOffset);
  });
  g('rocketmq_producer_count', 'Producer connections per group', ['cluster', 'broker', 'group'], (m, s) => {
    const per = new Map<string, number>();
    // 5.x producers have no group: the exporter's count is of remoting producer groups.
    for (const c of s.producers) if (c.protocol === 'remoting') per.set(c.group, (per.get(c.group) ?? 0) + c.count);
    for (const [group, n] of per) m.set({ cluster: s.identity.cluster, broker: s.identity.brokerName, group }, n);
  });

  g('rocketmq_consumer_tps', 'Messages handed to the group from the topic per second over the last minute', GROUP_LABELS, (m, s) => {
    for (const [k, o] of hot.groupsOut) m.set(groupOf(s, o.topic, o.group), minute.groupMsgs.rate(k, o.msgs, o.since));
  });
  g('rocketmq_consumer_message_size', 'Bytes handed to the group from the topic per second over the last minute', GROUP_LABELS, (m, s) => {
    for (const [k, o] of hot.groupsOut) m.set(groupOf(s, o.topic, o.group), minute.groupBytes.rate(k, o.bytes, o.since));
  });
  g('rocketmq_consumer_offset', "Sum of the group's committed offsets over the topic's queues", GROUP_LABELS, (m, s) => {
    for (const p of s.progress) m.set(groupOf(s, p.topic, p.group), p.consumerOffset);
  });
  g('rocketmq_group_get_latency_by_storetime', 'Age of the oldest message the group has not consumed, milliseconds', GROUP_LABELS, (m, s) => {
    for (const p of s.progress) m.set(groupOf(s, p.topic, p.group), p.lag > 0 ? ageMs(s.at, p.earliestUnconsumedMs) : 0);
  });

  const diffLabels = (group: string, topic: string, online: number, model: string): Record<string, string> => ({
    group,
    topic,
    countOfOnlineConsumers: String(online),
    msgModel: MSG_MODEL_ORDINAL[model] ?? '1',
  });
  g('rocketmq_group_diff', "Messages the group has not consumed from the topic (the exporter's consume diff)", DIFF_LABELS, (m, s) => {
    for (const p of s.progress) if (!isRetryTopic(p.topic)) m.set(diffLabels(p.group, p.topic, p.onlineConsumers, p.messageModel), p.lag);
  });
  g('rocketmq_group_retrydiff', "Messages the group has not consumed from its retry topic", DIFF_LABELS, (m, s) => {
    for (const p of s.progress) if (isRetryTopic(p.topic)) m.set(diffLabels(p.group, p.topic, p.onlineConsumers, p.messageModel), p.lag);
  });
  g('rocketmq_group_dlqdiff', "Messages kept in the group's dead-letter topic", DIFF_LABELS, (m, s) => {
    const online = new Map<string, ConsumerState>();
    for (const p of s.progress) online.set(p.group, { online: Math.max(online.get(p.group)?.online ?? 0, p.onlineConsumers), model: p.messageModel });
    for (const t of s.topicOffsets) {
      if (!isDlqTopic(t.topic)) continue;
      const group = groupOfRetryOrDlq(t.topic);
      const st = online.get(group);
      m.set(diffLabels(group, t.topic, st?.online ?? 0, st?.model ?? 'CLUSTERING'), Math.max(0, t.maxOffset - t.minOffset));
    }
  });

  registerRuntimeGauges(g, hot, totals, tenSeconds);
}

interface ConsumerState {
  online: number;
  model: string;
}

/** rocketmq_brokeruntime_*: the exporter's copy of GET_BROKER_RUNTIME_INFO, the part Apogee has numbers for. */
function registerRuntimeGauges(
  g: (name: string, help: string, labels: readonly string[], fill: (m: Gauge, s: Snapshot) => void) => Gauge,
  hot: HotCounts,
  totals: () => { putMsgs: number; putBytes: number; getMsgs: number },
  ten: { put: RateWindow; get: RateWindow; found: RateWindow },
): void {
  const version = String(CLIENT_VERSION);
  const des = versionDesc(CLIENT_VERSION).toUpperCase();
  const labels = (s: Snapshot): Record<string, string> => ({
    cluster: s.identity.cluster,
    brokerIP: s.identity.brokerAddr,
    brokerHost: '',
    des,
    boottime: String(s.identity.bootTimestamp),
    broker_version: version,
  });
  const rt = (name: string, help: string, value: (s: Snapshot) => number | undefined): void => {
    g(`rocketmq_brokeruntime_${name}`, help, RUNTIME_LABELS, (m, s) => {
      const v = value(s);
      if (v !== undefined) m.set(labels(s), v);
    });
  };
  rt('msg_put_total_today_now', 'Messages put since the broker started', () => totals().putMsgs);
  rt('msg_gettotal_today_now', 'Messages handed to consumers since the broker started', () => totals().getMsgs);
  rt('put_message_size_total', 'Bytes put since the broker started', () => totals().putBytes);
  rt('put_message_average_size', 'Average size of the messages put since the broker started, bytes', () => {
    const t = totals();
    return t.putMsgs > 0 ? t.putBytes / t.putMsgs : 0;
  });
  rt('put_tps10', 'Messages put per second over the last 10 s', () => ten.put.rate('all', totals().putMsgs, hot.startedAt));
  rt('gettransfered_tps10', 'Messages handed to consumers per second over the last 10 s', () => ten.get.rate('all', totals().getMsgs, hot.startedAt));
  rt('getfound_tps10', 'Messages found for consumers per second over the last 10 s', () => ten.found.rate('all', totals().getMsgs, hot.startedAt));
  rt('commitlog_disk_ratio', 'Used part (0..1) of the file system holding the commit log', (s) => s.store?.diskUsageRatio);
  rt('consumequeue_disk_ratio', 'Used part (0..1) of the file system holding the consume queues (the same as the commit log here)', (s) => s.store?.diskUsageRatio);
  rt('commitlogdir_capacity_total', 'Bytes of the file system holding the commit log', (s) => s.store?.diskTotalBytes);
  rt('commitlogdir_capacity_free', 'Free bytes of the file system holding the commit log', (s) => (s.store ? s.store.diskTotalBytes - s.store.diskUsedBytes : undefined));
  rt('commitlog_maxoffset', 'Commit log end offset', (s) => s.store?.commitLogMaxOffset);
  rt('commitlog_minoffset', 'Commit log first offset still kept', (s) => s.store?.commitLogMinOffset);
  rt('dispatch_behind_bytes', 'Bytes not yet dispatched to consume queues', (s) => s.store?.dispatchBehindBytes);
  rt('remain_howmanydata_toflush', 'Bytes not yet flushed to disk', (s) => s.store?.flushBehindBytes);
  PUT_LATENCY_BANDS.forEach(([band], i) => rt(`pmdt_${band}`, `Sends answered within the ${band} band since the broker started`, () => hot.rpc.putLatencyBands[i]));
}
