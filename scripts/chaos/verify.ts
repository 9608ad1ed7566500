// Reads a topic back queue by queue with plain PULL_MESSAGE requests (no consumer state, no
// offsets committed) and holds every stored record against what was acknowledged.
import { decodeMessage } from '../../src/common/message-codec.js';
import { createRequest, RemotingClient, RequestCode, ResponseCode } from '../../src/remoting/index.js';
import { parseBody } from './body.js';
import type { Ack } from './load.js';

const GROUP = 'CHAOS_VERIFY';
const BATCH = 256;

export interface Stored {
  id: string;
  queueId: number;
  queueOffset: number;
}

export interface QueueScan {
  queueId: number;
  from: number;
  /** First queue offset after the last record read. */
  end: number;
  stored: Stored[];
  /** "q<id>@<offset>: <why>" for each record that would not decode or did not check out. */
  corrupt: string[];
  /** Set when the queue now ends below `from`: records read before are gone. */
  shrunk?: string;
}

async function pull(rc: RemotingClient, broker: string, topic: string, queueId: number, offset: number) {
  const req = createRequest(RequestCode.PULL_MESSAGE, {
    consumerGroup: GROUP,
    topic,
    queueId,
    queueOffset: offset,
    maxMsgNums: BATCH,
    sysFlag: 4, // SUBSCRIPTION: "*" given here, so the reading group needs no registration
    commitOffset: 0,
    suspendTimeoutMillis: 0,
    subscription: '*',
    subVersion: 0,
  });
  return rc.invoke(broker, req, 10_000);
}

/** Checks one record found at queue position `at`: decodes with CRC, and its body against its digest. */
function check(buf: Buffer, pos: number, topic: string, queueId: number, at: number): { size: number; stored?: Stored; corrupt?: string } {
  let rec;
  try {
    rec = decodeMessage(buf, pos, { checkCrc: true });
  } catch (err) {
    return { size: -1, corrupt: `q${queueId}@${at}: ${(err as Error).message}` };
  }
  const size = rec.totalSize;
  if (rec.topic !== topic || rec.queueId !== queueId || rec.queueOffset !== at) {
    return { size, corrupt: `q${queueId}@${at}: record says ${rec.topic} q${rec.queueId}@${rec.queueOffset}` };
  }
  const b = parseBody(rec.body);
  if ('error' in b) return { size, corrupt: `q${queueId}@${at}: ${b.error}` };
  return { size, stored: { id: b.id, queueId, queueOffset: at } };
}

/** Reads queue `queueId` from `from` to its end; bounded by the deadline (ms since epoch). */
export async function scanQueue(rc: RemotingClient, broker: string, topic: string, queueId: number, from: number, deadline: number): Promise<QueueScan> {
  const scan: QueueScan = { queueId, from, end: from, stored: [], corrupt: [] };
  let offset = from;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`read-back of ${topic} q${queueId} not done by the deadline (at ${offset})`);
    const resp = await pull(rc, broker, topic, queueId, offset);
    const e = resp.extFields ?? {};
    const maxOffset = Number(e.maxOffset);
    if (resp.code === ResponseCode.SUCCESS || resp.code === ResponseCode.PULL_NOT_FOUND || resp.code === ResponseCode.PULL_OFFSET_MOVED || resp.code === ResponseCode.PULL_RETRY_IMMEDIATELY) {
      if (maxOffset < from) {
        scan.shrunk = `q${queueId} ends at ${maxOffset}, below ${from} read before`;
        return scan;
      }
    }
    if (resp.code === ResponseCode.PULL_NOT_FOUND || resp.code === ResponseCode.PULL_OFFSET_MOVED) {
      scan.end = offset;
      return scan;
    }
    if (resp.code === ResponseCode.PULL_RETRY_IMMEDIATELY) {
      offset = Number(e.nextBeginOffset);
      continue;
    }
    if (resp.code !== ResponseCode.SUCCESS) throw new Error(`pull ${topic} q${queueId}@${offset}: code ${resp.code} ${resp.remark ?? ''}`);
    const body = Buffer.isBuffer(resp.body) ? resp.body : Buffer.concat(resp.body ?? []);
    let pos = 0;
    let k = 0;
    while (pos < body.length) {
      const r = check(body, pos, topic, queueId, offset + k);
      if (r.corrupt) scan.corrupt.push(r.corrupt);
      if (r.stored) scan.stored.push(r.stored);
      k++;
      // Record boundaries are lost after an undecodable record: ask again from the next position.
      if (r.size < 0) break;
      pos += r.size;
    }
    const next = Number(e.nextBeginOffset);
    offset = k > 0 && pos < body.length ? offset + k : Math.max(next, offset + k);
    scan.end = offset;
  }
}

export async function scanTopic(broker: string, topic: string, queues: number, from: readonly number[], deadline: number): Promise<QueueScan[]> {
  const rc = new RemotingClient();
  try {
    const out: QueueScan[] = [];
    for (let q = 0; q < queues; q++) out.push(await scanQueue(rc, broker, topic, q, from[q] ?? 0, deadline));
    return out;
  } finally {
    await rc.close();
  }
}

export interface Tally {
  acked: number;
  /** Acknowledged ids not stored at all. */
  lost: string[];
  /** Extra stored copies of an id (a send retried after its answer was lost stores twice). */
  duplicated: number;
  /** Undecodable records, CRC or digest mismatches, queue entries pointing at the wrong record, shrunk queues. */
  corrupt: string[];
  /** Acknowledged ids stored, but not at the queue position the broker acknowledged. */
  misplaced: string[];
  /** Stored ids that were never acknowledged (sends whose answer never arrived). */
  unackedStored: number;
}

/** Holds the scans against the acknowledgements. */
export function tally(acks: readonly Ack[], scans: readonly QueueScan[]): Tally {
  const where = new Map<string, string[]>();
  const corrupt: string[] = [];
  for (const s of scans) {
    corrupt.push(...s.corrupt);
    if (s.shrunk) corrupt.push(s.shrunk);
    for (const r of s.stored) {
      const list = where.get(r.id);
      const pos = `${r.queueId}@${r.queueOffset}`;
      if (list) list.push(pos);
      else where.set(r.id, [pos]);
    }
  }
  const lost: string[] = [];
  const misplaced: string[] = [];
  const ackedIds = new Set<string>();
  for (const a of acks) {
    ackedIds.add(a.id);
    const list = where.get(a.id);
    if (!list) lost.push(a.id);
    else if (!list.includes(`${a.queueId}@${a.queueOffset}`)) misplaced.push(`${a.id} acked at ${a.queueId}@${a.queueOffset}, stored at ${list.join(',')}`);
  }
  let duplicated = 0;
  let unackedStored = 0;
  for (const [id, list] of where) {
    duplicated += list.length - 1;
    if (!ackedIds.has(id)) unackedStored++;
  }
  return { acked: acks.length, lost, duplicated, corrupt, misplaced, unackedStored };
}
