// A slave copies the master's metadata periodically, as RocketMQ's SlaveSynchronize does: topics,
// subscription groups, consumer offsets, delay-level cursors and the timer checkpoint, with the
// same admin requests an operator's tools use. The log itself comes over the HA connection.
//
// Delay cursors and the timer checkpoint say "delivered up to here": the master has re-put those
// messages. A slave takes them only once its own log holds the master's log up to where it was
// when it answered, so the re-puts they count are here too; a promoted member then neither skips
// a message whose re-put it lacks nor repeats more than what its old master delivered after the
// last copy (haSlaveSyncMetadataIntervalMs). The timer cursor is each member's own.
import type { Logger } from '../../common/logger.js';
import { TopicValidator } from '../../common/message-const.js';
import { createRequest, RequestCode, ResponseCode, type RemotingClient } from '../../remoting/index.js';
import type { TopicConfig } from '../../remoting/protocol/index.js';
import type { BrokerParts } from '../broker-parts.js';
import type { SubscriptionGroupConfig } from '../subscription-group-manager.js';
import type { TimerCheckpointBody } from '../timer/timer-checkpoint-processor.js';
import { TIMER_CURSOR_GROUP } from '../timer/timer-message-service.js';

export type SlaveSyncParts = Pick<
  BrokerParts,
  'store' | 'topicConfigManager' | 'subscriptionGroupManager' | 'consumerOffsetManager' | 'scheduleMessageService' | 'timerService'
>;

/** The enqueue cursor's entry in the offset table ("topic@group"): never copied. */
const TIMER_CURSOR_KEY = `${TopicValidator.RMQ_SYS_WHEEL_TIMER}@${TIMER_CURSOR_GROUP}`;

interface PendingDelays {
  offsetTable: Record<string, number>;
  /** The master's commit-log end at (or after) the copy. */
  logEnd: number;
}

export class SlaveSync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Completed rounds (tests wait on it). */
  rounds = 0;
  /** Delay cursors copied but not yet covered by this member's log. */
  private pendingDelays: PendingDelays | undefined;
  /** The master the last round copied from. */
  private copiedFrom: string | undefined;

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
    if (addr !== this.copiedFrom) {
      // A new master's log may differ from the old one's past some offset: what the old one
      // claimed there must not be taken once this member's log reaches it again.
      this.pendingDelays = undefined;
      p.timerService?.forgetCopied();
      this.copiedFrom = addr;
    }
    const topics = await this.fetch<{ topicConfigTable?: Record<string, TopicConfig> }>(addr, RequestCode.GET_ALL_TOPIC_CONFIG);
    if (topics.topicConfigTable) p.topicConfigManager.replaceFromMaster(topics.topicConfigTable);
    const groups = await this.fetch<{ subscriptionGroupTable?: Record<string, SubscriptionGroupConfig> }>(addr, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG);
    if (groups.subscriptionGroupTable) p.subscriptionGroupManager.replaceFromMaster(groups.subscriptionGroupTable);
    const offsets = await this.fetch<{ offsetTable?: Record<string, Record<string, number>> }>(addr, RequestCode.GET_ALL_CONSUMER_OFFSET);
    if (offsets.offsetTable) {
      delete offsets.offsetTable[TIMER_CURSOR_KEY];
      p.consumerOffsetManager.replaceFromMaster(offsets.offsetTable);
    }
    const delays = await this.fetch<{ offsetTable?: Record<string, number> }>(addr, RequestCode.GET_ALL_DELAY_OFFSET);
    // Asked after the delay cursors: the master's log end it names covers their re-puts.
    const timer = await this.fetch<Partial<TimerCheckpointBody>>(addr, RequestCode.GET_TIMER_CHECK_POINT).catch((err: unknown) => {
      this.logger.warn({ err: (err as Error).message }, 'the master gave no timer checkpoint; its delay cursors are taken as they are');
      return undefined;
    });
    if (delays.offsetTable) this.pendingDelays = { offsetTable: delays.offsetTable, logEnd: timer?.masterCommitLogMaxOffset ?? 0 };
    if (timer && typeof timer.lastReadTimeMs === 'number') p.timerService?.followMaster(timer as TimerCheckpointBody);
    this.applyCovered();
    this.rounds++;
  }

  /** Takes what was copied once this member's log holds the master's log as it was then. */
  private applyCovered(): void {
    const d = this.pendingDelays;
    if (d && this.parts.store.getMaxPhyOffset() >= d.logEnd) {
      this.parts.scheduleMessageService.replaceFromMaster(d.offsetTable);
      this.pendingDelays = undefined;
    }
  }

  private async fetch<T>(addr: string, code: number): Promise<T> {
    const resp = await this.client.invoke(addr, createRequest(code, {}), 5000);
    if (resp.code !== ResponseCode.SUCCESS) throw new Error(`master ${addr} answered ${resp.code} ${resp.remark ?? ''} to request ${code}`);
    const body = Array.isArray(resp.body) ? Buffer.concat(resp.body) : resp.body;
    return (body && body.length ? JSON.parse(body.toString('utf8')) : {}) as T;
  }

  /** Stops copying; what was copied and is covered by the log by now is taken (a promotion goes on from it). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.applyCovered();
  }
}
