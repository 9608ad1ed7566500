// Finding stored messages across a cluster's brokers, for the admin commands (queries, DLQ
// export, diagnosis, trace): by offsetMsgId (VIEW_MESSAGE_BY_ID at the broker the id names), by
// unique key or key (QUERY_MESSAGE through each broker's index, filtered as Java's MQAdminImpl
// filters hash collisions), by queue offset and by store-time range (PULL_MESSAGE with a tools
// group that never commits). Nothing here prints.
import { toMessageExt, type MessageExt } from '../../client/message.js';
import { decodeMessages } from '../../common/message-codec.js';
import { MessageConst } from '../../common/message-const.js';
import { decodeMessageId } from '../../common/msg-id.js';
import { bodyOf, RequestCode, ResponseCode } from '../../remoting/index.js';
import {
  decodeHeader,
  encodeHeader,
  OFFSET_RESPONSE_HEADER,
  PULL_MESSAGE_HEADER,
  PULL_MESSAGE_RESPONSE_HEADER,
  PullSysFlag,
  QUERY_MESSAGE_HEADER,
  SEARCH_OFFSET_HEADER,
  TOPIC_QUEUE_HEADER,
  VIEW_MESSAGE_BY_ID_HEADER,
} from '../../remoting/protocol/index.js';
import { AdminLookupError, AdminRequestError, type AdminApi } from './admin-api.js';

/** A stored message and the broker group that holds it. */
export interface FoundMessage extends MessageExt {
  brokerAddr: string;
}

/** A readable queue of a topic at one broker group's master. */
export interface QueueRef {
  topic: string;
  brokerName: string;
  brokerAddr: string;
  queueId: number;
}

export interface QueryRange {
  begin?: number;
  end?: number;
  /** Most messages a broker returns (Java's maxMsgsNumBatch is 64 and caps it). */
  maxNum?: number;
}

/** The group admin pulls read under; its pulls never commit offsets. Java's tools use the same. */
export const TOOLS_GROUP = 'TOOLS_CONSUMER';
/** Messages per pull while scanning; the broker caps a pull at 32. */
const SCAN_BATCH = 32;
/** Parallel QUERY_MESSAGE requests when a unique key is looked up in every topic. */
const QUERY_CONCURRENCY = 8;

/** 32 hex digits (IPv4) or 56 (IPv6): the shape of an offsetMsgId, and of a 4.x unique key. */
export function looksLikeOffsetMsgId(id: string): boolean {
  return /^[0-9A-Fa-f]{32}$/.test(id) || /^[0-9A-Fa-f]{56}$/.test(id);
}

/** Unique keys (UNIQ_KEY) are hex: 32 digits from IPv4 clients, 56 from IPv6 ones, 4.x or 5.x. */
export function looksLikeUniqueKey(id: string): boolean {
  return /^[0-9A-Fa-f]{20,64}$/.test(id);
}

/** A bad id named with what was expected; the commands print it as a usage error. */
export function checkMessageId(id: string): string | undefined {
  if (looksLikeUniqueKey(id)) return undefined;
  return `"${id}" is not a message id: expected an offsetMsgId (32 or 56 hex digits) or a unique key (hex)`;
}

export class MessageLookup {
  constructor(private readonly api: AdminApi) {}

  /** Every master of every cluster the name server knows, by broker name. */
  async masters(): Promise<{ brokerName: string; addr: string }[]> {
    const info = await this.api.clusterInfo();
    const out: { brokerName: string; addr: string }[] = [];
    for (const bd of Object.values(info.brokerAddrTable)) {
      const addr = bd.brokerAddrs['0'];
      if (addr) out.push({ brokerName: bd.brokerName, addr });
    }
    return out.sort((a, b) => a.brokerName.localeCompare(b.brokerName));
  }

  /** The topic's readable queues at each master; AdminLookupError when no broker serves it. */
  async queuesOf(topic: string): Promise<QueueRef[]> {
    let route;
    try {
      route = await this.api.route(topic);
    } catch (err) {
      if (err instanceof AdminRequestError && err.code === ResponseCode.TOPIC_NOT_EXIST) throw new AdminLookupError(`topic ${topic} does not exist (no route in the name server)`);
      throw err;
    }
    const out: QueueRef[] = [];
    for (const qd of route.queueDatas) {
      const addr = route.brokerDatas.find((b) => b.brokerName === qd.brokerName)?.brokerAddrs['0'];
      if (!addr) continue;
      for (let q = 0; q < qd.readQueueNums; q++) out.push({ topic, brokerName: qd.brokerName, brokerAddr: addr, queueId: q });
    }
    if (out.length === 0) throw new AdminLookupError(`topic ${topic} has no readable queue on a master broker`);
    return out.sort((a, b) => a.brokerName.localeCompare(b.brokerName) || a.queueId - b.queueId);
  }

  /** Masters that serve the topic (one entry per broker group). */
  async brokersOf(topic: string): Promise<{ brokerName: string; addr: string }[]> {
    const seen = new Map<string, string>();
    for (const q of await this.queuesOf(topic)) seen.set(q.brokerName, q.brokerAddr);
    return [...seen].map(([brokerName, addr]) => ({ brokerName, addr }));
  }

  /**
   * VIEW_MESSAGE_BY_ID at the broker the id names. undefined when the id does not decode, names
   * no broker of this name server, or that broker holds no record there with this id.
   */
  async byOffsetMsgId(id: string): Promise<FoundMessage | undefined> {
    if (!looksLikeOffsetMsgId(id)) return undefined;
    let parts;
    try {
      parts = decodeMessageId(id);
    } catch {
      return undefined;
    }
    if (parts.offset < 0) return undefined;
    const addr = parts.address.includes(':') ? `[${parts.address}]:${parts.port}` : `${parts.address}:${parts.port}`;
    const broker = (await this.brokerAddrs()).get(addr);
    if (broker === undefined) return undefined;
    const r = await this.api.invoke(addr, RequestCode.VIEW_MESSAGE_BY_ID, encodeHeader(VIEW_MESSAGE_BY_ID_HEADER, { offset: parts.offset }));
    if (r.code !== ResponseCode.SUCCESS) return undefined;
    let recs;
    try {
      recs = decodeMessages(bodyOf(r), { checkCrc: false, copyBody: true });
    } catch {
      return undefined;
    }
    const m = recs[0] ? { ...toMessageExt(recs[0], broker), brokerAddr: addr } : undefined;
    // A unique key of 32 digits can decode to a real broker's address by chance: the record found
    // there must carry this very id.
    return m && m.offsetMsgId.toUpperCase() === id.toUpperCase() ? m : undefined;
  }

  /** QUERY_MESSAGE on every master serving the topic, keeping only exact matches (newest first). */
  async byKey(topic: string, key: string, range: QueryRange = {}, uniqueKey = false): Promise<FoundMessage[]> {
    const brokers = await this.brokersOf(topic);
    const lists = await Promise.all(brokers.map((b) => this.queryAt(b, topic, key, range, uniqueKey)));
    const all = lists.flat().filter((m) => (uniqueKey ? m.msgId === key : m.topic === topic && m.keys.includes(key)));
    return all.sort((a, b) => b.storeTimestamp - a.storeTimestamp);
  }

  /**
   * A unique key in one topic, or in every topic of the name server when none is given (one
   * indexed query per topic and broker; give the topic to make it one).
   */
  async byUniqueKey(key: string, topic?: string, range: QueryRange = {}): Promise<FoundMessage[]> {
    if (topic) return this.byKey(topic, key, range, true);
    const topics = await this.allTopics();
    const found: FoundMessage[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < topics.length) {
        const t = topics[next++];
        try {
          found.push(...(await this.byKey(t, key, range, true)));
        } catch (err) {
          // A topic listed by the name server whose route vanished meanwhile holds nothing to find.
          if (!(err instanceof AdminLookupError)) throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(QUERY_CONCURRENCY, topics.length) }, worker));
    return found.sort((a, b) => b.storeTimestamp - a.storeTimestamp);
  }

  /** mqadmin's queryMsgById: an offsetMsgId first, else a unique key. */
  async byId(id: string, topic?: string): Promise<FoundMessage[]> {
    const direct = await this.byOffsetMsgId(id);
    if (direct) return [direct];
    return this.byUniqueKey(id.toUpperCase(), topic);
  }

  /** The message at one queue offset; undefined when the offset holds none (or is out of range). */
  async byQueueOffset(q: QueueRef, offset: number): Promise<FoundMessage | undefined> {
    const batch = await this.pullAt(q, offset, 1);
    const m = batch.messages[0];
    return m && m.queueOffset === offset ? m : undefined;
  }

  /** [min, max) of a queue: max is the next offset to be written. */
  async queueBounds(q: QueueRef): Promise<{ min: number; max: number }> {
    const ext = encodeHeader(TOPIC_QUEUE_HEADER, { topic: q.topic, queueId: q.queueId });
    const [min, max] = await Promise.all([
      this.api.brokerOk(q.brokerAddr, RequestCode.GET_MIN_OFFSET, ext),
      this.api.brokerOk(q.brokerAddr, RequestCode.GET_MAX_OFFSET, ext),
    ]);
    return { min: decodeHeader(OFFSET_RESPONSE_HEADER, min.extFields).offset, max: decodeHeader(OFFSET_RESPONSE_HEADER, max.extFields).offset };
  }

  /** The queue offset of the first message stored at or after timestamp (the broker's rule). */
  async offsetByTime(q: QueueRef, timestamp: number): Promise<number> {
    const r = await this.api.brokerOk(q.brokerAddr, RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, encodeHeader(SEARCH_OFFSET_HEADER, { topic: q.topic, queueId: q.queueId, timestamp }));
    return decodeHeader(OFFSET_RESPONSE_HEADER, r.extFields).offset;
  }

  /**
   * The queue offsets a store-time range covers: from the first message at or after begin to the
   * first after end (both clamped to what the queue holds). Messages in it may still fall outside
   * the range by a little (the broker's search is by consume-queue position): filter on
   * storeTimestamp as well.
   */
  async rangeOf(q: QueueRef, begin?: number, end?: number): Promise<{ from: number; to: number }> {
    const b = await this.queueBounds(q);
    const from = begin === undefined ? b.min : Math.max(b.min, await this.offsetByTime(q, begin));
    const to = end === undefined ? b.max : Math.min(b.max, await this.offsetByTime(q, end + 1));
    return { from, to: Math.max(from, to) };
  }

  /** Messages of [from, to) in queue order, a pull batch at a time (bounded memory). */
  async *scan(q: QueueRef, from: number, to: number): AsyncGenerator<FoundMessage[]> {
    let offset = from;
    while (offset < to) {
      const batch = await this.pullAt(q, offset, Math.min(SCAN_BATCH, to - offset));
      const msgs = batch.messages.filter((m) => m.queueOffset < to);
      if (msgs.length > 0) yield msgs;
      if (batch.next <= offset) break;
      offset = batch.next;
    }
  }

  private async pullAt(q: QueueRef, offset: number, maxMsgNums: number): Promise<{ messages: FoundMessage[]; next: number }> {
    const ext = encodeHeader(PULL_MESSAGE_HEADER, {
      consumerGroup: TOOLS_GROUP,
      topic: q.topic,
      queueId: q.queueId,
      queueOffset: offset,
      maxMsgNums,
      // The subscription rides on the request: the tools group has no registered consumer.
      sysFlag: PullSysFlag.SUBSCRIPTION,
      commitOffset: 0,
      suspendTimeoutMillis: 0,
      subscription: '*',
      subVersion: 0,
      expressionType: 'TAG',
    });
    const r = await this.api.invoke(q.brokerAddr, RequestCode.PULL_MESSAGE, ext);
    switch (r.code) {
      case ResponseCode.SUCCESS: {
        const h = decodeHeader(PULL_MESSAGE_RESPONSE_HEADER, r.extFields);
        const recs = decodeMessages(bodyOf(r), { checkCrc: false, copyBody: true });
        return { messages: recs.map((rec) => ({ ...toMessageExt(rec, q.brokerName), brokerAddr: q.brokerAddr })), next: h.nextBeginOffset };
      }
      case ResponseCode.PULL_NOT_FOUND:
      case ResponseCode.PULL_RETRY_IMMEDIATELY:
      case ResponseCode.PULL_OFFSET_MOVED: {
        const h = decodeHeader(PULL_MESSAGE_RESPONSE_HEADER, r.extFields);
        // Filtered or removed entries: go on from where the broker says, never backwards.
        return { messages: [], next: r.code === ResponseCode.PULL_NOT_FOUND ? offset : Math.max(h.nextBeginOffset, offset) };
      }
      default:
        throw new AdminRequestError(r.code, r.remark ?? '', q.brokerAddr);
    }
  }

  private async queryAt(b: { brokerName: string; addr: string }, topic: string, key: string, range: QueryRange, uniqueKey: boolean): Promise<FoundMessage[]> {
    const ext = encodeHeader(QUERY_MESSAGE_HEADER, {
      topic,
      key,
      maxNum: range.maxNum ?? 64,
      beginTimestamp: range.begin ?? 0,
      endTimestamp: range.end ?? Number.MAX_SAFE_INTEGER,
      _UNIQUE_KEY_QUERY: uniqueKey,
    });
    const r = await this.api.invoke(b.addr, RequestCode.QUERY_MESSAGE, ext);
    if (r.code === ResponseCode.QUERY_NOT_FOUND) return [];
    if (r.code !== ResponseCode.SUCCESS) throw new AdminRequestError(r.code, r.remark ?? '', b.addr);
    return decodeMessages(bodyOf(r), { checkCrc: false, copyBody: true }).map((rec) => ({ ...toMessageExt(rec, b.brokerName), brokerAddr: b.addr }));
  }

  private async allTopics(): Promise<string[]> {
    const r = await this.api.namesrvOk(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER);
    const list = (JSON.parse(bodyOf(r).toString('utf8')) as { topicList?: string[] }).topicList ?? [];
    return list.sort();
  }

  private brokerAddrCache: Promise<Map<string, string>> | undefined;

  /** Every broker address (masters and slaves) → its broker name. */
  private brokerAddrs(): Promise<Map<string, string>> {
    return (this.brokerAddrCache ??= this.api.clusterInfo().then((info) => {
      const m = new Map<string, string>();
      for (const bd of Object.values(info.brokerAddrTable)) for (const a of Object.values(bd.brokerAddrs)) m.set(a, bd.brokerName);
      return m;
    }));
  }
}

/** The origin topic of a retried or dead-lettered message (RETRY_TOPIC), else its own. */
export function originTopicOf(m: MessageExt): string {
  return m.properties[MessageConst.PROPERTY_RETRY_TOPIC] ?? m.topic;
}

/** A message as plain JSON for `--json` and export files; the body as Base64. */
export function messageJson(m: FoundMessage): Record<string, unknown> {
  return {
    msgId: m.msgId,
    offsetMsgId: m.offsetMsgId,
    topic: m.topic,
    originTopic: originTopicOf(m),
    tags: m.tags ?? null,
    keys: m.keys,
    brokerName: m.brokerName,
    brokerAddr: m.brokerAddr,
    queueId: m.queueId,
    queueOffset: m.queueOffset,
    commitLogOffset: m.commitLogOffset,
    reconsumeTimes: m.reconsumeTimes,
    bornTimestamp: m.bornTimestamp,
    storeTimestamp: m.storeTimestamp,
    bornHost: m.bornHost,
    storeHost: m.storeHost,
    sysFlag: m.sysFlag,
    flag: m.flag,
    properties: m.properties,
    bodyLength: m.body.length,
    body: m.body.toString('base64'),
  };
}
