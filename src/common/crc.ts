// CRC32 as RocketMQ's UtilAll.crc32 computes it: the IEEE CRC32 masked to a non-negative int,
// because Java stores BODYCRC in a signed int field and never lets it go negative.
import { crc32 as zlibCrc32 } from 'node:zlib';

/** Plain IEEE CRC32 (unsigned, 0..2^32-1). */
export function crc32(data: Uint8Array, initial = 0): number {
  return zlibCrc32(data, initial);
}

/** The BODYCRC field value: crc32(body) & 0x7fffffff. */
export function bodyCrc(body: Uint8Array): number {
  return zlibCrc32(body) & 0x7fffffff;
}
