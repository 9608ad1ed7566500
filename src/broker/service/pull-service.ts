// The pull use case, once for both protocols: broker, group and topic checks, the queue range,
// SQL92 availability, the read with tag-hash filtering, SQL92 filtering on properties, the
// outcome classification (RocketMQ's GetMessageStatus → pull result), stats and the `delivered`
// hook. Remoting PULL_MESSAGE adds long polling and the piggy-backed offset commit; the gRPC
// backend's PullMessage calls it as it is.
import { getPropertyFromString } from '../../common/message-properties.js';
import type { BrokerConfig } from '../../config/index.js';
import { BrokerError, ResponseCode } from '../../remoting/index.js';
import { GetMessageStatus, type GetMessageResult, type MessageStore } from '../../store/index.js';
import type { BrokerStats } from '../broker-stats.js';
import { isMatchedByTagsCode, type SubscriptionData } from '../clients/subscription-data.js';
import { readRecordProperties } from '../record-view.js';
import type { SubscriptionGroupManager } from '../subscription-group-manager.js';
import type { TopicConfigManager } from '../topic-config-manager.js';
import { isReadable, type TopicConfig } from '../topic-config.js';
import type { BrokerHooks, Protocol } from './broker-hooks.js';
import { offsetResetsOf } from './offset-reset-service.js';

/** Pull caps (RocketMQ: 32 messages / 256 KiB from memory; a client may ask for fewer). */
export const MAX_PULL_MSGS = 32;
const MAX_PULL_BYTES = 256 * 1024;

export interface PullServiceDeps {
  config: Pick<BrokerConfig, 'brokerPermission' | 'enablePropertyFilter'>;
  topics: TopicConfigManager;
  groups: SubscriptionGroupManager;
  store: MessageStore;
  stats: BrokerStats;
  hooks: BrokerHooks;
  brokerIP(): string;
}

export interface PullQuery {
  protocol: Protocol;
  group: string;
  topic: string;
  queueId: number;
  offset: number;
  maxNums: number;
  sub: SubscriptionData;
  client: string;
}

/** What a pull found, in the terms of RocketMQ's PullStatus. */
export type PullKind = 'FOUND' | 'RETRY_IMMEDIATELY' | 'NO_NEW_MSG' | 'OFFSET_MOVED' | 'ERROR';

export interface PullOutcome {
  kind: PullKind;
  /** Stored records in queue order, as read (views on the read buffer). */
  buffers: Buffer[];
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  remark?: string;
  topicSysFlag: number;
  /** The read lies far behind the log end (RocketMQ's suggestPullingFromSlave). */
  slow?: boolean;
}

export class PullService {
  constructor(private readonly d: PullServiceDeps) {}

  /** The checks PULL_MESSAGE makes before anything else, in RocketMQ's order. */
  check(group: string, topic: string, queueId: number, client: string): TopicConfig {
    const d = this.d;
    if (!isReadable(d.config.brokerPermission)) {
      throw new BrokerError(ResponseCode.NO_PERMISSION, `the broker[${d.brokerIP()}] pulling message is forbidden`);
    }
    const sg = d.groups.findSubscriptionGroupConfig(group);
    if (!sg) {
      throw new BrokerError(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group [${group}] does not exist, create it first (autoCreateSubscriptionGroup is off)`);
    }
    if (!sg.consumeEnable) throw new BrokerError(ResponseCode.NO_PERMISSION, `subscription group no permission, ${group}`);
    const tc = d.topics.selectTopicConfig(topic);
    if (!tc) throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `topic[${topic}] not exist, apply first please!`);
    if (!isReadable(tc.perm)) throw new BrokerError(ResponseCode.NO_PERMISSION, `the topic[${topic}] pulling message is forbidden`);
    if (queueId < 0 || queueId >= tc.readQueueNums) {
      throw new BrokerError(
        ResponseCode.INVALID_PARAMETER,
        `queueId[${queueId}] is illegal, topic:[${topic}] topicConfig.readQueueNums:[${tc.readQueueNums}] consumer:[${client}]`,
      );
    }
    return tc;
  }

  checkFilter(sub: SubscriptionData): void {
    if (sub.sql && !this.d.config.enablePropertyFilter) {
      throw new BrokerError(ResponseCode.SYSTEM_ERROR, 'The broker does not support consumer to filter message by SQL92');
    }
  }

  /** check + checkFilter + read: the whole use case for callers with nothing in between. */
  pull(q: PullQuery): Promise<PullOutcome> {
    const tc = this.check(q.group, q.topic, q.queueId, q.client);
    this.checkFilter(q.sub);
    return this.read(q, tc);
  }

  /** Reads after the checks passed. A promise chain, not an async function: it runs per pull (issue 17). */
  read(q: PullQuery, tc: TopicConfig): Promise<PullOutcome> {
    const d = this.d;
    const sub = q.sub;
    // An operator reset the group's offset (resetOffsetByTime): move this consumer there, unless it
    // already pulls from there (a Java client that applied RESET_CONSUMER_CLIENT_OFFSET would
    // otherwise drop the queue until its next rebalance).
    const reset = offsetResetsOf(d.store).takePull(q.group, q.topic, q.queueId);
    if (reset !== undefined && reset !== q.offset) {
      const [minOffset, maxOffset] = [d.store.getMinOffsetInQueue(q.topic, q.queueId), d.store.getMaxOffsetInQueue(q.topic, q.queueId)];
      return Promise.resolve({ kind: 'OFFSET_MOVED', buffers: [], nextBeginOffset: reset, minOffset, maxOffset, remark: `the group's offset was reset to ${reset}`, topicSysFlag: tc.topicSysFlag });
    }
    const maxNums = Math.max(1, Math.min(q.maxNums, MAX_PULL_MSGS));
    const filter = sub.subAll && !sub.sql ? undefined : (tagsCode: number) => isMatchedByTagsCode(sub, tagsCode);
    return d.store.getMessage(q.topic, q.queueId, q.offset, maxNums, MAX_PULL_BYTES, filter).then((r) => this.outcome(q, tc, r));
  }

  /** The read's result in pull terms; stats and the `delivered` hook. */
  private outcome(q: PullQuery, tc: TopicConfig, r: GetMessageResult): PullOutcome {
    const d = this.d;
    const sub = q.sub;
    let buffers = r.buffers;
    if (sub.sql && buffers.length > 0) buffers = buffers.filter((rec) => sub.sql!.matches(propertyReader(rec)));

    let kind: PullKind;
    let remark: string | undefined;
    let next = r.nextBeginOffset;
    switch (r.status) {
      case GetMessageStatus.FOUND:
        kind = buffers.length > 0 ? 'FOUND' : 'RETRY_IMMEDIATELY';
        break;
      case GetMessageStatus.NO_MATCHED_MESSAGE:
      case GetMessageStatus.MESSAGE_WAS_REMOVING:
        kind = 'RETRY_IMMEDIATELY';
        break;
      case GetMessageStatus.NO_MATCHED_LOGIC_QUEUE:
      case GetMessageStatus.NO_MESSAGE_IN_QUEUE:
        kind = q.offset !== 0 ? 'OFFSET_MOVED' : 'NO_NEW_MSG';
        next = 0;
        break;
      case GetMessageStatus.OFFSET_OVERFLOW_ONE:
      case GetMessageStatus.OFFSET_FOUND_NULL:
        kind = 'NO_NEW_MSG';
        break;
      case GetMessageStatus.OFFSET_OVERFLOW_BADLY:
      case GetMessageStatus.OFFSET_TOO_SMALL:
        kind = 'OFFSET_MOVED';
        remark = `the request offset ${q.offset} is out of [${r.minOffset}, ${r.maxOffset}]`;
        break;
      default:
        kind = 'ERROR';
        remark = `store getMessage returned ${String(r.status)}`;
    }
    if (kind !== 'FOUND') buffers = [];
    d.stats.recordPull(q.topic, q.group, buffers.length, r.totalSize);
    if (buffers.length > 0 && d.hooks.delivered.length > 0) {
      d.hooks.emit('delivered', d.hooks.delivered, {
        kind: 'pull',
        protocol: q.protocol,
        group: q.group,
        topic: q.topic,
        queueId: q.queueId,
        count: buffers.length,
        bytes: r.totalSize,
        client: q.client,
        records: buffers,
      });
    }
    return { kind, buffers, nextBeginOffset: next, minOffset: r.minOffset, maxOffset: r.maxOffset, remark, topicSysFlag: tc.topicSysFlag, slow: r.suggestPullingFromSlave };
  }
}

function propertyReader(record: Buffer): (name: string) => string | undefined {
  const props = readRecordProperties(record);
  return (name) => getPropertyFromString(props, name);
}
