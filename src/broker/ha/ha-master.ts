// The master's side of replication: an HA listener that streams the commit log to each slave
// from the offset the slave holds, tracks what each slave confirmed, keeps the in-sync set, and
// answers SYNC_MASTER puts once every in-sync slave (and at least inSyncReplicas members in all)
// has their bytes.
//
// A slave's confirmation is capped at what was sent to it on this connection: a slave that
// reports an offset it was never sent (RocketMQ issue #3015) cannot make the master acknowledge
// early.
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../common/logger.js';
import { encodeConfirm, encodeDataHead, encodeRefuse, encodeReset, encodeTruncate, HaFrameReader, HaFrameType, HA_MAX_DATA_BYTES, type HaFrame, type HelloFrame } from './ha-frames.js';

/** What the master reads of its own store. */
export interface HaSourceLog {
  /** Oldest offset still held. */
  minOffset(): number;
  /** Everything below is written (in the page cache at least). */
  writtenOffset(): number;
  /** Up to maxBytes of written log from offset, never across a segment end; null when not readable. */
  read(offset: number, maxBytes: number): Promise<Buffer | null>;
  /**
   * read for a range near the log's end: synchronous, into `into` when it fits; undefined when
   * the range is far behind (then read is used).
   */
  readHot?(offset: number, maxBytes: number, into?: Buffer): Buffer | null | undefined;
}

export interface EpochView {
  /** The current epoch and the offset its first record starts at (0/0 in classic mode). */
  current(): { epoch: number; start: number };
  /** The offset where the first epoch after `epoch` starts, or undefined when none followed it. */
  endOf(epoch: number): number | undefined;
  /** Every (epoch, start) known, oldest first: handed to a slave that restarts its log. */
  all(): readonly { epoch: number; start: number }[];
}

export interface HaMasterOptions {
  host: string;
  port: number;
  brokerName: string;
  log: HaSourceLog;
  epochs: EpochView;
  /** A slave that has not caught up for this long leaves the in-sync set. */
  haMaxTimeSlaveNotCatchup: number;
  /** Members (the master included) that must hold a record before a SYNC_MASTER put is acknowledged. */
  inSyncReplicas: number;
  logger: Logger;
  now?: () => number;
  /** The id slaves know this member by (its own entry in the in-sync set); 0 in classic mode. */
  selfId?: number;
  /**
   * Controller mode: the in-sync set as stored in etcd. Every member of it must hold a record
   * before it is acknowledged, so whoever etcd may elect next holds everything acknowledged.
   * Classic mode: undefined, and the master's own view decides.
   */
  ackSet?: () => ReadonlySet<number>;
  /** False until this member is master (controller mode starts every member standing by). */
  active?: boolean;
  /**
   * Every member of the in-sync set holds the log below this offset (RocketMQ's confirmOffset);
   * called each time it rises. With only the master in the in-sync set, everything written.
   */
  onConfirmed?: (offset: number) => void;
}

export interface SlaveView {
  brokerId: number;
  address: string;
  /** Confirmed by the slave and sent on this connection. */
  ackOffset: number;
  inSync: boolean;
  lagBytes: number;
}

interface Waiter {
  end: number;
  deadline: number;
  done: boolean;
  resolve: (ok: boolean) => void;
}

const CHUNK = 1024 * 1024;
/** How long a confirmed offset waits for a data frame to ride on before it is sent alone. */
const CONFIRM_DELAY_MS = 5;
const IDLE_TIMEOUT_MS = 20_000;

class SlaveConnection {
  brokerId = -1;
  /** Next offset to send. -1 until the handshake decided where to start. */
  next = -1;
  ackOffset = 0;
  lastCaughtUp = 0;
  private readonly reader = new HaFrameReader();
  private sending = false;
  /** The confirmed offset this slave was last told (-2: none yet). */
  private sentConfirm = -2;
  /** A data frame went out since the last confirm check: the next one will carry it. */
  streaming = false;
  closed = false;

  constructor(
    readonly socket: Socket,
    private readonly master: HaMaster,
  ) {
    socket.setNoDelay(true);
    socket.setTimeout(IDLE_TIMEOUT_MS, () => this.close('no frame from the slave for 20 s'));
    socket.on('data', (chunk: Buffer) => {
      let frames: HaFrame[];
      try {
        frames = this.reader.push(chunk);
      } catch (err) {
        this.close(`bad frame: ${(err as Error).message}`);
        return;
      }
      for (const f of frames) this.onFrame(f);
    });
    socket.on('close', () => this.close('connection closed'));
    socket.on('error', () => undefined);
  }

  get address(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  private onFrame(f: HaFrame): void {
    if (f.type === HaFrameType.HELLO) this.master.onHello(this, f);
    else if (f.type === HaFrameType.REPORT) {
      if (this.next < 0) {
        // The answer to a truncation order: the slave now holds exactly this much.
        this.master.startFrom(this, f.maxOffset);
        return;
      }
      this.master.onReport(this, Math.min(f.maxOffset, this.next));
    } else this.close(`unexpected frame type ${f.type} from a slave`);
  }

  refuse(reason: string): void {
    this.socket.end(encodeRefuse(reason));
    this.close(reason);
  }

  truncate(offset: number): void {
    this.socket.write(encodeTruncate(offset));
  }

  reset(offset: number, epochs: readonly { epoch: number; start: number }[]): void {
    this.socket.write(encodeReset(offset, epochs));
  }

  /** Tells a streaming slave the master's confirmed offset, once per change. */
  confirm(offset: number): void {
    if (this.closed || this.next < 0 || offset === this.sentConfirm) return;
    this.sentConfirm = offset;
    this.socket.write(encodeConfirm(offset));
  }

  /** The slave was not told `offset` yet. */
  behind(offset: number): boolean {
    return !this.closed && this.next >= 0 && offset !== this.sentConfirm;
  }

  /**
   * Sends whatever is written beyond next, then returns; notify() starts it again on the next
   * write. Called from the store's write listener, it sends synchronously (no await before the
   * socket write): a woken loop ran only after the store had dispatched the whole write to its
   * consume queues and index, which delayed every SYNC_MASTER round trip by that dispatch.
   * It awaits only a far-behind read or a full socket, and then loops until caught up.
   */
  async pump(): Promise<void> {
    if (this.sending || this.closed || this.next < 0) return;
    this.sending = true;
    try {
      while (!this.closed) {
        const log = this.master.log;
        if (this.next >= log.writtenOffset()) return;
        const want = Math.min(CHUNK, HA_MAX_DATA_BYTES, log.writtenOffset() - this.next);
        // Near the end, read and written in one synchronous step: the bytes may sit in the
        // master's reused read buffer, which the next read overwrites.
        let data = this.master.readHot(this.next, want);
        if (data === undefined) {
          // Far behind the log's end: read off the event loop into a buffer of its own.
          data = await log.read(this.next, want);
          if (this.closed) return;
        }
        if (!data || data.length === 0) {
          this.refuse(`offset ${this.next} is no longer held by the master (oldest ${log.minOffset()})`);
          return;
        }
        const more = this.sendFrame(data);
        // The kernel did not take it all: the socket keeps these bytes until it can.
        if (this.socket.writableLength > 0) this.master.keptBySocket(data);
        if (!more && !this.closed) await this.drained();
      }
    } catch (err) {
      this.close(`replication read failed: ${(err as Error).message}`);
    } finally {
      this.sending = false;
    }
  }

  /** Sends data as the frame at next; false when the socket wants the caller to wait for 'drain'. */
  private sendFrame(data: Buffer): boolean {
    const { epoch, start } = this.master.epochs.current();
    const offset = this.next;
    this.next += data.length;
    // One writev per frame, with the confirmed offset riding along: each socket write is a
    // syscall that wakes the slave, and they were most of the master's replication CPU.
    this.streaming = true;
    this.socket.cork();
    const headOk = this.socket.write(encodeDataHead(offset, epoch, start, data.length));
    const more = this.socket.write(data) && headOk;
    this.confirm(this.master.confirmValue());
    this.socket.uncork();
    return more;
  }

  /**
   * The master is about to write these bytes of its log at offset: a slave that is caught up gets
   * them now, so that its write overlaps the master's. True when the socket kept a reference to
   * them (the caller must not reuse the buffer).
   */
  sendIssued(offset: number, data: Buffer): boolean {
    if (this.sending || this.closed || this.next !== offset || data.length > HA_MAX_DATA_BYTES || this.socket.writableLength > 0) return false;
    const more = this.sendFrame(data);
    const kept = this.socket.writableLength > 0;
    if (!more && !this.closed) {
      // Until the socket drains, what follows goes through the pump (read back once written).
      this.sending = true;
      void this.drained().then(() => {
        this.sending = false;
        void this.pump();
      });
    }
    return kept;
  }

  notify(): void {
    void this.pump();
  }

  /** Waits for the socket to drain or close, leaving no listener behind (one per wait had piled up). */
  private drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done).off('close', done);
        resolve();
      };
      this.socket.on('drain', done).on('close', done);
    });
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.master.onClose(this, reason);
  }
}

export class HaMaster {
  readonly log: HaSourceLog;
  readonly epochs: EpochView;
  private readonly server: Server;
  private readonly conns = new Set<SlaveConnection>();
  private readonly waiters: Waiter[] = [];
  private waiterHead = 0;
  private timer: NodeJS.Timeout | undefined;
  private boundPort = 0;
  private readonly now: () => number;
  private active: boolean;

  constructor(private readonly opts: HaMasterOptions) {
    this.active = opts.active ?? true;
    this.log = opts.log;
    this.epochs = opts.epochs;
    this.now = opts.now ?? Date.now;
    this.server = createServer((s) => this.conns.add(new SlaveConnection(s, this)));
    this.server.on('error', (err) => opts.logger.error({ err }, 'HA listener error'));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as { port: number }).port;
    this.timer = setInterval(() => this.sweep(), 100);
    this.timer.unref();
    return this.boundPort;
  }

  get port(): number {
    return this.boundPort;
  }

  /** New log was written: every connection sends it now. */
  notifyWritten(): void {
    for (const c of this.conns) c.notify();
  }

  /** ReplicationStream: the store is about to write these bytes of its own; caught-up slaves get them now. */
  issued(offset: number, bytes: Buffer): boolean {
    if (!this.active) return false;
    let kept = false;
    for (const c of this.conns) if (c.sendIssued(offset, bytes)) kept = true;
    return kept;
  }

  /** ReplicationStream: a failed write cut the log: a slave sent bytes past the cut starts over (and is told to truncate). */
  cutAt(at: number): void {
    this.lastRead = undefined;
    for (const c of [...this.conns]) if (c.next > at) c.close(`the master's log was cut at ${at} after a failed write; reconnect and truncate`);
  }

  /** After each commit-log write: slaves are sent it, and a master alone confirms it at once. */
  onWritten(): void {
    for (const c of this.conns) c.notify();
    if (this.opts.onConfirmed) this.updateConfirmed(this.now());
  }

  private confirmed = -1;
  /** The last range read for a slave: the other slaves, woken by the same write, ask for it too. */
  private lastRead: { offset: number; buf: Buffer } | undefined;
  private confirmTimer: NodeJS.Timeout | undefined;

  /** Where hot reads go: reused while every socket takes a frame's bytes at once. */
  private scratch: Buffer | undefined;

  /**
   * Reads log for a slave's next frame, reusing the last read when it covers the range: written
   * log never changes (a deposed master's cut tail is dropped with the cache on deactivate), and
   * sockets do not modify what they send. One read per write instead of one per slave, into one
   * reused buffer. Synchronous: the caller writes the bytes before anything can read again.
   */
  readHot(offset: number, want: number): Buffer | null | undefined {
    const r = this.lastRead;
    if (r && offset >= r.offset && offset + want <= r.offset + r.buf.length) return r.buf.subarray(offset - r.offset, offset - r.offset + want);
    if (!this.log.readHot) return undefined;
    this.scratch ??= Buffer.allocUnsafeSlow(CHUNK);
    const buf = this.log.readHot(offset, want, this.scratch);
    if (buf === undefined) return undefined;
    this.lastRead = buf && buf.length > 0 ? { offset, buf } : undefined;
    return buf;
  }

  /** A socket still holds bytes of this buffer: if they are the read buffer's, the next read takes a new one. */
  keptBySocket(data: Buffer): void {
    if (this.scratch && data.buffer === this.scratch.buffer) this.scratch = undefined;
  }

  /** What slaves are told: -1 from an ASYNC_MASTER, which keeps no confirmed offset (they serve all they hold). */
  confirmValue(): number {
    return this.opts.onConfirmed ? Math.max(this.confirmed, 0) : -1;
  }

  /**
   * Slaves serve reads only up to the confirmed offset they were told, so that no consumer of a
   * slave sees a record a failover could cut. Under load it rides with the next data frame; a
   * frame of its own goes only to a slave that was sent no data for CONFIRM_DELAY_MS (a small
   * socket write per rise was a tenth of the master's CPU).
   */
  private queueConfirm(): void {
    if (this.confirmTimer) return;
    this.confirmTimer = setTimeout(() => {
      this.confirmTimer = undefined;
      const v = this.confirmValue();
      let again = false;
      for (const c of this.conns) {
        if (!c.behind(v)) continue;
        if (c.streaming) {
          c.streaming = false;
          again = true;
        } else c.confirm(v);
      }
      if (again) this.queueConfirm();
    }, CONFIRM_DELAY_MS);
  }

  /**
   * What every member of the in-sync set holds (RocketMQ 5's computeConfirmOffset: the smallest
   * offset they acknowledged), reported when it rises. Controller mode: the set stored in etcd, so
   * a stored member that is not connected holds it back until the set shrinks. With the master
   * alone in the set: everything written.
   */
  private updateConfirmed(now: number): void {
    if (!this.active) return;
    const written = this.log.writtenOffset();
    if (written <= this.confirmed) return;
    let held = written;
    const required = this.opts.ackSet?.();
    const self = this.opts.selfId ?? 0;
    if (required) {
      for (const id of required) {
        if (id === self) continue;
        let ack = -1;
        for (const c of this.conns) if (c.brokerId === id && !c.closed && c.next >= 0 && c.ackOffset > ack) ack = c.ackOffset;
        if (ack < held) held = ack;
      }
    } else {
      for (const c of this.conns) if (this.inSync(c, now) && c.ackOffset < held) held = c.ackOffset;
    }
    if (held > this.confirmed) {
      this.confirmed = held;
      this.opts.onConfirmed!(held);
      this.queueConfirm();
    }
  }

  /** The confirmed offset last reported, -1 before any. */
  get confirmedOffset(): number {
    return this.confirmed;
  }

  /** Starts serving slaves (this member was elected); everything its log holds counts as confirmed. */
  activate(confirmedFrom = -1): void {
    this.lastRead = undefined;
    this.active = true;
    this.confirmed = confirmedFrom;
  }

  /** Stops serving: every slave is dropped and every waiting put is answered as not replicated. */
  deactivate(): void {
    this.lastRead = undefined;
    this.active = false;
    for (const c of [...this.conns]) c.close('this member is no longer the master');
    for (let i = this.waiterHead; i < this.waiters.length; i++) if (!this.waiters[i].done) this.finish(this.waiters[i], false);
    this.settle();
  }

  get isActive(): boolean {
    return this.active;
  }

  /** The in-sync set changed elsewhere (etcd): answer the puts it now allows. */
  recheck(): void {
    this.settle();
  }

  onHello(c: SlaveConnection, h: HelloFrame): void {
    if (!this.active) return c.refuse('this member is not the master of its group');
    if (c.brokerId >= 0) return c.refuse('a second hello on one connection');
    if (h.brokerName !== this.opts.brokerName) return c.refuse(`slave belongs to broker group ${h.brokerName}, this master serves ${this.opts.brokerName}`);
    if (h.brokerId <= 0) return c.refuse(`slave brokerId must be ≥ 1, got ${h.brokerId}`);
    for (const other of this.conns) if (other !== c && other.brokerId === h.brokerId) other.close(`brokerId ${h.brokerId} connected again`);
    c.brokerId = h.brokerId;
    const point = this.truncationPoint(h);
    if (point !== undefined) {
      this.opts.logger.warn({ slave: h.brokerId, from: h.maxOffset, to: point }, 'slave holds log this master never acknowledged; ordering it to truncate');
      c.truncate(point);
      return; // its next REPORT says where it stands
    }
    this.startFrom(c, h.maxOffset);
  }

  /**
   * Where a slave must cut its log, or undefined when its log is a prefix of ours: a slave whose
   * last epoch is older than ours keeps only what that epoch had when the next one began; in the
   * same epoch it can never hold more than we wrote.
   */
  private truncationPoint(h: HelloFrame): number | undefined {
    const cur = this.epochs.current();
    if (h.epoch < cur.epoch) {
      const end = this.epochs.endOf(h.epoch) ?? cur.start;
      return h.maxOffset > end ? end : undefined;
    }
    const written = this.log.writtenOffset();
    return h.maxOffset > written ? written : undefined;
  }

  startFrom(c: SlaveConnection, offset: number): void {
    const log = this.log;
    if (offset < log.minOffset() && offset < log.writtenOffset()) {
      // What the slave lacks is gone here: it restarts its log at our oldest segment (RocketMQ
      // starts a new slave at the newest one; the oldest keeps every message still held).
      const min = log.minOffset();
      this.opts.logger.warn({ slave: c.brokerId, from: offset, to: min }, 'slave is behind the oldest segment held; ordering it to restart its log there');
      c.reset(min, this.epochs.all());
      return; // its next REPORT says where it stands
    }
    if (offset > log.writtenOffset()) {
      c.refuse(`slave reports offset ${offset} beyond the master's ${log.writtenOffset()} after truncation`);
      return;
    }
    c.next = offset;
    this.onReport(c, offset);
    this.queueConfirm();
    void c.pump();
  }

  onReport(c: SlaveConnection, offset: number): void {
    if (offset > c.ackOffset) c.ackOffset = offset;
    if (c.ackOffset >= this.log.writtenOffset()) c.lastCaughtUp = this.now();
    this.settle();
  }

  onClose(c: SlaveConnection, reason: string): void {
    if (!this.conns.delete(c)) return;
    if (c.brokerId >= 0) this.opts.logger.info({ slave: c.brokerId, reason }, 'slave disconnected');
    this.settle();
  }

  private inSync(c: SlaveConnection, now: number): boolean {
    return !c.closed && c.next >= 0 && now - c.lastCaughtUp <= this.opts.haMaxTimeSlaveNotCatchup;
  }

  /** Members in sync, the master included (its own id 0 first). */
  syncStateSet(): number[] {
    const now = this.now();
    const ids = [this.opts.selfId ?? 0];
    for (const c of this.conns) if (this.inSync(c, now)) ids.push(c.brokerId);
    return ids.sort((a, b) => a - b);
  }

  slaves(): SlaveView[] {
    const now = this.now();
    const written = this.log.writtenOffset();
    return [...this.conns]
      .filter((c) => c.brokerId >= 0)
      .map((c) => ({ brokerId: c.brokerId, address: c.address, ackOffset: c.ackOffset, inSync: this.inSync(c, now), lagBytes: Math.max(0, written - c.ackOffset) }))
      .sort((a, b) => a.brokerId - b.brokerId);
  }

  /** True when the in-sync set (the master included) has at least n members. */
  hasInSync(n: number): boolean {
    return this.syncStateSet().length >= n;
  }

  /** Resolves true once the put ending at `end` is held as SYNC_MASTER requires, false at the deadline. */
  waitReplicated(end: number, timeoutMs: number): Promise<boolean> {
    if (this.replicated(end, this.now())) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.waiters.push({ end, deadline: this.now() + timeoutMs, done: false, resolve });
      this.timer?.ref();
    });
  }

  /** Every in-sync slave holds end, and with the master at least inSyncReplicas members do. */
  private replicated(end: number, now: number): boolean {
    if (!this.active) return false;
    let holders = 1;
    const required = this.opts.ackSet?.();
    let requiredHeld = 0;
    for (const c of this.conns) {
      const holds = c.ackOffset >= end && c.next >= 0 && !c.closed;
      if (holds) {
        holders++;
        if (required?.has(c.brokerId)) requiredHeld++;
      } else if (!required && this.inSync(c, now)) return false;
    }
    if (required) {
      const others = required.size - (required.has(this.opts.selfId ?? 0) ? 1 : 0);
      if (requiredHeld < others) return false;
    }
    return holders >= this.opts.inSyncReplicas;
  }

  /** Answers waiters in offset order (puts end in increasing offsets). */
  private settle(): void {
    const now = this.now();
    if (this.opts.onConfirmed) this.updateConfirmed(now);
    while (this.waiterHead < this.waiters.length) {
      const w = this.waiters[this.waiterHead];
      if (!w.done) {
        if (!this.replicated(w.end, now)) break;
        this.finish(w, true);
      }
      this.waiterHead++;
    }
    if (this.waiterHead > 1024 && this.waiterHead * 2 > this.waiters.length) {
      this.waiters.splice(0, this.waiterHead);
      this.waiterHead = 0;
    }
    if (this.waiterHead >= this.waiters.length) this.timer?.unref();
  }

  private finish(w: Waiter, ok: boolean): void {
    w.done = true;
    w.resolve(ok);
  }

  /** Every 100 ms: deadlines pass, and a slave that stopped catching up leaves the in-sync set without a report. */
  private sweep(): void {
    const now = this.now();
    for (let i = this.waiterHead; i < this.waiters.length; i++) {
      const w = this.waiters[i];
      if (!w.done && now >= w.deadline) this.finish(w, this.replicated(w.end, now));
    }
    this.settle();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.confirmTimer) clearTimeout(this.confirmTimer);
    for (const c of [...this.conns]) c.close('master shutting down');
    for (let i = this.waiterHead; i < this.waiters.length; i++) if (!this.waiters[i].done) this.finish(this.waiters[i], false);
    this.waiters.length = 0;
    this.waiterHead = 0;
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
