// Timer messages (any delivery time up to timerMaxDelaySec): a send with TIMER_DELIVER_MS,
// TIMER_DELAY_SEC, TIMER_DELAY_MS or __STARTDELIVERTIME in the future is stored in
// rmq_sys_wheel_timer; an enqueue loop reads that queue from a persisted cursor into the
// TimerStore (a time wheel over a timer log, so pending timers are not all in memory); a
// deliver loop re-puts due messages to their real topic. The cursor only moves after the
// timer log is fsynced, so a crash replays rather than loses; recall cancels by unique key.
//
// Roles (issue 12). Every member enqueues the wheel queue of its own log (a slave's is the
// master's, replicated), so a slave's timer store holds the same timers as its master's. Only a
// master delivers and recalls. A recall also appends a marker to the wheel queue, so replicas
// cancel the timer too. The master publishes a checkpoint (GET_TIMER_CHECK_POINT): every timer
// due by lastReadTimeMs and stored below lastEnqueuedPhyOffset is delivered or recalled, and its
// re-puts lie below commitLogMaxOffset. A slave applies the newest checkpoint its own log covers
// (dropDelivered), so a promoted member goes on from there: what its old master delivered after
// the last checkpoint it copied is delivered again, nothing is lost.
import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';
import { decodeMessage, type MessageRecord } from '../../common/message-codec.js';
import { MessageConst, TopicValidator } from '../../common/message-const.js';
import { getPropertyFromString } from '../../common/message-properties.js';
import { removePropertyFromString, setPropertyInString } from '../../common/property-edit.js';
import type { HostPort } from '../../common/message-host.js';
import { BrokerError, ResponseCode } from '../../remoting/index.js';
import { encodeRecallHandle } from '../../remoting/protocol/recall.js';
import { GetMessageStatus, type MessageInput, type MessageStore, type PutMessageResult } from '../../store/index.js';
import { TimerStore, type DueTimer } from '../../store/timer/index.js';
import type { ConsumerOffsetManager } from '../consumer-offset-manager.js';
import type { RouteResult } from '../message-router.js';
import { assertStored, restoreInput } from '../restore-message.js';

const WHEEL = TopicValidator.RMQ_SYS_WHEEL_TIMER;
/** The enqueue cursor's consumer group: each member's own, never copied from the master. */
export const TIMER_CURSOR_GROUP = 'CID_RMQ_SYS_TIMER';
const CURSOR_GROUP = TIMER_CURSOR_GROUP;
/** Recent (wheel queue offset, commit-log offset) pairs kept to find where a truncated log diverged. */
const RECENT_MAX = 1024;
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

/**
 * What a master has delivered, as slaves copy it (GET_TIMER_CHECK_POINT). Commit-log offsets are
 * the same on every member, since a replica's log is its master's byte for byte.
 */
export interface TimerCheckpointView {
  /** Every timer due at or before this (epoch ms) and stored below lastEnqueuedPhyOffset is delivered or recalled; -1: no claim yet. */
  lastReadTimeMs: number;
  /** Commit-log offset just past the last wheel record the timer store had taken in at lastReadTimeMs. */
  lastEnqueuedPhyOffset: number;
  /** The wheel queue offset the enqueue loop reads next (RocketMQ's lastTimerQueueOffset). */
  lastTimerQueueOffset: number;
  /** The master's commit-log end when this was taken: the re-puts it claims lie below it. */
  commitLogMaxOffset: number;
}

/** What ties the service to its broker's role; all optional for a broker without replication. */
export interface TimerServiceRole {
  /** false once this broker may no longer write (deposed, or its etcd lease is about to lapse). */
  mayWrite?(): boolean;
  /** The address stamped on recall markers. */
  storeHost?(): HostPort;
  /** SYNC_MASTER: resolves once the in-sync replicas hold the put (a recall marker). */
  afterPut?(put: PutMessageResult): Promise<void> | undefined;
}

export class TimerMessageService {
  readonly timerStore: TimerStore;
  private enqueueTimer: NodeJS.Timeout | undefined;
  private deliverTimer: NodeJS.Timeout | undefined;
  private enqueuing: Promise<void> | null = null;
  private delivering: Promise<void> | null = null;
  private enqueueCursor: number;
  private stopped = false;
  /** Delivery and recall run only while this broker is master. */
  private master = false;
  /** Recalls this member made whose markers its enqueue loop has not read yet ("uniqKey NUL deliverMs"). */
  private readonly ownRecalls = new Set<string>();
  /** Checkpoints copied from the master, oldest first, not yet covered by this member's log. */
  private copied: TimerCheckpointView[] = [];
  private checkpoint: TimerCheckpointView = { lastReadTimeMs: -1, lastEnqueuedPhyOffset: 0, lastTimerQueueOffset: 0, commitLogMaxOffset: 0 };
  /** Commit-log end of the last wheel record enqueued. */
  private enqueuedPhy = 0;
  /** The last few records enqueued, oldest first: [queue offset, commit-log offset]. */
  private readonly recent: Array<[number, number]> = [];
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
    private readonly role: TimerServiceRole = {},
  ) {
    this.timerStore = TimerStore.open(join(cfg.storePathRootDir, 'timerwheel'), { precisionMs: cfg.timerPrecisionMs, logger, now });
    this.enqueueCursor = Math.max(0, offsets.queryOffset(CURSOR_GROUP, WHEEL, 0));
    this.replayEnd = store.getMaxOffsetInQueue(WHEEL, 0);
  }

  private mayWrite(): boolean {
    return this.master && !this.stopped && (this.role.mayWrite?.() ?? true);
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

  /** Every role: takes the wheel queue of this member's log into the timer store. */
  startEnqueue(pollIntervalMs = this.cfg.pollIntervalMs ?? 100): void {
    if (this.enqueueTimer || this.stopped) return;
    this.enqueueTimer = setInterval(() => void this.enqueueNow(), pollIntervalMs);
    this.enqueueTimer.unref();
  }

  /**
   * Elected (or started as master): catches up with the wheel queue, so recalls replicated
   * before the election are applied, then delivers. Can follow stopDelivery() any number of times.
   */
  async startDelivery(pollIntervalMs = this.cfg.pollIntervalMs ?? 100): Promise<void> {
    if (this.stopped || this.master) return;
    this.startEnqueue(pollIntervalMs);
    await this.enqueuing;
    await this.enqueueNow();
    // What the old master delivered by its last checkpoint this member copied is not delivered again.
    this.applyCopied();
    this.copied = [];
    this.master = true;
    this.deliverTimer = setInterval(() => void this.deliverNow(), pollIntervalMs);
    this.deliverTimer.unref();
    this.logger.info({ pending: this.timerStore.stats().pending, enqueueCursor: this.enqueueCursor }, 'timer delivery started');
  }

  /** Deposed: no delivery or recall from here on; resolves once a pass under way has ended. */
  async stopDelivery(): Promise<void> {
    this.master = false;
    if (this.deliverTimer) clearInterval(this.deliverTimer);
    this.deliverTimer = undefined;
    await this.delivering;
  }

  /** The master's checkpoint as slaves copy it (GET_TIMER_CHECK_POINT). */
  checkpointView(): TimerCheckpointView {
    return { ...this.checkpoint, lastTimerQueueOffset: this.enqueueCursor };
  }

  /**
   * A slave takes its master's checkpoint and applies the newest one its own log covers (the
   * master's re-puts it claims are here too): timers the master delivered are dropped here as
   * well. Returns how many were dropped.
   */
  followMaster(cp: TimerCheckpointView): number {
    if (this.master || this.stopped || cp.lastReadTimeMs < 0) return 0;
    const last = this.copied[this.copied.length - 1];
    if (!last || cp.lastReadTimeMs > last.lastReadTimeMs) this.copied.push(cp);
    if (this.copied.length > 16) this.copied.splice(0, this.copied.length - 16);
    return this.applyCopied();
  }

  /** The master changed: checkpoints of the old one not yet applied are dropped. */
  forgetCopied(): void {
    this.copied = [];
  }

  private applyCopied(): number {
    const held = this.store.getMaxPhyOffset();
    let i = this.copied.length - 1;
    while (i >= 0 && this.copied[i].commitLogMaxOffset > held) i--;
    if (i < 0) return 0;
    const cp = this.copied[i];
    this.copied.splice(0, i + 1);
    const dropped = this.timerStore.dropDelivered(cp.lastReadTimeMs, (t) => t.commitLogOffset < cp.lastEnqueuedPhyOffset);
    this.checkpoint = { ...cp };
    if (dropped > 0) this.logger.debug({ dropped, throughMs: cp.lastReadTimeMs }, 'timers the master delivered dropped');
    return dropped;
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
    let moved = await this.rewindIfTruncated();
    // Whether the timer log took anything: a pass over this member's own recall markers only
    // (cancelled and fsynced by recall() already) moves the cursor without an fsync.
    let changed = moved;
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
        const recalled = getPropertyFromString(m.properties, MessageConst.PROPERTY_TIMER_DEL_UNIQKEY);
        if (recalled !== undefined) {
          // A recall made on the master this member copies (or by itself before a restart).
          if (!this.ownRecalls.delete(`${recalled}\u0000${deliverAtMs}`)) {
            this.timerStore.cancel(recalled, deliverAtMs);
            changed = true;
          }
        } else {
          const key = getPropertyFromString(m.properties, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? String(m.commitLogOffset);
          if (m.queueOffset < this.replayEnd && !this.replayed.has(m.commitLogOffset)) this.replayed.set(m.commitLogOffset, false);
          this.timerStore.add({ deliverAtMs, commitLogOffset: m.commitLogOffset, size: m.totalSize, key });
          changed = true;
        }
        this.enqueueCursor = m.queueOffset + 1;
        this.enqueuedPhy = m.commitLogOffset + m.totalSize;
        this.recent.push([m.queueOffset, m.commitLogOffset]);
        if (this.recent.length > 2 * RECENT_MAX) this.recent.splice(0, this.recent.length - RECENT_MAX);
      }
      moved = true;
    }
    if (changed) {
      // The cursor may pass these messages only once the timer log holding them is on disk.
      await this.timerStore.flush();
      this.offsets.commitOffset(CURSOR_GROUP, WHEEL, 0, this.enqueueCursor);
      await this.offsets.flush();
    } else if (moved) {
      // Own recall markers only: after a crash they are read again and cancel again, harmlessly.
      this.offsets.commitOffset(CURSOR_GROUP, WHEEL, 0, this.enqueueCursor);
    }
  }

  /**
   * A replica's log can be cut (a deposed master's unacknowledged tail, a half-received record)
   * and then refilled with other records at the same queue offsets. The cursor goes back to just
   * after the last record enqueued that is still where it was, so the new ones are taken in. The
   * timers of the cut records stay in the timer store: delivery checks each against the log.
   */
  private async rewindIfTruncated(): Promise<boolean> {
    if (this.recent.length === 0) return false;
    const [lastQ, lastPhy] = this.recent[this.recent.length - 1];
    if ((await this.phyAt(lastQ)) === lastPhy) return false;
    let i = this.recent.length - 1;
    while (i >= 0 && (await this.phyAt(this.recent[i][0])) !== this.recent[i][1]) i--;
    const from = i >= 0 ? this.recent[i][0] + 1 : this.recent[0][0];
    this.logger.warn({ from, was: this.enqueueCursor }, 'the wheel queue was cut under the timer cursor; enqueuing again from where it diverged');
    this.recent.splice(i + 1);
    this.enqueueCursor = from;
    this.enqueuedPhy = i >= 0 ? this.recent[i][1] : 0;
    return true;
  }

  private async phyAt(queueOffset: number): Promise<number> {
    const r = await this.store.getMessage(WHEEL, 0, queueOffset, 1);
    if (r.buffers.length === 0) return -1;
    return decodeMessage(r.buffers[0], 0, { checkCrc: false }).commitLogOffset;
  }

  deliverNow(): Promise<void> {
    this.delivering ??= this.deliver()
      .catch((err: unknown) => this.logger.error({ err }, 'timer delivery failed'))
      .finally(() => (this.delivering = null));
    return this.delivering;
  }

  private async deliver(): Promise<void> {
    while (this.mayWrite() && this.caughtUp) {
      const now = this.now();
      // Taken before pollDue: every timer enqueued below it and due by now is handed out by this pass.
      const enqueuedPhy = this.enqueuedPhy;
      const due = this.timerStore.pollDue(now, 256);
      let i = 0;
      try {
        for (; i < due.length; i++) {
          // Deposed (or about to be) mid-batch: the rest go back to the store, undelivered.
          if (!this.mayWrite()) break;
          const t = due[i];
          if (this.isReplayedTwice(t.commitLogOffset)) continue;
          const m = await this.wheelRecord(t);
          if (!m) continue;
          await this.putReal(m);
          // Marked only once delivered: a hand-out that failed or was cut short comes again.
          if (this.replayed.has(t.commitLogOffset)) this.replayed.set(t.commitLogOffset, true);
          this.delivered++;
        }
      } finally {
        for (const t of due.slice(i)) this.timerStore.add({ deliverAtMs: t.deliverAtMs, commitLogOffset: t.commitLogOffset, size: t.size, key: t.key });
        // Confirmed only after every re-put: a crash before this re-delivers (at least once).
        this.timerStore.commit();
      }
      if (i < due.length) return;
      if (due.length < 256) {
        this.checkpoint = { lastReadTimeMs: now, lastEnqueuedPhyOffset: enqueuedPhy, lastTimerQueueOffset: this.enqueueCursor, commitLogMaxOffset: this.store.getMaxPhyOffset() };
        return;
      }
    }
  }

  /**
   * The wheel record a timer names, or undefined when the log no longer holds it there (cut
   * from a replica's log and replaced, or expired).
   */
  private async wheelRecord(t: DueTimer): Promise<MessageRecord | undefined> {
    const rec = await this.store.lookMessageByOffset(t.commitLogOffset, t.size);
    const m = rec ? decodeMessage(rec, 0, { checkCrc: false }) : undefined;
    const key = m && (getPropertyFromString(m.properties, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? String(m.commitLogOffset));
    if (!m || m.topic !== WHEEL || key !== t.key) {
      this.logger.warn({ offset: t.commitLogOffset, key: t.key }, 'timer message no longer in the commit log; skipped');
      return undefined;
    }
    return m;
  }

  /** true for a hand-out of a record the startup catch-up may have added again, once it was delivered. */
  private isReplayedTwice(commitLogOffset: number): boolean {
    if (this.replayed.get(commitLogOffset) !== true) return false;
    this.replayed.delete(commitLogOffset);
    return true;
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
   * Cancels a pending timer before it is due; durable when this resolves, and (SYNC_MASTER) held
   * by the in-sync replicas. false when it is due already (delivered or about to be) or unknown.
   */
  async recall(uniqKey: string, deliverMs: number): Promise<boolean> {
    if (!this.mayWrite()) {
      throw new BrokerError(ResponseCode.SLAVE_NOT_AVAILABLE, `broker ${this.cfg.brokerName} is not the master of its group; recall at the master (brokerId 0)`);
    }
    if (deliverMs <= this.now()) return false;
    // A message sent just before its recall must be in the wheel first. Fix (semantics suite): a
    // pass already under way may have read the wheel queue before that message arrived, and
    // a cancel of a not-yet-added timer is lost; so wait for it and run a fresh pass.
    await this.enqueuing;
    await this.enqueueNow();
    const ok = this.timerStore.cancel(uniqKey, deliverMs);
    await this.timerStore.flush();
    if (!ok) return false;
    const own = `${uniqKey}\u0000${deliverMs}`;
    this.ownRecalls.add(own);
    try {
      await this.writeRecallMarker(uniqKey, deliverMs);
    } catch (err) {
      this.ownRecalls.delete(own);
      throw err;
    }
    this.recalled++;
    return true;
  }

  /** The recall in the replicated log: a slave's enqueue loop cancels the timer in its own store. */
  private async writeRecallMarker(uniqKey: string, deliverMs: number): Promise<void> {
    const host = this.role.storeHost?.() ?? { address: '127.0.0.1', port: 0 };
    let props = setPropertyInString('', MessageConst.PROPERTY_TIMER_DEL_UNIQKEY, uniqKey);
    props = setPropertyInString(props, MessageConst.PROPERTY_TIMER_OUT_MS, String(deliverMs));
    const put = await this.store.putMessage({
      topic: WHEEL,
      queueId: 0,
      flag: 0,
      body: Buffer.alloc(0),
      properties: props,
      sysFlag: 0,
      bornTimestamp: this.now(),
      bornHost: host,
      storeHost: host,
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
      tagsCode: deliverMs,
    });
    assertStored(put, 'recall marker');
    await this.role.afterPut?.(put);
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    this.master = false;
    if (this.enqueueTimer) clearInterval(this.enqueueTimer);
    if (this.deliverTimer) clearInterval(this.deliverTimer);
    await this.enqueuing;
    await this.delivering;
    await this.timerStore.close();
  }
}
