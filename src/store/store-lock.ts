// The <root>/lock file: one store per directory. Node has no flock, so the file holds the
// owner's pid; a lock whose pid is gone (a killed broker) is taken over.
import * as fs from 'node:fs';

const heldInProcess = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireStoreLock(path: string): () => void {
  if (heldInProcess.has(path)) throw new Error(`store is already open in this process (${path})`);
  let owner = NaN;
  try {
    owner = Number(fs.readFileSync(path, 'utf8').trim());
  } catch {
    // no lock file yet
  }
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
    throw new Error(`store is locked by running process ${owner} (${path})`);
  }
  fs.writeFileSync(path, String(process.pid));
  heldInProcess.add(path);
  return () => {
    heldInProcess.delete(path);
    try {
      fs.unlinkSync(path);
    } catch {
      // already gone
    }
  };
}
