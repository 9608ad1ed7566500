// Processes of the HA bench: `apogee namesrv` / `apogee broker` children read from their ready
// line, the bench producer run to completion, and CPU time read from /proc. Every child started
// is remembered by pid so that any exit of the bench kills exactly those.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'apogee.js');
const READY_RE = /apogee ready: .*/;
const TICKS_PER_SECOND = 100;

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) {
    try {
      process.kill(c.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export interface Role {
  child: ChildProcess;
  /** `key=host:port` pairs of the ready line. */
  addrs: Record<string, string>;
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Starts `apogee <args>` (nodeArgs go to its node, e.g. --cpu-prof) from the checkout at root (this
 * one by default) and resolves at its ready line.
 */
export async function startRole(args: readonly string[], nodeArgs: readonly string[] = [], timeoutMs = 60_000, root = ROOT): Promise<Role> {
  const child = spawn(process.execPath, [...nodeArgs, join(root, 'bin', 'apogee.js'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-16_384)));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = READY_RE.exec(out);
        if (m) resolve(m[0]);
      });
      child.once('exit', (code) => reject(new Error(`apogee ${args[0]} exited with ${code} before ready:\n${err}`)));
      timer = setTimeout(() => reject(new Error(`apogee ${args[0]} not ready after ${timeoutMs} ms:\n${err}`)), timeoutMs);
    });
    child.stdout!.resume();
    const addrs: Record<string, string> = {};
    for (const part of line.slice('apogee ready: '.length).trim().split(/\s+/)) {
      const eq = part.indexOf('=');
      if (eq > 0) addrs[part.slice(0, eq)] = part.slice(eq + 1);
    }
    return { child, addrs, stderr: () => err, stop };
  } catch (e) {
    await stop();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `apogee <args>` to its end (bounded) and returns its stdout. */
export async function runTool(args: readonly string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-16_384)));
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(killer);
  live.delete(child);
  return { code, stdout: out, stderr: err };
}

/** User + system CPU time of a process so far, in ms (undefined once it is gone). */
export function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Jiffies of the whole machine so far: busy (everything but idle and iowait) and total. */
export function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((x, y) => x + y, 0);
  return { busy: total - f[3] - (f[4] ?? 0), total };
}
