// Persistence of the lite table: a snapshot (config/liteState.txt) plus an append-only log of
// changes since it (config/liteState.log). A save appends only what changed (lite topics stored
// to or deleted, progress moved, indexed-through marks) and fsyncs the log, so its cost follows
// the changes, not the table. When the log outgrows the snapshot, the snapshot is rewritten
// (temp file, fsync, rename, directory fsync) and the log restarts empty: each compaction copies
// at most as much again as the log held, so the work stays proportional to the changes.
//
// Both files carry a generation: the snapshot's header names it and the log's first line names
// the snapshot it follows. A crash between writing a new snapshot and restarting the log leaves
// a log of the previous generation, which is then ignored (its changes are in the snapshot).
// Lines are tab-separated: T topic, D deletion, O group progress, I indexed-through (lite-table.ts).
import { closeSync, openSync, readFileSync, fsyncSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { LiteTable } from './lite-table.js';

export const SNAPSHOT_FILE = 'liteState.txt';
export const LOG_FILE = 'liteState.log';
/** The log is compacted into the snapshot once it holds more than this and more than the snapshot. */
const COMPACT_MIN_BYTES = 4 * 1024 * 1024;
const CHUNK_BYTES = 1 << 20;
const LOAD_SLICE = 20_000;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export interface LoadResult {
  /** Lines applied from the snapshot and the log. */
  lines: number;
  /** Lines skipped as unreadable (a torn last line of the log after a crash, or a foreign one). */
  bad: number;
  /** The log followed an older snapshot and was ignored. */
  staleLog: boolean;
}

export class LiteJournal {
  private gen = 0;
  private log: fsp.FileHandle | undefined;
  private logBytes = 0;
  private snapBytes = 0;
  private logValid = false;
  private unwritten: string[] = [];
  readonly snapshotPath: string;
  readonly logPath: string;

  constructor(
    private readonly dir: string,
    private readonly table: LiteTable,
  ) {
    this.snapshotPath = join(dir, SNAPSHOT_FILE);
    this.logPath = join(dir, LOG_FILE);
  }

  /**
   * Fills the table from the snapshot and the log after it; missing files are an empty table.
   * Yields to the event loop every LOAD_SLICE lines: a million lite topics take seconds to parse,
   * and the broker keeps serving everything else meanwhile.
   */
  async load(): Promise<LoadResult> {
    const r: LoadResult = { lines: 0, bad: 0, staleLog: false };
    // Line by line over the text: one array of every line at a million lite topics costs more in GC than the parsing.
    const apply = async (text: string, from: number): Promise<void> => {
      let n = 0;
      for (let at = from; at < text.length; ) {
        let end = text.indexOf('\n', at);
        if (end < 0) end = text.length;
        if (end > at && text.charCodeAt(at) !== 0x23) {
          if (this.table.applyLine(text.slice(at, end))) r.lines++;
          else r.bad++;
        }
        at = end + 1;
        if (++n % LOAD_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const snap = readText(this.snapshotPath);
    if (snap !== undefined) {
      this.gen = Number(/^# apogee lite state v\d+(?: gen=(\d+))?/.exec(snap)?.[1] ?? 0);
      this.snapBytes = Buffer.byteLength(snap);
      await apply(snap, 0);
    }
    const log = readText(this.logPath);
    if (log !== undefined) {
      const head = /^# gen (\d+)\n/.exec(log);
      if (head && Number(head[1]) === this.gen) {
        await apply(log, head[0].length);
        this.logBytes = Buffer.byteLength(log);
        this.logValid = true;
      } else {
        r.staleLog = true;
      }
    }
    this.table.finishLoad();
    return r;
  }

  /** Opens the log for appends (a stale or missing one starts afresh). */
  async open(): Promise<void> {
    await fsp.mkdir(this.dir, { recursive: true });
    if (!this.logValid) await this.resetLog();
    this.log = await fsp.open(this.logPath, 'a');
  }

  /**
   * Appends the table's changes and fsyncs them; compacts when the log has grown past the snapshot.
   * withTopics false appends progress and deletions only (LiteTable.takeChanges).
   */
  async flush(withTopics = true): Promise<void> {
    if (!this.log) throw new Error('lite journal is not open');
    const taken = this.table.takeChanges(withTopics);
    const lines = this.unwritten.length > 0 ? this.unwritten.concat(taken) : taken;
    this.unwritten = [];
    if (lines.length > 0) {
      const buf = Buffer.from(lines.join('\n') + '\n');
      try {
        await this.log.write(buf);
        await this.log.datasync();
      } catch (err) {
        // Kept for the next flush; lines written twice apply the same way.
        this.unwritten = lines;
        throw err;
      }
      this.logBytes += buf.length;
    }
    if (this.logBytes > Math.max(COMPACT_MIN_BYTES, this.snapBytes)) await this.compact();
  }

  /** Rewrites the snapshot from the table as it is now and restarts the log. */
  async compact(): Promise<void> {
    // Built in one synchronous pass: the table cannot change under it. Changes made while it is
    // written stay in the table's change sets and go to the new log at the next flush.
    const chunks = this.snapshotChunks(this.gen + 1);
    const tmp = `${this.snapshotPath}.tmp`;
    const fh = await fsp.open(tmp, 'w');
    let bytes = 0;
    try {
      for (const c of chunks) {
        await fh.write(c);
        bytes += c.length;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, this.snapshotPath);
    fsyncDir(this.dir);
    this.gen++;
    this.snapBytes = bytes;
    await this.log?.close();
    this.log = undefined;
    await this.resetLog();
    this.log = await fsp.open(this.logPath, 'a');
  }

  async close(): Promise<void> {
    if (this.log) await this.flush();
    await this.log?.close();
    this.log = undefined;
  }

  /** Sizes on disk, for benchmarks and logs. */
  sizes(): { snapshotBytes: number; logBytes: number; generation: number } {
    return { snapshotBytes: this.snapBytes, logBytes: this.logBytes, generation: this.gen };
  }

  private snapshotChunks(gen: number): Buffer[] {
    const out: Buffer[] = [];
    let part: string[] = [`# apogee lite state v2 gen=${gen}`];
    let size = 0;
    for (const line of this.table.lines()) {
      part.push(line);
      size += line.length + 1;
      if (size >= CHUNK_BYTES) {
        out.push(Buffer.from(part.join('\n') + '\n'));
        part = [];
        size = 0;
      }
    }
    if (part.length > 0) out.push(Buffer.from(part.join('\n') + '\n'));
    return out;
  }

  private async resetLog(): Promise<void> {
    const head = `# gen ${this.gen}\n`;
    const fh = await fsp.open(this.logPath, 'w');
    try {
      await fh.write(head);
      await fh.sync();
    } finally {
      await fh.close();
    }
    this.logBytes = head.length;
    this.logValid = true;
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse a directory fsync; the rename is still atomic there.
  }
}
