// What the store knows about the space left on its filesystem, and the one place that decides
// whether a put is refused for it. Three causes make the store refuse writes, and each clears
// by itself (no restart): disk use over diskSpaceWarningLevelRatio (RocketMQ's DISK_FULL
// flag), a commit-log write that failed for want of space, and a consume-queue or index write
// that failed (RocketMQ's "logic queue error", which there needs an operator).
import * as fs from 'node:fs';

/** ENOSPC (no space) and EDQUOT (quota): the write may succeed once space is freed. */
export function isNoSpaceError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

export interface DiskProbe {
  /** Disk use of the store's filesystem, 0..1. */
  usage(): number;
  /** Bytes an unprivileged writer can still use there. */
  freeBytes(): number;
}

/** statfs of root; a filesystem that cannot be asked reads as empty (never blocks writes). */
export function statfsProbe(root: string): DiskProbe {
  const stat = (): fs.StatsFs | undefined => {
    try {
      return fs.statfsSync(root);
    } catch {
      return undefined;
    }
  };
  return {
    usage: () => {
      const s = stat();
      return s && s.blocks > 0 ? 1 - s.bavail / s.blocks : 0;
    },
    freeBytes: () => {
      const s = stat();
      return s ? s.bavail * s.bsize : Number.MAX_SAFE_INTEGER;
    },
  };
}

export type WriteBlockCause = 'ratio' | 'no-space' | 'dispatch';

export interface WriteBlock {
  cause: WriteBlockCause;
  /** Names the cause for the producer, e.g. "CL: 0.97 over diskSpaceWarningLevelRatio 90%". */
  remark: string;
  /** True when space is what is missing (answered as disk full), false for other I/O errors. */
  noSpace: boolean;
}

export function formatRatio(usage: number): string {
  return usage.toFixed(2);
}

export function ratioBlock(usage: number, warningLevel: number): WriteBlock {
  return {
    cause: 'ratio',
    noSpace: true,
    remark: `CL: ${formatRatio(usage)}, disk use ${(usage * 100).toFixed(1)}% is over diskSpaceWarningLevelRatio ${warningLevel}%`,
  };
}

export function noSpaceBlock(usage: number, err: Error, at: number): WriteBlock {
  return {
    cause: 'no-space',
    noSpace: true,
    remark: `CL: ${formatRatio(usage)}, a commit log write at offset ${at} failed: ${describe(err)}; writes resume once space is freed`,
  };
}

export function dispatchBlock(usage: number, err: Error, at: number): WriteBlock {
  const space = isNoSpaceError(err);
  return {
    cause: 'dispatch',
    noSpace: space,
    remark: `CL: ${formatRatio(usage)}, writing the consume queue or index for the record at ${at} failed: ${describe(err)}; writes resume once it succeeds`,
  };
}

function describe(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' ? 'no space left on device (ENOSPC)' : code === 'EDQUOT' ? 'disk quota exceeded (EDQUOT)' : err.message;
}

/**
 * Free bytes the filesystem must show before a store that hit ENOSPC tries writing again. A
 * retry that fails again costs only the puts of one write batch (they are answered disk full
 * and nothing of them is kept), so the bar is low: room for a couple of batches.
 */
export function resumeFreeBytes(writeBufferSize: number): number {
  return Math.max(2 * writeBufferSize, 1024 * 1024);
}
