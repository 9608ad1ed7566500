// int64 fields as JS numbers: offsets and timestamps stay below 2^53, so two int32 halves are
// enough and avoid a BigInt allocation per field on the hot path.

const TWO_32 = 4294967296;

/** Writes a safe integer (may be negative) as a big-endian int64. */
export function writeLong(buf: Buffer, value: number, pos: number): void {
  const hi = Math.floor(value / TWO_32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * TWO_32, pos + 4);
}

/** Reads a big-endian int64 as a number (exact below 2^53 in magnitude). */
export function readLong(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}
