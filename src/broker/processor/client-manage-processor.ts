// HEART_BEAT, UNREGISTER_CLIENT, CHECK_CLIENT_CONFIG: who is connected, in which groups,
// subscribed to what. A consumer's heartbeat also creates its group and its retry topic.
import { bodyOf, BrokerError, createResponse, decodeHeader, ResponseCode, type RemotingChannel, type RemotingCommand } from '../../remoting/index.js';
import { UNREGISTER_CLIENT_HEADER } from '../../remoting/protocol/index.js';
import type { BrokerParts } from '../broker-parts.js';
import type { ClientChannelInfo } from '../clients/client-channel-info.js';
import { buildSubscriptionData, subscriptionFromHeartbeat, type SubscriptionData } from '../clients/subscription-data.js';
import { PermName, retryTopic } from '../topic-config.js';

interface HeartbeatData {
  clientID?: string;
  producerDataSet?: { groupName?: string }[];
  consumerDataSet?: {
    groupName?: string;
    consumeType?: string;
    messageModel?: string;
    consumeFromWhere?: string;
    subscriptionDataSet?: { topic?: string; subString?: string; expressionType?: string; subVersion?: number }[];
  }[];
}

const MAX_HEARTBEAT_BYTES = 4 * 1024 * 1024;

/**
 * Fix (compat suite, bad input): a heartbeat of the wrong JSON shape (a list that is not an array,
 * a null entry, a non-string clientID) used to fail with a TypeError → SYSTEM_ERROR. Checking the
 * shape first answers INVALID_PARAMETER naming the field, before anything is registered.
 */
function checkHeartbeatShape(hb: unknown): asserts hb is HeartbeatData & { clientID: string } {
  const bad = (why: string): never => {
    throw new BrokerError(ResponseCode.INVALID_PARAMETER, `heartbeat ${why}`);
  };
  if (!hb || typeof hb !== 'object' || Array.isArray(hb)) bad('body is not a JSON object');
  const o = hb as Record<string, unknown>;
  if (typeof o.clientID !== 'string' || o.clientID === '') bad('without clientID (a non-empty string)');
  const list = (v: unknown, name: string): Record<string, unknown>[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return bad(`${name} is not an array`);
    v.forEach((e, i) => {
      if (!e || typeof e !== 'object' || Array.isArray(e)) bad(`${name}[${i}] is not an object`);
    });
    return v as Record<string, unknown>[];
  };
  list(o.producerDataSet, 'producerDataSet');
  list(o.consumerDataSet, 'consumerDataSet').forEach((c, i) => list(c.subscriptionDataSet, `consumerDataSet[${i}].subscriptionDataSet`));
}

export class ClientManageProcessor {
  constructor(private readonly broker: Pick<BrokerParts, 'config' | 'consumerManager' | 'producerManager' | 'subscriptionGroupManager' | 'topicConfigManager'>) {}

  readonly heartbeat = (req: RemotingCommand, ch: RemotingChannel): RemotingCommand => {
    const b = this.broker;
    const body = bodyOf(req);
    if (body.length > MAX_HEARTBEAT_BYTES) throw new BrokerError(ResponseCode.INVALID_PARAMETER, `heartbeat body of ${body.length} bytes is too large`);
    let hb: HeartbeatData;
    try {
      hb = JSON.parse(body.toString('utf8')) as HeartbeatData;
    } catch (err) {
      throw new BrokerError(ResponseCode.INVALID_PARAMETER, `heartbeat body is not valid JSON: ${(err as Error).message}`);
    }
    checkHeartbeatShape(hb);
    const info: ClientChannelInfo = {
      channel: ch,
      clientId: hb.clientID,
      language: req.language,
      version: req.version,
      lastUpdateTimestamp: Date.now(),
    };
    ch.attachment = hb.clientID;
    // Parse every subscription first so a bad SQL92 expression refuses the whole heartbeat.
    const consumers = (hb.consumerDataSet ?? []).map((c) => {
      if (!c.groupName || typeof c.groupName !== 'string') throw new BrokerError(ResponseCode.INVALID_PARAMETER, 'heartbeat consumer data without groupName');
      const subs: SubscriptionData[] = (c.subscriptionDataSet ?? []).map(subscriptionFromHeartbeat);
      if (!b.config.enablePropertyFilter && subs.some((s) => s.sql)) {
        throw new BrokerError(ResponseCode.SYSTEM_ERROR, 'The broker does not support consumer to filter message by SQL92 (enablePropertyFilter=false)');
      }
      return { c, subs };
    });
    for (const { c, subs } of consumers) {
      const group = c.groupName as string;
      const sg = b.subscriptionGroupManager.findSubscriptionGroupConfig(group);
      if (sg && sg.retryQueueNums > 0) {
        b.topicConfigManager.createTopicIfAbsent(retryTopic(group), sg.retryQueueNums, PermName.PERM_READ | PermName.PERM_WRITE);
      }
      b.consumerManager.registerConsumer(
        group,
        info,
        c.consumeType ?? 'CONSUME_PASSIVELY',
        c.messageModel ?? 'CLUSTERING',
        c.consumeFromWhere ?? 'CONSUME_FROM_LAST_OFFSET',
        subs,
      );
    }
    for (const p of hb.producerDataSet ?? []) {
      if (p.groupName) b.producerManager.registerProducer(p.groupName, info);
    }
    return createResponse(ResponseCode.SUCCESS, undefined, { isSupportHeartBeatV2: 'true', isSubChange: 'true' });
  };

  readonly unregisterClient = (req: RemotingCommand, ch: RemotingChannel): RemotingCommand => {
    const h = decodeHeader(UNREGISTER_CLIENT_HEADER, req.extFields);
    if (h.producerGroup) this.broker.producerManager.unregisterProducer(h.producerGroup, ch);
    if (h.consumerGroup) this.broker.consumerManager.unregisterConsumer(h.consumerGroup, ch);
    return createResponse(ResponseCode.SUCCESS);
  };

  /** CHECK_CLIENT_CONFIG: Java clients validate their subscription expression before starting. */
  readonly checkClientConfig = (req: RemotingCommand): RemotingCommand => {
    const body = bodyOf(req);
    let data: { group?: string; subscriptionData?: { topic?: string; subString?: string; expressionType?: string } };
    try {
      data = JSON.parse(body.toString('utf8')) as typeof data;
    } catch {
      throw new BrokerError(ResponseCode.INVALID_PARAMETER, 'CHECK_CLIENT_CONFIG body is not valid JSON');
    }
    const s = data.subscriptionData;
    if (s?.topic) {
      const sub = buildSubscriptionData(s.topic, s.subString, s.expressionType);
      if (sub.sql && !this.broker.config.enablePropertyFilter) {
        throw new BrokerError(ResponseCode.SYSTEM_ERROR, 'The broker does not support consumer to filter message by SQL92');
      }
    }
    return createResponse(ResponseCode.SUCCESS);
  };
}
