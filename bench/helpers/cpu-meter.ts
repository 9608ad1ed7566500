// CPU time of this process and of a child (from /proc/<pid>/stat on Linux) over a phase, so a
// figure can say which side was the limit.
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

function childCpuMs(pid: number | undefined): number | undefined {
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

export interface CpuMeter {
  /** "broker 93 % of a core, load 61 %" for the time since the meter started. */
  report(): string;
}

export function startCpuMeter(childPid: number | undefined): CpuMeter {
  const t0 = performance.now();
  const self0 = process.cpuUsage();
  const child0 = childCpuMs(childPid);
  return {
    report() {
      const wall = performance.now() - t0;
      const self = process.cpuUsage(self0);
      const selfPct = Math.round(((self.user + self.system) / 1000 / wall) * 100);
      const child1 = childCpuMs(childPid);
      const childPct = child0 === undefined || child1 === undefined ? '?' : String(Math.round(((child1 - child0) / wall) * 100));
      return `broker ${childPct} % of a core, load process ${selfPct} %`;
    },
  };
}
