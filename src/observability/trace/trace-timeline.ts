// One message's trace, gathered and put in order: client records (Pub, SubBefore, SubAfter,
// EndTransaction, Recall) and broker records from the trace topic, plus the message's stored
// copies (the original, the copy a delay, timer or transaction commit put in its topic, retry and
// dead-letter copies). Delivered and consumed records cover queue ranges, so they are looked up by
// each copy's queue and matched to its offset here, at query time. The lookups go through a
// TraceSource so this logic runs the same over remoting (the CLI) and in tests.
import { MessageConst, MixAll } from '../../common/message-const.js';
import {
  decodeTraceData,
  rangesContain,
  type BrokerConsumedRecord,
  type BrokerDeadLetteredRecord,
  type BrokerDeliveredRecord,
  type BrokerRetriedRecord,
  type BrokerRecalledRecord,
  type BrokerStoredRecord,
  type BrokerTransactionRecord,
  type ClientTraceRecord,
  type PubRecord,
  type SubBeforeRecord,
  type TraceRecord,
} from './trace-codec.js';
import { queueTraceKey } from './broker-trace-writer.js';

/** A stored message as a lookup returns it. */
export interface StoredCopy {
  brokerName: string;
  topic: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  storeTimestamp: number;
  bornTimestamp: number;
  bornHost: string;
  storeHost: string;
  /** Unique key (UNIQ_KEY). */
  msgId: string;
  offsetMsgId: string;
  tags?: string;
  keys: string[];
  properties: Record<string, string>;
  reconsumeTimes: number;
  bodyLength: number;
}

export interface TraceMessageBody {
  body: string;
  /** The host that wrote the trace message (a client's trace producer, or the broker). */
  bornHost: string;
}

export interface TraceSource {
  /** Trace messages indexed under key and stored in [begin, end], newest first, at most ~64. */
  traceByKey(key: string, begin: number, end: number): Promise<TraceMessageBody[]>;
  /** Copies of the message with this unique key stored in topic (an unknown topic: none). */
  copies(topic: string, uniqKey: string): Promise<StoredCopy[]>;
  /** The message an offset message id points at, or undefined. */
  byOffsetId(offsetMsgId: string): Promise<StoredCopy | undefined>;
  /** A topic holding a message with this unique key (searched when no topic is given), or undefined. */
  findTopic?(uniqKey: string): Promise<string | undefined>;
  now(): number;
}

export type StepSource = 'client' | 'broker' | 'store';

export interface TraceStep {
  time: number;
  /** What happened: Pub, Stored, Held, Committed, RolledBack, Recalled, DelayFired, TimerFired, Committed, Delivered, Consumed, Passed (a commit past it without a delivery), Retried, RetryStored, DeadLettered, SubBefore, SubAfter, EndTransaction, Recall. */
  step: string;
  source: StepSource;
  group: string;
  client: string;
  detail: string;
  /** ms since the step before (0 for the first). */
  sincePrevMs: number;
}

export interface GroupFacts {
  group: string;
  /** Deliveries of any copy for this group, oldest first. */
  delivered: { time: number; client: string; kind: string; topic: string; queueOffset: number; reconsumeTimes: number }[];
  /** The first consumption seen per copy (topic@queue@offset). */
  consumed: { time: number; kind: string; topic: string; queueOffset: number }[];
  retries: BrokerRetriedRecord[];
  deadLettered?: BrokerDeadLetteredRecord;
  /** Copies in %RETRY%group and %DLQ%group. */
  retryCopies: StoredCopy[];
  dlqCopy?: StoredCopy;
}

export interface TraceReport {
  /** The id as asked. */
  id: string;
  uniqKey: string;
  topic: string;
  /** The copy in the message's own topic (after a delay, timer or commit: the one it fired into). */
  message?: StoredCopy;
  stored?: BrokerStoredRecord;
  /** The copy the Stored record covers (the message, or its first copy in an internal topic). */
  storedCopy?: StoredCopy;
  /** Copies in internal topics (schedule, timer, half) not yet fired. */
  held: StoredCopy[];
  /** The commit or rollback of its half message. */
  transaction?: BrokerTransactionRecord;
  recalled?: BrokerRecalledRecord;
  steps: TraceStep[];
  groups: Map<string, GroupFacts>;
  clientRecords: ClientTraceRecord[];
  /** Trace records passed over as malformed. */
  skipped: number;
}

export class TraceNotFoundError extends Error {
  override name = 'TraceNotFoundError';
}

const HELD_TOPICS = ['SCHEDULE_TOPIC_XXXX', 'rmq_sys_wheel_timer', 'RMQ_SYS_TRANS_HALF_TOPIC'] as const;
const OFFSET_ID = /^[0-9A-Fa-f]{32}$|^[0-9A-Fa-f]{56}$/;
/** Range records are searched in windows after the copy was stored, so a busy queue's newest records do not hide the first ones. */
const WINDOWS_MS = [30_000, 600_000, Number.POSITIVE_INFINITY];

export function isOffsetMsgId(id: string): boolean {
  return OFFSET_ID.test(id);
}

type RangeRecord = BrokerDeliveredRecord | BrokerConsumedRecord | BrokerStoredRecord | BrokerTransactionRecord;

class Gatherer {
  readonly records = new Map<string, TraceRecord & { bornHost: string }>();
  skipped = 0;

  constructor(private readonly src: TraceSource) {}

  async byKey(key: string, begin = 0, end = this.src.now() + 60_000): Promise<(TraceRecord & { bornHost: string })[]> {
    const out: (TraceRecord & { bornHost: string })[] = [];
    for (const m of await this.src.traceByKey(key, begin, end)) {
      const d = decodeTraceData(m.body);
      this.skipped += d.skipped;
      for (const r of d.records) {
        const withHost = { ...r, bornHost: m.bornHost };
        // The same record comes back through every key of its batch.
        const k = JSON.stringify(r);
        if (!this.records.has(k)) this.records.set(k, withHost);
        out.push(withHost);
      }
    }
    return out;
  }

  /** Delivered and consumed records of the copy's queue from its store time on. */
  async rangesOf(copy: StoredCopy): Promise<RangeRecord[]> {
    const key = queueTraceKey(copy.topic, copy.queueId);
    const out: RangeRecord[] = [];
    const seen = new Set<string>();
    let begin = copy.storeTimestamp - 1000;
    for (const w of WINDOWS_MS) {
      const end = w === Number.POSITIVE_INFINITY ? this.src.now() + 60_000 : copy.storeTimestamp + w;
      for (const r of await this.byKey(key, begin, end)) {
        if (r.type !== 'BrokerDelivered' && r.type !== 'BrokerConsumed' && r.type !== 'BrokerStored' && r.type !== 'BrokerTransaction') continue;
        if ((r.type === 'BrokerStored' ? r.storedTopic : r.topic) !== copy.topic || r.queueId !== copy.queueId) continue;
        const covers =
          r.type === 'BrokerConsumed' ? r.toOffset > copy.queueOffset && (r.fromOffset < 0 || r.fromOffset <= copy.queueOffset) : rangesContain(r.offsets, copy.queueOffset);
        const k = JSON.stringify(r);
        if (covers && !seen.has(k)) {
          seen.add(k);
          out.push(r);
        }
      }
      begin = end;
      if (end > this.src.now()) break;
    }
    return out;
  }
}

/** Copies of the message in the schedule, timer and half topics that are bound for topic. */
async function heldCopies(src: TraceSource, uniqKey: string, topic: string): Promise<StoredCopy[]> {
  const out: StoredCopy[] = [];
  for (const t of HELD_TOPICS) for (const c of await src.copies(t, uniqKey)) if (originTopicOf(c) === topic) out.push(c);
  return out.sort((a, b) => a.storeTimestamp - b.storeTimestamp);
}

function originTopicOf(c: StoredCopy): string {
  return c.properties[MessageConst.PROPERTY_RETRY_TOPIC] ?? c.properties[MessageConst.PROPERTY_REAL_TOPIC] ?? c.topic;
}

/** Gathers everything known about one message. Throws TraceNotFoundError when nothing is. */
export async function gatherTrace(src: TraceSource, id: string, topicHint?: string): Promise<TraceReport> {
  const g = new Gatherer(src);
  const first = await g.byKey(id);
  const pub = first.find((r): r is PubRecord & { bornHost: string } => r.type === 'Pub' && (r.msgId === id || r.offsetMsgId === id));
  let uniqKey = pub?.msgId;
  let topic = pub?.topic ?? topicHint;
  let viewed: StoredCopy | undefined;
  if (!uniqKey && isOffsetMsgId(id)) {
    viewed = await src.byOffsetId(id).catch(() => undefined);
    if (viewed) {
      uniqKey = viewed.msgId || id;
      topic = topicHint ?? originTopicOf(viewed);
    }
  }
  if (!uniqKey && topicHint) {
    if ((await src.copies(topicHint, id)).length > 0 || (await heldCopies(src, id, topicHint)).length > 0) uniqKey = id;
  }
  if (!uniqKey && !topicHint && src.findTopic) {
    const t = await src.findTopic(id);
    if (t) {
      uniqKey = id;
      topic = t;
    }
  }
  if (!uniqKey || !topic) {
    throw new TraceNotFoundError(`no trace record and no stored message for id ${id}${topicHint ? ` in topic ${topicHint}` : ''} (give the unique message id or the offset message id; -t narrows to a topic)`);
  }
  if (uniqKey !== id) await g.byKey(uniqKey);
  if (topicHint && topic !== topicHint && !topic.startsWith(MixAll.RETRY_GROUP_TOPIC_PREFIX)) {
    throw new TraceNotFoundError(`message ${id} belongs to topic ${topic}, not ${topicHint}`);
  }

  const own = (await src.copies(topic, uniqKey)).sort((a, b) => a.storeTimestamp - b.storeTimestamp);
  const message = own[0];
  let stored: BrokerStoredRecord | undefined;
  let storedCopy: StoredCopy | undefined;
  if (message) {
    stored = (await g.rangesOf(message)).find((r): r is BrokerStoredRecord => r.type === 'BrokerStored');
    if (stored) storedCopy = message;
  }
  // A delayed, timed or transactional message was stored in an internal topic first; that copy stays.
  const inner = stored ? [] : await heldCopies(src, uniqKey, topic);
  let transaction: BrokerTransactionRecord | undefined;
  for (const c of inner) {
    const rs = await g.rangesOf(c);
    if (!stored) {
      stored = rs.find((r): r is BrokerStoredRecord => r.type === 'BrokerStored');
      if (stored) storedCopy = c;
    }
    transaction ??= rs.find((r): r is BrokerTransactionRecord => r.type === 'BrokerTransaction');
  }
  const held = message ? [] : inner;
  // Retry and dead-letter records are keyed by the original's offset message id (ORIGIN_MESSAGE_ID).
  if (message) await g.byKey(message.offsetMsgId, message.storeTimestamp - 1000);

  const groups = new Map<string, GroupFacts>();
  const facts = (group: string): GroupFacts => {
    let f = groups.get(group);
    if (!f) groups.set(group, (f = { group, delivered: [], consumed: [], retries: [], retryCopies: [] }));
    return f;
  };
  const originIds = new Set([id, uniqKey, ...(message ? [message.offsetMsgId] : []), ...(viewed ? [viewed.offsetMsgId] : [])]);
  for (const r of first) if (r.type === 'Pub' && r.offsetMsgId) originIds.add(r.offsetMsgId);
  for (const r of g.records.values()) {
    if (r.type === 'BrokerRetried' && originIds.has(r.msgId)) facts(r.group).retries.push(r);
    if (r.type === 'BrokerDeadLettered' && originIds.has(r.msgId)) facts(r.group).deadLettered = r;
  }
  for (const f of groups.values()) {
    f.retries.sort((a, b) => a.timeStamp - b.timeStamp);
    f.retryCopies = (await src.copies(`${MixAll.RETRY_GROUP_TOPIC_PREFIX}${f.group}`, uniqKey)).sort((a, b) => a.storeTimestamp - b.storeTimestamp);
    f.dlqCopy = (await src.copies(`${MixAll.DLQ_GROUP_TOPIC_PREFIX}${f.group}`, uniqKey))[0];
  }

  const consumable: { copy: StoredCopy; onlyGroup?: string }[] = [];
  if (message) consumable.push({ copy: message });
  for (const f of [...groups.values()]) for (const c of f.retryCopies) consumable.push({ copy: c, onlyGroup: f.group });
  for (const { copy, onlyGroup } of consumable) {
    for (const r of await g.rangesOf(copy)) {
      if (r.type === 'BrokerStored' || r.type === 'BrokerTransaction' || (onlyGroup && r.group !== onlyGroup)) continue;
      const f = facts(r.group);
      if (r.type === 'BrokerDelivered') {
        f.delivered.push({ time: r.timeStamp, client: r.clientHost, kind: r.kind, topic: copy.topic, queueOffset: copy.queueOffset, reconsumeTimes: copy.reconsumeTimes });
      } else if (!f.consumed.some((c) => c.topic === copy.topic && c.queueOffset === copy.queueOffset && c.time <= r.timeStamp)) {
        f.consumed = f.consumed.filter((c) => !(c.topic === copy.topic && c.queueOffset === copy.queueOffset));
        f.consumed.push({ time: r.timeStamp, kind: r.kind, topic: copy.topic, queueOffset: copy.queueOffset });
      }
    }
  }
  for (const f of groups.values()) {
    f.delivered.sort((a, b) => a.time - b.time);
    f.consumed.sort((a, b) => a.time - b.time);
  }

  const clientRecords = [...g.records.values()].filter(
    (r): r is ClientTraceRecord & { bornHost: string } =>
      (r.type === 'Pub' || r.type === 'SubBefore' || r.type === 'SubAfter' || r.type === 'EndTransaction' || r.type === 'Recall') && originIds.has(r.msgId),
  );
  const recalled = [...g.records.values()].find((r): r is BrokerRecalledRecord & { bornHost: string } => r.type === 'BrokerRecalled' && r.msgId === uniqKey);
  const report: TraceReport = { id, uniqKey, topic, message, stored, storedCopy, held, transaction, recalled, steps: [], groups, clientRecords, skipped: g.skipped };
  report.steps = buildSteps(report);
  return report;
}

function firedStep(storedTopic: string): string {
  if (storedTopic === 'SCHEDULE_TOPIC_XXXX') return 'DelayFired';
  if (storedTopic === 'rmq_sys_wheel_timer') return 'TimerFired';
  if (storedTopic === 'RMQ_SYS_TRANS_HALF_TOPIC') return 'Committed';
  return 'Fired';
}

const at = (c: StoredCopy): string => `${c.topic} queue ${c.queueId} offset ${c.queueOffset}`;

function buildSteps(r: TraceReport): TraceStep[] {
  const steps: Omit<TraceStep, 'sincePrevMs'>[] = [];
  const add = (time: number, step: string, source: StepSource, group: string, client: string, detail: string): void => {
    steps.push({ time, step, source, group, client, detail });
  };
  const s = r.stored;
  const m = r.message;
  const first = r.held[0] ?? m;
  if (s) {
    const where = s.storedTopic === s.topic ? `${s.topic} queue ${s.queueId}` : `held in ${s.storedTopic} queue ${s.queueId} (for ${s.topic})`;
    // The store's own timestamp is closer to the append than the hook's (which runs after the flush).
    const c = r.storedCopy;
    add(c?.storeTimestamp ?? s.timeStamp, 'Stored', 'broker', s.producerGroup, s.clientHost, `${where}${c ? ` offset ${c.queueOffset}, ${c.bodyLength} B body, tags ${c.tags ?? '-'}` : ''}, ${s.protocol}`);
  } else if (first) {
    add(first.storeTimestamp, 'Stored', 'store', first.properties[MessageConst.PROPERTY_PRODUCER_GROUP] ?? '', first.bornHost, at(first));
  }
  const t = r.transaction;
  if (t) add(t.timeStamp, t.state === 'COMMIT' ? 'Committed' : 'RolledBack', 'broker', t.producerGroup, '', `${t.state === 'COMMIT' ? 'committed' : 'rolled back'}${t.fromTransactionCheck ? ' (answering a check)' : ''}`);
  if (r.recalled) add(r.recalled.timeStamp, 'Recalled', 'broker', '', '', 'recalled before it was due');
  if (m && s && s.storedTopic !== s.topic && !(t && s.storedTopic === 'RMQ_SYS_TRANS_HALF_TOPIC')) add(m.storeTimestamp, firedStep(s.storedTopic), 'store', '', '', `put into ${at(m)}`);
  else if (m && !s && r.held.length === 0 && m.properties[MessageConst.PROPERTY_REAL_TOPIC]) add(m.storeTimestamp, 'Fired', 'store', '', '', `put into ${at(m)}`);
  if (!s && r.held.length > 0) add(r.held[0].storeTimestamp, 'Held', 'store', '', '', `waiting in ${r.held[0].topic} for ${r.topic}`);
  const before = new Map<string, SubBeforeRecord>();
  for (const c of r.clientRecords) if (c.type === 'SubBefore') before.set(c.requestId, c);
  for (const c of r.clientRecords) {
    const host = (c as { bornHost?: string }).bornHost ?? '';
    switch (c.type) {
      case 'Pub':
        add(c.timeStamp, 'Pub', 'client', c.groupName, c.clientHost ?? host, `sent in ${c.costTime} ms, ${c.success ? 'success' : 'failed'}`);
        break;
      case 'SubBefore':
        add(c.timeStamp, 'SubBefore', 'client', c.groupName, host, `consume started (retry ${c.retryTimes})`);
        break;
      case 'SubAfter': {
        const b = before.get(c.requestId);
        const t = c.timeStamp ?? (b ? b.timeStamp + c.costTime : 0);
        add(t, 'SubAfter', 'client', c.groupName ?? b?.groupName ?? '', host, `consumed in ${c.costTime} ms, ${c.success ? 'success' : 'failed'}`);
        break;
      }
      case 'EndTransaction':
        add(c.timeStamp, 'EndTransaction', 'client', c.groupName, host, `${c.transactionState}${c.fromTransactionCheck ? ' (from a check)' : ''}`);
        break;
      case 'Recall':
        add(c.timeStamp, 'Recall', 'client', c.groupName, host, c.success ? 'recalled' : 'recall failed');
        break;
    }
  }
  for (const f of r.groups.values()) {
    for (const d of f.delivered) add(d.time, 'Delivered', 'broker', f.group, d.client, `${d.kind} of ${d.topic} offset ${d.queueOffset}${d.reconsumeTimes > 0 ? ` (retry ${d.reconsumeTimes})` : ''}`);
    for (const c of f.consumed) {
      // A commit passes filtered messages too: without a delivery to the group it consumed nothing.
      const wasDelivered = f.delivered.some((d) => d.topic === c.topic && d.queueOffset === c.queueOffset);
      const sentBack = f.retries.some((t) => t.timeStamp <= c.time) && !c.topic.startsWith(MixAll.RETRY_GROUP_TOPIC_PREFIX) ? ' (its failure went to the retry topic)' : '';
      if (wasDelivered || c.kind === 'ack') add(c.time, 'Consumed', 'broker', f.group, '', `${c.kind === 'ack' ? 'acked' : 'offset committed past'} ${c.topic} offset ${c.queueOffset}${sentBack}`);
      else add(c.time, 'Passed', 'broker', f.group, '', `offset committed past ${c.topic} offset ${c.queueOffset} without a delivery (filtered out)`);
    }
    for (const t of f.retries) {
      add(t.timeStamp, 'Retried', 'broker', f.group, '', `reconsume ${t.reconsumeTimes}, level ${t.delayLevel}${t.nextDeliverTime ? `, due ${new Date(t.nextDeliverTime).toISOString()}` : ''}`);
    }
    for (const c of f.retryCopies) add(c.storeTimestamp, 'RetryStored', 'store', f.group, '', `due and put into ${at(c)}`);
    if (f.deadLettered) add(f.deadLettered.timeStamp, 'DeadLettered', 'broker', f.group, '', `into ${f.deadLettered.dlqTopic} after ${f.deadLettered.reconsumeTimes} deliveries`);
    else if (f.dlqCopy) add(f.dlqCopy.storeTimestamp, 'DeadLettered', 'store', f.group, '', `in ${at(f.dlqCopy)}`);
  }
  const order = ['Pub', 'Stored', 'Held', 'RolledBack', 'Recalled', 'DelayFired', 'TimerFired', 'Committed', 'Fired', 'EndTransaction', 'RetryStored', 'Delivered', 'SubBefore', 'SubAfter', 'Consumed', 'Passed', 'Retried', 'DeadLettered', 'Recall'];
  steps.sort((a, b) => a.time - b.time || order.indexOf(a.step) - order.indexOf(b.step));
  return steps.map((st, i) => ({ ...st, sincePrevMs: i === 0 ? 0 : st.time - steps[i - 1].time }));
}
