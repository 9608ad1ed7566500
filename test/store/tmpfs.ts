// A real small filesystem for disk-full tests: a tmpfs mounted on a fresh temp dir, a filler
// file that takes all but a given headroom, and an unmount that always runs.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  path: string;
  /** Fills the filesystem until headroomBytes are left; returns the filler's size. */
  fill(headroomBytes: number): number;
  /** Removes the filler: the space an operator or retention frees. */
  unfill(): void;
  freeBytes(): number;
  [Symbol.dispose](): void;
}

/** Why the suite cannot mount here (not root), or undefined when it can. */
export function tmpfsUnavailable(): string | undefined {
  return process.getuid?.() === 0 ? undefined : 'mounting a tmpfs needs root (CI runs the tests as root)';
}

export function mountTmpfs(sizeMb: number): Tmpfs {
  const path = mkdtempSync(join(tmpdir(), 'apogee-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', path], { stdio: 'pipe' });
  } catch (err) {
    rmSync(path, { recursive: true, force: true });
    throw new Error(`cannot mount a ${sizeMb} MiB tmpfs at ${path}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const filler = join(path, 'filler');
  const freeBytes = (): number => {
    const s = statfsSync(path);
    return s.bavail * s.bsize;
  };
  return {
    path,
    freeBytes,
    fill(headroomBytes) {
      const chunk = Buffer.alloc(256 * 1024, 0x5a);
      const fd = openSync(filler, 'a');
      let written = 0;
      try {
        // Bounded by the filesystem's size: each pass writes at most what is free.
        for (let want = freeBytes() - headroomBytes; want > 0; want = freeBytes() - headroomBytes) {
          try {
            written += writeSync(fd, chunk, 0, Math.min(chunk.length, want));
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw err;
          }
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    unfill() {
      unlinkSync(filler);
    },
    [Symbol.dispose]() {
      try {
        execFileSync('umount', [path], { stdio: 'pipe' });
      } catch {
        // A file still open there (a store a failed test left open): detach it anyway.
        execFileSync('umount', ['-l', path], { stdio: 'pipe' });
      }
      rmSync(path, { recursive: true, force: true });
    },
  };
}
