// Byte-level mutation of valid seeds, AFL-style: a few stacked edits per input (bit flips,
// interesting bytes, insert / delete / duplicate a range, splice with another input, a length-like
// field set to a boundary value, truncation, a dictionary token). Every choice comes from Rand.
import type { Rand } from './rand.js';

export interface MutateOptions {
  /** Inputs never grow past this many bytes. */
  maxLength: number;
  /** Tokens of the format (keywords, separators, magic numbers) to insert or overwrite with. */
  dictionary: readonly Buffer[];
}

const INT32_BOUNDARIES = [0, 1, -1, 0x7fffffff, -0x80000000, 0x7ffffffe, 0x10000000, 0x01000000, 0xffffff, 21, 22, 91, 127, 128, 255, 256, 32767, 65535];
const INT16_BOUNDARIES = [0, 1, -1, 0x7fff, -0x8000, 0xff, 0x100, 127, 128];
const INT8_BOUNDARIES = [0, 1, 0x7f, 0x80, 0xff, 0x20, 0x00];

function clampWrite(buf: Buffer, r: Rand, width: 1 | 2 | 4): Buffer {
  if (buf.length < width) return buf;
  const at = r.int(buf.length - width + 1);
  if (width === 4) {
    // A length word is most often wrong by a little: the buffer's own size, give or take.
    const v = r.chance(0.3) ? buf.length - at + r.int(9) - 4 : r.pick(INT32_BOUNDARIES);
    buf.writeInt32BE(v | 0, at);
  } else if (width === 2) {
    buf.writeInt16BE((r.pick(INT16_BOUNDARIES) << 16) >> 16, at);
  } else {
    buf[at] = r.pick(INT8_BOUNDARIES);
  }
  return buf;
}

function range(r: Rand, len: number): [number, number] {
  const start = r.int(len + 1);
  // Mostly short ranges: long ones destroy the structure the seed brings.
  const max = len - start;
  const n = r.chance(0.8) ? Math.min(max, 1 + r.int(8)) : r.int(max + 1);
  return [start, start + n];
}

/** One edit; returns a new or the same (edited in place) Buffer. */
function mutateOnce(r: Rand, buf: Buffer, other: () => Buffer, opts: MutateOptions): Buffer {
  switch (r.int(12)) {
    case 0: {
      if (buf.length === 0) return r.bytes(1 + r.int(8));
      const at = r.int(buf.length);
      buf[at] ^= 1 << r.int(8);
      return buf;
    }
    case 1:
      if (buf.length > 0) buf[r.int(buf.length)] = r.u32() & 0xff;
      return buf;
    case 2:
      return clampWrite(buf, r, 4);
    case 3:
      return clampWrite(buf, r, r.chance(0.5) ? 2 : 1);
    case 4: {
      const at = r.int(buf.length + 1);
      return Buffer.concat([buf.subarray(0, at), r.bytes(1 + r.int(16)), buf.subarray(at)]);
    }
    case 5: {
      const [s, e] = range(r, buf.length);
      return Buffer.concat([buf.subarray(0, s), buf.subarray(e)]);
    }
    case 6: {
      const [s, e] = range(r, buf.length);
      const at = r.int(buf.length + 1);
      return Buffer.concat([buf.subarray(0, at), buf.subarray(s, e), buf.subarray(at)]);
    }
    case 7: {
      const b = other();
      return Buffer.concat([buf.subarray(0, r.int(buf.length + 1)), b.subarray(r.int(b.length + 1))]);
    }
    case 8:
      return buf.subarray(0, r.int(buf.length + 1));
    case 9:
    case 10: {
      if (opts.dictionary.length === 0) return mutateOnce(r, buf, other, opts);
      const token = r.pick(opts.dictionary);
      const at = r.int(buf.length + 1);
      if (r.chance(0.5)) return Buffer.concat([buf.subarray(0, at), token, buf.subarray(at)]);
      const out = Buffer.from(buf);
      token.copy(out, at);
      return out;
    }
    default:
      return r.chance(0.5) ? r.bytes(r.int(64)) : Buffer.concat([buf, other()]);
  }
}

/** A mutant of base: 1 to 6 stacked edits, never longer than opts.maxLength. */
export function mutate(r: Rand, base: Buffer, other: () => Buffer, opts: MutateOptions): Buffer {
  let buf: Buffer = Buffer.from(base);
  const edits = 1 + (r.chance(0.5) ? 0 : r.int(6));
  for (let i = 0; i < edits; i++) {
    buf = mutateOnce(r, buf, other, opts);
    if (buf.length > opts.maxLength) buf = buf.subarray(0, opts.maxLength);
  }
  return buf;
}

/** Dictionary entries given as text or bytes, as Buffers. */
export function tokens(...items: (string | Buffer)[]): Buffer[] {
  return items.map((t) => (typeof t === 'string' ? Buffer.from(t, 'utf8') : t));
}

/** Big-endian int32 tokens (length words, magic codes). */
export function int32Tokens(...values: number[]): Buffer[] {
  return values.map((v) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v | 0);
    return b;
  });
}
