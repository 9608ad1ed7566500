// A metadata file that grows by appended changes instead of being rewritten whole (issue 17):
// the snapshot (`topics.json`, RocketMQ's format, written atomically with fsync) plus a journal
// beside it (`topics.json.log`, one JSON line per change). A change is acknowledged once its line
// is written (page cache: it survives a process kill, as RocketMQ's own whole-file write does);
// when the journal outgrows the snapshot it is folded into a new snapshot and emptied, so the
// total work over n changes stays O(n) instead of O(n²).
//
// Order of one fold: pending lines are appended first, then the snapshot is written (it holds at
// least everything in the journal), then the journal is truncated. A crash between the last two
// steps replays a journal whose last word on each key equals the snapshot's, so nothing reverts.
import { closeSync, ftruncateSync, openSync, readFileSync, promises as fsp } from 'node:fs';
import type { Logger } from '../common/logger.js';
import { atomicWriteFile } from '../store/index.js';

export interface JournalLoad {
  /** The parsed snapshot, or undefined when there is none. */
  snapshot: unknown;
  /** The journal's entries in order; a torn last line (never acknowledged) is left out. */
  entries: unknown[];
}

export interface ConfigJournalOptions {
  /** Fold when the journal is past this many bytes and past the last snapshot's size (default 256 KiB). */
  minFoldBytes?: number;
}

interface Waiter {
  /** Resolved once the journal (or a snapshot) holds every line up to this sequence number. */
  seq: number;
  resolve: () => void;
}

export class ConfigJournal {
  readonly journalPath: string;
  private readonly minFoldBytes: number;
  private pending: string[] = [];
  private recorded = 0;
  private durable = 0;
  private waiters: Waiter[] = [];
  private running: Promise<void> | null = null;
  private journalBytes = 0;
  private snapshotBytes = 0;
  private foldWanted = false;
  /** Sequence number of the oldest snapshot request not yet served. */
  private foldSeq = Infinity;
  private lastLineSeq = 0;
  private fh: fsp.FileHandle | null = null;

  constructor(
    readonly path: string,
    private readonly encodeAll: () => unknown,
    private readonly logger: Logger,
    opts: ConfigJournalOptions = {},
  ) {
    this.journalPath = `${path}.log`;
    this.minFoldBytes = opts.minFoldBytes ?? 256 * 1024;
  }

  /** Reads the snapshot and the journal (at startup, before any change is recorded). */
  load(): JournalLoad {
    let snapshot: unknown;
    const text = readIfExists(this.path);
    if (text !== undefined) {
      this.snapshotBytes = text.length;
      try {
        snapshot = JSON.parse(text);
      } catch (err) {
        throw new Error(`metadata file ${this.path} is not valid JSON: ${(err as Error).message}`, { cause: err });
      }
    }
    const entries: unknown[] = [];
    const log = readIfExists(this.journalPath) ?? '';
    this.journalBytes = Buffer.byteLength(log);
    const lines = log.split('\n');
    // Everything before the last newline was written whole; what follows it is a torn write.
    for (let i = 0; i < lines.length - 1; i++) {
      if (lines[i] === '') continue;
      try {
        entries.push(JSON.parse(lines[i]));
      } catch (err) {
        throw new Error(`metadata journal ${this.journalPath} line ${i + 1} is not valid JSON: ${(err as Error).message}`, { cause: err });
      }
    }
    if (lines[lines.length - 1] !== '') {
      this.logger.warn({ path: this.journalPath, bytes: lines[lines.length - 1].length }, 'metadata journal ends in a torn line; it is ignored');
      // The torn bytes are cut so the next line starts clean.
      const fd = openSync(this.journalPath, 'r+');
      try {
        this.journalBytes -= Buffer.byteLength(lines[lines.length - 1]);
        ftruncateSync(fd, this.journalBytes);
      } finally {
        closeSync(fd);
      }
    }
    return { snapshot, entries };
  }

  /** Appends one change; `written()` resolves once it is on file. */
  record(entry: unknown): void {
    this.pending.push(`${JSON.stringify(entry)}\n`);
    this.lastLineSeq = ++this.recorded;
    this.kick();
  }

  /** Asks for a whole new snapshot (after a change the journal does not express, e.g. a replaced table). */
  snapshot(): void {
    if (!this.foldWanted) this.foldSeq = this.recorded + 1;
    this.recorded++;
    this.foldWanted = true;
    this.kick();
  }

  /** Resolves once every change recorded so far is written (page cache). */
  written(): Promise<void> {
    const seq = this.recorded;
    if (this.durable >= seq) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ seq, resolve }));
  }

  /** Writes a new snapshot now and empties the journal (shutdown); resolves when both are done. */
  async flush(): Promise<void> {
    this.snapshot();
    await this.written();
    while (this.running) await this.running;
    await this.fh?.close();
    this.fh = null;
  }

  private kick(): void {
    if (!this.running) this.running = this.run();
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        if (this.foldWanted || (this.journalBytes > this.minFoldBytes && this.journalBytes > this.snapshotBytes)) {
          this.settle(await this.fold());
          continue;
        }
        if (!this.pending.length) break;
        const upTo = this.lastLineSeq;
        await this.append();
        // A snapshot asked for meanwhile is not covered by these lines.
        this.settle(this.foldWanted ? Math.min(upTo, this.foldSeq - 1) : upTo);
      }
    } finally {
      this.running = null;
    }
  }

  private async append(): Promise<void> {
    const text = this.pending.join('');
    this.pending = [];
    try {
      this.fh ??= await fsp.open(this.journalPath, 'a');
      await this.fh.write(text);
      this.journalBytes += Buffer.byteLength(text);
    } catch (err) {
      // The changes stay in memory; a snapshot carries them to disk.
      this.logger.error({ err, path: this.journalPath }, 'cannot append to metadata journal; writing a snapshot instead');
      if (!this.foldWanted) this.foldSeq = this.lastLineSeq;
      this.foldWanted = true;
    }
  }

  /** Returns the sequence number the new snapshot covers. */
  private async fold(): Promise<number> {
    // The journal gets every pending line first, so that its last word on each key is the
    // snapshot's; nothing is awaited between the emptiness check and the encoding.
    while (this.pending.length) await this.append();
    this.foldWanted = false;
    this.foldSeq = Infinity;
    const covered = this.recorded;
    const text = JSON.stringify(this.encodeAll(), null, 2);
    try {
      await atomicWriteFile(this.path, text);
      this.snapshotBytes = text.length;
      this.fh ??= await fsp.open(this.journalPath, 'a');
      await this.fh.truncate(0);
      this.journalBytes = 0;
    } catch (err) {
      this.logger.error({ err, path: this.path }, 'cannot persist metadata');
    }
    return covered;
  }

  private settle(upTo: number): void {
    if (upTo <= this.durable) return;
    this.durable = upTo;
    if (!this.waiters.length) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq <= upTo) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
