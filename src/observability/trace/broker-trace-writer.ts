// The broker-side trace: listens to the service layer's message events and writes them, batched,
// as trace records (trace-codec.ts) through a sink the broker supplies (an append to the trace
// topic). A listener only appends a short string to the pending batch; deliveries and commits are
// recorded per queue range, not per message, so their cost does not grow with the batch size.
import { readLong } from '../../common/message-bytes.js';
import { RecordPos } from '../../common/message-codec.js';
import type { AckedEvent, DeadLetteredEvent, DeliveredEvent, RecalledEvent, RetriedEvent, StoredEvent, TransactionEndedEvent } from '../broker-events.js';
import { encodeTraceRecord, formatOffsetRanges } from './trace-codec.js';

type Listener<E> = (e: E) => void;

/** The listener lists of the broker's service-layer hooks (BrokerHooks has this shape). */
export interface TraceHookTarget {
  readonly stored: Listener<StoredEvent>[];
  readonly delivered: Listener<DeliveredEvent>[];
  readonly acked: Listener<AckedEvent>[];
  readonly retried: Listener<RetriedEvent>[];
  readonly deadLettered: Listener<DeadLetteredEvent>[];
  readonly transactionEnded: Listener<TransactionEndedEvent>[];
  readonly recalled: Listener<RecalledEvent>[];
}

/** Stores one batch: body = the records, keys = what the index must find them by (no spaces inside a key). */
export type TraceSink = (body: string, keys: readonly string[]) => void;

export interface BrokerTraceWriterOptions {
  sink: TraceSink;
  /** ms between writes of a non-empty batch. */
  flushIntervalMs: number;
  /** Delay of each level 1..n in ms, for a retry's next delivery time. */
  delayLevelsMs: readonly number[];
  now?: () => number;
}

/** A batch is written early once it reaches either bound (properties hold at most 32767 bytes of keys). */
const MAX_BATCH_KEY_CHARS = 16_000;
const MAX_BATCH_BODY_CHARS = 256 * 1024;
/** Half messages live in queue 0 of this topic; their queue offset is END_TRANSACTION's tranStateTableOffset. */
const HALF_TOPIC = 'RMQ_SYS_TRANS_HALF_TOPIC';
/** Distinct queue × producer × client entries of stores in one batch. */
const MAX_STORE_ENTRIES = 512;

/** The trace key of a queue: delivered and consumed ranges are found by it. */
export function queueTraceKey(topic: string, queueId: number): string {
  return `${topic}@${queueId}`;
}

export class BrokerTraceWriter {
  private body = '';
  private keys: string[] = [];
  private readonly keySet = new Set<string>();
  private keyChars = 0;
  private records = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Last committed offset per group@topic@queue, so a commit that does not move is not recorded. */
  private readonly committed = new Map<string, number>();
  /**
   * Pending stores by stored topic, queue id, then producer, client, topic and protocol (compared
   * field by field): offsets as [from, to, from, to, ...]. Two map lookups on values the event
   * already holds, where one composite string key per message cost a concatenation, its flattening
   * for the hash and the garbage (issue 17: about 1 µs per message on a loaded box).
   */
  private readonly stores = new Map<string, Map<number, StoreEntry[]>>();
  private storeEntries = 0;
  private readonly now: () => number;
  /** Records written since start (for tests and the bench). */
  written = 0;
  batches = 0;

  constructor(private readonly o: BrokerTraceWriterOptions) {
    this.now = o.now ?? Date.now;
  }

  attach(h: TraceHookTarget): () => void {
    h.stored.push(this.onStored);
    h.delivered.push(this.onDelivered);
    h.acked.push(this.onAcked);
    h.retried.push(this.onRetried);
    h.deadLettered.push(this.onDeadLettered);
    h.transactionEnded.push(this.onTransactionEnded);
    h.recalled.push(this.onRecalled);
    this.timer = setInterval(() => this.flush(), this.o.flushIntervalMs);
    this.timer.unref();
    return () => {
      remove(h.stored, this.onStored);
      remove(h.delivered, this.onDelivered);
      remove(h.acked, this.onAcked);
      remove(h.retried, this.onRetried);
      remove(h.deadLettered, this.onDeadLettered);
      remove(h.transactionEnded, this.onTransactionEnded);
      remove(h.recalled, this.onRecalled);
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      this.flush();
    };
  }

  /** Writes the pending batch, if any. */
  flush(): void {
    if (this.records === 0) return;
    this.drainStores();
    const body = this.body;
    const keys = this.keys;
    this.body = '';
    this.keys = [];
    this.keySet.clear();
    this.keyChars = 0;
    this.written += this.records;
    this.records = 0;
    this.batches++;
    this.o.sink(body, keys);
  }

  private add(record: string, key1: string, key2?: string): void {
    this.body += record;
    this.records++;
    this.key(key1);
    if (key2) this.key(key2);
    if (this.keyChars > MAX_BATCH_KEY_CHARS || this.body.length > MAX_BATCH_BODY_CHARS) this.flush();
  }

  private key(k: string): void {
    if (k.length === 0 || this.keySet.has(k)) return;
    this.keySet.add(k);
    this.keys.push(k);
    this.keyChars += k.length + 1;
  }

  /**
   * Stores are the hot path: a store only extends an entry of its queue, producer and client (one
   * map lookup); the entries become records when the batch is written.
   */
  readonly onStored = (e: StoredEvent): void => {
    const last = e.queueOffset + e.msgNum - 1;
    let byQueue = this.stores.get(e.storedTopic);
    if (!byQueue) this.stores.set(e.storedTopic, (byQueue = new Map()));
    let list = byQueue.get(e.queueId);
    if (!list) byQueue.set(e.queueId, (list = []));
    let s: StoreEntry | undefined;
    for (let i = 0; i < list.length; i++) {
      const x = list[i].e;
      if (x.producerGroup === e.producerGroup && x.client === e.client && x.topic === e.topic && x.protocol === e.protocol) {
        s = list[i];
        break;
      }
    }
    if (!s) {
      list.push({ e, t: this.now(), ranges: [e.queueOffset, last], bytes: e.wroteBytes });
      this.records++;
      if (++this.storeEntries > MAX_STORE_ENTRIES) this.flush();
      return;
    }
    s.bytes += e.wroteBytes;
    const r = s.ranges;
    if (r[r.length - 1] + 1 === e.queueOffset) r[r.length - 1] = last;
    else r.push(e.queueOffset, last);
  };

  private drainStores(): void {
    for (const byQueue of this.stores.values()) for (const list of byQueue.values()) for (const s of list) this.drainStore(s);
    this.stores.clear();
    this.storeEntries = 0;
  }

  private drainStore(s: StoreEntry): void {
    const e = s.e;
    let offsets = '';
    for (let i = 0; i < s.ranges.length; i += 2) {
      const a = s.ranges[i];
      const b = s.ranges[i + 1];
      offsets += `${i === 0 ? '' : ','}${a === b ? a : `${a}-${b}`}`;
    }
    this.body += encodeTraceRecord({ type: 'BrokerStored', timeStamp: s.t, producerGroup: e.producerGroup, topic: e.topic, storedTopic: e.storedTopic, queueId: e.queueId, offsets, bytes: s.bytes, clientHost: e.client, protocol: e.protocol });
    this.key(queueTraceKey(e.storedTopic, e.queueId));
  }

  readonly onDelivered = (e: DeliveredEvent): void => {
    const t = this.now();
    if (e.records) {
      const offsets = e.records.map((r) => readLong(r, RecordPos.QUEUEOFFSET));
      this.addDelivered(e, t, e.topic, e.queueId, offsets);
      return;
    }
    if (!e.popped) return;
    // A pop may hand out messages of several queues (and of the retry topic): one record per queue.
    const byQueue = new Map<string, { topic: string; queueId: number; offsets: number[] }>();
    for (const p of e.popped) {
      const k = queueTraceKey(p.record.topic, p.queueId);
      let q = byQueue.get(k);
      if (!q) byQueue.set(k, (q = { topic: p.record.topic, queueId: p.queueId, offsets: [] }));
      q.offsets.push(p.queueOffset);
    }
    for (const q of byQueue.values()) this.addDelivered(e, t, q.topic, q.queueId, q.offsets);
  };

  private addDelivered(e: DeliveredEvent, t: number, topic: string, queueId: number, offsets: number[]): void {
    if (offsets.length === 0) return;
    // A pull's records come in queue order: sorting (a comparator call per pair) only when they do not.
    if (!isAscending(offsets)) offsets.sort((a, b) => a - b);
    const rec = encodeTraceRecord({
      type: 'BrokerDelivered',
      timeStamp: t,
      group: e.group,
      topic,
      queueId,
      offsets: formatOffsetRanges(offsets),
      clientHost: e.client,
      kind: e.kind,
      protocol: e.protocol,
    });
    this.add(rec, queueTraceKey(topic, queueId));
  }

  readonly onAcked = (e: AckedEvent): void => {
    let from: number;
    let to: number;
    if (e.kind === 'ack') {
      from = e.queueOffset;
      to = e.queueOffset + 1;
    } else {
      const k = `${e.group}@${e.topic}@${e.queueId}`;
      const last = this.committed.get(k);
      if (last !== undefined && e.queueOffset <= last) return;
      this.committed.set(k, e.queueOffset);
      from = last ?? -1;
      to = e.queueOffset;
    }
    const rec = encodeTraceRecord({ type: 'BrokerConsumed', timeStamp: this.now(), group: e.group, topic: e.topic, queueId: e.queueId, fromOffset: from, toOffset: to, kind: e.kind });
    this.add(rec, queueTraceKey(e.topic, e.queueId));
  };

  readonly onRetried = (e: RetriedEvent): void => {
    const t = this.now();
    const delay = e.delayLevel > 0 ? this.o.delayLevelsMs[Math.min(e.delayLevel, this.o.delayLevelsMs.length) - 1] : undefined;
    const rec = encodeTraceRecord({
      type: 'BrokerRetried',
      timeStamp: t,
      group: e.group,
      originTopic: e.originTopic,
      retryTopic: e.retryTopic,
      reconsumeTimes: e.reconsumeTimes,
      delayLevel: e.delayLevel,
      nextDeliverTime: delay === undefined ? 0 : t + delay,
      msgId: e.msgId,
    });
    this.add(rec, e.msgId);
  };

  readonly onTransactionEnded = (e: TransactionEndedEvent): void => {
    const rec = encodeTraceRecord({
      type: 'BrokerTransaction',
      timeStamp: this.now(),
      producerGroup: e.producerGroup,
      topic: HALF_TOPIC,
      queueId: 0,
      offsets: String(e.halfQueueOffset),
      state: e.commit ? 'COMMIT' : 'ROLLBACK',
      fromTransactionCheck: e.fromTransactionCheck,
    });
    this.add(rec, queueTraceKey(HALF_TOPIC, 0));
  };

  readonly onRecalled = (e: RecalledEvent): void => {
    this.add(encodeTraceRecord({ type: 'BrokerRecalled', timeStamp: this.now(), topic: e.topic, msgId: e.uniqKey }), e.uniqKey);
  };

  readonly onDeadLettered = (e: DeadLetteredEvent): void => {
    const rec = encodeTraceRecord({ type: 'BrokerDeadLettered', timeStamp: this.now(), group: e.group, originTopic: e.originTopic, dlqTopic: e.dlqTopic, reconsumeTimes: e.reconsumeTimes, msgId: e.msgId });
    this.add(rec, e.msgId);
  };
}

interface StoreEntry {
  e: StoredEvent;
  t: number;
  ranges: number[];
  bytes: number;
}

function remove<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

function isAscending(a: readonly number[]): boolean {
  for (let i = 1; i < a.length; i++) if (a[i - 1] > a[i]) return false;
  return true;
}
