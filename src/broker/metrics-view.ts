// The broker's side of the metrics: BrokerMetricsView read from the managers and the store when
// /metrics is scraped. Nothing here runs per message.
import { statfs } from 'node:fs/promises';
import { readLong, RecordPos, storeTimestampPos, TopicValidator } from '../common/index.js';
import type { BrokerMetricsView, ConnectionCount, ConsumerProgress, HalfMessages, StoreNumbers, TimerNumbers, TopicOffsets } from '../observability/metrics/broker-view.js';
import { GetMessageStatus } from '../store/index.js';
import type { BrokerParts } from './broker-parts.js';
import type { ConsumerGroupInfo } from './clients/consumer-manager.js';
import type { PopService } from './pop/pop-service.js';
import type { TimerMessageService } from './timer/timer-message-service.js';
import type { TransactionalMessageService } from './transaction/transactional-message-service.js';

/** What the view reads: the broker's parts plus the services that hold pop, timer and transaction state. */
export interface MetricsViewSources
  extends Pick<
    BrokerParts,
    'config' | 'store' | 'topicConfigManager' | 'subscriptionGroupManager' | 'consumerOffsetManager' | 'consumerManager' | 'producerManager' | 'scheduleMessageService' | 'stats' | 'brokerAddr'
  > {
  readonly popService: Pick<PopService, 'inflightCount'>;
  readonly timerService: (Pick<TimerMessageService, 'delivered'> & { readonly timerStore: { stats(): { pending: number } } }) | undefined;
  readonly transactionService: Pick<TransactionalMessageService, 'halfOffset' | 'isDecided'>;
  readonly delayLevelsMs: readonly number[];
}

/** Store-time reads per scrape (oldest unconsumed / unpulled message per queue); past it ages read 0. */
const MAX_TIME_READS = 2000;
/** Half-queue offsets looked at per scrape; past it the rest counts as undecided (an upper bound). */
const MAX_HALF_SCAN = 100_000;
const TIMER_CURSOR_GROUP = 'CID_RMQ_SYS_TIMER';
const CONSUME_MODE: Record<string, string> = { CONSUME_ACTIVELY: 'pull', CONSUME_PASSIVELY: 'push', CONSUME_POP: 'pop' };

export function createBrokerMetricsView(b: MetricsViewSources): BrokerMetricsView {
  return new BrokerMetricsViewImpl(b);
}

class BrokerMetricsViewImpl implements BrokerMetricsView {
  constructor(private readonly b: MetricsViewSources) {}

  identity(): ReturnType<BrokerMetricsView['identity']> {
    const c = this.b.config;
    return { cluster: c.brokerClusterName, brokerName: c.brokerName, brokerAddr: this.b.brokerAddr, bootTimestamp: this.b.stats.startTime, permission: c.brokerPermission };
  }

  private queueCount(topic: string): number {
    const tc = this.b.topicConfigManager.selectTopicConfig(topic);
    return tc ? Math.max(tc.readQueueNums, tc.writeQueueNums) : 0;
  }

  topicOffsets(): TopicOffsets[] {
    const out: TopicOffsets[] = [];
    const store = this.b.store;
    for (const tc of this.b.topicConfigManager.topics) {
      let minOffset = 0;
      let maxOffset = 0;
      for (let q = 0; q < Math.max(tc.readQueueNums, tc.writeQueueNums); q++) {
        minOffset += Math.max(0, store.getMinOffsetInQueue(tc.topicName, q));
        maxOffset += Math.max(0, store.getMaxOffsetInQueue(tc.topicName, q));
      }
      out.push({ topic: tc.topicName, minOffset, maxOffset });
    }
    return out;
  }

  topicCount(): number {
    return this.b.topicConfigManager.size;
  }

  groupCount(): number {
    let n = 0;
    for (const _ of this.b.subscriptionGroupManager.groups) n++;
    return n;
  }

  topicMessageType(topic: string): string {
    const a = this.b.topicConfigManager.selectTopicConfig(topic)?.attributes;
    return (a?.['+message.type'] ?? a?.['message.type'] ?? 'NORMAL').toLowerCase();
  }

  /**
   * Every (group, topic) with committed offsets, plus every topic an online consumer subscribes to.
   * Internal cursor groups (CID_RMQ_SYS_*: timer, transaction check) are left out unless online.
   */
  private pairs(): Map<string, { group: string; topic: string }> {
    const out = new Map<string, { group: string; topic: string }>();
    for (const key of Object.keys(this.b.consumerOffsetManager.encode().offsetTable)) {
      const at = key.lastIndexOf('@');
      const topic = key.slice(0, at);
      const group = key.slice(at + 1);
      if (!group.toUpperCase().startsWith('CID_RMQ_SYS_')) out.set(`${group}\u0001${topic}`, { group, topic });
    }
    for (const g of this.b.consumerManager.groups) {
      for (const topic of g.subscriptions.keys()) out.set(`${g.groupName}\u0001${topic}`, { group: g.groupName, topic });
    }
    return out;
  }

  async consumerProgress(pullOffsetOf: (group: string, topic: string, queueId: number) => number | undefined): Promise<ConsumerProgress[]> {
    const out: ConsumerProgress[] = [];
    const reads = { left: MAX_TIME_READS };
    for (const { group, topic } of this.pairs().values()) {
      const queues = this.queueCount(topic);
      if (queues === 0) continue;
      const online = this.b.consumerManager.getConsumerGroupInfo(group);
      out.push(await this.progressOf(group, topic, queues, online, pullOffsetOf, reads));
    }
    return out;
  }

  private async progressOf(
    group: string,
    topic: string,
    queues: number,
    online: ConsumerGroupInfo | undefined,
    pullOffsetOf: (group: string, topic: string, queueId: number) => number | undefined,
    reads: { left: number },
  ): Promise<ConsumerProgress> {
    const { store, consumerOffsetManager } = this.b;
    const p: ConsumerProgress = {
      group,
      topic,
      lag: 0,
      earliestUnconsumedMs: 0,
      inflight: 0,
      earliestUnpulledMs: 0,
      ready: 0,
      consumerOffset: 0,
      brokerOffset: 0,
      onlineConsumers: online?.channels.size ?? 0,
      messageModel: online?.messageModel ?? 'CLUSTERING',
    };
    const timeAt = async (q: number, offset: number): Promise<number> => (reads.left-- > 0 ? this.storeTimeAt(topic, q, offset) : 0);
    for (let q = 0; q < queues; q++) {
      const brokerOffset = Math.max(0, store.getMaxOffsetInQueue(topic, q));
      const committed = consumerOffsetManager.queryOffset(group, topic, q);
      // RocketMQ: a queue without a committed offset has no lag yet (the consumer starts at its end or as configured).
      const consumed = committed < 0 ? brokerOffset : Math.min(committed, brokerOffset);
      p.brokerOffset += brokerOffset;
      p.consumerOffset += Math.max(0, committed);
      const lag = brokerOffset - consumed;
      if (lag <= 0) continue;
      p.lag += lag;
      p.earliestUnconsumedMs = earliest(p.earliestUnconsumedMs, await timeAt(q, consumed));
      const pulled = pullOffsetOf(group, topic, q);
      if (pulled !== undefined && pulled > consumed) {
        const next = Math.min(pulled, brokerOffset);
        p.inflight += next - consumed;
        p.ready += brokerOffset - next;
        if (brokerOffset > next) p.earliestUnpulledMs = earliest(p.earliestUnpulledMs, await timeAt(q, next));
      } else {
        p.ready += lag;
        p.earliestUnpulledMs = p.earliestUnconsumedMs;
      }
    }
    // Pop consumers: the committed offset is the first unacknowledged message, so in-flight
    // messages are part of the lag; the pop service knows how many there are.
    const popped = this.b.popService.inflightCount(group, topic);
    if (popped > 0) {
      p.inflight = popped;
      p.ready = Math.max(0, p.lag - popped);
    }
    return p;
  }

  private async storeTimeAt(topic: string, queueId: number, offset: number): Promise<number> {
    const r = await this.b.store.getMessage(topic, queueId, offset, 1);
    if (r.status !== GetMessageStatus.FOUND || r.buffers.length === 0) return 0;
    const rec = r.buffers[0];
    return readLong(rec, storeTimestampPos(rec.readInt32BE(RecordPos.SYSFLAG)));
  }

  producerConnections(): ConnectionCount[] {
    const out: ConnectionCount[] = [];
    const pm = this.b.producerManager;
    for (const group of pm.groups) {
      for (const c of pm.groupChannels(group)) out.push({ group, language: c.language, version: c.version, protocol: 'remoting', count: 1 });
    }
    return out;
  }

  consumerConnections(): ConnectionCount[] {
    const out: ConnectionCount[] = [];
    for (const g of this.b.consumerManager.groups) {
      const consumeMode = CONSUME_MODE[g.consumeType] ?? 'push';
      for (const c of g.channels.values()) out.push({ group: g.groupName, language: c.language, version: c.version, consumeMode, protocol: 'remoting', count: 1 });
    }
    return out;
  }

  async store(): Promise<StoreNumbers> {
    const store = this.b.store;
    const info = store.runtimeInfo();
    const written = Number(info.commitLogMaxOffset);
    const fsInfo = await statfs(store.dataDir);
    const total = fsInfo.blocks * fsInfo.bsize;
    const minOffset = store.getMinPhyOffset();
    return {
      diskTotalBytes: total,
      diskUsedBytes: (fsInfo.blocks - fsInfo.bfree) * fsInfo.bsize,
      diskUsageRatio: store.diskUsageRatio(),
      diskWarningRatio: this.b.config.diskSpaceWarningLevelRatio / 100,
      commitLogMinOffset: minOffset,
      commitLogMaxOffset: written,
      flushBehindBytes: Math.max(0, written - Number(info.commitLogFlushedOffset)),
      dispatchBehindBytes: Math.max(0, written - Number(info.dispatchedOffset)),
      earliestMessageMs: written > minOffset ? await this.storeTimeAtPhy(minOffset) : 0,
    };
  }

  private async storeTimeAtPhy(offset: number): Promise<number> {
    const rec = await this.b.store.lookMessageByOffset(offset);
    return rec ? readLong(rec, storeTimestampPos(rec.readInt32BE(RecordPos.SYSFLAG))) : 0;
  }

  timer(): TimerNumbers | undefined {
    const t = this.b.timerService;
    if (!t) return undefined;
    const wheel = TopicValidator.RMQ_SYS_WHEEL_TIMER;
    const end = Math.max(0, this.b.store.getMaxOffsetInQueue(wheel, 0));
    const enqueueLag = Math.max(0, end - Math.max(0, this.b.consumerOffsetManager.queryOffset(TIMER_CURSOR_GROUP, wheel, 0)));
    return { backlog: t.timerStore.stats().pending + enqueueLag, enqueueLag, delivered: t.delivered };
  }

  delayLevels(): { level: number; backlog: number }[] {
    const out: { level: number; backlog: number }[] = [];
    const schedule = TopicValidator.RMQ_SYS_SCHEDULE_TOPIC;
    for (let level = 1; level <= this.b.delayLevelsMs.length; level++) {
      const end = Math.max(0, this.b.store.getMaxOffsetInQueue(schedule, level - 1));
      out.push({ level, backlog: Math.max(0, end - this.b.scheduleMessageService.offsetOf(level)) });
    }
    return out;
  }

  async halfMessages(): Promise<HalfMessages> {
    const half = TopicValidator.RMQ_SYS_TRANS_HALF_TOPIC;
    const tx = this.b.transactionService;
    const end = Math.max(0, this.b.store.getMaxOffsetInQueue(half, 0));
    const from = tx.halfOffset;
    const scanEnd = Math.min(end, from + MAX_HALF_SCAN);
    let count = end - scanEnd;
    let oldest = -1;
    for (let o = from; o < scanEnd; o++) {
      if (tx.isDecided(o)) continue;
      count++;
      if (oldest < 0) oldest = o;
    }
    return { count, oldestMs: oldest >= 0 ? await this.storeTimeAt(half, 0, oldest) : 0 };
  }
}

function earliest(a: number, b: number): number {
  if (a <= 0) return b;
  if (b <= 0) return a;
  return Math.min(a, b);
}
