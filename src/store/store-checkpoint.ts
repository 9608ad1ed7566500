// StoreCheckpoint: a 4 KiB file. Java's five longs keep their places (physicMsgTimestamp@0,
// logicsMsgTimestamp@8, indexMsgTimestamp@16, masterFlushedOffset@24, confirmPhyOffset@32);
// Apogee adds three of its own after them: dispatchedPhyOffset@40 (consume queues and index hold
// everything below it), flushedPhyOffset@48 (commit log fsynced below it) and confirmPhyOffsetSet@56
// (1 once replication set a confirmed offset; files written before it read 0). Recovery starts
// from these.
import * as fs from 'node:fs';
import { readLong, writeLong } from '../common/message-bytes.js';
import { fsyncFd, readFullSync, writeFull } from './fs-io.js';

const SIZE = 4096;

export interface CheckpointValues {
  physicMsgTimestamp: number;
  logicsMsgTimestamp: number;
  indexMsgTimestamp: number;
  masterFlushedOffset: number;
  confirmPhyOffset: number;
  dispatchedPhyOffset: number;
  flushedPhyOffset: number;
  confirmPhyOffsetSet: number;
}

const FIELDS: (keyof CheckpointValues)[] = [
  'physicMsgTimestamp',
  'logicsMsgTimestamp',
  'indexMsgTimestamp',
  'masterFlushedOffset',
  'confirmPhyOffset',
  'dispatchedPhyOffset',
  'flushedPhyOffset',
  'confirmPhyOffsetSet',
];

export class StoreCheckpoint {
  readonly values: CheckpointValues;
  private readonly fd: number;
  private readonly buf = Buffer.alloc(SIZE);
  /** True when the file existed with content before this process opened it. */
  readonly existed: boolean;

  constructor(readonly path: string) {
    this.fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    const n = readFullSync(this.fd, this.buf, 0, SIZE, 0);
    this.existed = n >= 56;
    if (!this.existed) this.buf.fill(0);
    const v = {} as CheckpointValues;
    FIELDS.forEach((f, i) => (v[f] = readLong(this.buf, i * 8)));
    this.values = v;
  }

  /** Writes the values and fsyncs; one write of the whole page so it is never half-updated. */
  async flush(): Promise<void> {
    FIELDS.forEach((f, i) => writeLong(this.buf, this.values[f], i * 8));
    await writeFull(this.fd, this.buf, 0, SIZE, 0);
    await fsyncFd(this.fd);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
