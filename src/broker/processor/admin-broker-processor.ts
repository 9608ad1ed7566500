// Admin requests (mqadmin): topics, subscription groups, runtime info, stats, message lookup.
import { bodyOf, BrokerError, createResponse, decodeHeader, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import {
  DELETE_SUBSCRIPTIONGROUP_HEADER,
  encodeHeader,
  GET_BROKER_CONFIG_RESPONSE_HEADER,
  TOPIC_HEADER,
  UPDATE_AND_CREATE_TOPIC_HEADER,
} from '../../remoting/protocol/index.js';
import type { BrokerParts } from '../broker-parts.js';
import type { SubscriptionGroupConfig } from '../subscription-group-manager.js';
import { newTopicConfig, PermName, validateGroupName, validateTopicName, type TopicConfig } from '../topic-config.js';
import { isSystemTopic } from './admin-stats-processor.js';

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

export class AdminBrokerProcessor {
  constructor(private readonly broker: Pick<BrokerParts, 'config' | 'store' | 'topicConfigManager' | 'subscriptionGroupManager' | 'consumerOffsetManager' | 'stats' | 'brokerAddr'>) {}


  readonly updateAndCreateTopic = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(UPDATE_AND_CREATE_TOPIC_HEADER, req.extFields);
    const invalid = validateTopicName(h.topic);
    if (invalid) throw new BrokerError(ResponseCode.INVALID_PARAMETER, invalid);
    if (h.readQueueNums < 1 || h.writeQueueNums < 1 || h.readQueueNums > 1024 || h.writeQueueNums > 1024) {
      throw new BrokerError(ResponseCode.INVALID_PARAMETER, `queue numbers must be 1..1024, got read ${h.readQueueNums} write ${h.writeQueueNums}`);
    }
    const tc: TopicConfig = {
      ...newTopicConfig(h.topic, h.writeQueueNums, h.perm & (PermName.PERM_READ | PermName.PERM_WRITE | PermName.PERM_INHERIT)),
      readQueueNums: h.readQueueNums,
      topicFilterType: h.topicFilterType === 'MULTI_TAG' ? 'MULTI_TAG' : 'SINGLE_TAG',
      topicSysFlag: h.topicSysFlag ?? 0,
      order: h.order ?? false,
      attributes: parseAttributes(h.attributes),
    };
    this.broker.topicConfigManager.updateTopicConfig(tc);
    // Acknowledged once on file, so a created topic survives a process kill (issue 17).
    await this.broker.topicConfigManager.written();
    return createResponse(ResponseCode.SUCCESS);
  };

  readonly deleteTopic = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(TOPIC_HEADER, req.extFields);
    const b = this.broker;
    b.topicConfigManager.deleteTopicConfig(h.topic);
    b.consumerOffsetManager.removeTopic(h.topic);
    await b.store.deleteTopics([h.topic]);
    return createResponse(ResponseCode.SUCCESS);
  };

  readonly getAllTopicConfig = (): RemotingCommand =>
    createResponse(ResponseCode.SUCCESS, undefined, undefined, json(this.broker.topicConfigManager.encode()));

  readonly updateAndCreateSubscriptionGroup = (req: RemotingCommand): RemotingCommand => {
    let cfg: Partial<SubscriptionGroupConfig> & { groupName?: string };
    try {
      cfg = JSON.parse(bodyOf(req).toString('utf8')) as typeof cfg;
    } catch (err) {
      throw new BrokerError(ResponseCode.INVALID_PARAMETER, `subscription group body is not valid JSON: ${(err as Error).message}`);
    }
    if (!cfg?.groupName) throw new BrokerError(ResponseCode.INVALID_PARAMETER, 'subscription group config without groupName');
    const invalid = validateGroupName(String(cfg.groupName));
    if (invalid) throw new BrokerError(ResponseCode.INVALID_PARAMETER, invalid);
    if (cfg.retryMaxTimes !== undefined && (cfg.retryMaxTimes < 0 || cfg.retryMaxTimes > 16)) {
      throw new BrokerError(ResponseCode.INVALID_PARAMETER, `retryMaxTimes must be 0..16, got ${cfg.retryMaxTimes}`);
    }
    this.broker.subscriptionGroupManager.updateSubscriptionGroupConfig(cfg as SubscriptionGroupConfig);
    return createResponse(ResponseCode.SUCCESS);
  };

  readonly deleteSubscriptionGroup = (req: RemotingCommand): RemotingCommand => {
    const h = decodeHeader(DELETE_SUBSCRIPTIONGROUP_HEADER, req.extFields);
    this.broker.subscriptionGroupManager.deleteSubscriptionGroupConfig(h.groupName);
    if (h.cleanOffset) this.broker.consumerOffsetManager.removeOffset(h.groupName);
    return createResponse(ResponseCode.SUCCESS);
  };

  readonly getAllSubscriptionGroup = (): RemotingCommand =>
    createResponse(ResponseCode.SUCCESS, undefined, undefined, json(this.broker.subscriptionGroupManager.encode()));

  /** Java answers TopicConfigAndQueueMapping: the TopicConfig fields (no static queue mapping here). */
  readonly getTopicConfig = (req: RemotingCommand): RemotingCommand => {
    const h = decodeHeader(TOPIC_HEADER, req.extFields);
    const tc = this.broker.topicConfigManager.selectTopicConfig(h.topic);
    if (!tc) throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `No topic in this broker. topic: ${h.topic}`);
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, json(tc));
  };

  /** Body: the effective configuration as Java properties text; header `version`: its data version. */
  readonly getBrokerConfig = (): RemotingCommand => {
    const lines: string[] = [];
    for (const [k, v] of Object.entries(this.broker.config)) lines.push(`${k}=${String(v)}`);
    const version = JSON.stringify({ timestamp: this.broker.stats.startTime, counter: 0 });
    return createResponse(ResponseCode.SUCCESS, undefined, encodeHeader(GET_BROKER_CONFIG_RESPONSE_HEADER, { version }), Buffer.from(lines.join('\n') + '\n'));
  };

  /** TopicList body: the internal topics this broker holds, and its address. */
  readonly getSystemTopicList = (): RemotingCommand => {
    const { brokerClusterName, brokerName } = this.broker.config;
    const topicList: string[] = [];
    for (const tc of this.broker.topicConfigManager.topics) {
      if (isSystemTopic(tc.topicName, brokerClusterName, brokerName)) topicList.push(tc.topicName);
    }
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, json({ topicList: topicList.sort(), brokerAddr: this.broker.brokerAddr }));
  };
}

/** "+a=b,+c=d" (mqadmin form) → {"+a":"b", ...}; JSON objects are accepted too. */
export function parseAttributes(raw: string | undefined): Record<string, string> {
  if (!raw) return {};
  const t = raw.trim();
  if (t.startsWith('{')) {
    try {
      return JSON.parse(t) as Record<string, string>;
    } catch {
      throw new BrokerError(ResponseCode.INVALID_PARAMETER, `attributes is not valid JSON: ${t.slice(0, 60)}`);
    }
  }
  const out: Record<string, string> = {};
  for (const kv of t.split(',')) {
    const [k, v] = kv.split('=');
    if (!k || v === undefined) throw new BrokerError(ResponseCode.INVALID_PARAMETER, `bad attribute "${kv}": expected +key=value`);
    out[k.trim()] = v.trim();
  }
  return out;
}
