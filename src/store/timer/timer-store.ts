// Scheduled messages at any time, cancellable: RocketMQ 5.x's TimerMessageStore idea
// (a time wheel over a timer log) with no broker knowledge. The caller stores the message
// elsewhere and hands us (deliverAt, commitLogOffset, size, key); we hand the same back
// when due. See docs below on the wheel's turns, rolls and the checkpoint.
//
// Slots. A timer belongs to slot floor(deliverAt / precision) × precision. The wheel has
// 2 × slotsWindow slots; writes only go to slots in [frontier, frontier + window], where
// the frontier is the newest slot loaded into memory, so the ring never laps live data.
// - A timer further away than the window is parked in the window's last slot and re-
//   appended ("rolled") each time its slot is loaded, until it reaches its own slot.
// - A timer whose slot is already loaded (past-due, or due within the frontier slot) is
//   appended to the frontier slot, for recovery, and goes straight into memory.
// Delivery. pollDue() loads slots in time order while their time is ≤ now and hands out
// timers whose deliverAt ≤ now (never early; at most one precision late when polled at
// least that often). A slot's timers are loaded whole, one slot at a time.
// Cancel. A tombstone (key, slot of deliverAt) is chained into the same slot as the timer
// will be; when the slot loads it removes the timers with that key added before it.
// Checkpoint. commit() confirms every timer handed out so far and persists (frontier,
// timers of the frontier slot already confirmed). A restart reloads from there, so a
// crash after pollDue() and before commit() hands those timers out again (at least once);
// a confirmed timer is never handed out twice.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../../common/logger.js';
import { ReadyHeap, type DueTimer, type ReadyTimer } from './ready-heap.js';
import { loadTimerCheckpoint, saveTimerCheckpoint, type TimerCheckpoint } from './timer-checkpoint.js';
import { TimerLog } from './timer-log.js';
import { TimerRecordKind, emptyTimerRecord, type TimerRecordFields } from './timer-record.js';
import { TimerWheel } from './timer-wheel.js';

export interface TimerStoreOptions {
  /** Slot width in ms (RocketMQ timerPrecisionMs). Default 1000. */
  precisionMs?: number;
  /** Slots in the roll window (RocketMQ timerRollWindowSlot); the wheel holds twice as many. Default 2 days' worth. */
  slotsWindow?: number;
  /** Timer log segment size in bytes. Default 64 MiB. */
  segmentSize?: number;
  /** Bytes of appends gathered before one write. Default 256 KiB. */
  writeBufferSize?: number;
  /** How often buffered appends go to the file (page cache); 0 = only on flush()/full buffer. Default 100 ms. */
  flushIntervalMs?: number;
  /** How often the wheel is saved (after an fsync of the log), bounding replay at open. Default 10 s. */
  wheelSaveIntervalMs?: number;
  /** fsync timercheck on every commit (power-loss safety at ~1 fsync per commit). Default false. */
  syncCheckpoint?: boolean;
  logger?: Logger;
  /** Clock for the default of pollDue() and for the first frontier of a new store. */
  now?: () => number;
}

export interface TimerEntry {
  /** Wanted delivery time, epoch ms (any safe integer; in the past = due at once). */
  deliverAtMs: number;
  commitLogOffset: number;
  size: number;
  /** Identity for cancel, e.g. topic + uniqKey; at most 4096 UTF-8 bytes. */
  key: string;
}

export interface TimerStoreStats {
  /** Timers not yet handed out; an upper bound (tombstoned timers count until their slot loads). */
  pending: number;
  /** Of those, loaded in memory. */
  ready: number;
  /** Bytes of in-memory structures: wheel image, log buffers, ready timers, checkpoint list. */
  memoryBytes: number;
  logBytes: number;
  logSegments: number;
  frontierMs: number;
  checkpointMs: number;
}

export type { DueTimer };

/** How far an idle store's saved checkpoint may trail its frontier (see checkpointLagging). */
const IDLE_CHECKPOINT_LAG_MS = 60_000;
const DEFAULT_POLL_MAX = 1024;
const DAY_MS = 86_400_000;

interface Parked {
  fields: TimerRecordFields;
  key: string;
}

export class TimerStore {
  private readonly heap = new ReadyHeap();
  private readonly rec = emptyTimerRecord();
  private readonly span: number;
  /** Newest loaded slot; scanMs = frontierMs + precision is the next to load. */
  private frontierMs = 0;
  private scanMs = 0;
  private persisted: TimerCheckpoint = { frontierMs: 0, delivered: [] };
  /** Origin positions handed out from the frontier slot (confirmed by the next commit). */
  private returned: number[] = [];
  /** How many of `returned` the persisted checkpoint already confirms. */
  private committedPrefix = 0;
  /** Handed out since the last commit(): copied forward when the checkpoint must move without them. */
  private uncommitted: ReadyTimer[] = [];
  private checkpointDirty = false;
  /** Timers chained into slots not loaded yet. */
  private pendingUnloaded = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastWheelSave = 0;
  /** wheel.changes at the last periodic save (-1: none yet). */
  private savedChanges = -1;
  private saving: Promise<void> | null = null;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly log: TimerLog,
    private wheel: TimerWheel,
    readonly precisionMs: number,
    readonly slotsWindow: number,
    private readonly opts: Required<Omit<TimerStoreOptions, 'precisionMs' | 'slotsWindow'>>,
  ) {
    this.span = slotsWindow * precisionMs;
  }

  /** Opens or creates the store in dir: recovers the log tail, the wheel and the checkpoint. */
  static open(dir: string, options: TimerStoreOptions = {}): TimerStore {
    const precisionMs = options.precisionMs ?? 1000;
    const slotsWindow = options.slotsWindow ?? Math.ceil((2 * DAY_MS) / precisionMs);
    if (!Number.isSafeInteger(precisionMs) || precisionMs < 1) throw new RangeError(`precisionMs must be a positive integer`);
    if (!Number.isSafeInteger(slotsWindow) || slotsWindow < 2 || slotsWindow > 1 << 24) {
      throw new RangeError(`slotsWindow must be an integer in [2, 2^24]`);
    }
    const opts = {
      segmentSize: options.segmentSize ?? 64 * 1024 * 1024,
      writeBufferSize: options.writeBufferSize ?? 256 * 1024,
      flushIntervalMs: options.flushIntervalMs ?? 100,
      wheelSaveIntervalMs: options.wheelSaveIntervalMs ?? 10_000,
      syncCheckpoint: options.syncCheckpoint ?? false,
      logger: options.logger ?? silentLogger,
      now: options.now ?? Date.now,
    };
    mkdirSync(dir, { recursive: true });
    const log = TimerLog.open(join(dir, 'timerlog'), opts.segmentSize, opts.writeBufferSize, opts.logger);
    try {
      const store = new TimerStore(dir, log, new TimerWheel(precisionMs, 2 * slotsWindow), precisionMs, slotsWindow, opts);
      store.recover();
      return store;
    } catch (err) {
      log.close();
      throw err;
    }
  }

  /** The slot a deliver time belongs to. */
  slotOf(deliverAtMs: number): number {
    return Math.floor(deliverAtMs / this.precisionMs) * this.precisionMs;
  }

  /**
   * Schedules a timer. Visible to pollDue() at once; in the file (safe from a process
   * kill) after the next flush (background, or flush()). Throws on bad input or after a
   * failed write.
   */
  add(entry: TimerEntry): void {
    this.assertOpen();
    const { deliverAtMs, commitLogOffset, size, key } = entry;
    if (!Number.isSafeInteger(deliverAtMs)) throw new RangeError('deliverAtMs must be a safe integer');
    if (!Number.isSafeInteger(commitLogOffset) || commitLogOffset < 0) throw new RangeError('bad commitLogOffset');
    if (!Number.isInteger(size) || size < 0 || size > 0x7fffffff) throw new RangeError('bad size');
    if (typeof key !== 'string') throw new TypeError('key must be a string');
    const slot = this.slotOf(deliverAtMs);
    const fields: TimerRecordFields = {
      prevPos: -1,
      kind: TimerRecordKind.NORMAL,
      rollTimes: 0,
      deliverAtMs,
      slotMs: slot <= this.frontierMs ? this.frontierMs : Math.min(slot, this.frontierMs + this.span),
      originPos: -1,
      commitLogOffset,
      size,
    };
    this.appendRecord(fields, key);
    if (fields.slotMs === this.frontierMs) {
      this.heap.push({ deliverAtMs, commitLogOffset, size, key, originPos: fields.originPos });
    }
  }

  /**
   * Cancels the timers with this key whose deliver time falls in deliverAtMs's slot and
   * that were added before this call. true: they (if any) will never be handed out.
   * false: that slot is already loaded and no such timer is waiting, i.e. it was handed
   * out already or never existed. Cancelling twice or an unknown key does no harm.
   */
  cancel(key: string, deliverAtMs: number): boolean {
    this.assertOpen();
    if (!Number.isSafeInteger(deliverAtMs)) throw new RangeError('deliverAtMs must be a safe integer');
    const slot = this.slotOf(deliverAtMs);
    if (slot <= this.frontierMs) {
      const removed = this.heap.removeWhere((t) => t.key === key && this.slotOf(t.deliverAtMs) === slot);
      if (removed.length === 0) return false;
      // Chained into the frontier slot, next to the timers it kills, so a reload agrees.
      this.appendTombstone(key, removed[0].deliverAtMs, this.frontierMs);
      return true;
    }
    this.appendTombstone(key, deliverAtMs, Math.min(slot, this.frontierMs + this.span));
    return true;
  }

  /**
   * Hands out up to max timers with deliverAt ≤ nowMs, in deliver-time order (ties in add
   * order). Each is handed out once until commit(); after a crash before commit() they
   * come again. The returned objects belong to the caller.
   */
  pollDue(nowMs: number = this.opts.now(), max: number = DEFAULT_POLL_MAX): DueTimer[] {
    this.assertOpen();
    const out: DueTimer[] = [];
    for (;;) {
      for (let t = this.heap.peek(); t && t.deliverAtMs <= nowMs && out.length < max; t = this.heap.peek()) {
        this.heap.pop();
        out.push(t);
        this.returned.push(t.originPos);
        this.uncommitted.push(t);
      }
      if (out.length >= max || this.heap.size > 0 || this.scanMs > nowMs) break;
      if (this.uncommitted.length === 0 && this.pendingUnloaded === 0 && this.slotOf(nowMs) > this.scanMs) {
        // Nothing is scheduled anywhere: skip the empty turns instead of walking them, and
        // move the checkpoint along so that it stays within a window of the frontier.
        this.loadSlot(this.slotOf(nowMs), null);
        if (this.checkpointLagging()) this.saveCheckpoint([]);
        continue;
      }
      // Writes reach frontier + window; the checkpoint must stay within a window behind
      // the frontier so that recovery never meets a slot lapped by the ring.
      if (this.scanMs - this.persisted.frontierMs >= this.span) this.advanceCheckpoint();
      this.loadSlot(this.scanMs, null);
    }
    return out;
  }

  /**
   * A replica following its master: hands out and confirms every timer due at or before
   * throughMs, and keeps pending (added again, due at once) those that delivered() says the
   * master has not delivered yet. Returns how many were dropped.
   */
  dropDelivered(throughMs: number, delivered: (t: DueTimer) => boolean): number {
    this.assertOpen();
    const keep: DueTimer[] = [];
    let dropped = 0;
    for (;;) {
      const due = this.pollDue(throughMs, DEFAULT_POLL_MAX);
      for (const t of due) {
        if (delivered(t)) dropped++;
        else keep.push(t);
      }
      if (due.length < DEFAULT_POLL_MAX) break;
    }
    this.commit();
    for (const t of keep) this.add({ deliverAtMs: t.deliverAtMs, commitLogOffset: t.commitLogOffset, size: t.size, key: t.key });
    return dropped;
  }

  /** Confirms every timer handed out so far and persists the checkpoint. */
  commit(): void {
    this.assertOpen();
    // Nothing handed out since the last save, only the frontier moved: the saved checkpoint
    // still confirms every hand-out, and a restart from it walks the empty slots in between.
    if (this.uncommitted.length === 0 && (!this.checkpointDirty || !this.checkpointLagging())) return;
    this.saveCheckpoint(this.returned.slice());
    this.committedPrefix = this.returned.length;
    this.uncommitted = [];
  }

  /** Writes buffered appends and fsyncs the log: everything added before is durable. */
  async flush(): Promise<void> {
    this.assertOpen();
    await this.log.sync();
  }

  stats(): TimerStoreStats {
    return {
      pending: this.pendingUnloaded + this.heap.size,
      ready: this.heap.size,
      memoryBytes: this.wheel.bytes + this.log.bufferBytes + this.heap.approxBytes() + (this.returned.length + this.uncommitted.length) * 8,
      logBytes: this.log.sizeBytes,
      logSegments: this.log.segmentCount,
      frontierMs: this.frontierMs,
      checkpointMs: this.persisted.frontierMs,
    };
  }

  /** Flushes and fsyncs the log and saves the wheel. Unconfirmed hand-outs stay unconfirmed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.saving;
    await this.log.sync();
    this.wheel.save(this.wheelPath(), this.log.endPos, this.log.segmentTable());
    this.log.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private recover(): void {
    const cp = loadTimerCheckpoint(this.checkPath());
    const fresh = cp === null;
    this.persisted = cp ?? { frontierMs: this.slotOf(this.opts.now()), delivered: [] };
    const c = this.persisted.frontierMs;
    const snap = TimerWheel.load(this.wheelPath(), this.precisionMs, 2 * this.slotsWindow);
    let from = this.log.firstPos;
    if (snap && snap.logOffset <= this.log.endPos) {
      this.wheel = snap.wheel;
      for (const s of snap.segments) this.log.setSegmentMaxSlot(s.start, s.maxSlotMs);
      from = Math.max(from, snap.logOffset);
    }
    const linked = this.replay(from, c);
    if (linked.staleWheel) {
      this.opts.logger.warn('timer store: saved wheel points past the log end; rebuilding it from the log');
      this.wheel = new TimerWheel(this.precisionMs, 2 * this.slotsWindow);
      this.replay(this.log.firstPos, c);
    }
    const rewritten = linked.staleWheel || linked.truncated || !snap;
    if (rewritten) {
      // Replace a wheel file that no longer matches the log before anything is appended.
      this.wheel.save(this.wheelPath(), this.log.endPos, this.log.segmentTable());
    }
    // The file matches the wheel when it was just written or when replay linked nothing into the
    // loaded one; the periodic save then waits for a real change (it used to rewrite it once anyway).
    if (rewritten || this.wheel.changes === 0) this.savedChanges = this.wheel.changes;
    this.frontierMs = c - this.precisionMs;
    this.scanMs = c;
    this.pendingUnloaded = this.wheel.timersFrom(c);
    const skip = new Set(this.persisted.delivered);
    this.loadSlot(c, skip);
    this.returned = this.persisted.delivered.slice();
    this.committedPrefix = this.returned.length;
    // Slots that were the frontier before the restart may hold past-due timers; loading
    // them all now keeps hand-outs in deliver-time order.
    const early = this.lastEarlySlot(c);
    for (let s = c + this.precisionMs; s <= early; s += this.precisionMs) this.loadSlot(s, skip);
    if (fresh) this.saveCheckpoint([]);
    this.lastWheelSave = Date.now();
    if (this.opts.flushIntervalMs > 0) {
      this.timer = setInterval(() => this.tick(), this.opts.flushIntervalMs);
      this.timer.unref();
    }
    this.opts.logger.info(
      { frontierMs: c, pending: this.stats().pending, logBytes: this.log.sizeBytes, replayedFrom: from },
      'timer store opened',
    );
  }

  private lastEarlySlot(from: number): number {
    for (let s = from + (2 * this.slotsWindow - 1) * this.precisionMs; s > from; s -= this.precisionMs) {
      if (this.wheel.hasEarly(s)) return s;
    }
    return from;
  }

  /** Links log records from `from` into the wheel; reports whether the wheel names records past the (cut) end. */
  private replay(from: number, checkpointMs: number): { staleWheel: boolean; truncated: boolean } {
    const wheel = this.wheel;
    const result = this.log.scan(from, (pos, rec) => {
      if (rec.slotMs < checkpointMs) return;
      const isTimer = rec.kind === TimerRecordKind.NORMAL;
      wheel.link(rec.slotMs, pos, isTimer, isTimer && this.slotOf(rec.deliverAtMs) < rec.slotMs);
    });
    const truncated = result.truncatedBytes > 0;
    if (truncated) {
      this.opts.logger.warn({ cutBytes: result.truncatedBytes, endPos: result.endPos }, 'timer store: cut torn log tail');
    }
    const end = this.log.endPos;
    for (let i = 0; i < 2 * this.slotsWindow; i++) {
      if (wheel.lastPos(checkpointMs + i * this.precisionMs) >= end) return { staleWheel: true, truncated };
    }
    return { staleWheel: false, truncated };
  }

  /** Makes slot s the frontier: walks its chain, rolls parked records on, readies due timers. */
  private loadSlot(s: number, skip: Set<number> | null): void {
    if (this.wheel.lastPos(s) < 0) {
      this.moveFrontier(s);
      return;
    }
    const seen = new Set<number>();
    const tombs = new Map<string, number>();
    const due: ReadyTimer[] = [];
    const parked: Parked[] = [];
    for (let pos = this.wheel.lastPos(s); pos >= 0; ) {
      const r = this.log.read(pos, this.rec);
      if (r.slotMs !== s) throw new Error(`timer log record at ${pos} is in slot ${r.slotMs}, chained into ${s}`);
      pos = r.prevPos;
      if (seen.has(r.originPos)) continue; // the same roll repeated after a crash
      seen.add(r.originPos);
      const slot = this.slotOf(r.deliverAtMs);
      if (slot > s) {
        parked.push({ key: r.key, fields: { ...r, kind: r.kind as TimerRecordKind, rollTimes: r.rollTimes + 1 } });
      } else if (r.kind === TimerRecordKind.DELETE) {
        const k = tombKey(r.key, slot);
        tombs.set(k, Math.max(tombs.get(k) ?? -1, r.originPos));
      } else {
        const { deliverAtMs, commitLogOffset, size, key, originPos } = r;
        due.push({ deliverAtMs, commitLogOffset, size, key, originPos });
      }
    }
    this.pendingUnloaded -= this.wheel.timers(s);
    this.moveFrontier(s);
    for (const p of parked) {
      p.fields.slotMs = Math.min(this.slotOf(p.fields.deliverAtMs), s + this.span);
      this.appendRecord(p.fields, p.key);
    }
    for (const t of due) {
      if (skip?.has(t.originPos)) continue;
      if (tombs.size > 0 && (tombs.get(tombKey(t.key, this.slotOf(t.deliverAtMs))) ?? -1) > t.originPos) continue;
      this.heap.push(t);
    }
  }

  private moveFrontier(s: number): void {
    this.frontierMs = s;
    this.scanMs = s + this.precisionMs;
    this.returned = [];
    this.committedPrefix = 0;
    this.checkpointDirty = true;
  }

  private appendTombstone(key: string, deliverAtMs: number, slotMs: number): void {
    this.appendRecord(
      { prevPos: -1, kind: TimerRecordKind.DELETE, rollTimes: 0, deliverAtMs, slotMs, originPos: -1, commitLogOffset: 0, size: 0 },
      key,
    );
  }

  private appendRecord(fields: TimerRecordFields, key: string): number {
    fields.prevPos = this.wheel.lastPos(fields.slotMs);
    const pos = this.log.append(fields, key);
    const isTimer = fields.kind === TimerRecordKind.NORMAL;
    this.wheel.link(fields.slotMs, pos, isTimer, isTimer && this.slotOf(fields.deliverAtMs) < fields.slotMs);
    if (isTimer && fields.slotMs > this.frontierMs) this.pendingUnloaded++;
    return pos;
  }

  /**
   * Moves the checkpoint to the frontier while hand-outs are unconfirmed: they are first
   * copied (same origin, so a reload dedups them) into the frontier slot, where a restart
   * finds them again.
   */
  private advanceCheckpoint(): void {
    for (const t of this.uncommitted) {
      const { deliverAtMs, commitLogOffset, size, originPos } = t;
      const kind = TimerRecordKind.NORMAL;
      this.appendRecord({ prevPos: -1, kind, rollTimes: 0, deliverAtMs, slotMs: this.frontierMs, originPos, commitLogOffset, size }, t.key);
    }
    this.saveCheckpoint(this.returned.slice(0, this.committedPrefix));
  }

  /**
   * The saved checkpoint is far enough behind the frontier to be moved although nothing was
   * handed out. Saved at every slot, an idle store wrote and renamed a file on the event loop
   * every second (a rename waits for the file system's journal: up to tens of ms while the
   * commit log is being written).
   */
  private checkpointLagging(): boolean {
    return this.frontierMs - this.persisted.frontierMs >= Math.min(IDLE_CHECKPOINT_LAG_MS, this.span / 2);
  }

  private saveCheckpoint(delivered: number[]): void {
    const cp = { frontierMs: this.frontierMs, delivered };
    saveTimerCheckpoint(this.checkPath(), cp, this.opts.syncCheckpoint);
    this.persisted = cp;
    this.checkpointDirty = false;
    const removed = this.log.deleteSegmentsBefore(cp.frontierMs);
    if (removed > 0) this.opts.logger.info({ removed }, 'timer store: deleted consumed log segments');
  }

  private tick(): void {
    try {
      this.log.flush();
    } catch (err) {
      this.opts.logger.error({ err }, 'timer store: log write failed; refusing further writes');
      return;
    }
    // An unchanged wheel is not written again (it is 24 bytes a slot, megabytes, and fsynced).
    if (this.saving || this.wheel.changes === this.savedChanges || Date.now() - this.lastWheelSave < this.opts.wheelSaveIntervalMs) return;
    this.lastWheelSave = Date.now();
    this.saving = this.saveWheel()
      .catch((err: unknown) => this.opts.logger.error({ err }, 'timer store: saving the wheel failed'))
      .finally(() => {
        this.saving = null;
      });
  }

  /**
   * The log is fsynced up to `upTo` before the wheel claims it; the wheel may already name
   * later records, which replay links again (harmless) or, if the tail was lost, open()
   * detects and rebuilds.
   */
  private async saveWheel(): Promise<void> {
    const upTo = this.log.endPos;
    await this.log.sync();
    if (this.closed) return;
    const changes = this.wheel.changes;
    await this.wheel.saveInBackground(this.wheelPath(), upTo, this.log.segmentTable());
    this.savedChanges = changes;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('timer store is closed');
  }

  private wheelPath(): string {
    return join(this.dir, 'timerwheel');
  }

  private checkPath(): string {
    return join(this.dir, 'timercheck');
  }
}

function tombKey(key: string, slotMs: number): string {
  return `${slotMs}\u0000${key}`;
}
