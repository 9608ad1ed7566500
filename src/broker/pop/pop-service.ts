// Pop consumption (the base of 5.x receive): messages are handed out with an invisible time
// and a receipt handle; an ack removes them, a change of invisible time re-arms them, and one
// that stays unacked past its invisible time is revived: copied to the pop retry topic
// %RETRY%<group>_<topic> with reconsume times + 1 (or to %DLQ%<group> after the group's
// maximum). FIFO queues are blocked while they have messages in flight, and a revived FIFO
// message rewinds its queue so order holds across redelivery. Per (group, topic, queue) the
// committed offset never passes an unacked message, so a crash redelivers instead of losing.
import type { Logger } from '../../common/logger.js';
import { decodeMessage } from '../../common/message-codec.js';
import { MessageConst } from '../../common/message-const.js';
import { getPropertyFromString } from '../../common/message-properties.js';
import { createMessageId } from '../../common/msg-id.js';
import { setPropertyInString } from '../../common/property-edit.js';
import type { HostPort } from '../../common/message-host.js';
import type { AckResult, PoppedMessage, PopRequestBase } from '../../remoting/protocol/pop.js';
import { GetMessageStatus, PutMessageStatus, type MessageStore } from '../../store/index.js';
import { isMatchedByTagsCode, type SubscriptionData } from '../clients/subscription-data.js';
import type { ConsumerOffsetManager } from '../consumer-offset-manager.js';
import type { BrokerHooks } from '../service/broker-hooks.js';
import { offsetResetsOf } from '../service/offset-reset-service.js';
import type { RetryService } from '../service/retry-service.js';
import type { TopicConfigManager } from '../topic-config-manager.js';
import { isReadable } from '../topic-config.js';
import { DeadlineHeap } from './invisible-heap.js';
import { decodeReceiptHandle, encodeReceiptHandle } from './receipt-handle.js';

/** The wire fields of a pop plus the subscription compiled here, where the messages are filtered. */
export interface PopRequest extends PopRequestBase {
  sub: SubscriptionData;
}

export type { AckResult, PoppedMessage } from '../../remoting/protocol/pop.js';

export interface Inflight {
  offset: number;
  nonce: number;
  invisibleUntil: number;
  firstPopTime: number;
  commitLogOffset: number;
  attempts: number;
  autoRenew: boolean;
  clientId: string;
  maxAttempts: number;
}

export class QueueState {
  cursor = -1;
  /** Set while one pop reads this queue; settles when it is done. */
  busy: Promise<void> | undefined;
  readonly inflight = new Map<number, Inflight>();
  /**
   * True while inflight's keys were inserted in increasing order, so its first key is the lowest
   * (always so today: the cursor only moves forward, and a FIFO rewind first drops every offset
   * from the rewound one on). Checked, not assumed: the committed offset depends on it.
   */
  ordered = true;
  private lastInserted = -1;
  /** FIFO only: deliveries so far of offsets that were rewound. */
  readonly fifoAttempts = new Map<number, number>();
  constructor(
    readonly key: string,
    readonly group: string,
    readonly topic: string,
    readonly queueId: number,
    readonly fifo: boolean,
  ) {}

  addInflight(f: Inflight): void {
    if (this.inflight.size === 0) this.ordered = true;
    else if (f.offset <= this.lastInserted) this.ordered = false;
    this.lastInserted = f.offset;
    this.inflight.set(f.offset, f);
  }

  /** The lowest offset in flight, or undefined when none is. */
  lowestInflight(): number | undefined {
    if (this.ordered) return this.inflight.keys().next().value;
    let low: number | undefined;
    for (const off of this.inflight.keys()) if (low === undefined || off < low) low = off;
    return low;
  }
}

/** Server-side renewal of auto-renewed messages (Java proxy: up to 3 h while the client lives). */
const AUTO_RENEW_STEP_MS = 60_000;
const AUTO_RENEW_MAX_MS = 3 * 3600_000;
const REVIVE_INTERVAL_MS = 100;

export interface PopServiceDeps {
  store: MessageStore;
  offsets: ConsumerOffsetManager;
  topics: TopicConfigManager;
  retries: RetryService;
  hooks: BrokerHooks;
  storeHost(): HostPort;
  /** False while this broker must not write (deposed, or losing its master lease): revival waits. */
  mayWrite?(): boolean;
}

export class PopService {
  private readonly states = new Map<string, QueueState>();
  private readonly heap = new DeadlineHeap<{ state: QueueState; offset: number; nonce: number }>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private timer: NodeJS.Timeout | undefined;
  private nonceSeq = 1;
  private reviving = false;
  /** Set by the gRPC proxy: whether a client is still connected (for auto-renew). */
  clientAlive: (clientId: string) => boolean = () => false;

  constructor(
    private readonly d: PopServiceDeps,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  static retryTopicOf(group: string, topic: string): string {
    return `%RETRY%${group}_${topic}`;
  }

  start(): void {
    this.timer = setInterval(() => void this.revive(), REVIVE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const set of this.waiters.values()) for (const w of set) w();
    this.waiters.clear();
  }

  /** Called for every dispatched message: wakes receives waiting on that topic. */
  onDispatch(topic: string): void {
    const set = this.waiters.get(topic);
    if (!set) return;
    this.waiters.delete(topic);
    for (const w of set) w();
  }

  async pop(req: PopRequest, signal?: AbortSignal): Promise<PoppedMessage[]> {
    const deadline = this.now() + req.pollTimeMs;
    for (;;) {
      const busy: Promise<void>[] = [];
      const out = await this.popOnce(req, busy);
      if (out.length > 0 || this.now() >= deadline || signal?.aborted) return out;
      // Queues another pop was reading may hold messages already: wait for one of those to be
      // free and look again, rather than for an arrival that may not come.
      if (busy.length > 0) await Promise.race(busy);
      else await this.waitForArrival([req.topic, PopService.retryTopicOf(req.group, req.topic)], deadline - this.now(), signal);
    }
  }

  private waitForArrival(topics: string[], ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(t);
        for (const topic of topics) this.waiters.get(topic)?.delete(finish);
        signal?.removeEventListener('abort', finish);
        resolve();
      };
      const t = setTimeout(finish, Math.max(0, ms));
      signal?.addEventListener('abort', finish);
      for (const topic of topics) {
        let set = this.waiters.get(topic);
        if (!set) this.waiters.set(topic, (set = new Set()));
        set.add(finish);
      }
    });
  }

  /** One pass over the queues; queues skipped because another pop is reading them go into busy. */
  private async popOnce(req: PopRequest, busy: Promise<void>[]): Promise<PoppedMessage[]> {
    const topics = this.d.topics;
    const tc = topics.selectTopicConfig(req.topic);
    if (!tc || !isReadable(tc.perm)) return [];
    const out: PoppedMessage[] = [];
    const retryTopic = PopService.retryTopicOf(req.group, req.topic);
    const queues: [string, number][] = [];
    const start = Math.floor(Math.random() * tc.readQueueNums);
    for (let i = 0; i < tc.readQueueNums; i++) queues.push([req.topic, (start + i) % tc.readQueueNums]);
    if (!req.fifo && topics.selectTopicConfig(retryTopic)) {
      // Like RocketMQ: look at the retry topic first now and then, so retries are not starved.
      if (Math.random() < 0.2) queues.unshift([retryTopic, 0]);
      else queues.push([retryTopic, 0]);
    }
    for (const [topic, qid] of queues) {
      if (out.length >= req.maxNums) break;
      const s = this.stateOf(req.group, topic, qid, req.fifo);
      if (s.busy) busy.push(s.busy);
      else await this.popQueue(s, req, out);
    }
    return out;
  }

  private stateOf(group: string, topic: string, queueId: number, fifo: boolean): QueueState {
    const key = `${group}\u0001${topic}\u0001${queueId}`;
    let s = this.states.get(key);
    if (!s) {
      s = new QueueState(key, group, topic, queueId, fifo);
      this.states.set(key, s);
    }
    return s;
  }

  /** A new group starts where a 4.x consumer would: 0 while the queue's first message is kept, else the end. */
  private initCursor(s: QueueState): void {
    if (s.cursor >= 0) return;
    const store = this.d.store;
    const committed = this.d.offsets.queryOffset(s.group, s.topic, s.queueId);
    if (committed >= 0) s.cursor = committed;
    else s.cursor = store.getMinOffsetInQueue(s.topic, s.queueId) <= 0 ? 0 : store.getMaxOffsetInQueue(s.topic, s.queueId);
  }

  private async popQueue(s: QueueState, req: PopRequest, out: PoppedMessage[]): Promise<void> {
    if (s.busy || (s.fifo && s.inflight.size > 0)) return;
    let release!: () => void;
    s.busy = new Promise<void>((r) => (release = r));
    try {
      this.initCursor(s);
      // An operator reset the group's offset (resetOffsetByTime): start over from there.
      const reset = offsetResetsOf(this.d.store).takePop(s.group, s.topic, s.queueId);
      if (reset !== undefined) {
        s.cursor = reset;
        s.inflight.clear();
        s.fifoAttempts.clear();
      }
      const want = req.maxNums - out.length;
      const filter = req.sub.subAll || req.sub.sql ? undefined : (code: number) => isMatchedByTagsCode(req.sub, code);
      const r = await this.d.store.getMessage(s.topic, s.queueId, s.cursor, want, undefined, filter);
      if (r.status !== GetMessageStatus.FOUND) {
        if (r.nextBeginOffset > s.cursor || r.status === GetMessageStatus.OFFSET_TOO_SMALL || r.status === GetMessageStatus.OFFSET_OVERFLOW_BADLY) {
          s.cursor = r.nextBeginOffset;
          this.commit(s);
        }
        return;
      }
      const now = this.now();
      const invisible = req.autoRenew ? AUTO_RENEW_STEP_MS : req.invisibleTimeMs;
      for (let i = 0; i < r.buffers.length; i++) {
        const m = decodeMessage(r.buffers[i], 0, { checkCrc: false });
        const offset = r.queueOffsets[i];
        if (req.sub.sql && !req.sub.sql.matches((n) => getPropertyFromString(m.properties, n))) continue;
        const attempts = s.fifo ? (s.fifoAttempts.get(offset) ?? 0) + 1 : m.reconsumeTimes + 1;
        const f: Inflight = {
          offset,
          nonce: this.nonceSeq++,
          invisibleUntil: now + invisible,
          firstPopTime: now,
          commitLogOffset: m.commitLogOffset,
          attempts,
          autoRenew: req.autoRenew,
          clientId: req.clientId,
          maxAttempts: req.maxDeliveryAttempts,
        };
        s.addInflight(f);
        this.heap.push(f.invisibleUntil, { state: s, offset, nonce: f.nonce });
        out.push({
          record: m,
          receiptHandle: this.handleOf(s, f),
          deliveryAttempt: attempts,
          topic: s.topic === req.topic ? req.topic : (getPropertyFromString(m.properties, MessageConst.PROPERTY_RETRY_TOPIC) ?? req.topic),
          queueId: s.queueId,
          queueOffset: offset,
          invisibleUntil: f.invisibleUntil,
        });
      }
      s.cursor = r.nextBeginOffset;
      this.commit(s);
    } finally {
      s.busy = undefined;
      release();
    }
  }

  private handleOf(s: QueueState, f: Inflight): string {
    return encodeReceiptHandle({ topic: s.topic, queueId: s.queueId, queueOffset: f.offset, nonce: f.nonce, invisibleUntil: f.invisibleUntil });
  }

  /** The committed offset: the first unacked message, or the cursor when none is in flight. */
  private commit(s: QueueState): void {
    const low = s.lowestInflight();
    const committed = low !== undefined && low < s.cursor ? low : s.cursor;
    if (committed >= 0) this.d.offsets.commitOffset(s.group, s.topic, s.queueId, committed);
  }

  private find(group: string, handle: string): { s: QueueState; f: Inflight } | AckResult {
    const h = decodeReceiptHandle(handle);
    if (!h) return 'INVALID';
    const s = this.states.get(`${group}\u0001${h.topic}\u0001${h.queueId}`);
    const f = s?.inflight.get(h.queueOffset);
    if (s && f && f.nonce === h.nonce) return { s, f };
    return h.invisibleUntil <= this.now() ? 'EXPIRED' : 'INVALID';
  }

  ack(group: string, handle: string): AckResult {
    const found = this.find(group, handle);
    if (typeof found === 'string') return found;
    found.s.inflight.delete(found.f.offset);
    found.s.fifoAttempts.delete(found.f.offset);
    this.commit(found.s);
    const hooks = this.d.hooks;
    if (hooks.acked.length > 0) {
      hooks.emit('acked', hooks.acked, { kind: 'ack', group, topic: found.s.topic, queueId: found.s.queueId, queueOffset: found.f.offset });
    }
    // Fix (gRPC FIFO push suite): the last ack unblocks a FIFO queue; receives parked on it would
    // otherwise sleep out their whole long poll (20 s) before seeing the queue's next messages.
    if (found.s.fifo && found.s.inflight.size === 0) this.onDispatch(found.s.topic);
    return 'OK';
  }

  /** Re-arms a message's invisibility (0 = visible again now); returns the new handle. */
  changeInvisibleTime(group: string, handle: string, ms: number): { handle: string; invisibleUntil: number } | AckResult {
    const found = this.find(group, handle);
    if (typeof found === 'string') return found;
    const f = found.f;
    f.nonce = this.nonceSeq++;
    f.invisibleUntil = this.now() + Math.max(0, ms);
    f.autoRenew = false;
    this.heap.push(f.invisibleUntil, { state: found.s, offset: f.offset, nonce: f.nonce });
    if (ms <= 0) void this.revive();
    return { handle: this.handleOf(found.s, f), invisibleUntil: f.invisibleUntil };
  }

  /** Client-decided dead-lettering (5.x FIFO push consumers): to %DLQ%<group>, then acked. */
  async forwardToDeadLetter(group: string, handle: string): Promise<AckResult> {
    const found = this.find(group, handle);
    if (typeof found === 'string') return found;
    await this.d.retries.sendBack(group, found.f.commitLogOffset, -1);
    return this.ack(group, handle);
  }

  /** Revives what passed its invisible time (or renews auto-renewed messages of live clients). */
  async revive(): Promise<void> {
    if (this.reviving) return;
    this.reviving = true;
    try {
      const now = this.now();
      // A pass already running when the master is deposed must not write into what is now a copy of another master's log.
      for (let d = this.heap.popDue(now); d && (this.d.mayWrite?.() ?? true); d = this.heap.popDue(now)) {
        const { state: s, offset, nonce } = d.ref;
        const f = s.inflight.get(offset);
        if (!f || f.nonce !== nonce || f.invisibleUntil !== d.at) continue;
        if (f.autoRenew && now - f.firstPopTime < AUTO_RENEW_MAX_MS && this.clientAlive(f.clientId)) {
          f.invisibleUntil = now + AUTO_RENEW_STEP_MS;
          this.heap.push(f.invisibleUntil, { state: s, offset, nonce });
          continue;
        }
        try {
          await this.reviveOne(s, f);
        } catch (err) {
          this.logger.error({ err, topic: s.topic, offset }, 'revive of a popped message failed; retrying soon');
          f.invisibleUntil = now + 1000;
          this.heap.push(f.invisibleUntil, { state: s, offset, nonce });
        }
      }
    } finally {
      this.reviving = false;
    }
  }

  private async reviveOne(s: QueueState, f: Inflight): Promise<void> {
    if (f.attempts >= f.maxAttempts) {
      await this.d.retries.sendBack(s.group, f.commitLogOffset, -1);
      s.inflight.delete(f.offset);
      s.fifoAttempts.delete(f.offset);
      this.commit(s);
      return;
    }
    if (s.fifo) {
      // Order first: the queue goes back to the oldest revived message and delivers it again.
      for (const off of [...s.inflight.keys()]) if (off >= f.offset) s.inflight.delete(off);
      s.fifoAttempts.set(f.offset, f.attempts);
      s.cursor = Math.min(s.cursor, f.offset);
      this.commit(s);
      this.onDispatch(s.topic);
      return;
    }
    await this.putRetry(s, f);
    s.inflight.delete(f.offset);
    this.commit(s);
  }

  private async putRetry(s: QueueState, f: Inflight): Promise<void> {
    const d = this.d;
    const rec = await d.store.lookMessageByOffset(f.commitLogOffset);
    if (!rec) return;
    const m = decodeMessage(rec, 0, { checkCrc: false });
    const originTopic = s.topic.startsWith('%RETRY%') ? (getPropertyFromString(m.properties, MessageConst.PROPERTY_RETRY_TOPIC) ?? s.topic) : s.topic;
    const retryTopic = PopService.retryTopicOf(s.group, originTopic);
    d.topics.createTopicIfAbsent(retryTopic, 1);
    let props = setPropertyInString(m.properties, MessageConst.PROPERTY_RETRY_TOPIC, originTopic);
    if (getPropertyFromString(props, MessageConst.PROPERTY_ORIGIN_MESSAGE_ID) === undefined) {
      props = setPropertyInString(props, MessageConst.PROPERTY_ORIGIN_MESSAGE_ID, createMessageId(m.storeHost, m.commitLogOffset));
    }
    if (getPropertyFromString(props, MessageConst.PROPERTY_FIRST_POP_TIME) === undefined) {
      props = setPropertyInString(props, MessageConst.PROPERTY_FIRST_POP_TIME, String(f.firstPopTime));
    }
    const r = await d.store.putMessage({
      topic: retryTopic,
      queueId: 0,
      flag: m.flag,
      body: m.body,
      properties: props,
      sysFlag: m.sysFlag,
      bornTimestamp: m.bornTimestamp,
      bornHost: m.bornHost,
      storeHost: d.storeHost(),
      reconsumeTimes: m.reconsumeTimes + 1,
      preparedTransactionOffset: m.preparedTransactionOffset,
    });
    if (r.status !== PutMessageStatus.PUT_OK && r.status !== PutMessageStatus.FLUSH_DISK_TIMEOUT) {
      throw new Error(`pop retry put failed: ${String(r.status)} ${r.remark ?? ''}`);
    }
    if (d.hooks.retried.length > 0) {
      d.hooks.emit('retried', d.hooks.retried, {
        group: s.group,
        originTopic,
        retryTopic,
        reconsumeTimes: m.reconsumeTimes + 1,
        delayLevel: 0,
        commitLogOffset: f.commitLogOffset,
        msgId: getPropertyFromString(props, MessageConst.PROPERTY_ORIGIN_MESSAGE_ID) ?? '',
      });
    }
  }

  /** Messages in flight for a group, or for a group on one topic (admin, metrics and tests). */
  inflightCount(group?: string, topic?: string): number {
    let n = 0;
    for (const s of this.states.values()) if ((!group || s.group === group) && (!topic || s.topic === topic)) n += s.inflight.size;
    return n;
  }
}
