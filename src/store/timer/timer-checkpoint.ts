// `timercheck`: how far delivery is confirmed. frontierMs is the wheel slot the scan
// restarts from; `delivered` lists the origin positions of that slot's timers that were
// already confirmed, so a restart does not hand them out again (the frontier slot can be
// half delivered when the caller takes fewer than a slot holds, or when past-due timers
// arrive into it).
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { readInt64, writeInt64 } from './timer-record.js';

const CHECK_MAGIC = 0x5443484b; // 'TCHK'
const CHECK_VERSION = 1;

// Layout, big-endian: 0 int32 magic, 4 int32 version, 8 int64 frontierMs, 16 int32 count,
// 20 count × int64 delivered origin positions, then uint32 crc of all before.
const HEADER_SIZE = 20;

export interface TimerCheckpoint {
  frontierMs: number;
  delivered: number[];
}

export function saveTimerCheckpoint(path: string, cp: TimerCheckpoint, sync: boolean): void {
  const buf = Buffer.allocUnsafe(HEADER_SIZE + cp.delivered.length * 8 + 4);
  buf.writeInt32BE(CHECK_MAGIC, 0);
  buf.writeInt32BE(CHECK_VERSION, 4);
  writeInt64(buf, 8, cp.frontierMs);
  buf.writeInt32BE(cp.delivered.length, 16);
  for (let i = 0; i < cp.delivered.length; i++) writeInt64(buf, HEADER_SIZE + i * 8, cp.delivered[i]);
  buf.writeUInt32BE(crc32(buf.subarray(0, buf.length - 4)), buf.length - 4);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    let done = 0;
    while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done);
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** The saved checkpoint; null when there is none. A damaged one is an error: guessing could lose timers. */
export function loadTimerCheckpoint(path: string): TimerCheckpoint | null {
  if (!existsSync(path)) return null;
  const buf = readFileSync(path);
  const bad = (why: string): Error => new Error(`timer checkpoint ${path} is damaged: ${why}`);
  if (buf.length < HEADER_SIZE + 4) throw bad('too short');
  if (buf.readInt32BE(0) !== CHECK_MAGIC || buf.readInt32BE(4) !== CHECK_VERSION) throw bad('bad magic or version');
  const count = buf.readInt32BE(16);
  if (buf.length !== HEADER_SIZE + count * 8 + 4) throw bad('bad length');
  if (crc32(buf.subarray(0, buf.length - 4)) !== buf.readUInt32BE(buf.length - 4)) throw bad('bad crc');
  const delivered: number[] = [];
  for (let i = 0; i < count; i++) delivered.push(readInt64(buf, HEADER_SIZE + i * 8));
  return { frontierMs: readInt64(buf, 8), delivered };
}
