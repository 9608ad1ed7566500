// Whole records by commit-log offset, many at once (issue 18): a lite receive knows the offsets of
// its lite topics' next records from the recent ring and reads them without the consume queue.
// Offsets are sorted and read with one read per run of nearby records, as the store's own
// batched reads do; a run's last record is read whole with a guess of its size, grown to the
// largest record seen.
import type { MessageStore } from '../../store/index.js';

/** Records further apart than this are read separately. */
const READ_GAP = 64 * 1024;
const READ_SPAN = 4 * 1024 * 1024;
const MAX_RECORD = 64 * 1024 * 1024;

function isRecordMagic(magic: number): boolean {
  return magic === (0xdaa320a7 | 0) || magic === (0xdaa320ab | 0);
}

export class RecordReader {
  /** Bytes read past the last wanted record of a run, so its whole record usually comes in the same read. */
  private guess = 4096;

  constructor(private readonly store: Pick<MessageStore, 'readRawCommitLog' | 'getConfirmedOffset'>) {}

  /**
   * Whole records at the given commit-log offsets (any order), read with one read per run of
   * nearby records; undefined for one that is not there or not yet confirmed by the replicas.
   */
  async read(phys: readonly number[]): Promise<(Buffer | undefined)[]> {
    const out: (Buffer | undefined)[] = new Array<Buffer | undefined>(phys.length);
    const order = phys.map((_, i) => i).sort((a, b) => phys[a] - phys[b]);
    const confirmed = this.store.getConfirmedOffset();
    for (let i = 0; i < order.length; ) {
      const start = phys[order[i]];
      let j = i + 1;
      while (j < order.length && phys[order[j]] - phys[order[j - 1]] <= READ_GAP && phys[order[j]] - start <= READ_SPAN) j++;
      const buf = await this.store.readRawCommitLog(start, phys[order[j - 1]] - start + this.guess);
      for (let k = i; k < j; k++) {
        const at = phys[order[k]];
        const off = at - start;
        let rec: Buffer | undefined;
        if (buf && off + 8 <= buf.length) {
          const size = buf.readInt32BE(off);
          if (off + size <= buf.length) rec = buf.subarray(off, off + size);
          else if (size > 0 && size <= MAX_RECORD) rec = (await this.store.readRawCommitLog(at, size)) ?? undefined;
          if (rec && size > this.guess) this.guess = Math.min(MAX_RECORD, size);
        } else if (buf) {
          // A raw read stops at its segment's end: a record past it is in the next segment.
          rec = await this.readOne(at);
        }
        if (rec && (rec.length < 8 || rec.readInt32BE(0) !== rec.length || !isRecordMagic(rec.readInt32BE(4)) || at + rec.length > confirmed)) rec = undefined;
        out[order[k]] = rec;
      }
      i = j;
    }
    return out;
  }

  /** The whole record at phy, read on its own. */
  private async readOne(at: number): Promise<Buffer | undefined> {
    const head = await this.store.readRawCommitLog(at, this.guess);
    if (!head || head.length < 8) return undefined;
    const size = head.readInt32BE(0);
    if (size <= 0 || size > MAX_RECORD) return undefined;
    if (size <= head.length) return head.subarray(0, size);
    if (size > this.guess) this.guess = size;
    return (await this.store.readRawCommitLog(at, size)) ?? undefined;
  }
}
