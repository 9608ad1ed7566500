// The <root>/lock file: one store per directory. The lock is a kernel flock on the file (as
// RocketMQ's FileLock is), so it dies with its process: a SIGKILLed broker left unreaped, or a
// pid since reused by an unrelated process, never blocks a restart. The file's text (pid, start
// time, host) only names the holder in the refusal; it is never what decides.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

interface FsExt {
  flockSync(fd: number, flags: 'exnb' | 'un'): void;
}
const fsExt = createRequire(import.meta.url)('fs-ext') as FsExt;

const heldInProcess = new Set<string>();

export class StoreLockedError extends Error {
  constructor(
    readonly path: string,
    readonly holder: string,
    inProcess = false,
  ) {
    super(
      inProcess
        ? `store ${dirname(path)} is already open in this process (pid ${process.pid})`
        : `store ${dirname(path)} is locked by a running process (${holder || 'holder unknown'}); lock file ${path}`,
    );
    this.name = 'StoreLockedError';
  }
}

/** Takes the lock or throws StoreLockedError; returns the release function. */
export function acquireStoreLock(path: string): () => void {
  if (heldInProcess.has(path)) throw new StoreLockedError(path, `pid=${process.pid}`, true);
  const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  try {
    fsExt.flockSync(fd, 'exnb');
  } catch (err) {
    const holder = readHolder(fd);
    fs.closeSync(fd);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EWOULDBLOCK') throw new StoreLockedError(path, holder);
    throw err;
  }
  const text = `pid=${process.pid} started=${new Date(Date.now() - process.uptime() * 1000).toISOString()} host=${hostname()}\n`;
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, text, 0);
  heldInProcess.add(path);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    heldInProcess.delete(path);
    // The file stays: unlinking it would let a process that opened the old inode and one that
    // creates a new file both believe they hold the lock.
    try {
      fs.ftruncateSync(fd, 0);
    } catch {
      // diagnostics only
    }
    fs.closeSync(fd);
  };
}

function readHolder(fd: number): string {
  try {
    const buf = Buffer.alloc(256);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return buf.toString('utf8', 0, n).trim();
  } catch {
    return '';
  }
}
