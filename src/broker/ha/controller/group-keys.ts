// The etcd key layout of one broker group and the values stored under it. Everything the group
// agrees on lives here; a value that does not parse is treated as absent and reported, so a
// hand-edited or foreign key can stall an election but never crash a broker.
//
//   <root>/<cluster>/<brokerName>/master            MasterRecord, bound to the master's lease
//   <root>/<cluster>/<brokerName>/epoch             decimal epoch, no lease (survives every member)
//   <root>/<cluster>/<brokerName>/syncStateSet      SyncStateRecord, no lease
//   <root>/<cluster>/<brokerName>/candidates/<id>   CandidateRecord, bound to that member's lease

export const KEY_ROOT = '/apogee/ha';

export interface GroupKeys {
  prefix: string;
  master: string;
  epoch: string;
  syncStateSet: string;
  candidatesPrefix: string;
  candidate(id: number): string;
}

export function groupKeys(clusterName: string, brokerName: string): GroupKeys {
  // Names are path segments: a '/' inside one would let two groups share keys.
  const prefix = `${KEY_ROOT}/${encodeURIComponent(clusterName)}/${encodeURIComponent(brokerName)}/`;
  const candidatesPrefix = `${prefix}candidates/`;
  return {
    prefix,
    master: `${prefix}master`,
    epoch: `${prefix}epoch`,
    syncStateSet: `${prefix}syncStateSet`,
    candidatesPrefix,
    candidate: (id) => `${candidatesPrefix}${id}`,
  };
}

export interface MasterRecord {
  brokerId: number;
  epoch: number;
  brokerAddr: string;
  haAddr: string;
}

export interface SyncStateRecord {
  /** The epoch of the master that wrote it: a set is only meaningful with its epoch. */
  epoch: number;
  ids: number[];
}

export interface CandidateRecord {
  brokerId: number;
  brokerAddr: string;
  haAddr: string;
  /** Max commit-log offset when published. */
  offset: number;
  /** The epoch this member campaigns for (current epoch + 1 when the offset was published; 0: none). */
  forEpoch: number;
}

const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string';

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function parseMaster(text: string): MasterRecord | undefined {
  const o = parseJson(text);
  if (!o || !isId(o.brokerId) || !isId(o.epoch) || !isStr(o.brokerAddr) || !isStr(o.haAddr)) return undefined;
  return { brokerId: o.brokerId, epoch: o.epoch, brokerAddr: o.brokerAddr, haAddr: o.haAddr };
}

export function parseSyncState(text: string): SyncStateRecord | undefined {
  const o = parseJson(text);
  if (!o || !isId(o.epoch) || !Array.isArray(o.ids) || !o.ids.every(isId)) return undefined;
  return { epoch: o.epoch, ids: normalizeIds(o.ids) };
}

export function parseCandidate(text: string): CandidateRecord | undefined {
  const o = parseJson(text);
  if (!o || !isId(o.brokerId) || !isId(o.offset) || !isId(o.forEpoch) || !isStr(o.brokerAddr) || !isStr(o.haAddr)) return undefined;
  return { brokerId: o.brokerId, brokerAddr: o.brokerAddr, haAddr: o.haAddr, offset: o.offset, forEpoch: o.forEpoch };
}

/** The epoch key holds a bare decimal so that a transaction can compare it by value. */
export function parseEpoch(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 0x7fffffff ? n : undefined;
}

export function normalizeIds(ids: readonly number[]): number[] {
  return [...new Set(ids)].sort((a, b) => a - b);
}
