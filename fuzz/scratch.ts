// Where targets that need files put them.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory, on a tmpfs when there is one: a target writes (and recovery fsyncs) per input. */
export function scratchDir(prefix: string): string {
  const base = process.platform === 'linux' && existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  return mkdtempSync(join(base, prefix));
}
