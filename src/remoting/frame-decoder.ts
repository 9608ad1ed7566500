// Streaming frame splitter: feeds arbitrary chunks, yields whole frames (length word included).
// Frames that lie inside one chunk are handed out as views without copying; only a frame that
// spans chunks is assembled into a fresh buffer. Lengths are checked before any allocation, and a
// frame's buffer grows with the bytes received, not with what its length word claims.
import { FrameError } from './broker-error.js';

export const DEFAULT_MAX_FRAME_LENGTH = 16 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);

export class FrameDecoder {
  private readonly maxFrameLength: number;
  /**
   * Bytes of an incomplete frame carried over from earlier chunks, in one buffer that grows by
   * doubling (and never past the frame's size once known). A peer that trickles a frame a byte at a
   * time thus costs linear work and memory close to what it sent (issue 10: a list of chunks,
   * concatenated on every push, made a 64 KiB frame cost minutes of CPU).
   */
  private pending: Buffer = EMPTY;
  private pendingBytes = 0;
  /** Size (length word included) of the carried-over frame; -1 until its length word is in. */
  private pendingTotal = -1;

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
    let total = -1;
    while (buf.length - p >= 4) {
      total = this.checkLength(buf.readInt32BE(p)) + 4;
      if (buf.length - p < total) break;
      onFrame(buf.subarray(p, p + total));
      p += total;
      total = -1;
    }
    if (p < buf.length) {
      this.pendingTotal = total;
      this.keep(buf.subarray(p));
    }
  }

  /** Finishes the carried-over frame with bytes of `chunk`; returns how many it used, or -1 if still incomplete. */
  private completePending(chunk: Buffer, onFrame: (frame: Buffer) => void): number {
    let used = 0;
    if (this.pendingTotal < 0) {
      used = Math.min(4 - this.pendingBytes, chunk.length);
      this.keep(chunk.subarray(0, used));
      if (this.pendingBytes < 4) return -1;
      this.pendingTotal = this.checkLength(this.pending.readInt32BE(0)) + 4;
    }
    const want = this.pendingTotal - this.pendingBytes;
    if (chunk.length - used < want) {
      this.keep(chunk.subarray(used));
      return -1;
    }
    this.keep(chunk.subarray(used, used + want));
    // The assembled frame goes to the caller, who may keep views of it: the next frame gets a new buffer.
    const frame = this.pending.subarray(0, this.pendingTotal);
    this.pending = EMPTY;
    this.pendingBytes = 0;
    this.pendingTotal = -1;
    onFrame(frame);
    return used + want;
  }

  /** Appends bytes to the carried-over frame. */
  private keep(bytes: Buffer): void {
    const need = this.pendingBytes + bytes.length;
    if (need > this.pending.length) {
      const limit = this.pendingTotal > 0 ? this.pendingTotal : Infinity;
      const grown = Buffer.allocUnsafe(Math.max(need, Math.min(this.pending.length * 2 || 256, limit)));
      this.pending.copy(grown, 0, 0, this.pendingBytes);
      this.pending = grown;
    }
    bytes.copy(this.pending, this.pendingBytes);
    this.pendingBytes = need;
  }

  private checkLength(len: number): number {
    if (len < 4) throw new FrameError(`frame length ${len} is below the minimum of 4`);
    if (len > this.maxFrameLength) throw new FrameError(`frame length ${len} exceeds the maximum of ${this.maxFrameLength}`);
    return len;
  }
}
