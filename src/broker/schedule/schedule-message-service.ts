// Delivers delay-level messages: one cursor per level over SCHEDULE_TOPIC_XXXX; a message is
// re-put to its real topic and queue when store time + level delay has passed. Cursors are
// persisted in config/delayOffset.json after deliveries (a crash re-delivers, never loses).
import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';
import { decodeMessage } from '../../common/message-codec.js';
import { MessageConst, TopicValidator } from '../../common/message-const.js';
import { getPropertyFromString } from '../../common/message-properties.js';
import { removePropertyFromString, setPropertyInString } from '../../common/property-edit.js';
import { GetMessageStatus, type MessageStore } from '../../store/index.js';
import { ConfigPersister } from '../config-persister.js';
import { assertStored, restoreInput } from '../restore-message.js';

const BATCH = 32;
const RETRY_AFTER_FAILURE_MS = 1000;

export class ScheduleMessageService {
  private readonly offsets: number[];
  private readonly timers: (NodeJS.Timeout | undefined)[];
  private readonly persister: ConfigPersister;
  private running = false;
  private readonly busy: boolean[];
  /** A message arrived while the level was being delivered (that pass may have missed it). */
  private readonly arrivedWhileBusy: boolean[];
  /** Passes under way; stop() waits for them, so a deposed master writes nothing after it. */
  private readonly passes = new Set<Promise<void>>();

  constructor(
    private readonly store: MessageStore,
    private readonly delayLevelsMs: readonly number[],
    configDir: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    /** false once this broker may no longer write (deposed, or its etcd lease is about to lapse). */
    private readonly mayWrite: () => boolean = () => true,
  ) {
    this.offsets = delayLevelsMs.map(() => 0);
    this.timers = delayLevelsMs.map(() => undefined);
    this.busy = delayLevelsMs.map(() => false);
    this.arrivedWhileBusy = delayLevelsMs.map(() => false);
    this.persister = new ConfigPersister(join(configDir, 'delayOffset.json'), () => this.encode(), logger);
  }

  load(): void {
    const data = this.persister.load() as { offsetTable?: Record<string, number> } | undefined;
    for (const [level, off] of Object.entries(data?.offsetTable ?? {})) {
      const i = Number(level) - 1;
      if (i >= 0 && i < this.offsets.length) this.offsets[i] = Number(off);
    }
  }

  /** A slave takes the master's delay cursors, so a promoted slave does not deliver again what the master did. */
  replaceFromMaster(offsetTable: Record<string, number>): void {
    let changed = false;
    for (const [level, off] of Object.entries(offsetTable)) {
      const i = Number(level) - 1;
      if (i >= 0 && i < this.offsets.length && this.offsets[i] !== Number(off)) {
        this.offsets[i] = Number(off);
        changed = true;
      }
    }
    if (changed) this.persister.schedule();
  }

  /** Master only; can follow stop() any number of times. */
  start(firstDelayMs = 1000): void {
    if (this.running) return;
    this.running = true;
    for (let i = 0; i < this.delayLevelsMs.length; i++) this.schedule(i, firstDelayMs);
  }

  /** A message was parked at this level: look again soon (its due time is known only then). */
  notifyArrived(queueId: number): void {
    if (!this.running || queueId < 0 || queueId >= this.delayLevelsMs.length) return;
    if (this.busy[queueId]) this.arrivedWhileBusy[queueId] = true;
    else if (!this.timers[queueId]) this.schedule(queueId, this.delayLevelsMs[queueId]);
  }

  private schedule(i: number, delayMs: number): void {
    if (!this.running) return;
    if (this.timers[i]) clearTimeout(this.timers[i]);
    const t = setTimeout(() => {
      this.timers[i] = undefined;
      const pass = this.runLevel(i);
      this.passes.add(pass);
      void pass.finally(() => this.passes.delete(pass));
    }, Math.max(0, delayMs));
    t.unref();
    this.timers[i] = t;
  }

  private async runLevel(i: number): Promise<void> {
    if (this.busy[i]) return;
    this.busy[i] = true;
    this.arrivedWhileBusy[i] = false;
    let next: number | undefined;
    try {
      next = await this.deliverDue(i);
    } catch (err) {
      this.logger.error({ err, level: i + 1 }, 'delay level delivery failed');
      next = RETRY_AFTER_FAILURE_MS;
    } finally {
      this.busy[i] = false;
    }
    // Fix (semantics suite): a message parked while this pass ran, after its last read, used to
    // be dropped from scheduling when the pass found the level empty; it then waited for the
    // next arrival at that level. Look again one level delay later instead.
    if (next === undefined && this.arrivedWhileBusy[i]) next = this.delayLevelsMs[i];
    if (next !== undefined) this.schedule(i, next);
  }

  /** Delivers what is due at level i; returns ms until the next check, or undefined when the level is empty. */
  private async deliverDue(i: number): Promise<number | undefined> {
    const delay = this.delayLevelsMs[i];
    for (;;) {
      if (!this.running) return undefined;
      // The role may come back at the same epoch (a late keep-alive) without a new start().
      if (!this.mayWrite()) return RETRY_AFTER_FAILURE_MS;
      const r = await this.store.getMessage(TopicValidator.RMQ_SYS_SCHEDULE_TOPIC, i, this.offsets[i], BATCH);
      if (r.status === GetMessageStatus.OFFSET_TOO_SMALL || r.status === GetMessageStatus.OFFSET_OVERFLOW_BADLY) {
        this.offsets[i] = r.nextBeginOffset;
        continue;
      }
      if (r.buffers.length === 0) return undefined;
      let delivered = 0;
      for (const rec of r.buffers) {
        if (!this.running || !this.mayWrite()) {
          if (delivered > 0) this.persister.schedule();
          return RETRY_AFTER_FAILURE_MS;
        }
        const m = decodeMessage(rec, 0, { checkCrc: false });
        const due = m.storeTimestamp + delay;
        const wait = due - this.now();
        if (wait > 0) {
          if (delivered > 0) this.persister.schedule();
          return wait;
        }
        await this.deliver(m);
        this.offsets[i] = m.queueOffset + 1;
        delivered++;
      }
      this.persister.schedule();
    }
  }

  private async deliver(m: ReturnType<typeof decodeMessage>): Promise<void> {
    const realTopic = getPropertyFromString(m.properties, MessageConst.PROPERTY_REAL_TOPIC);
    const realQid = Number(getPropertyFromString(m.properties, MessageConst.PROPERTY_REAL_QUEUE_ID) ?? 0);
    if (!realTopic) {
      this.logger.warn({ offset: m.commitLogOffset }, 'scheduled message without REAL_TOPIC dropped');
      return;
    }
    let props = removePropertyFromString(m.properties, MessageConst.PROPERTY_DELAY_TIME_LEVEL);
    props = removePropertyFromString(props, MessageConst.PROPERTY_TIMER_DELIVER_MS);
    props = removePropertyFromString(props, MessageConst.PROPERTY_TIMER_DELAY_SEC);
    props = setPropertyInString(props, MessageConst.PROPERTY_WAIT_STORE_MSG_OK, 'false');
    const r = await this.store.putMessage(restoreInput(m, { topic: realTopic, queueId: realQid, properties: props, retag: true }));
    assertStored(r, `re-put of scheduled message to ${realTopic}`);
  }

  /** Cursor per level (1-based keys, as RocketMQ's delayOffset.json). */
  encode(): { offsetTable: Record<string, number> } {
    const offsetTable: Record<string, number> = {};
    this.offsets.forEach((o, i) => (offsetTable[String(i + 1)] = o));
    return { offsetTable };
  }

  offsetOf(level: number): number {
    return this.offsets[level - 1] ?? 0;
  }

  /** Deposed: no delivery from here on; resolves once the passes under way have ended. */
  async stop(): Promise<void> {
    this.running = false;
    this.timers.forEach((t, i) => {
      if (t) clearTimeout(t);
      this.timers[i] = undefined;
    });
    await Promise.all([...this.passes]);
  }

  async shutdown(): Promise<void> {
    await this.stop();
    await this.persister.flush();
  }
}
