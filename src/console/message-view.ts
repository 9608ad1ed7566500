// Messages as the console reads and re-sends them: by key (the broker's index), by id, by topic
// and time range (queue offsets found by time, then pulled without committing anything), their
// trace records from RMQ_SYS_TRACE_TOPIC, and dead letters of a group.
import { decodeMessages } from '../common/message-codec.js';
import { MessageConst, MixAll } from '../common/message-const.js';
import { decodeMessageId } from '../common/msg-id.js';
import { TopicValidator } from '../common/index.js';
import { queueTraceKey } from '../observability/trace/broker-trace-writer.js';
import { decodeTraceData, rangesContain, type TraceRecord } from '../observability/trace/trace-codec.js';
import { MQBrokerError, Producer, type MessageExt } from '../client/index.js';
import { toMessageExt } from '../client/message.js';
import { PullSysFlag } from '../client/mq-client-api.js';
import type { Logger } from '../common/logger.js';
import { bodyOf, createRequest, ResponseCode, type RemotingCommand } from '../remoting/index.js';
import { RESEND_DLQ_MESSAGES } from '../remoting/protocol/index.js';
import { badRequest, notFound } from './console-error.js';
import type { ClusterView, Page } from './cluster-view.js';

/** RocketMQ's tools pull with this group (MixAll.TOOLS_CONSUMER_GROUP); nothing is committed for it. */
const TOOLS_GROUP = 'TOOLS_CONSUMER';
/** Upper bound of one listing, whatever the time range: the page is a view, not an export. */
const MAX_SCAN = 2000;
export { RESEND_DLQ_MESSAGES };
const MAX_BROKER_RESEND_BATCH = 1024;
/** Upper bound of a dead-letter export or "resend all" (per request). */
export const MAX_DLQ_BATCH = 10_000;

export interface MessageSummary {
  msgId: string;
  offsetMsgId: string;
  topic: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
  tags?: string;
  keys: string[];
  bornTimestamp: number;
  storeTimestamp: number;
  bodySize: number;
  reconsumeTimes: number;
}

export function summary(m: MessageExt): MessageSummary {
  return {
    msgId: m.msgId,
    offsetMsgId: m.offsetMsgId,
    topic: m.topic,
    brokerName: m.brokerName,
    queueId: m.queueId,
    queueOffset: m.queueOffset,
    tags: m.tags,
    keys: m.keys,
    bornTimestamp: m.bornTimestamp,
    storeTimestamp: m.storeTimestamp,
    bodySize: m.body.length,
    reconsumeTimes: m.reconsumeTimes,
  };
}

/** The body shown three ways; JSON only when it parses. */
export function bodyPreview(body: Buffer): { text: string; json?: unknown; hex: string; truncated: boolean } {
  const LIMIT = 64 * 1024;
  const cut = body.subarray(0, LIMIT);
  const text = cut.toString('utf8');
  let json: unknown;
  try {
    json = body.length <= LIMIT ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    json = undefined;
  }
  return { text, json, hex: cut.subarray(0, 4096).toString('hex'), truncated: body.length > LIMIT };
}

export interface TraceEvent {
  type: string;
  timestamp: number;
  group: string;
  clientHost: string;
  costMs: number;
  success: boolean;
  detail: Record<string, string>;
}

/** The message a trace is asked for: ids and where it is stored. */
export type TracedMessage = Pick<MessageExt, 'msgId' | 'offsetMsgId' | 'topic' | 'queueId' | 'queueOffset'>;

/**
 * The records of one trace-topic body that concern message m, as timeline events. Client records
 * (RocketMQ's TraceDataEncoder layout) match by msgId; Apogee's broker records of deliveries and
 * consumption cover queue offset ranges, so they match by topic, queue and offset.
 */
export function traceEventsOf(body: string, m: TracedMessage, traceHost: string): TraceEvent[] {
  const out: TraceEvent[] = [];
  const ids = new Set([m.msgId, m.offsetMsgId]);
  for (const r of decodeTraceData(body).records) {
    const ev = eventOf(r, m, ids, traceHost);
    if (ev) out.push(ev);
  }
  return out;
}

function eventOf(r: TraceRecord, m: TracedMessage, ids: ReadonlySet<string>, host: string): TraceEvent | undefined {
  const ev = (type: string, timestamp: number, group: string, detail: Record<string, string | number | boolean>, costMs = 0, success = true, clientHost = host): TraceEvent => ({
    type,
    timestamp,
    group,
    clientHost,
    costMs,
    success,
    detail: Object.fromEntries(Object.entries(detail).map(([k, v]) => [k, String(v)])),
  });
  const sameQueue = (topic: string, queueId: number): boolean => topic === m.topic && queueId === m.queueId;
  switch (r.type) {
    case 'Pub':
      return ids.has(r.msgId) ? ev('Pub', r.timeStamp, r.groupName, { topic: r.topic, tags: r.tags, keys: r.keys, storeHost: r.storeHost, bodyLength: r.bodyLength }, r.costTime, r.success, r.clientHost ?? host) : undefined;
    case 'SubBefore':
      return ids.has(r.msgId) ? ev('SubBefore', r.timeStamp, r.groupName, { retryTimes: r.retryTimes, requestId: r.requestId }) : undefined;
    case 'SubAfter':
      return ids.has(r.msgId) ? ev('SubAfter', r.timeStamp ?? 0, r.groupName ?? '', { requestId: r.requestId, result: r.contextCode ?? '' }, r.costTime, r.success) : undefined;
    case 'EndTransaction':
      return ids.has(r.msgId) ? ev('EndTransaction', r.timeStamp, r.groupName, { state: r.transactionState, fromCheck: r.fromTransactionCheck }) : undefined;
    case 'Recall':
      return ids.has(r.msgId) ? ev('Recall', r.timeStamp, r.groupName, { topic: r.topic }, 0, r.success) : undefined;
    case 'BrokerStored': {
      // One record per message (ids), or per queue and batch with the offsets as ranges: either form matches.
      const st = r as unknown as { msgId?: string; offsetMsgId?: string; offsets?: string; storedTopic: string; queueId: number };
      const mine = (st.msgId !== undefined && ids.has(st.msgId)) || (st.offsetMsgId !== undefined && ids.has(st.offsetMsgId)) || (st.offsets !== undefined && sameQueue(st.storedTopic, st.queueId) && rangesContain(st.offsets, m.queueOffset));
      return mine ? ev('Stored', r.timeStamp, r.producerGroup, { topic: r.topic, storedTopic: r.storedTopic, queue: `${r.queueId}@${m.queueOffset}`, protocol: r.protocol }, 0, true, r.clientHost) : undefined;
    }
    case 'BrokerDelivered':
      // The console's own reads (browsing, dead letters) are not deliveries to anyone.
      if (r.group === TOOLS_GROUP) return undefined;
      return sameQueue(r.topic, r.queueId) && rangesContain(r.offsets, m.queueOffset) ? ev('Delivered', r.timeStamp, r.group, { kind: r.kind, protocol: r.protocol }, 0, true, r.clientHost) : undefined;
    case 'BrokerConsumed':
      return sameQueue(r.topic, r.queueId) && m.queueOffset >= r.fromOffset && m.queueOffset < r.toOffset ? ev('Consumed', r.timeStamp, r.group, { kind: r.kind }) : undefined;
    case 'BrokerRetried':
      return ids.has(r.msgId) ? ev('Retried', r.timeStamp, r.group, { retryTopic: r.retryTopic, reconsumeTimes: r.reconsumeTimes, nextDeliverTime: r.nextDeliverTime }, 0, false) : undefined;
    case 'BrokerDeadLettered':
      return ids.has(r.msgId) ? ev('DeadLettered', r.timeStamp, r.group, { dlqTopic: r.dlqTopic, reconsumeTimes: r.reconsumeTimes }, 0, false) : undefined;
  }
  return undefined;
}

export class MessageView {
  private producer: Producer | undefined;
  private producerStart: Promise<Producer> | undefined;

  constructor(
    private readonly cluster: ClusterView,
    private readonly namesrvAddr: string,
    private readonly logger: Logger,
    private readonly rpcHook?: (cmd: RemotingCommand) => void,
  ) {}

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    if (p) await p.shutdown();
  }

  /** One producer for test messages and resends, started on first use. */
  private sender(): Promise<Producer> {
    this.producerStart ??= (async () => {
      const p = new Producer({ namesrvAddr: this.namesrvAddr, producerGroup: 'APOGEE_CONSOLE_PRODUCER', logger: this.logger, retryTimesWhenSendFailed: 1, rpcHook: this.rpcHook });
      await p.start();
      this.producer = p;
      return p;
    })();
    this.producerStart.catch(() => (this.producerStart = undefined));
    return this.producerStart;
  }

  async sendTest(topic: string, m: { body: string; tags?: string; keys?: string }) {
    await this.cluster.routeOrNotFound(topic);
    const p = await this.sender();
    const r = await p.send({ topic, body: m.body, tags: m.tags || undefined, keys: m.keys ? m.keys.split(/\s+/).filter(Boolean) : undefined });
    return { sendStatus: r.sendStatus, msgId: r.msgId, offsetMsgId: r.offsetMsgId, queue: r.messageQueue, queueOffset: r.queueOffset };
  }

  async byKey(topic: string, key: string, begin = 0, end = Date.now()): Promise<MessageSummary[]> {
    await this.cluster.routeOrNotFound(topic);
    const found = await this.cluster.admin.queryMessage(topic, key, 64, begin, end);
    return found.filter((m) => m.keys.includes(key) || m.msgId === key).map(summary);
  }

  /** A message by id: a UNIQ_KEY within the topic, or an offsetMsgId (which names its broker). */
  async byId(id: string, topic?: string): Promise<MessageExt> {
    if (topic) {
      await this.cluster.routeOrNotFound(topic);
      let hits: MessageExt[] = [];
      try {
        hits = (await this.cluster.admin.queryMessage(topic, id, 32, 0, Date.now(), true)).filter((m) => m.msgId === id);
      } catch (err) {
        // Not a unique key of this topic: it may still be an offsetMsgId (ali-ons reports those as msgId).
        if (!(err instanceof MQBrokerError && err.code === ResponseCode.QUERY_NOT_FOUND)) throw err;
      }
      if (hits.length > 0) return hits.sort((a, b) => a.storeTimestamp - b.storeTimestamp)[0];
    }
    const known = new Map((await this.cluster.allBrokers()).map((b) => [b.addr, b.brokerName]));
    let addr: string | undefined;
    try {
      const p = decodeMessageId(id);
      addr = `${p.address}:${p.port}`;
    } catch {
      addr = undefined;
    }
    if (!addr || !known.has(addr)) {
      throw topic ? notFound(`no message ${id} in topic ${topic}`) : badRequest(`${id} is not an offset message id of a broker of this cluster; give the topic to look up a client message id`);
    }
    try {
      const m = await this.cluster.admin.viewMessage(id);
      return { ...m, brokerName: known.get(addr) ?? '' };
    } catch (err) {
      if (err instanceof MQBrokerError) throw notFound(`no message ${id}: ${err.remark || err.message}`);
      throw err;
    }
  }

  /** Messages stored in [begin, end] on every queue of the topic, oldest first, at most MAX_SCAN read. */
  async byTime(topic: string, begin: number, end: number, page: number, size: number): Promise<Page<MessageSummary> & { capped: boolean }> {
    if (end < begin) throw badRequest(`end (${end}) is before begin (${begin})`);
    const route = await this.cluster.routeOrNotFound(topic);
    const out: MessageSummary[] = [];
    let capped = false;
    for (const bd of route.brokerDatas) {
      const addr = bd.brokerAddrs['0'];
      if (!addr) continue;
      const queues = route.queueDatas.find((q) => q.brokerName === bd.brokerName)?.readQueueNums ?? 0;
      for (let queueId = 0; queueId < queues && !capped; queueId++) {
        const mq = { topic, brokerName: bd.brokerName, queueId };
        const from = await this.cluster.admin.api.searchOffset(addr, mq, begin);
        const max = await this.cluster.admin.api.getMaxOffset(addr, mq);
        for (const m of await this.pullRange(addr, bd.brokerName, topic, queueId, from, max, MAX_SCAN - out.length)) {
          if (m.storeTimestamp > end) break;
          if (m.storeTimestamp >= begin) out.push(summary(m));
        }
        if (out.length >= MAX_SCAN) capped = true;
      }
    }
    out.sort((a, b) => a.storeTimestamp - b.storeTimestamp || a.queueId - b.queueId);
    const start = (page - 1) * size;
    return { total: out.length, page, size, items: out.slice(start, start + size), capped };
  }

  /** Reads [from, to) of one queue, at most limit messages, committing nothing. */
  async pullRange(addr: string, brokerName: string, topic: string, queueId: number, from: number, to: number, limit: number): Promise<MessageExt[]> {
    const out: MessageExt[] = [];
    let offset = from;
    while (offset < to && out.length < limit) {
      const r = await this.cluster.admin.api.pullMessage(
        addr,
        { consumerGroup: TOOLS_GROUP, topic, queueId, queueOffset: offset, maxMsgNums: Math.min(32, limit - out.length), sysFlag: PullSysFlag.SUBSCRIPTION, commitOffset: 0, suspendTimeoutMillis: 0, subscription: '*', subVersion: 0, expressionType: 'TAG' },
        5000,
      );
      if (r.code === ResponseCode.PULL_OFFSET_MOVED) {
        if (r.nextBeginOffset <= offset) break;
        offset = r.nextBeginOffset;
        continue;
      }
      if (r.code !== ResponseCode.SUCCESS || !r.body) break;
      const recs = decodeMessages(r.body, { checkCrc: false, copyBody: true });
      if (recs.length === 0) break;
      for (const rec of recs) out.push(toMessageExt(rec, brokerName));
      offset = r.nextBeginOffset > offset ? r.nextBeginOffset : offset + recs.length;
    }
    return out.slice(0, limit);
  }

  /**
   * A message's trace from RMQ_SYS_TRACE_TOPIC: the records indexed under its ids (client records,
   * the broker's stored/retried/dead-lettered ones) and under its queue (deliveries and commits,
   * which cover offset ranges). No client setting is needed for the broker's part.
   * `available` is false while no broker has the trace topic.
   */
  async trace(m: TracedMessage & { storeTimestamp: number }): Promise<{ available: boolean; topic: string; events: TraceEvent[] }> {
    const topic = TopicValidator.RMQ_SYS_TRACE_TOPIC;
    try {
      await this.cluster.admin.topicRoute(topic);
    } catch (err) {
      this.logger.debug({ err }, 'no trace topic');
      return { available: false, topic, events: [] };
    }
    const keys = [...new Set([m.msgId, m.offsetMsgId, queueTraceKey(m.topic, m.queueId)])];
    const seen = new Set<string>();
    const events: TraceEvent[] = [];
    for (const key of keys) {
      let hits: MessageExt[];
      try {
        hits = await this.cluster.admin.queryMessage(topic, key, 64, Math.max(0, m.storeTimestamp - 60_000), Date.now() + 1000);
      } catch (err) {
        if (err instanceof MQBrokerError && err.code === ResponseCode.QUERY_NOT_FOUND) continue;
        throw err;
      }
      for (const h of hits) {
        if (seen.has(h.offsetMsgId)) continue;
        seen.add(h.offsetMsgId);
        events.push(...traceEventsOf(h.body.toString('utf8'), m, h.bornHost));
      }
    }
    events.sort((a, b) => a.timestamp - b.timestamp);
    return { available: true, topic, events };
  }

  // ---- dead letters ----

  private async dlqQueues(group: string): Promise<{ addr: string; brokerName: string; queueId: number; min: number; max: number }[]> {
    const topic = MixAll.DLQ_GROUP_TOPIC_PREFIX + group;
    let route;
    try {
      route = await this.cluster.admin.topicRoute(topic);
    } catch {
      return [];
    }
    const out: { addr: string; brokerName: string; queueId: number; min: number; max: number }[] = [];
    for (const bd of route.brokerDatas) {
      const addr = bd.brokerAddrs['0'];
      if (!addr) continue;
      const n = route.queueDatas.find((q) => q.brokerName === bd.brokerName)?.readQueueNums ?? 1;
      for (let queueId = 0; queueId < n; queueId++) {
        const mq = { topic, brokerName: bd.brokerName, queueId };
        out.push({ addr, brokerName: bd.brokerName, queueId, min: await this.cluster.admin.api.getMinOffset(addr, mq), max: await this.cluster.admin.api.getMaxOffset(addr, mq) });
      }
    }
    return out;
  }

  /** Groups with a dead-letter topic and how many messages each holds. */
  async dlqGroups(): Promise<{ group: string; messages: number }[]> {
    const topics = (await this.cluster.topicTable()).filter((t) => t.kind === 'dlq');
    return Promise.all(topics.map(async (t) => ({ group: t.topic.slice(MixAll.DLQ_GROUP_TOPIC_PREFIX.length), messages: await this.cluster.depth(t.topic) })));
  }

  /** Dead letters of a group, oldest first, one page (at most limit read in all). */
  async dlqMessages(group: string, limit: number): Promise<MessageExt[]> {
    const out: MessageExt[] = [];
    for (const q of await this.dlqQueues(group)) {
      if (out.length >= limit) break;
      out.push(...(await this.pullRange(q.addr, q.brokerName, MixAll.DLQ_GROUP_TOPIC_PREFIX + group, q.queueId, q.min, q.max, limit - out.length)));
    }
    return out;
  }

  async dlqPage(group: string, page: number, size: number): Promise<Page<MessageSummary & { originTopic: string }>> {
    const queues = await this.dlqQueues(group);
    const total = queues.reduce((s, q) => s + Math.max(0, q.max - q.min), 0);
    const all = await this.dlqMessages(group, Math.min(MAX_DLQ_BATCH, page * size));
    const items = all.slice((page - 1) * size, page * size).map((m) => ({ ...summary(m), originTopic: originTopicOf(m) }));
    return { total, page, size, items };
  }

  /**
   * Sends dead letters back to the group's retry topic, so the group (and only it) consumes them
   * again, as a message it had failed; ids pick offsetMsgIds, none means all (bounded).
   */
  async dlqResend(group: string, ids: readonly string[] | undefined): Promise<{ resent: number; failed: { msgId: string; error: string }[] }> {
    const all = await this.dlqMessages(group, MAX_DLQ_BATCH);
    const pick = ids ? all.filter((m) => ids.includes(m.offsetMsgId) || ids.includes(m.msgId)) : all;
    if (ids && pick.length === 0) throw notFound(`none of the ${ids.length} ids is a dead letter of ${group}`);
    const masters = new Map((await this.cluster.masters()).map((m) => [m.brokerName, m.addr]));
    const out = { resent: 0, failed: [] as { msgId: string; error: string }[] };
    const byBroker = new Map<string, MessageExt[]>();
    for (const m of pick) byBroker.set(m.brokerName, [...(byBroker.get(m.brokerName) ?? []), m]);
    for (const [brokerName, msgs] of byBroker) {
      const addr = masters.get(brokerName);
      const done = addr ? await this.resendAtBroker(addr, group, msgs) : undefined;
      // A broker without RESEND_DLQ_MESSAGES (or without a master now): the console sends the copies itself.
      const r = done ?? (await this.resendAll(msgs, MixAll.RETRY_GROUP_TOPIC_PREFIX + group));
      out.resent += r.resent;
      out.failed.push(...r.failed);
    }
    return out;
  }

  /**
   * RESEND_DLQ_MESSAGES at the broker holding the dead letters: it copies them to the retry topic
   * and keeps a resend log (what `apogee admin resendDLQ` uses). undefined when the broker lacks it.
   */
  private async resendAtBroker(addr: string, group: string, msgs: MessageExt[]): Promise<{ resent: number; failed: { msgId: string; error: string }[] } | undefined> {
    const out = { resent: 0, failed: [] as { msgId: string; error: string }[] };
    const byOffset = new Map(msgs.map((m) => [m.commitLogOffset, m]));
    const offsets = [...byOffset.keys()];
    for (let i = 0; i < offsets.length; i += MAX_BROKER_RESEND_BATCH) {
      const body = Buffer.from(JSON.stringify({ offsets: offsets.slice(i, i + MAX_BROKER_RESEND_BATCH) }));
      const r = await this.cluster.admin.api.remoting.invoke(addr, createRequest(RESEND_DLQ_MESSAGES, { consumerGroup: group }, body), 15_000);
      if (r.code === ResponseCode.REQUEST_CODE_NOT_SUPPORTED && i === 0) return undefined;
      if (r.code !== ResponseCode.SUCCESS) throw new MQBrokerError(r.code, r.remark ?? '', addr);
      const { results } = JSON.parse(bodyOf(r).toString('utf8')) as { results: { commitLogOffset: number; status: string; remark?: string }[] };
      for (const x of results) {
        if (x.status === 'OK') out.resent++;
        else out.failed.push({ msgId: byOffset.get(x.commitLogOffset)?.msgId ?? String(x.commitLogOffset), error: `${x.status}${x.remark ? `: ${x.remark}` : ''}` });
      }
    }
    return out;
  }

  /** A stored message sent again: to the group's retry topic when a group is named, else to its topic. */
  async resend(id: string, topic: string | undefined, group: string | undefined) {
    const m = await this.byId(id, topic);
    const r = await this.resendAll([m], group ? MixAll.RETRY_GROUP_TOPIC_PREFIX + group : originTopicOf(m));
    if (r.failed.length > 0) throw new Error(r.failed[0].error);
    return r;
  }

  private async resendAll(msgs: MessageExt[], to: string): Promise<{ resent: number; failed: { msgId: string; error: string }[] }> {
    const p = await this.sender();
    const failed: { msgId: string; error: string }[] = [];
    let resent = 0;
    for (const m of msgs) {
      const properties: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.properties)) if (!RESEND_DROPPED.has(k)) properties[k] = v;
      properties[MessageConst.PROPERTY_ORIGIN_MESSAGE_ID] = m.properties[MessageConst.PROPERTY_ORIGIN_MESSAGE_ID] ?? m.msgId;
      if (to.startsWith(MixAll.RETRY_GROUP_TOPIC_PREFIX)) properties[MessageConst.PROPERTY_RETRY_TOPIC] = originTopicOf(m);
      try {
        await p.send({ topic: to, body: m.body, tags: m.tags, keys: m.keys, properties });
        resent++;
      } catch (err) {
        failed.push({ msgId: m.msgId, error: (err as Error).message.split('\n')[0] });
      }
    }
    return { resent, failed };
  }
}

/** Properties the store or the producer sets again on a resend. */
const RESEND_DROPPED = new Set([
  MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX,
  MessageConst.PROPERTY_KEYS,
  MessageConst.PROPERTY_TAGS,
  MessageConst.PROPERTY_DELAY_TIME_LEVEL,
  MessageConst.PROPERTY_REAL_TOPIC,
  'REAL_QID',
  'MIN_OFFSET',
  'MAX_OFFSET',
  'CONSUME_START_TIME',
  'WAIT',
  'TRAN_MSG',
  'PGROUP',
]);

/** The business topic of a retried or dead-lettered message (RETRY_TOPIC), else its own. */
export function originTopicOf(m: MessageExt): string {
  return m.properties[MessageConst.PROPERTY_RETRY_TOPIC] || m.properties[MessageConst.PROPERTY_REAL_TOPIC] || m.topic;
}
