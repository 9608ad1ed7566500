// Resetting a group's consumer offsets to a point in time (mqadmin resetOffsetByTime, issue 13).
// The committed offsets change at once, which is all an offline group or a 4.x client restarting
// needs. Online clients keep their own positions, so each is also reached its own way:
// - 4.x remoting consumers get RESET_CONSUMER_CLIENT_OFFSET (220) pushed over their connection,
//   as Java's Broker2Client does; clients that ignore it (ali-ons) are moved by their next pull,
//   which is answered PULL_OFFSET_MOVED with the reset offset as nextBeginOffset (a pending reset
//   per queue, taken by the pull path);
// - 5.x consumers receive by pop, whose per-queue cursor lives in the broker: a pending reset per
//   queue, taken by the next pop of that queue, moves the cursor and forgets what was in flight.
// Pending resets expire: a client that comes later starts from the committed offset anyway, and an
// old pending reset must not move it back.
import type { RemotingChannel } from '../../remoting/index.js';
import { createRequest, RequestCode } from '../../remoting/index.js';
import type { BrokerParts } from '../broker-parts.js';

/** How long a pending reset waits for the online client's next pull or pop. */
const PENDING_TTL_MS = 120_000;
/** Java's MQVersion V3_0_7_SNAPSHOT: older clients do not know RESET_CONSUMER_CLIENT_OFFSET. */
const MIN_RESET_CLIENT_VERSION = 79;

type Pending = Map<string, { offset: number; expires: number }>;

/** Pending resets of one broker, shared by the reset request and the pull and pop paths. */
export class OffsetResetTable {
  private readonly pull: Pending = new Map();
  private readonly pop: Pending = new Map();

  setPull(group: string, topic: string, queueId: number, offset: number, now = Date.now()): void {
    this.pull.set(keyOf(group, topic, queueId), { offset, expires: now + PENDING_TTL_MS });
  }

  setPop(group: string, topic: string, queueId: number, offset: number, now = Date.now()): void {
    this.pop.set(keyOf(group, topic, queueId), { offset, expires: now + PENDING_TTL_MS });
  }

  /** The reset offset a pull of this queue must be moved to, once; undefined when none. Cheap when empty. */
  takePull(group: string, topic: string, queueId: number, now = Date.now()): number | undefined {
    return this.pull.size === 0 ? undefined : take(this.pull, keyOf(group, topic, queueId), now);
  }

  takePop(group: string, topic: string, queueId: number, now = Date.now()): number | undefined {
    return this.pop.size === 0 ? undefined : take(this.pop, keyOf(group, topic, queueId), now);
  }
}

function keyOf(group: string, topic: string, queueId: number): string {
  return `${group}\u0001${topic}\u0001${queueId}`;
}

function take(m: Pending, key: string, now: number): number | undefined {
  const p = m.get(key);
  if (!p) return undefined;
  m.delete(key);
  if (p.expires < now) {
    for (const [k, v] of m) if (v.expires < now) m.delete(k);
    return undefined;
  }
  return p.offset;
}

const tables = new WeakMap<object, OffsetResetTable>();

/**
 * The table of the broker that owns this store. Keyed by the store because it is the one part the
 * pull and pop services and the admin processors all hold.
 */
export function offsetResetsOf(store: object): OffsetResetTable {
  let t = tables.get(store);
  if (!t) {
    t = new OffsetResetTable();
    tables.set(store, t);
  }
  return t;
}

export interface QueueResetOffset {
  topic: string;
  brokerName: string;
  queueId: number;
  /** The offset committed now. */
  offset: number;
  /** The committed offset before, -1 when the group had none. */
  previous: number;
}

export interface ResetResult {
  offsets: QueueResetOffset[];
  /** Client ids of the group's remoting consumers that were told (RESET_CONSUMER_CLIENT_OFFSET). */
  notified: string[];
}

export class OffsetResetService {
  constructor(private readonly broker: Pick<BrokerParts, 'config' | 'store' | 'topicConfigManager' | 'consumerOffsetManager' | 'consumerManager'>) {}

  /**
   * Sets the group's offsets on every queue of the topic to the first message stored at or after
   * timestamp (the end of the queue when there is none). isForce false only moves offsets back,
   * as Java's does.
   */
  async resetByTime(group: string, topic: string, timestamp: number, isForce: boolean): Promise<ResetResult> {
    const b = this.broker;
    const tc = b.topicConfigManager.selectTopicConfig(topic);
    if (!tc) return { offsets: [], notified: [] };
    const table = offsetResetsOf(b.store);
    const info = b.consumerManager.getConsumerGroupInfo(group);
    const remotingOnline = !!info && info.channels.size > 0;
    const offsets: QueueResetOffset[] = [];
    for (let queueId = 0; queueId < tc.readQueueNums; queueId++) {
      const previous = b.consumerOffsetManager.queryOffset(group, topic, queueId);
      let offset = timestamp < 0 ? b.store.getMaxOffsetInQueue(topic, queueId) : await b.store.getOffsetInQueueByTime(topic, queueId, timestamp);
      offset = Math.max(offset, b.store.getMinOffsetInQueue(topic, queueId));
      if (!isForce && previous >= 0 && offset >= previous) offset = previous;
      b.consumerOffsetManager.commitOffset(group, topic, queueId, offset);
      if (remotingOnline) table.setPull(group, topic, queueId, offset);
      table.setPop(group, topic, queueId, offset);
      offsets.push({ topic, brokerName: b.config.brokerName, queueId, offset, previous });
    }
    const notified = info ? this.notifyClients(info.channels, group, topic, timestamp, offsets) : [];
    return { offsets, notified };
  }

  private notifyClients(channels: ReadonlyMap<RemotingChannel, { clientId: string; version: number }>, group: string, topic: string, timestamp: number, offsets: QueueResetOffset[]): string[] {
    const body = Buffer.from(resetOffsetBodyFastjson(offsets));
    const out: string[] = [];
    for (const [ch, c] of channels) {
      if (ch.closed || c.version < MIN_RESET_CLIENT_VERSION) continue;
      ch.oneway(createRequest(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, { topic, group, timestamp: String(timestamp), isForce: 'true' }, body));
      out.push(c.clientId);
    }
    return out;
  }
}

/**
 * Java's ResetOffsetBody as fastjson writes it: a map keyed by MessageQueue objects, which only
 * Java clients read (this body goes to them alone; our own admin answers use plain JSON lists).
 */
export function resetOffsetBodyFastjson(offsets: readonly QueueResetOffset[]): string {
  const entries = offsets.map((o) => `${JSON.stringify({ brokerName: o.brokerName, queueId: o.queueId, topic: o.topic })}:${o.offset}`);
  return `{"offsetTable":{${entries.join(',')}}}`;
}
