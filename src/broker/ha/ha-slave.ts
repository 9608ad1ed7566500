// The slave's side of replication: connects to the master's HA address (learnt from the name
// servers or the controller, never from config alone), says which log it holds, applies the
// master's bytes at exactly the offset it holds, and reports its new end after each write and
// once a second (a report never names bytes not yet written). A truncation order from the master (log written under an older epoch that no
// one acknowledged) is carried out before anything else. Reconnects with backoff.
import { connect, type Socket } from 'node:net';
import type { Logger } from '../../common/logger.js';
import { encodeHello, encodeReport, HaFrameReader, HaFrameType, type DataFrame, type HaFrame } from './ha-frames.js';

export interface HaTargetLog {
  /** The end of what this slave holds. */
  maxOffset(): number;
  /** Writes replicated bytes that start exactly at maxOffset(). */
  append(offset: number, data: Buffer): Promise<void>;
  /** Cuts everything at and above offset. */
  truncate(offset: number): Promise<void>;
  /** Clears the store and starts an empty log at offset (beyond maxOffset), with the master's epochs. */
  reset(offset: number, epochs: { epoch: number; start: number }[]): Promise<void>;
  /** Calls listener after every write to the log, before the written records are dispatched; returns its removal. */
  onWritten?(listener: () => void): () => void;
}

export interface HaSlaveOptions {
  brokerName: string;
  brokerId: number;
  log: HaTargetLog;
  /** The master's HA address as last learnt, or undefined while none is known. */
  masterHaAddr(): string | undefined;
  /** The last epoch this slave's log holds and where it starts. */
  lastEpoch(): { epoch: number; start: number };
  /** Data of a newer epoch arrived: remember where it starts. */
  onEpoch(epoch: number, start: number): void;
  /**
   * The master's confirmed offset (-1: it keeps none). Applied at once, not after the appends
   * before it: the store caps reads at the smaller of it and its own end.
   */
  onConfirmed?(offset: number): void;
  logger: Logger;
  reportIntervalMs?: number;
  /**
   * Report each write as soon as it is in the log (page cache), before its records are dispatched
   * to consume queues and the index: the master's acknowledgement then waits for the copy only.
   * For an ASYNC_FLUSH slave, whose appends are done once written; a SYNC_FLUSH slave reports
   * after each fsync instead.
   */
  reportOnWrite?: boolean;
}

const MAX_BACKOFF_MS = 5000;
/** Replicated bytes appended but not yet written, past which reading from the master pauses. */
const MAX_IN_FLIGHT = 16 * 1024 * 1024;

export class HaSlave {
  private socket: Socket | undefined;
  private connectedTo: string | undefined;
  private stopped = false;
  private backoff = 200;
  private loop: Promise<void> | undefined;
  /** Ends the current wait between sessions at once (stop, or a new master address). */
  private interrupt: (() => void) | undefined;
  /** Bytes applied since the connection started (tests and admin). */
  applied = 0;
  lastError = '';

  constructor(private readonly opts: HaSlaveOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  get connected(): boolean {
    return !!this.socket && !this.socket.destroyed && this.connectedTo !== undefined;
  }

  get masterAddress(): string | undefined {
    return this.connectedTo;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const addr = this.opts.masterHaAddr();
      if (!addr) {
        await this.pause(500);
        continue;
      }
      try {
        await this.session(addr);
        this.backoff = 200;
      } catch (err) {
        this.lastError = (err as Error).message;
        this.opts.logger.warn({ master: addr, err: this.lastError }, 'replication session ended');
      }
      if (!this.stopped) {
        await this.pause(this.backoff);
        this.backoff = Math.min(MAX_BACKOFF_MS, this.backoff * 2);
      }
    }
  }

  /**
   * One connection: resolves or rejects when it ends. Data frames are appended as they arrive
   * (the store orders the writes) and each is reported once written, so the next frame is parsed
   * while the previous one is still being written; reading pauses only while more than
   * MAX_IN_FLIGHT bytes await their write. Any other frame waits until every append before it
   * is written, with reading paused.
   */
  private session(addr: string): Promise<void> {
    const [host, portText] = splitHostPort(addr);
    const log = this.opts.log;
    return new Promise<void>((resolve, reject) => {
      const socket = connect({ host, port: Number(portText) });
      this.socket = socket;
      socket.setNoDelay(true);
      const reader = new HaFrameReader();
      let control: Promise<void> = Promise.resolve();
      let controlBusy = false;
      let lastAppend: Promise<void> = Promise.resolve();
      let inFlight = 0;
      /** Where the next data frame must start: the end of what was appended (written or not). */
      let next = -1;
      let failed: Error | undefined;
      const fail = (err: Error): void => {
        failed ??= err;
        socket.destroy();
      };
      const report = (): void => {
        if (!socket.destroyed) socket.write(encodeReport(log.maxOffset()));
      };
      // The log is written only by this session's appends (the next session waits for them all),
      // and data frames come only once the master has decided where this slave starts.
      const early = this.opts.reportOnWrite === true && log.onWritten !== undefined;
      const stopEarly = early
        ? log.onWritten!(() => {
            if (next >= 0) report();
          })
        : undefined;
      // Appends written in one turn of the event loop share one report: one small socket write
      // per append was a tenth of a slave's CPU.
      let reportQueued = false;
      const sendQueuedReport = (): void => {
        reportQueued = false;
        report();
      };
      const reportSoon = (): void => {
        if (reportQueued) return;
        reportQueued = true;
        setImmediate(sendQueuedReport);
      };
      const resumeIfRoom = (): void => {
        if (!controlBusy && inFlight <= MAX_IN_FLIGHT && !socket.destroyed) socket.resume();
      };
      const append = (f: DataFrame): void => {
        if (f.offset !== next) throw new Error(`master sent offset ${f.offset}, this slave holds up to ${next}`);
        const last = this.opts.lastEpoch();
        if (f.epoch > last.epoch) this.opts.onEpoch(f.epoch, f.epochStart);
        const n = f.data.length;
        next += n;
        inFlight += n;
        lastAppend = log.append(f.offset, f.data).then(() => {
          inFlight -= n;
          this.applied += n;
          if (!early) reportSoon();
          resumeIfRoom();
        });
        lastAppend.catch((err: unknown) => fail(err as Error));
        if (inFlight > MAX_IN_FLIGHT) socket.pause();
      };
      const handle = (frames: HaFrame[], from: number): void => {
        for (let i = from; i < frames.length; i++) {
          const f = frames[i];
          if (f.type === HaFrameType.DATA) {
            append(f);
            continue;
          }
          if (f.type === HaFrameType.CONFIRM) {
            this.opts.onConfirmed?.(f.offset);
            continue;
          }
          socket.pause();
          controlBusy = true;
          // The frames after this one are handled later: a data frame's bytes may be the
          // reader's scratch buffer, which the next read reuses.
          for (let k = i + 1; k < frames.length; k++) {
            const d = frames[k];
            if (d.type === HaFrameType.DATA) frames[k] = { ...d, data: Buffer.from(d.data) };
          }
          control = lastAppend
            .then(() => this.apply(f, report))
            .then(() => {
              controlBusy = false;
              next = log.maxOffset();
              handle(frames, i + 1);
              resumeIfRoom();
            })
            .catch((err: unknown) => fail(err as Error));
          return;
        }
      };
      const timer = setInterval(report, this.opts.reportIntervalMs ?? 1000);
      socket.once('connect', () => {
        this.connectedTo = addr;
        next = log.maxOffset();
        const e = this.opts.lastEpoch();
        socket.write(encodeHello({ brokerId: this.opts.brokerId, brokerName: this.opts.brokerName, maxOffset: next, epoch: e.epoch, epochStart: e.start }));
      });
      socket.on('data', (chunk: Buffer) => {
        try {
          handle(reader.push(chunk), 0);
        } catch (err) {
          fail(err as Error);
        }
      });
      socket.on('error', (err) => {
        failed ??= err;
      });
      socket.on('close', () => {
        clearInterval(timer);
        stopEarly?.();
        this.connectedTo = undefined;
        if (this.socket === socket) this.socket = undefined;
        // The next session starts from what is written: wait for every append of this one.
        const settled = (p: Promise<void>): Promise<void> => p.then(() => undefined, () => undefined);
        void Promise.all([settled(lastAppend), settled(control)]).then(() => (failed ? reject(failed) : resolve()));
      });
    });
  }

  /** A frame other than data, applied after every append before it was written. */
  private async apply(f: HaFrame, report: () => void): Promise<void> {
    const log = this.opts.log;
    switch (f.type) {
      case HaFrameType.TRUNCATE:
        this.opts.logger.warn({ from: log.maxOffset(), to: f.offset }, 'master ordered truncation of log it never acknowledged');
        await log.truncate(f.offset);
        report();
        return;
      case HaFrameType.RESET: {
        const at = log.maxOffset();
        // A second order for the same start (a periodic report crossed the first): already done.
        if (at !== f.offset) {
          this.opts.logger.warn({ from: at, to: f.offset }, 'master no longer holds the log after this slave\'s end; restarting this log at its oldest segment');
          await log.reset(f.offset, f.epochs);
        }
        report();
        return;
      }
      case HaFrameType.REFUSE:
        throw new Error(`master refused replication: ${f.reason}`);
      default:
        throw new Error(`unexpected frame type ${f.type} from the master`);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.interrupt = done;
    });
  }

  /** The master may have moved: try it now rather than after the backoff. */
  retryNow(): void {
    this.backoff = 200;
    this.interrupt?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.interrupt?.();
    this.socket?.destroy();
    await this.loop?.catch(() => undefined);
  }
}

function splitHostPort(addr: string): [string, string] {
  const i = addr.lastIndexOf(':');
  return [addr.slice(0, i), addr.slice(i + 1)];
}
