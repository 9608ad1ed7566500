// Frames of the master↔slave replication connection (haListenPort). RocketMQ's classic HA sends
// bare 8-byte offsets one way and 12-byte-headed data the other; ours adds a type byte and a
// length so that a handshake (who the slave is, which epochs it holds) and a truncation order fit
// on the same connection, and so every length read from the wire is checked before use.
//
// Frame: type u8 | length u32 (of the payload) | payload.
//   HELLO    slave → master   brokerId i32 | maxOffset i64 | epoch i32 | epochStart i64 | brokerName utf8
//   REPORT   slave → master   maxOffset i64 (what the slave holds, after its own write)
//   TRUNCATE master → slave   offset i64 (cut everything above, then report again)
//   DATA     master → slave   offset i64 | epoch i32 | epochStart i64 | bytes (raw commit-log bytes from offset)
//   REFUSE   master → slave   reason utf8 (the master closes after it)
//   RESET    master → slave   offset i64 | count u32 | count × (epoch i32 | start i64): the slave's
//                             log ends before the master's oldest segment, which starts at offset;
//                             the slave clears its store, starts its log there, takes the master's
//                             epoch table, then reports again
//   CONFIRM  master → slave   offset i64: every member of the in-sync set holds the log below it
//                             (the master's confirmed offset); -1 when the master keeps none
//                             (ASYNC_MASTER) and everything held may be read

export const HaFrameType = { HELLO: 1, REPORT: 2, TRUNCATE: 3, DATA: 4, REFUSE: 5, RESET: 6, CONFIRM: 7 } as const;
export type HaFrameTypeValue = (typeof HaFrameType)[keyof typeof HaFrameType];

export const HA_HEADER_BYTES = 5;
/** A data frame carries at most this much log; larger lengths are refused as corrupt. */
export const HA_MAX_DATA_BYTES = 4 * 1024 * 1024;
const MAX_PAYLOAD = HA_MAX_DATA_BYTES + 64;
const MAX_NAME_BYTES = 1024;

export interface HelloFrame {
  type: typeof HaFrameType.HELLO;
  brokerId: number;
  maxOffset: number;
  /** The last epoch in the slave's log and the offset it starts at (0/0 without controller mode). */
  epoch: number;
  epochStart: number;
  brokerName: string;
}
export interface ReportFrame {
  type: typeof HaFrameType.REPORT;
  maxOffset: number;
}
export interface TruncateFrame {
  type: typeof HaFrameType.TRUNCATE;
  offset: number;
}
export interface DataFrame {
  type: typeof HaFrameType.DATA;
  offset: number;
  epoch: number;
  epochStart: number;
  data: Buffer;
}
export interface RefuseFrame {
  type: typeof HaFrameType.REFUSE;
  reason: string;
}
export interface ResetFrame {
  type: typeof HaFrameType.RESET;
  offset: number;
  epochs: { epoch: number; start: number }[];
}
export interface ConfirmFrame {
  type: typeof HaFrameType.CONFIRM;
  /** -1: the master keeps no confirmed offset. */
  offset: number;
}
export type HaFrame = HelloFrame | ReportFrame | TruncateFrame | DataFrame | RefuseFrame | ResetFrame | ConfirmFrame;

/** An epoch table longer than this in a reset frame is refused as corrupt. */
export const HA_MAX_RESET_EPOCHS = 65536;

export class HaFrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HaFrameError';
  }
}

function head(type: HaFrameTypeValue, len: number): Buffer {
  const b = Buffer.allocUnsafe(HA_HEADER_BYTES + len);
  b.writeUInt8(type, 0);
  b.writeUInt32BE(len, 1);
  return b;
}

export function encodeHello(f: Omit<HelloFrame, 'type'>): Buffer {
  const name = Buffer.from(f.brokerName, 'utf8');
  if (name.length > MAX_NAME_BYTES) throw new HaFrameError(`broker name is ${name.length} bytes, at most ${MAX_NAME_BYTES}`);
  const b = head(HaFrameType.HELLO, 24 + name.length);
  b.writeInt32BE(f.brokerId, 5);
  b.writeBigInt64BE(BigInt(f.maxOffset), 9);
  b.writeInt32BE(f.epoch, 17);
  b.writeBigInt64BE(BigInt(f.epochStart), 21);
  name.copy(b, 29);
  return b;
}

export function encodeReport(maxOffset: number): Buffer {
  const b = head(HaFrameType.REPORT, 8);
  b.writeBigInt64BE(BigInt(maxOffset), 5);
  return b;
}

export function encodeTruncate(offset: number): Buffer {
  const b = head(HaFrameType.TRUNCATE, 8);
  b.writeBigInt64BE(BigInt(offset), 5);
  return b;
}

/** The header of a data frame; the log bytes follow it as a second buffer (no copy). */
export function encodeDataHead(offset: number, epoch: number, epochStart: number, dataLength: number): Buffer {
  if (dataLength > HA_MAX_DATA_BYTES) throw new HaFrameError(`data frame of ${dataLength} bytes, at most ${HA_MAX_DATA_BYTES}`);
  const b = head(HaFrameType.DATA, 20 + dataLength);
  b.writeBigInt64BE(BigInt(offset), 5);
  b.writeInt32BE(epoch, 13);
  b.writeBigInt64BE(BigInt(epochStart), 17);
  return b.subarray(0, HA_HEADER_BYTES + 20);
}

export function encodeReset(offset: number, epochs: readonly { epoch: number; start: number }[]): Buffer {
  if (epochs.length > HA_MAX_RESET_EPOCHS) throw new HaFrameError(`${epochs.length} epochs, at most ${HA_MAX_RESET_EPOCHS}`);
  const b = head(HaFrameType.RESET, 12 + epochs.length * 12);
  b.writeBigInt64BE(BigInt(offset), 5);
  b.writeUInt32BE(epochs.length, 13);
  epochs.forEach((e, i) => {
    b.writeInt32BE(e.epoch, 17 + i * 12);
    b.writeBigInt64BE(BigInt(e.start), 21 + i * 12);
  });
  return b;
}

export function encodeConfirm(offset: number): Buffer {
  const b = head(HaFrameType.CONFIRM, 8);
  b.writeBigInt64BE(BigInt(offset), 5);
  return b;
}

export function encodeRefuse(reason: string): Buffer {
  const text = Buffer.from(reason.slice(0, 512), 'utf8');
  const b = head(HaFrameType.REFUSE, text.length);
  text.copy(b, 5);
  return b;
}

function offsetAt(p: Buffer, pos: number, what: string): number {
  const v = p.readBigInt64BE(pos);
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new HaFrameError(`${what} ${v} is out of range`);
  return Number(v);
}

function need(p: Buffer, n: number, what: string): void {
  if (p.length < n) throw new HaFrameError(`${what} frame of ${p.length} bytes, needs ${n}`);
}

/** Decodes one payload of a frame whose header was read. */
export function decodePayload(type: number, p: Buffer): HaFrame {
  switch (type) {
    case HaFrameType.HELLO: {
      need(p, 24, 'hello');
      if (p.length - 24 > MAX_NAME_BYTES) throw new HaFrameError(`hello frame broker name of ${p.length - 24} bytes`);
      return {
        type,
        brokerId: p.readInt32BE(0),
        maxOffset: offsetAt(p, 4, 'hello maxOffset'),
        epoch: p.readInt32BE(12),
        epochStart: offsetAt(p, 16, 'hello epochStart'),
        brokerName: p.toString('utf8', 24),
      };
    }
    case HaFrameType.REPORT:
      need(p, 8, 'report');
      return { type, maxOffset: offsetAt(p, 0, 'reported offset') };
    case HaFrameType.TRUNCATE:
      need(p, 8, 'truncate');
      return { type, offset: offsetAt(p, 0, 'truncate offset') };
    case HaFrameType.DATA:
      need(p, 20, 'data');
      return { type, offset: offsetAt(p, 0, 'data offset'), epoch: p.readInt32BE(8), epochStart: offsetAt(p, 12, 'data epochStart'), data: p.subarray(20) };
    case HaFrameType.REFUSE:
      return { type, reason: p.toString('utf8') };
    case HaFrameType.RESET: {
      need(p, 12, 'reset');
      const count = p.readUInt32BE(8);
      if (count > HA_MAX_RESET_EPOCHS || p.length !== 12 + count * 12) throw new HaFrameError(`reset frame of ${p.length} bytes does not hold ${count} epochs`);
      const epochs: { epoch: number; start: number }[] = [];
      for (let i = 0; i < count; i++) epochs.push({ epoch: p.readInt32BE(12 + i * 12), start: offsetAt(p, 16 + i * 12, 'reset epoch start') });
      return { type, offset: offsetAt(p, 0, 'reset offset'), epochs };
    }
    case HaFrameType.CONFIRM: {
      need(p, 8, 'confirm');
      const v = p.readBigInt64BE(0);
      return { type, offset: v === -1n ? -1 : offsetAt(p, 0, 'confirmed offset') };
    }
    default:
      throw new HaFrameError(`unknown HA frame type ${type}`);
  }
}

/**
 * Splits a byte stream into frames; lengths are checked before anything is buffered for them.
 *
 * A frame that arrives in one socket read is returned as a view of that read. One that spans
 * reads is assembled in a scratch buffer kept across calls: joining every buffered read into a
 * fresh buffer for each frame cost a slave more CPU than its commit-log writes (a large new
 * buffer is page faults and GC work). So a data frame's bytes are valid only until the next
 * push(): a caller that keeps them must copy them.
 */
export class HaFrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private scratch: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): HaFrame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: HaFrame[] = [];
    const head = Buffer.allocUnsafe(HA_HEADER_BYTES);
    for (;;) {
      if (this.buffered < HA_HEADER_BYTES) break;
      const h = this.chunks[0].length >= HA_HEADER_BYTES ? this.chunks[0] : this.peek(head);
      const type = h.readUInt8(0);
      const len = h.readUInt32BE(1);
      if (len > MAX_PAYLOAD) throw new HaFrameError(`HA frame length ${len} exceeds ${MAX_PAYLOAD}`);
      if (type < HaFrameType.HELLO || type > HaFrameType.CONFIRM) throw new HaFrameError(`unknown HA frame type ${type}`);
      const total = HA_HEADER_BYTES + len;
      if (this.buffered < total) break;
      const first = this.chunks[0];
      let frame: Buffer;
      if (first.length >= total) {
        frame = first.subarray(0, total);
        this.consume(total);
      } else {
        frame = this.assemble(total);
      }
      out.push(decodePayload(type, frame.subarray(HA_HEADER_BYTES)));
    }
    return out;
  }

  /** The first header's bytes when the first read holds fewer than a header. */
  private peek(into: Buffer): Buffer {
    let n = 0;
    for (const c of this.chunks) {
      n += c.copy(into, n, 0, Math.min(c.length, HA_HEADER_BYTES - n));
      if (n === HA_HEADER_BYTES) break;
    }
    return into;
  }

  /** Copies the next `total` bytes into the scratch buffer (grown as needed) and consumes them. */
  private assemble(total: number): Buffer {
    if (this.scratch.length < total) this.scratch = Buffer.allocUnsafeSlow(Math.max(total, Math.min(2 * this.scratch.length, MAX_PAYLOAD + HA_HEADER_BYTES)));
    let n = 0;
    while (n < total) {
      const c = this.chunks[0];
      const take = Math.min(c.length, total - n);
      c.copy(this.scratch, n, 0, take);
      n += take;
      this.consume(take);
    }
    return this.scratch.subarray(0, total);
  }

  private consume(n: number): void {
    const c = this.chunks[0];
    if (n === c.length) this.chunks.shift();
    else this.chunks[0] = c.subarray(n);
    this.buffered -= n;
  }
}
