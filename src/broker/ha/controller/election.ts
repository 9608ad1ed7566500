// Who may become master when the group has none: pure functions over one consistent read of the
// group's keys, so every member that reads the same revision reaches the same answer. The etcd
// transaction (election-txn.ts) is what makes a wrong answer harmless: two members that both
// believe they are best still cannot both win an epoch.
import type { CandidateRecord, MasterRecord, SyncStateRecord } from './group-keys.js';

/** One read of a group's keys at one etcd revision. */
export interface GroupSnapshot {
  master?: { record: MasterRecord; lease: string };
  /** 0 while the group has never elected anyone. */
  epoch: number;
  syncState?: SyncStateRecord;
  /** Members whose lease is alive (their key would be gone otherwise). */
  candidates: CandidateRecord[];
  /**
   * Group keys present but not parseable (hand-edited, or written by another version). Nobody
   * is elected over them: an unreadable master may be alive, an unreadable in-sync set may exclude
   * us, and an unreadable epoch would make every election transaction fail.
   */
  unreadable?: ('master' | 'epoch' | 'syncStateSet')[];
}

export type VacancyDecision =
  /** Not in the in-sync set: this member may hold less than was acknowledged. */
  | { kind: 'ineligible' }
  /** A group key cannot be read (see GroupSnapshot.unreadable); an operator must fix it. */
  | { kind: 'blocked'; keys: string[] }
  /** Give other candidates time to publish their offsets; decide again at `untilMs`. */
  | { kind: 'settle'; untilMs: number }
  /** Another live candidate is better; it campaigns, this member waits for its result. */
  | { kind: 'defer'; bestId: number }
  | { kind: 'campaign' };

export interface VacancyInput {
  snapshot: GroupSnapshot;
  selfId: number;
  /** Monotonic ms when this member first saw the group without a master. */
  vacantSinceMs: number;
  nowMs: number;
  settleMs: number;
}

/**
 * Members that may be elected: the in-sync set, or everyone while there is none (a new group,
 * whose first master starts epoch 1).
 */
export function eligibleIds(snapshot: GroupSnapshot): ReadonlySet<number> | 'all' {
  const ids = snapshot.syncState?.ids ?? [];
  return ids.length === 0 ? 'all' : new Set(ids);
}

/** Highest offset first; ties go to the lowest broker id. */
export function better(a: CandidateRecord, b: CandidateRecord): boolean {
  return a.offset > b.offset || (a.offset === b.offset && a.brokerId < b.brokerId);
}

export function bestCandidate(snapshot: GroupSnapshot): CandidateRecord | undefined {
  const eligible = eligibleIds(snapshot);
  let best: CandidateRecord | undefined;
  for (const c of snapshot.candidates) {
    if (eligible !== 'all' && !eligible.has(c.brokerId)) continue;
    if (!best || better(c, best)) best = c;
  }
  return best;
}

export function decideVacancy(i: VacancyInput): VacancyDecision {
  const { snapshot, selfId } = i;
  if (snapshot.unreadable?.length) return { kind: 'blocked', keys: snapshot.unreadable };
  const eligible = eligibleIds(snapshot);
  if (eligible !== 'all' && !eligible.has(selfId)) return { kind: 'ineligible' };
  const settled = i.vacantSinceMs + i.settleMs;
  if (i.nowMs < settled) return { kind: 'settle', untilMs: settled };
  // An eligible member whose offset predates this vacancy may not have noticed it yet: wait one
  // more settle window for it, then decide with what it published (a lower bound of its log).
  const stale = snapshot.candidates.some(
    (c) => (eligible === 'all' || eligible.has(c.brokerId)) && c.forEpoch !== snapshot.epoch + 1,
  );
  if (stale && i.nowMs < settled + i.settleMs) return { kind: 'settle', untilMs: settled + i.settleMs };
  const best = bestCandidate(snapshot);
  // Our own key is missing from the read (its put failed or our lease lapsed): publish first.
  if (!best || !snapshot.candidates.some((c) => c.brokerId === selfId)) return { kind: 'settle', untilMs: i.nowMs + i.settleMs };
  return best.brokerId === selfId ? { kind: 'campaign' } : { kind: 'defer', bestId: best.brokerId };
}
