// Timer messages (any delivery time up to timerMaxDelaySec): a send with TIMER_DELIVER_MS,
// TIMER_DELAY_SEC, TIMER_DELAY_MS or __STARTDELIVERTIME in the future is stored in
// rmq_sys_wheel_timer; an enqueue loop reads that queue from a persisted cursor into the
// TimerStore (a time wheel over a timer log, so pending timers are not all in memory); a
// deliver loop re-puts due messages to their real topic. The cursor only moves after the
// timer log is fsynced, so a crash replays rather than loses; recall cancels by unique key.
import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';
import { decodeMessage, type MessageRecord } from '../../common/message-codec.js';
import { MessageConst, TopicValidator } from '../../common/message-const.js';
import { getPropertyFromString } from '../../common/message-properties.js';
import { removePropertyFromString, setPropertyInString } from '../../common/property-edit.js';
import { BrokerError, ResponseCode } from '../../remoting/index.js';
import { encodeRecallHandle } from '../../remoting/protocol/recall.js';
import { GetMessageStatus, type MessageInput, type MessageStore } from '../../store/index.js';
import { TimerStore } from '../../store/timer/index.js';
import type { ConsumerOffsetManager } from '../consumer-offset-manager.js';
import type { RouteResult } from '../message-router.js';
import { assertStored, restoreInput } from '../restore-message.js';

const WHEEL = TopicValidator.RMQ_SYS_WHEEL_TIMER;
const CURSOR_GROUP = 'CID_RMQ_SYS_TIMER';
const TIMER_PROPS = [
  MessageConst.PROPERTY_TIMER_DELIVER_MS,
  MessageConst.PROPERTY_TIMER_DELAY_SEC,
  MessageConst.PROPERTY_TIMER_DELAY_MS,
  MessageConst.PROPERTY_STARTDE_LIVER_TIME,
] as const;

export interface TimerServiceConfig {
  brokerName: string;
  timerMaxDelaySec: number;
  timerPrecisionMs: number;
  storePathRootDir: string;
  /** ms between looks for due timers. */
  pollIntervalMs?: number;
}

export class TimerMessageService {
  readonly timerStore: TimerStore;
  private enqueueTimer: NodeJS.Timeout | undefined;
  private deliverTimer: NodeJS.Timeout | undefined;
  private enqueuing: Promise<void> | null = null;
  private delivering: Promise<void> | null = null;
  private enqueueCursor: number;
  private stopped = false;
  /**
   * Fix (semantics suite, restart after SIGKILL): wheel records from the persisted cursor to the
   * queue's end at startup may be in the timer log already (a kill after the log was written and
   * before the cursor moved), and the catch-up adds them again, which delivered them twice. Those
   * records' commit-log offsets map to "delivered yet"; a second hand-out is skipped. Bounded by
   * what one crash can leave between the two writes. Delivery waits for that first catch-up.
   */
  private readonly replayEnd: number;
  private readonly replayed = new Map<number, boolean>();
  private caughtUp = false;
  /** Delivered and recalled counts, for metrics and the admin view. */
  delivered = 0;
  recalled = 0;

  constructor(
    private readonly store: MessageStore,
    private readonly offsets: ConsumerOffsetManager,
    private readonly cfg: TimerServiceConfig,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.timerStore = TimerStore.open(join(cfg.storePathRootDir, 'timerwheel'), { precisionMs: cfg.timerPrecisionMs, logger, now });
    this.enqueueCursor = Math.max(0, offsets.queryOffset(CURSOR_GROUP, WHEEL, 0));
    this.replayEnd = store.getMaxOffsetInQueue(WHEEL, 0);
  }

  /** Router stage: future timer messages go to the wheel topic; the result carries their recall handle. */
  readonly routeStage = (msg: MessageInput): RouteResult | undefined => {
    const deliverMs = this.deliverTimeOf(msg.properties);
    if (deliverMs === undefined) return undefined;
    const now = this.now();
    if (deliverMs > now + this.cfg.timerMaxDelaySec * 1000) {
      throw new BrokerError(
        ResponseCode.MESSAGE_ILLEGAL,
        `timer message delivery time ${new Date(deliverMs).toISOString()} is beyond the maximum delay of ${this.cfg.timerMaxDelaySec} s (timerMaxDelaySec)`,
      );
    }
    if (deliverMs <= now) return undefined; // due already: stored as a normal message
    const uniq = getPropertyFromString(msg.properties, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? '';
    let props = setPropertyInString(msg.properties, MessageConst.PROPERTY_TIMER_OUT_MS, String(deliverMs));
    props = setPropertyInString(props, MessageConst.PROPERTY_REAL_TOPIC, msg.topic);
    props = setPropertyInString(props, MessageConst.PROPERTY_REAL_QUEUE_ID, String(msg.queueId));
    const realTopic = msg.topic;
    msg.properties = props;
    msg.topic = WHEEL;
    msg.queueId = 0;
    msg.tagsCode = deliverMs;
    if (realTopic.startsWith('%RETRY%')) return {};
    return { recallHandle: encodeRecallHandle({ topic: realTopic, brokerName: this.cfg.brokerName, deliverMs, uniqKey: uniq }) };
  };

  /** Absolute delivery time from the timer properties, or undefined for a normal message. */
  deliverTimeOf(props: string): number | undefined {
    if (getPropertyFromString(props, MessageConst.PROPERTY_TIMER_OUT_MS) !== undefined) return undefined;
    for (const key of TIMER_PROPS) {
      const raw = getPropertyFromString(props, key);
      if (raw === undefined) continue;
      const v = Number(raw);
      if (!Number.isFinite(v)) throw new BrokerError(ResponseCode.MESSAGE_ILLEGAL, `property ${key} is not a number: "${raw.slice(0, 40)}"`);
      if (key === MessageConst.PROPERTY_TIMER_DELAY_SEC) return this.now() + v * 1000;
      if (key === MessageConst.PROPERTY_TIMER_DELAY_MS) return this.now() + v;
      return v;
    }
    return undefined;
  }

  start(pollIntervalMs = this.cfg.pollIntervalMs ?? 100): void {
    this.enqueueTimer = setInterval(() => void this.enqueueNow(), pollIntervalMs);
    this.deliverTimer = setInterval(() => void this.deliverNow(), pollIntervalMs);
    this.enqueueTimer.unref();
    this.deliverTimer.unref();
  }

  /** A message reached the wheel queue: enqueue it without waiting for the next tick. */
  notifyArrived(): void {
    void this.enqueueNow();
  }

  enqueueNow(): Promise<void> {
    this.enqueuing ??= this.enqueue()
      .catch((err: unknown) => this.logger.error({ err }, 'timer enqueue failed'))
      .finally(() => {
        this.enqueuing = null;
        this.caughtUp = true;
      });
    return this.enqueuing;
  }

  private async enqueue(): Promise<void> {
    let moved = false;
    while (!this.stopped) {
      const r = await this.store.getMessage(WHEEL, 0, this.enqueueCursor, 256);
      if (r.status === GetMessageStatus.OFFSET_TOO_SMALL || r.status === GetMessageStatus.OFFSET_OVERFLOW_BADLY) {
        this.enqueueCursor = r.nextBeginOffset;
        continue;
      }
      if (r.buffers.length === 0) break;
      for (const rec of r.buffers) {
        const m = decodeMessage(rec, 0, { checkCrc: false });
        const deliverAtMs = Number(getPropertyFromString(m.properties, MessageConst.PROPERTY_TIMER_OUT_MS) ?? 0);
        const key = getPropertyFromString(m.properties, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? String(m.commitLogOffset);
        if (m.queueOffset < this.replayEnd && !this.replayed.has(m.commitLogOffset)) this.replayed.set(m.commitLogOffset, false);
        this.timerStore.add({ deliverAtMs, commitLogOffset: m.commitLogOffset, size: m.totalSize, key });
        this.enqueueCursor = m.queueOffset + 1;
      }
      moved = true;
    }
    if (moved) {
      // The cursor may pass these messages only once the timer log holding them is on disk.
      await this.timerStore.flush();
      this.offsets.commitOffset(CURSOR_GROUP, WHEEL, 0, this.enqueueCursor);
      await this.offsets.flush();
    }
  }

  deliverNow(): Promise<void> {
    this.delivering ??= this.deliver()
      .catch((err: unknown) => this.logger.error({ err }, 'timer delivery failed'))
      .finally(() => (this.delivering = null));
    return this.delivering;
  }

  private async deliver(): Promise<void> {
    while (!this.stopped && this.caughtUp) {
      const due = this.timerStore.pollDue(this.now(), 256);
      if (due.length === 0) return;
      for (const t of due) {
        if (this.isReplayedTwice(t.commitLogOffset)) continue;
        const rec = await this.store.lookMessageByOffset(t.commitLogOffset, t.size);
        if (!rec) {
          this.logger.warn({ offset: t.commitLogOffset }, 'timer message no longer in the commit log; skipped');
          continue;
        }
        await this.putReal(decodeMessage(rec, 0, { checkCrc: false }));
        this.delivered++;
      }
      // Confirmed only after every re-put: a crash before this re-delivers (at least once).
      this.timerStore.commit();
    }
  }

  /** true for the second hand-out of a record the startup catch-up may have added again. */
  private isReplayedTwice(commitLogOffset: number): boolean {
    const delivered = this.replayed.get(commitLogOffset);
    if (delivered === undefined) return false;
    if (delivered) {
      this.replayed.delete(commitLogOffset);
      return true;
    }
    this.replayed.set(commitLogOffset, true);
    return false;
  }

  private async putReal(m: MessageRecord): Promise<void> {
    const topic = getPropertyFromString(m.properties, MessageConst.PROPERTY_REAL_TOPIC);
    if (!topic) return;
    const queueId = Number(getPropertyFromString(m.properties, MessageConst.PROPERTY_REAL_QUEUE_ID) ?? 0);
    let props = m.properties;
    for (const k of [MessageConst.PROPERTY_REAL_TOPIC, MessageConst.PROPERTY_REAL_QUEUE_ID]) props = removePropertyFromString(props, k);
    props = setPropertyInString(props, MessageConst.PROPERTY_TIMER_DEQUEUE_MS, String(this.now()));
    const r = await this.store.putMessage(restoreInput(m, { topic, queueId, properties: props, retag: true }));
    assertStored(r, `timer delivery to ${topic}`);
  }

  /**
   * Cancels a pending timer before it is due; durable when this resolves. false when it is
   * due already (delivered or about to be) or unknown.
   */
  async recall(uniqKey: string, deliverMs: number): Promise<boolean> {
    if (deliverMs <= this.now()) return false;
    // A message sent just before its recall must be in the wheel first. Fix (semantics suite): a
    // pass already under way may have read the wheel queue before that message arrived, and
    // a cancel of a not-yet-added timer is lost; so wait for it and run a fresh pass.
    await this.enqueuing;
    await this.enqueueNow();
    const ok = this.timerStore.cancel(uniqKey, deliverMs);
    await this.timerStore.flush();
    if (ok) this.recalled++;
    return ok;
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.enqueueTimer) clearInterval(this.enqueueTimer);
    if (this.deliverTimer) clearInterval(this.deliverTimer);
    await this.enqueuing;
    await this.delivering;
    await this.timerStore.close();
  }
}
