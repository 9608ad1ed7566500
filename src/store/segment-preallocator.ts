// The next commit-log segment is created and opened in the thread pool while the current one
// fills (RocketMQ's AllocateMappedFileService idea, issue 17): crossing a segment boundary then
// takes an open fd instead of creating a file on the event loop, which under other jobs' disk
// load took from 0.25 ms to tens of ms (open with O_CREAT is a journalled metadata update).
//
// The file is created under its final name and stays empty until the log rolls into it; an empty
// segment after the last written one is dropped when the log is opened (CommitLog.load), so a
// crash or a truncation with a prepared file on disk changes nothing.
import * as fs from 'node:fs';

interface Prepared {
  path: string;
  fd: number | null;
  /** Set when the file is no longer wanted while its open is still in the thread pool. */
  dropped: boolean;
}

export class SegmentPreallocator {
  private cur: Prepared | null = null;

  /** @param isLive whether a path is a segment of the log (never unlinked from here). */
  constructor(private readonly isLive: (path: string) => boolean) {}

  /** Starts creating path unless it is the file already prepared. */
  prepare(path: string): void {
    if (this.cur?.path === path) return;
    this.discard();
    const p: Prepared = { path, fd: null, dropped: false };
    this.cur = p;
    fs.open(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644, (err, fd) => {
      // A failed prepare is not an error: the roll opens the file itself and reports what fails.
      if (err) {
        if (this.cur === p) this.cur = null;
        return;
      }
      if (p.dropped) this.release(p.path, fd);
      else p.fd = fd;
    });
  }

  /** The open fd of path when it was prepared and is ready; undefined means: open it yourself. */
  take(path: string): number | undefined {
    const p = this.cur;
    if (!p || p.path !== path || p.fd === null) return undefined;
    this.cur = null;
    return p.fd;
  }

  /** Forgets the prepared file (truncation, reset, close): closed, and removed unless the log uses it. */
  discard(): void {
    const p = this.cur;
    this.cur = null;
    if (!p) return;
    if (p.fd === null) p.dropped = true;
    else this.release(p.path, p.fd);
  }

  private release(path: string, fd: number): void {
    fs.closeSync(fd);
    // Checked on the event loop, where the log opens its segments: no roll can come in between.
    if (!this.isLive(path)) fs.rmSync(path, { force: true });
  }
}
