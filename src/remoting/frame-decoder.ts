// Streaming frame splitter: feeds arbitrary chunks, yields whole frames (length word included).
// Frames that lie inside one chunk are handed out as views without copying; only a frame that
// spans chunks is assembled into a fresh buffer. Lengths are checked before any allocation.
import { FrameError } from './broker-error.js';

export const DEFAULT_MAX_FRAME_LENGTH = 16 * 1024 * 1024;

export class FrameDecoder {
  private readonly maxFrameLength: number;
  /** Bytes of an incomplete frame carried over from earlier chunks. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(maxFrameLength = DEFAULT_MAX_FRAME_LENGTH) {
    this.maxFrameLength = maxFrameLength;
  }

  /** Bytes buffered toward an incomplete frame. */
  get buffered(): number {
    return this.pendingBytes;
  }

  /**
   * Calls onFrame for every whole frame in order. A frame may be a view into `chunk`.
   * Throws FrameError on a bad length word; the stream is unusable after that.
   */
  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    let buf = chunk;
    if (this.pendingBytes > 0) {
      const used = this.completePending(chunk, onFrame);
      if (used < 0) return;
      buf = chunk.subarray(used);
    }
    let p = 0;
    while (buf.length - p >= 4) {
      const total = this.checkLength(buf.readInt32BE(p)) + 4;
      if (buf.length - p < total) break;
      onFrame(buf.subarray(p, p + total));
      p += total;
    }
    if (p < buf.length) {
      this.pending.push(buf.subarray(p));
      this.pendingBytes += buf.length - p;
    }
  }

  /** Finishes the carried-over frame with bytes of `chunk`; returns how many it used, or -1 if still incomplete. */
  private completePending(chunk: Buffer, onFrame: (frame: Buffer) => void): number {
    const all = this.pendingBytes + chunk.length;
    if (all >= 4) {
      const len = this.checkLength(Buffer.concat([...this.pending, chunk], 4).readInt32BE(0));
      const total = len + 4;
      if (all >= total) {
        const frame = Buffer.concat([...this.pending, chunk], total);
        const used = total - this.pendingBytes;
        this.pending = [];
        this.pendingBytes = 0;
        onFrame(frame);
        return used;
      }
    }
    this.pending.push(chunk);
    this.pendingBytes = all;
    return -1;
  }

  private checkLength(len: number): number {
    if (len < 4) throw new FrameError(`frame length ${len} is below the minimum of 4`);
    if (len > this.maxFrameLength) throw new FrameError(`frame length ${len} exceeds the maximum of ${this.maxFrameLength}`);
    return len;
  }
}
