// Lite topics (issue 18): lightweight ordered channels inside a LITE parent topic. Messages live in
// the parent's queues (the lite topic hashed to one queue, TAGS = its name); this service keeps the
// compact table of lite topics, the consumer groups' subscriptions and progress, and delivers each
// lite topic to one consumer of a group at a time, in order: the next batch of a lite topic goes
// out only once the previous one is acknowledged. See docs/LITE.md.
import { join } from 'node:path';
import { decodeMessage, type MessageRecord } from '../../common/message-codec.js';
import { getPropertyFromString } from '../../common/message-properties.js';
import { MessageConst } from '../../common/message-const.js';
import { removePropertyFromString, setPropertyInString } from '../../common/property-edit.js';
import type { Logger } from '../../common/logger.js';
import type { TopicConfig } from '../../remoting/protocol/index.js';
import { GetMessageStatus, type MessageStore } from '../../store/index.js';
import {
  isLiteParent,
  LITE_HANDLE_PREFIX,
  LiteError,
  liteLimitsOf,
  liteStoredProperties,
  liteTagsCode,
  PROPERTY_LITE_TAG,
  PROPERTY_LITE_TOPIC,
  validateLiteTopicName,
  type LiteLimits,
} from './lite-names.js';
import { liteKey, LiteTable, type LiteProgress, type LiteTopic } from './lite-table.js';
import { LiteJournal } from './lite-journal.js';
import { RecordReader } from './lite-reader.js';

/** What the service needs from its broker (a structural view, so src/broker/lite imports no controller). */
export interface LiteHost {
  readonly store: Pick<MessageStore, 'getMessage' | 'getMaxOffsetInQueue' | 'getMinOffsetInQueue' | 'getOffsetInQueueByTime' | 'readRawCommitLog' | 'getConfirmedOffset'>;
  readonly topicConfigManager: { selectTopicConfig(topic: string): TopicConfig | undefined; readonly topics: IterableIterator<TopicConfig> };
  readonly config: LiteBrokerConfig;
  readonly logger: Logger;
  readonly services: { readonly retries: { sendBack(group: string, commitLogOffset: number, delayLevel: number): Promise<unknown> } };
}

/** The broker.conf keys of lite topics (src/config/broker-defaults.ts); absent ones take DEFAULT_LITE_LIMITS. */
export interface LiteBrokerConfig {
  readonly storePathRootDir: string;
  /** Default of a parent's +maxLiteTopicNum. */
  readonly maxLiteTopicNum?: number;
  /** Default of a parent's +liteTopicExpiration, in seconds. */
  readonly liteTopicExpiration?: number;
  /** Default of a parent's +liteSubscriptionQuota (RocketMQ's name for the per-group quota). */
  readonly maxLiteSubscriptionCount?: number;
  /** ms between expiry sweeps. */
  readonly liteTtlCheckInterval?: number;
  /** ms between appends of the lite state's changes to its log (config/liteState.log). */
  readonly liteStateFlushInterval?: number;
}

export const LiteAction = { PARTIAL_ADD: 0, PARTIAL_REMOVE: 1, COMPLETE_ADD: 2, COMPLETE_REMOVE: 3 } as const;

/** SyncLiteSubscription's offset option: policy 0 = last committed, 1 = first, 2 = newest only. */
export type LiteOffsetOption = { policy: 0 | 1 | 2 } | { offset: number } | { tailN: number } | { timestamp: number };

export interface LiteDelivery {
  record: MessageRecord;
  liteTopic: string;
  queueId: number;
  queueOffset: number;
  receiptHandle: string;
  deliveryAttempt: number;
  invisibleUntil: number;
}

export interface LiteReceiveRequest {
  clientId: string;
  group: string;
  parent: string;
  maxNums: number;
  invisibleMs: number;
  autoRenew: boolean;
  pollMs: number;
  maxAttempts: number;
}

export type LiteAckResult = 'OK' | 'INVALID' | 'EXPIRED';
export type UnsubscribeListener = (clientId: string, group: string, parent: string, liteTopic: string) => void;

interface Item {
  q: number;
  nonce: number;
  until: number;
  renew: boolean;
  acked: boolean;
  commitLogOffset: number;
}

interface Inflight {
  clientId: string;
  items: Item[];
  firstPop: number;
  maxAttempts: number;
  attempt: number;
  reviving?: boolean;
}

interface GroupState {
  readonly group: string;
  readonly parent: string;
  /** lite topic → clients of the group subscribed to it. */
  readonly subs: Map<string, Set<string>>;
  /** Subscribed lite topics with messages past the group's progress and nothing in flight. */
  readonly ready: Set<string>;
  readonly inflight: Map<string, Inflight>;
  /** Delivery attempts of a lite topic's head message, kept across redeliveries. */
  readonly attempts: Map<string, { q: number; n: number }>;
  /**
   * Claimed lite topics whose messages could not be read (not yet confirmed by the replicas, a
   * failed read): ready again at the next sweep, not only when their next message is stored (a
   * lite topic that gets no more messages kept its last ones undelivered).
   */
  readonly retry: Set<string>;
  waiters: (() => void)[];
}

interface ClientState {
  readonly group: string;
  readonly parent: string;
  readonly topics: Set<string>;
}

const FLUSH_MS = 1000;
/**
 * Stores and indexed-through marks go to the state log with every 10th append only (progress with
 * every one): at 10,000 lite topics sent to each second, a line per lite topic per append cost
 * about a microsecond per send. A crash then re-indexes up to 10 appends' worth of the parent
 * queues at start (catchUp); nothing is lost, and a clean stop writes everything.
 */
const TOPIC_LINES_EVERY = 10;
const SWEEP_MS = 1000;
const AUTO_RENEW_MS = 60_000;
const AUTO_RENEW_MAX_MS = 3 * 3600_000;
const MAX_PER_TOPIC = 16;
const SCAN_ROUNDS = 8;

interface Claim {
  readonly name: string;
  readonly t: LiteTopic;
  readonly inf: Inflight;
  readonly want: number;
  /** The lite topic's next messages from the recent ring, or undefined: scan its queue. */
  readonly recent: { q: number[]; phy: number[] } | undefined;
  got: { m: MessageRecord; q: number }[];
}
let nonceSeq = 1;

export class LiteService {
  readonly table = new LiteTable();
  private readonly groups = new Map<string, GroupState>();
  private readonly clients = new Map<string, ClientState>();
  /**
   * parent → lite topic → the group states subscribed to it. Nested rather than keyed by liteKey
   * so that every send looks it up with the strings it has, building none.
   */
  private readonly subscribers = new Map<string, Map<string, Set<GroupState>>>();
  /**
   * The same sets by the lite topic's table slot (undefined: nobody subscribed), so a send finds its
   * subscribers by index. Set when a lite topic is created or subscribed, cleared when either ends.
   */
  private subsBySlot: (Set<GroupState> | undefined)[] = [];
  private readonly unsubscribeListeners: UnsubscribeListener[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly journal: LiteJournal;
  private saving: Promise<void> = Promise.resolve();
  private appends = 0;
  private flushing = false;
  private readonly defaults: LiteLimits;
  private readonly reader: RecordReader;
  clientAlive: (clientId: string) => boolean = () => false;
  now: () => number = Date.now;

  constructor(
    private readonly host: LiteHost,
  ) {
    this.journal = new LiteJournal(join(host.config.storePathRootDir, 'config'), this.table);
    this.reader = new RecordReader(host.store);
    const c = host.config;
    const base = liteLimitsOf(undefined);
    this.defaults = {
      maxLiteTopicNum: c.maxLiteTopicNum ?? base.maxLiteTopicNum,
      liteTopicExpirationMs: c.liteTopicExpiration !== undefined ? c.liteTopicExpiration * 1000 : base.liteTopicExpirationMs,
      liteSubscriptionQuota: c.maxLiteSubscriptionCount ?? base.liteSubscriptionQuota,
    };
  }

  /** Loads the saved table, indexes what was stored after it, then starts the sweeps. */
  async start(): Promise<void> {
    const t0 = this.now();
    const r = await this.journal.load();
    if (r.bad > 0) this.host.logger.warn({ path: this.journal.logPath, bad: r.bad }, 'lite state: skipped unreadable lines (a torn last append)');
    if (r.staleLog) this.host.logger.info({ path: this.journal.logPath }, 'lite state: the log predates the snapshot and is ignored');
    const loaded = this.now();
    const indexed = await this.catchUp();
    await this.journal.open();
    if (this.table.total > 0 || indexed > 0) {
      this.host.logger.info({ liteTopics: this.table.total, loadMs: loaded - t0, catchUpMs: this.now() - loaded, indexedMessages: indexed }, 'lite state loaded');
    }
    this.every(this.host.config.liteTtlCheckInterval ?? SWEEP_MS, () => this.sweep());
    this.every(this.host.config.liteStateFlushInterval ?? FLUSH_MS, () => this.persist(++this.appends % TOPIC_LINES_EVERY === 0));
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    for (const g of this.groups.values()) this.wake(g);
    await this.persist(true);
    await this.saving;
    await this.journal.close();
  }

  /** Sizes of the state files, for benchmarks. */
  stateSizes(): { snapshotBytes: number; logBytes: number; generation: number } {
    return this.journal.sizes();
  }

  onUnsubscribe(l: UnsubscribeListener): void {
    this.unsubscribeListeners.push(l);
  }

  limitsOf(parent: string): LiteLimits {
    return liteLimitsOf(this.host.topicConfigManager.selectTopicConfig(parent), this.defaults);
  }

  requireParent(parent: string): void {
    const tc = this.host.topicConfigManager.selectTopicConfig(parent);
    if (!tc) throw new LiteError('NOT_LITE_TOPIC', `topic ${parent} not found; create it with +message.type=LITE`);
    if (!isLiteParent(tc)) throw new LiteError('NOT_LITE_TOPIC', `topic ${parent} is not a LITE topic (updateTopic -a +message.type=LITE)`);
  }

  /**
   * Refuses a send to a topic that is not a LITE parent, with an illegal lite topic name, or that
   * would create one lite topic too many (before it is stored). A lite topic the table holds passed
   * all of it when it was created, so a send to it costs one lookup. Returns the lite topic's slot
   * (-1: a new one), stored()'s hint.
   */
  checkSend(parent: string, name: string): number {
    const slot = this.table.slotOf(parent, name);
    if (slot >= 0) return slot;
    this.requireParent(parent);
    const why = validateLiteTopicName(name);
    if (why) throw new LiteError('ILLEGAL_LITE_TOPIC', why);
    const max = this.limitsOf(parent).maxLiteTopicNum;
    if (this.table.countOf(parent) >= max) {
      throw new LiteError('LITE_TOPIC_QUOTA_EXCEEDED', `topic ${parent} holds ${max} lite topics already (maxLiteTopicNum); ${name} was not created`);
    }
    return -1;
  }

  /**
   * A lite message was stored at (queueId, queueOffset) of parent, its record at commit-log offset
   * phy. hint: checkSend's answer (a slot to verify, or -1).
   */
  stored(parent: string, name: string, queueId: number, queueOffset: number, storeTime: number, phy?: number, hint = -1): void {
    const created = this.table.recordStored(parent, name, queueId, queueOffset, storeTime, phy, hint);
    const slot = this.table.lastSlot;
    // A new lite topic (or a slot reused by one) takes the subscriptions made before it existed.
    if (created) this.setSlotSubs(slot, this.subscribers.get(parent)?.get(name));
    const subs = this.subsBySlot[slot];
    if (!subs) return;
    for (const g of subs) {
      if (g.inflight.has(name)) continue;
      g.ready.add(name);
      this.wake(g);
    }
  }

  private setSlotSubs(slot: number, subs: Set<GroupState> | undefined): void {
    // Filled up to the slot first: a write far past the end (a subscription to a lite topic loaded
    // at start) would turn the array into a slow dictionary for every later send.
    while (this.subsBySlot.length < slot) this.subsBySlot.push(undefined);
    this.subsBySlot[slot] = subs;
  }

  /** A lite message's properties as stored: the producer's tag moved to __LITE_TAG, TAGS = the lite topic. */
  storedProperties(props: string, name: string): string {
    return liteStoredProperties(props, name);
  }

  /** Undoes storedProperties, for delivery: the producer's own tag and properties only. */
  deliveredProperties(props: string): string {
    const tag = getPropertyFromString(props, PROPERTY_LITE_TAG);
    let p = removePropertyFromString(removePropertyFromString(props, PROPERTY_LITE_TOPIC), PROPERTY_LITE_TAG);
    p = removePropertyFromString(p, MessageConst.PROPERTY_TAGS);
    return tag !== undefined ? setPropertyInString(p, MessageConst.PROPERTY_TAGS, tag) : p;
  }

  // ---- subscriptions ----

  sync(clientId: string, group: string, parent: string, action: number, names: readonly string[], option?: LiteOffsetOption): void {
    this.requireParent(parent);
    for (const n of names) {
      const why = validateLiteTopicName(n);
      if (why) throw new LiteError('ILLEGAL_LITE_TOPIC', why);
    }
    let c = this.clients.get(clientId);
    if (c && (c.group !== group || c.parent !== parent)) {
      this.dropClient(clientId);
      c = undefined;
    }
    if (!c) this.clients.set(clientId, (c = { group, parent, topics: new Set() }));
    const g = this.groupState(group, parent);
    switch (action) {
      case LiteAction.PARTIAL_ADD:
        this.checkQuota(g, names.filter((n) => !g.subs.has(n)).length);
        for (const n of names) this.subscribe(g, c, clientId, n, option);
        return;
      case LiteAction.PARTIAL_REMOVE:
        for (const n of names) this.unsubscribe(g, c, clientId, n);
        return;
      case LiteAction.COMPLETE_ADD: {
        const want = new Set(names);
        const gone = [...c.topics].filter((n) => !want.has(n));
        const added = names.filter((n) => !g.subs.has(n)).length;
        this.checkQuota(g, added - gone.filter((n) => g.subs.get(n)?.size === 1).length);
        for (const n of gone) this.unsubscribe(g, c, clientId, n);
        for (const n of want) this.subscribe(g, c, clientId, n, option);
        return;
      }
      case LiteAction.COMPLETE_REMOVE:
        for (const n of [...c.topics]) this.unsubscribe(g, c, clientId, n);
        return;
      default:
        throw new LiteError('BAD_REQUEST', `unknown lite subscription action ${action}`);
    }
  }

  /** Forgets a client's subscriptions (it terminated); its in-flight messages come back at their deadline. */
  dropClient(clientId: string): void {
    const c = this.clients.get(clientId);
    if (!c) return;
    const g = this.groups.get(`${c.group}\u0001${c.parent}`);
    if (g) for (const n of [...c.topics]) this.unsubscribe(g, c, clientId, n);
    this.clients.delete(clientId);
  }

  subscriptionsOf(clientId: string): ReadonlySet<string> {
    return this.clients.get(clientId)?.topics ?? new Set();
  }

  /** Distinct lite topics subscribed per (group, parent), for metrics and the admin list. */
  subscriptionCounts(): { group: string; parent: string; count: number }[] {
    return [...this.groups.values()].map((g) => ({ group: g.group, parent: g.parent, count: g.subs.size }));
  }

  private checkQuota(g: GroupState, adding: number): void {
    const quota = this.limitsOf(g.parent).liteSubscriptionQuota;
    if (adding > 0 && g.subs.size + adding > quota) {
      throw new LiteError(
        'LITE_SUBSCRIPTION_QUOTA_EXCEEDED',
        `group ${g.group} would subscribe to ${g.subs.size + adding} lite topics of ${g.parent}, over its quota of ${quota} (liteSubscriptionQuota)`,
      );
    }
  }

  private subscribe(g: GroupState, c: ClientState, clientId: string, name: string, option: LiteOffsetOption | undefined): void {
    c.topics.add(name);
    let clients = g.subs.get(name);
    const first = !clients;
    if (!clients) g.subs.set(name, (clients = new Set()));
    clients.add(clientId);
    let byName = this.subscribers.get(g.parent);
    if (!byName) this.subscribers.set(g.parent, (byName = new Map()));
    let subs = byName.get(name);
    if (!subs) {
      byName.set(name, (subs = new Set()));
      const slot = this.table.slotOf(g.parent, name);
      if (slot >= 0) this.setSlotSubs(slot, subs);
    }
    subs.add(g);
    if (option && !('policy' in option && option.policy === 0)) this.applyOffset(g, name, option);
    if (first || option) this.refreshReady(g, name);
  }

  private unsubscribe(g: GroupState, c: ClientState, clientId: string, name: string): void {
    c.topics.delete(name);
    const clients = g.subs.get(name);
    if (!clients) return;
    clients.delete(clientId);
    if (clients.size > 0) return;
    g.subs.delete(name);
    g.ready.delete(name);
    g.inflight.delete(name);
    const byName = this.subscribers.get(g.parent);
    const subs = byName?.get(name);
    subs?.delete(g);
    if (subs?.size === 0) {
      byName!.delete(name);
      const slot = this.table.slotOf(g.parent, name);
      if (slot >= 0) this.setSlotSubs(slot, undefined);
    }
    if (byName?.size === 0) this.subscribers.delete(g.parent);
  }

  /** Sets a group's progress in a lite topic from an offset option (offsets count the lite topic's own messages). */
  private applyOffset(g: GroupState, name: string, option: LiteOffsetOption): void {
    const t = this.table.get(g.parent, name);
    if (!t) return; // created later: the group reads it from its first message
    const key = liteKey(g.parent, name);
    g.inflight.delete(name);
    if ('policy' in option) {
      this.table.setProgress(g.group, key, option.policy === 2 ? { nextQ: t.lastOffset + 1, nextIdx: t.count } : { nextQ: t.firstOffset, nextIdx: 0 });
    } else if ('tailN' in option) {
      this.pendingSeek.push({ g, name, index: Math.max(0, t.count - option.tailN) });
    } else if ('offset' in option) {
      this.pendingSeek.push({ g, name, index: Math.min(Math.max(0, option.offset), t.count) });
    } else {
      this.pendingSeek.push({ g, name, time: option.timestamp });
    }
  }

  /** Seeks by index or time need store reads; sync() queues them and the caller awaits settle(). */
  private pendingSeek: { g: GroupState; name: string; index?: number; time?: number }[] = [];

  async settle(): Promise<void> {
    const todo = this.pendingSeek.splice(0);
    for (const s of todo) {
      const t = this.table.get(s.g.parent, s.name);
      if (!t) continue;
      const p = await this.seek(t, s.index, s.time);
      this.table.setProgress(s.g.group, liteKey(t.parent, t.name), p);
      this.refreshReady(s.g, s.name);
    }
  }

  /** Walks the lite topic's messages from its first to the index-th one (or the first stored at or after time). */
  private async seek(t: LiteTopic, index: number | undefined, time: number | undefined): Promise<LiteProgress> {
    let p: LiteProgress = { nextQ: t.firstOffset, nextIdx: 0 };
    if (index === 0) return p;
    const code = liteTagsCode(t.name);
    while (p.nextQ <= t.lastOffset) {
      const res = await this.host.store.getMessage(t.parent, t.queueId, p.nextQ, 256, undefined, (tc) => tc === code);
      if (res.status === GetMessageStatus.OFFSET_TOO_SMALL) {
        p = { nextQ: res.nextBeginOffset, nextIdx: p.nextIdx };
        continue;
      }
      let i = 0;
      for (; i < res.buffers.length; i++) {
        const m = decodeMessage(res.buffers[i], 0, { checkCrc: false });
        if (getPropertyFromString(m.properties, PROPERTY_LITE_TOPIC) !== t.name) continue;
        if (index !== undefined && p.nextIdx >= index) return p;
        if (time !== undefined && m.storeTimestamp >= time) return p;
        p = { nextQ: res.queueOffsets[i] + 1, nextIdx: p.nextIdx + 1 };
      }
      if (res.nextBeginOffset <= p.nextQ && res.buffers.length === 0) break;
      if (res.buffers.length === 0) p = { nextQ: res.nextBeginOffset, nextIdx: p.nextIdx };
    }
    return p;
  }

  private groupState(group: string, parent: string): GroupState {
    const k = `${group}\u0001${parent}`;
    let g = this.groups.get(k);
    if (!g) {
      g = { group, parent, subs: new Map(), ready: new Set(), inflight: new Map(), attempts: new Map(), retry: new Set(), waiters: [] };
      this.groups.set(k, g);
    }
    return g;
  }

  private pending(g: GroupState, name: string): boolean {
    const t = this.table.get(g.parent, name);
    if (!t) return false;
    const p = this.table.getProgress(g.group, liteKey(g.parent, name));
    return p === undefined || p.nextQ <= t.lastOffset;
  }

  private refreshReady(g: GroupState, name: string): void {
    if (g.subs.has(name) && !g.inflight.has(name) && this.pending(g, name)) {
      g.ready.add(name);
      this.wake(g);
    } else {
      g.ready.delete(name);
    }
  }

  private wake(g: GroupState): void {
    const w = g.waiters;
    if (w.length === 0) return;
    g.waiters = [];
    for (const f of w) f();
  }

  // ---- delivery ----

  /** Messages of lite topics this client subscribed to, each lite topic in order and to one consumer at a time. */
  async receive(req: LiteReceiveRequest, signal?: AbortSignal): Promise<LiteDelivery[]> {
    this.requireParent(req.parent);
    const deadline = this.now() + req.pollMs;
    for (;;) {
      const c = this.clients.get(req.clientId);
      const g = this.groups.get(`${req.group}\u0001${req.parent}`);
      if (c && g && c.group === req.group && c.parent === req.parent) {
        const out = await this.collect(g, req);
        if (out.length > 0) return out;
      }
      const left = deadline - this.now();
      if (left <= 0 || signal?.aborted) return [];
      await this.waitFor(g ?? this.groupState(req.group, req.parent), left, signal);
    }
  }

  private waitFor(g: GroupState, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done);
      g.waiters.push(done);
    });
  }

  /**
   * Claims ready lite topics until the batch is full, then reads their messages: those the recent
   * ring holds with one batched commit-log read for the whole receive, the others by scanning
   * their queue. Each claimed lite topic is in flight before any read, so a concurrent receive of
   * the group cannot take it too.
   */
  private async collect(g: GroupState, req: LiteReceiveRequest): Promise<LiteDelivery[]> {
    const mine = this.clients.get(req.clientId)!.topics;
    const claims: Claim[] = [];
    let budget = req.maxNums;
    // Deleting the visited entry while iterating a Set is safe; names of other clients stay.
    for (const name of g.ready) {
      if (budget <= 0) break;
      if (!mine.has(name)) continue;
      g.ready.delete(name);
      if (g.inflight.has(name)) continue;
      const t = this.table.get(g.parent, name);
      if (!t) continue;
      const p = this.table.getProgress(g.group, liteKey(g.parent, name));
      const from = Math.max(p?.nextQ ?? t.firstOffset, t.firstOffset);
      const want = Math.min(MAX_PER_TOPIC, budget);
      const recent = this.table.recent(t, from, want);
      if (recent && recent.q.length === 0) continue;
      const inf: Inflight = { clientId: req.clientId, items: [], firstPop: this.now(), maxAttempts: req.maxAttempts, attempt: 1 };
      g.inflight.set(name, inf);
      claims.push({ name, t, inf, want, recent, got: [] });
      budget -= recent ? recent.q.length : want;
    }
    if (claims.length === 0) return [];
    await this.readClaims(g, claims);
    const out: LiteDelivery[] = [];
    const now = this.now();
    const until = now + (req.autoRenew ? Math.max(req.invisibleMs, AUTO_RENEW_MS) : req.invisibleMs);
    for (const c of claims) {
      if (g.inflight.get(c.name) !== c.inf) continue; // unsubscribed or expired meanwhile
      const got = c.got.slice(0, Math.max(0, req.maxNums - out.length));
      if (got.length === 0) {
        g.inflight.delete(c.name);
        g.retry.add(c.name);
        continue;
      }
      const head = g.attempts.get(c.name);
      c.inf.attempt = head && head.q === got[0].q ? head.n + 1 : 1;
      g.attempts.set(c.name, { q: got[0].q, n: c.inf.attempt });
      for (const { m, q } of got) {
        const item: Item = { q, nonce: nonceSeq++, until, renew: req.autoRenew, acked: false, commitLogOffset: m.commitLogOffset };
        c.inf.items.push(item);
        out.push({ record: m, liteTopic: c.name, queueId: m.queueId, queueOffset: q, receiptHandle: handleOf(c.name, item), deliveryAttempt: c.inf.attempt, invisibleUntil: until });
      }
    }
    return out;
  }

  private async readClaims(g: GroupState, claims: Claim[]): Promise<void> {
    const phys: number[] = [];
    for (const c of claims) if (c.recent) phys.push(...c.recent.phy);
    let records: (Buffer | undefined)[] = [];
    try {
      records = phys.length > 0 ? await this.reader.read(phys) : [];
    } catch (err) {
      this.host.logger.warn({ err, group: g.group, parent: g.parent }, 'lite read failed');
    }
    let i = 0;
    for (const c of claims) {
      if (!c.recent) continue;
      let ok = true;
      for (let k = 0; k < c.recent.q.length; k++, i++) {
        const buf = records[i];
        if (!ok || !buf) {
          // Stop at the first gap (retention, or not yet confirmed by replicas): order matters more than batch size.
          ok = false;
          continue;
        }
        const m = decodeMessage(buf, 0, { checkCrc: false });
        if (m.queueOffset !== c.recent.q[k] || m.queueId !== c.t.queueId) {
          ok = false;
          continue;
        }
        c.got.push({ m, q: c.recent.q[k] });
      }
    }
    for (const c of claims) {
      if (c.recent) continue;
      try {
        c.got = await this.fetch(g, c.name, c.want);
      } catch (err) {
        this.host.logger.warn({ err, group: g.group, parent: g.parent, liteTopic: c.name }, 'lite read failed');
      }
    }
  }

  /** The next messages of a lite topic past the group's progress (at most want), scanning its parent queue by tag hash. */
  private async fetch(g: GroupState, name: string, want: number): Promise<{ m: MessageRecord; q: number }[]> {
    const t = this.table.get(g.parent, name);
    if (!t) return [];
    const key = liteKey(g.parent, name);
    const p = this.table.getProgress(g.group, key) ?? { nextQ: t.firstOffset, nextIdx: 0 };
    let from = Math.max(p.nextQ, t.firstOffset);
    const code = liteTagsCode(name);
    for (let round = 0; round < SCAN_ROUNDS && from <= t.lastOffset; round++) {
      const res = await this.host.store.getMessage(g.parent, t.queueId, from, want, undefined, (tc) => tc === code);
      if (res.status === GetMessageStatus.OFFSET_TOO_SMALL || res.buffers.length === 0) {
        if (res.nextBeginOffset <= from) return [];
        // Nothing of this lite topic before nextBeginOffset: remember, so the next look starts there.
        from = res.nextBeginOffset;
        this.table.setProgress(g.group, key, { nextQ: from, nextIdx: p.nextIdx });
        continue;
      }
      const got: { m: MessageRecord; q: number }[] = [];
      for (let i = 0; i < res.buffers.length; i++) {
        const q = res.queueOffsets[i];
        if (q > t.lastOffset) break;
        const m = decodeMessage(res.buffers[i], 0, { checkCrc: false });
        if (getPropertyFromString(m.properties, PROPERTY_LITE_TOPIC) === name) got.push({ m, q });
      }
      if (got.length > 0) return got;
      from = res.nextBeginOffset;
    }
    return [];
  }

  ack(group: string, parent: string, handle: string): LiteAckResult {
    const h = parseHandle(handle);
    if (!h) return 'INVALID';
    const g = this.groups.get(`${group}\u0001${parent}`);
    const inf = g?.inflight.get(h.name);
    const item = inf?.items.find((i) => i.q === h.q);
    if (!g || !inf || !item || item.nonce !== h.nonce || item.acked) return 'INVALID';
    item.acked = true;
    this.advance(g, h.name, inf);
    return 'OK';
  }

  /** Suspends one in-flight message for ms (0 = redeliver now); returns its new handle. */
  changeInvisible(group: string, parent: string, handle: string, ms: number): { handle: string; invisibleUntil: number } | LiteAckResult {
    const h = parseHandle(handle);
    if (!h) return 'INVALID';
    const g = this.groups.get(`${group}\u0001${parent}`);
    const item = g?.inflight.get(h.name)?.items.find((i) => i.q === h.q);
    if (!item || item.nonce !== h.nonce || item.acked) return 'INVALID';
    item.nonce = nonceSeq++;
    item.until = this.now() + ms;
    item.renew = false;
    return { handle: handleOf(h.name, item), invisibleUntil: item.until };
  }

  /** Client-decided dead-lettering: the message goes to %DLQ%<group> and counts as consumed. */
  async forwardToDeadLetter(group: string, parent: string, handle: string): Promise<LiteAckResult> {
    const h = parseHandle(handle);
    if (!h) return 'INVALID';
    const g = this.groups.get(`${group}\u0001${parent}`);
    const item = g?.inflight.get(h.name)?.items.find((i) => i.q === h.q);
    if (!item || item.nonce !== h.nonce || item.acked) return 'INVALID';
    await this.host.services.retries.sendBack(group, item.commitLogOffset, -1);
    return this.ack(group, parent, handle);
  }

  /** Moves the group's progress over the acknowledged head of the batch; the lite topic is free once all are. */
  private advance(g: GroupState, name: string, inf: Inflight): void {
    const key = liteKey(g.parent, name);
    let p = this.table.getProgress(g.group, key);
    if (!p) {
      const t = this.table.get(g.parent, name);
      p = { nextQ: t?.firstOffset ?? 0, nextIdx: 0 };
    }
    while (inf.items.length > 0 && inf.items[0].acked) {
      const it = inf.items.shift()!;
      p = { nextQ: it.q + 1, nextIdx: p.nextIdx + 1 };
      g.attempts.delete(name);
    }
    this.table.setProgress(g.group, key, p);
    if (inf.items.length === 0) {
      g.inflight.delete(name);
      this.refreshReady(g, name);
    }
  }

  // ---- sweeps ----

  private sweep(): void {
    const now = this.now();
    for (const g of this.groups.values()) {
      if (g.retry.size > 0) {
        const names = [...g.retry];
        g.retry.clear();
        for (const name of names) this.refreshReady(g, name);
      }
      for (const [name, inf] of g.inflight) {
        if (inf.items.length === 0 || inf.reviving) continue;
        if (!inf.items.some((i) => !i.acked && i.until <= now)) continue;
        for (const i of inf.items) {
          if (!i.acked && i.until <= now && i.renew && now - inf.firstPop < AUTO_RENEW_MAX_MS && this.clientAlive(inf.clientId)) i.until = now + AUTO_RENEW_MS;
        }
        if (!inf.items.some((i) => !i.acked && i.until <= now)) continue;
        void this.revive(g, name, inf);
      }
    }
    this.expire(now);
  }

  /** A batch whose deadline passed comes back from its first unacknowledged message (or that one goes to the DLQ). */
  private async revive(g: GroupState, name: string, inf: Inflight): Promise<void> {
    inf.reviving = true;
    const head = inf.items.find((i) => !i.acked);
    if (head && inf.attempt >= inf.maxAttempts) {
      try {
        await this.host.services.retries.sendBack(g.group, head.commitLogOffset, -1);
        head.acked = true;
      } catch (err) {
        this.host.logger.warn({ err, group: g.group, liteTopic: name }, 'lite dead-letter failed; the message is redelivered');
      }
    }
    if (g.inflight.get(name) !== inf) return; // unsubscribed or expired meanwhile
    const firstOpen = inf.items.findIndex((i) => !i.acked);
    if (firstOpen >= 0) inf.items.splice(firstOpen);
    this.advance(g, name, inf);
  }

  private expire(now: number): void {
    for (const parent of this.table.parentNames()) {
      const ttl = this.limitsOf(parent).liteTopicExpirationMs;
      for (const t of [...this.table.idleSince(parent, now - ttl)]) this.deleteLiteTopic(t, 'expired');
    }
  }

  /** Deletes a lite topic: its entry and every group's progress; subscribers are told to unsubscribe. */
  deleteLiteTopic(t: LiteTopic, why: string): void {
    // A stale view (its slot already freed, maybe reused) must not clear another lite topic's entry.
    if (this.table.slotOf(t.parent, t.name) === t.slot) this.setSlotSubs(t.slot, undefined);
    this.table.remove(t);
    const byName = this.subscribers.get(t.parent);
    const groups = byName?.get(t.name);
    byName?.delete(t.name);
    if (byName?.size === 0) this.subscribers.delete(t.parent);
    for (const g of groups ?? []) {
      const clients = g.subs.get(t.name) ?? new Set<string>();
      g.subs.delete(t.name);
      g.ready.delete(t.name);
      g.inflight.delete(t.name);
      g.attempts.delete(t.name);
      for (const id of clients) {
        this.clients.get(id)?.topics.delete(t.name);
        for (const l of this.unsubscribeListeners) {
          try {
            l(id, g.group, t.parent, t.name);
          } catch (err) {
            this.host.logger.warn({ err }, 'lite unsubscribe listener failed');
          }
        }
      }
    }
    this.host.logger.info({ parent: t.parent, liteTopic: t.name, why }, 'lite topic deleted');
  }

  // ---- queries ----

  /** Lite topics of a parent (name prefix optional), with each group's backlog. */
  list(parent: string, prefix = ''): { name: string; queueId: number; count: number; lastStoreTime: number; backlog: Record<string, number> }[] {
    const out = [];
    for (const t of this.table.topicsOf(parent)) {
      if (!t.name.startsWith(prefix)) continue;
      const key = liteKey(parent, t.name);
      const backlog: Record<string, number> = {};
      for (const g of this.subscribers.get(parent)?.get(t.name) ?? []) backlog[g.group] = t.count;
      for (const [group, m] of this.table.progress) {
        const p = m.get(key);
        if (p) backlog[group] = Math.max(0, t.count - p.nextIdx);
      }
      out.push({ name: t.name, queueId: t.queueId, count: t.count, lastStoreTime: t.lastStoreTime, backlog });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  // ---- persistence ----

  /** Indexes lite messages stored after the saved table (a crash, or a table saved before its last sends). */
  private async catchUp(): Promise<number> {
    let n = 0;
    for (const tc of [...this.host.topicConfigManager.topics]) {
      if (!isLiteParent(tc)) continue;
      for (let q = 0; q < tc.writeQueueNums; q++) {
        let from = Math.max(this.table.indexed.get(`${tc.topicName}\u0001${q}`) ?? 0, this.host.store.getMinOffsetInQueue(tc.topicName, q));
        const max = this.host.store.getMaxOffsetInQueue(tc.topicName, q);
        while (from < max) {
          const res = await this.host.store.getMessage(tc.topicName, q, from, 512);
          if (res.buffers.length === 0) {
            if (res.nextBeginOffset <= from) break;
            from = res.nextBeginOffset;
            continue;
          }
          for (let i = 0; i < res.buffers.length; i++) {
            const m = decodeMessage(res.buffers[i], 0, { checkCrc: false });
            const name = getPropertyFromString(m.properties, PROPERTY_LITE_TOPIC);
            if (name) {
              this.table.recordStored(tc.topicName, name, q, res.queueOffsets[i], m.storeTimestamp, m.commitLogOffset);
              n++;
            }
          }
          from = res.nextBeginOffset;
        }
      }
    }
    return n;
  }

  /** Appends what changed to the state log (one flush at a time; a failed one is retried with the next). */
  private persist(withTopics: boolean): Promise<void> {
    if (this.flushing) return this.saving;
    this.flushing = true;
    this.saving = this.journal
      .flush(withTopics)
      .catch((err: unknown) => this.host.logger.error({ err, path: this.journal.logPath }, 'lite state save failed; retried'))
      .finally(() => {
        this.flushing = false;
      });
    return this.saving;
  }

  private every(ms: number, fn: () => unknown): void {
    const t = setInterval(() => {
      try {
        const r = fn();
        if (r instanceof Promise) r.catch((err: unknown) => this.host.logger.error({ err }, 'lite periodic task failed'));
      } catch (err) {
        this.host.logger.error({ err }, 'lite periodic task failed');
      }
    }, ms);
    t.unref();
    this.timers.push(t);
  }
}

/** "l1 <liteTopic> <queueOffset> <nonce>": lite topic names hold no spaces. */
function handleOf(name: string, item: Item): string {
  return `${LITE_HANDLE_PREFIX}${name} ${item.q} ${item.nonce}`;
}

function parseHandle(handle: string): { name: string; q: number; nonce: number } | undefined {
  const f = handle.split(' ');
  if (f.length !== 4 || f[0] !== 'l1') return undefined;
  const q = Number(f[2]);
  const nonce = Number(f[3]);
  if (!Number.isSafeInteger(q) || !Number.isSafeInteger(nonce)) return undefined;
  return { name: f[1], q, nonce };
}
