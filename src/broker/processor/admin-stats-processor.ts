// Admin read requests about offsets, rates and connections (Java AdminBrokerProcessor's
// getTopicStatsInfo, getConsumeStats, getBrokerRuntimeInfo, getConsumerConnectionList, ...).
//
// Body shapes follow Java's field names in standard JSON. Where Java keys a map by a
// MessageQueue object (which fastjson writes as a non-standard object key), the table is a
// JSON list instead, one entry per queue: {topic, brokerName, queueId, ...value fields}.
import { readLong, storeTimestampPos, RecordPos, TopicValidator } from '../../common/index.js';
import {
  BrokerError,
  CLIENT_VERSION,
  createResponse,
  decodeHeader,
  ResponseCode,
  type RemotingCommand,
} from '../../remoting/index.js';
import { CONSUMER_GROUP_HEADER, GET_CONSUME_STATS_HEADER, PRODUCER_GROUP_HEADER, TOPIC_HEADER } from '../../remoting/protocol/index.js';
import { GetMessageStatus } from '../../store/index.js';
import type { BrokerParts } from '../broker-parts.js';
import type { ClientChannelInfo } from '../clients/client-channel-info.js';
import type { SubscriptionData } from '../clients/subscription-data.js';
import { TpsSampler } from './admin-tps-sampler.js';

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const ok = (body?: Buffer, ext?: Record<string, string | number>): RemotingCommand => createResponse(ResponseCode.SUCCESS, undefined, ext, body);

/** Java StoreStatsService reports putTps/getTransferedTps over 10 s, 1 min and 10 min. */
const TPS_WINDOWS_MS = [10_000, 60_000, 600_000] as const;
/** ConsumeStats.consumeTps: the group's pull rate on the topic over the last minute. */
const CONSUME_TPS_WINDOW_MS = [60_000] as const;
/** MQVersion.Version name of CLIENT_VERSION, the protocol level this broker speaks. */
const VERSION_DESC = 'V5_3_3';

/** One queue of TopicStatsTable.offsetTable (Java: MessageQueue → TopicOffset). */
export interface TopicOffsetEntry {
  topic: string;
  brokerName: string;
  queueId: number;
  minOffset: number;
  maxOffset: number;
  lastUpdateTimestamp: number;
}

/** One queue of ConsumeStats.offsetTable (Java: MessageQueue → OffsetWrapper). */
export interface OffsetWrapperEntry {
  topic: string;
  brokerName: string;
  queueId: number;
  brokerOffset: number;
  consumerOffset: number;
  pullOffset: number;
  lastTimestamp: number;
}

export interface ConnectionJson {
  clientId: string;
  clientAddr: string;
  language: string;
  version: number;
}

export class AdminStatsProcessor {
  private readonly tps: TpsSampler;

  constructor(private readonly broker: Pick<BrokerParts, 'config' | 'store' | 'topicConfigManager' | 'consumerOffsetManager' | 'consumerManager' | 'producerManager' | 'scheduleMessageService' | 'stats' | 'brokerAddr'>) {
    this.tps = new TpsSampler(broker.stats.startTime);
  }


  /** Store time of the message at a queue offset; 0 when it is gone or not there. */
  private async storeTimeOf(topic: string, queueId: number, offset: number): Promise<number> {
    const r = await this.broker.store.getMessage(topic, queueId, offset, 1);
    if (r.status !== GetMessageStatus.FOUND || r.buffers.length === 0) return 0;
    const rec = r.buffers[0];
    return readLong(rec, storeTimestampPos(rec.readInt32BE(RecordPos.SYSFLAG)));
  }

  readonly getTopicStatsInfo = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(TOPIC_HEADER, req.extFields);
    const b = this.broker;
    const tc = b.topicConfigManager.selectTopicConfig(h.topic);
    if (!tc) throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist`);
    const offsetTable: TopicOffsetEntry[] = [];
    for (let q = 0; q < tc.writeQueueNums; q++) {
      const maxOffset = Math.max(0, b.store.getMaxOffsetInQueue(h.topic, q));
      const minOffset = Math.max(0, b.store.getMinOffsetInQueue(h.topic, q));
      const lastUpdateTimestamp = maxOffset > 0 ? await this.storeTimeOf(h.topic, q, maxOffset - 1) : 0;
      offsetTable.push({ topic: h.topic, brokerName: b.config.brokerName, queueId: q, minOffset, maxOffset, lastUpdateTimestamp });
    }
    return ok(json({ offsetTable }));
  };

  /**
   * Without a topic, every topic the group has offsets on. While the group is online, topics it
   * does not subscribe to are left out (Java does the same: stale offsets are not progress).
   */
  readonly getConsumeStats = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(GET_CONSUME_STATS_HEADER, req.extFields);
    const b = this.broker;
    const group = h.consumerGroup;
    let topics: string[];
    if (h.topic) {
      if (!b.topicConfigManager.selectTopicConfig(h.topic)) throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist`);
      topics = [h.topic];
    } else {
      topics = b.consumerOffsetManager.whichTopicByGroup(group);
    }
    const online = b.consumerManager.getConsumerGroupInfo(group);
    const offsetTable: OffsetWrapperEntry[] = [];
    let consumeTps = 0;
    for (const topic of topics) {
      const tc = b.topicConfigManager.selectTopicConfig(topic);
      if (!tc) continue;
      if (!h.topic && online && online.subscriptions.size > 0 && !online.subscriptions.has(topic)) continue;
      for (let q = 0; q < tc.readQueueNums; q++) {
        const brokerOffset = Math.max(0, b.store.getMaxOffsetInQueue(topic, q));
        const consumerOffset = Math.max(0, b.consumerOffsetManager.queryOffset(group, topic, q));
        const lastTimestamp = consumerOffset > 0 ? await this.storeTimeOf(topic, q, consumerOffset - 1) : 0;
        offsetTable.push({ topic, brokerName: b.config.brokerName, queueId: q, brokerOffset, consumerOffset, pullOffset: consumerOffset, lastTimestamp });
      }
      const got = b.stats.groupGets.get(topic + '@' + group) ?? 0;
      consumeTps += this.tps.rates(`get:${topic}@${group}`, got, CONSUME_TPS_WINDOW_MS)[0];
    }
    return ok(json({ offsetTable, consumeTps: round2(consumeTps) }));
  };

  /** Runtime table; every value is a string, as Java's KVTable. Totals count since broker start. */
  runtimeTable(now = Date.now()): Record<string, string> {
    const b = this.broker;
    const s = b.stats;
    const putTps = this.tps.rates('put', s.putMsgsTotal, TPS_WINDOWS_MS, now);
    const getTps = this.tps.rates('get', s.getMsgsTotal, TPS_WINDOWS_MS, now);
    return {
      ...b.store.runtimeInfo(),
      version: String(CLIENT_VERSION),
      brokerVersionDesc: VERSION_DESC,
      msgPutTotalTodayNow: String(s.putMsgsTotal),
      msgGetTotalTodayNow: String(s.getMsgsTotal),
      putTps: putTps.map(fmt2).join(' '),
      getTransferedTps: getTps.map(fmt2).join(' '),
      putMessageFailures: String(s.putFailures),
      commitLogMaxOffset: String(b.store.getMaxPhyOffset()),
      commitLogMinOffset: String(b.store.getMinPhyOffset()),
      runtime: formatUptime(now - s.startTime),
      bootTimestamp: String(s.startTime),
      brokerName: b.config.brokerName,
      brokerClusterName: b.config.brokerClusterName,
      brokerAddr: b.brokerAddr,
    };
  }

  readonly getBrokerRuntimeInfo = (): RemotingCommand => ok(json({ table: this.runtimeTable() }));

  readonly getConsumerConnectionList = (req: RemotingCommand): RemotingCommand => {
    const h = decodeHeader(CONSUMER_GROUP_HEADER, req.extFields);
    const g = this.broker.consumerManager.getConsumerGroupInfo(h.consumerGroup);
    if (!g || g.channels.size === 0) {
      throw new BrokerError(ResponseCode.CONSUMER_NOT_ONLINE, `the consumer group[${h.consumerGroup}] not online`);
    }
    const subscriptionTable: Record<string, ReturnType<typeof subscriptionJson>> = {};
    for (const [topic, sd] of g.subscriptions) subscriptionTable[topic] = subscriptionJson(sd);
    return ok(
      json({
        connectionSet: [...g.channels.values()].map(connectionJson),
        subscriptionTable,
        consumeType: g.consumeType,
        messageModel: g.messageModel,
        consumeFromWhere: g.consumeFromWhere,
      }),
    );
  };

  readonly getProducerConnectionList = (req: RemotingCommand): RemotingCommand => {
    const h = decodeHeader(PRODUCER_GROUP_HEADER, req.extFields);
    const infos = this.broker.producerManager.groupChannels(h.producerGroup);
    if (infos.length === 0) throw new BrokerError(ResponseCode.SYSTEM_ERROR, `the producer group[${h.producerGroup}] not exist`);
    return ok(json({ connectionSet: infos.map(connectionJson) }));
  };

  /** Groups online with a subscription to the topic plus groups with offsets on it. */
  readonly queryTopicConsumeByWho = (req: RemotingCommand): RemotingCommand => {
    const h = decodeHeader(TOPIC_HEADER, req.extFields);
    const b = this.broker;
    const groups = new Set([...b.consumerManager.queryTopicConsumeByWho(h.topic), ...b.consumerOffsetManager.whichGroupByTopic(h.topic)]);
    return ok(json({ groupList: [...groups].sort() }));
  };

  readonly getAllConsumerOffset = (): RemotingCommand => ok(json(this.broker.consumerOffsetManager.encode()));

  readonly getAllDelayOffset = (): RemotingCommand => ok(json(this.broker.scheduleMessageService.encode()));
}

function connectionJson(c: ClientChannelInfo): ConnectionJson {
  return { clientId: c.clientId, clientAddr: c.channel.remoteAddress, language: c.language, version: c.version };
}

/** SubscriptionData as Java serializes it (the compiled SQL filter stays inside the broker). */
function subscriptionJson(sd: SubscriptionData): Record<string, unknown> {
  return {
    topic: sd.topic,
    subString: sd.subString,
    tagsSet: sd.tagsSet,
    codeSet: sd.codeSet,
    subVersion: sd.subVersion,
    expressionType: sd.expressionType,
    classFilterMode: sd.classFilterMode,
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function fmt2(n: number): string {
  return n.toFixed(2);
}

/** Java's "[ 0 days, 1 hours, 2 minutes, 3 seconds ]". */
export function formatUptime(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `[ ${Math.floor(s / 86400)} days, ${Math.floor((s % 86400) / 3600)} hours, ${Math.floor((s % 3600) / 60)} minutes, ${s % 60} seconds ]`;
}

/** Topics this broker treats as internal (TopicValidator's system set plus its cluster and group names). */
export function isSystemTopic(topic: string, clusterName: string, brokerName: string): boolean {
  if (topic === clusterName || topic === brokerName) return true;
  if (topic.startsWith(TopicValidator.SYSTEM_TOPIC_PREFIX)) return true;
  const v = TopicValidator as Record<string, string>;
  for (const k in v) if (k.startsWith('RMQ_SYS_') || k === 'AUTO_CREATE_TOPIC_KEY_TOPIC') if (v[k] === topic) return true;
  return false;
}
