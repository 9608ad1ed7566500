// A slave copies the master's metadata periodically, as RocketMQ's SlaveSynchronize does: topics,
// subscription groups, consumer offsets and delay-level cursors, with the same admin requests an
// operator's tools use. The log itself comes over the HA connection.
import type { Logger } from '../../common/logger.js';
import { createRequest, RequestCode, ResponseCode, type RemotingClient } from '../../remoting/index.js';
import type { TopicConfig } from '../../remoting/protocol/index.js';
import type { BrokerParts } from '../broker-parts.js';
import type { SubscriptionGroupConfig } from '../subscription-group-manager.js';

export type SlaveSyncParts = Pick<BrokerParts, 'topicConfigManager' | 'subscriptionGroupManager' | 'consumerOffsetManager' | 'scheduleMessageService'>;

export class SlaveSync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Completed rounds (tests wait on it). */
  rounds = 0;

  constructor(
    private readonly parts: SlaveSyncParts,
    private readonly client: RemotingClient,
    private readonly masterAddr: () => string | undefined,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.syncNow(), this.intervalMs);
    this.timer.unref();
    void this.syncNow();
  }

  /** One round (a round under way is joined). */
  syncNow(): Promise<void> {
    this.running ??= this.round()
      .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'copying metadata from the master failed'))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async round(): Promise<void> {
    const addr = this.masterAddr();
    if (!addr) return;
    const p = this.parts;
    const topics = await this.fetch<{ topicConfigTable?: Record<string, TopicConfig> }>(addr, RequestCode.GET_ALL_TOPIC_CONFIG);
    if (topics.topicConfigTable) p.topicConfigManager.replaceFromMaster(topics.topicConfigTable);
    const groups = await this.fetch<{ subscriptionGroupTable?: Record<string, SubscriptionGroupConfig> }>(addr, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG);
    if (groups.subscriptionGroupTable) p.subscriptionGroupManager.replaceFromMaster(groups.subscriptionGroupTable);
    const offsets = await this.fetch<{ offsetTable?: Record<string, Record<string, number>> }>(addr, RequestCode.GET_ALL_CONSUMER_OFFSET);
    if (offsets.offsetTable) p.consumerOffsetManager.replaceFromMaster(offsets.offsetTable);
    const delays = await this.fetch<{ offsetTable?: Record<string, number> }>(addr, RequestCode.GET_ALL_DELAY_OFFSET);
    if (delays.offsetTable) p.scheduleMessageService.replaceFromMaster(delays.offsetTable);
    this.rounds++;
  }

  private async fetch<T>(addr: string, code: number): Promise<T> {
    const resp = await this.client.invoke(addr, createRequest(code, {}), 5000);
    if (resp.code !== ResponseCode.SUCCESS) throw new Error(`master ${addr} answered ${resp.code} ${resp.remark ?? ''} to request ${code}`);
    const body = Array.isArray(resp.body) ? Buffer.concat(resp.body) : resp.body;
    return (body && body.length ? JSON.parse(body.toString('utf8')) : {}) as T;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
